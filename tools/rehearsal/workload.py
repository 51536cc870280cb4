"""An application that writes and reads through the cutover's DNS names, and logs what it was told.

Writer threads resolve writer.<domain> (cached for the record's TTL; a connection lives no longer
than the answer it was opened from), connect as the application's role and run one transaction per
slot at a steady total rate: insert a ledger row, update or delete one of their own rows, each with
an audit_log row carrying a client-generated txn_id. Every commit
the server acknowledged is logged with its content and version. A commit whose answer was lost (the
connection died during COMMIT) is logged as in doubt: it may or may not have happened, and is never
counted as lost; the thread never touches that row again. Any other error is a refused write the
client saw (the fence's read-only error, a terminated session, a refused connection): the thread
closes the connection, waits a moment, re-resolves (its cache still answers until the TTL ends) and
reconnects. Reader threads do the same through reader.<domain> with SELECTs, each read asking the
next of a pool of DNS clients (resolver.ClientPool) and reading from the cluster that client's
cached answer names, so the share of reads on Aurora follows the reader weight.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import psycopg
from botocore.exceptions import BotoCoreError, ClientError
from psycopg import errors as pg_errors

from tools.rehearsal.resolver import NameTable, ResolveError, Resolver
from tools.rehearsal.sides import Side
from tools.rehearsal.timeline import (
    READ_ERROR,
    READ_OK,
    WRITE_ACKED,
    WRITE_DUPLICATE_KEY,
    WRITE_IN_DOUBT,
    WRITE_REFUSED,
    Timeline,
)

Operation = Literal["insert", "update", "delete"]
Outcome = Literal["acknowledged", "in_doubt"]
ERROR_BACKOFF_SECONDS = 0.2
# Behind schedule by more than this (an outage, a slow reconnect): restart the schedule instead of bursting.
MAX_LAG_BEFORE_RESET_SECONDS = 1.0
MIN_OWN_ROWS = 5
STOP_JOIN_SECONDS = 15.0
ERROR_EXAMPLES = 5


@dataclass(frozen=True)
class WriteRecord:
    """One transaction the client committed: acknowledged, or in doubt (no answer to COMMIT)."""

    txn_id: str
    request_id: str
    operation: Operation
    version: int  # the row's version after this transaction (a delete keeps the last one)
    amount: Decimal
    note: str
    outcome: Outcome
    database: str  # the role of the cluster the thread was connected to: source | target
    thread: int
    at: float  # time.time() when COMMIT returned (or failed)


@dataclass(frozen=True)
class SeenError:
    """An error a client thread saw (kept as an example for the report)."""

    at: float
    kind: str
    database: str | None
    thread: str
    message: str


@dataclass
class WorkloadConfig:
    rate: float = 200.0  # writer transactions per second, all writer threads together
    writers: int = 4
    readers: int = 2
    read_rate: float = 50.0  # reads per second, all reader threads together
    customers: int = 1  # customer ids 1..customers exist (the ledger's foreign key)
    ledger_seed_rows: int = 1  # ledger ids 1..n existed before the workload (what readers look up)
    seed: int = 14


@dataclass
class _OwnRows:
    """Rows a writer inserted and may still update or delete: request_id -> (version, amount, note)."""

    rows: dict[str, tuple[int, Decimal, str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def add(self, request_id: str, state: tuple[int, Decimal, str]) -> None:
        if request_id not in self.rows:
            self.order.append(request_id)
        self.rows[request_id] = state

    def forget(self, request_id: str) -> None:
        if self.rows.pop(request_id, None) is not None:
            index = self.order.index(request_id)
            self.order[index] = self.order[-1]
            self.order.pop()

    def choose(self, rng: random.Random) -> str:
        return self.order[rng.randrange(len(self.order))]

    def __len__(self) -> int:
        return len(self.rows)


def classify(error: BaseException) -> str:
    """The kind of client-visible error, for the counts."""
    if isinstance(error, pg_errors.ReadOnlySqlTransaction):
        return "read_only"
    if isinstance(error, pg_errors.UniqueViolation):
        return "duplicate_key"
    if isinstance(error, pg_errors.AdminShutdown):
        return "session_terminated"
    if isinstance(error, psycopg.OperationalError):
        return "connection"
    if isinstance(error, ResolveError | BotoCoreError | ClientError):
        return "resolve"
    return type(error).__name__


def _pg_closed(connection: Any) -> bool:
    return bool(connection.closed)


def _pg_lost_answer(connection: Any, error: BaseException) -> bool:
    return bool(connection.broken or connection.closed or isinstance(error, psycopg.OperationalError))


def _pg_connect(side: Side, application: str, autocommit: bool) -> Any:
    return side.app(application_name=application, autocommit=autocommit)


@dataclass(frozen=True)
class Dialect:
    """What the workload needs of a database family: its errors, its statements, how a connection dies.

    The statements take the same parameters on every engine (DB-API `%s` parameters):
    insert (request_id, customer_id, amount, version, note), update (amount, version, note, request_id),
    delete (request_id), audit (txn_id, request_id, operation, version) and read (ledger id).
    """

    errors: tuple[type[BaseException], ...]  # what a database call of the driver raises
    classify: Callable[[BaseException], str]  # the kind of a client-visible error, for the counts
    lost_answer: Callable[[Any, BaseException], bool]  # a failed COMMIT whose outcome the client cannot know
    is_closed: Callable[[Any], bool]
    connect: Callable[[Side, str, bool], Any]  # (side, application name, autocommit) -> an application session
    insert: str
    update: str
    delete: str
    audit: str
    read: str

    @property
    def session_errors(self) -> tuple[type[BaseException], ...]:
        """What opening or using an application session may raise: the driver's errors, and DNS (Route 53) failures."""
        return (*self.errors, ResolveError, BotoCoreError, ClientError)


