"""`./cutover compare`: is every row there, and the same? Schema and data of the tables the task's mappings select.

    compare [--tables PATTERN] [--direction forward|reverse] [--chunk-rows N] [--rows-per-second N]
            [--statement-timeout S] [--recheck N] [--lag-seconds S] [--resume] [--record] [DB options] [--json]

The reference side (the source; with --direction reverse, Aurora) cuts each table into primary-key ranges of
--chunk-rows rows; both servers then count and checksum the same range themselves, so only two numbers per
range cross the network. A range whose numbers differ is split in halves until the differing row (or the
smallest range that still differs) is found. While a replication reads the reference side, a difference counts
only if it is still there after the replication has applied everything the reference had committed when it was
read (PostgreSQL: the replication slot's confirmed position passes the reference's WAL position; MySQL: after
--lag-seconds), re-checked up to --recheck times; DMS validation does the same with its lag.

Safe on production: read-only sessions, one short statement per range (bounded rows, statement_timeout /
max_execution_time, lock_timeout), a rows-per-second limit, no transaction held between ranges. An interrupted
compare keeps what it finished in --state-file; --resume continues at the next table.

Exit codes: 0 every table equal, 2 something differs (or a table cannot be compared), 1 usage or connection error.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TextIO

from . import dbcli
from .databases import DatabaseError, Endpoint, MappingError, TableName, parse_rules, select_tables
from .databases.compare_common import ChunkSum, Key, Limits, TableShape, key_text
from .databases.mappings import SelectionRule, pattern_matches

Direction = Literal["forward", "reverse"]
Status = Literal["equal", "different", "missing", "extra", "not_comparable"]
DEFAULT_CHUNK_ROWS = 10_000
DEFAULT_ROWS_PER_SECOND = 100_000
DEFAULT_RECHECKS = 3
# MySQL tells no position a binary-log reader has applied: without --lag-seconds a live pair waits this long,
# the CDC latency gate's default threshold (with the gates green, the lag is below it).
DEFAULT_MYSQL_LAG_SECONDS = 30.0
DEFAULT_MAX_LAG_WAIT_SECONDS = 300.0
DEFAULT_MAX_DIFFERENCES = 20
DEFAULT_STATE_FILE = Path(".state/compare.json")
EXIT_EQUAL, EXIT_ERROR, EXIT_DIFFERENT = 0, 1, 2


@dataclass(frozen=True)
class Options:
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    rows_per_second: float = DEFAULT_ROWS_PER_SECOND  # 0: no limit
    limits: Limits = field(default_factory=Limits)
    rechecks: int = DEFAULT_RECHECKS
    lag_seconds: float | None = None  # None: measure it (PostgreSQL), or DEFAULT_MYSQL_LAG_SECONDS (MySQL)
    max_lag_wait_s: float = DEFAULT_MAX_LAG_WAIT_SECONDS
    max_differences: int = DEFAULT_MAX_DIFFERENCES  # per table; further differing ranges are counted, not narrowed
    tables: str | None = None  # comma-separated patterns (% or * any run, _ one character) on schema.table or table


@dataclass
class Difference:
    """A key range (after, upto] whose rows differ; kind says how when it holds one row on either side."""

    kind: str  # changed | missing (on the compared side) | extra (only on the compared side) | rows (a range)
    after: str | None
    upto: str | None
    reference_rows: int
    compared_rows: int
    key: str | None = None
    rechecks: int = 0
    waited_s: float = 0.0

    def describe(self, reference: str, compared: str) -> str:
        what = {
            "changed": f"row {self.key} differs",
            "missing": f"row {self.key} is on the {reference} only",
            "extra": f"row {self.key} is on the {compared} only",
        }.get(self.kind, f"{self.reference_rows} row(s) on the {reference}, {self.compared_rows} on the {compared}")
        where = f"keys > {self.after or '-inf'} and <= {self.upto or '+inf'}"
        checked = f", still there after {self.rechecks} re-check(s) over {self.waited_s:.1f}s" if self.rechecks else ""
        return f"{what} ({where}{checked})"


@dataclass
class TableResult:
    table: str
    status: Status
    reference_rows: int = 0
    compared_rows: int = 0
    chunks: int = 0
    schema: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    more_differing_ranges: int = 0
    resolved_by_recheck: int = 0
    # Live pair: ranges whose rows the application was still changing on the reference at every re-check.
    # Not a difference (replication applies them like any change; the fence's drain proves they arrived).
    in_flux: int = 0
    seconds: float = 0.0
    note: str = ""

    @property
    def equal(self) -> bool:
        return self.status == "equal"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableResult:
        values = dict(data)
        values["differences"] = [Difference(**item) for item in values.get("differences", [])]
        return cls(**values)

    def line(self, reference: str, compared: str) -> str:
        rows = f"{self.reference_rows} row(s) on the {reference}, {self.compared_rows} on the {compared}"
        if self.status == "equal":
            text = f"equal: {rows}, {self.chunks} chunk(s)"
            if self.resolved_by_recheck:
                text += f"; {self.resolved_by_recheck} range(s) differed until replication caught up"
            if self.in_flux:
                text += f"; {self.in_flux} range(s) still changing on the {reference} (the fence's drain covers them)"
        elif self.status == "missing":
            text = f"MISSING on the {compared}"
        elif self.status == "extra":
            text = f"EXTRA: on the {compared} only (the mappings would select it)"
        elif self.status == "not_comparable":
            text = f"NOT COMPARABLE: {self.note}"
        else:
            counts = f"{len(self.differences) + self.more_differing_ranges} differing range(s)"
            text = f"DIFFERENT: {rows}; {len(self.schema)} schema difference(s), {counts}"
        return f"{self.table}: {text} ({self.seconds:.1f}s)"


@dataclass
class CompareReport:
    direction: Direction
    reference: str  # endpoint labels: never a password
    compared: str
    reference_role: str
    compared_role: str
    tables: list[TableResult]
    live: bool
    seconds: float = 0.0
    interrupted: bool = False
    remaining: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(table.equal for table in self.tables)

    @property
    def rows(self) -> int:
        return sum(table.reference_rows for table in self.tables)

    @property
    def summary(self) -> str:
        different = [table.table for table in self.tables if not table.equal]
        scope = (
            f"{len(self.tables)} table(s), {self.rows} row(s), {self.reference_role} {self.reference} as the reference "
            f"against {self.compared_role} {self.compared}"
        )
        if self.interrupted:
            return f"interrupted after {scope}; {len(self.remaining)} table(s) left: run again with --resume"
        if not different:
            return f"equal: schema and data of {scope}"
        shown = ", ".join(different[:10]) + (" …" if len(different) > 10 else "")
        return f"different: {len(different)} of {scope}: {shown}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary,
            "direction": self.direction,
            "reference": {"role": self.reference_role, "endpoint": self.reference},
            "compared": {"role": self.compared_role, "endpoint": self.compared},
            "live": self.live,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
            "remaining": self.remaining,
            "tables": [table.to_dict() for table in self.tables],
        }


def _engine(endpoint: Endpoint) -> ModuleType:
    if endpoint.family == "postgres":
        from .databases import compare_postgres  # noqa: PLC0415  (psycopg loads only for PostgreSQL)

        return compare_postgres
    from .databases import compare_mysql  # noqa: PLC0415  (PyMySQL loads only for MySQL/MariaDB)

    return compare_mysql


# --------------------------------------------------------------------------------------
# Which tables


def _selected(rules: Sequence[SelectionRule], catalog: Sequence[TableName], strict: bool) -> list[TableName]:
    """The mappings' selection (preflight's code); on the compared side an explicit rule may name a missing table."""
    if strict:
        return select_tables(rules, catalog)
    present = set(catalog)
    usable = [r for r in rules if r.action != "explicit" or TableName(r.schema_pattern, r.table_pattern) in present]
    try:
        return select_tables(usable, catalog)
    except MappingError:  # pragma: no cover - every explicit rule left names a present table
        return []


def _wanted(table: TableName, patterns: str | None) -> bool:
    if not patterns:
        return True
    for raw in patterns.split(","):
        pattern = raw.strip().replace("*", "%")
        if pattern and (pattern_matches(pattern, str(table)) or pattern_matches(pattern, table.name)):
            return True
    return False


def schema_differences(reference: TableShape, compared: TableShape, names: tuple[str, str]) -> list[str]:
    """Columns (name, type, nullability), primary key and sequence-fed columns, as sentences naming both sides."""
    ref_role, cmp_role = names
    found: list[str] = []
    for column in reference.columns:
        other = compared.column(column.name)
        if other is None:
            found.append(f"column {column.name} ({column.type}) is missing on the {cmp_role}")
            continue
        if other.type != column.type:
            found.append(f"column {column.name}: {column.type} on the {ref_role}, {other.type} on the {cmp_role}")
        if other.nullable != column.nullable:
            null = {True: "nullable", False: "NOT NULL"}
            found.append(
                f"column {column.name}: {null[column.nullable]} on the {ref_role}, {null[other.nullable]} on the {cmp_role}"
            )
    found += [
        f"column {c.name} ({c.type}) is on the {cmp_role} only" for c in compared.columns if reference.column(c.name) is None
    ]
    for name in reference.primary_key:
        ref_key, cmp_key = reference.column(name), compared.column(name)
        if ref_key is not None and cmp_key is not None and ref_key.collation != cmp_key.collation:
            found.append(
                f"key column {name}: collation {ref_key.collation} on the {ref_role}, {cmp_key.collation} on the {cmp_role} "
                "(the servers order its values differently: key ranges may hold different rows)"
            )
    if reference.primary_key != compared.primary_key:

        def shown(key: tuple[str, ...]) -> str:
            return f"({', '.join(key)})" if key else "none"

        found.append(
            f"primary key: {shown(reference.primary_key)} on the {ref_role}, {shown(compared.primary_key)} on the {cmp_role}"
        )
    for name in sorted(set(reference.sequenced) ^ set(compared.sequenced)):
        side = ref_role if name in reference.sequenced else cmp_role
        found.append(f"column {name} is fed by a sequence / AUTO_INCREMENT on the {side} only")
    return found


# --------------------------------------------------------------------------------------
# Data


class _Pacer:
    """Keeps the rows read per second at or below the limit, sleeping between statements."""

    def __init__(self, rows_per_second: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.limit = rows_per_second
        self.clock = clock
        self.sleep = sleep
        self.started = clock()
        self.rows = 0

    def pace(self, rows: int) -> None:
        self.rows += rows
        if self.limit <= 0:
            return
        ahead = self.rows / self.limit - (self.clock() - self.started)
        if ahead > 0:
            self.sleep(ahead)


@dataclass
class _Side:
    engine: ModuleType
    connection: Any
    shape: TableShape

    def checksum(self, columns: Sequence[str], after: Key | None, upto: Key | None) -> ChunkSum:
        summed: ChunkSum = self.engine.checksum(self.connection, self.shape, columns, after, upto)
        return summed

    def next_key(self, after: Key | None, rows: int, upto: Key | None = None) -> Key | None:
        key: Key | None = self.engine.next_key(self.connection, self.shape, after, rows, upto)
        return key


@dataclass
class _Candidate:
    after: Key | None
    upto: Key | None
    reference: ChunkSum
    compared: ChunkSum


@dataclass
class _TableCompare:
    reference: _Side
    compared: _Side
    columns: list[str]
    options: Options
    pacer: _Pacer
    live: bool
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    candidates: list[_Candidate] = field(default_factory=list)
    unnarrowed: int = 0
    # Differing ranges beyond max_differences: on a live pair each is read again settled before it counts.
    overflow: list[_Candidate] = field(default_factory=list)

    def run(self, result: TableResult) -> None:
        after: Key | None = None
        while True:
            upto = self.reference.next_key(after, self.options.chunk_rows)
            ref = self.reference.checksum(self.columns, after, upto)
            cmp = self.compared.checksum(self.columns, after, upto)
            result.chunks += 1
            result.reference_rows += ref.rows
            result.compared_rows += cmp.rows
            self.pacer.pace(max(ref.rows, cmp.rows))
            if not ref.matches(cmp):
                self._differing_chunk(result, _Candidate(after, upto, ref, cmp))
            if upto is None:
                break
            after = upto
        for candidate in self.candidates:
            verdict = self.recheck(candidate)
            if verdict == "equal":
                result.resolved_by_recheck += 1
            elif verdict == "in_flux":
                result.in_flux += 1
            else:
                result.differences.append(verdict)
        for candidate in self.overflow:
            if self.live and self.recheck(candidate) == "equal":
                result.resolved_by_recheck += 1
            else:
                self.unnarrowed += 1
        result.more_differing_ranges = self.unnarrowed

    def _differing_chunk(self, result: TableResult, chunk: _Candidate) -> None:
        """A live pair first reads a differing chunk again once the replication caught up (most differences are
        lag); only what still differs is narrowed, so a busy table does not exhaust max_differences on lag."""
        if not self.live:
            self.narrow(chunk.after, chunk.upto, chunk.reference, chunk.compared)
            return
        if self.recheck(chunk, attempts=1) == "equal":
            result.resolved_by_recheck += 1
        else:
            # Still differing, or busy: narrow it, so a stable difference among rows that the application is
            # changing is still found row by row; each narrowed range is re-checked on settled reads, and only a
            # single row still changing at every re-check is excused as in flux.
            self.narrow(chunk.after, chunk.upto, chunk.reference, chunk.compared)

    def narrow(self, after: Key | None, upto: Key | None, ref: ChunkSum, cmp: ChunkSum) -> None:
        """Halve a differing range (cut at the middle key of the side with more rows) down to single rows."""
        rows = max(ref.rows, cmp.rows)
        if len(self.candidates) >= self.options.max_differences:
            self.overflow.append(_Candidate(after, upto, ref, cmp))
            return
        side = self.reference if ref.rows >= cmp.rows else self.compared
        middle = side.next_key(after, rows // 2, upto) if rows > 1 else None
        if middle is None or middle == upto:
            self.candidates.append(_Candidate(after, upto, ref, cmp))
            return
        for low, high in ((after, middle), (middle, upto)):
            # Plain reads: a half that differs only by lag becomes a candidate, and its re-check (settled) clears it.
            ref_half = self.reference.checksum(self.columns, low, high)
            cmp_half = self.compared.checksum(self.columns, low, high)
            self.pacer.pace(max(ref_half.rows, cmp_half.rows))
            if not ref_half.matches(cmp_half):
                self.narrow(low, high, ref_half, cmp_half)

    def recheck(self, candidate: _Candidate, attempts: int | None = None) -> Difference | Literal["equal", "in_flux"]:
        """On a live pair, read the range again once the replication applied what the reference had.

        "equal" once both sides match; "in_flux" when the reference's own rows changed between every two reads
        (the application is writing there right now: replication carries those changes like any other and the
        fence's drain proves they arrived, so a compare cannot judge them); else the Difference that stayed.
        """
        ref, cmp = candidate.reference, candidate.compared
        waited = 0.0
        attempts = (self.options.rechecks if attempts is None else attempts) if self.live else 0
        if attempts and candidate.upto is None:
            # The open end of the key space takes every new insert: bound it at the reference's highest key now,
            # so rows inserted from here on (on either side) are not chased.
            last: Key | None = self.reference.engine.last_key(self.reference.connection, self.reference.shape)
            if last is not None and (candidate.after is None or self._after(last, candidate.after)):
                candidate = _Candidate(candidate.after, last, ref, cmp)
        changing = False
        for _ in range(attempts):
            started = self.clock()
            previous = ref
            ref, cmp = self._settled_read(candidate)
            waited += self.clock() - started
            if ref.matches(cmp):
                return "equal"
            changing = not ref.matches(previous)
        if changing:
            return "in_flux"
        return self._difference(candidate, ref, cmp, attempts, waited)

    def _settled_read(self, candidate: _Candidate) -> tuple[ChunkSum, ChunkSum]:
        """The reference's range at a replication position, then the compared side once it applied that position."""
        ref, position = self.reference.engine.snapshot_checksum(
            self.reference.connection, self.reference.shape, self.columns, candidate.after, candidate.upto
        )
        measured = None
        if self.options.lag_seconds is None:
            measured = self.reference.engine.wait_applied(self.reference.connection, position, self.options.max_lag_wait_s)
        if measured is None:
            lag = self.options.lag_seconds
            if lag is None:
                lag = DEFAULT_MYSQL_LAG_SECONDS if self.reference.engine.__name__.endswith("mysql") else 1.0
            self.sleep(lag)
        cmp = self.compared.checksum(self.columns, candidate.after, candidate.upto)
        return ref, cmp

    def _after(self, key: Key, other: Key) -> bool:
        """Whether `key` sorts after `other` on the reference (asked of the server: collations and types decide)."""
        return self.reference.next_key(other, 1, key) is not None

    def _difference(self, candidate: _Candidate, ref: ChunkSum, cmp: ChunkSum, rechecks: int, waited: float) -> Difference:
        ref_key = self.reference.next_key(candidate.after, 1, candidate.upto) if ref.rows == 1 else None
        cmp_key = self.compared.next_key(candidate.after, 1, candidate.upto) if cmp.rows == 1 else None
        kind, key = "rows", None
        if ref.rows == 1 and cmp.rows == 0:
            kind, key = "missing", ref_key
        elif ref.rows == 0 and cmp.rows == 1:
            kind, key = "extra", cmp_key
        elif ref.rows == 1 and cmp.rows == 1 and ref_key == cmp_key:
            kind, key = "changed", ref_key
        return Difference(
            kind,
            key_text(candidate.after),
            key_text(candidate.upto),
            ref.rows,
            cmp.rows,
            key_text(key),
            rechecks,
            round(waited, 3),
        )


# --------------------------------------------------------------------------------------
# The run


@dataclass
class _State:
    """What an interrupted compare finished, keyed by what it compared (a resume must compare the same thing)."""

    path: Path | None
    fingerprint: dict[str, Any]
    done: dict[str, dict[str, Any]] = field(default_factory=dict)

    def load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DatabaseError(
                f"{self.path}: cannot read the saved compare ({error}); delete it and run without --resume"
            ) from None
        if saved.get("fingerprint") != self.fingerprint:
            raise DatabaseError(
                f"{self.path} holds a compare of other databases, tables or options; run without --resume (or use "
                "the options of the interrupted run)"
            )
        self.done = dict(saved.get("done", {}))

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"fingerprint": self.fingerprint, "done": self.done}, indent=1), encoding="utf-8")
        temporary.replace(self.path)

    def clear(self) -> None:
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _resume_state(
    state_file: Path | None, direction: Direction, pair: tuple[Endpoint, Endpoint], options: Options, mappings_json: str
) -> _State:
    """Progress for --resume, keyed by everything that must match for finished tables to count again."""
    return _State(
        state_file,
        {
            "direction": direction,
            "reference": pair[0].label,
            "compared": pair[1].label,
            "chunk_rows": options.chunk_rows,
            "tables": options.tables,
            "mappings": hashlib.sha256(mappings_json.encode()).hexdigest(),
        },
    )


