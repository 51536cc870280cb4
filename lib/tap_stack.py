"""TapStack: composition only. Each concern is one construct in lib/constructs/.

What gets built follows the config: the Aurora cluster only for an Aurora target, the data lake
(bucket, Glue, Athena) only for s3/kinesis targets, a Kinesis stream + Firehose per kinesis
target, the cutover only when enabled (with its Aurora -> source reverse task when
`cutover.reverse_replication`), backups only for what AWS Backup protects (Aurora). Every
construct gets the one `StackContext` and its own slice of the config.
"""

from __future__ import annotations

from dataclasses import replace

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from constructs import Construct

from lib.config import AppConfig
from lib.constants import HEALTH_ALARM_INFIX
from lib.constructs.aurora import Aurora
from lib.constructs.backup import Backup
from lib.constructs.context import StackContext
from lib.constructs.cutover import Cutover, CutoverTargets
from lib.constructs.data_lake import DataLake
from lib.constructs.dms import Dms, DmsServiceRoles
from lib.constructs.encryption import Encryption
from lib.constructs.internet_egress import InternetEgress
from lib.constructs.network import Network
from lib.constructs.notifications import Notifications
from lib.constructs.observability import KinesisDeliveryNames, Observability, ObservedResources
from lib.constructs.on_premises import OnPremisesConnectivity
from lib.constructs.provider import build_provider, configure_backend
from lib.constructs.resolver import ResolverInbound
from lib.constructs.reverse_replication import ReverseReplication
from lib.constructs.secrets import Secrets
from lib.constructs.target_wiring import wire_targets
from lib.stack_outputs import declare_outputs