POSTGRES = Dialect(
    errors=(psycopg.Error,),
    classify=classify,
    lost_answer=_pg_lost_answer,
    is_closed=_pg_closed,
    connect=_pg_connect,
    insert="INSERT INTO public.ledger (request_id, customer_id, amount, version, note) VALUES (%s, %s, %s, %s, %s)",
    update="UPDATE public.ledger SET amount = %s, version = %s, note = %s, updated_at = now() WHERE request_id = %s",
    delete="DELETE FROM public.ledger WHERE request_id = %s",
    audit="INSERT INTO public.audit_log (txn_id, request_id, operation, version) VALUES (%s, %s, %s, %s)",
    read="SELECT l.amount, l.version, c.email FROM public.ledger l JOIN public.customers c ON c.id = l.customer_id "
    "WHERE l.id = %s",
)


class _Session:
    """One thread's connections, kept while DNS keeps pointing at their cluster.

    Before every operation the thread asks its resolver (answered from a cache until the TTL ends).
    A writer (`one_per_cluster=False`) has one connection: when the answer names another cluster, it is
    closed and a new one opened there, as a pool whose connections live no longer than the DNS answer
    they were opened from. A reader serving many DNS clients (`one_per_cluster=True`, a ClientPool whose
    clients' answers differ while the weights move) keeps one connection per cluster and uses the one
    the answer names.
    """

    def __init__(
        self,
        names: NameTable[Side],
        resolver: Resolver,
        application: str,
        *,
        autocommit: bool,
        one_per_cluster: bool = False,
        dialect: Dialect | None = None,
    ) -> None:
        self._dialect = dialect or POSTGRES
        self._names = names
        self._resolver = resolver
        self._application = application
        self._autocommit = autocommit
        self._one_per_cluster = one_per_cluster
        self._open: dict[str, Any] = {}  # cluster role -> connection
        self.cluster: Side | None = None  # where the last connection went

    def ensure(self) -> tuple[Any, Side]:
        wanted = self._names.lookup(self._resolver.resolve().target)
        if not self._one_per_cluster and self.cluster is not None and wanted is not self.cluster:
            self.close()
        connection = self._open.get(wanted.role)
        if connection is not None and self._dialect.is_closed(connection):
            del self._open[wanted.role]
            connection = None
        self.cluster = wanted
        if connection is None:
            connection = self._open[wanted.role] = self._dialect.connect(wanted, self._application, self._autocommit)
        return connection, wanted

    def close(self) -> None:
        while self._open:
            connection = self._open.popitem()[1]
            if not self._dialect.is_closed(connection):
                with contextlib.suppress(*self._dialect.errors):  # PyMySQL raises closing a session the server ended
                    connection.close()


