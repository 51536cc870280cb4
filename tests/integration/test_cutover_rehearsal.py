"""End-to-end cutover rehearsal against the deployed stack, through the real handler.

The emulator cannot run Lambda code (no Docker), so the handler runs in-process with its
clients pointed at the deployment, configured from the deployed function's own environment.
Latency is fed with put_metric_data into AWS/DMS (the emulator accepts the AWS/ prefix; a real
account does not, so this file only runs against the emulator), DMS task state through the DMS
API, and simulated time through the engine's clock, so step holds and drains take no real time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tap_cutover import handler
from tap_cutover.aws import build_adapters
from tap_cutover.engine import Engine
from tap_cutover.logic import Evidence, FlipWriter, RecordEvidence, align
from tap_cutover.settings import Settings

from lib.constants import SET_ID_AURORA, SET_ID_SOURCE, Output
from tap_operator.history import read_versions

pytestmark = pytest.mark.integration
Client = Callable[[str], Any]
SCHEDULE = {"source": "aws.events", "detail-type": "Scheduled Event", "time": "rehearsal", "detail": {}}
HEALTHY_LATENCY = 0.5
SPIKE_LATENCY = 120.0
DRAINED_LATENCY = 0.2


class Rehearsal:
    def __init__(self, settings: Settings, aws: Client) -> None:
        self.settings = settings
        self.aws = aws
        self.now = datetime.now(UTC).replace(second=30, microsecond=0)
        self.latency = HEALTHY_LATENCY
        self.published_until = align(self.now, settings.metric_period_seconds)
        self._publish(self.published_until - timedelta(hours=1), self.published_until)
        engine = Engine(settings, build_adapters(settings), clock=lambda: self.now, sleep=self.sleep, emit=lambda _: None)
        handler.set_engine(engine)

    def _publish(self, start: datetime, end: datetime) -> None:
        dims = [
            {"Name": "ReplicationInstanceIdentifier", "Value": self.settings.dms_replication_instance_id},
            {"Name": "ReplicationTaskIdentifier", "Value": self.settings.dms_resource_id},
        ]
        data = []
        at = start
        while at < end:
            for name in ("CDCLatencySource", "CDCLatencyTarget"):
                data.append({"MetricName": name, "Dimensions": dims, "Timestamp": at, "Value": self.latency, "Unit": "Seconds"})
            at += timedelta(seconds=self.settings.metric_period_seconds)
        for index in range(0, len(data), 500):
            self.aws("cloudwatch").put_metric_data(Namespace="AWS/DMS", MetricData=data[index : index + 500])

    def sleep(self, seconds: float) -> None:
        """Advance simulated time; DMS keeps publishing the current latency every period."""
        self.now += timedelta(seconds=seconds)
        end = align(self.now, self.settings.metric_period_seconds)
        if end > self.published_until:
            self._publish(self.published_until, end)
            self.published_until = end

    def invoke(self, event: Any) -> dict[str, Any]:
        result: dict[str, Any] = handler.handler(event, None)
        return result


@pytest.fixture
def rehearsal(
    outputs: dict[str, Any], aws: Client, monkeypatch: pytest.MonkeyPatch, endpoint_url: str | None
) -> Iterator[Rehearsal]:
    if outputs[Output.DEPLOYMENT_TARGET] != "emulator":
        pytest.skip("feeds AWS/DMS metrics with put_metric_data, which only the emulator accepts")
    if endpoint_url:
        # The handler's clients read the endpoint and credentials from the environment, as in Lambda.
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", outputs[Output.REGION])
    monkeypatch.setenv("AWS_DEFAULT_REGION", outputs[Output.REGION])
    function = aws("lambda").get_function_configuration(FunctionName=outputs[Output.CUTOVER_FUNCTION_NAME])
    settings = Settings.from_env(function["Environment"]["Variables"])
    dms = aws("dms")
    task_arn = outputs[Output.DMS_TASK_ARNS]["main"]
    (task,) = dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [task_arn]}])["ReplicationTasks"]
    if task["Status"] != "running":
        dms.start_replication_task(ReplicationTaskArn=task_arn, StartReplicationTaskType="start-replication")
    yield Rehearsal(settings, aws)
    handler.set_engine(None)


def weights(outputs: dict[str, Any], aws: Client) -> dict[str, int]:
    """Aurora's share of each name, read from Route 53; also checks each pair sums to 100."""
    records = aws("route53").list_resource_record_sets(HostedZoneId=outputs[Output.HOSTED_ZONE_ID])["ResourceRecordSets"]
    by_key = {(r["Name"].rstrip("."), r["SetIdentifier"]): r["Weight"] for r in records if "SetIdentifier" in r}
    shares = {}
    for role, name in (("reader", outputs[Output.READER_RECORD_NAME]), ("writer", outputs[Output.WRITER_RECORD_NAME])):
        assert by_key[(name, SET_ID_SOURCE)] + by_key[(name, SET_ID_AURORA)] == 100
        shares[role] = by_key[(name, SET_ID_AURORA)]
    return shares


