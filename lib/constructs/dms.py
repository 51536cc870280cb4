"""AWS DMS: account-wide service roles, subnet group, instance, endpoints and tasks keyed by name."""

from __future__ import annotations

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_role import DataAwsIamRole
from cdktf_cdktf_provider_aws.dms_certificate import DmsCertificate
from cdktf_cdktf_provider_aws.dms_endpoint import DmsEndpoint, DmsEndpointPostgresSettings
from cdktf_cdktf_provider_aws.dms_replication_instance import DmsReplicationInstance
from cdktf_cdktf_provider_aws.dms_replication_subnet_group import DmsReplicationSubnetGroup
from cdktf_cdktf_provider_aws.dms_replication_task import DmsReplicationTask
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from lib.config import DmsConfig, SourceConfig
from lib.constants import DMS_CLOUDWATCH_LOGS_ROLE_NAME, DMS_VPC_ROLE_NAME
from lib.constructs.policy_documents import assume_role_policy

SERVICE_ROLE_POLICIES = {
    DMS_VPC_ROLE_NAME: "AmazonDMSVPCManagementRole",
    DMS_CLOUDWATCH_LOGS_ROLE_NAME: "AmazonDMSCloudWatchLogsRole",
}
# Sends a heartbeat so an idle source keeps advancing its replication slot instead of filling its disk with WAL.
HEARTBEAT_MINUTES = 5


class DmsServiceRoles(Construct):
    """`dms-vpc-role` and `dms-cloudwatch-logs-role` have fixed names, so they are account-wide.

    The first stack in an account creates them (`deployment.create_dms_service_roles = true`);
    every other stack looks them up (false), so two stacks never fight over one name.
    """

    def __init__(self, scope: Construct, id_: str, *, create: bool, partition: str) -> None:
        super().__init__(scope, id_)
        self.dependables: list[ITerraformDependable] = []
        self.role_arns: dict[str, str] = {}
        for name, managed_policy in SERVICE_ROLE_POLICIES.items():
            if create:
                role = IamRole(self, name, name=name, assume_role_policy=assume_role_policy("dms.amazonaws.com"))
                attachment = IamRolePolicyAttachment(
                    self,
                    f"{name}-policy",
                    role=role.name,
                    policy_arn=f"arn:{partition}:iam::aws:policy/service-role/{managed_policy}",
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
        prefix: str,
        config: DmsConfig,
        source: SourceConfig,
        subnet_ids: list[str],
        security_group_id: str,
        kms_key_arn: str,
        service_roles: DmsServiceRoles,
        secrets_access_role_arn: str,
        source_secret_arn: str,
        target_secret_arn: str,
        target_database: str,
    ) -> None:
        super().__init__(scope, id_)
        self.instance_id = f"{prefix}-dms"
        self.subnet_group = DmsReplicationSubnetGroup(
            self,
            "subnets",
            replication_subnet_group_id=f"{prefix}-dms",
            replication_subnet_group_description=f"{prefix}: DMS in the private subnets",
            subnet_ids=subnet_ids,
            depends_on=service_roles.dependables,
        )
        # DMS writes task logs to this group by name; creating it first sets retention and encryption.
        self.task_log_group = CloudwatchLogGroup(
            self,
            "task-logs",
            name=f"dms-tasks-{self.instance_id}",
            retention_in_days=config.log_retention_days,
            kms_key_id=kms_key_arn,
        )
        self.instance = DmsReplicationInstance(
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
            vpc_security_group_ids=[security_group_id],
            auto_minor_version_upgrade=True,
            apply_immediately=False,
            depends_on=[*service_roles.dependables, self.task_log_group],
        )
        certificate_arn = None
        if source.ca_certificate_pem:
            self.source_ca = DmsCertificate(
                self,
                "source-ca",
                certificate_id=f"{prefix}-source-ca",
                certificate_pem=source.ca_certificate_pem,
            )
            certificate_arn = self.source_ca.certificate_arn
        self.source_endpoint = DmsEndpoint(
            self,
            "source",
            endpoint_id=f"{prefix}-source",
            endpoint_type="source",
            engine_name=source.engine,
            database_name=source.database,
            ssl_mode=source.ssl_mode,
            certificate_arn=certificate_arn,
            secrets_manager_arn=source_secret_arn,
            secrets_manager_access_role_arn=secrets_access_role_arn,
            kms_key_arn=kms_key_arn,
            postgres_settings=DmsEndpointPostgresSettings(heartbeat_enable=True, heartbeat_frequency=HEARTBEAT_MINUTES),
        )
        self.target_endpoint = DmsEndpoint(
            self,
            "target",
            endpoint_id=f"{prefix}-aurora",
            endpoint_type="target",
            engine_name="aurora-postgresql",
            # Host and port come from the secret: DMS (and the provider) refuse them next to a secret.
            database_name=target_database,
            # The cluster parameter group sets rds.force_ssl=1: anything weaker would be refused.
            ssl_mode="require",
            secrets_manager_arn=target_secret_arn,
            secrets_manager_access_role_arn=secrets_access_role_arn,
            kms_key_arn=kms_key_arn,
        )
        # Each attribute read is a round trip to the jsii runtime: read shared ones once, not per task.
        instance_arn = self.instance.replication_instance_arn
        source_arn, target_arn = self.source_endpoint.endpoint_arn, self.target_endpoint.endpoint_arn
        self.tasks: dict[str, DmsReplicationTask] = {}
        for key, task in config.tasks.items():
            self.tasks[key] = DmsReplicationTask(
                self,
                f"task-{key}",
                replication_task_id=f"{prefix}-{key}",
                migration_type=task.migration_type,
                replication_instance_arn=instance_arn,
                source_endpoint_arn=source_arn,
                target_endpoint_arn=target_arn,
                table_mappings=task.table_mappings,
                replication_task_settings=task.settings,
                # Starting the full load is an operator decision: the source must be prepared first (wal_level, slots).
                start_replication_task=False,
            )
        self.task_arns = {key: task.replication_task_arn for key, task in self.tasks.items()}
        # Literal identifiers (we chose them): whoever needs the tasks to exist depends on `self.tasks`.
        self.task_ids = {key: f"{prefix}-{key}" for key in self.tasks}
