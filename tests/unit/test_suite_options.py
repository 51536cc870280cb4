"""tests/conftest.py: long runs are skipped with the command that runs them; shared fixtures stay in one worker."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lib.config import PROJECT_ROOT
from tests import conftest

LONG_FILES = ["tests/rehearsal/test_rehearsal_cutover.py", "tests/rehearsal/test_rehearsal_broken_replication.py"]


def test_long_runs_are_skipped_with_the_command_that_runs_them() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *LONG_FILES, "-k", "not rollback", "-rs", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 skipped" in done.stdout and "1 deselected" in done.stdout
    assert done.stdout.count("./tap test --long runs it") == 2


@dataclass
class Item:
    path: Path
    marks: set[str] = field(default_factory=set)

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.marks else None


@pytest.mark.parametrize(
    ("path", "marks", "group"),
    [
        ("tests/integration/test_deployed_stack.py", {"integration"}, "emulator-deployment"),
        ("tests/rehearsal/test_rehearsal_cutover.py", {"integration"}, "emulator-deployment"),
        ("tests/rehearsal/test_replication.py", set(), "rehearsal-servers"),
        ("tests/db/test_sequences.py", set(), "db-servers"),
        ("tests/toolchain/test_examples.py", set(), "toolchain-synths"),
        ("tests/unit/test_stack.py", set(), None),
    ],
)
def test_tests_sharing_an_expensive_fixture_get_one_group(path: str, marks: set[str], group: str | None) -> None:
    assert conftest.group_of(Item(PROJECT_ROOT / path, marks)) == group  # type: ignore[arg-type]
