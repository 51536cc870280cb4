"""Every example config (one per seed system, and an existing VPC) synthesizes with main.py and passes `terraform validate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.toolchain.conftest import EXAMPLES
from tests.toolchain.test_terraform import _validate

pytestmark = pytest.mark.terraform


def test_there_is_one_example_per_seed_system_and_one_per_deployment_variant() -> None:
    assert [name[:3] for name in EXAMPLES] == ["000", "001", "002", "003", "004", "005", "006", "007"]
    # Not seed systems: network.mode = "existing" (issue 16), a MySQL-family cutover (issue 26), DMS Serverless (28).
    assert EXAMPLES[5:] == ["005-existing-vpc", "006-mariadb-to-aurora-mysql-cutover", "007-dms-serverless-cutover"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_passes_terraform_validate(name: str, example_synths: dict[str, Path]) -> None:
    report = json.loads(_validate(example_synths[name]))
    assert report["valid"] is True, report
    assert report["error_count"] == 0 and report["warning_count"] == 0, report


def test_serverless_cutover_stack_passes_terraform_validate(serverless_synth: Path) -> None:
    """Its cutover role, event rules, alarms and dashboard differ from the instance-based base stack."""
    stack = json.loads((serverless_synth / "cdk.tf.json").read_text(encoding="utf-8"))
    assert "aws_dms_replication_config" in stack["resource"] and "aws_lambda_function" in stack["resource"]
    report = json.loads(_validate(serverless_synth))
    assert report["valid"] is True, report
    assert report["error_count"] == 0 and report["warning_count"] == 0, report
