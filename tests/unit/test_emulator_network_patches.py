"""The network patches (tools/moto_network_patches.py) against a real moto server.

Each scenario asserts the AWS behaviour one patch promises, through boto3 against a
ThreadedMotoServer on a free loopback port (the serving path the emulator uses). Every scenario runs
twice: with the patches, where it must pass, and on stock moto, where it must fail, so each one
proves that its patch is what makes the difference. Patches are applied per test and reverted after.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import moto.ec2.models.vpcs as vpcs_module
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from moto.ec2.models.vpcs import VPCBackend
from moto.ec2.responses.vpn_connections import VPNConnections

from tools import moto_network_patches, moto_patches

from .moto_server import reset, serve

REGION = "us-east-1"
ClientFactory = Callable[[str], Any]
boto3_client: Callable[..., Any] = boto3.client
# Stock moto answers HTTP 500 for the actions it lacks: fail at once instead of retrying.
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    yield from serve()


def factory(url: str) -> ClientFactory:
    def make(service: str) -> Any:
        return boto3_client(
            service,
            region_name=REGION,
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=NO_RETRIES,
        )

    return make


@pytest.fixture
def patched(server_url: str) -> Iterator[ClientFactory]:
    reset(server_url)
    with moto_patches.applied():
        yield factory(server_url)


@pytest.fixture
def stock(server_url: str) -> Iterator[ClientFactory]:
    reset(server_url)
    # moto_patches.PATCHES include the network patches: stock moto is the server with no patch at all.
    assert not moto_network_patches.is_network_applied() and not moto_patches.is_applied()
    yield factory(server_url)


def tags(resource_type: str, **values: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in values.items()]}]


def vpc_with_subnet(ec2: Any, cidr: str = "10.20.0.0/16") -> tuple[str, str]:
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet_cidr = cidr.replace(".0.0/16", ".1.0/24")
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock=subnet_cidr, AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    return vpc_id, subnet_id


def vpn(ec2: Any, *, static: bool) -> tuple[str, str]:
    vpc_id, _ = vpc_with_subnet(ec2)
    gateway = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpcId=vpc_id, VpnGatewayId=gateway)
    customer = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.10", BgpAsn=65000)["CustomerGateway"]
    connection = ec2.create_vpn_connection(
        Type="ipsec.1",
        CustomerGatewayId=customer["CustomerGatewayId"],
        VpnGatewayId=gateway,
        Options={"StaticRoutesOnly": static},
        TagSpecifications=tags("vpn-connection", Name="onprem"),
    )["VpnConnection"]
    return connection["VpnConnectionId"], gateway


# --- scenarios: one per patch ------------------------------------------------------------------


def tgw_attachment_keeps_tags(client: ClientFactory) -> None:
    ec2 = client("ec2")
    vpc_id, subnet_id = vpc_with_subnet(ec2)
    tgw = ec2.create_transit_gateway(Description="corp")["TransitGateway"]["TransitGatewayId"]
    created = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw,
        VpcId=vpc_id,
        SubnetIds=[subnet_id],
        TagSpecifications=tags("transit-gateway-attachment", Name="onprem"),
    )["TransitGatewayVpcAttachment"]
    assert created["Tags"] == [{"Key": "Name", "Value": "onprem"}]
    [described] = ec2.describe_transit_gateway_vpc_attachments(
        TransitGatewayAttachmentIds=[created["TransitGatewayAttachmentId"]]
    )["TransitGatewayVpcAttachments"]
    assert described["Tags"] == [{"Key": "Name", "Value": "onprem"}]


def tgw_attachment_is_described_deleted(client: ClientFactory) -> None:
    ec2 = client("ec2")
    vpc_id, subnet_id = vpc_with_subnet(ec2)
    tgw = ec2.create_transit_gateway(Description="corp")["TransitGateway"]["TransitGatewayId"]
    attachment_id = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc_id, SubnetIds=[subnet_id])[
        "TransitGatewayVpcAttachment"
    ]["TransitGatewayAttachmentId"]
    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id)

    by_id = ec2.describe_transit_gateway_vpc_attachments(TransitGatewayAttachmentIds=[attachment_id])
    assert [(a["TransitGatewayAttachmentId"], a["State"]) for a in by_id["TransitGatewayVpcAttachments"]] == [
        (attachment_id, "deleted")
    ]
    # Not in a listing without IDs, not matched by a filter it does not meet, and the VPC can attach again.
    assert ec2.describe_transit_gateway_vpc_attachments()["TransitGatewayVpcAttachments"] == []
    filtered = ec2.describe_transit_gateway_vpc_attachments(
        TransitGatewayAttachmentIds=[attachment_id], Filters=[{"Name": "state", "Values": ["available"]}]
    )
    assert filtered["TransitGatewayVpcAttachments"] == []
    ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc_id, SubnetIds=[subnet_id])


def vpn_connection_keeps_static_routes_only(client: ClientFactory) -> None:
    ec2 = client("ec2")
    static_id, _ = vpn(ec2, static=True)
    [connection] = ec2.describe_vpn_connections(VpnConnectionIds=[static_id])["VpnConnections"]
    assert connection["Options"]["StaticRoutesOnly"] is True
    assert connection["Tags"] == [{"Key": "Name", "Value": "onprem"}]


def vpn_connection_static_routes_round_trip(client: ClientFactory) -> None:
    ec2 = client("ec2")
    connection_id, _ = vpn(ec2, static=True)
    ec2.create_vpn_connection_route(VpnConnectionId=connection_id, DestinationCidrBlock="192.168.10.0/24")
    found = ec2.describe_vpn_connections(
        Filters=[
            {"Name": "vpn-connection-id", "Values": [connection_id]},
            {"Name": "route.destination-cidr-block", "Values": ["192.168.10.0/24"]},
        ]
    )["VpnConnections"]
    assert [c["VpnConnectionId"] for c in found] == [connection_id]
    assert found[0]["Routes"] == [{"DestinationCidrBlock": "192.168.10.0/24", "Source": "Static", "State": "available"}]

    ec2.delete_vpn_connection_route(VpnConnectionId=connection_id, DestinationCidrBlock="192.168.10.0/24")
    [after] = ec2.describe_vpn_connections(VpnConnectionIds=[connection_id])["VpnConnections"]
    assert after.get("Routes", []) == []
    with pytest.raises(ClientError, match=r"InvalidRoute\.NotFound"):
        ec2.delete_vpn_connection_route(VpnConnectionId=connection_id, DestinationCidrBlock="192.168.10.0/24")
    with pytest.raises(ClientError, match=r"InvalidVpnConnectionID\.NotFound"):
        ec2.create_vpn_connection_route(VpnConnectionId="vpn-0000000000000000f", DestinationCidrBlock="10.9.0.0/16")


def vgw_route_propagation_round_trip(client: ClientFactory) -> None:
    ec2 = client("ec2")
    _, gateway = vpn(ec2, static=False)
    vpc_id = ec2.describe_vpn_gateways(VpnGatewayIds=[gateway])["VpnGateways"][0]["VpcAttachments"][0]["VpcId"]
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]

    ec2.enable_vgw_route_propagation(RouteTableId=table, GatewayId=gateway)
    ec2.enable_vgw_route_propagation(RouteTableId=table, GatewayId=gateway)  # once only
    [described] = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"]
    assert described["PropagatingVgws"] == [{"GatewayId": gateway}]

    ec2.disable_vgw_route_propagation(RouteTableId=table, GatewayId=gateway)
    [described] = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"]
    assert described.get("PropagatingVgws", []) == []
    with pytest.raises(ClientError, match=r"InvalidVpnGatewayID\.NotFound"):
        ec2.enable_vgw_route_propagation(RouteTableId=table, GatewayId="vgw-0000000000000000f")


def resolver_endpoint_keeps_name_and_fields(client: ClientFactory) -> None:
    ec2, resolver = client("ec2"), client("route53resolver")
    vpc_id, subnet_id = vpc_with_subnet(ec2)
    second = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="resolver", Description="resolver", VpcId=vpc_id)["GroupId"]
    created = resolver.create_resolver_endpoint(
        CreatorRequestId="tap-1",
        Name="inbound",
        Direction="INBOUND",
        SecurityGroupIds=[group],
        IpAddresses=[{"SubnetId": subnet_id, "Ip": "10.20.1.10"}, {"SubnetId": second}],
    )["ResolverEndpoint"]
    assert (created["Protocols"], created["ResolverEndpointType"]) == (["Do53"], "IPV4")

    resolver.update_resolver_endpoint(ResolverEndpointId=created["Id"], Protocols=["Do53", "DoH"])
    endpoint = resolver.get_resolver_endpoint(ResolverEndpointId=created["Id"])["ResolverEndpoint"]
    assert (endpoint["Name"], endpoint["Protocols"]) == ("inbound", ["Do53", "DoH"])
    resolver.update_resolver_endpoint(ResolverEndpointId=created["Id"], Name="renamed")
    assert resolver.get_resolver_endpoint(ResolverEndpointId=created["Id"])["ResolverEndpoint"]["Name"] == "renamed"


def ec2_resources_take_custom_ids(client: ClientFactory) -> None:
    ec2 = client("ec2")
    custom = "_custom_id_"
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16", TagSpecifications=tags("vpc", **{custom: "vpc-0abc1234def567890"}, Name="x"))
    assert vpc["Vpc"]["VpcId"] == "vpc-0abc1234def567890"
    assert vpc["Vpc"]["Tags"] == [{"Key": "Name", "Value": "x"}]  # the steering tag is not stored
    subnet = ec2.create_subnet(
        VpcId="vpc-0abc1234def567890",
        CidrBlock="10.50.1.0/24",
        AvailabilityZone="us-east-1b",
        TagSpecifications=tags("subnet", **{custom: "subnet-0aaa1111bbbb22223"}),
    )["Subnet"]
    assert (subnet["SubnetId"], subnet["AvailabilityZone"]) == ("subnet-0aaa1111bbbb22223", "us-east-1b")
    group = ec2.create_security_group(
        GroupName="app",
        Description="app",
        VpcId="vpc-0abc1234def567890",
        TagSpecifications=tags("security-group", **{custom: "sg-0123456789abcdef0"}),
    )
    assert group["GroupId"] == "sg-0123456789abcdef0"
    table = ec2.create_route_table(
        VpcId="vpc-0abc1234def567890", TagSpecifications=tags("route-table", **{custom: "rtb-0123456789abcdef0"})
    )
    assert table["RouteTable"]["RouteTableId"] == "rtb-0123456789abcdef0"
    tgw = ec2.create_transit_gateway(TagSpecifications=tags("transit-gateway", **{custom: "tgw-0fedcba9876543210"}))
    assert tgw["TransitGateway"]["TransitGatewayId"] == "tgw-0fedcba9876543210"
    # What the VPC creates by itself (main route table, default group) still gets generated IDs.
    defaults = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": ["vpc-0abc1234def567890"]}])
    assert sorted(g["GroupId"] for g in defaults["SecurityGroups"] if g["GroupName"] == "default") != ["sg-0123456789abcdef0"]
    assert len(ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": ["vpc-0abc1234def567890"]}])["RouteTables"]) == 2

    # A taken ID or one of another kind is a client error, not HTTP 500; nothing is created.
    with pytest.raises(ClientError, match=r"InvalidParameterValue.*exists already"):
        ec2.create_vpc(CidrBlock="10.51.0.0/16", TagSpecifications=tags("vpc", **{custom: "vpc-0abc1234def567890"}))
    with pytest.raises(ClientError, match=r"InvalidParameterValue.*exists already"):
        ec2.create_subnet(
            VpcId="vpc-0abc1234def567890",
            CidrBlock="10.50.2.0/24",
            TagSpecifications=tags("subnet", **{custom: "subnet-0aaa1111bbbb22223"}),
        )
    with pytest.raises(ClientError, match=r"InvalidParameterValue.*not a vpc ID"):
        ec2.create_vpc(CidrBlock="10.52.0.0/16", TagSpecifications=tags("vpc", **{custom: "subnet-0abc"}))
    assert len(ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.51.0.0/16", "10.52.0.0/16"]}])["Vpcs"]) == 0
    # Without the tag, IDs are generated as before.
    assert ec2.create_vpc(CidrBlock="10.53.0.0/16")["Vpc"]["VpcId"] != "vpc-0abc1234def567890"


SCENARIOS: dict[str, Callable[[ClientFactory], None]] = {
    "patch_tgw_vpc_attachment_tags": tgw_attachment_keeps_tags,
    "patch_tgw_vpc_attachment_deleted_state": tgw_attachment_is_described_deleted,
    "patch_vpn_connection_options": vpn_connection_keeps_static_routes_only,
    "patch_vpn_connection_routes": vpn_connection_static_routes_round_trip,
    "patch_vgw_route_propagation": vgw_route_propagation_round_trip,
    "patch_resolver_endpoint_fields": resolver_endpoint_keeps_name_and_fields,
    "patch_ec2_custom_ids": ec2_resources_take_custom_ids,
}


def test_every_patch_has_a_scenario() -> None:
    assert sorted(SCENARIOS) == sorted(patch.__name__ for patch in moto_network_patches.NETWORK_PATCHES)


@pytest.mark.parametrize("patch_name", sorted(SCENARIOS))
def test_patched_moto_answers_like_aws(patch_name: str, patched: ClientFactory) -> None:
    SCENARIOS[patch_name](patched)


@pytest.mark.parametrize("patch_name", sorted(SCENARIOS))
def test_stock_moto_fails_the_scenario(patch_name: str, stock: ClientFactory) -> None:
    # An assertion, a client error, or (an action moto lacks) the HTTP 500 page botocore cannot parse.
    with pytest.raises((AssertionError, ClientError, KeyError, ResponseParserError)):
        SCENARIOS[patch_name](stock)


# --- guards and revert --------------------------------------------------------------------------


def test_a_patch_fails_loudly_when_moto_implements_an_added_action(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(VPNConnections, "create_vpn_connection_route", lambda self: None, raising=False)
    with pytest.raises(moto_patches.MotoPatchError, match=r"create_vpn_connection_route exists now"):
        moto_network_patches.patch_vpn_connection_routes()


def test_a_patch_fails_loudly_when_the_generator_it_steers_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(vpcs_module, "random_vpc_id")
    with pytest.raises(moto_patches.MotoPatchError, match=r"random_vpc_id is gone"):
        moto_network_patches.patch_ec2_custom_ids()
    assert not moto_patches.is_applied()


def test_the_emulators_patches_include_the_network_patches_and_revert_them() -> None:
    before = {"generator": vars(vpcs_module)["random_vpc_id"], "create_vpc": vars(VPCBackend)["create_vpc"]}
    with moto_patches.applied() as names:
        assert {patch.__name__ for patch in moto_network_patches.NETWORK_PATCHES} <= set(names)
        assert moto_network_patches.is_network_applied()
        assert vars(vpcs_module)["random_vpc_id"] is not before["generator"]
    assert not moto_network_patches.is_network_applied()
    assert vars(vpcs_module)["random_vpc_id"] is before["generator"]
    assert vars(VPCBackend)["create_vpc"] is before["create_vpc"]


def test_importing_the_network_patches_does_not_import_moto_patches() -> None:
    # The arrow goes one way: moto_patches lists NETWORK_PATCHES; both share tools/moto_patch_base.py.
    code = "import sys, tools.moto_network_patches; sys.exit('tools.moto_patches' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], check=False).returncode == 0
