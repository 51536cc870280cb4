"""The Lambda handler end to end against moto: the whole cutover, bad events, errors, cold start."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from tap_cutover import handler
from tap_cutover.aws import build_adapters
from tap_cutover.engine import Engine
from tap_cutover.logic import Evidence, FlipWriter, RecordEvidence, align

from benchmarks.cutover_fixtures import Clock, MotoStack, aligned_now

SCHEDULE = {
    "version": "0",
    "id": "5f1e8a2c-0000-0000-0000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2030-01-01T12:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/tap-migrate-dev-cutover-tick"],
    "detail": {},
}
DMS_EVENT = {
    **SCHEDULE,
    "detail-type": "DMS Replication Task State Change",
    "source": "aws.dms",
    "resources": ["arn:aws:dms:us-east-1:123456789012:task:tap-migrate-dev-main"],
    "detail": {"type": "REPLICATION_TASK", "category": "StateChange", "eventType": "REPLICATION_TASK_STARTED"},
}


class LambdaContext:
    def get_remaining_time_in_millis(self) -> int:
        return 700_000


class Rehearsal:
    """moto resources + a clock that DMS metrics follow, wired into the handler's engine."""

    def __init__(self, stack: MotoStack) -> None:
        self.stack = stack
        stack.start_task()
        self.settings = replace(stack.settings, step_hold_seconds=300)
        self.clock = Clock(aligned_now())
        self.published_until = align(self.clock.now, 60)
        stack.publish_latency(self.published_until - timedelta(hours=1), self.published_until, 0.5, 0.5)
        self.latency = 0.5
        engine = Engine(self.settings, build_adapters(self.settings, stack.session), clock=self.clock, sleep=self.sleep)
        handler.set_engine(engine)

    def catch_up(self) -> None:
        end = align(self.clock.now, 60)
        if end > self.published_until:
            self.stack.publish_latency(self.published_until, end, self.latency, self.latency)
            self.published_until = end

    def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.catch_up()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return handler.handler(event, LambdaContext())


@pytest.fixture
def rehearsal(cutover_aws: MotoStack) -> Iterator[Rehearsal]:
    yield Rehearsal(cutover_aws)
    handler.set_engine(None)


def pair(source: int, ttl: int) -> dict[str, tuple[int, int]]:
    return {"source": (source, ttl), "aurora": (100 - source, ttl)}


def test_full_cutover_happy_path(rehearsal: Rehearsal) -> None:
    stack = rehearsal.stack
    assert stack.weights() == {"reader": pair(100, 60), "writer": pair(100, 60)}

    # './cutover advance' records a passed preflight first (tests/db run it on real servers); the Lambda cannot.
    refused = rehearsal.invoke({"action": "advance", "operator": "alice"})
    assert refused["status"] == "rejected" and "no preflight recorded" in refused["message"]
    assert handler.get_engine().run(RecordEvidence(Evidence.PREFLIGHT_PASSED, "alice", "0 block")).status == "changed"
    started = rehearsal.invoke({"action": "advance", "operator": "alice"})
    assert started["status"] == "changed", started["message"]
    assert stack.weights() == {"reader": pair(90, 60), "writer": pair(100, 60)}
    assert stack.state()["version"] == 3 and stack.state()["phase"] == "reads_shifting"

    held = rehearsal.invoke(SCHEDULE)
    assert held["status"] == "no_change" and "hold left" in held["message"]
    assert stack.state()["version"] == 3

    for version, reads in ((4, 25), (5, 50), (6, 100)):
        rehearsal.sleep(300)
        moved = rehearsal.invoke(SCHEDULE)
        assert moved["status"] == "changed", moved["message"]
        assert stack.weights() == {"reader": pair(100 - reads, 60), "writer": pair(100, 60)}
        state = stack.state()
        assert (state["version"], state["weights"]["reader"], state["phase"]) == (version, reads, "reads_shifting")

    rehearsal.sleep(300)
    fenced = rehearsal.invoke(DMS_EVENT)
    assert fenced["transitions"][0]["transition"] == "enter_fence"
    assert stack.weights() == {"reader": pair(0, 5), "writer": pair(100, 5)}
    assert stack.state()["phase"] == "write_fence" and stack.state()["version"] == 7

    waiting = rehearsal.invoke(SCHEDULE)
    assert waiting["status"] == "no_change" and "fence --confirm" in waiting["message"]

    refused = rehearsal.invoke({"action": "fence", "confirm": False, "operator": "alice"})
    assert refused["status"] == "rejected"
    assert stack.weights()["writer"] == pair(100, 5)

    fence = rehearsal.invoke({"action": "fence", "confirm": True, "operator": "alice"})
    assert fence["status"] == "changed", fence["message"]
    assert [t["transition"] for t in fence["transitions"]] == ["fence_confirmed"]
    assert stack.weights()["writer"] == pair(100, 5)  # the Lambda has no database access: it never flips
    # What './cutover fence --confirm' records once it proved each on the databases (tests/db cover the proofs),
    # and the data proof ('./cutover compare' after the full load, or DMS validation read by the CLI).
    engine = handler.get_engine()
    for kind in (Evidence.FENCE_PROVEN, Evidence.DRAIN_REACHED, Evidence.SEQUENCES_SYNCED, Evidence.DATA_COMPARED):
        assert engine.run(RecordEvidence(kind, "alice", f"{kind.value} proven")).status == "changed"
    rehearsal.sleep(60)
    flipped = engine.run(FlipWriter("alice"))
    assert flipped.status == "changed", flipped.message
    assert stack.weights() == {"reader": pair(0, 5), "writer": pair(0, 5)}
    state = stack.state()
    assert (state["phase"], state["version"], state["weights"]) == ("writer_flipped", 13, {"reader": 100, "writer": 100})
    flip_at = datetime.fromisoformat(state["flipped_at"])
    assert flip_at - datetime.fromisoformat(state["ttl_lowered_at"]) >= timedelta(seconds=60)

    done = rehearsal.invoke({"action": "advance", "operator": "alice"})
    assert done["status"] == "changed" and done["phase"] == "completed"
    assert stack.weights() == {"reader": pair(0, 60), "writer": pair(0, 60)}
    assert stack.state()["version"] == 14
    assert [h["version"] for h in stack.state()["history"]] == list(range(5, 15))  # the newest ten

    subjects = [n["Subject"] for n in stack.notifications()]
    assert len(subjects) == 13
    assert all(f"v{v}:" in subject for v, subject in zip(range(2, 15), subjects, strict=True))


