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


def test_a_real_account_refuses_documentation_addresses_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lib.config import PROJECT_ROOT

    monkeypatch.setattr(deploy.emulator, "start", lambda: pytest.fail("the emulator must not start for TAP_TARGET=aws"))
    monkeypatch.setattr(deploy, "synth", lambda *a, **k: pytest.fail("nothing may be synthesized"))
    monkeypatch.setenv("TAP_CONFIG", str(PROJECT_ROOT / "config" / "tap-migrate.toml"))
    monkeypatch.setenv("TAP_TARGET", "aws")
    assert deploy.main(["up"]) == 1
    err = capsys.readouterr().err
    assert "network.vpn.customer_gateway_ip: 198.51.100.10 is a documentation address (198.51.100.0/24, RFC 5737)" in err
    assert "fix them in the config" in err


@pytest.mark.parametrize(
    ("value", "flagged"),
    [
        ("198.51.100.10", True),
        ("203.0.113.0/25", True),
        ("192.0.2.7", True),
        ("2001:db8::1", True),
        ("2001:db8:1::/48", True),
        ("192.168.0.0/16", False),
        ("198.51.0.0/16", False),  # wider than the range: a real block that contains it
        ("10.0.0.1", False),
        ("onprem-pg.corp.example.com", False),
    ],
)
def test_documentation_ranges_are_exactly_rfc_5737_and_3849(value: str, flagged: bool) -> None:
    from pydantic import BaseModel

    from lib.config.documentation_addresses import documentation_addresses

    class Probe(BaseModel):
        nested: dict[str, list[str]]

    found = documentation_addresses(Probe(nested={"cidrs": ["10.1.0.0/16", value]}))
    assert bool(found) == flagged
    if flagged:
        assert found[0].startswith(f"nested.cidrs[1]: {value} is a documentation address")


def test_a_second_signal_cannot_abort_the_servers_cleanup() -> None:
    import signal

    from tools import dbservers

    saved = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as stopped:
            dbservers._exit_on_sigterm(signal.SIGTERM, None)
        assert stopped.value.code == 128 + signal.SIGTERM
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, saved[0])
        signal.signal(signal.SIGINT, saved[1])
