"""TapStack: composition only. Each concern is one construct in lib/constructs/.

What gets built follows the config: the Aurora cluster only for an Aurora target, the data lake
(bucket, Glue, Athena) only for s3/kinesis targets, a Kinesis stream + Firehose per kinesis
target, the cutover only when enabled (with its Aurora -> source reverse task when
`cutover.reverse_replication`), backups only for what AWS Backup protects (Aurora).
"""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from constructs import Construct

from lib.config import AppConfig
from lib.constants import HEALTH_ALARM_INFIX, Output, s3_writer_role_name
from lib.constructs.aurora import Aurora
from lib.constructs.backup import Backup
from lib.constructs.cutover import Cutover, CutoverTargets
from lib.constructs.data_lake import DataLake
from lib.constructs.dms import Dms, DmsServiceRoles, TargetWiring
from lib.constructs.encryption import Encryption
from lib.constructs.network import Network
from lib.constructs.notifications import Notifications
from lib.constructs.observability import KinesisDeliveryNames, Observability, ObservedResources
from lib.constructs.provider import build_provider, configure_backend
from lib.constructs.reverse_replication import ReverseReplication
from lib.constructs.secrets import Secrets
from lib.constructs.streaming import KinesisDelivery


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
        kinds = {target.kind for target in config.targets.values()}

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
            sources=list(config.sources.values()),
            aurora_port=config.aurora.port if config.aurora else None,
            kms_key_arn=key_arn,
            log_retention_days=config.dms.log_retention_days,
            needs_s3_endpoint="s3" in kinds or config.dms.serverless,
            needs_kinesis_endpoint="kinesis" in kinds,
        )
        self.secrets = Secrets(
            self,
            "secrets",
            prefix=prefix,
            region=project.region,
            sources=list(config.sources.values()),
            create_target_secret=config.aurora is not None,
            kms_key_arn=key_arn,
            reverse_target_source=config.reverse_replication_source,
        )
        self.aurora: Aurora | None = None
        if config.aurora is not None and self.network.aurora_security_group is not None:
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
        self.data_lake: DataLake | None = None
        if config.data_lake is not None:
            self.data_lake = DataLake(
                self,
                "data-lake",
                prefix=prefix,
                partition=partition,
                region=project.region,
                account_id=account_id,
                config=config.data_lake,
                targets=config.targets,
                kms_key_arn=key_arn,
            )
        self.streams: dict[str, KinesisDelivery] = {}
        wiring: dict[str, TargetWiring] = {}
        for key, target in config.targets.items():
            if target.is_aurora and config.aurora is not None and self.secrets.target_secret is not None:
                wiring[key] = TargetWiring(secret_arn=self.secrets.target_secret.arn, database_name=config.aurora.database_name)
            elif target.s3 is not None and self.data_lake is not None:
                writer_id = f"dms-writer-{key}"
                role = self.data_lake.dms_writer_role(writer_id, name=s3_writer_role_name(prefix, key), folder=target.s3.folder)
                wiring[key] = TargetWiring(
                    bucket_name=self.data_lake.bucket_name,
                    service_access_role_arn=role.arn,
                    depends_on=(self.data_lake.writer_policies[writer_id],),
                )
            elif target.kinesis is not None and self.data_lake is not None:
                stream = KinesisDelivery(
                    self,
                    f"stream-{key}",
                    name=f"{prefix}-{key}",
                    partition=partition,
                    region=project.region,
                    account_id=account_id,
                    config=target.kinesis,
                    bucket_arn=self.data_lake.bucket_arn,
                    kms_key_arn=key_arn,
                    log_retention_days=config.dms.log_retention_days,
                )
                self.streams[key] = stream
                wiring[key] = TargetWiring(
                    stream_arn=stream.stream_arn,
                    service_access_role_arn=stream.dms_access_role.arn,
                    depends_on=(stream.dms_access_policy,),
                )
        service_roles = DmsServiceRoles(
            self, "dms-service-roles", create=config.deployment.create_dms_service_roles, partition=partition
        )
        self.dms = Dms(
            self,
            "dms",
            prefix=prefix,
            config=config.dms,
            sources=config.sources,
            targets=config.targets,
            wiring=wiring,
            subnet_ids=self.network.private_subnet_ids,
            security_group_id=self.network.dms_security_group.id,
            kms_key_arn=key_arn,
            service_roles=service_roles,
            secrets_access_role_arn=self.secrets.dms_access_role.arn,
            source_secret_arns=self.secrets.source_secret_arns,
        )
        self.reverse: ReverseReplication | None = None
        reverse_source = config.reverse_replication_source
        if (
            config.cutover is not None
            and config.cutover.reverse_task_settings is not None
            and reverse_source is not None
            and config.aurora is not None
            and self.secrets.target_secret is not None
            and self.secrets.reverse_target_secret is not None
        ):
            forward_task = config.dms.tasks[config.cutover.task_key]
            self.reverse = ReverseReplication(
                self,
                "reverse-replication",
                prefix=prefix,
                forward_task_key=forward_task.key,
                table_mappings=forward_task.table_mappings,
                settings=config.cutover.reverse_task_settings,
                source=reverse_source,
                target=config.targets[forward_task.target],
                aurora=config.aurora,
                dms=self.dms,
                aurora_secret_arn=self.secrets.target_secret.arn,
                source_write_secret_arn=self.secrets.reverse_target_secret.arn,
                secrets_access_role_arn=self.secrets.dms_access_role.arn,
                kms_key_arn=key_arn,
                log_retention_days=config.dms.log_retention_days,
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
        self.cutover: Cutover | None = None
        cutover_source = config.cutover_source
        if config.cutover is not None and cutover_source is not None and self.aurora is not None:
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
                    source_host=cutover_source.host,
                    aurora_writer_endpoint=self.aurora.cluster.endpoint,
                    aurora_reader_endpoint=self.aurora.cluster.reader_endpoint,
                    aurora_cluster_id=self.aurora.cluster.cluster_identifier,
                    aurora_cluster_arn=self.aurora.cluster.arn,
                    dms_replication_arn=self.dms.task_arns[config.cutover.task_key],
                    dms_instance_id=self.dms.instance.replication_instance_id if self.dms.instance else None,
                    topic_arn=self.notifications.topic.arn,
                    kms_key_arn=key_arn,
                    alarm_name_prefix=self.alarm_name_prefix,
                    dms_reverse_replication_arn=self.reverse.task_arn if self.reverse else None,
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
                dms_instance_id=self.dms.instance.replication_instance_id if self.dms.instance else None,
                account_id=account_id,
                dms_task_ids=self.dms.task_ids,
                dms_tasks=list(self.dms.tasks.values()),
                dms_task_arns=self.dms.task_arns,
                primary_task_key=config.cutover.task_key if config.cutover else next(iter(config.dms.tasks)),
                # The cutover trusts one task's rows; without a cutover every task into Aurora is watched.
                validated_task_keys=(
                    [config.cutover.task_key]
                    if config.cutover
                    else [k for k, t in config.dms.tasks.items() if config.targets[t.target].is_aurora]
                ),
                aurora_cluster_id=self.aurora.cluster.cluster_identifier if self.aurora else None,
                cutover_function_name=self.cutover.function.function_name if self.cutover else None,
                cutover_state_parameter=self.cutover.state_parameter.name if self.cutover else None,
                kinesis={
                    key: KinesisDeliveryNames(stream.stream.name, stream.delivery_stream.name)
                    for key, stream in self.streams.items()
                },
                topic_arn=self.notifications.topic.arn,
                reverse_task_arn=self.reverse.task_arn if self.reverse else None,
            ),
        )
        self.backup: Backup | None = None
        if self.aurora is not None:
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
            Output.DMS_SECURITY_GROUP_ID: self.network.dms_security_group.id,
            Output.KMS_KEY_ARN: self.encryption.key_arn,
            Output.KMS_KEY_ALIAS: self.encryption.alias.name,
            Output.SOURCE_SECRET_ARNS: self.secrets.source_secret_arns,
            Output.DMS_SOURCE_ENDPOINT_ARNS: {k: e.endpoint_arn for k, e in self.dms.source_endpoints.items()},
            Output.DMS_TARGET_ENDPOINT_ARNS: {k: e.endpoint_arn for k, e in self.dms.target_endpoints.items()},
            Output.DMS_TASK_ARNS: self.dms.task_arns,
            Output.DMS_SECRETS_ACCESS_ROLE_ARN: self.secrets.dms_access_role.arn,
            Output.NOTIFICATION_TOPIC_ARN: self.notifications.topic.arn,
            Output.ALARM_NAME_PREFIX: self.alarm_name_prefix,
            Output.DASHBOARD_NAME: self.observability.dashboard.dashboard_name,
            Output.ALARM_NAMES: [alarm.alarm_name for alarm in self.observability.alarms.values()],
            Output.REGION: self.config.project.region,
            Output.DEPLOYMENT_TARGET: self.config.deployment.target,
        }
        if self.dms.instance is not None:
            values[Output.DMS_REPLICATION_INSTANCE_ARN] = self.dms.instance.replication_instance_arn
            values[Output.DMS_REPLICATION_INSTANCE_ID] = self.dms.instance.replication_instance_id
        if self.aurora is not None and self.network.aurora_security_group is not None:
            values |= {
                Output.AURORA_SECURITY_GROUP_ID: self.network.aurora_security_group.id,
                Output.AURORA_CLUSTER_ARN: self.aurora.cluster.arn,
                Output.AURORA_CLUSTER_ID: self.aurora.cluster.cluster_identifier,
                Output.AURORA_WRITER_ENDPOINT: self.aurora.cluster.endpoint,
                Output.AURORA_READER_ENDPOINT: self.aurora.cluster.reader_endpoint,
                Output.AURORA_INSTANCE_IDS: [instance.identifier for instance in self.aurora.instances],
                Output.AURORA_MASTER_SECRET_ARN: self.aurora.master_secret_arn,
            }
        if self.secrets.target_secret is not None:
            values[Output.TARGET_SECRET_ARN] = self.secrets.target_secret.arn
        if self.cutover is not None:
            values |= {
                Output.HOSTED_ZONE_ID: self.cutover.zone_id,
                Output.READER_RECORD_NAME: self.cutover.reader_name,
                Output.WRITER_RECORD_NAME: self.cutover.writer_name,
                Output.CUTOVER_FUNCTION_NAME: self.cutover.function.function_name,
                Output.CUTOVER_STATE_PARAMETER: self.cutover.state_parameter.name,
                Output.CUTOVER_LOCK_PARAMETER: self.cutover.lock_parameter_name,
            }
        if self.reverse is not None and self.secrets.reverse_target_secret is not None:
            values[Output.REVERSE_TASK_ARN] = self.reverse.task_arn
            values[Output.REVERSE_TARGET_SECRET_ARN] = self.secrets.reverse_target_secret.arn
            if self.reverse.slot_name is not None:
                values[Output.REVERSE_SLOT_NAME] = self.reverse.slot_name
        if self.backup is not None:
            values[Output.BACKUP_VAULT_NAME] = self.backup.vault.name
            values[Output.BACKUP_PLAN_ID] = self.backup.plan.id
        if self.data_lake is not None:
            values |= {
                Output.DATA_LAKE_BUCKET: self.data_lake.bucket_name,
                Output.GLUE_DATABASE: self.data_lake.database.name,
                Output.GLUE_CRAWLERS: {key: crawler.name for key, crawler in self.data_lake.crawlers.items()},
                Output.ATHENA_WORKGROUP: self.data_lake.workgroup.name,
            }
        if self.streams:
            values[Output.KINESIS_STREAM_ARNS] = {key: stream.stream_arn for key, stream in self.streams.items()}
            values[Output.FIREHOSE_DELIVERY_STREAMS] = {key: stream.delivery_stream.name for key, stream in self.streams.items()}
        for key, value in values.items():
            TerraformOutput(self, key, value=value)
