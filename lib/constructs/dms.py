"""AWS DMS: account-wide service roles, subnet group, instance (or Serverless), endpoints and tasks keyed by name.

Sources, targets and tasks are maps keyed by logical name, as in terraform-aws-modules/dms: each
task names its source and target key. Target kinds: Aurora PostgreSQL/MySQL (credentials from a
secret), S3 (`aws_dms_s3_endpoint`, Parquet or CSV) and Kinesis (JSON records).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_role import DataAwsIamRole
from cdktf_cdktf_provider_aws.dms_certificate import DmsCertificate
from cdktf_cdktf_provider_aws.dms_endpoint import DmsEndpoint, DmsEndpointKinesisSettings, DmsEndpointPostgresSettings
from cdktf_cdktf_provider_aws.dms_replication_config import DmsReplicationConfig, DmsReplicationConfigComputeConfig
from cdktf_cdktf_provider_aws.dms_replication_instance import DmsReplicationInstance
from cdktf_cdktf_provider_aws.dms_replication_subnet_group import DmsReplicationSubnetGroup
from cdktf_cdktf_provider_aws.dms_replication_task import DmsReplicationTask
from cdktf_cdktf_provider_aws.dms_s3_endpoint import DmsS3Endpoint
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from lib.config import AuroraMysqlTargetConfig, DmsConfig, SourceConfig, TargetConfig
from lib.constants import DMS_CLOUDWATCH_LOGS_ROLE_NAME, DMS_VPC_ROLE_NAME, unencrypted_opt_in
from lib.constructs.context import StackContext
from lib.constructs.policy_documents import assume_role_policy

SERVICE_ROLE_POLICIES = {
    DMS_VPC_ROLE_NAME: "AmazonDMSVPCManagementRole",
    DMS_CLOUDWATCH_LOGS_ROLE_NAME: "AmazonDMSCloudWatchLogsRole",
}
# Sends a heartbeat so an idle source keeps advancing its replication slot instead of filling its disk with WAL.
HEARTBEAT_MINUTES = 5
# DMS endpoint engine names of the Aurora target kinds ("aurora" is Aurora MySQL to DMS).
AURORA_ENDPOINT_ENGINES = {"aurora_postgresql": "aurora-postgresql", "aurora_mysql": "aurora"}


@dataclass(frozen=True)
class TargetWiring:
    """What a target endpoint takes from other constructs (only the fields of its kind are set)."""

    secret_arn: str | None = None  # Aurora: the DMS user's credentials
    database_name: str | None = None  # Aurora
    bucket_name: str | None = None  # s3
    service_access_role_arn: str | None = None  # s3, kinesis
    stream_arn: str | None = None  # kinesis
    # The role's policy: DMS checks the service access role when it creates the endpoint.
    depends_on: tuple[ITerraformDependable, ...] = ()


class DmsServiceRoles(Construct):
    """`dms-vpc-role` and `dms-cloudwatch-logs-role` have fixed names, so they are account-wide.

    The first stack in an account creates them (`deployment.create_dms_service_roles = true`);
    every other stack looks them up (false), so two stacks never fight over one name.
    """

    def __init__(self, scope: Construct, id_: str, *, context: StackContext, create: bool) -> None:
        super().__init__(scope, id_)
        self.dependables: list[ITerraformDependable] = []
        self.role_arns: dict[str, str] = {}
        for name, managed_policy in SERVICE_ROLE_POLICIES.items():
            if create:
                role = IamRole(self, name, name=name, assume_role_policy=assume_role_policy(context.service_principal("dms")))
                attachment = IamRolePolicyAttachment(
                    self,
                    f"{name}-policy",
                    role=role.name,
                    policy_arn=context.managed_policy_arn(f"service-role/{managed_policy}"),
                )
                self.dependables.append(attachment)
                self.role_arns[name] = role.arn
            else:
                found = DataAwsIamRole(self, name, name=name)
                self.dependables.append(found)
                self.role_arns[name] = found.arn


class Dms(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        config: DmsConfig,
        sources: Mapping[str, SourceConfig],
        targets: Mapping[str, TargetConfig],
        wiring: Mapping[str, TargetWiring],
        subnet_ids: list[str],
        security_group_ids: Sequence[str],
        service_roles: DmsServiceRoles,
        secrets_access_role_arn: str,
        source_secret_arns: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id_)
        prefix = context.prefix
        kms_key_arn = context.kms_key_arn
        self.instance_id = f"{prefix}-dms"
        self.serverless = config.serverless
        self.subnet_group = self._build_subnet_group(prefix, subnet_ids, service_roles)
        self.instance: DmsReplicationInstance | None = None
        self.task_log_group: CloudwatchLogGroup | None = None
        # Shared with the reverse task, which runs where the forward one does and trusts the same CAs.
        self.serverless_compute: DmsReplicationConfigComputeConfig | None = None
        self.source_certificate_arns: dict[str, str] = {}
        self.service_role_dependables = service_roles.dependables
        if not config.serverless:
            self.task_log_group, self.instance = self._build_instance(kms_key_arn, config, security_group_ids, service_roles)
        self.source_endpoints = {
            key: self._source_endpoint(prefix, source, source_secret_arns[key], secrets_access_role_arn, kms_key_arn)
            for key, source in sources.items()
        }
        self.target_endpoints = {
            key: self._target_endpoint(prefix, target, wiring[key], secrets_access_role_arn, kms_key_arn)
            for key, target in targets.items()
        }
        # Each attribute read is a round trip to the jsii runtime: read shared ones once, not per task.
        source_arns = {key: endpoint.endpoint_arn for key, endpoint in self.source_endpoints.items()}
        target_arns = {key: endpoint.endpoint_arn for key, endpoint in self.target_endpoints.items()}
        self.tasks: dict[str, DmsReplicationTask | DmsReplicationConfig] = {}
        self.serverless_log_groups: dict[str, CloudwatchLogGroup] = {}
        self.task_arns: dict[str, str] = {}
        if self.instance is not None:
            self._build_tasks(prefix, config, self.instance, source_arns, target_arns)
        else:
            compute = self.serverless_compute = self._serverless_compute(kms_key_arn, config, security_group_ids)
            self._build_replication_configs(
                prefix, config, kms_key_arn=kms_key_arn, compute=compute, source_arns=source_arns, target_arns=target_arns
            )
        # Literal identifiers (we chose them): whoever needs the tasks to exist depends on `self.tasks`.
        self.task_ids = {key: f"{prefix}-{key}" for key in self.tasks}

    def _build_subnet_group(
        self, prefix: str, subnet_ids: list[str], service_roles: DmsServiceRoles
    ) -> DmsReplicationSubnetGroup:
        return DmsReplicationSubnetGroup(
            self,
            "subnets",
            replication_subnet_group_id=f"{prefix}-dms",
            replication_subnet_group_description=f"{prefix}: DMS in the private subnets",
            subnet_ids=subnet_ids,
            depends_on=service_roles.dependables,
        )

    def _build_instance(
        self, kms_key_arn: str, config: DmsConfig, security_group_ids: Sequence[str], service_roles: DmsServiceRoles
    ) -> tuple[CloudwatchLogGroup, DmsReplicationInstance]:
        """The replication instance and the group its tasks log to."""
        # DMS writes task logs to this group by name; creating it first sets retention and encryption.
        task_log_group = CloudwatchLogGroup(
            self,
            "task-logs",
            name=f"dms-tasks-{self.instance_id}",
            retention_in_days=config.log_retention_days,
            kms_key_id=kms_key_arn,
        )
        instance = DmsReplicationInstance(
            self,
            "instance",
            replication_instance_id=self.instance_id,
            replication_instance_class=config.instance_class,
            allocated_storage=config.allocated_storage_gb,
            engine_version=config.engine_version,
            multi_az=config.multi_az,
            publicly_accessible=False,
            kms_key_arn=kms_key_arn,
            replication_subnet_group_id=self.subnet_group.replication_subnet_group_id,
            vpc_security_group_ids=list(security_group_ids),
            auto_minor_version_upgrade=True,
            apply_immediately=False,
            depends_on=[*service_roles.dependables, task_log_group],
        )
        return task_log_group, instance

    def _build_tasks(
        self,
        prefix: str,
        config: DmsConfig,
        instance: DmsReplicationInstance,
        source_arns: Mapping[str, str],
        target_arns: Mapping[str, str],
    ) -> None:
        """One replication task per `dms.tasks` entry, on the instance; none started."""
        instance_arn = instance.replication_instance_arn
        for key, task in config.tasks.items():
            replication_task = DmsReplicationTask(
                self,
                f"task-{key}",
                replication_task_id=f"{prefix}-{key}",
                migration_type=task.migration_type,
                replication_instance_arn=instance_arn,
                source_endpoint_arn=source_arns[task.source],
                target_endpoint_arn=target_arns[task.target],
                table_mappings=task.table_mappings,
                replication_task_settings=task.settings,
                cdc_start_position=task.cdc_start_position or None,
                # Starting the full load is an operator decision: the source must be prepared first.
                start_replication_task=False,
            )
            self.tasks[key] = replication_task
            self.task_arns[key] = replication_task.replication_task_arn

    def _serverless_compute(
        self, kms_key_arn: str, config: DmsConfig, security_group_ids: Sequence[str]
    ) -> DmsReplicationConfigComputeConfig:
        return DmsReplicationConfigComputeConfig(
            replication_subnet_group_id=self.subnet_group.replication_subnet_group_id,
            vpc_security_group_ids=list(security_group_ids),
            kms_key_id=kms_key_arn,
            min_capacity_units=config.min_capacity_units,
            max_capacity_units=config.max_capacity_units,
            multi_az=config.multi_az,
        )

    def _build_replication_configs(
        self,
        prefix: str,
        config: DmsConfig,
        *,
        kms_key_arn: str,
        compute: DmsReplicationConfigComputeConfig,
        source_arns: Mapping[str, str],
        target_arns: Mapping[str, str],
    ) -> None:
        """DMS Serverless: one replication config per `dms.tasks` entry, each with its log group; none started."""
        for key, task in config.tasks.items():
            # DMS Serverless logs to this group name (its resource id) once the replication runs:
            # creating it first gives it the retention and key of the other log groups.
            self.serverless_log_groups[key] = CloudwatchLogGroup(
                self,
                f"replication-{key}-logs",
                name=f"dms-serverless-replication-{prefix}-{key}",
                retention_in_days=config.log_retention_days,
                kms_key_id=kms_key_arn,
            )
            replication = DmsReplicationConfig(
                self,
                f"replication-{key}",
                replication_config_identifier=f"{prefix}-{key}",
                resource_identifier=f"{prefix}-{key}",
                replication_type=task.migration_type,
                compute_config=compute,
                source_endpoint_arn=source_arns[task.source],
                target_endpoint_arn=target_arns[task.target],
                table_mappings=task.table_mappings,
                replication_settings=task.settings,
                start_replication=False,
                depends_on=self.service_role_dependables,
            )
            self.tasks[key] = replication
            self.task_arns[key] = replication.arn

    def _source_endpoint(
        self, prefix: str, source: SourceConfig, secret_arn: str, access_role_arn: str, kms_key_arn: str
    ) -> DmsEndpoint:
        certificate_arn = None
        if source.ca_certificate_pem:
            certificate_arn = DmsCertificate(
                self,
                f"source-ca-{source.key}",
                certificate_id=f"{prefix}-{source.key}-ca",
                certificate_pem=source.ca_certificate_pem,
            ).certificate_arn
            self.source_certificate_arns[source.key] = certificate_arn
        postgres = source.engine == "postgres"
        return DmsEndpoint(
            self,
            f"source-{source.key}",
            endpoint_id=f"{prefix}-source-{source.key}",
            endpoint_type="source",
            engine_name=source.engine,
            # With a secret, the provider never sends a MySQL endpoint's database name but reads one back:
            # setting it would be a perpetual diff. MySQL endpoints need none; table mappings pick schemas.
            database_name=source.database if postgres else None,
            ssl_mode=source.ssl_mode,
            tags=unencrypted_opt_in(source.key, source.allow_unencrypted, source.ssl_mode),
            certificate_arn=certificate_arn,
            secrets_manager_arn=secret_arn,
            secrets_manager_access_role_arn=access_role_arn,
            kms_key_arn=kms_key_arn,
            postgres_settings=(
                DmsEndpointPostgresSettings(heartbeat_enable=True, heartbeat_frequency=HEARTBEAT_MINUTES) if postgres else None
            ),
            # The provider has no MySQL settings block: binlog polling is an extra connection attribute.
            extra_connection_attributes=None if postgres else f"eventsPollInterval={source.events_poll_interval_seconds}",
        )

    def _target_endpoint(
        self, prefix: str, target: TargetConfig, wiring: TargetWiring, access_role_arn: str, kms_key_arn: str
    ) -> DmsEndpoint | DmsS3Endpoint:
        endpoint_id = f"{prefix}-target-{target.key}"
        if target.s3 is not None:
            s3 = target.s3
            parquet = s3.data_format == "parquet"
            return DmsS3Endpoint(
                self,
                f"target-{target.key}",
                endpoint_id=endpoint_id,
                endpoint_type="target",
                bucket_name=_required(wiring.bucket_name, target.key, "bucket_name"),
                bucket_folder=s3.folder,
                service_access_role_arn=_required(wiring.service_access_role_arn, target.key, "service_access_role_arn"),
                data_format=s3.data_format,
                compression_type=s3.compression.upper(),
                parquet_version=s3.parquet_version if parquet else None,
                enable_statistics=s3.enable_statistics if parquet else None,
                # CSV gets a header row naming the columns; Parquet carries its schema.
                add_column_name=None if parquet else True,
                date_partition_enabled=s3.date_partition_enabled,
                cdc_path=s3.cdc_path or None,
                include_op_for_full_load=s3.include_op_for_full_load,
                timestamp_column_name=s3.timestamp_column_name or None,
                encryption_mode="SSE_KMS",
                server_side_encryption_kms_key_id=kms_key_arn,
                kms_key_arn=kms_key_arn,
                depends_on=list(wiring.depends_on),
            )
        if target.kinesis is not None:
            kinesis = target.kinesis
            return DmsEndpoint(
                self,
                f"target-{target.key}",
                endpoint_id=endpoint_id,
                endpoint_type="target",
                engine_name="kinesis",
                kms_key_arn=kms_key_arn,
                kinesis_settings=DmsEndpointKinesisSettings(
                    stream_arn=_required(wiring.stream_arn, target.key, "stream_arn"),
                    service_access_role_arn=_required(wiring.service_access_role_arn, target.key, "service_access_role_arn"),
                    message_format=kinesis.message_format,
                    include_transaction_details=kinesis.include_transaction_details,
                    include_control_details=kinesis.include_control_details,
                    include_table_alter_operations=kinesis.include_table_alter_operations,
                    include_partition_value=kinesis.include_partition_value,
                    partition_include_schema_table=kinesis.partition_include_schema_table,
                ),
                depends_on=list(wiring.depends_on),
            )
        threads = target.parallel_load_threads if isinstance(target, AuroraMysqlTargetConfig) else 0
        postgres = target.kind == "aurora_postgresql"
        return DmsEndpoint(
            self,
            f"target-{target.key}",
            endpoint_id=endpoint_id,
            endpoint_type="target",
            engine_name=AURORA_ENDPOINT_ENGINES[target.kind],
            # Host and port come from the secret: DMS (and the provider) refuse them next to a secret.
            # Aurora MySQL: DMS writes each source schema to the database of that name (see the source).
            database_name=_required(wiring.database_name, target.key, "database_name") if postgres else None,
            # The cluster parameter group refuses anything but TLS (rds.force_ssl / require_secure_transport).
            ssl_mode="require",
            secrets_manager_arn=_required(wiring.secret_arn, target.key, "secret_arn"),
            secrets_manager_access_role_arn=access_role_arn,
            kms_key_arn=kms_key_arn,
            extra_connection_attributes=f"parallelLoadThreads={threads}" if threads else None,
        )


def _required(value: str | None, target_key: str, field: str) -> str:
    if value is None:
        raise ValueError(f"target {target_key!r}: the stack wired no {field} for it")
    return value
