"""Teardown (`./tap down`, the end of `./tap test`): an object found already gone counts as destroyed; any other
failure is an error naming what failed (never hidden). Terraform is a recorded stand-in speaking its -json stream."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tools import deploy
from tools.deploy_progress import Diagnostic

DASHBOARD = "aws_cloudwatch_dashboard.dashboard_main_1A2B3C"
GONE_404 = (
    "deleting CloudWatch Dashboard (tap-migrate-dev): operation error CloudWatch: DeleteDashboards, "
    "https response error StatusCode: 404, RequestID: 5c9d, ResourceNotFound: The specified dashboard does not exist."
)
DENIED = "deleting KMS Key (1234): operation error KMS: ScheduleKeyDeletion, StatusCode: 400, AccessDeniedException: not allowed"


def error(summary: str, address: str = DASHBOARD, detail: str = "") -> Diagnostic:
    return Diagnostic("error", summary, detail, address)


def test_only_errors_that_all_say_already_gone_with_an_address_count_as_done() -> None:
    assert deploy.already_gone([error(GONE_404)]) == [DASHBOARD]
    assert deploy.already_gone([error("deleting EC2 Subnet (subnet-1)", "aws_subnet.a", "InvalidSubnetID.NotFound")]) == [
        "aws_subnet.a"
    ]
    two = [error(GONE_404), error("NoSuchBucket: gone", "aws_s3_bucket.lake"), error(GONE_404)]
    assert deploy.already_gone(two) == [DASHBOARD, "aws_s3_bucket.lake"]
    assert deploy.already_gone([]) is None
    assert deploy.already_gone([error(DENIED, "aws_kms_key.main")]) is None
    assert deploy.already_gone([error(GONE_404), error(DENIED, "aws_kms_key.main")]) is None  # one real failure is enough
    assert deploy.already_gone([error(GONE_404, address="")]) is None  # no address: nothing to drop from the state


FAKE_TERRAFORM = """#!{python}
import json, os, sys
calls = os.environ["FAKE_CALLS"]
with open(calls, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
destroys = sum(json.loads(line)[0] == "destroy" for line in open(calls))
if sys.argv[1] == "destroy" and destroys == 1 and os.environ["FAKE_FIRST"] != "ok":
    summary = os.environ["FAKE_FIRST"]
    print(json.dumps({{"@level": "error", "type": "diagnostic",
                      "diagnostic": {{"severity": "error", "summary": summary, "address": "{address}"}}}}))
    sys.exit(1)
print(json.dumps({{"@level": "info", "type": "version", "@message": "Terraform 1.9"}}))
"""


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    binary = tmp_path / "terraform"
    binary.write_text(FAKE_TERRAFORM.format(python=sys.executable, address=DASHBOARD))
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_CALLS", str(calls))
    monkeypatch.setattr(deploy, "terraform_binary", lambda env: str(binary))
    monkeypatch.setattr(deploy, "STACK_DIR", tmp_path)
    monkeypatch.setattr(deploy, "PROJECT_ROOT", tmp_path)  # the .deploy-logs folder
    return calls


def _destroy(first: str, calls: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    monkeypatch.setenv("FAKE_FIRST", first)
    deploy.destroy(dict(os.environ), deploy.Timings())
    return [json.loads(line) for line in calls.read_text().splitlines()]


def test_a_resource_already_gone_is_dropped_from_the_state_and_the_destroy_finishes(
    fake_terraform: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _destroy(GONE_404, fake_terraform, monkeypatch)
    assert [call[0] for call in calls] == ["init", "destroy", "state", "destroy"]
    assert calls[2] == ["state", "rm", DASHBOARD]
    assert f"already gone, so destroyed as far as Terraform is concerned: {DASHBOARD}" in capsys.readouterr().err


def test_any_other_destroy_failure_is_an_error_naming_it(fake_terraform: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(deploy.DeployError) as raised:
        _destroy(DENIED, fake_terraform, monkeypatch)
    assert "terraform destroy failed (exit 1)" in str(raised.value) and "AccessDeniedException" in str(raised.value)
    assert [json.loads(line)[0] for line in fake_terraform.read_text().splitlines()] == ["init", "destroy"]  # state untouched


def test_a_clean_destroy_runs_once(fake_terraform: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert [call[0] for call in _destroy("ok", fake_terraform, monkeypatch)] == ["init", "destroy"]
