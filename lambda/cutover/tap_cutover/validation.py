"""DMS row validation judged as proof that the data is the same (pure: rows in, verdict out).

The rows are what ``DescribeTableStatistics`` (a task) or ``DescribeReplicationTableStatistics`` (a DMS
Serverless replication) answer, one per selected table, every page together. The proof holds only when
every table is ``Validated`` with no pending, failed or suspended records; a table whose validation never
ran, is still pending or reports nothing is not proof, and no table at all is not proof either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

VALIDATED = "Validated"
# The order the reasons name them in: what must be fixed first comes first.
_CATEGORIES = ("failed", "suspended", "table error", "not enabled", "not validated", "pending")
_SHOWN = 5


@dataclass(frozen=True)
class ValidationVerdict:
    proven: bool
    reason: str
    tables: int
    # category -> the tables in it ("schema.table"), for the CLI's details.
    problems: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def only_pending(self) -> bool:
        """Nothing but records still waiting to be validated: writes in flight, which a fence lets DMS finish."""
        return not self.proven and set(self.problems) == {"pending"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "proven": self.proven,
            "reason": self.reason,
            "tables": self.tables,
            "problems": {kind: list(tables) for kind, tables in self.problems.items()},
        }


def _count(row: Mapping[str, Any], key: str) -> int:
    value = row.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def table_name(row: Mapping[str, Any]) -> str:
    schema, table = row.get("SchemaName"), row.get("TableName")
    return f"{schema}.{table}" if schema else str(table or "?")


def classify(row: Mapping[str, Any]) -> str | None:
    """The table's problem (one of the categories), or None when its validation is complete."""
    state = str(row.get("ValidationState") or "")
    table_state = str(row.get("TableState") or "")
    checks = (
        ("failed", _count(row, "ValidationFailedRecords") > 0 or state in ("Mismatched records", "Error")),
        ("suspended", _count(row, "ValidationSuspendedRecords") > 0 or state == "Suspended records"),
        ("table error", "error" in table_state.lower()),
        ("not enabled", not state or state == "Not enabled"),
        ("pending", _count(row, "ValidationPendingRecords") > 0 or state in ("Pending records", "Pending validation")),
        ("not validated", state != VALIDATED),
    )
    return next((kind for kind, applies in checks if applies), None)


def _named(tables: Sequence[str]) -> str:
    shown = ", ".join(tables[:_SHOWN])
    return shown + (f" and {len(tables) - _SHOWN} more" if len(tables) > _SHOWN else "")


def judge_validation(rows: Sequence[Mapping[str, Any]]) -> ValidationVerdict:
    """Every selected table Validated, with no pending, failed or suspended records; anything else names the tables."""
    if not rows:
        return ValidationVerdict(False, "DMS reports no table statistics: nothing is validated (missing data is not proof)", 0)
    found: dict[str, list[str]] = {}
    for row in rows:
        kind = classify(row)
        if kind is not None:
            found.setdefault(kind, []).append(table_name(row))
    if not found:
        text = f"DMS validation complete: {len(rows)} table(s) Validated, no pending, failed or suspended records"
        return ValidationVerdict(True, text, len(rows))
    problems = {kind: tuple(sorted(found[kind])) for kind in _CATEGORIES if kind in found}
    parts = [f"{kind}: {_named(tables)}" for kind, tables in problems.items()]
    text = f"DMS validation not complete for {sum(map(len, problems.values()))} of {len(rows)} table(s): " + "; ".join(parts)
    return ValidationVerdict(False, text, len(rows), problems)
