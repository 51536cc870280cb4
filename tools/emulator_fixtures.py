"""The customer's existing network, seeded into the emulator under the customer's own IDs.

With `network.mode = "existing"` (issue 16) the stack takes a VPC, subnets, route tables, security
groups and transit gateways by ID instead of creating them, and associates private zones with other
("application") VPCs. On AWS those exist already; on the emulator they do not, so before a deploy
`seed_existing_network` creates whatever of an `ExistingNetwork` is missing, with exactly those IDs
(through the emulator's `_custom_id_` tag, `tools.moto_network_patches.patch_ec2_custom_ids`).

It is idempotent: what exists with the right shape is left alone, so a second call changes nothing;
something that exists with another shape (a VPC with another CIDR, a subnet in another VPC or zone,
a group or route table in another VPC) is a `FixtureShapeError` naming it. It only talks to a
loopback endpoint: against AWS the tag would not pick the ID, and it would create real resources.

Pure of project configuration: the deploy tool maps its config onto an `ExistingNetwork`; the CLI
takes the same as JSON:

    python -m tools.emulator_fixtures --endpoint-url http://127.0.0.1:PORT --spec-json '{
      "vpc_id": "vpc-0abc1234def567890", "vpc_cidr": "10.50.0.0/16",
      "subnets": {"subnet-0aaa1111bbbb22223": "us-east-1a", "subnet-0ccc3333dddd44445": "us-east-1b"},
      "subnet_cidrs": {"subnet-0aaa1111bbbb22223": "10.50.1.0/24"},
      "route_table_ids": ["rtb-0123456789abcdef0"], "security_group_ids": ["sg-0123456789abcdef0"],
      "transit_gateway_ids": ["tgw-0fedcba9876543210"], "application_vpcs": {"vpc-0def4567abc890123": "10.60.0.0/16"}}'
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

# moto's convention for choosing a resource's ID (moto.utilities.id_generator.TAG_KEY_CUSTOM_ID).
CUSTOM_ID_TAG: Final = "_custom_id_"
FIXTURE_TAG: Final = {"Key": "tap:fixture", "Value": "existing-network"}
# moto accepts any keys; these are the ones the project's deploy tool gives the emulator.
EMULATOR_KEYS: Final = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
# Subnets get this much smaller a block than the VPC, but never smaller than /28 (AWS's minimum) or larger than /24.
SUBNET_PREFIX_STEP: Final = 4
SUBNET_PREFIX_RANGE: Final = (24, 28)
ID_PREFIXES: Final = {
    "vpc": "vpc-",
    "subnet": "subnet-",
    "route table": "rtb-",
    "security group": "sg-",
    "transit gateway": "tgw-",
}
SPEC_KEYS: Final = frozenset(
    {
        "vpc_id",
        "vpc_cidr",
        "subnets",
        "subnet_cidrs",
        "route_table_ids",
        "security_group_ids",
        "transit_gateway_ids",
        "application_vpcs",
    }
)

# A boto3 EC2 client (no stubs for EC2 are installed; only the calls below are used).
Ec2Client = Any


class FixtureSpecError(ValueError):
    """The spec itself is wrong (an ID of the wrong kind, a CIDR that does not parse, an unknown key)."""


class FixtureShapeError(RuntimeError):
    """Something in the spec exists in the emulator with another shape than the spec gives it."""


def _check_id(kind: str, value: Any) -> str:
    prefix = ID_PREFIXES[kind]
    if not isinstance(value, str) or not value.startswith(prefix) or len(value) <= len(prefix):
        raise FixtureSpecError(f"{value!r} is not a {kind} ID (it starts with {prefix!r})")
    return value


def _check_cidr(owner: str, value: Any) -> str:
    try:
        network = ipaddress.IPv4Network(str(value))
    except ValueError as error:
        raise FixtureSpecError(f"CIDR {value!r} of {owner}: {error}") from None
    if not 16 <= network.prefixlen <= 28:  # AWS's VPC size limits
        raise FixtureSpecError(f"CIDR {value} of {owner}: a VPC is /16 to /28")
    return str(network)


@dataclass(frozen=True)
class ExistingNetwork:
    """What the customer's account already holds, by ID."""

    vpc_id: str = ""  # empty: no existing VPC (only transit gateways and application VPCs are seeded)
    vpc_cidr: str = ""
    subnets: Mapping[str, str] = field(default_factory=dict)  # subnet ID -> Availability Zone
    # subnet ID -> CIDR, for subnets whose block matters (a fixed Resolver IP); the others get free blocks.
    subnet_cidrs: Mapping[str, str] = field(default_factory=dict)
    route_table_ids: Sequence[str] = ()
    security_group_ids: Sequence[str] = ()
    transit_gateway_ids: Sequence[str] = ()
    application_vpcs: Mapping[str, str] = field(default_factory=dict)  # VPC ID -> CIDR (private-zone associations)

    def __post_init__(self) -> None:
        if not self.vpc_id:
            if self.vpc_cidr or self.subnets or self.route_table_ids or self.security_group_ids:
                raise FixtureSpecError("subnets, route tables and security groups live in a VPC: give vpc_id and vpc_cidr")
            self._check_others()
            return
        _check_id("vpc", self.vpc_id)
        _check_cidr(self.vpc_id, self.vpc_cidr)
        for subnet_id, zone in self.subnets.items():
            _check_id("subnet", subnet_id)
            if not isinstance(zone, str) or not zone:
                raise FixtureSpecError(f"subnet {subnet_id}: the Availability Zone {zone!r} is not a zone name")
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        for subnet_id, cidr in self.subnet_cidrs.items():
            if subnet_id not in self.subnets:
                raise FixtureSpecError(f"subnet_cidrs names {subnet_id}, which is not in subnets")
            try:
                block = ipaddress.IPv4Network(str(cidr))
            except ValueError as error:
                raise FixtureSpecError(f"CIDR {cidr!r} of {subnet_id}: {error}") from None
            if not block.subnet_of(vpc):
                raise FixtureSpecError(f"CIDR {cidr} of {subnet_id} is not inside the VPC's {self.vpc_cidr}")
        self._check_others()

    def _check_others(self) -> None:
        for table_id in self.route_table_ids:
            _check_id("route table", table_id)
        for group_id in self.security_group_ids:
            _check_id("security group", group_id)
        for gateway_id in self.transit_gateway_ids:
            _check_id("transit gateway", gateway_id)
        for vpc_id, cidr in self.application_vpcs.items():
            _check_id("vpc", vpc_id)
            _check_cidr(vpc_id, cidr)
            if vpc_id == self.vpc_id:
                raise FixtureSpecError(f"{vpc_id} is the existing VPC itself, not an application VPC")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ExistingNetwork:
        unknown = sorted(set(data) - SPEC_KEYS)
        if unknown:
            raise FixtureSpecError(f"unknown spec keys: {', '.join(unknown)} (known: {', '.join(sorted(SPEC_KEYS))})")
        return cls(
            vpc_id=data.get("vpc_id") or "",
            vpc_cidr=data.get("vpc_cidr") or "",
            subnets=dict(data.get("subnets") or {}),
            subnet_cidrs=dict(data.get("subnet_cidrs") or {}),
            route_table_ids=tuple(data.get("route_table_ids") or ()),
            security_group_ids=tuple(data.get("security_group_ids") or ()),
            transit_gateway_ids=tuple(data.get("transit_gateway_ids") or ()),
            application_vpcs=dict(data.get("application_vpcs") or {}),
        )


