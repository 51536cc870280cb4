"""checkov (pinned, own venv) finds nothing on the synthesized stacks that is not a reviewed suppression.

The base stack (on an instance and on DMS Serverless) and every example are scanned: a suppression is stale only when it matches a
finding in none of them (lake-only entries do not match the base stack, and the reverse).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.checkov_scan import ScanResult, load_skips, scan

pytestmark = pytest.mark.terraform


@pytest.fixture(scope="module")
def scans(fast_synth: Path, serverless_synth: Path, example_synths: dict[str, Path]) -> dict[str, ScanResult]:
    stacks = {"base": fast_synth, "base-serverless": serverless_synth, **example_synths}
    return {name: scan(stack / "cdk.tf.json") for name, stack in stacks.items()}


def test_checkov_has_no_unreviewed_failures(scans: dict[str, ScanResult]) -> None:
    failed = {name: result.failed for name, result in scans.items() if result.failed}
    assert failed == {}, "unreviewed checkov failures: add a fix, or a reasoned entry in tools/checkov/suppressions.toml"
    assert all(result.passed > 100 for result in scans.values())


def test_no_suppression_is_stale(scans: dict[str, ScanResult]) -> None:
    stale_everywhere = set.intersection(*(set(result.stale) for result in scans.values()))
    assert stale_everywhere == set(), "suppressions that match nothing in any stack: remove them"


def test_every_checkov_suppression_has_a_reason() -> None:
    assert all(len(skip.reason) > 20 for skip in load_skips())
