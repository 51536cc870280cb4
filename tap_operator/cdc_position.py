"""``./cutover cdc-position``: read where each DMS task's change data capture stands, to resume from it.

    cdc-position [--task KEY] [--outputs FILE] [--json]

A change that replaces a DMS task (a new endpoint, a new instance, an identifier) would otherwise
restart it with a full reload. DMS records a task's ``RecoveryCheckpoint`` as CDC runs; a task
created with that value as ``CdcStartPosition`` continues from it. So: stop the task, run this,
put the printed ``cdc_start_position`` (with ``migration_type = "cdc"``) into ``dms.tasks.<key>``,
then plan and apply; the replaced task starts CDC at the checkpoint instead of reloading.

Read-only: one DescribeReplicationTasks call for the instance-based tasks, one DescribeReplications
call for the Serverless ones. Exit codes: 0 every task asked for has a checkpoint, 2 one has none yet
(it never ran CDC), 1 a usage, outputs or AWS error (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from tap_cutover.ports import AwsError, aws_call

DEFAULT_OUTPUTS = Path("cfn-outputs/flat-outputs.json")
TASK_ARNS_KEY = "dms_replication_task_arns"  # lib/constants.Output.DMS_TASK_ARNS
REGION_KEY = "region"  # lib/constants.Output.REGION
# A stopped or failed task keeps its checkpoint; "running" moves it on while you read it.
STABLE_STATUSES = frozenset({"stopped", "failed", "ready"})


class PositionError(Exception):
    """A usage, outputs or AWS problem; printed as one line."""


@dataclass(frozen=True)
class TaskPosition:
    key: str
    arn: str
    status: str
    checkpoint: str | None  # DMS's RecoveryCheckpoint; None until the task has run CDC
    serverless: bool

    @property
    def stable(self) -> bool:
        return self.status in STABLE_STATUSES


def task_arns_from_outputs(outputs: Mapping[str, Any], path: Path) -> dict[str, str]:
    raw = outputs.get(TASK_ARNS_KEY)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, str) for v in raw.values()):
        raise PositionError(f"{path} has no '{TASK_ARNS_KEY}' map of task ARNs; redeploy (./tap up) to rewrite it")
    return {str(key): str(arn) for key, arn in raw.items()}


def read_positions(client: Any, task_arns: Mapping[str, str]) -> list[TaskPosition]:
    """Each task's status and checkpoint, in the order of ``task_arns``; a task DMS does not know is an error."""
    by_arn = {arn: key for key, arn in task_arns.items()}
    tasks = [arn for arn in task_arns.values() if ":replication-config:" not in arn]
    configs = [arn for arn in task_arns.values() if ":replication-config:" in arn]
    found: dict[str, TaskPosition] = {}
    if tasks:
        with aws_call("dms", "DescribeReplicationTasks"):
            answer = client.describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": tasks}], WithoutSettings=True
            )
        for task in answer.get("ReplicationTasks", []):
            arn = str(task.get("ReplicationTaskArn", ""))
            if arn in by_arn:
                found[arn] = _position(by_arn[arn], arn, task, serverless=False)
    if configs:
        with aws_call("dms", "DescribeReplications"):
            answer = client.describe_replications(Filters=[{"Name": "replication-config-arn", "Values": configs}])
        for replication in answer.get("Replications", []):
            arn = str(replication.get("ReplicationConfigArn", ""))
            if arn in by_arn:
                found[arn] = _position(by_arn[arn], arn, replication, serverless=True)
    missing = [by_arn[arn] for arn in task_arns.values() if arn not in found]
    if missing:
        raise PositionError(f"DMS does not know task(s) {', '.join(missing)}: is the outputs file from this account and region?")
    return [found[arn] for arn in task_arns.values()]


def _position(key: str, arn: str, answer: Mapping[str, Any], *, serverless: bool) -> TaskPosition:
    checkpoint = answer.get("RecoveryCheckpoint")
    return TaskPosition(
        key=key,
        arn=arn,
        status=str(answer.get("Status", "")).lower(),
        checkpoint=str(checkpoint) if checkpoint else None,
        serverless=serverless,
    )


def render(positions: Sequence[TaskPosition], out: TextIO) -> None:
    """The lines to paste into the config, and what to mind about each task."""
    for position in positions:
        if position.checkpoint is None:
            out.write(f"# {position.key} ({position.status}): no recovery checkpoint yet: it has not run CDC\n")
            continue
        if position.serverless:
            out.write(
                f"# {position.key} ({position.status}) is a DMS Serverless replication: Terraform cannot set its start "
                "position (hashicorp/aws has no such argument); after a replacement start it with\n"
                f"#   aws dms start-replication --replication-config-arn <new ARN> --start-replication-type start-replication "
                f"--cdc-start-position '{position.checkpoint}'\n"
            )
            continue
        if not position.stable:
            out.write(
                f"# {position.key} is {position.status}: its checkpoint moves on while it runs; stop it first "
                f"(aws dms stop-replication-task --replication-task-arn {position.arn}) and read it again\n"
            )
        out.write(f'[dms.tasks.{position.key}]\nmigration_type = "cdc"\ncdc_start_position = "{position.checkpoint}"\n')


def main(argv: Sequence[str], session: Any = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="./cutover cdc-position", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--task", action="append", help="task key (repeatable; default: every task in the outputs)")
    parser.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="flat stack outputs JSON file")
    parser.add_argument("--json", action="store_true", help="print the positions as JSON")
    args = parser.parse_args(argv)
    try:
        outputs = _read_outputs(args.outputs)
        arns = task_arns_from_outputs(outputs, args.outputs)
        unknown = sorted(set(args.task or ()) - set(arns))
        if unknown:
            raise PositionError(f"--task {', '.join(unknown)}: the stack's tasks are {', '.join(sorted(arns))}")
        wanted = {key: arn for key, arn in arns.items() if not args.task or key in args.task}
        client = (session or _session(outputs, args.outputs)).client("dms")
        positions = read_positions(client, wanted)
    except (PositionError, AwsError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    if args.json:
        out.write(json.dumps([asdict(p) | {"stable": p.stable} for p in positions], indent=2) + "\n")
    else:
        render(positions, out)
    return 0 if all(p.checkpoint for p in positions) else 2


def _read_outputs(path: Path) -> dict[str, Any]:
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PositionError(f"{path} not found: deploy the stack first (./tap up) or pass --outputs") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise PositionError(f"{path} cannot be read ({err}); redeploy (./tap up) to rewrite it") from None
    if not isinstance(outputs, dict):
        raise PositionError(f"{path} must hold a JSON object of outputs; redeploy (./tap up) to rewrite it")
    return outputs


def _session(outputs: Mapping[str, Any], path: Path) -> Any:
    import boto3  # noqa: PLC0415  (lazy: --help and the tests with a prepared session skip it)

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or outputs.get(REGION_KEY)
    if not isinstance(region, str) or not region:
        raise PositionError(f"{path} names no region: set AWS_REGION (e.g. export AWS_REGION=us-east-1)")
    return boto3.session.Session(region_name=region)
