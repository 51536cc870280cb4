"""TapStack: composition only. Each concern is one construct in lib/constructs/."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from constructs import Construct

from lib.config import AppConfig
from lib.constants import HEALTH_ALARM_INFIX, Output
from lib.constructs.aurora import Aurora
from lib.constructs.backup import Backup
from lib.constructs.cutover import Cutover, CutoverTargets
from lib.constructs.dms import Dms, DmsServiceRoles
from lib.constructs.encryption import Encryption
from lib.constructs.network import Network
from lib.constructs.notifications import Notifications
from lib.constructs.observability import Observability, ObservedResources
from lib.constructs.provider import build_provider, configure_backend
from lib.constructs.secrets import Secrets


class TapStack(TerraformStack):
    def __init__(self, scope: Construct, id_: str, config: AppConfig) -> None:
        super().__init__(scope, id_)
        self.config = config
        project = config.project
        prefix = project.prefix
        configure_backend(self, config)
        build_provider(self, config)
        identity = DataAwsCallerIdentity(self, "identity")
        partition = DataAwsPartition(self, "partition").partition
        account_id = identity.account_id

        self.encryption = Encryption(
            self, "encryption", prefix=prefix, account_id=account_id, partition=partition, region=project.region
        )
        key_arn = self.encryption.key_arn
        self.network = Network(
            self,
            "network",
            prefix=prefix,
            region=project.region,
            network=config.network,
            source=config.source,
            kms_key_arn=key_arn,
            log_retention_days=config.dms.log_retention_days,
        )
        self.secrets = Secrets(self, "secrets", prefix=prefix, region=project.region, source=config.source, kms_key_arn=key_arn)
        self.aurora = Aurora(
            self,
            "aurora",
            prefix=prefix,
            partition=partition,
            config=config.aurora,
            subnet_ids=self.network.private_subnet_ids,
            security_group_id=self.network.aurora_security_group.id,
            kms_key_arn=key_arn,
        )
        service_roles = DmsServiceRoles(
            self, "dms-service-roles", create=config.deployment.create_dms_service_roles, partition=partition
        )
        self.dms = Dms(
            self,
            "dms",
            prefix=prefix,
            config=config.dms,
            source=config.source,
            subnet_ids=self.network.private_subnet_ids,
            security_group_id=self.network.dms_security_group.id,
            kms_key_arn=key_arn,
            service_roles=service_roles,
            secrets_access_role_arn=self.secrets.dms_access_role.arn,
            source_secret_arn=self.secrets.source_secret_arn,
            target_secret_arn=self.secrets.target_secret.arn,
            target_database=config.aurora.database_name,
        )
        self.notifications = Notifications(
            self,
            "notifications",
            prefix=prefix,
            kms_key_arn=key_arn,
            account_id=account_id,
            alarm_email=config.observability.alarm_email,
        )
        # Migration-health alarms gate the cutover; the cutover's own error alarm must not (a throttled call
        # would otherwise roll reads back on the next tick).
        self.alarm_name_prefix = f"{prefix}-{HEALTH_ALARM_INFIX}-"
        self.cutover = Cutover(
            self,
            "cutover",
            prefix=prefix,
            parameter_path=f"/{project.name}/{project.environment_suffix}",
            region=project.region,
            account_id=account_id,
            partition=partition,
            config=config.cutover,
            log_retention_days=config.dms.log_retention_days,
            targets=CutoverTargets(
                vpc_id=self.network.vpc.id,
                source_host=config.source.host,
                aurora_writer_endpoint=self.aurora.cluster.endpoint,
                aurora_reader_endpoint=self.aurora.cluster.reader_endpoint,
                aurora_cluster_id=self.aurora.cluster.cluster_identifier,
                aurora_cluster_arn=self.aurora.cluster.arn,
                dms_task_arn=self.dms.task_arns[config.cutover.task_key],
                dms_instance_id=self.dms.instance.replication_instance_id,
                topic_arn=self.notifications.topic.arn,
                kms_key_arn=key_arn,
                alarm_name_prefix=self.alarm_name_prefix,
            ),
        )
        self.observability = Observability(
            self,
            "observability",
            prefix=prefix,
            health_alarm_prefix=self.alarm_name_prefix,
            region=project.region,
            config=config.observability,
            observed=ObservedResources(
                dms_instance_id=self.dms.instance.replication_instance_id,
                dms_task_ids=self.dms.task_ids,
                dms_tasks=list(self.dms.tasks.values()),
                dms_task_arns=self.dms.task_arns,
                cutover_task_key=config.cutover.task_key,
                aurora_cluster_id=self.aurora.cluster.cluster_identifier,
                cutover_function_name=self.cutover.function.function_name,
                cutover_state_parameter=self.cutover.state_parameter.name,
                topic_arn=self.notifications.topic.arn,
            ),
        )
        self.backup = Backup(
            self,
            "backup",
            prefix=prefix,
            partition=partition,
            config=config.backup,
            kms_key_arn=key_arn,
            protected_resource_arns=[self.aurora.cluster.arn],
        )
        self._outputs()

    def _outputs(self) -> None:
        values: dict[str, object] = {
            Output.VPC_ID: self.network.vpc.id,
            Output.PRIVATE_SUBNET_IDS: self.network.private_subnet_ids,
            Output.AURORA_SECURITY_GROUP_ID: self.network.aurora_security_group.id,
            Output.DMS_SECURITY_GROUP_ID: self.network.dms_security_group.id,
            Output.KMS_KEY_ARN: self.encryption.key_arn,
            Output.KMS_KEY_ALIAS: self.encryption.alias.name,
            Output.AURORA_CLUSTER_ARN: self.aurora.cluster.arn,
            Output.AURORA_CLUSTER_ID: self.aurora.cluster.cluster_identifier,
            Output.AURORA_WRITER_ENDPOINT: self.aurora.cluster.endpoint,
            Output.AURORA_READER_ENDPOINT: self.aurora.cluster.reader_endpoint,
            Output.AURORA_INSTANCE_IDS: [instance.identifier for instance in self.aurora.instances],
            Output.AURORA_MASTER_SECRET_ARN: self.aurora.master_secret_arn,
            Output.SOURCE_SECRET_ARN: self.secrets.source_secret_arn,
            Output.TARGET_SECRET_ARN: self.secrets.target_secret.arn,
            Output.DMS_REPLICATION_INSTANCE_ARN: self.dms.instance.replication_instance_arn,
            Output.DMS_REPLICATION_INSTANCE_ID: self.dms.instance.replication_instance_id,
            Output.DMS_SOURCE_ENDPOINT_ARN: self.dms.source_endpoint.endpoint_arn,
            Output.DMS_TARGET_ENDPOINT_ARN: self.dms.target_endpoint.endpoint_arn,
            Output.DMS_TASK_ARNS: self.dms.task_arns,
            Output.DMS_SECRETS_ACCESS_ROLE_ARN: self.secrets.dms_access_role.arn,
            Output.HOSTED_ZONE_ID: self.cutover.zone_id,
            Output.READER_RECORD_NAME: self.cutover.reader_name,
            Output.WRITER_RECORD_NAME: self.cutover.writer_name,
            Output.CUTOVER_FUNCTION_NAME: self.cutover.function.function_name,
            Output.CUTOVER_STATE_PARAMETER: self.cutover.state_parameter.name,
            Output.CUTOVER_LOCK_PARAMETER: self.cutover.lock_parameter_name,
            Output.NOTIFICATION_TOPIC_ARN: self.notifications.topic.arn,
            Output.ALARM_NAME_PREFIX: self.alarm_name_prefix,
            Output.DASHBOARD_NAME: self.observability.dashboard.dashboard_name,
            Output.ALARM_NAMES: [alarm.alarm_name for alarm in self.observability.alarms.values()],
            Output.BACKUP_VAULT_NAME: self.backup.vault.name,
            Output.BACKUP_PLAN_ID: self.backup.plan.id,
            Output.REGION: self.config.project.region,
            Output.DEPLOYMENT_TARGET: self.config.deployment.target,
        }
        for key, value in values.items():
            TerraformOutput(self, key, value=value)
