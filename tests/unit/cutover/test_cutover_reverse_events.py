"""DMS events of the reverse (Aurora -> source) task: accepted beside the forward task's, a failure pauses at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from tap_cutover import handler
from tap_cutover.decision import desired_records
from tap_cutover.gates import TaskObservation
from tap_cutover.logic import Tick
from tap_cutover.settings import Settings
from tap_cutover.state import Phase, State, Weights

from .fakes import T0, World, fake_engine

FORWARD = "arn:aws:dms:us-east-1:123456789012:task:FORWARDTASK"
REVERSE = "arn:aws:dms:us-east-1:123456789012:task:REVERSETASK"
OTHER = "arn:aws:dms:us-east-1:123456789012:task:SOMEONEELSESTASK"
STOPPED_FORWARD = TaskObservation(True, "stopped", "full-load-and-cdc", 100, True, 0)
RUNNING_REVERSE = TaskObservation(True, "running", "cdc", None, False, 0)


def dms_event(arn: str, event_type: str = "REPLICATION_TASK_FAILED") -> dict[str, Any]:
    return {
        "version": "0",
        "id": "0b5f0c1e-0000-0000-0000-000000000001",
        "detail-type": "DMS Replication Task State Change",
        "source": "aws.dms",
        "account": "123456789012",
        "time": "2030-01-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [arn],
        "detail": {"type": "REPLICATION_TASK", "category": "StateChange", "eventType": event_type},
    }


def flipped_with_reverse() -> State:
    """The writer on Aurora, the reverse task started at the fence: it, not the stopped forward task, is the gate."""
    flipped = T0 - timedelta(minutes=20)
    fenced = flipped - timedelta(minutes=10)
    return State(
        version=12,
        phase=Phase.WRITER_FLIPPED,
        weights=Weights(100, 100),
        last_good_reader_weight=100,
        ttl_lowered_at=fenced - timedelta(hours=1),
        fence_confirmed_at=fenced,
        fence_confirmed_by="alice",
        fence_proven_at=fenced,
        drain_reached_at=fenced,
        sequences_synced_at=fenced,
        reverse_started_at=fenced + timedelta(seconds=5),
        flipped_at=flipped,
    )


@pytest.fixture
def world(cutover_settings: Settings) -> Iterator[World]:
    settings = replace(cutover_settings, dms_replication_arn=FORWARD, dms_reverse_replication_arn=REVERSE)
    world = World(settings, task=STOPPED_FORWARD, reverse_task=RUNNING_REVERSE)
    state = flipped_with_reverse()
    world.state_text = state.to_json()
    for pair, want in desired_records(settings, state).items():
        world.records[pair] = {"source": (100 - want.aurora_weight, want.ttl), "aurora": (want.aurora_weight, want.ttl)}
    handler.set_engine(fake_engine(world))
    yield world
    handler.set_engine(None)


def test_parse_accepts_exactly_the_forward_and_the_reverse_task() -> None:
    assert parse(FORWARD) == Tick("dms_event", "DMS Replication Task State Change: REPLICATION_TASK_FAILED")
    assert parse(REVERSE) == Tick("dms_event", "reverse replication DMS Replication Task State Change: REPLICATION_TASK_FAILED")
    with pytest.raises(handler.EventError, match=f"accepts the replication {FORWARD} and the reverse replication {REVERSE}"):
        parse(OTHER)
    # Without a reverse replication in the stack, an event naming one is another task's.
    with pytest.raises(handler.EventError, match=f"accepts the replication {FORWARD} only"):
        handler.parse_event(dms_event(REVERSE), FORWARD, None)
    # Non-string entries are ignored, not crashed on.
    with pytest.raises(handler.EventError, match="not for this cutover's replication"):
        handler.parse_event({**dms_event(FORWARD), "resources": [7, None]}, FORWARD, REVERSE)


def parse(arn: str) -> Any:
    return handler.parse_event(dms_event(arn), FORWARD, REVERSE)


def test_a_reverse_failure_event_pauses_on_the_event(world: World) -> None:
    healthy = handler.handler(dms_event(REVERSE, "REPLICATION_TASK_STARTED"), None)
    assert healthy["status"] == "no_change", healthy["message"]
    world.reverse_task = replace(RUNNING_REVERSE, status="failed")
    paused = handler.handler(dms_event(REVERSE), None)
    assert paused["status"] == "changed", paused["message"]
    assert [t["transition"] for t in paused["transitions"]] == ["gate_pause"]
    state = world.state()
    assert state.phase is Phase.PAUSED and state.paused_from is Phase.WRITER_FLIPPED
    # Pausing moves no record: the writer stays on Aurora (moving it back would lose Aurora's writes).
    assert world.aurora_weights() == {"reader": 100, "writer": 100}
    assert "reverse replication task failed" in paused["message"]
    assert any("gate_pause" in n.subject for n in world.published)
    invocation = [log for log in world.logs if log.get("event") == "cutover_invocation"][-1]
    assert invocation["trigger"] == "dms_event"


def test_another_tasks_event_is_rejected_with_a_clear_log_and_changes_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    before = world.snapshot()
    world.reverse_task = replace(RUNNING_REVERSE, status="failed")  # a tick would pause: the event must not tick
    result = handler.handler(dms_event(OTHER), None)
    assert result["ok"] is False and result["status"] == "rejected"
    assert world.snapshot() == before and world.calls == [] and world.published == []
    logged = capsys.readouterr().out
    assert '"event":"cutover_invalid_event"' in logged
    assert OTHER in logged and FORWARD in logged and REVERSE in logged


def test_a_reverse_event_with_an_unreadable_task_changes_nothing(world: World) -> None:
    before = world.snapshot()
    world.fail_at = {0: "error"}  # the first call of the invocation: describing the tasks
    world.calls.clear()
    with pytest.raises(handler.CutoverError, match="could not read the gates; nothing changed"):
        handler.handler(dms_event(REVERSE), None)
    assert world.snapshot() == before