def state(outputs: dict[str, Any], aws: Client) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        aws("ssm").get_parameter(Name=outputs[Output.CUTOVER_STATE_PARAMETER])["Parameter"]["Value"]
    )
    return document


def test_rehearsal_shifts_reads_rolls_back_on_a_spike_and_flips_the_writer_only_after_fence_and_drain(  # noqa: PLR0915
    rehearsal: Rehearsal, outputs: dict[str, Any], aws: Client
) -> None:  # one scenario from start to completion: its steps depend on each other, so they stay in order here
    start = state(outputs, aws)
    if start["phase"] != "replicating":
        pytest.fail(f"the rehearsal needs a fresh deployment (state is {start['phase']!r}): redeploy first")
    hold = rehearsal.settings.step_hold_seconds
    assert weights(outputs, aws) == {"reader": 0, "writer": 0}

    # A malformed event changes nothing.
    before = (weights(outputs, aws), state(outputs, aws))
    rejected = rehearsal.invoke({"source": "aws.events", "detail-type": "Something Else"})
    assert rejected["status"] == "rejected"
    assert (weights(outputs, aws), state(outputs, aws)) == before

    # An operator starts the read shift: the first step.
    # './cutover advance' records a passed preflight first; the Lambda alone cannot start.
    assert rehearsal.invoke({"action": "advance", "operator": "rehearsal"})["status"] == "rejected"
    assert handler.get_engine().run(RecordEvidence(Evidence.PREFLIGHT_PASSED, "rehearsal", "0 block")).status == "changed"
    assert rehearsal.invoke({"action": "advance", "operator": "rehearsal"})["status"] == "changed"
    assert weights(outputs, aws) == {"reader": 10, "writer": 0}
    # Two transitions: the recorded preflight, then the start.
    assert (state(outputs, aws)["phase"], state(outputs, aws)["version"]) == ("reads_shifting", start["version"] + 2)

    # Not before the hold time; then one step per hold.
    assert rehearsal.invoke(SCHEDULE)["status"] == "no_change"
    rehearsal.sleep(hold)
    assert rehearsal.invoke(SCHEDULE)["status"] == "changed"
    assert weights(outputs, aws) == {"reader": 25, "writer": 0}

    # A latency spike (red for the last N periods) puts reads back on the last fully held step and pauses.
    rehearsal.latency = SPIKE_LATENCY
    rehearsal.sleep(rehearsal.settings.latency_periods * rehearsal.settings.metric_period_seconds)
    spiked = rehearsal.invoke(SCHEDULE)
    assert spiked["status"] == "changed", spiked["message"]
    assert weights(outputs, aws) == {"reader": 10, "writer": 0}
    assert state(outputs, aws)["phase"] == "paused"

    # Healthy again: resume, and the steps continue to 100 % of reads.
    rehearsal.latency = HEALTHY_LATENCY
    rehearsal.sleep(rehearsal.settings.latency_periods * rehearsal.settings.metric_period_seconds + 60)
    assert rehearsal.invoke({"action": "resume", "operator": "rehearsal"})["status"] == "changed"
    for expected in (25, 50, 100):
        rehearsal.sleep(hold)
        moved = rehearsal.invoke(SCHEDULE)
        assert moved["status"] == "changed", moved["message"]
        assert weights(outputs, aws) == {"reader": expected, "writer": 0}

    # 100 % held: the fence is entered (TTL lowered); the writer has not moved.
    rehearsal.sleep(hold)
    rehearsal.invoke(SCHEDULE)
    assert state(outputs, aws)["phase"] == "write_fence"
    assert weights(outputs, aws) == {"reader": 100, "writer": 0}

    # Without confirm nothing happens. The Lambda's fence records the confirmation but never flips the writer,
    # however drained the metrics look: the flip needs the database proofs only the operator CLI can make.
    assert rehearsal.invoke({"action": "fence", "confirm": False, "operator": "rehearsal"})["status"] == "rejected"
    rehearsal.latency = DRAINED_LATENCY
    rehearsal.sleep(rehearsal.settings.latency_periods * rehearsal.settings.metric_period_seconds)
    fenced = rehearsal.invoke({"action": "fence", "confirm": True, "operator": "rehearsal"})
    assert fenced["status"] == "changed" and state(outputs, aws)["phase"] == "write_fence"
    engine = handler.get_engine()
    assert engine.run(FlipWriter("rehearsal")).status == "rejected"
    assert weights(outputs, aws)["writer"] == 0

    # What './cutover fence --confirm' records once the databases proved each (tests/db do it on real servers),
    # and the data proof the flip requires (here a clean './cutover compare', recorded after the full load).
    for kind in (Evidence.FENCE_PROVEN, Evidence.DRAIN_REACHED, Evidence.SEQUENCES_SYNCED, Evidence.DATA_COMPARED):
        assert engine.run(RecordEvidence(kind, "rehearsal", f"{kind.value} proven")).status == "changed"
    # The reverse task (the default config has one) started at the fence: from now on it is the dms_task gate.
    reverse_arn = rehearsal.settings.dms_reverse_replication_arn
    assert reverse_arn is not None, "the default config has cutover.reverse_replication"
    aws("dms").start_replication_task(ReplicationTaskArn=reverse_arn, StartReplicationTaskType="start-replication")
    assert engine.run(RecordEvidence(Evidence.REVERSE_STARTED, "rehearsal", "reverse started")).status == "changed"
    flipped = engine.run(FlipWriter("rehearsal"))
    assert flipped.status == "changed", flipped.message
    assert weights(outputs, aws) == {"reader": 100, "writer": 100}
    final = state(outputs, aws)
    assert final["phase"] == "writer_flipped"
    versions = [entry["version"] for entry in final["history"]]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)

    # './cutover history' reads every version SSM kept of this rehearsal (all pages), each naming who wrote it.
    stored = read_versions(aws("ssm"), outputs[Output.CUTOVER_STATE_PARAMETER])
    kept = [v for v in stored if v.state is not None and v.state.version > start["version"]]
    assert [v.state.version for v in kept if v.state] == list(range(start["version"] + 1, final["version"] + 1))
    assert all(v.who and v.who.startswith("arn:") for v in kept)
    phases = {v.state.phase.value for v in kept if v.state}
    assert {"reads_shifting", "paused", "write_fence", "writer_flipped"} <= phases

    # Another task's event changes nothing; the reverse task's failure pauses on its event, the writer staying.
    reverse_event = {
        "source": "aws.dms",
        "detail-type": "DMS Replication Task State Change",
        "resources": [reverse_arn],
        "detail": {"eventType": "REPLICATION_TASK_STOPPED"},
    }
    other = rehearsal.invoke({**reverse_event, "resources": [reverse_arn.rsplit(":", 1)[0] + ":SOMEONEELSE"]})
    assert other["status"] == "rejected" and state(outputs, aws) == final
    assert rehearsal.invoke(reverse_event)["status"] == "no_change"  # still running: nothing to do
    aws("dms").stop_replication_task(ReplicationTaskArn=reverse_arn)
    paused = rehearsal.invoke(reverse_event)
    assert paused["status"] == "changed", paused["message"]
    assert [t["transition"] for t in paused["transitions"]] == ["gate_pause"]
    assert state(outputs, aws)["phase"] == "paused" and weights(outputs, aws) == {"reader": 100, "writer": 100}
