"""Every log group expires its logs: unbounded retention is unbounded cost and exposure."""

from __future__ import annotations

from lib.policy.model import Finding, SynthesizedStack

RULE = "log-retention"


def check(stack: SynthesizedStack) -> list[Finding]:
    return [
        Finding(RULE, address, "retention_in_days is not set")
        for address, body in stack.resources("aws_cloudwatch_log_group")
        if not isinstance(body.get("retention_in_days"), int) or body["retention_in_days"] <= 0
    ]
