"""Private network: the stack's VPC (three private subnets over three AZs) or an existing one, and
least-ingress security groups in it."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import Fn, Postcondition, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_availability_zones import DataAwsAvailabilityZones, DataAwsAvailabilityZonesFilter
from cdktf_cdktf_provider_aws.data_aws_subnet import DataAwsSubnet
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from lib.config import NetworkConfig, SourceConfig
from lib.constructs.context import StackContext
from lib.constructs.policy_documents import RoleIds, service_role, statement
from lib.constructs.stable_ids import cidr_id, moved_from_index

HTTPS_PORT = 443
# DMS fetches endpoint secrets (and KMS data keys) through these; no subnet has a NAT.
BASE_INTERFACE_SERVICES = ("secretsmanager", "kms")


class Network(Construct):
    """No internet gateway and no 0.0.0.0/0 rule: DMS reaches on-premises over the transit gateway or VPN
    (on_premises.py), or routes the VPC's owner manages (`existing`, `connectivity = "external"`). A source
    reached over the internet gets NAT gateways and a route per source address in internet_egress.py."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        network: NetworkConfig,
        sources: Sequence[SourceConfig],
        aurora_port: int | None,
        needs_s3_endpoint: bool = False,
        needs_kinesis_endpoint: bool = False,
        route_table_per_zone: bool = False,
    ) -> None:
        """`aurora_port` None: no Aurora target, so no Aurora security group.

        DMS writing to S3 or Kinesis from subnets without a NAT needs the S3 gateway endpoint and the
        `kinesis-streams` interface endpoint; they are created only when a target needs them.
        `route_table_per_zone` (NAT gateways per zone, internet_egress.py): each private subnet gets a route table
        of its own instead of the shared one.
        """
        super().__init__(scope, id_)
        prefix = context.prefix
        self.vpc: Vpc | None = None
        self.route_table: RouteTable | None = None
        self.private_subnets: list[Subnet] = []
        self.zones: list[str] = []
        self.private_route_tables: list[RouteTable] = []  # distinct tables, in subnet order (one shared or one per zone)
        if network.is_existing:
            self.vpc_id = network.vpc_id
            self.private_subnet_ids = list(network.subnets)
            self.route_table_ids = list(network.route_table_ids)
            self._check_existing_subnets(network)
        else:
            self._new_vpc(context, network, route_table_per_zone=route_table_per_zone)
        self.extra_security_group_ids = list(network.security_group_ids)
        self._security_groups(prefix, network, sources, aurora_port)
        if network.create_vpc_endpoints:
            self._endpoints(context, needs_s3_endpoint=needs_s3_endpoint, needs_kinesis_endpoint=needs_kinesis_endpoint)

    def _new_vpc(self, context: StackContext, network: NetworkConfig, *, route_table_per_zone: bool) -> None:
        prefix = context.prefix
        vpc = self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=network.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": f"{prefix}-vpc"},
        )
        self.vpc_id = vpc.id
        # The default group would otherwise allow all traffic between its members: strip every rule.
        DefaultSecurityGroup(self, "default-sg", vpc_id=vpc.id, tags={"Name": f"{prefix}-default-closed"})
        self._flow_logs(context)
        self.zones = self._zones(network)
        if route_table_per_zone:
            self.private_route_tables = [
                RouteTable(self, f"private-routes-{index}", vpc_id=vpc.id, tags={"Name": f"{prefix}-private-{index}"})
                for index in range(len(self.zones))
            ]
        else:
            self.route_table = RouteTable(self, "private-routes", vpc_id=vpc.id, tags={"Name": f"{prefix}-private"})
            self.private_route_tables = [self.route_table]
        self.route_table_ids = [table.id for table in self.private_route_tables]
        for index, (cidr, zone) in enumerate(zip(network.private_subnet_cidrs, self.zones, strict=True)):
            subnet = Subnet(
                self,
                f"private-{index}",
                vpc_id=vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{prefix}-private-{zone}"},
                # Looked-up zones are chosen once: a zone AWS adds or renames later must not replace a
                # subnet (and with it every database ENI in it). Named zones stay under Terraform's control.
                lifecycle=None
                if network.availability_zones
                else TerraformResourceLifecycle(ignore_changes=["availability_zone"]),
            )
            table = self.private_route_tables[index if route_table_per_zone else 0]
            RouteTableAssociation(self, f"private-{index}-routes", subnet_id=subnet.id, route_table_id=table.id)
            self.private_subnets.append(subnet)
        self.private_subnet_ids = [subnet.id for subnet in self.private_subnets]

    def _check_existing_subnets(self, network: NetworkConfig) -> None:
        """The config names each subnet's zone (so synth can refuse one zone); the plan checks both against AWS."""
        for index, (subnet_id, zone) in enumerate(network.subnets.items()):
            DataAwsSubnet(
                self,
                f"existing-subnet-{index}",
                id=subnet_id,
                lifecycle=TerraformResourceLifecycle(
                    postcondition=[
                        Postcondition(
                            condition=f'${{self.vpc_id == "{network.vpc_id}" && self.availability_zone == "{zone}"}}',
                            error_message=f"network.subnets: {subnet_id} must be a subnet of {network.vpc_id} in {zone}.",
                        )
                    ]
                ),
            )

    def _security_groups(
        self, prefix: str, network: NetworkConfig, sources: Sequence[SourceConfig], aurora_port: int | None
    ) -> None:
        self.dms_security_group = self._group(
            "dms-sg", f"{prefix}-dms", "DMS replication: no ingress; egress to its targets and the on-premises sources only"
        )
        self.endpoint_security_group: SecurityGroup | None = None
        if network.create_vpc_endpoints:
            self.endpoint_security_group = self._group(
                "endpoints-sg", f"{prefix}-endpoints", "VPC interface endpoints: HTTPS from DMS only"
            )
        self.aurora_security_group: SecurityGroup | None = None
        if aurora_port is not None:
            self.aurora_security_group = self._group(
                "aurora-sg", f"{prefix}-aurora", "Aurora: ingress from DMS on the engine port only"
            )
            self._dms_reaches(self.aurora_security_group, "aurora", aurora_port, "DMS writes to Aurora")
            self._applications_reach(self.aurora_security_group, network, aurora_port)
        for source in sources:
            # Keyed by the CIDR (stable_ids.py): removing one block leaves the others' rules alone.
            for index, cidr in enumerate(dict.fromkeys(source.cidr_blocks)):
                rule = VpcSecurityGroupEgressRule(
                    self,
                    f"dms-to-{source.key}-{cidr_id(cidr)}",
                    security_group_id=self.dms_security_group.id,
                    cidr_ipv4=cidr,
                    ip_protocol="tcp",
                    from_port=source.port,
                    to_port=source.port,
                    description=f"DMS reads the on-premises source {source.key}",
                )
                moved_from_index(rule, f"dms-to-{source.key}-{index}")
        if self.endpoint_security_group is not None:
            self._dms_reaches(
                self.endpoint_security_group,
                "endpoints",
                HTTPS_PORT,
                "DMS reads its credentials (and writes streams) via endpoints",
            )
        else:
            # An existing VPC's own endpoints (create_vpc_endpoints = false): HTTPS inside that VPC only.
            vpc = DataAwsVpc(self, "existing-vpc", id=self.vpc_id)
            VpcSecurityGroupEgressRule(
                self,
                "dms-to-vpc-endpoints",
                security_group_id=self.dms_security_group.id,
                cidr_ipv4=vpc.cidr_block,
                ip_protocol="tcp",
                from_port=HTTPS_PORT,
                to_port=HTTPS_PORT,
                description="DMS reads its credentials through the VPC's own endpoints",
            )

    def _applications_reach(self, aurora: SecurityGroup, network: NetworkConfig, port: int) -> None:
        """After the cutover the applications connect to Aurora: its port, from their networks and groups only."""
        for index, cidr in enumerate(dict.fromkeys(network.application_cidrs)):
            rule = VpcSecurityGroupIngressRule(
                self,
                f"aurora-from-apps-{cidr_id(cidr)}",
                security_group_id=aurora.id,
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=f"applications in {cidr} connect to Aurora",
            )
            moved_from_index(rule, f"aurora-from-apps-{index}")
        for index, group in enumerate(dict.fromkeys(network.application_security_group_ids)):
            rule = VpcSecurityGroupIngressRule(
                self,
                f"aurora-from-app-group-{group}",
                security_group_id=aurora.id,
                referenced_security_group_id=group,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=f"applications in {group} connect to Aurora",
            )
            moved_from_index(rule, f"aurora-from-app-group-{index}")

    def _endpoints(self, context: StackContext, *, needs_s3_endpoint: bool, needs_kinesis_endpoint: bool) -> None:
        prefix, region = context.prefix, context.region
        services = (*BASE_INTERFACE_SERVICES, *(("kinesis-streams",) if needs_kinesis_endpoint else ()))
        self.interface_endpoints = [
            VpcEndpoint(
                self,
                f"endpoint-{service}",
                vpc_id=self.vpc_id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[self.endpoint_security_group.id] if self.endpoint_security_group else [],
                private_dns_enabled=True,
                tags={"Name": f"{prefix}-{service}"},
            )
            for service in services
        ]
        self.s3_endpoint: VpcEndpoint | None = None
        if needs_s3_endpoint:
            # A gateway endpoint (free, route-table based): DMS S3 targets and DMS Serverless write through it.
            self.s3_endpoint = VpcEndpoint(
                self,
                "endpoint-s3",
                vpc_id=self.vpc_id,
                service_name=f"com.amazonaws.{region}.s3",
                vpc_endpoint_type="Gateway",
                route_table_ids=self.route_table_ids,
                tags={"Name": f"{prefix}-s3"},
            )
            VpcSecurityGroupEgressRule(
                self,
                "dms-to-s3",
                security_group_id=self.dms_security_group.id,
                prefix_list_id=self.s3_endpoint.prefix_list_id,
                ip_protocol="tcp",
                from_port=HTTPS_PORT,
                to_port=HTTPS_PORT,
                description="DMS writes S3 targets through the gateway endpoint",
            )

    def _group(self, id_: str, name: str, description: str) -> SecurityGroup:
        return SecurityGroup(self, id_, name=name, description=description, vpc_id=self.vpc_id, tags={"Name": name})

    def _dms_reaches(self, group: SecurityGroup, name: str, port: int, description: str) -> None:
        """A matching pair: egress from the DMS group and ingress into `group`, on one TCP port only."""
        VpcSecurityGroupIngressRule(
            self,
            f"{name}-from-dms",
            security_group_id=group.id,
            referenced_security_group_id=self.dms_security_group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )
        VpcSecurityGroupEgressRule(
            self,
            f"dms-to-{name}",
            security_group_id=self.dms_security_group.id,
            referenced_security_group_id=group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )

    def _zones(self, network: NetworkConfig) -> list[str]:
        if network.availability_zones:
            return list(network.availability_zones)
        # The account's own zone names: `<region>b` does not exist everywhere (ap-northeast-1 has a, c, d).
        # Local and Wavelength zones are left out. No `state` filter: a zone impaired for an hour must not
        # shift the list, and the subnets ignore later changes anyway (see __init__).
        zones = DataAwsAvailabilityZones(
            self,
            "zones",
            filter=[DataAwsAvailabilityZonesFilter(name="zone-type", values=["availability-zone"])],
        )
        return [Fn.element(zones.names, index) for index in range(len(network.private_subnet_cidrs))]

    def _flow_logs(self, context: StackContext) -> None:
        """Rejected and accepted flows to an encrypted log group: the evidence when DMS cannot reach the source."""
        prefix, kms_key_arn, log_retention_days = context.prefix, context.kms_key_arn, context.log_retention_days
        group = CloudwatchLogGroup(
            self, "flow-logs", name=f"/{prefix}/vpc-flow-logs", retention_in_days=log_retention_days, kms_key_id=kms_key_arn
        )
        role, _ = service_role(
            self,
            RoleIds("flow-logs-role", "flow-logs-write", "flow-logs-policy"),
            name=f"{prefix}-flow-logs",
            service=context.service_principal("vpc-flow-logs"),
            policy_name="write-flow-logs",
            statements=[
                statement(
                    "WriteFlowLogs",
                    ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    [group.arn, f"{group.arn}:*"],
                ),
            ],
        )
        FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
        )

    @property
    def dms_security_group_ids(self) -> list[str]:
        return [self.dms_security_group.id, *self.extra_security_group_ids]

    @property
    def aurora_security_group_ids(self) -> list[str]:
        return [self.aurora_security_group.id, *self.extra_security_group_ids] if self.aurora_security_group else []
