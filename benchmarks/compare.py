"""`compare` throughput and its cost on the source, measured in one run (numbers, not verdicts).

Two throwaway PostgreSQL 15 clusters hold the same table of --rows rows (default 1,000,000; a bigint key and
five columns of mixed types). The compare runs with its defaults except the rate limit (off, or --rows-per-second)
and reports rows compared per second, and the CPU time of its session's backend on the source (utime + stime
from /proc/<pid>/stat of pg_backend_pid(), sampled while it runs) over the wall time: the share of one core
the compare takes from the source. With --mariadb the same on two MariaDB servers (the thread's CPU is not
visible per session there: the server process's CPU is reported instead).

    .venv/bin/python -m benchmarks.compare [--rows N] [--chunk-rows N] [--rows-per-second N] [--mariadb]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tap_operator.compare import Options, compare_databases  # noqa: E402
from tap_operator.databases import compare_postgres, parse_url  # noqa: E402
from tools.dbservers import mariadb_server, postgres_server  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
MAPPINGS = json.dumps(
    {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "all",
                "object-locator": {"schema-name": "%", "table-name": "bench"},
                "rule-action": "include",
            }
        ]
    }
)
PG_TABLE = (
    "CREATE TABLE bench (id bigint PRIMARY KEY, customer int NOT NULL, amount numeric(12,2), note text, "
    "placed timestamptz, ratio double precision)"
)
PG_ROWS = (
    "INSERT INTO bench SELECT g, g % 1000, g * 0.01, 'note ' || g, timestamptz '2024-01-01' + g * interval '1 second', "
    "g / 7.0 FROM generate_series(1, %s) g"
)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class CpuSampler:
    """Samples a process's CPU time until stopped; keeps the last reading (the process may end first)."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.first: float | None = None
        self.last: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.sample()

    def sample(self) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(OSError, ValueError):
            reading = cpu_seconds(self.pid)
            if self.first is None:
                self.first = reading
            self.last = reading

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return (self.last or 0.0) - (self.first or 0.0)


@contextlib.contextmanager
def watching_source_session(engine: Any, sampler: CpuSampler, pid_of: Any) -> Iterator[None]:
    """Wrap the engine's session so the first (the reference = source) session's backend pid is sampled."""
    original = engine.session

    @contextlib.contextmanager
    def session(endpoint: Any, role: str, limits: Any) -> Iterator[Any]:
        with original(endpoint, role, limits) as connection:
            if role == "source" and sampler.pid is None:
                sampler.pid = pid_of(connection)
                sampler.sample()
            yield connection

    engine.session = session
    try:
        yield
    finally:
        engine.session = original


def run_postgres(rows: int, options: Options) -> dict[str, Any]:
    with postgres_server() as source_server, postgres_server() as target_server:
        for server in (source_server, target_server):
            server.create_database("bench")
            server.execute(PG_TABLE, "bench")
            server.execute(PG_ROWS.replace("%s", str(rows)), "bench")
            server.execute("VACUUM ANALYZE bench", "bench")
        source, target = parse_url(source_server.url("bench")), parse_url(target_server.url("bench"))
        sampler = CpuSampler()
        with watching_source_session(compare_postgres, sampler, compare_postgres.backend_pid):
            sampler.start()
            started = time.monotonic()
            report = compare_databases(source, target, MAPPINGS, options)
            wall = time.monotonic() - started
        cpu = sampler.stop()
    return _figures(
        "postgres", rows, ok=report.ok, wall=wall, cpu=cpu, measured="source backend (pg_backend_pid)", options=options
    )


def run_mariadb(rows: int, options: Options) -> dict[str, Any]:
    with mariadb_server({}, ssl=False) as source_server, mariadb_server({}, ssl=False) as target_server:
        for server in (source_server, target_server):
            server.create_database("bench")
            server.execute(
                "CREATE TABLE bench (id BIGINT PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(12,2), note VARCHAR(40), "
                "placed DATETIME(6), ratio DOUBLE) ENGINE=InnoDB",
                "bench",
            )
            server.execute(
                "INSERT INTO bench SELECT seq, seq % 1000, seq * 0.01, CONCAT('note ', seq), "  # noqa: S608
                f"TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, seq / 7.0 FROM seq_1_to_{rows}",
                "bench",
            )
        source, target = parse_url(source_server.url("bench")), parse_url(target_server.url("bench"))
        pid_file = str(source_server.query("SELECT @@pid_file")[0][0])
        sampler = CpuSampler()
        sampler.pid = int(Path(pid_file).read_text().strip())
        sampler.start()
        sampler.sample()
        started = time.monotonic()
        report = compare_databases(source, target, MAPPINGS.replace('"%"', '"bench"'), options)
        wall = time.monotonic() - started
        cpu = sampler.stop()
    return _figures("mariadb", rows, ok=report.ok, wall=wall, cpu=cpu, measured="source server process", options=options)


def _figures(engine: str, rows: int, *, ok: bool, wall: float, cpu: float, measured: str, options: Options) -> dict[str, Any]:
    return {
        "engine": engine,
        "rows": rows,
        "equal": ok,
        "chunk_rows": options.chunk_rows,
        "rows_per_second_limit": options.rows_per_second or None,
        "wall_s": round(wall, 2),
        "rows_per_second": round(rows / wall) if wall else None,
        "source_cpu_s": round(cpu, 2),
        "source_cpu_share_of_one_core": round(cpu / wall, 3) if wall else None,
        "cpu_measured_on": measured,
        "cores": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--rows-per-second", type=float, default=0, help="the compare's rate limit (0: none)")
    parser.add_argument("--mariadb", action="store_true", help="also measure a MariaDB pair")
    args = parser.parse_args()
    options = Options(chunk_rows=args.chunk_rows, rows_per_second=args.rows_per_second)
    results = [run_postgres(args.rows, options)]
    if args.mariadb:
        results.append(run_mariadb(args.rows, options))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
