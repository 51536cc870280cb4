"""The MariaDB rehearsal's application statements and verdicts: the same proofs as verdicts.py, read from MariaDB.

* the workload's Dialect: pymysql sessions, the statements, and which errors leave a COMMIT in doubt;
* every acknowledged write judged on the final writer (verdicts.judge_records, the engine-independent part);
* both sides' tables at the drain marker, each in one consistent snapshot (START TRANSACTION WITH
  CONSISTENT SNAPSHOT) opened when the marker arrived and read after the operator's command returned: row
  count and the sum of a 60-bit hash (MD5) of each row's columns.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pymysql
from botocore.exceptions import BotoCoreError, ClientError

from tap_operator.databases.checks import MARKER_TABLE
from tools.rehearsal.mariadb_servers import TABLES, MariaSide
from tools.rehearsal.resolver import ResolveError
from tools.rehearsal.schema import TableSum
from tools.rehearsal.sides import Side
from tools.rehearsal.verdicts import MarkerWatcher, RowState, SnapshotComparison, WriteVerdict, judge_records
from tools.rehearsal.workload import Dialect, WriteRecord

READ_ONLY_CODES = (1290, 1836)  # ER_OPTION_PREVENTS_STATEMENT (--read-only), ER_READ_ONLY_MODE
DUPLICATE_KEY = 1062
# The session ended under the client: killed (1927), server gone (2006), lost during the query (2013), shutdown (1053).
SESSION_ENDED_CODES = (1927, 2006, 2013, 1053)
CANNOT_CONNECT_CODES = (2003, 2005)
REQUEST_CHUNK = 1000


def error_code(error: BaseException) -> int:
    args = getattr(error, "args", ())
    return int(args[0]) if args and isinstance(args[0], int) else 0


def classify(error: BaseException) -> str:
    """The kind of a client-visible error, named as the PostgreSQL rehearsal names them."""
    code = error_code(error)
    if code in READ_ONLY_CODES:
        return "read_only"
    if code == DUPLICATE_KEY:
        return "duplicate_key"
    if code in SESSION_ENDED_CODES:
        return "session_terminated"
    if code in CANNOT_CONNECT_CODES or isinstance(error, pymysql.err.OperationalError | pymysql.err.InterfaceError):
        return "connection"
    if isinstance(error, ResolveError | BotoCoreError | ClientError):
        return "resolve"
    return type(error).__name__


def lost_answer(connection: Any, error: BaseException) -> bool:
    """A COMMIT whose outcome the client cannot know: the session ended under it (a refusal such as read-only is an answer)."""
    return not connection.open or error_code(error) in SESSION_ENDED_CODES or isinstance(error, pymysql.err.InterfaceError)


def _connect(side: Side, application: str, autocommit: bool) -> Any:
    return side.app(application_name=application, autocommit=autocommit)


DIALECT = Dialect(
    errors=(pymysql.Error,),
    classify=classify,
    lost_answer=lost_answer,
    is_closed=lambda connection: not connection.open,
    connect=_connect,
    insert="INSERT INTO ledger (request_id, customer_id, amount, version, note) VALUES (%s, %s, %s, %s, %s)",
    update="UPDATE ledger SET amount = %s, version = %s, note = %s, updated_at = NOW(6) WHERE request_id = %s",
    delete="DELETE FROM ledger WHERE request_id = %s",
    audit="INSERT INTO audit_log (txn_id, request_id, operation, version, written_on) "
    "VALUES (%s, %s, %s, %s, CONCAT('server-', @@server_id))",
    read="SELECT l.amount, l.version, c.email FROM ledger l JOIN customers c ON c.id = l.customer_id WHERE l.id = %s",
)


def judge_writes(side: MariaSide, records: Sequence[WriteRecord]) -> WriteVerdict:
    """Every logged write judged on `side` (read after the workload stopped)."""
    request_ids = sorted({record.request_id for record in records})
    ledger: defaultdict[str, list[RowState]] = defaultdict(list)
    with contextlib.closing(side.admin()) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT txn_id, COUNT(*) FROM audit_log GROUP BY txn_id")
        audit = {str(txn): int(count) for txn, count in cursor.fetchall()}
        for start in range(0, len(request_ids), REQUEST_CHUNK):
            chunk = request_ids[start : start + REQUEST_CHUNK]
            cursor.execute("SELECT request_id, version, amount, note FROM ledger WHERE request_id IN %s", (chunk,))
            for request_id, version, amount, note in cursor.fetchall():
                ledger[str(request_id)].append((int(version), Decimal(amount), str(note)))
    return judge_records(audit, ledger, records, side.label)


def row_hash_sql(columns: Sequence[str]) -> str:
    """COUNT and the sum of each row's 60-bit MD5 hash over all `columns` (NULL written as \\N, columns separated by 0x1f)."""
    quoted = ", ".join(f"IFNULL(`{column.replace('`', '``')}`, '\\\\N')" for column in columns)
    return f"COUNT(*), COALESCE(SUM(CAST(CONV(LEFT(MD5(CONCAT_WS(0x1f, {quoted})), 15), 16, 10) AS UNSIGNED)), 0)"


