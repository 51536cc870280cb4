"""Schema drift: the cheap catalog comparison of the selected tables between source and target.

DMS (like logical replication) carries no DDL. A table created on the source after the task started is
simply absent on the target, a column added on one side only makes the apply fail or lose the column, a
changed key makes UPDATEs and DELETEs miss, and a sequence the source's table uses but the target lacks
breaks the first insert after the flip. The preflight runs this before the move; the fence runs it just
before the flip, when the source can no longer change.

It is catalog only, a fixed number of queries per side whatever the number of tables (columns with key
positions, and on PostgreSQL the sequences the tables use): cheap enough for the fence window. A fuller
comparison (indexes, constraints, defaults, data) is `./cutover compare`'s job.

    schema_drift(source_connection, target_connection, tables)          -> list[Check]  (open driver connections)
    check_schema_drift(source_endpoint, target_endpoint, tables, ...)   -> list[Check]  (opens budgeted sessions)
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from .checks import Check, PreflightOptions, block, guarded, ok, warn
from .endpoints import Endpoint
from .mappings import TableName
from .shapes import ColumnShape, TableShape

__all__ = ["ColumnShape", "TableShape", "check_schema_drift", "schema_drift"]

RECREATED = "DROP_AND_CREATE"


def _engine_of(connection: Any) -> ModuleType:
    """The engine module of an open driver connection (psycopg -> postgres, PyMySQL -> mysql)."""
    package = type(connection).__module__.split(".", 1)[0]
    if package == "psycopg":
        from . import postgres  # noqa: PLC0415  (drivers load on first use)

        return postgres
    if package == "pymysql":
        from . import mysql  # noqa: PLC0415

        return mysql
    raise TypeError(f"schema_drift: not a psycopg or PyMySQL connection: {type(connection).__name__}")


def schema_drift(
    source_connection: Any,
    target_connection: Any,
    tables: Sequence[TableName],
    *,
    prep_mode: str | None = None,
    report_missing: bool = True,
) -> list[Check]:
    """Compare the selected tables' columns (name, type, nullability) and primary key, and the sequences they use.

    `prep_mode` None (the fence): every difference blocks, the load is long done. The task's
    TargetTablePrepMode (the preflight): with DROP_AND_CREATE the task re-creates the tables, so
    differences only warn. `report_missing` False leaves tables missing on the target to the caller
    (the preflight's own "target table" check). Checks: "target table" (missing), "schema drift"
    (differences, one per table), "target sequence" (missing), or one ok per kind.
    """
    source_engine = _engine_of(source_connection)
    target_engine = _engine_of(target_connection)
    if source_engine is not target_engine:
        return [
            warn(
                "schema drift",
                "target",
                f"source is {source_engine.__name__.rsplit('.', 1)[-1]}, target {target_engine.__name__.rsplit('.', 1)[-1]}: "
                "column types of different engines are not compared",
                "compare the schemas by hand (./cutover compare)",
            )
        ]
    source_tables: dict[TableName, TableShape] = source_engine.table_shapes(source_connection, tables)
    target_tables: dict[TableName, TableShape] = target_engine.table_shapes(target_connection, tables)
    used: dict[TableName, TableName] = source_engine.table_sequences(source_connection, tables)
    present: set[TableName] = target_engine.existing_sequences(target_connection, sorted(used))
    return compare_shapes(tables, source_tables, target_tables, used, present, prep_mode=prep_mode, report_missing=report_missing)


def check_schema_drift(
    source: Endpoint,
    target: Endpoint,
    tables: Sequence[TableName],
    *,
    options: PreflightOptions | None = None,
    prep_mode: str | None = None,
    report_missing: bool = True,
) -> list[Check]:
    """schema_drift on fresh preflight sessions (statement and lock budgets set); out of budget: a named warn."""
    budget = options or PreflightOptions()
    source_engine = _engine_of_endpoint(source)
    target_engine = _engine_of_endpoint(target)
    with (
        source_engine.preflight_session(source, "source", budget) as source_connection,
        target_engine.preflight_session(target, "target", budget) as target_connection,
    ):

        def compare() -> list[Check]:
            return schema_drift(source_connection, target_connection, tables, prep_mode=prep_mode, report_missing=report_missing)

        def spent(error: BaseException) -> str | None:
            found: str | None = source_engine.budget_spent(error, budget) or target_engine.budget_spent(error, budget)
            return found

        return guarded("schema drift", "target", budget, spent, compare)


def _engine_of_endpoint(endpoint: Endpoint) -> ModuleType:
    if endpoint.family == "postgres":
        from . import postgres  # noqa: PLC0415

        return postgres
    from . import mysql  # noqa: PLC0415

    return mysql


def compare_shapes(
    tables: Sequence[TableName],
    source_tables: dict[TableName, TableShape],
    target_tables: dict[TableName, TableShape],
    used_sequences: dict[TableName, TableName],
    target_sequences: set[TableName],
    *,
    prep_mode: str | None = None,
    report_missing: bool = True,
) -> list[Check]:
    """The verdicts of schema_drift, from the shapes the engines read (pure: tested without a server)."""
    recreated = prep_mode == RECREATED
    verdict = warn if recreated else block
    why = (
        "TargetTablePrepMode = DROP_AND_CREATE re-creates it from the source at the full load; "
        if recreated
        else "DMS carries no DDL: "
    )
    missing: list[Check] = []
    drift: list[Check] = []
    compared = 0
    for table in tables:
        source_shape = source_tables.get(table)
        if source_shape is None:
            continue  # gone from the source since the selection was read: nothing to replicate
        target_shape = target_tables.get(table)
        if target_shape is None:
            missing.append(
                verdict(
                    "target table",
                    str(table),
                    "missing on the target"
                    + ("" if recreated else " (created on the source after the task started? DMS carries no DDL)"),
                    (why if recreated else "")
                    + f"create {table} on the target with the source's definition, then reload that table in the task "
                    "(its rows so far never reached the target)",
                )
            )
            continue
        compared += 1
        differences = _differences(source_shape, target_shape)
        if differences:
            harmful = any(bad for _, bad in differences)
            drift.append(
                (verdict if harmful else warn)(
                    "schema drift",
                    str(table),
                    "; ".join(text for text, _ in differences),
                    why + "change the target to the source's definition (ALTER TABLE on the target) before the "
                    "changes reach it, or the apply fails or drops the column",
                )
            )
    checks = missing if report_missing else []
    checks += drift
    if not drift and compared:
        checks.append(ok("schema drift", "target", f"{compared} table(s): same columns, types, nullability and key"))
    if report_missing and not missing and tables and not compared:
        checks.append(ok("schema drift", "target", "no selected table to compare"))
    lacking = sorted(sequence for sequence in used_sequences if sequence not in target_sequences)
    for sequence in lacking:
        checks.append(
            verdict(
                "target sequence",
                str(sequence),
                f"used by {used_sequences[sequence]} on the source, missing on the target",
                (why if recreated else "DMS creates no sequence: ")
                + f"create it on the target (pg_dump --schema-only -t '{sequence}' from the source), then "
                "./cutover sequences --sync after the drain",
            )
        )
    if used_sequences and not lacking:
        checks.append(ok("target sequence", "target", f"all {len(used_sequences)} sequence(s) the tables use exist"))
    return checks


def _differences(source: TableShape, target: TableShape) -> list[tuple[str, bool]]:
    """(difference, harmful): harmful ones break the apply or lose data; the others only differ."""
    found: list[tuple[str, bool]] = []
    theirs = {column.name: column for column in target.columns}
    ours = {column.name for column in source.columns}
    for column in source.columns:
        other = theirs.get(column.name)
        if other is None:
            found.append((f"column {column.name} ({column.type}) missing on the target", True))
            continue
        if other.type != column.type:
            found.append((f"column {column.name} is {column.type} on the source, {other.type} on the target", True))
        if column.nullable and not other.nullable:
            found.append((f"column {column.name} is NOT NULL on the target only (the source's NULLs fail to apply)", True))
        elif other.nullable and not column.nullable:
            found.append((f"column {column.name} is NOT NULL on the source only", False))
    for column in target.columns:
        if column.name not in ours:
            strict = "NOT NULL " if not column.nullable else ""
            found.append((f"column {column.name} ({strict}{column.type}) exists on the target only", not column.nullable))
    if source.key != target.key:
        ours_key, theirs_key = ", ".join(source.key) or "none", ", ".join(target.key) or "none"
        found.append((f"primary key ({ours_key}) on the source, ({theirs_key}) on the target", True))
    return found


__all__ = [
    "ColumnShape",
    "TableShape",
    "check_schema_drift",
    "compare_shapes",
    "schema_drift",
]
