"""Source credentials by Secrets Manager ARN, and the role DMS assumes to read them.

No password is ever a Terraform value: the source secret is either an existing ARN from
config, or an empty KMS-encrypted secret the operator fills out of band; the DMS target user's
secret is always such an empty secret, and so is the reverse task's (a user that may write on the
source); Aurora's master password is generated and rotated by RDS (`manage_master_user_password`).
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

from lib.config import SourceConfig
from lib.constructs.context import StackContext
from lib.constructs.policy_documents import RoleIds, service_role, statement


class Secrets(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        sources: Sequence[SourceConfig],
        create_target_secret: bool,
        reverse_target_source: SourceConfig | None = None,
    ) -> None:
        """`create_target_secret`: only an Aurora target needs DMS credentials of ours (S3/Kinesis use roles).

        `reverse_target_source`: the source the reverse task writes back into (cutover.reverse_replication).
        """
        super().__init__(scope, id_)
        self.created_source_secrets: dict[str, SecretsmanagerSecret] = {}
        self.source_secret_arns: dict[str, str] = {}
        self._build_source_secrets(context, sources)
        # DMS cannot use the RDS-managed master secret (it holds no host or port), and a DMS user should not
        # be the master user anyway: the operator creates a DMS user on Aurora and fills this secret.
        self.target_secret: SecretsmanagerSecret | None = None
        if create_target_secret:
            self.target_secret = self._build_target_secret(context, reverse_target_source)
        # Its own secret, never the source's: the forward task only reads the source, this user writes into it.
        self.reverse_target_secret: SecretsmanagerSecret | None = None
        if reverse_target_source is not None:
            self.reverse_target_secret = self._build_reverse_target_secret(context, reverse_target_source)
        self.dms_access_role = self._build_dms_access_role(context)

    def _build_source_secrets(self, context: StackContext, sources: Sequence[SourceConfig]) -> None:
        """A source's given secret ARN, or an empty secret the operator fills."""
        prefix, kms_key_arn = context.prefix, context.kms_key_arn
        for source in sources:
            if source.secret_arn:
                self.source_secret_arns[source.key] = source.secret_arn
                continue
            secret = SecretsmanagerSecret(
                self,
                f"source-secret-{source.key}",
                name=f"{prefix}/dms-source-{source.key}",
                description=(
                    f"DMS credentials for source {source.key} ({source.engine}). Fill with put-secret-value: JSON with "
                    "username, password, host, port (the user needs replication rights; see README)"
                ),
                kms_key_id=kms_key_arn,
                recovery_window_in_days=7,
            )
            self.created_source_secrets[source.key] = secret
            self.source_secret_arns[source.key] = secret.arn

    def _build_target_secret(self, context: StackContext, reverse_target_source: SourceConfig | None) -> SecretsmanagerSecret:
        prefix, kms_key_arn = context.prefix, context.kms_key_arn
        # With reverse replication the same Aurora user is the reverse task's source, hence the replication grant.
        reverse_rights = (
            "; it is also the reverse task's source: grant it rds_replication (PostgreSQL) or REPLICATION CLIENT "
            "and REPLICATION SLAVE (MySQL)"
            if reverse_target_source is not None
            else ""
        )
        return SecretsmanagerSecret(
            self,
            "target-secret",
            name=f"{prefix}/dms-target",
            description=(
                "DMS target credentials for a dedicated Aurora user. Fill with put-secret-value: JSON with "
                f"username, password, host (the cluster writer endpoint), port, dbname{reverse_rights}"
            ),
            kms_key_id=kms_key_arn,
            recovery_window_in_days=7,
        )

    def _build_reverse_target_secret(self, context: StackContext, source: SourceConfig) -> SecretsmanagerSecret:
        prefix, kms_key_arn = context.prefix, context.kms_key_arn
        return SecretsmanagerSecret(
            self,
            "reverse-target-secret",
            name=f"{prefix}/dms-reverse-target-{source.key}",
            description=(
                f"DMS credentials the reverse task (Aurora -> {source.key}) writes with after the writer flip. "
                "Fill with put-secret-value: JSON with username, password, host, port (a user that may insert, "
                "update and delete the migrated tables and create the awsdms_control schema; see README)"
            ),
            kms_key_id=kms_key_arn,
            recovery_window_in_days=7,
        )

    def _build_dms_access_role(self, context: StackContext) -> IamRole:
        """The role DMS reads every endpoint secret of the stack with."""
        prefix, kms_key_arn = context.prefix, context.kms_key_arn
        readable = [
            *self.source_secret_arns.values(),
            *(secret.arn for secret in (self.target_secret, self.reverse_target_secret) if secret is not None),
        ]
        # DMS assumes this role through its regional service principal to read endpoint secrets.
        role, _ = service_role(
            self,
            RoleIds("dms-secrets-role", "dms-secrets-read", "secrets-read-policy"),
            name=f"{prefix}-dms-secrets",
            service=context.service_principal("dms", regional=True),
            policy_name="read-endpoint-secrets",
            statements=[
                statement(
                    "ReadEndpointSecrets",
                    ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                    readable,
                ),
                statement(
                    "DecryptEndpointSecrets",
                    ["kms:Decrypt"],
                    [kms_key_arn],
                    condition={"StringEquals": {"kms:ViaService": context.via_service("secretsmanager")}},
                ),
            ],
        )
        return role
