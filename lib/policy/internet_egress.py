"""A stack that reaches a source over the internet does so narrowly (network.source_access = "internet").

With a NAT gateway in the stack: every route through a NAT gateway names one address (a /32, the source's),
never a wider block or 0.0.0.0/0; no subnet gives public IPs on launch (the public subnets hold the NAT
gateways only); and every DMS source endpoint of a database engine verifies the server's certificate
(`verify-full`), since anyone on the internet path could otherwise pose as the source. DMS itself stays not
publicly accessible (no-public-access): it reaches out through NAT, nothing reaches in.
"""

from __future__ import annotations

from lib.policy.model import Finding, SynthesizedStack
from lib.policy.source_ssl import DATABASE_ENGINES

RULE = "internet-egress-scoped"
HOST_SUFFIX = "/32"


def check(stack: SynthesizedStack) -> list[Finding]:
    if not any(True for _ in stack.resources("aws_nat_gateway")):
        return []
    findings: list[Finding] = []
    for address, body in stack.resources("aws_route"):
        destination = body.get("destination_cidr_block")
        if body.get("nat_gateway_id") and not (isinstance(destination, str) and destination.endswith(HOST_SUFFIX)):
            findings.append(Finding(RULE, address, f"routes {destination!r} through a NAT gateway; route the source's /32 only"))
    for address, body in stack.resources("aws_subnet"):
        if body.get("map_public_ip_on_launch") is not False:
            findings.append(Finding(RULE, address, "map_public_ip_on_launch must be false (public subnets hold NAT only)"))
    for address, body in stack.resources("aws_dms_endpoint"):
        source = body.get("endpoint_type") == "source" and body.get("engine_name") in DATABASE_ENGINES
        if source and body.get("ssl_mode") != "verify-full":
            mode = body.get("ssl_mode")
            findings.append(
                Finding(RULE, address, f"ssl_mode is {mode!r} on a source reached over the internet: use verify-full")
            )
    return findings