def table_sums(connection: Any, tables: Sequence[str] = TABLES) -> dict[str, TableSum]:
    """Count and checksum each table in the session's current transaction (a consistent snapshot)."""
    sums: dict[str, TableSum] = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s "
                "ORDER BY ORDINAL_POSITION",
                (table,),
            )
            columns = [str(row[0]) for row in cursor.fetchall()]
            cursor.execute(f"SELECT {row_hash_sql(columns)} FROM `{table}`")  # noqa: S608  (quoted catalog names)
            count, checksum = cursor.fetchone()
            sums[table] = TableSum(int(count), int(checksum))
    return sums


@dataclass
class Snapshots:
    """A consistent snapshot opened on each side at the same moment, to be read later.

    Opening one (START TRANSACTION WITH CONSISTENT SNAPSHOT) creates a read view and touches no table, so it holds
    no metadata lock: the operator's AUTO_INCREMENT sync (ALTER TABLE) right after the drain is not held up by it,
    as it would be by a transaction that read the tables (the first run measured a 5.9 s sync instead of 1 s). An
    InnoDB read view outlives ALTER TABLE ... AUTO_INCREMENT and never sees rows committed after it was opened.
    """

    frozen: MariaSide
    caught_up: MariaSide
    left: Any
    right: Any
    taken_at: float

    def close(self) -> None:
        for connection in (self.left, self.right):
            with contextlib.suppress(pymysql.Error):
                connection.close()


def open_snapshots(frozen: MariaSide, caught_up: MariaSide) -> Snapshots:
    """Both sides' read views, started back to back (the caught-up side first, as on PostgreSQL)."""
    left, right = frozen.admin(autocommit=False), caught_up.admin(autocommit=False)
    taken_at = time.time()
    for connection in (right, left):
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
    return Snapshots(frozen, caught_up, left, right, taken_at)


def read_snapshots(snapshots: Snapshots, marker_id: str, next_writer: Side) -> SnapshotComparison:
    """Every table's count and checksum in each read view; the guard: audit_log rows written on `next_writer` are
    as many in both (no write newer than the fence was in the caught-up side's view)."""
    try:
        guards = []
        for connection in (snapshots.left, snapshots.right):
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM audit_log WHERE written_on = %s", (next_writer.cluster_name,))
                guards.append(int(cursor.fetchone()[0]))
        left_sums, right_sums = table_sums(snapshots.left), table_sums(snapshots.right)
    finally:
        snapshots.close()
    return SnapshotComparison(
        snapshots.frozen.label,
        snapshots.caught_up.label,
        snapshots.taken_at,
        marker_id,
        {table: (left_sums[table], right_sums[table]) for table in TABLES},
        (guards[0], guards[1]),
    )


def compare_snapshots(frozen: MariaSide, caught_up: MariaSide, marker_id: str, next_writer: Side) -> SnapshotComparison:
    """Open both read views and read them at once."""
    return read_snapshots(open_snapshots(frozen, caught_up), marker_id, next_writer)


class MariaMarkerWatcher(MarkerWatcher):
    """verdicts.MarkerWatcher on MariaDB: polls the marker table every 20 ms, compares at its first new row."""

    lost_session = (pymysql.err.OperationalError, pymysql.err.InterfaceError)

    def _side(self, side: Side) -> MariaSide:
        if not isinstance(side, MariaSide):
            raise TypeError(f"a MariaDB marker watcher needs MariaDB sides, got {side!r}")
        return side

    def _connect(self) -> Any:
        return self._side(self.caught_up).admin()

    def _marker_ids(self, connection: Any) -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM `{MARKER_TABLE}`")  # noqa: S608  (a constant)
            return {str(row[0]) for row in cursor.fetchall()}

    def _closed(self, connection: Any) -> bool:
        return not connection.open

    def _compare(self, marker_id: str) -> SnapshotComparison:
        """Open the read views the moment the marker arrived; read them once the operator's command returned
        (`finish()`), so the rehearsal's reads never delay the sync and the flip they measure."""
        snapshots = open_snapshots(self._side(self.frozen), self._side(self.caught_up))
        self._stop.wait(self.timeout_s)
        return read_snapshots(snapshots, marker_id, self.next_writer)
