"""Issue 16: the network reaches on-premises, and on-premises reaches the cutover's names.

One synthesized stack per connection choice (the base config's VPN, example 004's transit gateway, example
005's existing VPC), and every bad network config refused before synth, naming the field and the fix.
"""

from __future__ import annotations

import functools
import json
import tomllib
from typing import Any

import pytest

from lib.config import PROJECT_ROOT, ConfigError, load_config, parse_config
from lib.constants import Output

from .conftest import BASE_CONFIG, config_from, resources, synthesize

EXAMPLES = PROJECT_ROOT / "examples"
TGW = "tgw-0fedcba9876543210"


@functools.cache
def example(name: str) -> dict[str, Any]:
    stack: dict[str, Any] = json.loads(synthesize(load_config(EXAMPLES / name / "tap-migrate.toml", env={})))
    return stack


def bodies(stack: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return list(resources(stack, resource_type).values())


def test_the_base_vpn_routes_every_on_premises_cidr_and_propagates_into_the_private_table(stack_json: dict[str, Any]) -> None:
    [connection] = bodies(stack_json, "aws_vpn_connection")
    assert connection["static_routes_only"] is True and connection["type"] == "ipsec.1"
    [customer] = bodies(stack_json, "aws_customer_gateway")
    assert customer == {**customer, "ip_address": "198.51.100.10", "bgp_asn": "65000", "type": "ipsec.1"}
    assert [r["destination_cidr_block"] for r in bodies(stack_json, "aws_vpn_connection_route")] == ["192.168.0.0/16"]
    [propagation] = bodies(stack_json, "aws_vpn_gateway_route_propagation")
    assert propagation["route_table_id"].startswith("${aws_route_table.network_private-routes")
    assert stack_json["output"][Output.NETWORK_CONNECTION]["value"] == "vpn"
    assert stack_json["output"][Output.ON_PREMISES_CIDRS]["value"] == ["192.168.0.0/16"]
    assert not bodies(stack_json, "aws_ec2_transit_gateway_vpc_attachment")


def test_the_resolver_admits_dns_only_from_the_configured_servers(stack_json: dict[str, Any]) -> None:
    [endpoint] = bodies(stack_json, "aws_route53_resolver_endpoint")
    assert endpoint["direction"] == "INBOUND" and len(endpoint["ip_address"]) >= 2
    # AWS defaults, left unset so that a plan after apply stays empty (see the emulator's patches).
    assert "protocols" not in endpoint and "resolver_endpoint_type" not in endpoint
    rules = [r for r in bodies(stack_json, "aws_vpc_security_group_ingress_rule") if "resolver_sg" in r["security_group_id"]]
    assert sorted((r["ip_protocol"], r["from_port"], r["cidr_ipv4"]) for r in rules) == [
        ("tcp", 53, "192.168.10.0/24"),
        ("udp", 53, "192.168.10.0/24"),
    ]
    assert "ip_address : address.ip" in stack_json["output"][Output.RESOLVER_INBOUND_IPS]["value"]


def test_aurora_opens_its_port_to_the_application_networks_only(stack_json: dict[str, Any]) -> None:
    aurora_rules = [r for r in bodies(stack_json, "aws_vpc_security_group_ingress_rule") if "aurora-sg" in r["security_group_id"]]
    sources = sorted(r.get("cidr_ipv4") or r["referenced_security_group_id"].split(".")[1] for r in aurora_rules)
    assert sources == ["192.168.20.0/24", "network_dms-sg_43ECE4F2"]
    assert {(r["from_port"], r["to_port"]) for r in aurora_rules} == {(5432, 5432)}


def test_example_004_attaches_the_transit_gateway_and_routes_through_it() -> None:
    stack = example("004-onprem-postgres-to-aurora")
    [attachment] = bodies(stack, "aws_ec2_transit_gateway_vpc_attachment")
    assert attachment["transit_gateway_id"] == TGW and len(attachment["subnet_ids"]) == 3
    [route] = bodies(stack, "aws_route")
    assert route == {**route, "destination_cidr_block": "192.168.0.0/16", "transit_gateway_id": TGW}
    assert [d.split(".")[0] for d in route["depends_on"]] == ["aws_ec2_transit_gateway_vpc_attachment"]
    [zone] = bodies(stack, "aws_route53_zone")
    assert [v["vpc_id"] for v in zone["vpc"]][1:] == ["vpc-0a1b2c3d4e5f60718"]
    assert not bodies(stack, "aws_vpn_connection")


def test_example_005_builds_inside_the_existing_vpc_and_nothing_of_its_own_network() -> None:
    stack = example("005-existing-vpc")
    for absent in ("aws_vpc", "aws_subnet", "aws_route_table", "aws_flow_log", "aws_default_security_group", "aws_vpc_endpoint"):
        assert not bodies(stack, absent), absent
    assert {g["vpc_id"] for g in bodies(stack, "aws_security_group")} == {"vpc-0abc1234def567890"}
    [instance] = bodies(stack, "aws_dms_replication_instance")
    assert "sg-0123456789abcdef0" in instance["vpc_security_group_ids"] and len(instance["vpc_security_group_ids"]) == 2
    [group] = bodies(stack, "aws_dms_replication_subnet_group")
    assert sorted(group["subnet_ids"]) == ["subnet-0aaa1111bbbb22223", "subnet-0ccc3333dddd44445"]
    subnets = resources(stack.get("data", {}) and {"resource": stack["data"]}, "aws_subnet")
    conditions = [b["lifecycle"]["postcondition"][0] for b in subnets.values()]
    assert len(conditions) == 2 and all('self.vpc_id == "vpc-0abc1234def567890"' in c["condition"] for c in conditions)
    assert stack["output"][Output.NETWORK_CONNECTION]["value"] == "external"
    # No endpoints of its own (create_vpc_endpoints = false): DMS reaches the VPC's own over HTTPS, inside the VPC only.
    https = [r for r in bodies(stack, "aws_vpc_security_group_egress_rule") if r["from_port"] == 443]
    assert len(https) == 1
    assert https[0]["cidr_ipv4"].startswith("${data.aws_vpc.network_existing-vpc_") and https[0]["cidr_ipv4"].endswith(
        ".cidr_block}"
    )
    assert not [g for g in bodies(stack, "aws_security_group") if g["name"].endswith("-endpoints")]


EXISTING = {
    "mode": "existing",
    "vpc_id": "vpc-0abc1234def567890",
    "subnets": {"subnet-0aaa1111bbbb22223": "us-east-1a", "subnet-0ccc3333dddd44445": "us-east-1b"},
}


def refused_network(network: dict[str, Any]) -> list[str]:
    """The base config's [network] without its [network.vpn] table, with `network`'s keys set."""
    raw = tomllib.loads(BASE_CONFIG.read_text(encoding="utf-8"))
    raw["network"].pop("vpn")
    raw["network"].update(network)
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, env={}, config_file=BASE_CONFIG)
    return caught.value.problems


