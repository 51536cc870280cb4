"""Native logical replication standing in for AWS DMS, and its lag measured from the replication's own positions.

Forward (full load + CDC): a publication FOR ALL TABLES on the source, a subscription on the target
(initial copy of every table, then streaming in commit order, one apply worker: like a DMS task with
transactional apply). Reverse (for a writer rollback): the target publishes, the source subscribes
with copy_data = false. PostgreSQL 15 has no `origin = none`, so the reverse subscription is created
only after the forward one stopped applying; otherwise every row would loop between the two.

Lag, mapped onto the DMS metrics (see docs/rehearsal.md):

* the publisher's flushed WAL end (pg_current_wal_flush_lsn: what a walsender can send; an asynchronous
  commit gets there within wal_writer_delay) is sampled every second, so a WAL position can be turned
  into the moment the publisher reached it (linear interpolation between samples);
* CDCLatencySource = now - when the publisher reached the position its walsender has decoded and
  sent (pg_stat_replication.sent_lsn): how far capture is behind the newest commit;
* CDCLatencyTarget = now - when the publisher reached the position the subscriber has applied
  (pg_stat_replication.replay_lsn): how old the oldest change not yet applied on the target is;
* with no walsender (subscription disabled or broken) both use the slot's confirmed_flush_lsn:
  nothing is being captured, so both grow with the publisher's newest commit;
* a position at or past the WAL end means nothing is waiting: 0 s.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg import sql

from tap_operator.databases import Marker
from tools.rehearsal.clusters import Cluster

FORWARD = "tap_rehearsal_forward"
REVERSE = "tap_rehearsal_reverse"
# Samples older than this are dropped; a position that old reports at least this much lag.
LSN_HISTORY_SECONDS = 3600.0
POLL_SECONDS = 0.2


class ReplicationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Link:
    """One publication/subscription pair: `publisher` sends, `subscriber` applies; slot and subscription share the name."""

    name: str
    publisher: Cluster
    subscriber: Cluster

    def enable(self) -> None:
        with self.subscriber.admin() as connection:
            connection.execute(sql.SQL("ALTER SUBSCRIPTION {} ENABLE").format(sql.Identifier(self.name)))

    def disable(self) -> None:
        """Stop applying: the apply worker exits, the slot on the publisher stays and keeps the WAL."""
        with self.subscriber.admin() as connection:
            connection.execute(sql.SQL("ALTER SUBSCRIPTION {} DISABLE").format(sql.Identifier(self.name)))

    def apply_running(self) -> bool:
        """Whether the subscription's apply worker is running (pg_stat_subscription has its pid)."""
        with self.subscriber.admin() as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_subscription WHERE subname = %s AND pid IS NOT NULL",
                (self.name,),
            ).fetchone()
        return bool(row and row[0])

    def wait_until_stopped(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.apply_running():
            if time.monotonic() > deadline:
                raise ReplicationError(f"the apply worker of {self.name} did not stop within {timeout_s:.0f}s")
            time.sleep(POLL_SECONDS)


def _subscribe(publisher: Cluster, subscriber: Cluster, name: str, *, copy_data: bool) -> Link:
    with publisher.admin() as connection:
        # The fence makes the database default to read-only; this DDL is the DBA's, not the application's.
        connection.execute("SET default_transaction_read_only = off")
        connection.execute(sql.SQL("CREATE PUBLICATION {} FOR ALL TABLES").format(sql.Identifier(name)))
    with subscriber.admin() as connection:
        connection.execute("SET default_transaction_read_only = off")
        # CREATE SUBSCRIPTION cannot run inside a transaction block: this session is in autocommit.
        connection.execute(
            sql.SQL("CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {} WITH (copy_data = {})").format(
                sql.Identifier(name),
                sql.Literal(publisher.admin_url() + "?sslmode=prefer"),
                sql.Identifier(name),
                sql.Literal(copy_data),
            )
        )
    return Link(name, publisher, subscriber)


def start_forward(source: Cluster, target: Cluster, name: str = FORWARD) -> Link:
    """Publication on the source, subscription on the target: the initial copy of every table starts now."""
    return _subscribe(source, target, name, copy_data=True)


def copy_states(link: Link) -> dict[str, str]:
    """Table -> pg_subscription_rel.srsubstate (i init, d data copy, f/s sync, r ready)."""
    with link.subscriber.admin() as connection:
        rows = connection.execute(
            "SELECT c.relname, r.srsubstate FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid "
            "JOIN pg_class c ON c.oid = r.srrelid WHERE s.subname = %s",
            (link.name,),
        ).fetchall()
    return {str(table): str(state) for table, state in rows}


def wait_for_initial_copy(link: Link, tables: int, timeout_s: float) -> float:
    """Wait until every one of `tables` tables is ready (srsubstate = 'r'); returns the seconds waited."""
    started = time.monotonic()
    while True:
        states = copy_states(link)
        if len(states) >= tables and all(state == "r" for state in states.values()):
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            pending = {table: state for table, state in states.items() if state != "r"}
            raise ReplicationError(f"initial copy not finished after {timeout_s:.0f}s: {pending or 'no table registered'}")
        time.sleep(POLL_SECONDS)


# --------------------------------------------------------------------------------------
# Lag


class LsnClock:
    """When the publisher's WAL end reached each position, from periodic samples (thread-safe).

    For each WAL end seen it keeps the first and the last sample time: a position between two seen
    ends was reached after the older end was last seen and before the newer one was first seen, so
    the moment is interpolated in that interval.
    """

    def __init__(self, horizon_s: float = LSN_HISTORY_SECONDS) -> None:
        self._positions: deque[int] = deque()
        self._first_seen: deque[float] = deque()
        self._last_seen: deque[float] = deque()
        self._horizon = horizon_s
        self._lock = threading.Lock()

    def observe(self, at: float, position: int) -> None:
        with self._lock:
            if self._positions and position <= self._positions[-1]:
                self._last_seen[-1] = max(self._last_seen[-1], at)
                return
            self._positions.append(position)
            self._first_seen.append(at)
            self._last_seen.append(at)
            while self._last_seen[0] < at - self._horizon:
                self._positions.popleft()
                self._first_seen.popleft()
                self._last_seen.popleft()

    def reached_at(self, position: int) -> float | None:
        """When the WAL end first passed `position`; None if it has not yet; the oldest sample if that is older."""
        with self._lock:
            if not self._positions or position >= self._positions[-1]:
                return None
            positions = list(self._positions)
            index = bisect.bisect_right(positions, position)
            if index == 0:
                return self._first_seen[0]
            before_at, before_lsn = self._last_seen[index - 1], positions[index - 1]
            after_at, after_lsn = self._first_seen[index], positions[index]
            share = (position - before_lsn) / (after_lsn - before_lsn)
            return before_at + share * (after_at - before_at)

    def lag(self, position: int, now: float) -> float:
        """Seconds the change right after `position` has been waiting (0 when nothing waits)."""
        reached = self.reached_at(position)
        return 0.0 if reached is None else max(0.0, now - reached)


@dataclass(frozen=True)
class LagSample:
    at: float  # time.time()
    source_s: float | None  # CDCLatencySource; None when the link is unknown to the publisher (no slot)
    target_s: float | None  # CDCLatencyTarget
    wal_end: int
    sent: int | None
    applied: int | None
    streaming: bool  # a walsender is serving the subscription


class Meter(Protocol):
    """What the monitor measures once a second (LagMeter here, mariadb_replication.GtidLagMeter for MariaDB)."""

    def measure(self) -> LagSample: ...

    def close(self) -> None: ...


class LagMeter:
    """Measures one link from the publisher's side; connects to the publisher's `postgres` database.

    That session is not in the application database, so a fence (which ends the application
    database's sessions) does not end it.
    """

    def __init__(self, link: Link, clock: Callable[[], float] = time.time) -> None:
        self.link = link
        self._clock = clock
        self._wal = LsnClock()
        self._connection: psycopg.Connection[Any] | None = None

    def _session(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            self._connection = self.link.publisher.admin("postgres")
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def measure(self) -> LagSample:
        try:
            row = self._query()
        except psycopg.OperationalError:
            self.close()  # one retry on a fresh session (the server restarted a backend)
            row = self._query()
        now = self._clock()
        wal_end, sent, applied, confirmed = (int(value) if value is not None else None for value in row)
        assert wal_end is not None
        self._wal.observe(now, wal_end)
        streaming = sent is not None
        captured = sent if streaming else confirmed
        done = applied if streaming else confirmed
        return LagSample(
            at=now,
            source_s=self._wal.lag(captured, now) if captured is not None else None,
            target_s=self._wal.lag(done, now) if done is not None else None,
            wal_end=wal_end,
            sent=captured,
            applied=done,
            streaming=streaming,
        )

    def _query(self) -> tuple[Any, ...]:
        row = (
            self._session()
            .execute(
                "SELECT pg_current_wal_flush_lsn() - '0/0', "
                "(SELECT sent_lsn - '0/0' FROM pg_stat_replication WHERE application_name = %(name)s), "
                "(SELECT replay_lsn - '0/0' FROM pg_stat_replication WHERE application_name = %(name)s), "
                "(SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = %(name)s)",
                {"name": self.link.name},
            )
            .fetchone()
        )
        assert row is not None
        return tuple(row)


# --------------------------------------------------------------------------------------
# Reverse replication (the operator CLI's ReverseReplication for a rehearsal)


class RehearsalReverse:
    """Target -> source logical replication, started at the writer flip and stopped after the writer moved back.

    `on_start(link)` / `on_stop()` let the rehearsal measure and publish the lag of the replication that
    currently carries the application's writes.
    """

    def __init__(
        self,
        forward: Link,
        on_start: Callable[[Link], None] = lambda _: None,
        on_stop: Callable[[], None] = lambda: None,
        name: str = REVERSE,
    ) -> None:
        self.forward = forward
        self.name = name
        self.link: Link | None = None
        self.started_marker: str | None = None
        self._on_start = on_start
        self._on_stop = on_stop

    def start(self, marker: Marker) -> str:
        """Forward off first (PostgreSQL 15 cannot filter by origin), then the target publishes and the source subscribes."""
        self.forward.disable()
        self.forward.wait_until_stopped()
        self.link = _subscribe(self.forward.subscriber, self.forward.publisher, self.name, copy_data=False)
        self.started_marker = marker.id
        self._on_start(self.link)
        return (
            f"forward subscription {self.forward.name} disabled after marker {marker.id} drained; reverse publication and "
            f"subscription {self.name} ({self.link.publisher.label} -> {self.link.subscriber.label}, copy_data = false) started"
        )

    def stop(self) -> str:
        if self.link is None:
            return "reverse replication was never started"
        self.link.disable()
        self.link.wait_until_stopped()
        self._on_stop()
        return f"reverse subscription {self.link.name} on {self.link.subscriber.label} disabled"

    def abandon(self) -> str:
        """The flip did not happen: drop the reverse subscription (and its slot) and let the forward one apply again."""
        dropped = "no reverse subscription was created"
        if self.link is not None:
            link, self.link = self.link, None
            link.disable()
            link.wait_until_stopped()
            with link.subscriber.admin() as connection:
                connection.execute("SET default_transaction_read_only = off")
                connection.execute(sql.SQL("DROP SUBSCRIPTION {}").format(sql.Identifier(link.name)))
            with link.publisher.admin() as connection:
                connection.execute(sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(link.name)))
            self._on_stop()
            dropped = f"reverse subscription {link.name} dropped"
        self.forward.enable()
        return f"{dropped}; forward subscription {self.forward.name} enabled again"
