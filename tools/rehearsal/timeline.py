"""The rehearsal's per-second timeline, and its PNG.

Every thread counts into one Timeline: acknowledged writes per database, client errors by kind,
reads per database, the measured replication lag and the Aurora weights of both record pairs.
Events (fence proven, writer flipped, ...) are marked with their wall-clock time.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
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
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def series(rows: list[tuple[int, Second]], key: str) -> list[int]:
    return [second.counts.get(key, 0) for _, second in rows]


def render_png(timeline: Timeline, path: Path, databases: Mapping[str, str], title: str) -> Path:
    """Four panels over time: writes/s per database, client errors/s, measured lag, Aurora weights; events marked."""
    import matplotlib  # noqa: PLC0415  (only the PNG needs it; everything else runs without matplotlib)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    rows = timeline.snapshot()
    xs = [index for index, _ in rows]
    figure, (writes, errors, lag, weights) = plt.subplots(4, 1, sharex=True, figsize=(12, 10), constrained_layout=True)
    for database, label in databases.items():
        writes.plot(xs, series(rows, f"{WRITE_ACKED}:{database}"), label=f"acknowledged writes/s on {label}")
        writes.plot(xs, series(rows, f"{READ_OK}:{database}"), linestyle=":", label=f"reads/s on {label}")
    writes.set_ylabel("per second")
    writes.legend(loc="upper right", fontsize="small")
    errors.plot(xs, [sum(v) for v in zip(*(series(rows, f"{WRITE_REFUSED}:{d}") for d in databases), strict=True)],
                label="refused writes/s (client saw an error)")  # fmt: skip
    errors.plot(xs, series(rows, WRITE_IN_DOUBT), label="in-doubt commits/s")
    errors.plot(xs, [sum(v) for v in zip(*(series(rows, f"{WRITE_DUPLICATE_KEY}:{d}") for d in databases), strict=True)],
                label="duplicate-key errors/s")  # fmt: skip
    errors.plot(xs, series(rows, READ_ERROR), linestyle=":", label="read errors/s")
    errors.set_ylabel("client errors")
    errors.legend(loc="upper right", fontsize="small")
    lag.plot(xs, [s.lag_source_s for _, s in rows], label="CDCLatencySource (measured)")
    lag.plot(xs, [s.lag_target_s for _, s in rows], label="CDCLatencyTarget (measured)")
    lag.set_ylabel("lag (s)")
    lag.legend(loc="upper right", fontsize="small")
    weights.step(xs, [s.reader_weight for _, s in rows], where="post", label="reader.<domain> on Aurora (%)")
    weights.step(xs, [s.writer_weight for _, s in rows], where="post", label="writer.<domain> on Aurora (%)")
    weights.set_ylabel("Aurora weight (%)")
    weights.set_ylim(-5, 105)
    weights.set_xlabel("seconds since the workload started")
    weights.legend(loc="center right", fontsize="small")
    for at, name in timeline.events:
        x = at - timeline.started_at
        for axis in (writes, errors, lag, weights):
            axis.axvline(x, color="grey", linestyle="--", linewidth=0.8)
        writes.annotate(name, (x, 1.0), xycoords=("data", "axes fraction"), rotation=90, fontsize="x-small",
                        va="top", ha="right")  # fmt: skip
    figure.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
