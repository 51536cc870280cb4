"""No attribute that looks like a credential holds a literal value."""

from __future__ import annotations

import re
from typing import Any

from lib.policy.model import Finding, SynthesizedStack, is_reference

RULE = "no-plaintext-secrets"
SECRETISH = re.compile(r"password|secret|token|private_key|access_key", re.IGNORECASE)
# Attributes whose names match but which name a secret rather than hold one, or are switches.
NOT_SECRET_VALUES = re.compile(r"(_arn|_id|_name|_kms_key_id|_length|_enabled|^manage_master_user_password)$")


def check(stack: SynthesizedStack) -> list[Finding]:
    findings: list[Finding] = []
    for address, body in stack.all_resources():
        for path, value in _leaves(body, ""):
            key = path.rsplit(".", 1)[-1]
            if SECRETISH.search(key) and not NOT_SECRET_VALUES.search(key) and _is_literal(value):
                findings.append(
                    Finding(RULE, address, f"{path.lstrip('.')} holds a literal value: reference Secrets Manager instead")
                )
    return findings


def _is_literal(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and value != "" and not is_reference(value)


def _leaves(node: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [leaf for index, value in enumerate(node) for leaf in _leaves(value, path)]
    return [(path, node)]
