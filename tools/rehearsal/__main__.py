"""python -m tools.rehearsal [--duration S] [--rate N] [--rows N] [--tables N] [--rtt-ms MS] [--rollback] [--json] ...

Also [--engine postgres|mariadb] [--break-replication]
[--writers N] [--readers N] [--dns-clients N] [--out DIR] [--png PATH | --no-png].

Exit codes: 0 the expected outcome was proven, 1 a verdict failed, 2 the rehearsal could not run.
Progress goes to stderr, each line with its own time; the summary (or with --json the report object) to
stdout. The report is also written as report.json, and the timeline as timeline.png beside it, in
--out (default .rehearsal/<UTC time>-<mode>/); both paths are printed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from botocore.exceptions import BotoCoreError, ClientError

from tools.dbservers import DatabaseServerError
from tools.emulator import EmulatorError
from tools.rehearsal.driver import DNS_CLIENTS, Options, rehearse, summary
from tools.rehearsal.engines import ENGINES
from tools.rehearsal.schema import DEFAULT_ROWS
from tools.rehearsal.stack import StackError

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
RUNS_FOLDER = Path(".rehearsal")
REPORT_NAME, PICTURE_NAME = "report.json", "timeline.png"


def _positive(kind: type[int] | type[float]) -> type:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse  # type: ignore[return-value]


def _at_least_zero(kind: type[int] | type[float]) -> type:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
        return value

    return parse  # type: ignore[return-value]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.rehearsal", description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--duration",
        type=_positive(float),
        default=None,
        help="seconds the application writes, cutover included (default: until the scenario is done, at most 600)",
    )
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="postgres",
        help="the database both sides run: PostgreSQL 15 with logical replication, or MariaDB with GTID replication "
        "standing in for DMS (postgres)",
    )
    p.add_argument("--rate", type=_positive(float), default=200.0, help="writer transactions per second in total (200)")
    p.add_argument("--rows", type=_positive(int), default=DEFAULT_ROWS, help=f"rows loaded on the source ({DEFAULT_ROWS})")
    p.add_argument(
        "--tables",
        type=_at_least_zero(int),
        default=0,
        help="extra tables on the source, each with its own serial/identity sequence and a few rows (0)",
    )
    p.add_argument(
        "--rtt-ms",
        type=_at_least_zero(float),
        default=0.0,
        help="round-trip time the operator CLI's database connections pay, as over a VPN (0: direct)",
    )
    p.add_argument("--writers", type=_positive(int), default=4, help="writer threads (4)")
    p.add_argument("--readers", type=_positive(int), default=2, help="reader threads (2)")
    p.add_argument(
        "--dns-clients",
        type=_positive(int),
        default=DNS_CLIENTS,
        help=f"DNS clients the readers resolve through, each caching for the record's TTL ({DNS_CLIENTS})",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--rollback", action="store_true", help="after the flip and some writes on the target, move the writer back"
    )
    mode.add_argument(
        "--break-replication", action="store_true", help="disable the subscription before the fence: the writer must stay"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON (it is also written to report.json)")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"folder for {REPORT_NAME} and {PICTURE_NAME} (default: {RUNS_FOLDER}/<UTC time>-<mode>/)",
    )
    picture = p.add_mutually_exclusive_group()
    picture.add_argument("--png", type=Path, default=None, help=f"write the timeline PNG here instead of beside {REPORT_NAME}")
    picture.add_argument("--no-png", action="store_true", help="draw no timeline")
    return p


def _run_folder(args: argparse.Namespace) -> Path:
    if args.out is not None:
        return Path(args.out)
    mode = "break-replication" if args.break_replication else "rollback" if args.rollback else "cutover"
    engine = "" if args.engine == "postgres" else f"{args.engine}-"
    return RUNS_FOLDER / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{engine}{mode}"


def _write_report(report: dict[str, object], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / REPORT_NAME
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds the stack: the workload stops and the clusters and the emulator are cleaned up as on Ctrl-C.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.engine != "postgres" and (args.tables or args.rtt_ms):
        parser().error("--tables and --rtt-ms are PostgreSQL only: drop them with --engine mariadb")
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    folder = _run_folder(args)
    png = None if args.no_png else args.png if args.png is not None else folder / PICTURE_NAME
    options = Options(
        duration_s=args.duration if args.duration is not None else Options.duration_s,
        write_until_duration=args.duration is not None,
        rate=args.rate,
        rows=args.rows,
        rollback=args.rollback,
        break_replication=args.break_replication,
        writers=args.writers,
        readers=args.readers,
        dns_clients=args.dns_clients,
        png=png,
        tables=args.tables,
        rtt_ms=args.rtt_ms,
        engine=args.engine,
    )
    try:
        report = rehearse(options)
    except (StackError, EmulatorError, DatabaseServerError, BotoCoreError, ClientError, OSError, RuntimeError) as error:
        sys.stderr.write(f"rehearsal could not run: {error}\n")
        return EXIT_ERROR
    try:
        written = _write_report(report, folder)
    except OSError as error:
        sys.stderr.write(f"could not write the report to {folder}: {error}\n")
    else:
        picture = f"; timeline: {report['png']}" if report.get("png") else ""
        sys.stderr.write(f"report: {written}{picture}\n")
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(summary(report) + "\n")
    return EXIT_PASSED if report["passed"] else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
