"""Issue 28 item 7: a source reachable only over the internet (`network.source_access = "internet"`).

Example 000 (seed 000) synthesized: an internet gateway, public subnets that hold only the NAT gateway, a
route per source address (/32) through it, DMS egress to that address only, `verify-full` on the source
endpoint; `nat_gateways = "per_zone"` gives each zone its own NAT gateway and private route table. Every bad
config is refused before synth naming the field and the fix, and the policy gate's rule catches a stack that
opens more than that. The default stays private: no NAT, no internet gateway.
"""

from __future__ import annotations

import copy
import functools
import json
import tomllib
from typing import Any

import pytest

from lib.config import PROJECT_ROOT, AppConfig, ConfigError, parse_config
from lib.constants import Output
from lib.policy import internet_egress
from lib.policy.model import SynthesizedStack

from .conftest import resources, synthesize

EXAMPLE = PROJECT_ROOT / "examples" / "000-postgres-s3-lakehouse" / "tap-migrate.toml"
SOURCE_ADDRESS = "203.0.113.25/32"


def raw_example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def config_with(change: dict[str, Any]) -> AppConfig:
    """Example 000 with `change` merged into its tables one level deep ({"network": {...}, "sources": {...}})."""
    raw = raw_example()
    for section, fields in change.items():
        if section == "sources":
            for key, body in fields.items():
                raw["sources"][key] = {**raw["sources"][key], **body}
        else:
            raw[section] = {**raw.get(section, {}), **fields}
    return parse_config(raw, env={}, config_file=EXAMPLE)


@functools.cache
def stack_of(nat_gateways: str) -> dict[str, Any]:
    stack: dict[str, Any] = json.loads(synthesize(config_with({"network": {"nat_gateways": nat_gateways}})))
    return stack


