"""What the rehearsal proves, checked on the databases themselves.

* Writes: every transaction the client was told is committed is on the final writer database exactly
  once (its audit_log row by txn_id), and every ledger row the client wrote holds its last acknowledged
  content (or is gone after an acknowledged delete). A transaction in doubt (no answer to COMMIT) may be
  there once or not at all: counted apart, never as lost.
* Tables at the fence: row counts and content checksums of every table are equal on both sides at the
  moment the drain marker arrived (the fenced side cannot change any more, and nothing has been written
  on the other side yet; a guard proves the latter from audit_log.written_on).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from tap_operator.databases.checks import MARKER_TABLE
from tools.rehearsal.clusters import Cluster
from tools.rehearsal.schema import TABLES, TableSum, table_sums
from tools.rehearsal.sides import Side
from tools.rehearsal.workload import WriteRecord

EXAMPLES = 10
MARKER_POLL_SECONDS = 0.02

RowState = tuple[int, Decimal, str] | None  # (version, amount, note); None: no row


@dataclass
class WriteVerdict:
    database: str
    acknowledged: int = 0
    lost: int = 0
    duplicated: int = 0
    in_doubt: int = 0
    in_doubt_applied: int = 0
    in_doubt_not_applied: int = 0
    examples: list[str] = field(default_factory=list)
    lost_txns: set[str] = field(default_factory=set)
    duplicated_txns: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "acknowledged": self.acknowledged,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "in_doubt": self.in_doubt,
            "in_doubt_applied": self.in_doubt_applied,
            "in_doubt_not_applied": self.in_doubt_not_applied,
            "ok": self.ok,
            "examples": list(self.examples),
        }


def _state_after(record: WriteRecord) -> RowState:
    return None if record.operation == "delete" else (record.version, record.amount, record.note)


def judge_writes(connection: psycopg.Connection[Any], records: Sequence[WriteRecord], database: str) -> WriteVerdict:
    """Compare the client's log with what `connection`'s database holds (read it after the workload stopped)."""
    audit: dict[str, int] = {
        str(txn): int(count)
        for txn, count in connection.execute("SELECT txn_id::text, count(*) FROM public.audit_log GROUP BY txn_id").fetchall()
    }
    request_ids = sorted({record.request_id for record in records})
    ledger: defaultdict[str, list[RowState]] = defaultdict(list)
    for request_id, version, amount, note in connection.execute(
        "SELECT request_id::text, version, amount, note FROM public.ledger WHERE request_id = ANY(%s::uuid[])", (request_ids,)
    ).fetchall():
        ledger[str(request_id)].append((int(version), Decimal(amount), str(note)))
    return judge_records(audit, ledger, records, database)


def judge_records(
    audit: Mapping[str, int], ledger: Mapping[str, list[RowState]], records: Sequence[WriteRecord], database: str
) -> WriteVerdict:
    """The verdict from what the database holds: audit_log rows per txn_id and the ledger rows per request_id
    (of the requests the client wrote), whatever engine they were read from."""
    verdict = WriteVerdict(database)
    lost, duplicated = verdict.lost_txns, verdict.duplicated_txns

    def example(text: str) -> None:
        if len(verdict.examples) < EXAMPLES:
            verdict.examples.append(text)

    for record in records:
        copies = audit.get(record.txn_id, 0)
        if record.outcome == "in_doubt":
            verdict.in_doubt += 1
            if copies == 0:
                verdict.in_doubt_not_applied += 1
            else:
                verdict.in_doubt_applied += 1
        else:
            verdict.acknowledged += 1
            if copies == 0:
                lost.add(record.txn_id)
                example(f"acknowledged {record.operation} {record.txn_id} ({record.database}) has no audit_log row")
        if copies > 1:
            duplicated.add(record.txn_id)
            example(f"{record.outcome} {record.operation} {record.txn_id} has {copies} audit_log rows")
    by_request: defaultdict[str, list[WriteRecord]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.at):
        by_request[record.request_id].append(record)
    for request_id, ops in by_request.items():
        acknowledged = [op for op in ops if op.outcome == "acknowledged"]
        doubtful = [op for op in ops if op.outcome == "in_doubt"]
        acceptable: list[RowState] = [_state_after(acknowledged[-1])] if acknowledged else [None]
        acceptable += [_state_after(op) for op in doubtful]
        rows = ledger.get(request_id, [])
        blamed = acknowledged[-1] if acknowledged else ops[-1]
        if len(rows) > 1:
            duplicated.add(acknowledged[0].txn_id if acknowledged else blamed.txn_id)
            example(f"ledger request {request_id} has {len(rows)} rows")
        elif (rows[0] if rows else None) not in acceptable and acknowledged:
            lost.add(blamed.txn_id)
            example(f"ledger request {request_id}: expected {acceptable[0]}, found {rows[0] if rows else 'no row'}")
    verdict.lost, verdict.duplicated = len(lost), len(duplicated)
    return verdict


# --------------------------------------------------------------------------------------
# Tables at the fence


@dataclass(frozen=True)
class SnapshotComparison:
    """Both sides' tables in one snapshot each, taken when the drain marker arrived."""

    frozen: str  # label of the fenced side (its content cannot change any more)
    caught_up: str  # label of the side the marker reached
    taken_at: float
    marker_id: str
    tables: dict[str, tuple[TableSum, TableSum]]
    # audit_log rows written on the next writer, in the frozen and in the caught-up snapshot: equal = valid snapshot
    guard: tuple[int, int]

    @property
    def valid(self) -> bool:
        """No write newer than the fence had reached the caught-up side when its snapshot was taken."""
        return self.guard[0] == self.guard[1]

    @property
    def equal(self) -> bool:
        return all(left == right for left, right in self.tables.values())

    @property
    def ok(self) -> bool:
        return self.valid and self.equal

    def to_dict(self) -> dict[str, Any]:
        return {
            "frozen": self.frozen,
            "caught_up": self.caught_up,
            "marker_id": self.marker_id,
            "valid_snapshot": self.valid,
            "equal": self.equal,
            "tables": {
                table: {"frozen": left.to_dict(), "caught_up": right.to_dict(), "equal": left == right}
                for table, (left, right) in self.tables.items()
            },
        }


