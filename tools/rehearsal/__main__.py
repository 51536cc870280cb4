"""python -m tools.rehearsal [--duration S] [--rate N] [--rows N] [--tables N] [--rtt-ms MS] [--rollback] [--json] ...

Also [--break-replication] [--writers N] [--readers N] [--png PATH].

Exit codes: 0 the expected outcome was proven, 1 a verdict failed, 2 the rehearsal could not run.
Progress goes to stderr; the summary (or with --json the report object) to stdout.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from botocore.exceptions import BotoCoreError, ClientError

from tools.dbservers import DatabaseServerError
from tools.emulator import EmulatorError
from tools.rehearsal.driver import Options, rehearse, summary
from tools.rehearsal.schema import DEFAULT_ROWS
from tools.rehearsal.stack import StackError

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


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
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--rollback", action="store_true", help="after the flip and some writes on the target, move the writer back"
    )
    mode.add_argument(
        "--break-replication", action="store_true", help="disable the subscription before the fence: the writer must stay"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--png", type=Path, default=None, help="write the timeline PNG here")
    return p


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds the stack: the workload stops and the clusters and the emulator are cleaned up as on Ctrl-C.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    options = Options(
        duration_s=args.duration if args.duration is not None else Options.duration_s,
        write_until_duration=args.duration is not None,
        rate=args.rate,
        rows=args.rows,
        rollback=args.rollback,
        break_replication=args.break_replication,
        writers=args.writers,
        readers=args.readers,
        png=args.png,
        tables=args.tables,
        rtt_ms=args.rtt_ms,
    )
    try:
        report = rehearse(options)
    except (StackError, EmulatorError, DatabaseServerError, BotoCoreError, ClientError, OSError, RuntimeError) as error:
        sys.stderr.write(f"rehearsal could not run: {error}\n")
        return EXIT_ERROR
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(summary(report) + "\n")
    return EXIT_PASSED if report["passed"] else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