BAD_EVENTS: list[tuple[Any, str]] = [
    ([], "must be a JSON object"),
    ({}, "unrecognised event"),
    ({"source": "aws.s3", "detail-type": "Object Created"}, "unknown event source 'aws.s3'"),
    ({"source": "aws.events", "detail-type": "Something"}, "expected 'Scheduled Event'"),
    ({"source": "aws.dms", "detail-type": "DMS Replication Task State Change"}, "without a 'detail' object"),
    ({"source": "aws.dms", "detail-type": "Other", "detail": {}}, "expected a DMS state-change event"),
    (
        {**DMS_EVENT, "resources": ["arn:aws:dms:us-east-1:123456789012:task:SOMEONEELSESTASK"]},
        "not for this cutover's replication",
    ),
    ({k: v for k, v in DMS_EVENT.items() if k != "resources"}, "aws.dms event for None"),
    ({"action": "launch", "operator": "alice"}, "unknown action 'launch'"),
    ({"action": "rollback", "operator": "alice"}, 'requires "confirm": true'),
    ({"action": "fence", "operator": "alice"}, 'requires "confirm": true'),
    ({"action": "rollback", "confirm": "yes", "operator": "alice"}, "'confirm' must be true or false"),
    ({"action": "rollback", "confirm": True, "writer": 1, "operator": "alice"}, "'writer' must be true or false"),
    ({"action": "advance"}, "'operator' must be a non-empty string"),
    ({"action": "advance", "operator": ""}, "'operator' must be a non-empty string"),
    ({"action": "advance", "operator": 7}, "'operator' must be a non-empty string"),
    ({"action": "advance", "operator": "alice", "force": True}, "unknown field(s) in operator event: force"),
    ({"action": "advance", "operator": "alice", "source": "aws.events"}, "unknown field(s)"),
]


@pytest.mark.parametrize(("event", "fragment"), BAD_EVENTS, ids=[f for _, f in BAD_EVENTS])
def test_bad_events_change_nothing(rehearsal: Rehearsal, event: Any, fragment: str) -> None:
    stack = rehearsal.stack
    before = (stack.weights(), stack.state())
    result = rehearsal.invoke(event)
    assert result["ok"] is False and result["status"] == "rejected"
    assert fragment in result["message"]
    assert (stack.weights(), stack.state()) == before
    assert stack.notifications() == []


def test_aws_failure_raises_and_changes_nothing(rehearsal: Rehearsal) -> None:
    stack = rehearsal.stack
    rehearsal.invoke({"action": "advance", "operator": "alice"})
    stack.notifications()
    before = stack.weights()
    stack.rds.delete_db_cluster(DBClusterIdentifier=stack.settings.aurora_cluster_id, SkipFinalSnapshot=True)
    stack.ssm.delete_parameter(Name=stack.settings.state_parameter_name)
    with pytest.raises(handler.CutoverError, match="could not read the state; nothing changed"):
        rehearsal.invoke(SCHEDULE)
    assert stack.weights() == before
    lock = stack.ssm.describe_parameters()["Parameters"]
    assert [p["Name"] for p in lock] == [], "the lock was released"


def test_cold_start_builds_the_engine_once_from_the_environment(cutover_aws: MotoStack, monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in cutover_aws.settings.to_env().items():
        monkeypatch.setenv(var, value)
    handler.set_engine(None)
    try:
        status = handler.handler({"action": "status"}, None)
        assert status["ok"] and status["phase"] == "replicating"
        assert status["live"]["reader"]["source"]["weight"] == 100
        assert handler.get_engine() is handler.get_engine()
    finally:
        handler.set_engine(None)