@dataclass
class SeedReport:
    """IDs created by this call, and IDs found already there with the right shape."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"created {i}" for i in self.created] + [f"exists  {i}" for i in self.existing]


def _tags(resource_type: str, resource_id: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": CUSTOM_ID_TAG, "Value": resource_id}, FIXTURE_TAG]}]


def _one(found: list[dict[str, Any]]) -> dict[str, Any] | None:
    return found[0] if found else None


def _created(kind: str, wanted: str, got: str) -> None:
    if got != wanted:
        raise FixtureShapeError(
            f"the emulator created {kind} {got} instead of {wanted}: it does not honour `{CUSTOM_ID_TAG}` "
            "(start it with tools.moto_network_patches applied)"
        )


def _ensure_vpc(ec2: Ec2Client, vpc_id: str, cidr: str, report: SeedReport) -> None:
    found = _one(ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"])
    if found is None:
        created = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=_tags("vpc", vpc_id))["Vpc"]["VpcId"]
        _created("VPC", vpc_id, created)
        report.created.append(vpc_id)
    elif found["CidrBlock"] != cidr:
        raise FixtureShapeError(f"VPC {vpc_id} exists with CIDR {found['CidrBlock']}, the spec gives it {cidr}")
    else:
        report.existing.append(vpc_id)


def _free_subnet_cidrs(vpc_cidr: str, taken: Sequence[str]) -> list[str]:
    vpc = ipaddress.IPv4Network(vpc_cidr)
    low, high = SUBNET_PREFIX_RANGE
    prefix = min(high, max(low, vpc.prefixlen + SUBNET_PREFIX_STEP))
    used = [ipaddress.IPv4Network(cidr) for cidr in taken]
    return [str(block) for block in vpc.subnets(new_prefix=prefix) if not any(block.overlaps(u) for u in used)]


def _ensure_subnets(ec2: Ec2Client, spec: ExistingNetwork, report: SeedReport) -> None:
    in_vpc = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [spec.vpc_id]}])["Subnets"]
    # Blocks the spec fixes are kept out of the free ones, whether or not their subnets exist yet.
    free = _free_subnet_cidrs(spec.vpc_cidr, [subnet["CidrBlock"] for subnet in in_vpc] + list(spec.subnet_cidrs.values()))
    for subnet_id, zone in spec.subnets.items():
        fixed = spec.subnet_cidrs.get(subnet_id)
        found = _one(ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])["Subnets"])
        if found is not None:
            shape = (found["VpcId"], found["AvailabilityZone"], found["CidrBlock"] if fixed else None)
            if shape != (spec.vpc_id, zone, fixed):
                raise FixtureShapeError(
                    f"subnet {subnet_id} exists in {' / '.join(v for v in shape if v)}, "
                    f"the spec puts it in {' / '.join(v for v in (spec.vpc_id, zone, fixed) if v)}"
                )
            report.existing.append(subnet_id)
            continue
        if fixed is None and not free:
            raise FixtureShapeError(f"VPC {spec.vpc_id} ({spec.vpc_cidr}) has no free block left for subnet {subnet_id}")
        created = ec2.create_subnet(
            VpcId=spec.vpc_id,
            CidrBlock=fixed or free.pop(0),
            AvailabilityZone=zone,
            TagSpecifications=_tags("subnet", subnet_id),
        )["Subnet"]["SubnetId"]
        _created("subnet", subnet_id, created)
        report.created.append(subnet_id)


def _ensure_in_vpc(ec2: Ec2Client, kind: str, resource_id: str, vpc_id: str, report: SeedReport) -> None:
    if kind == "route table":
        found = _one(ec2.describe_route_tables(Filters=[{"Name": "route-table-id", "Values": [resource_id]}])["RouteTables"])
    else:
        found = _one(ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [resource_id]}])["SecurityGroups"])
    if found is not None:
        if found["VpcId"] != vpc_id:
            raise FixtureShapeError(f"{kind} {resource_id} exists in {found['VpcId']}, the spec puts it in {vpc_id}")
        report.existing.append(resource_id)
        return
    if kind == "route table":
        created = ec2.create_route_table(VpcId=vpc_id, TagSpecifications=_tags("route-table", resource_id))["RouteTable"][
            "RouteTableId"
        ]
    else:
        created = ec2.create_security_group(
            GroupName=f"existing-{resource_id}",
            Description="Pre-existing security group (emulator fixture)",
            VpcId=vpc_id,
            TagSpecifications=_tags("security-group", resource_id),
        )["GroupId"]
    _created(kind, resource_id, created)
    report.created.append(resource_id)


def _ensure_transit_gateway(ec2: Ec2Client, gateway_id: str, report: SeedReport) -> None:
    found = _one(
        ec2.describe_transit_gateways(Filters=[{"Name": "transit-gateway-id", "Values": [gateway_id]}])["TransitGateways"]
    )
    if found is not None:
        if found.get("State") in {"deleting", "deleted"}:
            raise FixtureShapeError(f"transit gateway {gateway_id} exists but is {found['State']}")
        report.existing.append(gateway_id)
        return
    created = ec2.create_transit_gateway(
        Description="Pre-existing transit gateway (emulator fixture)", TagSpecifications=_tags("transit-gateway", gateway_id)
    )["TransitGateway"]["TransitGatewayId"]
    _created("transit gateway", gateway_id, created)
    report.created.append(gateway_id)


def seed_existing_network(ec2: Ec2Client, spec: ExistingNetwork) -> SeedReport:
    """Create in the emulator whatever of `spec` is missing, under its IDs; refuse anything of another shape.

    Works in dependency order (VPCs, then what lives in them); a shape error stops there and leaves
    what was already created (all of it right), so calling again with a corrected spec carries on.
    """
    _require_loopback(ec2.meta.endpoint_url)
    report = SeedReport()
    if spec.vpc_id:
        _ensure_vpc(ec2, spec.vpc_id, spec.vpc_cidr, report)
    for vpc_id, cidr in spec.application_vpcs.items():
        _ensure_vpc(ec2, vpc_id, cidr, report)
    if spec.vpc_id:
        _ensure_subnets(ec2, spec, report)
    for table_id in spec.route_table_ids:
        _ensure_in_vpc(ec2, "route table", table_id, spec.vpc_id, report)
    for group_id in spec.security_group_ids:
        _ensure_in_vpc(ec2, "security group", group_id, spec.vpc_id, report)
    for gateway_id in spec.transit_gateway_ids:
        _ensure_transit_gateway(ec2, gateway_id, report)
    return report


def _require_loopback(endpoint_url: str | None) -> None:
    host = urllib.parse.urlsplit(endpoint_url or "").hostname
    if host not in LOOPBACK_HOSTS:
        raise FixtureSpecError(
            f"emulator fixtures are seeded only on a loopback endpoint, not {endpoint_url or 'AWS'}: "
            "in an AWS account the existing network must already be there"
        )


def ec2_client(endpoint_url: str, region: str) -> Ec2Client:
    _require_loopback(endpoint_url)
    import boto3  # noqa: PLC0415  (only the CLI builds its own client)

    client_factory: Any = boto3.client
    return client_factory("ec2", region_name=region, endpoint_url=endpoint_url, **EMULATOR_KEYS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.emulator_fixtures", description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", required=True, help="the emulator's URL (loopback only)")
    parser.add_argument("--region", default="us-east-1")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--spec-json", help="the ExistingNetwork as a JSON object")
    source.add_argument("--spec-file", help="a file holding that JSON object")
    parser.add_argument("--json", action="store_true", help="print {created, existing} as JSON")
    args = parser.parse_args(argv)
    try:
        if args.spec_file:
            with open(args.spec_file, encoding="utf-8") as handle:
                raw = handle.read()
        else:
            raw = args.spec_json
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise FixtureSpecError("the spec must be a JSON object")
        spec = ExistingNetwork.from_mapping(data)
        report = seed_existing_network(ec2_client(args.endpoint_url, args.region), spec)
    except (FixtureSpecError, FixtureShapeError, json.JSONDecodeError, OSError, BotoCoreError, ClientError) as error:
        print(f"emulator fixtures: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"created": report.created, "existing": report.existing}))
    else:
        print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
