"""The whole rehearsal, short and on small data (a few minutes each; needs the emulator deployment): the real
cutover moves live writes from one PostgreSQL cluster to the other, and with --rollback back again, and not
one acknowledged write is lost or duplicated. Runs `python -m tools.rehearsal` as an operator would.
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


@pytest.mark.parametrize("rollback", [False, True], ids=["cutover", "cutover-and-writer-rollback"])
def test_rehearsal_loses_and_duplicates_no_acknowledged_write(rollback: bool) -> None:
    if not reusable(emulator.endpoint(), read_outputs()):
        pytest.skip("needs the stack deployed to a running emulator (python -m tools.deploy up with TAP_TARGET=emulator)")
    mode = ["--rollback"] if rollback else []
    done = subprocess.run(
        [sys.executable, "-m", "tools.rehearsal", *mode, "--rows", "5000", "--duration", "240", "--rate", "100", "--json"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": f"{PROJECT_ROOT}:{PROJECT_ROOT / 'lambda' / 'cutover'}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["passed"], report["checks"]
    assert (report["writes_lost"], report["writes_duplicated"]) == (0, 0)
    assert report["writes_acknowledged"] > 1000
    assert report["drain_s"] is not None and report["sequence_sync_s"] is not None
    if rollback:
        assert report["final_writer"] == "source"
        assert report["rollback"] is not None
        assert (report["rollback"]["writes_lost"], report["rollback"]["writes_duplicated"]) == (0, 0)
    else:
        assert report["final_writer"] == "target"
        assert report["rollback"] is None
