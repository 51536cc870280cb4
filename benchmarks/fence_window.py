"""The fence window against the size of the schema (issue 24): statements, round trips and seconds per side.

Part 1 (`micro`, no emulator needed): two throwaway PostgreSQL 15 servers (tools.dbservers) with
`log_statement = all`. For each size N, a database holds N sequences (N - 2 tables from
`tools.rehearsal.schema.create_extra_tables`, each with its own serial/bigserial/identity key and a few
rows, some with names that need quoting, one counting down, plus the drain marker table); the target gets
the same schema (pg_dump --schema-only) with its sequences at their start; a publication of the marker
table alone carries the drain marker. Then, for each link (`direct`, and through the latency proxy at
--rtt-ms), it measures with the operator's own functions (`tap_operator.databases.operations`):

* `sync`: `sync_sequences(source, target)` (target sequences reset to their start first);
* `fence`: the whole fence window as `fence --confirm` runs it: `fence_source` + `write_marker` +
  `wait_for_marker` (polled every 50 ms) + `sync_sequences` (the source is unfenced afterwards). The
  target's count includes the drain's polls (shown); the target of 10 is judged without them.

Statements per side are counted by the servers themselves: the log lines of the sessions whose
application_name is the operator's (`tap-migrate ...`), whatever code issues them (a DO block or a
pipeline counts as what the server executed). Round trips per side are the proxy's client turns
(proxied runs only; a new connection costs ~4: TLS request, handshake, startup, SCRAM). The drain
itself (replication applying the marker) is in `fence` and not a round-trip cost.

Part 2 (`--rehearsal`, needs the emulator): `python -m tools.rehearsal --tables N --rtt-ms R --json`
and its write outage (`write_unavailable_s`) against the records' TTL at the flip (the deployed
CUTOVER_TTL, `cutover_ttl_s`) + 5 s.

    .venv/bin/python -m benchmarks.fence_window [--sizes 10,1000,5000] [--rtt-ms 20] [--json]
    .venv/bin/python -m benchmarks.fence_window --rehearsal [--tables 2000] [--rtt-ms 20] [--duration S] [--no-micro]

Targets (issue 24): <= 10 statements per side whatever N; write outage <= the record TTL (at the flip:
CUTOVER_TTL) + 5 s at 2,000 sequences and 20 ms RTT.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda" / "cutover"))
sys.path.insert(0, str(ROOT))

from psycopg import sql  # noqa: E402

from tap_operator.databases import parse_url  # noqa: E402
from tap_operator.databases.checks import DEFAULT_MARKER_SCHEMA, MARKER_TABLE  # noqa: E402
from tap_operator.databases.endpoints import Endpoint  # noqa: E402
from tap_operator.databases.operations import (  # noqa: E402
    fence_source,
    sync_sequences,
    unfence_source,
    wait_for_marker,
    write_marker,
)
from tap_operator.databases.postgres import marker_ddl  # noqa: E402
from tools.dbservers import PostgresServer, postgres_server  # noqa: E402
from tools.rehearsal import schema  # noqa: E402
from tools.rehearsal.clusters import Cluster, create_app_role, prepare_database  # noqa: E402
from tools.rehearsal.latency_proxy import LatencyProxy  # noqa: E402

STATEMENT_TARGET = 10
OUTAGE_SLACK_SECONDS = 5.0
DRAIN_TIMEOUT_SECONDS = 60.0
DRAIN_POLL_SECONDS = 0.05
LOG_PREFIX = "tapbench@@%a@@"  # no shell metacharacters or spaces: pg_ctl passes it through sh
# The server's log line for each statement a client sent (simple protocol, or the execute of extended protocol).
_STATEMENT_LINE = re.compile(r"^tapbench@@tap-migrate[^@]*@@LOG:  (?:statement|execute [^:]*): ")
SERVER_SETTINGS = {
    "log_statement": "all",
    "log_line_prefix": LOG_PREFIX,
    # N sequences read or set in one transaction lock N relations; the servers' lock table is
    # max_locks_per_transaction x max_connections (60 here; Aurora's is far larger).
    "max_locks_per_transaction": "256",
}
PUBLICATION = "bench_marker"


@dataclass
class Side:
    """One server: its log (statements are counted from it) and the proxy in front of it, if any."""

    server: PostgresServer
    app_password: str

    @property
    def log(self) -> Path:
        return self.server.directory / "postgres.log"

    def log_size(self) -> int:
        return self.log.stat().st_size

    def statements_since(self, offset: int) -> int:
        with self.log.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
        return sum(1 for line in text.splitlines() if _STATEMENT_LINE.match(line))


@dataclass(frozen=True)
class Link:
    name: str
    source: Endpoint
    target: Endpoint
    proxies: tuple[LatencyProxy, LatencyProxy] | None


def _endpoint(cluster: Cluster, port: int | None = None) -> Endpoint:
    server = cluster.server
    url = (
        server.url(cluster.database)
        if port is None
        else PostgresServer(port, server.directory, server.password, {}).url(cluster.database)
    )
    return parse_url(url)


def _prepare(source: Side, target: Side, sequences: int) -> tuple[Cluster, Cluster]:
    """N sequences on the source (tables with their own keys and the descending one), the same schema on the target."""
    database = f"fence_{sequences}"
    for side in (source, target):
        side.server.drop_database(database)
    src = prepare_database("source", source.server, source.app_password, database)
    tgt = prepare_database("target", target.server, target.app_password, database)
    with src.admin() as connection:
        connection.execute(marker_ddl(DEFAULT_MARKER_SCHEMA).rstrip(";").encode())
    schema.create_extra_tables(src, max(sequences - 1, 0), descending=sequences > 1)
    schema.copy_schema(src, tgt)
    with src.admin() as connection:
        connection.execute(
            sql.SQL("CREATE PUBLICATION {} FOR TABLE {}.{}").format(
                sql.Identifier(PUBLICATION), sql.Identifier(DEFAULT_MARKER_SCHEMA), sql.Identifier(MARKER_TABLE)
            )
        )
    with tgt.admin() as connection:
        connection.execute(
            sql.SQL("CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {} WITH (copy_data = false)").format(
                sql.Identifier(f"{PUBLICATION}_{sequences}"),
                sql.Literal(src.admin_url() + "?sslmode=prefer"),
                sql.Identifier(PUBLICATION),
            )
        )
    # The decoder must be past the schema's own WAL before the drain is timed: one marker through, uncounted.
    warm_up = write_marker(_endpoint(src))
    if not wait_for_marker(_endpoint(tgt), warm_up, DRAIN_TIMEOUT_SECONDS, DRAIN_POLL_SECONDS).ok:
        raise RuntimeError("the marker publication did not carry a first marker")
    return src, tgt


def _drop(source: Side, target: Side, sequences: int) -> None:
    database = f"fence_{sequences}"
    with target.server.connect(database) as connection:
        connection.execute(sql.SQL("DROP SUBSCRIPTION IF EXISTS {}").format(sql.Identifier(f"{PUBLICATION}_{sequences}")))
    for side in (target, source):
        side.server.drop_database(database)


def _reset_target_sequences(target: Cluster) -> None:
    """Every target sequence back to its start (as after a schema copy): the sync has all of them to raise."""
    with target.admin() as connection:
        connection.execute(b"""
            DO $reset$
            DECLARE s record;
            BEGIN
                FOR s IN SELECT schemaname, sequencename, start_value FROM pg_sequences WHERE schemaname = 'public' LOOP
                    PERFORM setval(format('%I.%I', s.schemaname, s.sequencename)::regclass, s.start_value, false);
                END LOOP;
            END
            $reset$
        """)


@contextmanager
def _links(src: Cluster, tgt: Cluster, rtt_ms: float) -> Iterator[list[Link]]:
    direct = Link("direct", _endpoint(src), _endpoint(tgt), None)
    with LatencyProxy((src.host, src.port), rtt_ms) as p_src, LatencyProxy((tgt.host, tgt.port), rtt_ms) as p_tgt:
        proxied = Link(f"rtt {rtt_ms:g} ms", _endpoint(src, p_src.port), _endpoint(tgt, p_tgt.port), (p_src, p_tgt))
        yield [direct, proxied]


@contextmanager
def _package_counter() -> Iterator[Callable[[], dict[str, int] | None]]:
    """The databases package's own statement counter (per session role) where the merged code has one."""
    try:
        from tap_operator.databases.counting import count_statements  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        yield lambda: None
        return
    with count_statements() as counted:
        yield lambda: dict(counted.to_dict())


