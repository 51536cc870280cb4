"""The one declared list of resources the embedded emulator cannot hold.

Only the `emulator` target may leave resources out, and only those named here, each with why
and what covers it instead; the deploy script prints the list and the README shows it. Today it
is empty: with the patches in tools/moto_patches.py, moto 5.2.1 holds every resource of the real
stack (including DMS event subscriptions, certificates, Serverless replication configs and the
backup selection that plain moto lacks), so the emulator deploys exactly what an AWS account gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from lib.config import AppConfig
    from tools.emulator_fixtures import ExistingNetwork


@dataclass(frozen=True)
class Exclusion:
    resource_type: str
    why: str
    covered_by: str


EMULATOR_EXCLUSIONS: Final[tuple[Exclusion, ...]] = ()


# The emulator stands in for the customer's account: what a config names by ID (an existing VPC and its
# subnets, route tables and groups, a transit gateway, application VPCs) is seeded under those IDs
# before a deploy (tools/emulator_fixtures.py). These blocks overlap no shipped config's networks.
SEEDED_VPC_CIDR: Final = "10.250.0.0/16"
SEEDED_APPLICATION_VPC_CIDR: Final = "10.{index}.0.0/16"  # index from 251 on
FIRST_APPLICATION_VPC_INDEX: Final = 251


def existing_network_spec(config: AppConfig) -> ExistingNetwork | None:
    """What the config expects to exist already, as a fixture spec; None when it names nothing."""
    from tools.emulator_fixtures import ExistingNetwork  # noqa: PLC0415  (boto3/botocore only when seeding)

    network = config.network
    cutover = config.cutover
    existing = network.is_existing
    application_vpcs = {
        vpc_id: SEEDED_APPLICATION_VPC_CIDR.format(index=FIRST_APPLICATION_VPC_INDEX + index)
        for index, vpc_id in enumerate(cutover.associated_vpc_ids if cutover else ())
    }
    spec = ExistingNetwork(
        vpc_id=network.vpc_id if existing else "",
        vpc_cidr=SEEDED_VPC_CIDR if existing else "",
        subnets=dict(network.subnets) if existing else {},
        route_table_ids=tuple(network.route_table_ids) if existing else (),
        security_group_ids=(*network.security_group_ids, *network.application_security_group_ids) if existing else (),
        transit_gateway_ids=(network.transit_gateway_id,) if network.transit_gateway_id else (),
        application_vpcs=application_vpcs,
    )
    named = spec.vpc_id or spec.transit_gateway_ids or spec.application_vpcs
    return spec if named else None