class TapStack(TerraformStack):
    def __init__(self, scope: Construct, id_: str, config: AppConfig) -> None:
        super().__init__(scope, id_)
        self.config = config
        configure_backend(self, config)
        build_provider(self, config)
        partition = DataAwsPartition(self, "partition")
        base = StackContext(
            prefix=config.project.prefix,
            partition=partition.partition,
            # amazonaws.com, or amazonaws.com.cn in China: service principals and kms:ViaService follow the partition.
            dns_suffix=partition.dns_suffix,
            region=config.project.region,
            account_id=DataAwsCallerIdentity(self, "identity").account_id,
            kms_key_arn="",
            log_retention_days=config.dms.log_retention_days,
        )
        self.encryption = Encryption(self, "encryption", context=base)
        self.context = context = replace(base, kms_key_arn=self.encryption.key_arn)
        self.network, self.internet_egress = self._network()
        self.on_premises, self.resolver = self._connections()
        self.secrets = Secrets(
            self,
            "secrets",
            context=context,
            sources=list(config.sources.values()),
            create_target_secret=config.aurora is not None,
            reverse_target_source=config.reverse_replication_source,
        )
        self.aurora = self._aurora()
        self.data_lake = (
            DataLake(self, "data-lake", context=context, config=config.data_lake, targets=config.targets)
            if config.data_lake is not None
            else None
        )
        wiring, self.streams = wire_targets(self, context, config, self.secrets, self.data_lake)
        self.dms = Dms(
            self,
            "dms",
            context=context,
            config=config.dms,
            sources=config.sources,
            targets=config.targets,
            wiring=wiring,
            subnet_ids=self.network.private_subnet_ids,
            security_group_ids=self.network.dms_security_group_ids,
            service_roles=DmsServiceRoles(
                self, "dms-service-roles", context=context, create=config.deployment.create_dms_service_roles
            ),
            secrets_access_role_arn=self.secrets.dms_access_role.arn,
            source_secret_arns=self.secrets.source_secret_arns,
        )
        self.reverse = self._reverse_replication()
        self.notifications = Notifications(self, "notifications", context=context, alarm_email=config.observability.alarm_email)
        # Migration-health alarms gate the cutover; the cutover's own error alarm must not (a throttled call
        # would otherwise roll reads back on the next tick).
        self.alarm_name_prefix = f"{context.prefix}-{HEALTH_ALARM_INFIX}-"
        self.cutover = self._cutover()
        self.observability = Observability(
            self,
            "observability",
            context=context,
            health_alarm_prefix=self.alarm_name_prefix,
            config=config.observability,
            observed=self._observed(),
        )
        self.backup = (
            Backup(self, "backup", context=context, config=config.backup, protected_resource_arns=[self.aurora.cluster.arn])
            if self.aurora is not None
            else None
        )
        declare_outputs(self, self)

    def _network(self) -> tuple[Network, InternetEgress | None]:
        """The VPC (or an existing one) with its groups and endpoints; with network.source_access = "internet",
        NAT gateways in public subnets and routes to the sources' addresses."""
        config, context = self.config, self.context
        network = Network(
            self,
            "network",
            context=context,
            network=config.network,
            sources=list(config.sources.values()),
            aurora_port=config.aurora.port if config.aurora else None,
            needs_s3_endpoint=config.needs_s3_endpoint,
            needs_kinesis_endpoint=config.needs_kinesis_endpoint,
            route_table_per_zone=config.network.nat_gateway_count > 1,
        )
        if not config.network.internet_sources or network.vpc is None:
            return network, None
        return network, InternetEgress(
            self,
            "internet-egress",
            context=context,
            vpc_id=network.vpc_id,
            public_subnet_cidrs=config.network.public_subnet_cidrs,
            zones=network.zones,
            zones_pinned=bool(config.network.availability_zones),
            private_route_table_ids=network.route_table_ids,
            destinations=config.internet_source_cidrs,
        )

    def _connections(self) -> tuple[OnPremisesConnectivity | None, ResolverInbound | None]:
        """The route to on-premises (a new VPC with a transit gateway or VPN) and the DNS way back in."""
        config, network, context = self.config, self.network, self.context
        on_premises = None
        if config.network.connection in ("transit_gateway", "vpn") and network.route_table is not None:
            on_premises = OnPremisesConnectivity(
                self,
                "on-premises",
                context=context,
                network=config.network,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                route_table_id=network.route_table.id,
                cidrs=config.on_premises_cidrs,
            )
        resolver = config.network.resolver
        inbound = (
            ResolverInbound(
                self,
                "resolver",
                context=context,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                allowed_cidrs=resolver.allowed_cidrs,
            )
            if resolver is not None
            else None
        )
        return on_premises, inbound

    def _aurora(self) -> Aurora | None:
        config, network = self.config, self.network
        if config.aurora is None or network.aurora_security_group is None:
            return None
        return Aurora(
            self,
            "aurora",
            context=self.context,
            config=config.aurora,
            subnet_ids=network.private_subnet_ids,
            security_group_ids=network.aurora_security_group_ids,
        )

    def _reverse_replication(self) -> ReverseReplication | None:
        config, secrets = self.config, self.secrets
        cutover, source = config.cutover, config.reverse_replication_source
        if (
            cutover is None
            or cutover.reverse_task_settings is None
            or source is None
            or config.aurora is None
            or secrets.target_secret is None
            or secrets.reverse_target_secret is None
        ):
            return None
        forward_task = config.dms.tasks[cutover.task_key]
        return ReverseReplication(
            self,
            "reverse-replication",
            context=self.context,
            forward_task_key=forward_task.key,
            table_mappings=forward_task.table_mappings,
            settings=cutover.reverse_task_settings,
            source=source,
            target=config.targets[forward_task.target],
            aurora=config.aurora,
            dms=self.dms,
            aurora_secret_arn=secrets.target_secret.arn,
            source_write_secret_arn=secrets.reverse_target_secret.arn,
            secrets_access_role_arn=secrets.dms_access_role.arn,
        )

    def _cutover(self) -> Cutover | None:
        config, aurora, dms = self.config, self.aurora, self.dms
        source = config.cutover_source
        if config.cutover is None or source is None or aurora is None:
            return None
        project = config.project
        return Cutover(
            self,
            "cutover",
            context=self.context,
            parameter_path=f"/{project.name}/{project.environment_suffix}",
            config=config.cutover,
            targets=CutoverTargets(
                vpc_id=self.network.vpc_id,
                source_host=source.host,
                aurora_writer_endpoint=aurora.cluster.endpoint,
                aurora_reader_endpoint=aurora.cluster.reader_endpoint,
                aurora_cluster_id=aurora.cluster.cluster_identifier,
                aurora_cluster_arn=aurora.cluster.arn,
                dms_replication_arn=dms.task_arns[config.cutover.task_key],
                dms_instance_id=dms.instance.replication_instance_id if dms.instance else None,
                topic_arn=self.notifications.topic.arn,
                kms_key_arn=self.context.kms_key_arn,
                alarm_name_prefix=self.alarm_name_prefix,
                dms_reverse_replication_arn=self.reverse.task_arn if self.reverse else None,
            ),
        )

    def _observed(self) -> ObservedResources:
        config, dms = self.config, self.dms
        return ObservedResources(
            dms_instance_id=dms.instance.replication_instance_id if dms.instance else None,
            account_id=self.context.account_id,
            dms_task_ids=dms.task_ids,
            dms_tasks=list(dms.tasks.values()),
            dms_task_arns=dms.task_arns,
            primary_task_key=config.primary_task_key,
            validated_task_keys=config.validated_task_keys,
            aurora_cluster_id=self.aurora.cluster.cluster_identifier if self.aurora else None,
            cutover_function_name=self.cutover.function.function_name if self.cutover else None,
            cutover_state_parameter=self.cutover.state_parameter.name if self.cutover else None,
            kinesis={
                key: KinesisDeliveryNames(stream.stream.name, stream.delivery_stream.name) for key, stream in self.streams.items()
            },
            topic_arn=self.notifications.topic.arn,
            reverse_task_arn=self.reverse.task_arn if self.reverse else None,
        )
