"""The engine-agnostic entry points: each picks the PostgreSQL or MySQL/MariaDB implementation by endpoint.

The driver modules (psycopg, PyMySQL) are imported on first use only, so importing this module (and the
operator CLI) stays cheap and works where a driver is not installed until it is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import ModuleType

from .checks import DEFAULT_MARKER_SCHEMA, MARKER_TABLE, Check, PreflightOptions, block, ok, task_checks, warn
from .drift import check_schema_drift
from .endpoints import Endpoint
from .errors import DatabaseError, RefusedError
from .mappings import TableName, parse_rules, select_tables
from .refusals import refusal_kind
from .results import DrainProof, FenceProof, Marker, SequenceReport
from .sequences import DEFAULT_GAP, SequenceKey, SequenceState, sequence_rows

MAX_POLL_SECONDS = 1.0
DEFAULT_POLL_SECONDS = 0.2  # a poll is one primary-key lookup on an open connection: sub-second costs nothing


def _postgres() -> ModuleType:
    from . import postgres  # noqa: PLC0415  (psycopg loads only when a PostgreSQL endpoint is used)

    return postgres


def _mysql() -> ModuleType:
    from . import mysql  # noqa: PLC0415  (PyMySQL loads only when a MySQL/MariaDB endpoint is used)

    return mysql


def _engine(endpoint: Endpoint) -> ModuleType:
    return _postgres() if endpoint.family == "postgres" else _mysql()


# --------------------------------------------------------------------------------------
# Preflight


def run_preflight(source: Endpoint, target: Endpoint | None, mappings_json: str, options: PreflightOptions) -> list[Check]:
    """Source checks, the task settings the drain proof needs, then (given a target) the target checks."""
    source_checks, tables = _engine(source).preflight_source(source, mappings_json, options)
    checks: list[Check] = [*source_checks, *fence_checks(source), *task_checks(options.task)]
    if target is not None:
        checks += _engine(target).preflight_target(target, tables, options)
        # Tables missing on the target are the "target table" check's; schema drift compares the others.
        checks += check_schema_drift(
            source, target, tables, options=options, prep_mode=options.task.target_table_prep_mode, report_missing=False
        )
        checks += sequence_checks(source, target, tables)
    return checks


def fence_checks(source: Endpoint) -> list[Check]:
    """What the fence would refuse about the source itself (role overrides, privileges; MySQL: XA transactions too)."""
    found: list[Check] = _engine(source).fence_checks(source)
    return found


def sequence_checks(source: Endpoint, target: Endpoint, tables: Sequence[TableName] | None = None) -> list[Check]:
    """What the sequence sync would refuse, found now by the same plan the sync runs (refusals.py: "sequence sync")."""
    if source.family != target.family:
        return [warn("sequence sync", "target", f"{source.engine} -> {target.engine}", "set the target's sequences by hand")]
    scope = None if source.family == "postgres" else list(tables or [])
    try:
        report = compare_sequences(source, target, DEFAULT_GAP, scope)
    except DatabaseError as error:
        return [block("sequence sync", "target", f"cannot compare sequences: {error}", "grant SELECT, UPDATE on them")]
    checks: list[Check] = []
    for row in report.rows:
        value = f"source next {row.source}, target next {row.target_before}: {row.note}"
        if row.refusal == "sequence_missing":
            fix = "create it on the target with the schema (pg_dump --schema-only / mysqldump --no-data): DMS creates none"
            checks.append(block("sequence sync", row.name, value, f"{fix}, and the sync after the fence would refuse it"))
        elif row.refusal is not None:
            checks.append(block("sequence sync", row.name, value, "the sync after the fence would refuse it: fix it now"))
        elif row.gap is not None and row.gap < DEFAULT_GAP:
            checks.append(warn("sequence sync", row.name, value, "the sync will use this smaller gap; raise the limit for more"))
    if not checks:
        checks.append(ok("sequence sync", "target", f"{len(report.rows)} sequence(s) can be synced past the source's"))
    return checks


def selected_tables(source: Endpoint, mappings_json: str) -> list[TableName]:
    engine = _engine(source)
    with engine.session(source, "source") as connection:
        tables: list[TableName] = select_tables(parse_rules(mappings_json), engine.catalog(connection))
    return tables


# --------------------------------------------------------------------------------------
# Fence and drain marker


def fence_source(
    source: Endpoint, proof: Endpoint | None = None, already_read_only: bool = False, marker_schema: str = DEFAULT_MARKER_SCHEMA
) -> FenceProof:
    """Make the source refuse application writes, end the application's sessions, and prove it with a fresh session.

    `proof`: the credentials of the proving session (e.g. the application's user); default: the source's.
    `already_read_only`: change nothing, only prove. Never raises for an unproven fence: `ok` is False and
    `summary` says which state the source is in.
    """
    if source.family == "postgres":
        proof_result: FenceProof = _postgres().fence(source, proof, already_read_only, marker_schema)
    else:
        proof_result = _mysql().fence(source, proof, already_read_only)
    return proof_result


def unfence_source(source: Endpoint) -> None:
    """Writable again (rollback of a fence, tests)."""
    _engine(source).unfence(source)


def write_marker(source: Endpoint, marker_schema: str = DEFAULT_MARKER_SCHEMA) -> Marker:
    """Write the drain marker on the fenced source; call it after a successful fence_source."""
    if source.family == "postgres":
        marker: Marker = _postgres().write_marker(source, marker_schema)
    else:
        marker = _mysql().write_marker(source)
    return marker


def _marker(target: Endpoint, marker: Marker | str, schema: str | None) -> Marker:
    if isinstance(marker, Marker):
        return marker
    default_schema = DEFAULT_MARKER_SCHEMA if target.family == "postgres" else target.database
    return Marker(marker, datetime.now(UTC), schema or default_schema, MARKER_TABLE, "", "")


def marker_applied(target: Endpoint, marker: Marker | str, schema: str | None = None) -> bool:
    """Whether the marker row is visible on the target. A bare id looks in public (PostgreSQL) / the target database."""
    wanted = _marker(target, marker, schema)
    engine = _engine(target)
    with engine.session(target, "target") as connection:
        visible: bool = engine.marker_visible(connection, wanted)
    return visible


def wait_for_marker(
    target: Endpoint,
    marker: Marker | str,
    timeout_s: float,
    poll_s: float = DEFAULT_POLL_SECONDS,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    schema: str | None = None,
) -> DrainProof:
    """Poll the target (every 0.2 s by default, at least once a second) until the marker row is visible, or `timeout_s` passes.

    A marker table missing on the target is a refusal (`ok` False, `refusal` set), not an exception.
    """
    if not 0 < poll_s <= MAX_POLL_SECONDS:
        raise ValueError(f"poll_s must be in (0, {MAX_POLL_SECONDS}] seconds, got {poll_s}")
    if timeout_s < 0:
        raise ValueError(f"timeout_s must be >= 0, got {timeout_s}")
    wanted = _marker(target, marker, schema)
    engine = _engine(target)
    started = clock()
    polls = 0
    with engine.session(target, "target") as connection:
        while True:
            polls += 1
            try:
                visible = engine.marker_visible(connection, wanted)
            except RefusedError as missing:
                return DrainProof(False, str(missing), wanted.id, target.label, clock() - started, polls, missing.kind)
            waited = clock() - started
            if visible:
                return DrainProof(
                    True,
                    f"marker {wanted.id} is on {target.label} after {waited:.1f}s ({polls} poll(s)): every write the source "
                    "acknowledged before the fence has been applied",
                    wanted.id,
                    target.label,
                    waited,
                    polls,
                )
            if waited >= timeout_s:
                return DrainProof(
                    False,
                    f"marker {wanted.id} is not on {target.label} after {waited:.1f}s ({polls} poll(s)): replication has not "
                    "caught up (or the task does not carry the marker table); keep the source fenced and check the task",
                    wanted.id,
                    target.label,
                    waited,
                    polls,
                    refusal_kind("drain_timeout"),
                )
            sleep(min(poll_s, max(timeout_s - waited, 0.0)))


# --------------------------------------------------------------------------------------
# Sequences


def _same_family(source: Endpoint, target: Endpoint) -> None:
    if source.family != target.family:
        raise DatabaseError(
            f"sequences: source is {source.engine} and target is {target.engine}; sequence sync compares like with like "
            "only (after a heterogeneous migration, set the target's sequences by hand)"
        )


def _read(endpoint: Endpoint, role: str, tables: Sequence[TableName] | None) -> dict[SequenceKey, SequenceState]:
    if endpoint.family == "postgres":
        found: dict[SequenceKey, SequenceState] = _postgres().read_sequences(endpoint, role)
    else:
        found = _mysql().read_auto_increments(endpoint, role, tables)
    return found


def _report(rows_source: dict[SequenceKey, SequenceState], before: dict[SequenceKey, SequenceState],
            after: dict[SequenceKey, SequenceState] | None, gap: int) -> SequenceReport:  # fmt: skip
    rows = tuple(sequence_rows(rows_source, before, after, gap))
    bad = [row for row in rows if not row.ok]
    verb = "synced" if after is not None else "compared"
    if bad:
        summary = f"{len(bad)} of {len(rows)} sequence(s) not at source + {gap} on the target: " + ", ".join(
            f"{row.name} ({row.note})" for row in bad[:10]
        )
    else:
        reduced = [row for row in rows if row.gap is not None and row.gap < gap]
        summary = f"{verb} {len(rows)} sequence(s): every target sequence hands out at least source + {gap} next"
        if reduced:
            summary += (
                f" ({len(reduced)} with a smaller gap near their limit: "
                + ", ".join(f"{row.name} {row.gap}" for row in reduced[:10])
                + ")"
            )
    return SequenceReport(not bad, summary, after is not None, gap, rows)


def compare_sequences(
    source: Endpoint, target: Endpoint, gap: int = DEFAULT_GAP, tables: Sequence[TableName] | None = None
) -> SequenceReport:
    """Each source sequence's next value against the target's (MySQL/MariaDB: the AUTO_INCREMENT of `tables`)."""
    _same_family(source, target)
    return _report(_read(source, "source", tables), _read(target, "target", tables), None, gap)


def sync_sequences(
    source: Endpoint, target: Endpoint, gap: int = DEFAULT_GAP, tables: Sequence[TableName] | None = None
) -> SequenceReport:
    """Move every target sequence past the source's next value + gap in its own direction (never back), then read back.

    A constant number of statements whatever the number of sequences (wrap the call in
    `counting.count_statements()` to see them): PostgreSQL 1 on the source, 3 on the target; MySQL/MariaDB
    AUTO_INCREMENT a few reads per side and the ALTER TABLEs in one multi-statement round trip.
    """
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    _same_family(source, target)
    source_states = _read(source, "source", tables)
    if target.family == "postgres":
        before, after = _postgres().sync_target_sequences(target, source_states, gap)
    else:
        before, after = _mysql().sync_auto_increments(target, source_states, gap, tables)
    return _report(source_states, before, after, gap)


# --------------------------------------------------------------------------------------
# Reverse replication (Aurora -> source)

# The decoding plugin of the reverse task's slot (the stack's reverse source endpoint names the same).
REVERSE_SLOT_PLUGIN = "test_decoding"


def reverse_start_position(target: Endpoint, slot: str | None) -> str:
    """Where the reverse task starts on the target: a fresh slot's LSN (PostgreSQL), binlog `file:position` (MySQL)."""
    if target.family == "postgres":
        if not slot:
            raise DatabaseError("target: a PostgreSQL reverse replication needs a slot name (the reverse_slot_name output)")
        lsn: str = _postgres().create_reverse_slot(target, slot, REVERSE_SLOT_PLUGIN)
        return lsn
    position: str = _mysql().binlog_position(target)
    return position


def release_reverse_position(target: Endpoint, slot: str | None) -> str:
    """After the reverse task stopped: drop its slot (PostgreSQL); MySQL's binary log needs nothing."""
    if target.family != "postgres" or not slot:
        return "no slot to drop"
    dropped: str = _postgres().drop_reverse_slot(target, slot)
    return dropped


def admit_reverse_writer(source: Endpoint) -> str:
    """Let the reverse task write into the fenced source, and nobody else.

    PostgreSQL: nothing here; the reverse target endpoint opens each session with
    `SET default_transaction_read_only = off` (its after-connect script), so no role needs an override
    that the fence proof would rightly flag. MySQL: super_read_only is lifted, read_only stays on.
    """
    if source.family == "postgres":
        return f"{source.label}: stays read-only; the reverse task's sessions opt out themselves (after-connect script)"
    admitted: str = _mysql().admit_reverse_writer(source)
    return admitted
