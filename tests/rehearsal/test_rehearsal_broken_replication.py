"""The whole rehearsal with the replication broken before the fence (about 3-4 minutes; needs the emulator deployment).

The drain can never reach the marker: the CLI's drain times out and alerts, the writer stays on the
source, and no acknowledged write is lost. Runs `python -m tools.rehearsal` as an operator would.
"""

from __future__ import annotations

import pytest

from .conftest import run_rehearsal

# Long (./tap test --long): the same refusal is proven on real replication in tests/db/test_writer_move.py.
pytestmark = [pytest.mark.integration, pytest.mark.long]


def test_broken_replication_keeps_the_writer_on_the_source_and_loses_no_acknowledged_write() -> None:
    report = run_rehearsal("--break-replication", "--rows", "5000")  # ends when the scenario is done
    assert report["mode"] == "break-replication"
    assert report["passed"], report["checks"]
    assert report["final_writer"] == "source"
    assert report["checks"]["the drain timed out and alerted"]
    assert (report["writes_lost"], report["writes_duplicated"]) == (0, 0)
    assert report["writes_acknowledged"] > 1000
    assert report["writes_refused"] > 0  # writes during the fence were refused where the client saw them
    assert report["write_unavailable_s"] is None  # nothing ever reached the target