@pytest.mark.parametrize(
    ("network", "where", "says"),
    [
        ({}, "network", 'set network.transit_gateway_id = "tgw-…", add [network.vpn] with customer_gateway_ip, or set'),
        ({"transit_gateway_id": "tgw-nope"}, "network.transit_gateway_id", "is not a tgw id"),
        (
            {
                "transit_gateway_id": TGW,
                "vpc_cidr": "192.168.0.0/16",
                "private_subnet_cidrs": ["192.168.0.0/20", "192.168.16.0/20", "192.168.32.0/20"],
                "application_cidrs": [],
                "resolver": {"allowed_cidrs": ["192.168.10.0/24"]},
            },
            "network.transit_gateway_id",
            "no on-premises CIDR to route",
        ),
        ({"vpn": {"bgp_asn": 65000}}, "network.vpn.customer_gateway_ip", ""),
        ({"vpn": {"customer_gateway_ip": "10.1.2.3"}}, "network.vpn.customer_gateway_ip", "public IPv4"),
        ({"transit_gateway_id": TGW, "vpn": {"customer_gateway_ip": "198.51.100.10"}}, "network.vpn", "not both"),
        ({"resolver": {"allowed_cidrs": []}}, "network.resolver.allowed_cidrs", "give the on-premises DNS servers"),
        (
            {**EXISTING, "subnets": {"subnet-0aaa1111bbbb22223": "us-east-1a", "subnet-0ccc3333dddd44445": "us-east-1a"}},
            "network.subnets",
            "1 availability zone",
        ),
        ({**EXISTING, "transit_gateway_id": TGW}, "network.transit_gateway_id", 'only for mode = "new"'),
        ({**EXISTING, "vpc_id": ""}, "network.vpc_id", 'required with mode = "existing"'),
        ({"vpc_id": "vpc-0abc1234def567890", "connectivity": "external"}, "network.vpc_id", 'only for mode = "existing"'),
        (
            {"private_subnet_cidrs": ["10.20.0.0/20", "10.20.16.0/20", "10.99.0.0/20"], "connectivity": "external"},
            "network.private_subnet_cidrs[2]",
            "outside network.vpc_cidr",
        ),
        ({"application_cidrs": ["0.0.0.0/0"], "connectivity": "external"}, "network.application_cidrs[0]", "every address"),
        ({"create_vpc_endpoints": False}, "network.create_vpc_endpoints", "DMS could not read its secrets"),
    ],
)
def test_a_network_that_cannot_work_is_refused_naming_the_field(network: dict[str, Any], where: str, says: str) -> None:
    problems = refused_network(network)
    assert any(p.startswith(f"{where}: ") and says in p for p in problems), problems


def test_the_no_route_error_names_the_three_choices() -> None:
    [problem] = refused_network({})
    assert "transit_gateway_id" in problem and "[network.vpn]" in problem and 'connectivity = "external"' in problem


def test_associating_vpcs_with_a_zone_the_stack_does_not_own_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from({"cutover": {"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "associated_vpc_ids": ["vpc-0a1b2c3d4e5f60718"]}})
    problems = caught.value.problems
    assert any(p.startswith("cutover.associated_vpc_ids: ") for p in problems), problems
