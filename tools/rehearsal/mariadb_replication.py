"""GTID binlog replication standing in for AWS DMS on MariaDB, and its lag measured from GTID positions.

Forward: the replica (the stand-in for Aurora MySQL) replicates the primary (the source) from before the
application database existed, so the schema, the data and every later write reach it through the binlog.
Reverse, at the flip: the forward replication stops after the drain marker arrived, then the source
replicates the target from the target's GTID position of that moment (tools.dbservers.MariaDbLink.start),
as the reverse DMS task starts from Aurora's binlog position. Each server writes its own GTID domain
(1: source, 2: target) and ignores events carrying its own server-id, so nothing loops.

Lag, mapped onto the DMS metrics like the PostgreSQL rehearsal's (replication.LsnClock does the timing):
the position is the sequence number of the publisher's own GTID domain, which grows by one per
transaction it commits.

* the publisher's @@gtid_binlog_pos is sampled every second: when it reached each sequence number;
* CDCLatencySource = now - when the publisher reached what the replica's IO thread has received
  (SHOW SLAVE STATUS Gtid_IO_Pos): how far capture is behind the newest commit;
* CDCLatencyTarget = now - when the publisher reached what the replica has applied (@@gtid_slave_pos);
* replication stopped: both use the applied position (nothing is captured), so both grow with every commit;
* a position at or past the publisher's newest means nothing is waiting: 0 s.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pymysql
import pymysql.cursors

from tap_operator.databases import Marker
from tools.dbservers import MariaDbLink
from tools.rehearsal.mariadb_servers import MariaPair, MariaSide
from tools.rehearsal.replication import LagSample, LsnClock, ReplicationError

FORWARD = "gtid forward (source -> target)"
REVERSE = "gtid reverse (target -> source)"
LOST_SESSION = (pymysql.err.OperationalError, pymysql.err.InterfaceError)


def gtid_sequence(positions: str, domain: int) -> int:
    """The sequence number of `domain` in a GTID list such as '1-1-120,2-2-7' (0 when the domain is absent).

    Raises ValueError for text that is not a GTID list.
    """
    found = 0
    for item in (part.strip() for part in (positions or "").split(",")):
        if not item:
            continue
        pieces = item.split("-")
        if len(pieces) != 3 or not all(piece.isdigit() for piece in pieces):
            raise ValueError(f"not a GTID (domain-server-sequence): {item!r} in {positions!r}")
        if int(pieces[0]) == domain:
            found = max(found, int(pieces[2]))
    return found


@dataclass(frozen=True)
class GtidLink:
    """One direction of the replication: `subscriber` replicates `publisher` (whose own writes are `domain`)."""

    name: str
    publisher: MariaSide
    subscriber: MariaSide
    native: MariaDbLink
    back: MariaDbLink | None = None  # the way back (subscriber -> publisher), started at the flip

    @property
    def domain(self) -> int:
        return self.publisher.server_id  # tools.dbservers gives each server the domain of its server-id

    def disable(self) -> None:
        """STOP SLAVE on the subscriber: nothing more is received or applied; the position is kept."""
        self.native.stop()

    def enable(self) -> None:
        self.native.resume()


def forward_link(pair: MariaPair) -> GtidLink:
    return GtidLink(FORWARD, pair.source, pair.target, pair.servers.forward, pair.servers.reverse)


def wait_for_initial_copy(link: GtidLink, tables: int, timeout_s: float) -> float:
    """Wait until the subscriber applied everything the publisher had committed, and holds `tables` tables."""
    started = time.monotonic()
    link.native.wait_caught_up(timeout_s)
    found = link.subscriber.query(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (link.subscriber.database,)
    )[0][0]
    if int(found) < tables:
        raise ReplicationError(f"the target holds {found} of the source's {tables} tables after the binlog caught up")
    return time.monotonic() - started


class GtidLagMeter:
    """Measures one GtidLink: the publisher's newest position, the subscriber's received and applied ones.

    Its sessions are the operator's account (a fence ends them; one retry on a fresh session).
    """

    def __init__(self, link: GtidLink, clock: Callable[[], float] = time.time) -> None:
        self.link = link
        self._clock = clock
        self._positions = LsnClock()
        self._sessions: dict[str, Any] = {}

    def _session(self, side: MariaSide) -> Any:
        connection = self._sessions.get(side.role)
        if connection is None or not connection.open:
            connection = self._sessions[side.role] = side.admin()
        return connection

    def close(self) -> None:
        while self._sessions:
            with contextlib.suppress(pymysql.Error):
                self._sessions.popitem()[1].close()

    def _read(self) -> tuple[str, dict[str, Any], str]:
        with self._session(self.link.publisher).cursor() as cursor:
            cursor.execute("SELECT @@GLOBAL.gtid_binlog_pos")
            (newest,) = cursor.fetchone()
        with self._session(self.link.subscriber).cursor(pymysql.cursors.DictCursor) as cursor:
            cursor.execute("SHOW SLAVE STATUS")
            status = cursor.fetchone() or {}
            cursor.execute("SELECT @@GLOBAL.gtid_slave_pos AS applied")
            applied = cursor.fetchone()["applied"]
        return str(newest or ""), dict(status), str(applied or "")

    def measure(self) -> LagSample:
        try:
            newest, status, applied_text = self._read()
        except LOST_SESSION:
            self.close()
            newest, status, applied_text = self._read()
        now = self._clock()
        return sample_from(self._positions, now, domain=self.link.domain, newest=newest, status=status, applied_text=applied_text)


def sample_from(
    positions: LsnClock, now: float, *, domain: int, newest: str, status: dict[str, Any], applied_text: str
) -> LagSample:
    """One lag sample from what the servers answered (pure but for `positions`, which learns the newest)."""
    end = gtid_sequence(newest, domain)
    positions.observe(now, end)
    streaming = status.get("Slave_IO_Running") == "Yes" and status.get("Slave_SQL_Running") == "Yes"
    applied = gtid_sequence(applied_text, domain)
    captured = gtid_sequence(str(status.get("Gtid_IO_Pos") or ""), domain) if streaming else applied
    return LagSample(
        at=now,
        source_s=positions.lag(captured, now),
        target_s=positions.lag(applied, now),
        wal_end=end,
        sent=captured,
        applied=applied,
        streaming=streaming,
    )


def start_from_now(link: MariaDbLink) -> str:
    """Start `link` from the publisher's GTID position of now and return it, without waiting for the replica threads.

    As `MariaDbLink.start`, less its wait: a DMS task's start returns before the task runs, and the writer flip
    waits for this call (it is write outage). Whether it runs shows in the lag (not streaming: the lag grows) and
    in the rollback's drain, which waits for its marker to arrive through it.
    """
    return link.start_without_waiting()


class GtidReverse:
    """The operator CLI's ReverseReplication for the MariaDB rehearsal: target -> source from the flip on.

    `on_start(link)` / `on_stop()` let the rehearsal measure the replication that carries the writes;
    `link` is None until started and again after an abandon (the flip did not happen).
    """

    def __init__(
        self,
        forward: GtidLink,
        on_start: Callable[[GtidLink], None] = lambda _: None,
        on_stop: Callable[[], None] = lambda: None,
    ) -> None:
        if forward.back is None:
            raise ValueError(f"{forward.name} has no way back to start at the flip")
        self.forward = forward
        self._reverse = GtidLink(REVERSE, forward.subscriber, forward.publisher, forward.back)
        self.link: GtidLink | None = None
        self.started_marker: str | None = None
        self._on_start = on_start
        self._on_stop = on_stop

    def start(self, marker: Marker) -> str:
        """Forward off (the marker drained), then the source replicates the target from its position of now."""
        self.forward.disable()
        position = start_from_now(self._reverse.native)
        self.link = self._reverse
        self.started_marker = marker.id
        self._on_start(self.link)
        return (
            f"forward replication stopped after marker {marker.id} drained; {self._reverse.subscriber.label} replicates "
            f"{self._reverse.publisher.label} from GTID {position}"
        )

    def stop(self) -> str:
        if self.link is None:
            return "reverse replication was never started"
        self.link.native.remove()
        self._on_stop()
        return f"reverse replication into {self.link.subscriber.label} stopped (RESET SLAVE ALL)"

    def abandon(self) -> str:
        """The flip did not happen: remove the reverse replication and let the forward one apply again."""
        removed = "no reverse replication was started"
        if self.link is not None:
            link, self.link = self.link, None
            link.native.remove()
            self._on_stop()
            removed = f"reverse replication into {link.subscriber.label} removed"
        self.forward.enable()
        return f"{removed}; forward replication running again"
