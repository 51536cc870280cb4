"""Aurora Serverless v2 target (PostgreSQL or MySQL 8.0): one writer, N readers, encrypted, TLS-only."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster, RdsClusterServerlessv2ScalingConfiguration
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import RdsClusterParameterGroup, RdsClusterParameterGroupParameter
from constructs import Construct

from lib.config import AuroraConfig
from lib.constructs.context import StackContext
from lib.constructs.policy_documents import assume_role_policy

ENHANCED_MONITORING_SECONDS = 60


def _postgres_parameters() -> list[RdsClusterParameterGroupParameter]:
    return [
        RdsClusterParameterGroupParameter(name="rds.force_ssl", value="1"),
        # DDL during a migration breaks DMS apply; slow statements show where Aurora is undersized.
        RdsClusterParameterGroupParameter(name="log_statement", value="ddl"),
        RdsClusterParameterGroupParameter(name="log_min_duration_statement", value="1000"),
        # Lets an Aurora -> source task run after the writer flip, the only rollback that keeps writes.
        RdsClusterParameterGroupParameter(name="rds.logical_replication", value="1", apply_method="pending-reboot"),
    ]


def _mysql_parameters() -> list[RdsClusterParameterGroupParameter]:
    return [
        RdsClusterParameterGroupParameter(name="require_secure_transport", value="ON"),
        # Row-based binary logging on Aurora is what a reverse (Aurora -> source) DMS task reads after the flip.
        RdsClusterParameterGroupParameter(name="binlog_format", value="ROW", apply_method="pending-reboot"),
        RdsClusterParameterGroupParameter(name="binlog_row_image", value="FULL"),
        RdsClusterParameterGroupParameter(name="slow_query_log", value="1"),
        RdsClusterParameterGroupParameter(name="long_query_time", value="1"),
        # Who connected and which DDL/DCL ran: the audit trail of a migration window.
        RdsClusterParameterGroupParameter(name="server_audit_logging", value="1"),
        RdsClusterParameterGroupParameter(name="server_audit_events", value="CONNECT,QUERY_DCL,QUERY_DDL"),
    ]


class Aurora(Construct):
    """Aurora PostgreSQL or MySQL by `config.engine`.

    No backtrack, even for MySQL: it cannot be combined with the binlog a reverse task needs
    and does not exist for PostgreSQL (seed 004 learnt this at deploy time).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        config: AuroraConfig,
        subnet_ids: list[str],
        security_group_ids: Sequence[str],
    ) -> None:
        super().__init__(scope, id_)
        prefix = context.prefix
        self.cluster_identifier = f"{prefix}-aurora"
        self.subnet_group = DbSubnetGroup(self, "subnets", name=f"{prefix}-aurora", subnet_ids=subnet_ids)
        self.parameter_group, log_exports = self._build_parameter_group(prefix, config)
        self.cluster = self._build_cluster(context, config, security_group_ids, log_exports)
        self.monitoring_role = self._build_monitoring_role(context)
        self.instances = self._build_instances(context, config)

    def _build_parameter_group(self, prefix: str, config: AuroraConfig) -> tuple[RdsClusterParameterGroup, list[str]]:
        """The engine's TLS-only, reverse-ready parameter group, and the logs the cluster exports for that engine."""
        if config.is_mysql:
            family, short, log_exports = "aurora-mysql8.0", "mysql80", ["audit", "error", "slowquery"]
            parameters = _mysql_parameters()
            replication = "row-based binary log"
        else:
            major = config.engine_version.split(".", maxsplit=1)[0]
            family, short, log_exports = f"aurora-postgresql{major}", f"pg{major}", ["postgresql"]
            parameters = _postgres_parameters()
            replication = "logical replication"
        parameter_group = RdsClusterParameterGroup(
            self,
            "cluster-params",
            name=f"{prefix}-aurora-{short}",
            family=family,
            description=f"{prefix}: TLS-only connections; {replication} available for a reverse task",
            parameter=parameters,
        )
        return parameter_group, log_exports

    def _build_cluster(
        self, context: StackContext, config: AuroraConfig, security_group_ids: Sequence[str], log_exports: list[str]
    ) -> RdsCluster:
        prefix, kms_key_arn = context.prefix, context.kms_key_arn
        return RdsCluster(
            self,
            "cluster",
            cluster_identifier=self.cluster_identifier,
            engine=config.engine,
            engine_mode="provisioned",
            engine_version=config.engine_version,
            database_name=config.database_name,
            master_username=config.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=kms_key_arn,
            port=config.port,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=list(security_group_ids),
            db_cluster_parameter_group_name=self.parameter_group.name,
            storage_encrypted=True,
            kms_key_id=kms_key_arn,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=log_exports,
            backup_retention_period=config.backup_retention_days,
            preferred_backup_window=config.preferred_backup_window,
            copy_tags_to_snapshot=True,
            deletion_protection=config.deletion_protection,
            skip_final_snapshot=config.skip_final_snapshot,
            final_snapshot_identifier=None if config.skip_final_snapshot else f"{prefix}-aurora-final",
            serverlessv2_scaling_configuration=RdsClusterServerlessv2ScalingConfiguration(
                min_capacity=config.min_acu, max_capacity=config.max_acu
            ),
        )

    def _build_monitoring_role(self, context: StackContext) -> IamRole:
        """The role RDS enhanced monitoring publishes the instances' OS metrics with."""
        prefix = context.prefix
        monitoring_role = IamRole(
            self,
            "monitoring-role",
            name=f"{prefix}-rds-monitoring",
            assume_role_policy=assume_role_policy(context.service_principal("monitoring.rds")),
        )
        IamRolePolicyAttachment(
            self,
            "monitoring-policy",
            role=monitoring_role.name,
            policy_arn=context.managed_policy_arn("service-role/AmazonRDSEnhancedMonitoringRole"),
        )
        return monitoring_role

    def _build_instances(self, context: StackContext, config: AuroraConfig) -> list[RdsClusterInstance]:
        """One writer, then `reader_count` readers, all Serverless v2."""
        prefix, kms_key_arn = context.prefix, context.kms_key_arn
        instances: list[RdsClusterInstance] = []
        for index in range(1 + config.reader_count):
            role = "writer" if index == 0 else f"reader-{index}"
            instances.append(
                RdsClusterInstance(
                    self,
                    role,
                    identifier=f"{prefix}-aurora-{role}",
                    cluster_identifier=self.cluster.id,
                    engine=config.engine,
                    engine_version=config.engine_version,
                    instance_class="db.serverless",
                    db_subnet_group_name=self.subnet_group.name,
                    publicly_accessible=False,
                    # Tier 0 for the first instance keeps failover deterministic.
                    promotion_tier=0 if index == 0 else 1,
                    performance_insights_enabled=True,
                    performance_insights_kms_key_id=kms_key_arn,
                    performance_insights_retention_period=config.performance_insights_retention_days,
                    auto_minor_version_upgrade=True,
                    monitoring_interval=ENHANCED_MONITORING_SECONDS,
                    monitoring_role_arn=self.monitoring_role.arn,
                )
            )
        return instances

    @property
    def master_secret_arn(self) -> str:
        return self.cluster.master_user_secret.get(0).secret_arn
