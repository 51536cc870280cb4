"""DMS table-mapping selection semantics, shared by the config's rules and the operator's database layer.

DMS semantics: `%` matches any run of characters and `_` exactly one (a literal one is written `[_]`,
a literal percent `[%]`); a table is selected when an include or explicit rule matches it and no
exclude rule does, whatever the rule order; `explicit` names exactly one table without wildcards.
Transformation, table-settings and other rule types do not select anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ACTIONS = ("include", "exclude", "explicit")


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("[_]", index) or pattern.startswith("[%]", index):
            parts.append(re.escape(pattern[index + 1]))
            index += 3
            continue
        char = pattern[index]
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)


def pattern_matches(pattern: str, name: str) -> bool:
    return _compile(pattern).fullmatch(name) is not None


@dataclass(frozen=True)
class Selection:
    """One selection rule's locator and action."""

    schema_pattern: str
    table_pattern: str
    action: str

    def matches(self, schema: str, table: str) -> bool:
        if self.action == "explicit":
            return (schema, table) == (self.schema_pattern, self.table_pattern)
        return pattern_matches(self.schema_pattern, schema) and pattern_matches(self.table_pattern, table)


def selected(rules: Iterable[Selection], schema: str, table: str) -> bool:
    """Whether the rules select schema.table: an include or explicit rule matches and no exclude does."""
    rules = list(rules)
    included = any(rule.matches(schema, table) for rule in rules if rule.action in ("include", "explicit"))
    return included and not any(rule.matches(schema, table) for rule in rules if rule.action == "exclude")


def selections(document: Mapping[str, Any]) -> list[Selection]:
    """The well-formed selection rules of a mappings document (the config's own check reports malformed ones)."""
    found: list[Selection] = []
    for rule in document.get("rules") or []:
        if not isinstance(rule, dict) or rule.get("rule-type") != "selection":
            continue
        locator = rule.get("object-locator")
        if not isinstance(locator, dict) or rule.get("rule-action") not in ACTIONS:
            continue
        schema, table = locator.get("schema-name"), locator.get("table-name", "%")
        if isinstance(schema, str) and isinstance(table, str) and schema and table:
            found.append(Selection(schema, table, str(rule["rule-action"])))
    return found
