"""The operator wrappers report a broken outputs file, a missing region, a bad config or a missing tool as a
clear message with the fix, never a Python traceback (issue 17)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from lib.config import PROJECT_ROOT, load_config
from tools import deploy

BROKEN_OUTPUTS = {
    "empty": ("", "is empty; redeploy"),
    "not JSON": ("{not json", "is not valid JSON"),
    "not an object": ("[]", "must hold a JSON object"),
    "no region": ('{"cutover_function_name": "tap-migrate-dev-cutover"}', "names no region: set AWS_REGION"),
}


def _no_region_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")}
    return {**env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.mark.parametrize("case", sorted(BROKEN_OUTPUTS))
def test_the_cutover_wrapper_names_a_broken_outputs_file(case: str, tmp_path: Path) -> None:
    text, expected = BROKEN_OUTPUTS[case]
    outputs = tmp_path / "flat-outputs.json"
    outputs.write_text(text)
    completed = subprocess.run(
        [str(PROJECT_ROOT / "cutover"), "--outputs", str(outputs), "status"],
        env=_no_region_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    (line,) = completed.stderr.strip().splitlines()
    assert line.startswith(f"error: {outputs}") and expected in line


def test_the_cutover_wrapper_asks_for_a_region_when_nothing_names_one(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(PROJECT_ROOT / "cutover"), "--outputs", str(tmp_path / "absent.json"), "--function-name", "f", "status"],
        env=_no_region_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2 and completed.stderr.strip() == (
        "error: no AWS region: set AWS_REGION (e.g. export AWS_REGION=us-east-1)"
    )


def test_deploy_reports_a_bad_config_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text((PROJECT_ROOT / "config" / "tap-migrate.toml").read_text().replace("reader_count = 2", "reader_count = 99"))
    monkeypatch.setenv("TAP_CONFIG", str(bad))
    monkeypatch.delenv("TAP_TARGET", raising=False)
    assert deploy.main(["plan"]) == 2
    err = capsys.readouterr().err
    assert "aurora.reader_count: 99 must be 0..15" in err and "fix the configuration file" in err
    assert "Traceback" not in err


def test_deploy_reports_a_malformed_outputs_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = tmp_path / "flat-outputs.json"
    outputs.write_text("{broken")
    with pytest.raises(deploy.DeployError, match=r"is not valid JSON .*redeploy \(./tap up\)"):
        deploy.has_cutover(outputs)
    outputs.write_text('{"cutover_function_name": "f"}')
    assert deploy.has_cutover(outputs)
    assert not deploy.has_cutover(tmp_path / "absent.json")


def test_deploy_names_a_missing_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(
        deploy.DeployError, match=r"/nonexistent/terraform is not installed \(needed for outputs\): run ./tap setup"
    ):
        deploy.Timings().run("outputs", ["/nonexistent/terraform", "output"], dict(os.environ))


def test_the_base_config_still_loads() -> None:
    assert load_config(PROJECT_ROOT / "config" / "tap-migrate.toml", env={}).project.prefix == "tap-migrate-dev"


@pytest.mark.parametrize("spelling", ["help", "-h", "--help"])
def test_tap_help_lists_every_command_and_exits_0(spelling: str) -> None:
    done = subprocess.run([str(PROJECT_ROOT / "tap"), spelling], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ") and line.split()}
    dispatched = set(re.findall(r"^  ([a-z]+)\)", (PROJECT_ROOT / "tap").read_text(), flags=re.MULTILINE))
    assert dispatched and dispatched <= listed
    assert "set -euo pipefail" not in done.stdout


@pytest.mark.parametrize("argv", [["upp"], []])
def test_tap_refuses_an_unknown_or_missing_command_with_exit_2(argv: list[str]) -> None:
    done = subprocess.run([str(PROJECT_ROOT / "tap"), *argv], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert ("unknown command 'upp'" in done.stderr) == bool(argv)
    assert "usage: ./tap COMMAND" in done.stderr and "set -euo pipefail" not in done.stderr
