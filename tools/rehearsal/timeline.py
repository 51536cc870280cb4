"""The rehearsal's per-second timeline, and its PNG.

Every thread counts into one Timeline: acknowledged writes per database, client errors by kind,
reads per database, the measured replication lag and the Aurora weights of both record pairs.
Events (fence proven, writer flipped, ...) are marked with their wall-clock time; when the lag stops
being measured (no replication left to measure), the reason is noted.

The picture numbers the events: each number stands on the time axis above its line, events closer
together than a label's width share one label ("4-8"), and a list under the panels gives every
number its time, its name and, within such a group, its offset from the group's first event, so the
fence's events within a few seconds of a five-minute axis stay readable. The legends stand in their
own column beside the panels, never over the data.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Counter names, one series each.
WRITE_ACKED = "write_acked"
WRITE_IN_DOUBT = "write_in_doubt"
WRITE_REFUSED = "write_refused"  # an error the client saw: read-only (fenced), connection refused or ended, ...
WRITE_DUPLICATE_KEY = "write_duplicate_key"
READ_OK = "read_ok"
READ_ERROR = "read_error"


@dataclass
class Second:
    counts: Counter[str] = field(default_factory=Counter)
    lag_source_s: float | None = None
    lag_target_s: float | None = None
    reader_weight: int | None = None  # Aurora's share of reader.<domain>
    writer_weight: int | None = None


class Timeline:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.started_at = clock()
        self._seconds: defaultdict[int, Second] = defaultdict(Second)
        self.events: list[tuple[float, str]] = []
        self.lag_stopped: tuple[float, str] | None = None  # when the lag stopped being measured, and why
        self._lock = threading.Lock()

    def _index(self, at: float | None) -> int:
        return int((self._clock() if at is None else at) - self.started_at)

    def count(self, name: str, database: str | None = None, at: float | None = None, amount: int = 1) -> None:
        key = f"{name}:{database}" if database else name
        with self._lock:
            self._seconds[self._index(at)].counts[key] += amount

    def lag(self, source_s: float | None, target_s: float | None, at: float | None = None) -> None:
        with self._lock:
            second = self._seconds[self._index(at)]
            second.lag_source_s, second.lag_target_s = source_s, target_s

    def weights(self, reader: int | None, writer: int | None, at: float | None = None) -> None:
        with self._lock:
            second = self._seconds[self._index(at)]
            second.reader_weight, second.writer_weight = reader, writer

    def event(self, name: str, at: float | None = None) -> None:
        with self._lock:
            self.events.append((self._clock() if at is None else at, name))

    def lag_stop(self, reason: str, at: float | None = None) -> None:
        """No lag is measured from now on (e.g. the replication was stopped at a rollback): the picture says why."""
        with self._lock:
            self.lag_stopped = (self._clock() if at is None else at, reason)

    def lag_resume(self) -> None:
        with self._lock:
            self.lag_stopped = None

    def snapshot(self) -> list[tuple[int, Second]]:
        with self._lock:
            if not self._seconds:
                return []
            last = max(self._seconds)
            return [(index, self._seconds.get(index, Second())) for index in range(last + 1)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able series: one entry per second since the start, and the events in seconds since the start."""
        rows = []
        for index, second in self.snapshot():
            rows.append(
                {
                    "t": index,
                    **{key: value for key, value in sorted(second.counts.items())},
                    "lag_source_s": _rounded(second.lag_source_s),
                    "lag_target_s": _rounded(second.lag_target_s),
                    "reader_weight": second.reader_weight,
                    "writer_weight": second.writer_weight,
                }
            )
        return {
            "started_at": self.started_at,
            "seconds": rows,
            "events": [{"t": round(at - self.started_at, 3), "event": name} for at, name in sorted(self.events)],
            "lag_stopped": None
            if self.lag_stopped is None
            else {"t": round(self.lag_stopped[0] - self.started_at, 3), "reason": self.lag_stopped[1]},
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def series(rows: list[tuple[int, Second]], key: str) -> list[int]:
    return [second.counts.get(key, 0) for _, second in rows]
