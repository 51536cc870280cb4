"""The project's customer-managed KMS key: rotation on, one alias, services named in its policy."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from lib.constructs.context import StackContext
from lib.constructs.policy_documents import document, statement

# Services that encrypt with the key through their own grants (kms:ViaService keeps it scoped).
VIA_SERVICES = ("rds", "dms", "secretsmanager", "sns", "backup", "lambda", "ssm")
KEY_USE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:CreateGrant")


class Encryption(Construct):
    def __init__(self, scope: Construct, id_: str, *, context: StackContext) -> None:
        super().__init__(scope, id_)
        prefix = context.prefix
        account_id = context.account_id
        root = context.arn("iam", "root", regional=False)
        policy = document(
            self,
            "key-policy",
            # Without the account root statement nobody could ever administer the key again.
            statement("AccountAdministers", ["kms:*"], "*", principal={"AWS": root}),
            statement(
                "ServicesInThisAccountUseKey",
                KEY_USE_ACTIONS,
                "*",
                principal={"AWS": "*"},
                condition={
                    "StringEquals": {"kms:CallerAccount": account_id},
                    "StringLike": {"kms:ViaService": [context.via_service(svc) for svc in VIA_SERVICES]},
                },
            ),
            statement(
                "CloudWatchLogsUseKey",
                ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                "*",
                principal={"Service": context.service_principal("logs", regional=True)},
                condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": context.arn("logs", "*")}},
            ),
            statement(
                "EventSourcesPublishToEncryptedTopic",
                ["kms:Decrypt", "kms:GenerateDataKey*"],
                "*",
                principal={"Service": [context.service_principal(s) for s in ("cloudwatch", "events", "dms")]},
            ),
        )
        self.key = KmsKey(
            self,
            "key",
            description=f"{prefix}: encrypts Aurora, DMS, secrets, logs, SNS and backups",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy,
            tags={"Name": f"{prefix}-key"},
        )
        self.alias = KmsAlias(self, "alias", name=f"alias/{prefix}", target_key_id=self.key.key_id)

    @property
    def key_arn(self) -> str:
        return self.key.arn
