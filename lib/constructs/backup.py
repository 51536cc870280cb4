"""AWS Backup for the Aurora target: encrypted vault, daily rule (+ monthly in prod), selection by ARN."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.backup_plan import BackupPlan, BackupPlanRule, BackupPlanRuleLifecycle
from cdktf_cdktf_provider_aws.backup_selection import BackupSelection
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from lib.config import BackupConfig
from lib.constructs.context import StackContext
from lib.constructs.policy_documents import assume_role_policy

MONTHLY_SCHEDULE = "cron(0 6 1 * ? *)"
BACKUP_MANAGED_POLICIES = ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores")


class Backup(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        config: BackupConfig,
        protected_resource_arns: list[str],
    ) -> None:
        super().__init__(scope, id_)
        prefix = context.prefix
        kms_key_arn = context.kms_key_arn
        self.vault = BackupVault(self, "vault", name=f"{prefix}-vault", kms_key_arn=kms_key_arn)
        rules = [
            BackupPlanRule(
                rule_name="daily",
                target_vault_name=self.vault.name,
                schedule=config.schedule,
                start_window=60,
                completion_window=360,
                lifecycle=BackupPlanRuleLifecycle(delete_after=config.daily_retention_days),
            )
        ]
        if config.monthly_retention_days:
            rules.append(
                BackupPlanRule(
                    rule_name="monthly",
                    target_vault_name=self.vault.name,
                    schedule=MONTHLY_SCHEDULE,
                    start_window=60,
                    completion_window=720,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=config.monthly_retention_days),
                )
            )
        self.plan = BackupPlan(self, "plan", name=f"{prefix}-plan", rule=rules)
        self.role = IamRole(
            self, "role", name=f"{prefix}-backup", assume_role_policy=assume_role_policy(context.service_principal("backup"))
        )
        for policy in BACKUP_MANAGED_POLICIES:
            IamRolePolicyAttachment(
                self,
                f"role-{policy}",
                role=self.role.name,
                policy_arn=context.managed_policy_arn(f"service-role/{policy}"),
            )
        self.selection = BackupSelection(
            self,
            "selection",
            name=f"{prefix}-aurora",
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            resources=protected_resource_arns,
        )