def compare_snapshots(frozen: Cluster, caught_up: Cluster, marker_id: str, next_writer: Cluster) -> SnapshotComparison:
    """Snapshot both sides (REPEATABLE READ, started back to back) and compare counts and checksums of every table.

    `next_writer` is the side the writer moves to next: its own audit_log rows (written_on = its cluster
    name) must be as many in the caught-up snapshot as in the frozen one, else a newer write was included.
    """
    with frozen.admin(autocommit=False) as left, caught_up.admin(autocommit=False) as right:
        taken_at = time.time()
        for connection in (right, left):
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            connection.execute("SELECT 1")  # the snapshot is taken by the first statement
        guard_query = "SELECT count(*) FROM public.audit_log WHERE written_on = %s"
        guards = []
        for connection in (left, right):
            row = connection.execute(guard_query, (next_writer.cluster_name,)).fetchone()
            guards.append(int(row[0]) if row else -1)
        left_sums, right_sums = table_sums(left, TABLES), table_sums(right, TABLES)
        left.rollback()
        right.rollback()
    return SnapshotComparison(
        frozen.label,
        caught_up.label,
        taken_at,
        marker_id,
        {table: (left_sums[table], right_sums[table]) for table in TABLES},
        (guards[0], guards[1]),
    )


def marker_ids(connection: psycopg.Connection[Any]) -> set[str]:
    query = sql.SQL("SELECT id FROM public.{}").format(sql.Identifier(MARKER_TABLE))
    return {str(row[0]) for row in connection.execute(query).fetchall()}


class MarkerWatcher:
    """Waits (in a thread) for a new drain marker on `caught_up`, then compares both sides at once.

    It polls every 20 ms: faster than the CLI's own drain poll, so the snapshot is taken before the
    sequence sync and the flip that follow the drain.
    """

    def __init__(self, frozen: Side, caught_up: Side, next_writer: Side, timeout_s: float) -> None:
        self.frozen, self.caught_up, self.next_writer = frozen, caught_up, next_writer
        self.timeout_s = timeout_s
        self.result: SnapshotComparison | None = None
        self.error: str | None = None
        self.seen_at: float | None = None
        with contextlib.closing(self._connect()) as connection:
            self._known = self._marker_ids(connection)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rehearsal-marker-watcher", daemon=True)

    def start(self) -> MarkerWatcher:
        self._thread.start()
        return self

    # What an engine changes (mariadb_verdicts.MariaMarkerWatcher): the session, the query, the comparison.
    lost_session: tuple[type[BaseException], ...] = (psycopg.OperationalError,)

    def _connect(self) -> Any:
        return self.caught_up.admin()  # type: ignore[attr-defined]

    def _marker_ids(self, connection: Any) -> set[str]:
        return marker_ids(connection)

    def _closed(self, connection: Any) -> bool:
        return bool(connection.closed)

    def _compare(self, marker_id: str) -> SnapshotComparison:
        return compare_snapshots(self.frozen, self.caught_up, marker_id, self.next_writer)  # type: ignore[arg-type]

    def _run(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        connection: Any = None
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    if connection is None or self._closed(connection):
                        connection = self._connect()
                    new = self._marker_ids(connection) - self._known
                except self.lost_session:
                    connection = None
                    new = set()
                if new:
                    self.seen_at = time.time()
                    self.result = self._compare(sorted(new)[0])
                    return
                self._stop.wait(MARKER_POLL_SECONDS)
            self.error = "no new drain marker arrived" if not self._stop.is_set() else "stopped before a marker arrived"
        except Exception as error:  # reported in the verdicts, never a silent thread death
            self.error = f"{type(error).__name__}: {error}"
        finally:
            if connection is not None:
                connection.close()

    def finish(self, grace_s: float = 5.0) -> MarkerWatcher:
        """Give a marker that just arrived `grace_s` to be compared, then stop watching."""
        self._thread.join(grace_s)
        self._stop.set()
        self._thread.join(self.timeout_s + 30)
        return self


def summarize(comparisons: Iterable[SnapshotComparison]) -> list[str]:
    lines = []
    for comparison in comparisons:
        verdict = "EQUAL" if comparison.equal else "DIFFERENT"
        validity = "" if comparison.valid else " (snapshot NOT valid: a newer write was already included)"
        lines.append(
            f"tables at marker {comparison.marker_id}: {comparison.frozen} vs {comparison.caught_up}: {verdict}{validity}"
        )
        for table, (left, right) in comparison.tables.items():
            mark, checksum = ("=", "equal") if left == right else ("!=", "DIFFERS")
            lines.append(f"    {table:<28} {left.rows:>9} rows {mark} {right.rows:>9} rows   checksum {checksum}")
    return lines
