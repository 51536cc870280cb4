"""The way out to a source reachable only over the internet (`network.source_access = "internet"`).

An internet gateway, public subnets that hold nothing but the NAT gateways (no public IPs on launch), one
NAT gateway (`network.nat_gateways = "single"`) or one per zone (`"per_zone"`), and in each private route
table a route per source address through its NAT gateway. The routes name the sources' /32s only, never
0.0.0.0/0: nothing else in the private subnets reaches the internet, and DMS stays not publicly accessible
(it reaches out; nothing reaches in). The DMS security group's egress to those addresses on the source port
is network.py's (one rule per source CIDR, as for on-premises sources). The source must allow the NAT
gateways' Elastic IPs (output `nat_public_ips`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from constructs import Construct

from lib.constructs.context import StackContext

ANYWHERE = "0.0.0.0/0"


def cidr_key(cidr: str) -> str:
    """A construct id part for a CIDR (`203.0.113.25/32` -> `203-0-113-25-32`): a route keyed by its destination
    is replaced only when that destination goes, never because another one was removed before it in a list."""
    return re.sub(r"[^0-9A-Za-z]+", "-", cidr).strip("-")


class InternetEgress(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        vpc_id: str,
        public_subnet_cidrs: Sequence[str],
        zones: Sequence[str],
        zones_pinned: bool,
        private_route_table_ids: Sequence[str],
        destinations: Sequence[str],
    ) -> None:
        """One NAT gateway per entry of `private_route_table_ids` (the shared table, or one per zone), in the
        public subnet of the same zone; `destinations` are the sources' public addresses."""
        super().__init__(scope, id_)
        prefix = context.prefix
        self.internet_gateway = InternetGateway(self, "igw", vpc_id=vpc_id, tags={"Name": f"{prefix}-igw"})
        self.public_subnets = self._public_subnets(prefix, vpc_id, public_subnet_cidrs, zones, zones_pinned=zones_pinned)
        self.elastic_ips: list[Eip] = []
        self.nat_gateways: list[NatGateway] = []
        for index, table_id in enumerate(private_route_table_ids):
            address = Eip(self, f"nat-{index}-ip", domain="vpc", tags={"Name": f"{prefix}-nat-{index}"})
            nat = NatGateway(
                self,
                f"nat-{index}",
                allocation_id=address.allocation_id,
                subnet_id=self.public_subnets[index].id,
                connectivity_type="public",
                tags={"Name": f"{prefix}-nat-{index}"},
                # A NAT gateway needs the internet gateway attached before it can pass traffic.
                depends_on=[self.internet_gateway],
            )
            for cidr in destinations:
                Route(
                    self,
                    f"private-{index}-to-{cidr_key(cidr)}",
                    route_table_id=table_id,
                    destination_cidr_block=cidr,
                    nat_gateway_id=nat.id,
                )
            self.elastic_ips.append(address)
            self.nat_gateways.append(nat)

    def _public_subnets(
        self, prefix: str, vpc_id: str, cidrs: Sequence[str], zones: Sequence[str], *, zones_pinned: bool
    ) -> list[Subnet]:
        """One per zone, routed to the internet gateway; they hold the NAT gateways and nothing else."""
        public_routes = RouteTable(self, "public-routes", vpc_id=vpc_id, tags={"Name": f"{prefix}-public"})
        Route(
            self,
            "public-to-internet",
            route_table_id=public_routes.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=self.internet_gateway.id,
        )
        subnets: list[Subnet] = []
        for index, (cidr, zone) in enumerate(zip(cidrs, zones, strict=True)):
            subnet = Subnet(
                self,
                f"public-{index}",
                vpc_id=vpc_id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{prefix}-public-{zone}"},
                # As the private subnets (network.py): looked-up zones are chosen once.
                lifecycle=None if zones_pinned else TerraformResourceLifecycle(ignore_changes=["availability_zone"]),
            )
            RouteTableAssociation(self, f"public-{index}-routes", subnet_id=subnet.id, route_table_id=public_routes.id)
            subnets.append(subnet)
        return subnets

    @property
    def public_ips(self) -> list[str]:
        """The addresses the source sees DMS come from: its firewall allows these on the database port."""
        return [address.public_ip for address in self.elastic_ips]