def _measure(
    name: str, sequences: int, link: Link, sides: tuple[Side, Side], action: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    offsets = [side.log_size() for side in sides]
    trips = [proxy.stats.to_dict() for proxy in link.proxies] if link.proxies else None
    started = time.monotonic()
    with _package_counter() as package_counts:
        details = action()
    seconds = time.monotonic() - started
    time.sleep(0.2)  # the servers' log lines are written before the answers; a little slack for the file
    statements = [side.statements_since(offset) for side, offset in zip(sides, offsets, strict=True)]
    row: dict[str, Any] = {
        "sequences": sequences,
        "measure": name,
        "link": link.name,
        "seconds": round(seconds, 3),
        "statements_source": statements[0],
        "statements_target": statements[1],
        "round_trips_source": None,
        "round_trips_target": None,
        "connections_source": None,
        "connections_target": None,
        # The drain's polls are waiting for replication, not the window's work: shown, not judged.
        "target_met": max(statements[0], statements[1] - int(details.get("drain_polls", 0))) <= STATEMENT_TARGET,
        "package_counts": package_counts(),  # tap_operator.databases.counting, per session role, when it exists
        **details,
    }
    if link.proxies and trips:
        after = [proxy.stats.to_dict() for proxy in link.proxies]
        for role, before_stats, after_stats in zip(("source", "target"), trips, after, strict=True):
            row[f"round_trips_{role}"] = after_stats["round_trips"] - before_stats["round_trips"]
            row[f"connections_{role}"] = after_stats["connections"] - before_stats["connections"]
    return row


def _sync(link: Link) -> dict[str, Any]:
    report = sync_sequences(link.source, link.target)
    return {"not_synced": sum(1 for row in report.rows if not row.ok), "sync_s": None}


def _fence(link: Link) -> dict[str, Any]:
    steps: dict[str, float] = {}
    mark = time.monotonic()

    def step(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        steps[name] = round(now - mark, 3)
        mark = now

    proof = fence_source(link.source)
    step("fence_s")
    if not proof.ok:
        raise RuntimeError(f"the benchmark's fence was not proven: {proof.summary}")
    marker = write_marker(link.source)
    step("marker_s")
    drain = wait_for_marker(link.target, marker, DRAIN_TIMEOUT_SECONDS, DRAIN_POLL_SECONDS)
    step("drain_s")
    if not drain.ok:
        raise RuntimeError(f"the benchmark's drain did not finish: {drain.summary}")
    report = sync_sequences(link.source, link.target)
    step("sync_s")
    return {"not_synced": sum(1 for row in report.rows if not row.ok), "drain_polls": drain.polls, **steps}


def _skipped(name: str, sequences: int, link: Link, estimate: float) -> dict[str, Any]:
    return {
        "sequences": sequences,
        "measure": name,
        "link": link.name,
        "skipped": f"estimated {estimate:.0f}s (the direct run's statements x RTT) exceeds --budget",
        "estimated_seconds": round(estimate, 1),
    }


def micro(sizes: list[int], rtt_ms: float, budget_s: float, say: Callable[[str], None]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with postgres_server(SERVER_SETTINGS) as source_server, postgres_server(SERVER_SETTINGS) as target_server:
        source = Side(source_server, create_app_role(source_server))
        target = Side(target_server, create_app_role(target_server))
        sides = (source, target)
        for sequences in sizes:
            started = time.monotonic()
            src, tgt = _prepare(source, target, sequences)
            say(f"{sequences} sequences: schema on both sides in {time.monotonic() - started:.1f}s")
            try:
                with _links(src, tgt, rtt_ms) as links:
                    direct: dict[str, dict[str, Any]] = {}
                    for link in links:
                        for name, action in (("sync", _sync), ("fence", _fence)):
                            if link.proxies and name in direct:
                                # Bounded on code that pays a round trip per sequence: estimate before waiting for it.
                                estimate = (direct[name]["statements_source"] + direct[name]["statements_target"]) * rtt_ms / 1000
                                if estimate > budget_s:
                                    rows.append(_skipped(name, sequences, link, estimate))
                                    say(_line(rows[-1]))
                                    continue
                            _reset_target_sequences(tgt)
                            try:
                                rows.append(_measure(name, sequences, link, sides, lambda a=action, k=link: a(k)))  # type: ignore[misc]
                            finally:
                                if name == "fence":
                                    unfence_source(_endpoint(src))
                            if not link.proxies:
                                direct[name] = rows[-1]
                            say(_line(rows[-1]))
            finally:
                _drop(source, target, sequences)
    return rows


def _line(row: dict[str, Any]) -> str:
    if "skipped" in row:
        return f"{row['sequences']:>6}  {row['measure']:<6} {row['link']:<12} skipped: {row['skipped']}"
    trips = (
        f"{row['round_trips_source']:>6} / {row['round_trips_target']:<6}"
        if row["round_trips_source"] is not None
        else f"{'-':>6} / {'-':<6}"
    )
    return (
        f"{row['sequences']:>6}  {row['measure']:<6} {row['link']:<12} "
        f"{row['statements_source']:>6} / {row['statements_target']:<6} "
        f"{trips} {row['seconds']:>8.2f}  {'ok' if row['target_met'] else 'NOT met'}"
        + (f"  (target incl. {row['drain_polls']} drain poll(s))" if row.get("drain_polls") else "")
    )


def table(rows: list[dict[str, Any]]) -> str:
    header = (
        f"{'seqs':>6}  {'what':<6} {'link':<12} {'statements':^15} {'round trips':^15} {'seconds':>8}  <= {STATEMENT_TARGET}/side"
    )
    sub = f"{'':>6}  {'':<6} {'':<12} {'source / target':^15} {'source / target':^15}"
    return "\n".join([header, sub, *(_line(row) for row in rows)])


def rehearsal(tables: int, rtt_ms: float, duration: float | None, rows: int) -> dict[str, Any]:
    """`python -m tools.rehearsal --tables N --rtt-ms R --json`: the write outage against CUTOVER_TTL + 5 s."""
    started = time.monotonic()
    argv = [
        sys.executable, "-m", "tools.rehearsal", "--json", "--tables", str(tables), "--rtt-ms", str(rtt_ms),
        "--rows", str(rows), *(["--duration", str(duration)] if duration is not None else []),
    ]  # fmt: skip
    done = subprocess.run(
        argv,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'lambda' / 'cutover'}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=(duration or 600.0) + 1200,
    )
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        return {"error": f"exit {done.returncode}, no report", "stderr_tail": done.stderr.strip().splitlines()[-15:]}
    numbers = rehearsal_numbers(report)
    numbers["wall_s"] = round(time.monotonic() - started, 1)
    return numbers


def rehearsal_numbers(report: dict[str, Any]) -> dict[str, Any]:
    """The fence window's figures from a rehearsal report (`python -m tools.rehearsal --json`)."""
    keys = (
        "passed", "problems", "extra_tables", "rtt_ms", "record_ttl_s", "write_unavailable_s", "longest_write_pause_s",
        "drain_s", "sequence_sync_s", "fence_round_trips", "writes_acknowledged", "writes_lost", "writes_duplicated",
        "duplicate_keys_after_flip", "setup_s",
    )  # fmt: skip
    numbers: dict[str, Any] = {key: report.get(key) for key in keys}
    fence_cli = [c for c in report.get("cli") or [] if (c.get("argv") or [None])[0] == "fence"]
    numbers["fence_command_s"] = fence_cli[0]["seconds"] if fence_cli else None
    # The TTL the application's cached answers have at the flip: CUTOVER_TTL (the rehearsal waits RECORD_TTL
    # after the records were lowered before it fences), so the outage is the fence window plus that TTL.
    numbers["cutover_ttl_s"] = report.get("cutover_ttl_s")
    outage, ttl = numbers["write_unavailable_s"], numbers["cutover_ttl_s"]
    numbers["outage_limit_s"] = None if ttl is None else ttl + OUTAGE_SLACK_SECONDS
    numbers["outage_target_met"] = None if outage is None or ttl is None else outage <= ttl + OUTAGE_SLACK_SECONDS
    return numbers


def _sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"expected sizes >= 1 separated by commas, got {text}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=_sizes, default=[10, 1000, 5000], help="sequence counts (10,1000,5000)")
    parser.add_argument("--rtt-ms", type=float, default=20.0, help="round-trip time of the proxied link (20)")
    parser.add_argument("--budget", type=float, default=300.0, help="longest estimated seconds for one proxied run (300)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON (else a table)")
    parser.add_argument("--no-micro", action="store_true", help="skip part 1 (the throwaway servers)")
    parser.add_argument("--rehearsal", action="store_true", help="also run the rehearsal (part 2; needs the emulator)")
    parser.add_argument("--tables", type=int, default=2000, help="the rehearsal's --tables (2000)")
    parser.add_argument(
        "--duration", type=float, default=None, help="the rehearsal's --duration (default: it ends when the scenario is done)"
    )
    parser.add_argument("--rows", type=int, default=50_000, help="the rehearsal's --rows (50000)")
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result: dict[str, Any] = {"cpus": os.cpu_count(), "rtt_ms": args.rtt_ms, "statement_target_per_side": STATEMENT_TARGET}
    if not args.no_micro:
        result["micro"] = micro(args.sizes, args.rtt_ms, args.budget, say)
    if args.rehearsal:
        say(f"rehearsal --tables {args.tables} --rtt-ms {args.rtt_ms:g} ...")
        result["rehearsal"] = rehearsal(args.tables, args.rtt_ms, args.duration, args.rows)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        if "micro" in result:
            print(table(result["micro"]))
        if "rehearsal" in result:
            print(json.dumps(result["rehearsal"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
