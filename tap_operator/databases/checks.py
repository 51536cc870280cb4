"""The preflight's vocabulary: a Check per finding, and the options the checks read from the configuration."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from lib import constants

from .errors import EndpointError
from .mappings import TableName

Verdict = Literal["ok", "warn", "block"]
VERDICTS: tuple[Verdict, ...] = ("ok", "warn", "block")
# The names the config's marker rule checks too (lib/constants); on MySQL/MariaDB the marker lives in the source database.
MARKER_TABLE = constants.MARKER_TABLE
DEFAULT_MARKER_SCHEMA = constants.MARKER_SCHEMA_POSTGRES
DEFAULT_LONG_TRANSACTION_SECONDS = 300
# The preflight runs on a live production source: every query has a budget (see PreflightOptions).
DEFAULT_STATEMENT_TIMEOUT_MS = 5000
DEFAULT_LOCK_TIMEOUT_MS = 1000
DEFAULT_LOB_SAMPLE_PAGES = 1280  # PostgreSQL: 10 MB of 8 KB heap pages read per table, at most
DEFAULT_LOB_SAMPLE_ROWS = 10000  # MySQL/MariaDB: rows read per table, at most (InnoDB has no TABLESAMPLE)
# DMS limited LOB mode caps LobMaxSize at 100 MB (102400 KB).
_MAX_LOB_KB = 102400


@dataclass(frozen=True)
class Check:
    name: str  # what was checked, e.g. "wal_level"
    subject: str  # where: "source", "target", or a table / column / role
    verdict: Verdict
    value: str  # what was found
    fix: str  # what to do about it ("" when ok)

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "subject": self.subject, "verdict": self.verdict, "value": self.value, "fix": self.fix}


def ok(name: str, subject: str, value: str) -> Check:
    return Check(name, subject, "ok", value, "")


def warn(name: str, subject: str, value: str, fix: str) -> Check:
    return Check(name, subject, "warn", value, fix)


def block(name: str, subject: str, value: str, fix: str) -> Check:
    return Check(name, subject, "block", value, fix)


def worst(checks: Iterable[Check]) -> Verdict:
    found = {check.verdict for check in checks}
    return "block" if "block" in found else "warn" if "warn" in found else "ok"


@dataclass(frozen=True)
class TaskSettings:
    """The parts of a DMS task's settings JSON the preflight and the drain proof depend on."""

    support_lobs: bool = True
    full_lob_mode: bool = False
    limited_size_lob_mode: bool = True
    lob_max_size_kb: int = 32
    target_table_prep_mode: str = "DO_NOTHING"
    batch_apply_enabled: bool = False
    parallel_apply_threads: int = 0

    @property
    def truncates_lobs(self) -> bool:
        """Limited LOB mode silently truncates every LOB value above LobMaxSize."""
        return self.support_lobs and not self.full_lob_mode and self.limited_size_lob_mode

    @classmethod
    def from_json(cls, text: str) -> TaskSettings:
        try:
            raw: Any = json.loads(text) if text.strip() else {}
        except ValueError as error:
            raise EndpointError(f"task settings: not valid JSON ({error}); fix the settings file") from None
        if not isinstance(raw, dict):
            raise EndpointError("task settings: must be a JSON object; fix the settings file")
        target: Mapping[str, Any] = raw.get("TargetMetadata") or {}
        full_load: Mapping[str, Any] = raw.get("FullLoadSettings") or {}
        defaults = cls()
        lob_max = target.get("LobMaxSize", defaults.lob_max_size_kb)
        if not isinstance(lob_max, int) or isinstance(lob_max, bool) or not 0 <= lob_max <= _MAX_LOB_KB:
            raise EndpointError(f"task settings: TargetMetadata.LobMaxSize must be 0..{_MAX_LOB_KB} (KB), got {lob_max!r}")
        threads = target.get("ParallelApplyThreads", 0)
        return cls(
            support_lobs=bool(target.get("SupportLobs", defaults.support_lobs)),
            full_lob_mode=bool(target.get("FullLobMode", defaults.full_lob_mode)),
            limited_size_lob_mode=bool(target.get("LimitedSizeLobMode", defaults.limited_size_lob_mode)),
            lob_max_size_kb=lob_max,
            target_table_prep_mode=str(full_load.get("TargetTablePrepMode", defaults.target_table_prep_mode)),
            batch_apply_enabled=bool(target.get("BatchApplyEnabled", defaults.batch_apply_enabled)),
            parallel_apply_threads=threads if isinstance(threads, int) else 0,
        )


