"""No security group opens to every address: no 0.0.0.0/0 or ::/0 (or any /0) in a rule, in either direction.

The migration's traffic has known ends (the sources' CIDRs, Aurora, the VPC endpoints): an open rule is
always a mistake here. A CIDR given as a Terraform expression cannot be proven closed, so it is a finding.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

from lib.policy.model import Finding, SynthesizedStack

RULE = "no-open-security-group"
# Standalone rules (one CIDR each) and the legacy rule resource (lists).
SINGLE_CIDR_RULES = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
CIDR_LIST_KEYS = ("cidr_blocks", "ipv6_cidr_blocks")
VPC_BLOCK_REFERENCE = re.compile(r"\$\{(data\.)?aws_vpc\.[\w-]+\.cidr_block\}")


def check(stack: SynthesizedStack) -> list[Finding]:
    findings: list[Finding] = []
    for address, body in stack.resources(*SINGLE_CIDR_RULES):
        for key in ("cidr_ipv4", "cidr_ipv6"):
            findings += _judge(address, key, body.get(key))
    for address, body in stack.resources("aws_security_group_rule"):
        findings += [f for key, value in _listed(body, "") for f in _judge(address, key, value)]
    for address, body in stack.resources("aws_security_group"):
        for direction in ("ingress", "egress"):
            for index, block in enumerate(_blocks(body.get(direction))):
                findings += [f for key, value in _listed(block, f"{direction}[{index}].") for f in _judge(address, key, value)]
    return findings


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [block for block in value if isinstance(block, dict)] if isinstance(value, list) else []


def _listed(body: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    for key in CIDR_LIST_KEYS:
        values = body.get(key)
        for value in values if isinstance(values, list) else ([values] if values is not None else []):
            yield f"{where}{key}", value


def _judge(address: str, key: str, value: Any) -> list[Finding]:
    if value is None or VPC_BLOCK_REFERENCE.fullmatch(str(value)):
        return []  # a VPC's own block is never /0 (AWS allows /16 to /28)
    try:
        network = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return [Finding(RULE, address, f"{key} = {value!r} cannot be checked: give the CIDR as a literal")]
    if network.prefixlen == 0:
        return [
            Finding(
                RULE,
                address,
                f"{key} = {value} opens the group to every address: name the sources' CIDRs or a security group instead",
            )
        ]
    return []
