"""One loader for reviewed suppressions: the policy gate's (lib/policy/suppressions.toml) and checkov's
(tools/checkov/suppressions.toml). Each entry names what it silences, the resource (a glob) and why."""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path


class SuppressionError(ValueError):
    """A suppressions file names an unknown rule or lacks a resource or a reason."""


@dataclass(frozen=True)
class Suppression:
    rule: str  # a policy rule id, or a checkov check id
    resource: str  # a resource address or checkov resource name, glob allowed
    reason: str

    def matches(self, rule: str, resource: str) -> bool:
        return rule == self.rule and fnmatch.fnmatchcase(resource, self.resource)


def load_suppressions(path: Path, *, table: str, id_key: str, known: Collection[str] | None = None) -> list[Suppression]:
    """The `[[table]]` entries of `path` (none if it does not exist), each with `id_key`, `resource` and a reason."""
    raw = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    loaded: list[Suppression] = []
    for index, entry in enumerate(raw.get(table, [])):
        rule, resource, reason = entry.get(id_key, ""), entry.get("resource", ""), entry.get("reason", "").strip()
        if known is not None and rule not in known:
            raise SuppressionError(f"{path.name}: {table}[{index}].{id_key} {rule!r} is not a rule; use one of {sorted(known)}")
        if not rule or not resource or not reason:
            missing_id = "" if rule else f" (and a {id_key})"
            raise SuppressionError(f"{path.name}: {table}[{index}] needs a resource and a reason{missing_id}")
        loaded.append(Suppression(rule, resource, reason))
    return loaded