@dataclass(frozen=True)
class PreflightOptions:
    task: TaskSettings = TaskSettings()
    ssl_mode: str = "require"  # the DMS source endpoint's: none | require | verify-ca | verify-full
    task_count: int = 1  # DMS tasks reading this source (each holds a replication slot / binlog reader)
    long_transaction_seconds: int = DEFAULT_LONG_TRANSACTION_SECONDS
    marker_schema: str = DEFAULT_MARKER_SCHEMA  # PostgreSQL only
    # Session budgets of every preflight query (PostgreSQL statement_timeout / lock_timeout; MySQL
    # max_execution_time, MariaDB max_statement_time, lock_wait_timeout): a query that runs out of
    # budget becomes a named warn ("not checked"), never an ok.
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS
    # How much of a table the LOB size check reads: a table within the budget is measured whole,
    # a larger one by a sample (a sample that finds nothing too large is a warn, not a proof).
    lob_sample_pages: int = DEFAULT_LOB_SAMPLE_PAGES
    lob_sample_rows: int = DEFAULT_LOB_SAMPLE_ROWS
    # cutover.reverse_replication: the target's binary log must feed the reverse task (MySQL: ON, ROW, FULL) and be
    # kept at least cutover.rollback_window_hours.
    reverse_replication: bool = False
    rollback_window_hours: int = 24

    def __post_init__(self) -> None:
        for name in ("statement_timeout_ms", "lock_timeout_ms", "lob_sample_pages", "lob_sample_rows", "rollback_window_hours"):
            if getattr(self, name) < 1:
                raise EndpointError(f"preflight option {name} must be at least 1, got {getattr(self, name)}")


def task_checks(settings: TaskSettings) -> list[Check]:
    """Task settings the drain marker's proof relies on (see docs/preflight.md, "Why the marker proves the drain")."""
    checks: list[Check] = []
    if settings.batch_apply_enabled:
        checks.append(
            block(
                "batch apply",
                "task settings",
                "TargetMetadata.BatchApplyEnabled = true",
                "set TargetMetadata.BatchApplyEnabled to false: batch apply groups changes per table, so the marker "
                "can reach the target before earlier commits and the drain proof would lie",
            )
        )
    else:
        checks.append(ok("batch apply", "task settings", "BatchApplyEnabled = false (transactional apply, commit order)"))
    if settings.parallel_apply_threads > 0:
        checks.append(
            block(
                "parallel apply",
                "task settings",
                f"TargetMetadata.ParallelApplyThreads = {settings.parallel_apply_threads}",
                "set TargetMetadata.ParallelApplyThreads to 0: parallel apply threads commit out of source order",
            )
        )
    else:
        checks.append(ok("parallel apply", "task settings", "ParallelApplyThreads = 0"))
    return checks


# --------------------------------------------------------------------------------------
# Engine-agnostic verdicts: each engine module measures (its own SQL) and words its fixes; these decide.


class Column(Protocol):
    """What the shared column checks read of an engine's column description."""

    @property
    def table(self) -> TableName: ...
    @property
    def name(self) -> str: ...
    @property
    def in_primary_key(self) -> bool: ...
    @property
    def is_lob(self) -> bool: ...
    @property
    def declared_type(self) -> str: ...


C = TypeVar("C", bound=Column)


def _column_subject(column: Column) -> str:
    return f"{column.table}.{column.name}"


def _all_or_findings(name: str, tables: Sequence[TableName], findings: list[Check], subject: str, value: str) -> list[Check]:
    """The findings, or one ok when there are tables and nothing was found."""
    if tables and not findings:
        findings.append(ok(name, subject, value))
    return findings