class Workload:
    def __init__(
        self,
        config: WorkloadConfig,
        names: NameTable[Side],
        writer_resolver: Callable[[int], Resolver],
        reader_resolver: Callable[[int], Resolver],
        timeline: Timeline,
        *,
        dialect: Dialect = POSTGRES,
    ) -> None:
        self.config = config
        self.dialect = dialect
        self.names = names
        self._writer_resolver = writer_resolver
        self._reader_resolver = reader_resolver
        self.timeline = timeline
        self.records: list[WriteRecord] = []
        self.error_counts: Counter[tuple[str, str, str | None]] = Counter()  # (writer|reader, kind, database)
        self.error_examples: list[SeenError] = []
        self.missing_rows: list[tuple[str, str]] = []  # (request_id, database): an update/delete found no row
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.crashed: list[str] = []

    # -- lifecycle

    def start(self) -> None:
        for index in range(self.config.writers):
            self._spawn(f"rehearsal-writer-{index}", self._writer, index)
        for index in range(self.config.readers):
            self._spawn(f"rehearsal-reader-{index}", self._reader, index)

    def _spawn(self, name: str, target: Callable[[int], None], index: int) -> None:
        def run() -> None:
            try:
                target(index)
            except Exception as error:  # a bug in a thread must show in the report, not vanish
                with self._lock:
                    self.crashed.append(f"{name}: {type(error).__name__}: {error}")

        thread = threading.Thread(target=run, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(STOP_JOIN_SECONDS)
        alive = [thread.name for thread in self._threads if thread.is_alive()]
        if alive:
            raise RuntimeError(f"workload threads did not stop within {STOP_JOIN_SECONDS:.0f}s: {', '.join(alive)}")

    def __enter__(self) -> Workload:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- bookkeeping

    def _error(self, who: str, kind: str, database: str | None, error: BaseException | str) -> None:
        with self._lock:
            self.error_counts[(who.split("-")[1], kind, database)] += 1
            if sum(1 for example in self.error_examples if example.kind == kind) < ERROR_EXAMPLES:
                self.error_examples.append(SeenError(time.time(), kind, database, who, str(error).strip().splitlines()[0][:300]))

    def _log(self, record: WriteRecord) -> None:
        with self._lock:
            self.records.append(record)

    def _wait_for_slot(self, schedule: list[float], interval: float) -> bool:
        """Sleep until the next slot of a steady schedule; False when the workload is stopping."""
        now = time.monotonic()
        if now - schedule[0] > MAX_LAG_BEFORE_RESET_SECONDS:
            schedule[0] = now
        delay = schedule[0] - now
        if delay > 0 and self._stop.wait(delay):
            return False
        schedule[0] += interval
        return not self._stop.is_set()

    # -- writers

    def _writer(self, index: int) -> None:
        name = f"rehearsal-writer-{index}"
        rng = random.Random(self.config.seed * 1000 + index)  # noqa: S311  (workload shape, not secrets)
        session = _Session(self.names, self._writer_resolver(index), name, autocommit=False, dialect=self.dialect)
        interval = self.config.writers / self.config.rate
        own = _OwnRows()
        schedule = [time.monotonic()]
        try:
            while self._wait_for_slot(schedule, interval):
                try:
                    connection, cluster = session.ensure()
                except self.dialect.session_errors as error:
                    self._refuse(name, self.dialect.classify(error), session.cluster.role if session.cluster else None, error)
                    self._stop.wait(ERROR_BACKOFF_SECONDS)
                    continue
                if not self._write_once(name, index, rng, connection=connection, cluster=cluster, own=own):
                    session.close()
                    self._stop.wait(ERROR_BACKOFF_SECONDS)
        finally:
            session.close()

    def _refuse(self, name: str, kind: str, database: str | None, error: BaseException | str) -> None:
        self._error(name, kind, database, error)
        if kind == "duplicate_key":
            self.timeline.count(WRITE_DUPLICATE_KEY, database)
        self.timeline.count(WRITE_REFUSED, database or "unresolved")

    def _roll_back(self, connection: Any) -> None:
        """End the failed transaction; a session that cannot even roll back is closed (the next write reconnects)."""
        if self.dialect.is_closed(connection):
            return
        try:
            connection.rollback()
        except self.dialect.errors:
            with contextlib.suppress(*self.dialect.errors):
                connection.close()

    def _write_once(self, name: str, index: int, rng: random.Random, *, connection: Any, cluster: Side, own: _OwnRows) -> bool:
        """One transaction; False when the connection should be dropped (any error)."""
        roll = rng.random()
        operation: Operation = "insert" if len(own) < MIN_OWN_ROWS or roll < 0.5 else "update" if roll < 0.85 else "delete"
        txn_id = str(uuid.uuid4())
        if operation == "insert":
            request_id, version = str(uuid.uuid4()), 1
        else:
            request_id = own.choose(rng)
            version = own.rows[request_id][0] + (1 if operation == "update" else 0)
        amount = Decimal(rng.randrange(1, 10_000_000)) / 100
        note = f"{operation} v{version} by {name} ({txn_id[:8]})"
        try:
            with connection.cursor() as cursor:
                if operation == "insert":
                    cursor.execute(
                        self.dialect.insert, (request_id, rng.randint(1, self.config.customers), amount, version, note)
                    )
                elif operation == "update":
                    cursor.execute(self.dialect.update, (amount, version, note, request_id))
                else:
                    cursor.execute(self.dialect.delete, (request_id,))
                if cursor.rowcount != 1:
                    # A row this thread wrote and was told is committed is not there: the verdicts will count it.
                    connection.rollback()
                    with self._lock:
                        self.missing_rows.append((request_id, cluster.role))
                    own.forget(request_id)
                    self._refuse(name, "row_missing", cluster.role, f"{operation} of {request_id} matched {cursor.rowcount} rows")
                    return True
                cursor.execute(self.dialect.audit, (txn_id, request_id, operation, version))
        except self.dialect.errors as error:
            self._roll_back(connection)
            self._refuse(name, self.dialect.classify(error), cluster.role, error)
            return False
        try:
            connection.commit()
        except self.dialect.errors as error:
            if self.dialect.lost_answer(connection, error):
                # The server may have committed before the connection died: neither acknowledged nor lost.
                self._log(
                    WriteRecord(
                        txn_id, request_id, operation, version, amount, note, "in_doubt", cluster.role, index, time.time()
                    )
                )
                own.forget(request_id)
                self._error(name, "in_doubt", cluster.role, error)
                self.timeline.count(WRITE_IN_DOUBT)
            else:
                self._refuse(name, self.dialect.classify(error), cluster.role, error)
            return False
        at = time.time()
        self._log(WriteRecord(txn_id, request_id, operation, version, amount, note, "acknowledged", cluster.role, index, at))
        self.timeline.count(WRITE_ACKED, cluster.role, at)
        if operation == "delete":
            own.forget(request_id)
        else:
            own.add(request_id, (version, amount, note))
        return True

    # -- readers

    def _reader(self, index: int) -> None:
        name = f"rehearsal-reader-{index}"
        rng = random.Random(self.config.seed * 1000 + 500 + index)  # noqa: S311
        session = _Session(
            self.names, self._reader_resolver(index), name, autocommit=True, one_per_cluster=True, dialect=self.dialect
        )
        interval = self.config.readers / self.config.read_rate
        schedule = [time.monotonic()]
        try:
            while self._wait_for_slot(schedule, interval):
                try:
                    connection, cluster = session.ensure()
                    with connection.cursor() as cursor:
                        cursor.execute(self.dialect.read, (rng.randint(1, self.config.ledger_seed_rows),))
                        cursor.fetchall()
                except self.dialect.session_errors as error:
                    self._error(name, self.dialect.classify(error), session.cluster.role if session.cluster else None, error)
                    self.timeline.count(READ_ERROR)
                    session.close()
                    self._stop.wait(ERROR_BACKOFF_SECONDS)
                    continue
                self.timeline.count(READ_OK, cluster.role)
        finally:
            session.close()

    # -- summary

    def counts(self) -> dict[str, Any]:
        with self._lock:
            acknowledged = sum(1 for record in self.records if record.outcome == "acknowledged")
            in_doubt = sum(1 for record in self.records if record.outcome == "in_doubt")
            refused = Counter[str]()
            for (who, kind, database), count in self.error_counts.items():
                if who == "writer" and kind != "in_doubt":
                    refused[f"{kind}@{database}"] += count
            reads = Counter[str]()
            for (who, kind, database), count in self.error_counts.items():
                if who == "reader":
                    reads[f"{kind}@{database}"] += count
            return {
                "acknowledged": acknowledged,
                "in_doubt": in_doubt,
                "refused": dict(sorted(refused.items())),
                "refused_total": sum(refused.values()),
                "read_errors": dict(sorted(reads.items())),
                "missing_rows_seen_by_clients": len(self.missing_rows),
                "crashed_threads": list(self.crashed),
            }
