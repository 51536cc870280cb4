"""A Route 53 Resolver inbound endpoint: how on-premises DNS resolves the cutover's private names.

The weighted `reader.` / `writer.` records live in a private hosted zone, which only resolvers inside
associated VPCs answer for. On-premises DNS servers forward the zone's domain to this endpoint's IPs
(an output); its security group admits DNS (TCP and UDP 53) from the configured CIDRs only.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.route53_resolver_endpoint import Route53ResolverEndpoint, Route53ResolverEndpointIpAddress
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from lib.constructs.context import StackContext
from lib.constructs.stable_ids import cidr_id, moved_from_index

DNS_PORT = 53


class ResolverInbound(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        vpc_id: str,
        subnet_ids: Sequence[str],
        allowed_cidrs: Sequence[str],
    ) -> None:
        """`subnet_ids`: one per availability zone (the config guarantees two or more zones)."""
        super().__init__(scope, id_)
        prefix = context.prefix
        name = f"{prefix}-resolver-inbound"
        self.security_group = SecurityGroup(
            self,
            "sg",
            name=name,
            description="Route 53 Resolver inbound: DNS from the on-premises resolvers only",
            vpc_id=vpc_id,
            tags={"Name": name},
        )
        # Keyed by the CIDR (stable_ids.py): removing one DNS server's block leaves the others' rules alone.
        for index, cidr in enumerate(dict.fromkeys(allowed_cidrs)):
            for protocol in ("udp", "tcp"):
                rule = VpcSecurityGroupIngressRule(
                    self,
                    f"dns-{protocol}-{cidr_id(cidr)}",
                    security_group_id=self.security_group.id,
                    cidr_ipv4=cidr,
                    ip_protocol=protocol,
                    from_port=DNS_PORT,
                    to_port=DNS_PORT,
                    description=f"DNS queries ({protocol.upper()}) from {cidr}",
                )
                moved_from_index(rule, f"dns-{protocol}-{index}")
        # `protocols` and `resolver_endpoint_type` keep their AWS defaults (Do53, IPV4): left unset on purpose.
        self.endpoint = Route53ResolverEndpoint(
            self,
            "endpoint",
            name=name,
            direction="INBOUND",
            security_group_ids=[self.security_group.id],
            ip_address=[Route53ResolverEndpointIpAddress(subnet_id=subnet_id) for subnet_id in subnet_ids],
            tags={"Name": name},
        )

    @property
    def ip_addresses(self) -> str:
        """The endpoint's IPs (AWS picks one per subnet), as a Terraform list expression."""
        return f"${{[for address in {self.endpoint.fqn}.ip_address : address.ip]}}"