def reachable(role: str, version: str, host: str, port: int) -> Check:
    return ok("reachable", role, f"{version} at {host}:{port}")


def table_selection_check(tables: Sequence[TableName], none_selected: str, fix: str) -> Check:
    if not tables:
        return block("table selection", "source", none_selected, fix)
    return ok("table selection", "source", f"{len(tables)} table(s) selected")


def select_privilege_checks(
    user: str, tables: Sequence[TableName], denied: Sequence[TableName], fix: Callable[[TableName], str]
) -> list[Check]:
    findings = [block("select privilege", str(table), f"{user} cannot SELECT", fix(table)) for table in denied]
    return _all_or_findings("select privilege", tables, findings, user, f"SELECT on all {len(tables)} selected table(s)")


def primary_key_checks(tables: Sequence[TableName], unkeyed: Sequence[tuple[TableName, str, str]], all_keyed: str) -> list[Check]:
    """`unkeyed`: (table, value, fix) per table DMS cannot apply UPDATEs/DELETEs to; `all_keyed` ends the ok value."""
    findings = [block("primary key", str(table), value, fix) for table, value, fix in unkeyed]
    return _all_or_findings("primary key", tables, findings, "source", f"all {len(tables)} selected table(s) {all_keyed}")


def lob_primary_key_checks(columns: Iterable[Column], fix: str) -> list[Check]:
    return [
        block("lob primary key", _column_subject(column), f"primary-key column of LOB type {column.declared_type}", fix)
        for column in columns
        if column.in_primary_key and column.is_lob
    ]


@dataclass(frozen=True)
class LobSize:
    """What the LOB size check learnt of one column without scanning a whole table.

    `largest` is None when the measuring query ran out of budget (`scope` then says which); `whole` is
    True when every row was measured, False when only a sample was (`scope` says how much).
    """

    largest: int | None
    whole: bool
    scope: str


def not_checked(name: str, subject: str, spent: str, options: PreflightOptions) -> Check:
    """A check whose query ran out of the preflight's budget: a named warn, never a silent ok."""
    statement = max(options.statement_timeout_ms * 4, 30000)
    lock = max(options.lock_timeout_ms * 4, 5000)
    return warn(
        name,
        subject,
        f"not checked: the query ran out of its budget ({spent}); the preflight stops rather than load the live source",
        f"rerun at a quieter hour with a larger budget: ./cutover preflight --statement-timeout-ms {statement} "
        f"--lock-timeout-ms {lock} (a lock wait means another session holds a conflicting lock: see who, and retry)",
    )


def guarded(
    name: str,
    subject: str,
    options: PreflightOptions,
    spent: Callable[[BaseException], str | None],
    step: Callable[[], list[Check]],
) -> list[Check]:
    """The checks `step` returns, or one not_checked warn when its query ran out of budget (`spent` names the budget)."""
    try:
        return step()
    except Exception as error:
        budget = spent(error)
        if budget is None:
            raise
        return [not_checked(name, subject, budget, options)]


