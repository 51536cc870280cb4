"""IAM policy documents as plain JSON text (tokens inside resolve to Terraform references).

Plain JSON, not `jsonencode(...)`, so the policy gate and the unit tests can parse every
policy straight out of the synthesized stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any


def statement(
    sid: str,
    actions: Iterable[str],
    resources: Iterable[str] | str,
    principal: Mapping[str, Any] | None = None,
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions)}
    body["Resource"] = resources if isinstance(resources, str) else list(resources)
    if principal is not None:
        body["Principal"] = dict(principal)
    if condition is not None:
        body["Condition"] = dict(condition)
    return body


def document(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(*services: str) -> str:
    return document(
        {"Sid": "AssumeByService", "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": sorted(services)}}
    )
