"""Run a command, stamp every line it prints with the time since start, and report the longest silence.

    python3 tests/toolchain/up_gaps.py [--max-gap 10] [--no-pty] -- ./tap up

The command runs under a pseudo-terminal by default, so it buffers and prints as it would for a person at a
terminal (a pipe would make some programs hold their lines back). A "line" ends at a newline or a carriage
return (progress bars redraw with \\r). The gaps counted are: start -> first line, between lines, and last
line -> exit. The summary goes to stderr; the exit code is the command's, or 3 when it succeeded but a gap
exceeded --max-gap. Standard library only: it runs before any virtualenv exists (a fresh clone's first `./tap up`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

GAP_EXCEEDED = 3
_ENDS = re.compile(rb"\r\n|\n|\r")
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Lines:
    """Lines stamped with their arrival (seconds since start); a partial line waits for its end."""

    started: float
    stamped: list[tuple[float, str]] = field(default_factory=list)
    _partial: bytes = b""

    def feed(self, chunk: bytes, at: float) -> list[tuple[float, str]]:
        parts = _ENDS.split(self._partial + chunk)
        self._partial = parts.pop()
        new = [(at - self.started, _text(part)) for part in parts if part.strip()]
        self.stamped.extend(new)
        return new

    def close(self, at: float) -> list[tuple[float, str]]:
        rest, self._partial = self._partial, b""
        if not rest.strip():
            return []
        new = [(at - self.started, _text(rest))]
        self.stamped.extend(new)
        return new


def _text(raw: bytes) -> str:
    return _ESCAPES.sub("", raw.decode("utf-8", "replace")).rstrip()


@dataclass(frozen=True)
class Gap:
    seconds: float
    after: str  # the line before the silence ("(start)" for the first)
    before: str  # the line that ended it ("(exit)" for the last)


def gaps(stamps: Sequence[float], lines: Sequence[str], total: float) -> list[Gap]:
    """Every silence: start -> first line, line -> line, last line -> exit."""
    times = [0.0, *stamps, total]
    labels = ["(start)", *lines, "(exit)"]
    return [Gap(times[i + 1] - times[i], labels[i], labels[i + 1]) for i in range(len(times) - 1)]


def longest(stamped: Iterable[tuple[float, str]], total: float) -> Gap:
    pairs = list(stamped)
    return max(gaps([at for at, _ in pairs], [line for _, line in pairs], total), key=lambda gap: gap.seconds)


def _show(new: Iterable[tuple[float, str]]) -> None:
    for at, line in new:
        print(f"[{at:7.1f}s] {line}", flush=True)


def run(command: Sequence[str], *, use_pty: bool = True) -> tuple[int, Lines, float]:
    """Run `command`, echoing each line with its time; returns (exit code, the stamped lines, total seconds)."""
    started = time.monotonic()
    lines = Lines(started)
    if use_pty:
        import pty

        primary, secondary = pty.openpty()
        process = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary)
        os.close(secondary)
    else:
        process = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        primary = process.stdout.fileno()
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the terminal's other side closed (the command and its children exited)
            chunk = b""
        if not chunk:
            break
        _show(lines.feed(chunk, time.monotonic()))
    returncode = process.wait()
    total = time.monotonic() - started
    _show(lines.close(time.monotonic()))
    if use_pty:
        with contextlib.suppress(OSError):
            os.close(primary)
    return returncode, lines, total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="up_gaps.py", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--max-gap", type=float, default=None, help="exit 3 if any silence is longer (seconds)")
    parser.add_argument("--no-pty", action="store_true", help="read the output through a pipe, not a pseudo-terminal")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    returncode, lines, total = run(command, use_pty=not args.no_pty)
    gap = longest(lines.stamped, total)
    print(
        f"\n[up_gaps] {' '.join(command)}: exit {returncode}, {total:.1f}s, {len(lines.stamped)} lines; longest gap "
        f"{gap.seconds:.1f}s, after {gap.after!r}, before {gap.before!r}",
        file=sys.stderr,
        flush=True,
    )
    if returncode == 0 and args.max_gap is not None and gap.seconds > args.max_gap:
        print(f"[up_gaps] the longest gap exceeds --max-gap {args.max_gap:g}s", file=sys.stderr, flush=True)
        return GAP_EXCEEDED
    return returncode


if __name__ == "__main__":
    sys.exit(main())
