"""tools/deploy.py: what lands in cfn-outputs/ and how `./tap up` decides to show the cutover."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.constants import CORE_OUTPUTS, OUTPUTS_FILE, Output
from tools import deploy


def _terraform_output(**extra: object) -> dict[str, dict[str, object]]:
    values: dict[str, object] = {key: f"value-of-{key}" for key in CORE_OUTPUTS}
    values.update(extra)
    return {key: {"value": value, "sensitive": False} for key, value in values.items()}


def test_flatten_keeps_values_and_needs_only_the_core_outputs() -> None:
    flat = deploy.flatten_outputs(_terraform_output())
    assert set(flat) == set(CORE_OUTPUTS)
    assert flat[Output.REGION] == f"value-of-{Output.REGION}"


def test_flatten_refuses_a_sensitive_output() -> None:
    raw = _terraform_output()
    raw[Output.KMS_KEY_ARN]["sensitive"] = True
    with pytest.raises(deploy.DeployError, match="sensitive"):
        deploy.flatten_outputs(raw)


def test_flatten_names_missing_core_outputs() -> None:
    raw = _terraform_output()
    del raw[Output.DMS_TASK_ARNS]
    with pytest.raises(deploy.DeployError, match=Output.DMS_TASK_ARNS):
        deploy.flatten_outputs(raw)


def test_has_cutover_reads_the_outputs_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy, "PROJECT_ROOT", tmp_path)
    assert deploy.has_cutover() is False  # nothing deployed
    path = tmp_path / OUTPUTS_FILE
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({Output.DATA_LAKE_BUCKET: "lake"}))
    assert deploy.has_cutover() is False  # a data-lake stack
    path.write_text(json.dumps({Output.CUTOVER_FUNCTION_NAME: "tap-migrate-dev-cutover"}))
    assert deploy.has_cutover() is True
    assert deploy.main(["has-cutover"]) == 0


def test_up_ends_with_a_summary_for_people() -> None:
    report = {
        "target": "emulator",
        "endpoint": "http://127.0.0.1:4566",
        "plan_clean": True,
        "applied": "Apply complete! Resources: 99 added, 0 changed, 0 destroyed.",
        "log": ".deploy-logs/up-x.log",
    }
    text = deploy.up_summary(report, 43, 192.0)
    assert text.splitlines()[0] == "done in 3m12s: deployed to the emulator at http://127.0.0.1:4566"
    assert "Resources: 99 added, 0 changed, 0 destroyed." in text
    assert "(43 keys)" in text and "plan after apply: no changes" in text and "next: ./cutover status" in text
    assert "{" not in text
    assert "CHANGES PENDING" in deploy.up_summary({**report, "plan_clean": False}, 43, 1.0)


def test_deploy_usage_names_the_tap_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        deploy.main(["up", "--bogus"])
    err = capsys.readouterr().err
    assert err.startswith("usage: ./tap up") and "deploy.py" not in err and "has-cutover" not in err
