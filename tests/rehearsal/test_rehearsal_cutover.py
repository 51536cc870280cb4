"""The whole rehearsal, short and on small data (a few minutes each; needs the emulator deployment): the real
cutover moves live writes from one PostgreSQL cluster to the other, and with --rollback back again, and not
one acknowledged write is lost or duplicated. Runs `python -m tools.rehearsal` as an operator would.
"""

from __future__ import annotations

import pytest

from .conftest import run_rehearsal

pytestmark = pytest.mark.integration


# The rollback run passes the same fence, drain, sequence sync and flip, then moves the writer back: it stays in
# the suite; the plain cutover (its end is the `advance` to completed, also proven in tests/unit/cutover) is long.
@pytest.mark.parametrize(
    "rollback",
    [pytest.param(False, marks=pytest.mark.long, id="cutover"), pytest.param(True, id="cutover-and-writer-rollback")],
)
def test_rehearsal_loses_and_duplicates_no_acknowledged_write(rollback: bool) -> None:
    mode = ["--rollback"] if rollback else []
    report = run_rehearsal(*mode, "--rows", "5000", "--rate", "100")  # ends when the scenario is done
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