def compare_databases(
    source: Endpoint,
    target: Endpoint,
    mappings_json: str,
    options: Options = Options(),
    *,
    direction: Direction = "forward",
    state_file: Path | None = None,
    resume: bool = False,
    progress: Callable[[int, int, TableResult], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> CompareReport:
    """Compare the tables the mappings select (on the source, and on the target for extra tables); see the module doc."""
    if source.family != target.family:
        raise DatabaseError(
            f"compare: source is {source.engine} and target is {target.engine}; compare checks like with like only"
        )
    if options.chunk_rows < 1:
        raise ValueError(f"chunk rows must be 1 or more, got {options.chunk_rows}")
    engine = _engine(source)
    roles = ("source", "target") if direction == "forward" else ("target", "source")
    reference_endpoint, compared_endpoint = (source, target) if direction == "forward" else (target, source)
    started = clock()
    with (
        engine.session(reference_endpoint, roles[0], options.limits) as ref_connection,
        engine.session(compared_endpoint, roles[1], options.limits) as cmp_connection,
    ):
        source_connection, target_connection = (
            (ref_connection, cmp_connection) if direction == "forward" else (cmp_connection, ref_connection)
        )
        rules = parse_rules(mappings_json)
        on_source = [t for t in _selected(rules, engine.catalog(source_connection), True) if _wanted(t, options.tables)]
        on_target = [t for t in _selected(rules, engine.catalog(target_connection), False) if _wanted(t, options.tables)]
        tables = sorted(set(on_source) | set(on_target))
        ref_tables, cmp_tables = (on_source, on_target) if direction == "forward" else (on_target, on_source)
        live = (options.lag_seconds is not None and options.lag_seconds > 0) or bool(engine.replicating(ref_connection))
        state = _resume_state(state_file, direction, (reference_endpoint, compared_endpoint), options, mappings_json)
        if resume:
            state.load()
        report = CompareReport(direction, reference_endpoint.label, compared_endpoint.label, roles[0], roles[1], [], live)
        ref_shapes: dict[TableName, TableShape] = engine.describe(ref_connection, tables)
        cmp_shapes: dict[TableName, TableShape] = engine.describe(cmp_connection, tables)
        pacer = _Pacer(options.rows_per_second, clock, sleep)
        for index, table in enumerate(tables, start=1):
            if str(table) in state.done:
                result = TableResult.from_dict(state.done[str(table)])
            else:
                try:
                    result = _compare_table(
                        table,
                        (
                            ref_shapes.get(table) if table in ref_tables else None,
                            cmp_shapes.get(table) if table in cmp_tables else None,
                        ),
                        (engine, ref_connection, cmp_connection),
                        roles,
                        options=options,
                        pacer=pacer,
                        live=live,
                        clock=clock,
                        sleep=sleep,
                    )
                except KeyboardInterrupt:
                    report.interrupted = True
                    report.remaining = [str(t) for t in tables[index - 1 :]]
                    break
                state.done[str(table)] = result.to_dict()
                state.save()
            report.tables.append(result)
            if progress is not None:
                progress(index, len(tables), result)
    report.seconds = clock() - started
    if not report.interrupted:
        state.clear()
    return report


def _compare_table(
    table: TableName,
    shapes: tuple[TableShape | None, TableShape | None],
    connections: tuple[ModuleType, Any, Any],
    roles: tuple[str, str],
    *,
    options: Options,
    pacer: _Pacer,
    live: bool,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> TableResult:
    started = clock()
    reference, compared = shapes
    engine, ref_connection, cmp_connection = connections
    if reference is None or compared is None:
        status: Status = "missing" if compared is None else "extra"
        if reference is None and compared is None:  # selected on neither side after all (dropped meanwhile)
            return TableResult(str(table), "missing", note="not found on either side")
        return TableResult(str(table), status, seconds=clock() - started)
    result = TableResult(str(table), "equal", schema=schema_differences(reference, compared, roles))
    key = reference.primary_key
    if not key or any(compared.column(name) is None for name in key):
        result.status = "not_comparable"
        result.note = (
            f"no primary key on the {roles[0]}: rows cannot be matched by key (add one; DMS validation needs one too)"
            if not key
            else f"the {roles[1]} lacks primary-key column(s) of the {roles[0]}"
        )
        result.seconds = clock() - started
        return result
    columns = [column.name for column in reference.columns if compared.column(column.name) is not None]
    # Ranges are cut on the reference's key; the compared side uses its own declared key types to read them.
    compared_keyed = TableShape(compared.table, compared.columns, key, compared.sequenced)
    run = _TableCompare(
        _Side(engine, ref_connection, reference),
        _Side(engine, cmp_connection, compared_keyed),
        columns,
        options,
        pacer,
        live,
        sleep,
        clock,
    )
    run.run(result)
    if result.schema or result.differences or result.more_differing_ranges:
        result.status = "different"
    result.seconds = clock() - started
    return result


# --------------------------------------------------------------------------------------
# The data proof in the cutover state


def record_data_proof(engine: Any, operator: str, report: CompareReport) -> Any:
    """Record a clean compare in the cutover state through the engine: the data proof the writer flip requires.

    The summary names both endpoints (labels only), the direction and the totals, so the state's history
    shows which data was proven equal before the writer moved. The engine refuses it when the forward
    task's full load is not complete or the writer has already moved (`result.status == "rejected"`).
    """
    from tap_cutover.logic import Evidence, RecordEvidence  # noqa: PLC0415  (the Lambda package loads only when recording)

    return engine.run(RecordEvidence(Evidence.DATA_COMPARED, operator, report.summary))


def stack_target_hosts(outputs_path: Path) -> set[str]:
    """The deployed stack's Aurora endpoints: the only target a recorded compare may prove."""
    outputs = dbcli.read_outputs(outputs_path)
    return {
        str(outputs[key]) for key in ("aurora_writer_endpoint", "aurora_reader_endpoint") if isinstance(outputs.get(key), str)
    }


Recorder = Callable[[CompareReport, Endpoint, argparse.Namespace], str]


# --------------------------------------------------------------------------------------
# CLI


def _render(report: CompareReport, out: TextIO) -> None:
    for table in report.tables:
        out.write(table.line(report.reference_role, report.compared_role) + "\n")
        for line in table.schema:
            out.write(f"    schema: {line}\n")
        for difference in table.differences:
            out.write(f"    data: {difference.describe(report.reference_role, report.compared_role)}\n")
        if table.more_differing_ranges:
            out.write(f"    data: {table.more_differing_ranges} more differing chunk(s), not narrowed\n")
    out.write(report.summary + "\n")


def _parser(out: TextIO, *, with_record: bool) -> dbcli._Parser:
    parser = dbcli._parser("compare", "Compare schema and data of the mapped tables, chunk by chunk.", out)
    parser.add_argument(
        "--tables", help="only these tables: comma-separated patterns on schema.table or table (%% or * wildcards)"
    )
    parser.add_argument(
        "--direction",
        choices=("forward", "reverse"),
        default="forward",
        help="forward: the source is the reference; reverse: Aurora is (proves a writer rollback)",
    )
    parser.add_argument(
        "--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help=f"rows per checksum statement ({DEFAULT_CHUNK_ROWS})"
    )
    parser.add_argument(
        "--rows-per-second",
        type=float,
        default=DEFAULT_ROWS_PER_SECOND,
        help=f"read at most this many rows per second per side (default {DEFAULT_ROWS_PER_SECOND}; 0: no limit)",
    )
    parser.add_argument("--statement-timeout", type=float, default=30.0, help="seconds a statement may run (default 30)")
    parser.add_argument(
        "--recheck",
        type=int,
        default=DEFAULT_RECHECKS,
        help=f"on a replicating pair, re-check a difference this often after the lag ({DEFAULT_RECHECKS})",
    )
    parser.add_argument(
        "--lag-seconds",
        type=float,
        default=None,
        help="the replication lag to wait before a re-check (default: measured on PostgreSQL, "
        f"{DEFAULT_MYSQL_LAG_SECONDS:g}s on MySQL); given, it also marks the pair as live",
    )
    parser.add_argument(
        "--state-file", type=Path, default=DEFAULT_STATE_FILE, help=f"progress for --resume ({DEFAULT_STATE_FILE})"
    )
    parser.add_argument("--resume", action="store_true", help="continue an interrupted compare at its next table")
    parser.add_argument("--progress", action="store_true", help="a line per table on stderr even when it is not a terminal")
    if with_record:
        parser.add_argument(
            "--record",
            action="store_true",
            help="when equal (forward, against the stack's Aurora), record the data proof in the cutover state",
        )
    return parser


def _options(args: argparse.Namespace) -> Options:
    if args.chunk_rows < 1 or args.rows_per_second < 0 or args.statement_timeout <= 0 or args.recheck < 0:
        raise dbcli.UsageError("--chunk-rows and --statement-timeout must be positive, --rows-per-second and --recheck >= 0")
    return Options(
        chunk_rows=args.chunk_rows,
        rows_per_second=args.rows_per_second,
        limits=Limits(statement_timeout_s=args.statement_timeout),
        rechecks=args.recheck,
        lag_seconds=args.lag_seconds,
        tables=args.tables,
    )


def _recorded(report: CompareReport, target: Endpoint, args: argparse.Namespace, record: Recorder | None) -> str | None:
    """What became of `--record`: only an equal forward compare is a data proof."""
    if not getattr(args, "record", False) or record is None:
        return None
    if report.ok and args.direction == "forward":
        return record(report, target, args)
    return "not recorded: only an equal forward compare is a data proof"


def main(
    argv: Sequence[str],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    *,
    session_factory: Callable[[], Any] | None = None,
    env: Mapping[str, str] | None = None,
    record: Recorder | None = None,
) -> int:
    """`./cutover compare`: 0 equal, 2 different, 1 usage or connection error (never a password in any output)."""
    parser = _parser(out, with_record=record is not None)

    def command(args: argparse.Namespace, environment: Mapping[str, str]) -> int:
        options = _options(args)
        _, task, source, target = dbcli._task_endpoints(args, environment, session_factory)
        if target is None:
            raise dbcli.UsageError(f"task {task.key} has no database target; pass --target-url")
        show_progress = args.progress or (not args.json and err.isatty())
        roles = ("source", "target") if args.direction == "forward" else ("target", "source")

        def progress(index: int, total: int, result: TableResult) -> None:
            if show_progress:
                err.write(f"[{index}/{total}] {result.line(roles[0], roles[1])}\n")
                err.flush()

        report = compare_databases(
            source, target, task.table_mappings, options,
            direction=args.direction, state_file=args.state_file, resume=args.resume, progress=progress,
        )  # fmt: skip
        recorded = _recorded(report, target, args, record)
        if args.json:
            document = report.to_dict() | ({"recorded": recorded} if recorded is not None else {})
            out.write(json.dumps(document, indent=2, default=str) + "\n")
        else:
            _render(report, out)
            if recorded is not None:
                out.write(f"data proof: {recorded}\n")
        if report.interrupted:
            return EXIT_ERROR
        return EXIT_EQUAL if report.ok else EXIT_DIFFERENT

    return dbcli._run(_interruptible(command), parser, argv, err, env)


def _interruptible(
    command: Callable[[argparse.Namespace, Mapping[str, str]], int],
) -> Callable[[argparse.Namespace, Mapping[str, str]], int]:
    """Ctrl-C outside a table (connecting, reading catalogs) ends with exit 1 and one line, like any error."""

    def run(args: argparse.Namespace, environment: Mapping[str, str]) -> int:
        try:
            return command(args, environment)
        except KeyboardInterrupt:
            raise dbcli.UsageError("interrupted; run again with --resume to continue at the next table") from None

    return run
