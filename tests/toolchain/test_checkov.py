"""checkov (pinned, own venv) finds nothing on the synthesized stack that is not a reviewed suppression."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.checkov_scan import load_skips, scan

pytestmark = pytest.mark.terraform


def test_checkov_has_no_unreviewed_failures_and_no_stale_suppressions(fast_synth: Path) -> None:
    result = scan(fast_synth / "cdk.tf.json")
    assert result.failed == [], (
        "unreviewed checkov failures: add a fix, or a reasoned entry in lib/policy/checkov_suppressions.toml"
    )
    assert result.stale == [], "suppressions that match nothing any more: remove them"
    assert result.passed > 100


def test_every_checkov_suppression_has_a_reason() -> None:
    assert all(len(skip.reason) > 20 for skip in load_skips())
