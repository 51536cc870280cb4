"""tests/toolchain/up_gaps.py: the per-line timestamps and the longest silence it reports (run on cheap commands).

The script itself is what measures `./tap up` in a fresh clone (docs/testing.md); here its gap logic is pinned.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.toolchain import up_gaps

SCRIPT = Path(up_gaps.__file__)


def test_gaps_count_the_start_the_lines_and_the_exit() -> None:
    found = up_gaps.gaps([1.0, 1.5, 4.0], ["a", "b", "c"], 4.2)
    assert [round(g.seconds, 3) for g in found] == [1.0, 0.5, 2.5, 0.2]
    assert (found[0].after, found[0].before) == ("(start)", "a")
    assert (found[-1].after, found[-1].before) == ("c", "(exit)")
    gap = up_gaps.longest([(1.0, "a"), (1.5, "b"), (4.0, "c")], 4.2)
    assert (gap.seconds, gap.after, gap.before) == (2.5, "b", "c")
    silent = up_gaps.longest([], 7.0)  # a command that prints nothing is one silence, start to exit
    assert (silent.seconds, silent.after, silent.before) == (7.0, "(start)", "(exit)")


def test_lines_end_at_newlines_and_carriage_returns_and_wait_for_their_end() -> None:
    lines = up_gaps.Lines(started=100.0)
    assert lines.feed(b"first\nsec", 101.0) == [(1.0, "first")]
    assert lines.feed(b"ond\r\n\x1b[1mbold\x1b[0m\r50%\r", 102.5) == [(2.5, "second"), (2.5, "bold"), (2.5, "50%")]
    assert lines.feed(b"\n\n", 103.0) == []  # blank lines are not output a person notices
    assert lines.feed(b"tail", 104.0) == []
    assert lines.close(105.0) == [(5.0, "tail")]
    assert [text for _, text in lines.stamped] == ["first", "second", "bold", "50%", "tail"]


@pytest.mark.parametrize("pty", [True, False], ids=["pty", "pipe"])
def test_a_real_command_reports_its_longest_silence_and_fails_past_the_limit(pty: bool) -> None:
    command = [sys.executable, "-c", "import time; print('one', flush=True); time.sleep(1.2); print('two')"]
    mode = [] if pty else ["--no-pty"]
    relaxed = subprocess.run(
        [sys.executable, str(SCRIPT), *mode, "--max-gap", "30", "--", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert relaxed.returncode == 0, relaxed.stderr
    stamped = [line for line in relaxed.stdout.splitlines() if line.startswith("[")]
    assert [line.split("] ", 1)[1] for line in stamped] == ["one", "two"]
    first, second = (float(line[1:].split("s]", 1)[0]) for line in stamped)
    assert second - first >= 1.1  # stamped when printed, not when the command ended
    assert "longest gap 1." in relaxed.stderr and "after 'one', before 'two'" in relaxed.stderr
    strict = subprocess.run(
        [sys.executable, str(SCRIPT), *mode, "--max-gap", "1", "--", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert strict.returncode == up_gaps.GAP_EXCEEDED and "exceeds --max-gap 1s" in strict.stderr


def test_the_commands_own_failure_is_its_exit_code() -> None:
    failed = subprocess.run(
        [sys.executable, str(SCRIPT), "--max-gap", "30", "--", sys.executable, "-c", "raise SystemExit(5)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert failed.returncode == 5 and "exit 5" in failed.stderr