def bodies(stack: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return dict(resources(stack, resource_type))


def ref(name: str, attribute: str = "id") -> str:
    kind, _, local = name.partition(".")
    return f"${{{kind}.{local}.{attribute}}}"


def test_the_example_reaches_its_source_through_one_nat_gateway_to_its_address_only() -> None:
    stack = stack_of("single")
    (gateway,) = bodies(stack, "aws_internet_gateway")
    subnets = bodies(stack, "aws_subnet")
    public = {name: body for name, body in subnets.items() if name.startswith("internet-egress_public")}
    assert sorted(body["cidr_block"] for body in public.values()) == ["10.40.48.0/24", "10.40.49.0/24", "10.40.50.0/24"]
    assert all(body["map_public_ip_on_launch"] is False for body in subnets.values())
    ((nat_name, nat),) = bodies(stack, "aws_nat_gateway").items()
    ((eip_name, eip),) = bodies(stack, "aws_eip").items()
    assert eip["domain"] == "vpc" and nat["allocation_id"] == f"${{aws_eip.{eip_name}.allocation_id}}"
    assert nat["subnet_id"] == f"${{aws_subnet.{next(n for n in public if 'public-0' in n)}.id}}"
    assert nat["depends_on"] == [f"aws_internet_gateway.{gateway}"]
    routes = bodies(stack, "aws_route")
    by_target = {(r["destination_cidr_block"], r.get("gateway_id") or r.get("nat_gateway_id")) for r in routes.values()}
    assert by_target == {
        ("0.0.0.0/0", f"${{aws_internet_gateway.{gateway}.id}}"),
        (SOURCE_ADDRESS, f"${{aws_nat_gateway.{nat_name}.id}}"),
    }
    (private_route,) = [r for r in routes.values() if r.get("nat_gateway_id")]
    assert private_route["route_table_id"].startswith("${aws_route_table.network_private-routes")
    egress = {(r.get("cidr_ipv4"), r["from_port"]) for r in bodies(stack, "aws_vpc_security_group_egress_rule").values()}
    assert {cidr for cidr, _ in egress if cidr} == {SOURCE_ADDRESS} and (SOURCE_ADDRESS, 5432) in egress
    (endpoint,) = bodies(stack, "aws_dms_endpoint").values()
    assert endpoint["ssl_mode"] == "verify-full" and endpoint["certificate_arn"].startswith("${aws_dms_certificate.")
    (instance,) = bodies(stack, "aws_dms_replication_instance").values()
    assert instance["publicly_accessible"] is False
    outputs = stack["output"]
    assert outputs[Output.NAT_PUBLIC_IPS]["value"] == [f"${{aws_eip.{eip_name}.public_ip}}"]
    assert outputs[Output.INTERNET_SOURCE_CIDRS]["value"] == [SOURCE_ADDRESS]
    assert outputs[Output.ON_PREMISES_CIDRS]["value"] == [] and outputs[Output.NETWORK_CONNECTION]["value"] == "none"


def test_per_zone_nat_gateways_give_each_zone_its_own_route_table_and_nat() -> None:
    stack = stack_of("per_zone")
    tables = bodies(stack, "aws_route_table")
    private_tables = sorted(name for name in tables if name.startswith("network_private-routes"))
    assert len(private_tables) == 3 and not any(name.startswith("network_private-routes_") for name in private_tables)
    associations = [a for a in bodies(stack, "aws_route_table_association").values() if "network_private" in a["subnet_id"]]
    assert sorted(a["route_table_id"] for a in associations) == sorted(f"${{aws_route_table.{t}.id}}" for t in private_tables)
    nats = bodies(stack, "aws_nat_gateway")
    assert len(nats) == 3 and len(bodies(stack, "aws_eip")) == 3
    assert len({nat["subnet_id"] for nat in nats.values()}) == 3
    nat_routes = [r for r in bodies(stack, "aws_route").values() if r.get("nat_gateway_id")]
    assert sorted((r["route_table_id"], r["nat_gateway_id"]) for r in nat_routes) == sorted(
        zip(
            [f"${{aws_route_table.{t}.id}}" for t in private_tables],
            [f"${{aws_nat_gateway.{n}.id}}" for n in sorted(nats)],
            strict=True,
        )
    )
    assert {r["destination_cidr_block"] for r in nat_routes} == {SOURCE_ADDRESS}
    (s3_endpoint,) = [e for e in bodies(stack, "aws_vpc_endpoint").values() if e["vpc_endpoint_type"] == "Gateway"]
    assert len(s3_endpoint["route_table_ids"]) == 3
    assert internet_egress.check(SynthesizedStack(stack)) == []


def test_the_profile_picks_the_nat_gateways_and_the_default_stays_private(stack_json: dict[str, Any]) -> None:
    assert config_with({}).network.nat_gateway_count == 1
    assert config_with({"project": {"profile": "prod"}}).network.nat_gateway_count == 3
    assert not bodies(stack_json, "aws_nat_gateway") and not bodies(stack_json, "aws_internet_gateway")
    assert Output.NAT_PUBLIC_IPS not in stack_json["output"]


def test_the_example_passes_the_internet_egress_policy_rule() -> None:
    assert internet_egress.check(SynthesizedStack(stack_of("single"))) == []


def test_the_policy_rule_catches_a_wide_nat_route_a_public_ip_subnet_and_an_unverified_source() -> None:
    stack = copy.deepcopy(stack_of("single"))
    (route,) = [r for r in stack["resource"]["aws_route"].values() if r.get("nat_gateway_id")]
    route["destination_cidr_block"] = "0.0.0.0/0"
    next(iter(stack["resource"]["aws_subnet"].values()))["map_public_ip_on_launch"] = True
    next(iter(stack["resource"]["aws_dms_endpoint"].values()))["ssl_mode"] = "require"
    messages = sorted(f.message for f in internet_egress.check(SynthesizedStack(stack)))
    assert len(messages) == 3, messages
    assert messages[0].startswith("map_public_ip_on_launch must be false")
    assert "routes '0.0.0.0/0' through a NAT gateway" in messages[1]
    assert messages[2].startswith("ssl_mode is 'require'") and "use verify-full" in messages[2]


def problems_of(change: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_with(change)
    return caught.value.problems


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ({"sources": {"django": {"ssl_mode": "require"}}}, "sources.django.ssl_mode", 'set ssl_mode = "verify-full"'),
        ({"sources": {"django": {"cidr_blocks": ["203.0.113.0/24"]}}}, "sources.django.cidr_blocks[0]", "not one address"),
        (
            {"sources": {"django": {"cidr_blocks": ["192.168.10.7/32"]}}},
            "sources.django.cidr_blocks[0]",
            "not an address the internet routes",
        ),
        (
            {"sources": {"django": {"cidr_blocks": ["100.64.1.2/32"]}}},
            "sources.django.cidr_blocks[0]",
            "give it as a /32, e.g. '203.0.113.25/32'",
        ),
        (
            {"sources": {"django": {"host": "198.51.100.7"}}},
            "sources.django.cidr_blocks",
            "must be exactly ['198.51.100.7/32']",
        ),
        ({"network": {"public_subnet_cidrs": ["10.40.48.0/24"]}}, "network.public_subnet_cidrs", "1 given"),
        (
            {"network": {"public_subnet_cidrs": ["10.40.48.0/24", "10.40.49.0/24", "10.40.8.0/24"]}},
            "network.public_subnet_cidrs[2]",
            "overlaps private_subnet_cidrs[0]",
        ),
        (
            {"network": {"public_subnet_cidrs": ["10.40.48.0/24", "10.40.48.0/25", "10.41.0.0/24"]}},
            "network.public_subnet_cidrs[1]",
            "overlaps public_subnet_cidrs[0]",
        ),
        (
            {"network": {"public_subnet_cidrs": ["10.40.48.0/24", "10.40.49.0/24", "10.41.0.0/24"]}},
            "network.public_subnet_cidrs[2]",
            "outside network.vpc_cidr",
        ),
        ({"network": {"source_access": "private"}}, "network.public_subnet_cidrs", 'only for source_access = "internet"'),
        ({"network": {"source_access": "public"}}, "network.source_access", "must be one of ['private', 'internet']"),
        ({"network": {"nat_gateways": "two"}}, "network.nat_gateways", "must be one of ['single', 'per_zone']"),
        (
            {"network": {"nat_gateways": "per_zone", "vpn": {"customer_gateway_ip": "198.51.100.10"}}},
            "network.nat_gateways",
            'set nat_gateways = "single", or connectivity = "external"',
        ),
    ],
)
def test_an_internet_source_that_is_not_narrow_and_verified_is_refused_naming_the_field(
    change: dict[str, Any], where: str, says: str
) -> None:
    problems = problems_of(change)
    assert any(p.startswith(f"{where}: ") and says in p for p in problems), problems


def test_an_existing_vpc_cannot_take_internet_access() -> None:
    raw = raw_example()
    raw["network"] = {
        "mode": "existing",
        "source_access": "internet",
        "vpc_id": "vpc-0abc1234def567890",
        "subnets": {"subnet-0aaa1111bbbb22223": "us-east-1a", "subnet-0ccc3333dddd44445": "us-east-1b"},
        "route_table_ids": ["rtb-0123456789abcdef0"],
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, env={}, config_file=EXAMPLE)
    assert any(
        p.startswith("network.source_access: ") and "existing VPC's internet egress is its owner's" in p
        for p in caught.value.problems
    ), caught.value.problems


def test_without_a_ca_the_internet_source_names_the_certificate_field() -> None:
    problems = problems_of({"sources": {"django": {"ca_certificate_file": ""}}})
    assert any(p.startswith("sources.django.ca_certificate_file: ") for p in problems), problems
