"""Issue 16, checked on the deployment: the route to on-premises and the DNS way back in.

Read from the outputs (`network_connection`, `on_premises_cidrs`, the VPN connection or transit gateway
attachment, the resolver's endpoint and IPs) and compared with what EC2 and Route 53 Resolver report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lib.constants import Output

pytestmark = pytest.mark.integration
Client = Callable[[str], Any]


def _private_route_tables(outputs: dict[str, Any], aws: Client) -> list[dict[str, Any]]:
    ids = outputs[Output.PRIVATE_ROUTE_TABLE_IDS]
    return list(aws("ec2").describe_route_tables(RouteTableIds=ids)["RouteTables"]) if ids else []


def test_every_on_premises_cidr_has_a_route_through_the_connection(outputs: dict[str, Any], aws: Client) -> None:
    connection, cidrs = outputs[Output.NETWORK_CONNECTION], outputs[Output.ON_PREMISES_CIDRS]
    ec2 = aws("ec2")
    if connection == "vpn":
        (vpn,) = ec2.describe_vpn_connections(VpnConnectionIds=[outputs[Output.VPN_CONNECTION_ID]])["VpnConnections"]
        if vpn["Options"].get("StaticRoutesOnly"):
            assert sorted(route["DestinationCidrBlock"] for route in vpn["Routes"]) == sorted(cidrs)
        # The connection's routes (static or BGP) reach the private subnets through propagation.
        for table in _private_route_tables(outputs, aws):
            assert vpn["VpnGatewayId"] in [gateway["GatewayId"] for gateway in table["PropagatingVgws"]]
    elif connection == "transit_gateway":
        attachment_id = outputs[Output.TRANSIT_GATEWAY_ATTACHMENT_ID]
        (attachment,) = ec2.describe_transit_gateway_vpc_attachments(TransitGatewayAttachmentIds=[attachment_id])[
            "TransitGatewayVpcAttachments"
        ]
        assert attachment["VpcId"] == outputs[Output.VPC_ID] and attachment["State"] == "available"
        assert sorted(attachment["SubnetIds"]) == sorted(outputs[Output.PRIVATE_SUBNET_IDS])
        for table in _private_route_tables(outputs, aws):
            routed = {
                r["DestinationCidrBlock"]: r.get("TransitGatewayId") for r in table["Routes"] if "DestinationCidrBlock" in r
            }
            assert all(routed.get(cidr) == attachment["TransitGatewayId"] for cidr in cidrs), routed
    else:
        assert connection == "external", f"{connection!r}: a deployed stack with sources has a connection"
        assert Output.VPN_CONNECTION_ID not in outputs and Output.TRANSIT_GATEWAY_ATTACHMENT_ID not in outputs


def test_the_resolver_inbound_ips_are_the_endpoints_and_admit_dns_only(outputs: dict[str, Any], aws: Client) -> None:
    if Output.RESOLVER_ENDPOINT_ID not in outputs:
        pytest.skip("this stack has no [network.resolver]")
    resolver = aws("route53resolver")
    endpoint_id = outputs[Output.RESOLVER_ENDPOINT_ID]
    endpoint = resolver.get_resolver_endpoint(ResolverEndpointId=endpoint_id)["ResolverEndpoint"]
    assert endpoint["Direction"] == "INBOUND" and endpoint["HostVPCId"] == outputs[Output.VPC_ID]
    addresses = resolver.list_resolver_endpoint_ip_addresses(ResolverEndpointId=endpoint_id)["IpAddresses"]
    assert sorted(a["Ip"] for a in addresses) == sorted(outputs[Output.RESOLVER_INBOUND_IPS])
    assert {a["SubnetId"] for a in addresses} <= set(outputs[Output.PRIVATE_SUBNET_IDS])
    assert len(outputs[Output.RESOLVER_INBOUND_IPS]) >= 2
    groups = aws("ec2").describe_security_groups(GroupIds=endpoint["SecurityGroupIds"])["SecurityGroups"]
    permissions = [rule for group in groups for rule in group["IpPermissions"]]
    assert {(rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) for rule in permissions} == {("tcp", 53, 53), ("udp", 53, 53)}
    assert all(not rule["UserIdGroupPairs"] and r["CidrIp"] != "0.0.0.0/0" for rule in permissions for r in rule["IpRanges"])
