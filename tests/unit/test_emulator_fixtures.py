"""Seeding a customer's existing network into the emulator (tools/emulator_fixtures.py).

Against a ThreadedMotoServer with the network patches (the `_custom_id_` tag picks EC2 IDs), and
once on stock moto, where seeding must refuse rather than create resources under other IDs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from tools import emulator_fixtures, moto_patches
from tools.emulator_fixtures import ExistingNetwork, FixtureShapeError, FixtureSpecError, seed_existing_network

from .moto_server import reset, serve

REGION = "us-east-1"
boto3_client: Callable[..., Any] = boto3.client

SPEC = {
    "vpc_id": "vpc-0abc1234def567890",
    "vpc_cidr": "10.50.0.0/16",
    "subnets": {"subnet-0aaa1111bbbb22223": "us-east-1a", "subnet-0ccc3333dddd44445": "us-east-1b"},
    "route_table_ids": ["rtb-0123456789abcdef0"],
    "security_group_ids": ["sg-0123456789abcdef0"],
    "transit_gateway_ids": ["tgw-0fedcba9876543210"],
    "application_vpcs": {"vpc-0def4567abc890123": "10.60.0.0/16"},
}
ALL_IDS = sorted(
    [
        SPEC["vpc_id"],
        *SPEC["subnets"],
        *SPEC["route_table_ids"],
        *SPEC["security_group_ids"],
        *SPEC["transit_gateway_ids"],
        *SPEC["application_vpcs"],
    ]
)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    yield from serve()


@pytest.fixture
def emulator(server_url: str) -> Iterator[str]:
    reset(server_url)
    with moto_patches.applied():
        yield server_url


@pytest.fixture
def ec2(emulator: str) -> Any:
    return emulator_fixtures.ec2_client(emulator, REGION)


def snapshot(ec2: Any) -> dict[str, Any]:
    return {
        "vpcs": sorted((v["VpcId"], v["CidrBlock"]) for v in ec2.describe_vpcs()["Vpcs"]),
        "subnets": sorted(
            (s["SubnetId"], s["VpcId"], s["CidrBlock"], s["AvailabilityZone"]) for s in ec2.describe_subnets()["Subnets"]
        ),
        "tables": sorted((t["RouteTableId"], t["VpcId"]) for t in ec2.describe_route_tables()["RouteTables"]),
        "groups": sorted((g["GroupId"], g["VpcId"]) for g in ec2.describe_security_groups()["SecurityGroups"]),
        "tgws": sorted(t["TransitGatewayId"] for t in ec2.describe_transit_gateways()["TransitGateways"]),
    }


def test_seeds_every_id_with_its_shape_and_a_second_call_changes_nothing(ec2: Any) -> None:
    spec = ExistingNetwork.from_mapping(SPEC)
    # The customer's VPC already holds a subnet: the seeded ones must not overlap it.
    first = seed_existing_network(ec2, ExistingNetwork(vpc_id=spec.vpc_id, vpc_cidr=spec.vpc_cidr))
    assert first.created == [spec.vpc_id]
    ec2.create_subnet(VpcId=spec.vpc_id, CidrBlock="10.50.0.0/24", AvailabilityZone="us-east-1c")

    report = seed_existing_network(ec2, spec)
    assert sorted(report.created) == sorted(set(ALL_IDS) - {spec.vpc_id})
    assert report.existing == [spec.vpc_id]
    state = snapshot(ec2)
    assert (spec.vpc_id, "10.50.0.0/16") in state["vpcs"]
    assert ("vpc-0def4567abc890123", "10.60.0.0/16") in state["vpcs"]
    seeded = {s[0]: s for s in state["subnets"] if s[0] in spec.subnets}
    assert {i: (s[1], s[3]) for i, s in seeded.items()} == {i: (spec.vpc_id, zone) for i, zone in spec.subnets.items()}
    assert sorted(s[2] for s in seeded.values()) == ["10.50.1.0/24", "10.50.2.0/24"]  # not 10.50.0.0/24, taken
    assert ("rtb-0123456789abcdef0", spec.vpc_id) in state["tables"]
    assert ("sg-0123456789abcdef0", spec.vpc_id) in state["groups"]
    assert "tgw-0fedcba9876543210" in state["tgws"]

    again = seed_existing_network(ec2, spec)
    assert again.created == []
    assert sorted(again.existing) == ALL_IDS
    assert snapshot(ec2) == state


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (
            lambda ec2: seed_existing_network(ec2, ExistingNetwork(vpc_id="vpc-0abc1234def567890", vpc_cidr="10.99.0.0/16")),
            r"VPC vpc-0abc1234def567890 exists with CIDR 10\.99\.0\.0/16, the spec gives it 10\.50\.0\.0/16",
        ),
        (
            lambda ec2: seed_existing_network(
                ec2,
                ExistingNetwork(
                    vpc_id="vpc-0abc1234def567890", vpc_cidr="10.50.0.0/16", subnets={"subnet-0aaa1111bbbb22223": "us-east-1c"}
                ),
            ),
            r"subnet subnet-0aaa1111bbbb22223 exists in vpc-0abc1234def567890 / us-east-1c, "
            r"the spec puts it in vpc-0abc1234def567890 / us-east-1a",
        ),
        (
            lambda ec2: seed_existing_network(
                ec2,
                ExistingNetwork(
                    vpc_id="vpc-0def4567abc890123", vpc_cidr="10.60.0.0/16", security_group_ids=["sg-0123456789abcdef0"]
                ),
            ),
            r"security group sg-0123456789abcdef0 exists in vpc-0def4567abc890123, the spec puts it in vpc-0abc1234def567890",
        ),
    ],
    ids=["vpc-cidr", "subnet-zone", "group-vpc"],
)
def test_an_id_that_exists_with_another_shape_is_named(ec2: Any, prepare: Callable[[Any], Any], message: str) -> None:
    prepare(ec2)
    with pytest.raises(FixtureShapeError, match=message):
        seed_existing_network(ec2, ExistingNetwork.from_mapping(SPEC))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vpc_id": "subnet-0abc"}, r"'subnet-0abc' is not a vpc ID"),
        ({"vpc_cidr": "10.0.0.0/8"}, r"a VPC is /16 to /28"),
        ({"subnets": {"sg-0123": "us-east-1a"}}, r"'sg-0123' is not a subnet ID"),
        ({"application_vpcs": {"vpc-0abc1234def567890": "10.50.0.0/16"}}, r"is the existing VPC itself"),
        ({"vpcid": "x"}, r"unknown spec keys: vpcid"),
        ({"subnet_cidrs": {"subnet-0eee": "10.50.9.0/24"}}, r"names subnet-0eee, which is not in subnets"),
        ({"subnet_cidrs": {"subnet-0aaa1111bbbb22223": "10.9.9.0/24"}}, r"not inside the VPC's 10\.50\.0\.0/16"),
    ],
)
def test_a_wrong_spec_is_refused_before_any_call(change: dict[str, Any], message: str) -> None:
    with pytest.raises(FixtureSpecError, match=message):
        ExistingNetwork.from_mapping({**SPEC, **change})


def test_only_a_loopback_endpoint_is_seeded() -> None:
    with pytest.raises(FixtureSpecError, match=r"only on a loopback endpoint"):
        emulator_fixtures.ec2_client("https://ec2.us-east-1.amazonaws.com", REGION)


def test_a_fixed_subnet_block_is_used_and_kept_out_of_the_free_ones(ec2: Any) -> None:
    spec = ExistingNetwork.from_mapping({**SPEC, "subnet_cidrs": {"subnet-0ccc3333dddd44445": "10.50.0.0/24"}})
    seed_existing_network(ec2, spec)
    blocks = {s["SubnetId"]: s["CidrBlock"] for s in ec2.describe_subnets(SubnetIds=list(spec.subnets))["Subnets"]}
    assert blocks == {"subnet-0ccc3333dddd44445": "10.50.0.0/24", "subnet-0aaa1111bbbb22223": "10.50.1.0/24"}
    moved = ExistingNetwork.from_mapping({**SPEC, "subnet_cidrs": {"subnet-0ccc3333dddd44445": "10.50.7.0/24"}})
    with pytest.raises(
        FixtureShapeError, match=r"us-east-1b / 10\.50\.0\.0/24, the spec puts it in .*us-east-1b / 10\.50\.7\.0/24"
    ):
        seed_existing_network(ec2, moved)


def test_stock_moto_is_refused_not_seeded_under_other_ids(server_url: str) -> None:
    reset(server_url)
    # moto_patches.PATCHES now include the custom-ID patch: stock moto is the server with no patch at all.
    assert not moto_patches.is_applied()
    ec2 = emulator_fixtures.ec2_client(server_url, REGION)
    with pytest.raises(FixtureShapeError, match=r"does not honour `_custom_id_`"):
        seed_existing_network(ec2, ExistingNetwork.from_mapping(SPEC))


def test_cli_seeds_and_reports(emulator: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--endpoint-url", emulator, "--spec-json", json.dumps(SPEC), "--json"]
    assert emulator_fixtures.main(argv) == 0
    assert sorted(json.loads(capsys.readouterr().out)["created"]) == ALL_IDS
    assert emulator_fixtures.main(argv) == 0
    assert json.loads(capsys.readouterr().out) == {"created": [], "existing": ALL_IDS_IN_ORDER}
    assert emulator_fixtures.main(["--endpoint-url", emulator, "--spec-json", '{"vpc_id": "vpc-0abc1234def567890"}']) == 1
    assert "vpc-0abc1234def567890" in capsys.readouterr().err
    assert (
        emulator_fixtures.main(
            ["--endpoint-url", emulator, "--spec-json", '{"subnets": {"subnet-0aaa1111bbbb22223": "us-east-1a"}}']
        )
        == 1
    )
    assert "give vpc_id and vpc_cidr" in capsys.readouterr().err


ALL_IDS_IN_ORDER = [
    SPEC["vpc_id"],
    *SPEC["application_vpcs"],
    *SPEC["subnets"],
    *SPEC["route_table_ids"],
    *SPEC["security_group_ids"],
    *SPEC["transit_gateway_ids"],
]


def test_the_deploy_seeds_what_each_shipped_config_names_by_id() -> None:
    """tools.emulator_support maps a config onto the fixture spec the emulator deploy seeds."""
    from lib.config import PROJECT_ROOT, load_config
    from tools.emulator_support import SEEDED_VPC_CIDR, existing_network_spec

    def spec(path: str) -> ExistingNetwork | None:
        return existing_network_spec(load_config(PROJECT_ROOT / path, env={}))

    assert spec("config/tap-migrate.toml") is None  # a new VPC with a VPN: nothing exists beforehand
    transit = spec("examples/004-onprem-postgres-to-aurora/tap-migrate.toml")
    assert transit is not None and transit.vpc_id == "" and transit.transit_gateway_ids == ("tgw-0fedcba9876543210",)
    assert list(transit.application_vpcs) == ["vpc-0a1b2c3d4e5f60718"]
    existing = spec("examples/005-existing-vpc/tap-migrate.toml")
    assert existing is not None and (existing.vpc_id, existing.vpc_cidr) == ("vpc-0abc1234def567890", SEEDED_VPC_CIDR)
    assert set(existing.subnets.values()) == {"us-east-1a", "us-east-1b"}
    assert set(existing.security_group_ids) == {"sg-0123456789abcdef0", "sg-0fedcba9876543210"}
