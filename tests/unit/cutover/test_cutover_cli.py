"""The operator CLI against moto: settings from the deployed Lambda, the same engine in-process."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tap_cutover.aws import build_adapters
from tap_cutover.engine import Engine
from tap_cutover.logic import Action, Evidence, OperatorCommand, RecordEvidence, align

from benchmarks.cutover_fixtures import MotoStack
from tap_operator.cli import CliError, bar, function_name_from_outputs, main

FUNCTION = "tap-migrate-dev-cutover"


def deploy_function(stack: MotoStack, env: dict[str, str]) -> None:
    iam = stack.session.client("iam")
    role = iam.create_role(
        RoleName="cutover",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            }
        ),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("tap_cutover/__init__.py", "")
    stack.session.client("lambda").create_function(
        FunctionName=FUNCTION,
        Runtime="python3.11",
        Role=role,
        Handler="tap_cutover.handler.handler",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": env},
    )


@pytest.fixture
def cli_stack(cutover_aws: MotoStack) -> MotoStack:
    deploy_function(cutover_aws, cutover_aws.settings.to_env())
    return cutover_aws


def make_green(stack: MotoStack) -> None:
    stack.start_task()
    end = align(datetime.now(UTC), 60)
    stack.publish_latency(end - timedelta(minutes=10), end, 0.5, 0.5)


def cli(stack: MotoStack, *args: str) -> int:
    return main(["--function-name", FUNCTION, "--operator", "carol", *args], session=stack.session)


def test_function_name_from_outputs(tmp_path: Path) -> None:
    outputs = tmp_path / "flat-outputs.json"
    outputs.write_text(json.dumps({"cutover_function_name": "fn-a", "vpc_id": "vpc-1"}))
    assert function_name_from_outputs(outputs) == "fn-a"
    outputs.write_text(json.dumps({"TapStack.cutover_function_name": "fn-b"}))
    assert function_name_from_outputs(outputs) == "fn-b"
    outputs.write_text(json.dumps({"vpc_id": "vpc-1"}))
    with pytest.raises(CliError, match="pass --function-name"):
        function_name_from_outputs(outputs)
    with pytest.raises(CliError, match="not found"):
        function_name_from_outputs(tmp_path / "missing.json")


def test_bar_shows_the_split() -> None:
    assert bar(0) == "source [" + "#" * 20 + "] aurora"
    assert bar(25) == "source [" + "#" * 15 + "." * 5 + "] aurora"
    assert bar(100) == "source [" + "." * 20 + "] aurora"


def test_status_prints_gates_and_live_bars(cli_stack: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(cli_stack, "status") == 0
    out = capsys.readouterr().out
    assert "phase: replicating   version: 1" in out
    assert "[RED  ] dms_task" in out  # the task is not started yet
    assert "[GREEN] aurora_cluster" in out
    assert "reader.db.example.internal" in out
    assert "source [####################] aurora  source 100% | aurora 0%  ttl 60/60s" in out
    assert "reader: match" in out


def test_starting_needs_the_databases_for_preflight(
    cli_stack: MotoStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without database access the start is refused before anything moves (tests/db run it with real servers)."""
    make_green(cli_stack)
    code = cli(cli_stack, "--outputs", str(tmp_path / "absent.json"), "advance")
    assert code in (1, 2)
    err = capsys.readouterr().err
    assert "--source-url" in err or "TAP_SOURCE_URL" in err, err
    assert cli_stack.state()["phase"] == "replicating" and cli_stack.weights()["reader"]["aurora"] == (0, 60)


def start_reads(stack: MotoStack) -> None:
    """What 'advance' does once preflight passed (the engine path, without the databases)."""
    engine = Engine(stack.settings, build_adapters(stack.settings, stack.session))
    assert engine.run(RecordEvidence(Evidence.PREFLIGHT_PASSED, "carol", "0 block")).status == "changed"
    assert engine.run(OperatorCommand(Action.ADVANCE, "carol")).status == "changed"


def test_rollback_needs_confirm(cli_stack: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    make_green(cli_stack)
    start_reads(cli_stack)
    assert cli(cli_stack, "rollback") == 1
    assert "rollback requires confirm=true" in capsys.readouterr().out
    assert cli(cli_stack, "rollback", "--writer", "--confirm") == 1
    assert "the writer is not on Aurora" in capsys.readouterr().out
    assert cli(cli_stack, "rollback", "--confirm") == 0
    assert cli_stack.weights()["reader"]["aurora"] == (0, 60)
    assert cli_stack.state()["phase"] == "rolled_back"


def test_unlock_removes_a_stale_lock(cli_stack: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    old = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    cli_stack.ssm.put_parameter(
        Name=cli_stack.settings.lock_parameter_name,
        Value=json.dumps({"holder": "dead", "purpose": "schedule", "acquired_at": old}),
        Type="String",
    )
    assert cli(cli_stack, "pause") == 1
    assert "stale lock" in capsys.readouterr().out
    assert cli(cli_stack, "unlock") == 1
    assert cli(cli_stack, "unlock", "--confirm") == 0
    out = capsys.readouterr().out
    assert "lock removed by carol" in out and "reader: match" in out
    assert cli(cli_stack, "pause") == 0


def test_invalid_lambda_environment_is_a_usage_error(cutover_aws: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    env = cutover_aws.settings.to_env()
    env["READ_STEPS"] = "10,50"
    deploy_function(cutover_aws, env)
    assert cli(cutover_aws, "status") == 2
    assert "READ_STEPS='10,50' is invalid" in capsys.readouterr().err
    assert main(["--function-name", "nope", "status"], session=cutover_aws.session) == 2


def test_note_records_an_audited_decision_in_the_history(cli_stack: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    make_green(cli_stack)
    start_reads(cli_stack)
    before = cli_stack.state()
    assert cli(cli_stack, "note", "allowed replacing aws_dms_endpoint.x during a live migration: new source host") == 0
    after = cli_stack.state()
    assert after["version"] == before["version"] + 1 and after["phase"] == before["phase"] == "reads_shifting"
    assert after["weights"] == before["weights"]
    entry = after["history"][-1]
    assert entry["trigger"] == "operator:note" and entry["operator"] == "carol"
    assert entry["reason"] == "carol: allowed replacing aws_dms_endpoint.x during a live migration: new source host"
    assert cli(cli_stack, "note", "  ") == 2
    assert "give the text to record" in capsys.readouterr().err
