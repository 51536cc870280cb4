"""``./cutover cdc-position``: each task's recovery checkpoint, printed as the config lines that resume from it.

botocore's Stubber checks every request against the DMS model (moto returns no RecoveryCheckpoint).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tap_operator import cdc_position, cli

TASK = "arn:aws:dms:us-east-1:123456789012:task:ABCDEFGHIJKLMNOP"
OTHER = "arn:aws:dms:us-east-1:123456789012:task:QRSTUVWXYZ123456"
CONFIG = "arn:aws:dms:us-east-1:123456789012:replication-config:XYZXYZ"
CHECKPOINT = "checkpoint:V1#34#0/3E000B08:0/3E000B08#0#0#*#0#121"


class StubSession:
    def __init__(self, client: Any) -> None:
        self._client = client

    def client(self, service: str) -> Any:
        assert service == "dms"
        return self._client


@pytest.fixture
def dms() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("dms", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def task(arn: str, identifier: str, status: str, checkpoint: str | None) -> dict[str, Any]:
    answer: dict[str, Any] = {"ReplicationTaskArn": arn, "ReplicationTaskIdentifier": identifier, "Status": status}
    if checkpoint:
        answer["RecoveryCheckpoint"] = checkpoint
    return answer


def outputs_file(tmp_path: Path, arns: dict[str, str]) -> Path:
    path = tmp_path / "flat-outputs.json"
    path.write_text(json.dumps({"dms_replication_task_arns": arns, "region": "us-east-1"}), encoding="utf-8")
    return path


def run(argv: list[str], client: Any) -> tuple[int, str]:
    out = io.StringIO()
    code = cdc_position.main(argv, session=StubSession(client), out=out)
    return code, out.getvalue()


def test_a_stopped_task_prints_the_lines_that_resume_it(tmp_path: Path, dms: tuple[Any, Stubber]) -> None:
    client, stub = dms
    stub.add_response(
        "describe_replication_tasks",
        {"ReplicationTasks": [task(TASK, "tap-main", "stopped", CHECKPOINT)]},
        {"Filters": [{"Name": "replication-task-arn", "Values": [TASK]}], "WithoutSettings": True},
    )
    code, printed = run(["--outputs", str(outputs_file(tmp_path, {"main": TASK}))], client)
    assert code == 0
    assert printed == f'[dms.tasks.main]\nmigration_type = "cdc"\ncdc_start_position = "{CHECKPOINT}"\n'


def test_a_running_task_is_told_to_stop_first_and_a_task_without_cdc_has_no_position(
    tmp_path: Path, dms: tuple[Any, Stubber]
) -> None:
    client, stub = dms
    stub.add_response(
        "describe_replication_tasks",
        {"ReplicationTasks": [task(OTHER, "tap-fresh", "ready", None), task(TASK, "tap-main", "running", CHECKPOINT)]},
        {"Filters": [{"Name": "replication-task-arn", "Values": [TASK, OTHER]}], "WithoutSettings": True},
    )
    code, printed = run(["--outputs", str(outputs_file(tmp_path, {"main": TASK, "fresh": OTHER}))], client)
    assert code == 2  # one task has nothing to resume from
    assert "main is running: its checkpoint moves on while it runs; stop it first" in printed
    assert f"aws dms stop-replication-task --replication-task-arn {TASK}" in printed
    assert f'cdc_start_position = "{CHECKPOINT}"' in printed
    assert "fresh (ready): no recovery checkpoint yet" in printed


def test_serverless_gets_the_start_command_not_config_lines(tmp_path: Path, dms: tuple[Any, Stubber]) -> None:
    client, stub = dms
    stub.add_response(
        "describe_replications",
        {"Replications": [{"ReplicationConfigArn": CONFIG, "Status": "stopped", "RecoveryCheckpoint": CHECKPOINT}]},
        {"Filters": [{"Name": "replication-config-arn", "Values": [CONFIG]}]},
    )
    code, printed = run(["--outputs", str(outputs_file(tmp_path, {"main": CONFIG})), "--json"], client)
    assert code == 0
    [position] = json.loads(printed)
    assert position == {
        "key": "main",
        "arn": CONFIG,
        "status": "stopped",
        "checkpoint": CHECKPOINT,
        "serverless": True,
        "stable": True,
    }
    stub.add_response(
        "describe_replications",
        {"Replications": [{"ReplicationConfigArn": CONFIG, "Status": "stopped", "RecoveryCheckpoint": CHECKPOINT}]},
    )
    code, printed = run(["--outputs", str(outputs_file(tmp_path, {"main": CONFIG}))], client)
    assert "--start-replication-type start-replication" in printed and "[dms.tasks" not in printed


@pytest.mark.parametrize(
    ("content", "argv", "message"),
    [
        (None, [], "not found: deploy the stack first"),
        ("[1, 2]", [], "must hold a JSON object"),
        ('{"region": "us-east-1"}', [], "no 'dms_replication_task_arns' map"),
        (
            json.dumps({"dms_replication_task_arns": {"main": TASK}}),
            ["--task", "nope"],
            "--task nope: the stack's tasks are main",
        ),
    ],
)
def test_bad_outputs_and_unknown_tasks_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, argv: list[str], message: str
) -> None:
    path = tmp_path / "flat-outputs.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert cdc_position.main(["--outputs", str(path), *argv], session=StubSession(None)) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_a_task_dms_does_not_know_and_an_aws_error_are_reported(
    tmp_path: Path, dms: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    client, stub = dms
    stub.add_response("describe_replication_tasks", {"ReplicationTasks": []})
    stub.add_client_error("describe_replication_tasks", service_error_code="AccessDeniedException", http_status_code=400)
    path = outputs_file(tmp_path, {"main": TASK})
    assert run(["--outputs", str(path)], client)[0] == 1
    assert "DMS does not know task(s) main" in capsys.readouterr().err
    assert run(["--outputs", str(path)], client)[0] == 1
    assert "AccessDeniedException" in capsys.readouterr().err


def test_the_operator_cli_dispatches_the_command(
    tmp_path: Path, dms: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    client, stub = dms
    stub.add_response("describe_replication_tasks", {"ReplicationTasks": [task(TASK, "tap-main", "stopped", CHECKPOINT)]})
    assert cli.main(["cdc-position", "--outputs", str(outputs_file(tmp_path, {"main": TASK}))], session=StubSession(client)) == 0
    assert CHECKPOINT in capsys.readouterr().out
