"""What a rule sees (the synthesized stack) and what it returns (findings)."""

from __future__ import annotations

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


def is_reference(value: Any) -> bool:
    """A Terraform expression (resolved at apply time), as opposed to a literal."""
    return isinstance(value, str) and "${" in value


def references(resource_address: str) -> str:
    """The interpolation fragment other resources use to refer to this one."""
    return "${" + resource_address + "."