def lob_checks(
    columns: Sequence[C],
    settings: TaskSettings,
    measure: Callable[[C], LobSize],
    options: PreflightOptions | None = None,
    sample_fix: str = "",
) -> list[Check]:
    """LOB support and, in limited LOB mode, each LOB column's largest value (`measure` reads it) against LobMaxSize.

    `measure` never scans a large table: it reads a bounded sample. A value above LobMaxSize in the sample
    blocks; a sample with nothing too large warns (the rest of the table was not read); a column whose
    query ran out of budget warns as not checked. `sample_fix` is the engine's advice for sampled columns.
    """
    lobs = [column for column in columns if column.is_lob]
    if not lobs:
        return [ok("lob size", "source", "no LOB column in the selected tables")]
    if not settings.support_lobs:
        return [
            block(
                "lob support",
                "task settings",
                f"SupportLobs = false but {len(lobs)} LOB column(s) are selected (e.g. {_column_subject(lobs[0])})",
                "set TargetMetadata.SupportLobs to true: without it DMS leaves LOB columns empty",
            )
        ]
    if not settings.truncates_lobs:
        return [ok("lob size", "source", f"full LOB mode: {len(lobs)} LOB column(s) migrate whole")]
    limit = settings.lob_max_size_kb * 1024
    budget = options or PreflightOptions()
    checks: list[Check] = []
    sampled: list[tuple[C, LobSize]] = []
    for column in lobs:
        size = measure(column)
        if size.largest is None:
            checks.append(not_checked("lob size", _column_subject(column), size.scope, budget))
        elif size.largest > limit:
            checks.append(
                block(
                    "lob size",
                    _column_subject(column),
                    f"largest value {human_bytes(size.largest)} ({size.largest} bytes) > LobMaxSize "
                    f"{settings.lob_max_size_kb} KB: limited LOB mode truncates it silently ({size.scope})",
                    f"raise TargetMetadata.LobMaxSize to at least {-(-size.largest // 1024)} KB, or use FullLobMode",
                )
            )
        elif not size.whole:
            sampled.append((column, size))
    if sampled:
        shown = "; ".join(
            f"{_column_subject(column)}: largest seen {human_bytes(size.largest or 0)} in {size.scope}"
            for column, size in sampled[:5]
        )
        more = f" and {len(sampled) - 5} more" if len(sampled) > 5 else ""
        checks.append(
            warn(
                "lob size",
                "source",
                f"{len(sampled)} LOB column(s) only sampled, nothing above LobMaxSize {settings.lob_max_size_kb} KB in the "
                f"sample; values outside it were not read ({shown}{more})",
                "use FullLobMode (nothing is truncated), or "
                + (sample_fix + ", or " if sample_fix else "")
                + "measure whole off-peak with a larger --lob-sample-pages / --lob-sample-rows and --statement-timeout-ms",
            )
        )
    if not checks:
        checks.append(
            ok(
                "lob size",
                "source",
                f"{len(lobs)} LOB column(s) measured whole, all values within LobMaxSize {settings.lob_max_size_kb} KB",
            )
        )
    return checks


def ssl_check(setting: str, ours: bool, offered: bool, ssl_mode: str, remedy: str) -> Check:
    """`setting`: the server's SSL variable as shown; `ours`: this check's connection uses SSL; `remedy`: the engine's fix."""
    value = f"{setting}; this check's own connection {'uses' if ours else 'does not use'} SSL"
    if ssl_mode == "none":
        return ok("ssl", "source", value + "; the DMS endpoint's ssl_mode is none")
    if offered:
        return ok("ssl", "source", value)
    return block("ssl", "source", value, f"the DMS endpoint uses ssl_mode={ssl_mode}: {remedy}")


def no_long_transaction(threshold: int) -> Check:
    return ok("long transaction", "source", f"none open longer than {threshold}s")


def marker_table_check(marker: TableName, exists: bool, tables: Sequence[TableName], ddl: str) -> Check:
    if not exists:
        return block("drain marker table", str(marker), "missing on the source", ddl)
    if marker not in tables:
        return block(
            "drain marker table",
            str(marker),
            "exists but the table mappings do not select it",
            f'add a selection rule including schema "{marker.schema}" table "{marker.name}" (and no transformation dropping it)',
        )
    return ok("drain marker table", str(marker), "exists and is selected")


def target_table_checks(tables: Sequence[TableName], present: set[TableName], prep_mode: str, create_fix: str) -> list[Check]:
    """Every selected table on the target, or created by the task (DROP_AND_CREATE); `create_fix` names the engine's dump."""
    findings: list[Check] = []
    for table in tables:
        if table in present:
            continue
        if prep_mode == "DROP_AND_CREATE":
            findings.append(
                warn("target table", str(table), "missing", "the task creates it (TargetTablePrepMode = DROP_AND_CREATE)")
            )
        else:
            findings.append(block("target table", str(table), f"missing and TargetTablePrepMode = {prep_mode}", create_fix))
    return _all_or_findings("target table", tables, findings, "target", f"all {len(tables)} selected table(s) exist")


def human_bytes(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"
