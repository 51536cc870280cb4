"""Which tables a DMS task selects: its table mappings' selection rules applied to the source's catalog.

The matching semantics (DMS's `%`, `_`, `[_]`, include/explicit minus exclude) are `lib.dms_mappings`,
shared with the config's check that a cutover's mappings select the drain marker table; this module
adds the operator's errors (a malformed rule, an explicit table missing on the source).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lib.dms_mappings import ACTIONS, pattern_matches

from .errors import MappingError

__all__ = ["ACTIONS", "SelectionRule", "TableName", "parse_rules", "pattern_matches", "select_tables"]


@dataclass(frozen=True, order=True)
class TableName:
    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class SelectionRule:
    rule_id: str
    rule_name: str
    schema_pattern: str
    table_pattern: str
    action: str

    @property
    def label(self) -> str:
        return f"rule {self.rule_name or self.rule_id}"

    def matches(self, table: TableName) -> bool:
        if self.action == "explicit":
            return table == TableName(self.schema_pattern, self.table_pattern)
        return pattern_matches(self.schema_pattern, table.schema) and pattern_matches(self.table_pattern, table.name)


def parse_rules(mappings_json: str) -> list[SelectionRule]:
    """The selection rules of a table-mappings document; MappingError names the first malformed rule."""
    try:
        document: Any = json.loads(mappings_json)
    except ValueError as error:
        raise MappingError(f"table mappings: not valid JSON ({error}); fix the table-mappings file") from None
    rules = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(rules, list):
        raise MappingError('table mappings: expected {"rules": [...]}; fix the table-mappings file')
    selected: list[SelectionRule] = []
    for position, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or rule.get("rule-type") != "selection":
            continue
        where = f"table mappings rule #{position} ({rule.get('rule-name') or rule.get('rule-id') or 'unnamed'})"
        locator = rule.get("object-locator")
        if not isinstance(locator, dict):
            raise MappingError(f"{where}: no object-locator; add schema-name and table-name")
        schema, table = locator.get("schema-name"), locator.get("table-name", "%")
        action = rule.get("rule-action")
        if not isinstance(schema, str) or not schema or not isinstance(table, str) or not table:
            raise MappingError(f"{where}: object-locator needs a schema-name and a table-name")
        if action not in ACTIONS:
            raise MappingError(f"{where}: rule-action {action!r} is not one of {', '.join(ACTIONS)}")
        if action == "explicit" and any(char in schema + table for char in "%"):
            raise MappingError(f"{where}: an explicit rule names one table; remove the % wildcard")
        selected.append(SelectionRule(str(rule.get("rule-id", "")), str(rule.get("rule-name", "")), schema, table, action))
    return selected


def select_tables(rules: Iterable[SelectionRule], catalog: Iterable[TableName]) -> list[TableName]:
    """The catalog's tables the rules select, sorted; an explicit rule naming a missing table is an error."""
    rules = list(rules)
    tables = set(catalog)
    for rule in rules:
        if rule.action == "explicit" and TableName(rule.schema_pattern, rule.table_pattern) not in tables:
            raise MappingError(
                f"table mappings {rule.label}: explicit table {rule.schema_pattern}.{rule.table_pattern} does not exist "
                "on the source; create it, fix the name (case matters), or remove the rule"
            )
    includes = [rule for rule in rules if rule.action in ("include", "explicit")]
    excludes = [rule for rule in rules if rule.action == "exclude"]
    return sorted(
        table
        for table in tables
        if any(rule.matches(table) for rule in includes) and not any(rule.matches(table) for rule in excludes)
    )
