"""Rules and routes made per CIDR are keyed by the CIDR (lib/constructs/stable_ids.py), not by list index.

Removing the middle one of three CIDRs must change exactly that CIDR's resources' addresses (so Terraform
destroys those and replaces nothing), and a stack deployed with index-keyed addresses must be moved, not
replaced: each keyed resource carries a `moved` block from the address cdktf gave it before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lib.constructs.stable_ids import address_of, cidr_id, unique_id
from tests.unit.conftest import config_from, synthesize

FIXTURES = Path(__file__).parent / "fixtures" / "plans"

KEYED_TYPES = (
    "aws_vpc_security_group_egress_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpn_connection_route",
    "aws_route",
)
A, B, C = "10.50.0.0/16", "10.60.0.0/16", "10.70.0.0/16"


def addresses(stack: dict[str, Any]) -> set[str]:
    return {f"{kind}.{name}" for kind, body in stack.get("resource", {}).items() for name in body}


def moves(stack: dict[str, Any]) -> dict[str, str]:
    """to -> from of every `moved` block."""
    return {move["to"]: move["from"] for move in stack.get("moved", [])}


def stack_with(overrides: dict[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(synthesize(config_from(overrides)))
    return parsed


def test_the_port_of_cdktfs_logical_ids_matches_every_id_cdktf_allocated(base_stack: Any) -> None:
    from cdktf import TerraformResource

    checked = 0
    for construct in base_stack.node.find_all():
        if isinstance(construct, TerraformResource):
            assert address_of(construct) == f"{construct.terraform_resource_type}.{construct.friendly_unique_id}"
            checked += 1
    assert checked > 50


def test_cidr_ids_name_the_block() -> None:
    assert cidr_id("10.0.0.0/16") == "10-0-0-0-16"
    assert cidr_id("2001:db8::/32") == "2001-db8---32"


@pytest.mark.parametrize(
    ("overrides", "removed_kinds"),
    [
        # The source's blocks: a DMS egress rule and a VPN route each.
        ({"sources": {"onprem": {"cidr_blocks": [A, B, C]}}}, {"aws_vpc_security_group_egress_rule", "aws_vpn_connection_route"}),
        # The DNS servers' blocks: a UDP and a TCP rule each, and (outside the source's) a VPN route.
        (
            {"network": {"resolver": {"allowed_cidrs": [A, B, C]}}},
            {"aws_vpc_security_group_ingress_rule", "aws_vpn_connection_route"},
        ),
    ],
)
def test_removing_a_middle_cidr_changes_only_that_cidrs_addresses(overrides: dict[str, Any], removed_kinds: set[str]) -> None:
    three = stack_with(overrides)
    section, entry = next(iter(overrides.items()))
    key, fields = next(iter(entry.items()))
    field = next(iter(fields))
    two = stack_with({section: {key: {field: [A, C]}}})
    gone, added = addresses(three) - addresses(two), addresses(two) - addresses(three)
    assert added == set(), "nothing new appears: the rules and routes of A and C keep their addresses"
    assert gone and all(cidr_id(B) in address for address in gone), gone
    assert {address.split(".", 1)[0] for address in gone} == removed_kinds
    per_kind = {kind: sum(a.startswith(f"{kind}.") for a in gone) for kind in removed_kinds}
    # one rule or route per kind for B, except the resolver's two protocols
    assert all(count == (2 if kind == "aws_vpc_security_group_ingress_rule" else 1) for kind, count in per_kind.items()), per_kind


def test_transit_gateway_routes_are_keyed_by_cidr() -> None:
    tgw = {"network": {"vpn": None, "transit_gateway_id": "tgw-0123456789abcdef0"}}
    three = stack_with({**tgw, "sources": {"onprem": {"cidr_blocks": [A, B, C]}}})
    two = stack_with({**tgw, "sources": {"onprem": {"cidr_blocks": [A, C]}}})
    routes = {name for name in three["resource"]["aws_route"] if cidr_id(B) in name}
    assert len(routes) == 1
    assert addresses(three) - addresses(two) == {f"aws_route.{name}" for name in routes} | {
        f"aws_vpc_security_group_egress_rule.{name}"
        for name in three["resource"]["aws_vpc_security_group_egress_rule"]
        if cidr_id(B) in name
    }
    assert addresses(two) - addresses(three) == set()


def test_a_stack_deployed_with_index_keys_is_moved_not_replaced(stack_json: dict[str, Any]) -> None:
    """The `from` of each move is the address cdktf gave the resource at that index (tests/snapshots/base.json
    before this change, and the recorded plans in tests/unit/fixtures/plans)."""
    moved = moves(stack_json)
    assert moved == {
        "aws_vpc_security_group_egress_rule." + unique_id(["network", "dms-to-onprem-192-168-0-0-16"]): (
            "aws_vpc_security_group_egress_rule.network_dms-to-onprem-0_5423B08E"
        ),
        "aws_vpc_security_group_ingress_rule." + unique_id(["network", "aurora-from-apps-192-168-20-0-24"]): (
            "aws_vpc_security_group_ingress_rule.network_aurora-from-apps-0_75D12476"
        ),
        "aws_vpc_security_group_ingress_rule."
        + unique_id(["resolver", "dns-tcp-192-168-10-0-24"]): "aws_vpc_security_group_ingress_rule.resolver_dns-tcp-0_1D5097CB",
        "aws_vpc_security_group_ingress_rule."
        + unique_id(["resolver", "dns-udp-192-168-10-0-24"]): "aws_vpc_security_group_ingress_rule.resolver_dns-udp-0_D63D6A5B",
        "aws_vpn_connection_route." + unique_id(["on-premises", "vpn-route-192-168-0-0-16"]): (
            "aws_vpn_connection_route.on-premises_vpn-route-0_866A62BD"
        ),
    }
    # every move lands on a resource of the stack, and no old address is still declared
    declared = addresses(stack_json)
    assert set(moved) <= declared and not set(moved.values()) & declared
    assert all(address.split(".", 1)[0] in KEYED_TYPES for address in moved)


def test_recorded_plan_removing_a_middle_cidr_destroys_only_its_rule_and_route() -> None:
    """Recorded against the emulator: the default config deployed with source.cidr_blocks = [192.168.0.0/16,
    172.16.0.0/16, 10.99.0.0/16], then planned with the middle one removed."""
    from tools.plan_guard import PlanChanges

    plan = json.loads((FIXTURES / "remove-middle-cidr.json").read_text())
    changed = {r["address"]: r["change"]["actions"] for r in plan["resource_changes"] if r["change"]["actions"] != ["no-op"]}
    assert all(actions == ["delete"] for actions in changed.values())
    assert {address.split(".", 1)[0] for address in changed} == {"aws_vpc_security_group_egress_rule", "aws_vpn_connection_route"}
    assert all(cidr_id("172.16.0.0/16") in address for address in changed) and len(changed) == 2
    assert PlanChanges.of(plan).sentence() == "0 to add, 0 to change, 2 to destroy"


def test_recorded_plan_removing_a_middle_cidr_through_the_transit_gateway_destroys_only_its_route_and_rule() -> None:
    """The same against example 004 (transit gateway) deployed with three source CIDRs."""
    plan = json.loads((FIXTURES / "tgw-route-remove.json").read_text())
    changed = {r["address"]: r["change"]["actions"] for r in plan["resource_changes"] if r["change"]["actions"] != ["no-op"]}
    assert sorted(address.split(".", 1)[0] for address in changed) == ["aws_route", "aws_vpc_security_group_egress_rule"]
    assert all(actions == ["delete"] and cidr_id("172.16.0.0/16") in address for address, actions in changed.items())
    kept = [r["address"] for r in plan["resource_changes"] if r["type"] == "aws_route"]
    assert len(kept) == 3  # the routes of 192.168.0.0/16 and 10.99.0.0/16 stay, untouched
