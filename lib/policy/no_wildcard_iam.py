"""No IAM statement allows every action on every resource."""

from __future__ import annotations

from typing import Any

from lib.policy.model import Finding, SynthesizedStack

RULE = "no-wildcard-iam"
POLICY_ATTRIBUTES = {
    "aws_iam_role_policy": "policy",
    "aws_iam_policy": "policy",
    "aws_iam_role": "assume_role_policy",
    "aws_sns_topic_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_kms_key": "policy",
}


def check(stack: SynthesizedStack) -> list[Finding]:
    findings: list[Finding] = []
    for resource_type, attribute in POLICY_ATTRIBUTES.items():
        for address, body in stack.resources(resource_type):
            if attribute not in body:
                continue
            statements = stack.policy_statements(body[attribute])
            if statements is None:
                findings.append(
                    Finding(RULE, address, f"{attribute} is neither JSON nor an aws_iam_policy_document, so it cannot be checked")
                )
                continue
            for statement in statements:
                if statement.get("Effect") == "Allow" and _all(statement.get("Action")) and _all(statement.get("Resource")):
                    findings.append(
                        Finding(RULE, address, f"statement {statement.get('Sid', '?')!r} allows Action * on Resource *")
                    )
    return findings


def _all(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return "*" in values
