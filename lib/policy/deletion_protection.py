"""In the prod profile, databases cannot be deleted by a stray destroy, and leave a final snapshot."""

from __future__ import annotations

from lib.policy.model import Finding, SynthesizedStack

RULE = "prod-deletion-protection"


def check(stack: SynthesizedStack) -> list[Finding]:
    if stack.profile != "prod":
        return []
    findings: list[Finding] = []
    for address, body in stack.resources("aws_rds_cluster", "aws_db_instance"):
        if body.get("deletion_protection") is not True:
            findings.append(Finding(RULE, address, "deletion_protection must be true in prod"))
        if body.get("skip_final_snapshot") is True:
            findings.append(Finding(RULE, address, "skip_final_snapshot must be false in prod"))
    return findings
