"""The whole rehearsal with the replication broken before the fence (about 3-4 minutes; needs the emulator deployment).

The drain can never reach the marker: the CLI's drain times out and alerts, the writer stays on the
source, and no acknowledged write is lost. Runs `python -m tools.rehearsal` as an operator would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lib.config import PROJECT_ROOT
from tools import emulator
from tools.rehearsal.stack import read_outputs, reusable

pytestmark = pytest.mark.integration


def test_broken_replication_keeps_the_writer_on_the_source_and_loses_no_acknowledged_write() -> None:
    if not reusable(emulator.endpoint(), read_outputs()):
        pytest.skip("needs the stack deployed to a running emulator (python -m tools.deploy up with TAP_TARGET=emulator)")
    done = subprocess.run(
        [sys.executable, "-m", "tools.rehearsal", "--break-replication", "--rows", "5000", "--duration", "240", "--json"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": f"{PROJECT_ROOT}:{PROJECT_ROOT / 'lambda' / 'cutover'}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["mode"] == "break-replication"
    assert report["passed"], report["checks"]
    assert report["final_writer"] == "source"
    assert report["checks"]["the drain timed out and alerted"]
    assert (report["writes_lost"], report["writes_duplicated"]) == (0, 0)
    assert report["writes_acknowledged"] > 1000
    assert report["writes_refused"] > 0  # writes during the fence were refused where the client saw them
    assert report["write_unavailable_s"] is None  # nothing ever reached the target
