"""tests/conftest.py: long runs are skipped with the command that runs them, and run with --long."""

from __future__ import annotations

import subprocess
import sys

from lib.config import PROJECT_ROOT

LONG_FILES = ["tests/rehearsal/test_rehearsal_cutover.py", "tests/rehearsal/test_rehearsal_broken_replication.py"]


def _pytest(*arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *LONG_FILES, "-rs", "-p", "no:cacheprovider", *arguments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    return done.stdout


def test_long_runs_are_skipped_with_the_command_that_runs_them() -> None:
    out = _pytest("-k", "not rollback")
    assert "2 skipped" in out and "1 deselected" in out
    assert out.count("./tap test --long runs it") == 2


def test_long_runs_are_selected_with_long() -> None:
    listed = _pytest("--long", "--collect-only", "-q", "-m", "long")
    assert "test_rehearsal_loses_and_duplicates_no_acknowledged_write[cutover]" in listed
    assert "test_broken_replication_keeps_the_writer_on_the_source_and_loses_no_acknowledged_write" in listed
    assert "cutover-and-writer-rollback" not in listed and "2/3 tests collected (1 deselected)" in listed
