"""Source credentials by Secrets Manager ARN, and the role DMS assumes to read them.

No password is ever a Terraform value: the source secret is either an existing ARN from
config, or an empty KMS-encrypted secret the operator fills out of band; Aurora's master
password is generated and rotated by RDS (`manage_master_user_password`).
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

from lib.config import SourceConfig
from lib.constructs.policy_documents import assume_role_policy, document, statement


class Secrets(Construct):
    def __init__(self, scope: Construct, id_: str, *, prefix: str, region: str, source: SourceConfig, kms_key_arn: str) -> None:
        super().__init__(scope, id_)
        self.created_source_secret: SecretsmanagerSecret | None = None
        if source.secret_arn:
            self.source_secret_arn = source.secret_arn
        else:
            self.created_source_secret = SecretsmanagerSecret(
                self,
                "source-secret",
                name=f"{prefix}/source-database",
                description=(
                    "DMS source credentials. Fill with put-secret-value: JSON with username, password, host, port "
                    "(the user needs REPLICATION rights)"
                ),
                kms_key_id=kms_key_arn,
                recovery_window_in_days=7,
            )
            self.source_secret_arn = self.created_source_secret.arn
        self._prefix = prefix
        self._region = region
        self._kms_key_arn = kms_key_arn
        # DMS assumes this role through its regional service principal to read endpoint secrets.
        self.dms_access_role = IamRole(
            self,
            "dms-secrets-role",
            name=f"{prefix}-dms-secrets",
            assume_role_policy=assume_role_policy(f"dms.{region}.amazonaws.com"),
        )

    def grant_dms_read(self, secret_arns: list[str]) -> None:
        """Let the DMS access role read exactly these secrets (called once Aurora's secret exists)."""
        IamRolePolicy(
            self,
            "dms-secrets-read",
            name="read-endpoint-secrets",
            role=self.dms_access_role.id,
            policy=document(
                self,
                "secrets-read-policy",
                statement("ReadEndpointSecrets", ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], secret_arns),
                statement(
                    "DecryptEndpointSecrets",
                    ["kms:Decrypt"],
                    [self._kms_key_arn],
                    condition={"StringEquals": {"kms:ViaService": f"secretsmanager.{self._region}.amazonaws.com"}},
                ),
            ),
        )
