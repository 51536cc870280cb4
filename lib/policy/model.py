"""What a rule sees (the synthesized stack) and what it returns (findings)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    rule: str
    resource: str  # Terraform address, e.g. aws_sns_topic.notifications_topic_F6C4D4E7
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.resource}: {self.message}"


@dataclass(frozen=True)
class SynthesizedStack:
    document: dict[str, Any]

    def resources(self, *resource_types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for resource_type in resource_types:
            for name, body in self.document.get("resource", {}).get(resource_type, {}).items():
                yield f"{resource_type}.{name}", body

    def all_resources(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for resource_type, bodies in self.document.get("resource", {}).items():
            for name, body in bodies.items():
                yield f"{resource_type}.{name}", body

    def data(self, data_type: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = self.document.get("data", {}).get(data_type, {})
        return found

    def policy_statements(self, value: Any) -> list[dict[str, Any]] | None:
        """IAM-JSON statements of a policy attribute: plain JSON, a reference to an aws_iam_policy_document, or a
        `${jsonencode({...})}` of a document whose references sit inside its strings (the trust policies).

        None when the value is none of these (an expression the gate cannot read).
        """
        if not isinstance(value, str):
            return None
        match = POLICY_DOCUMENT_REFERENCE.fullmatch(value)
        if match:
            body = self.data("aws_iam_policy_document").get(match["name"])
            return None if body is None else [_iam_statement(s) for s in body.get("statement", [])]
        encoded = JSONENCODE.fullmatch(value)
        if encoded:
            # HCL object syntax `"key" = value` read as JSON; a bare reference outside a string fails to parse.
            value = encoded["body"].replace('" = ', '": ')
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return None
        statements = parsed.get("Statement", []) if isinstance(parsed, dict) else []
        return statements if isinstance(statements, list) else [statements]

    @property
    def profile(self) -> str:
        """The environment profile, read from the provider's default tags."""
        for provider in self.document.get("provider", {}).get("aws", []):
            for tags in provider.get("default_tags", []):
                profile = tags.get("tags", {}).get("Profile")
                if isinstance(profile, str):
                    return profile
        return ""


Rule = Callable[[SynthesizedStack], list[Finding]]

JSONENCODE = re.compile(r"\$\{jsonencode\((?P<body>.*)\)\}", re.S)
POLICY_DOCUMENT_REFERENCE = re.compile(r"\$\{data\.aws_iam_policy_document\.(?P<name>[\w-]+)\.json\}")


def _iam_statement(block: dict[str, Any]) -> dict[str, Any]:
    """An aws_iam_policy_document statement block in IAM JSON form (Sid, Effect, Action, Resource, ...)."""
    statement: dict[str, Any] = {
        "Sid": block.get("sid", ""),
        "Effect": block.get("effect", "Allow"),
        "Action": block.get("actions", []),
        "Resource": block.get("resources", []),
    }
    if block.get("principals"):
        statement["Principal"] = {p["type"]: p["identifiers"] for p in block["principals"]}
    if block.get("condition"):
        conditions: dict[str, dict[str, Any]] = {}
        for condition in block["condition"]:
            conditions.setdefault(condition["test"], {})[condition["variable"]] = condition["values"]
        statement["Condition"] = conditions
    return statement


def is_reference(value: Any) -> bool:
    """A Terraform expression (resolved at apply time), as opposed to a literal."""
    return isinstance(value, str) and "${" in value


def references(resource_address: str) -> str:
    """The interpolation fragment other resources use to refer to this one."""
    return "${" + resource_address + "."
