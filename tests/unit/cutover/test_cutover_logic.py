"""Table-driven tests of the pure decision logic (no AWS, no fakes)."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tap_cutover import logic
from tap_cutover.logic import (
    Action,
    Datapoint,
    Evidence,
    FlipWriter,
    NoChange,
    Observation,
    OperatorCommand,
    PairChange,
    RecordEvidence,
    Rejected,
    TaskObservation,
    Tick,
    Transition,
    align,
    decide,
    evaluate_gates,
)
from tap_cutover.settings import Settings
from tap_cutover.state import HISTORY_MAX_ENTRIES, HistoryEntry, Phase, State, Weights

from .fakes import DATA_COMPARED, T0

NOW = T0 + timedelta(seconds=30)  # mid-period: the current period is incomplete
TICK = Tick("schedule")
RUNNING = TaskObservation(True, "running", "full-load-and-cdc", 100, True, 0)


def series(settings: Settings, now: datetime, values: Sequence[float | None]) -> tuple[Datapoint, ...]:
    """values[0] is the newest complete period; None leaves that period without a datapoint."""
    period = timedelta(seconds=settings.metric_period_seconds)
    newest = align(now, settings.metric_period_seconds) - period
    return tuple(Datapoint(newest - i * period, v) for i, v in enumerate(values) if v is not None)


def obs(settings: Settings, now: datetime = NOW, **changes: Any) -> Observation:
    # Green for a whole hold and more: the step that ends a hold judges every period since it began.
    flat = [0.5] * (settings.step_hold_seconds // settings.metric_period_seconds + settings.latency_periods + 2)
    base = Observation(RUNNING, series(settings, now, flat), series(settings, now, flat), (), "available")
    return replace(base, **changes)


def cmd(action: Action, *, confirm: bool = False, writer: bool = False) -> OperatorCommand:
    return OperatorCommand(action, "alice", confirm, writer)


def shifting(reader: int, last_good: int, started: datetime = NOW - timedelta(seconds=10)) -> State:
    return State(
        version=4,
        phase=Phase.READS_SHIFTING,
        weights=Weights(reader, 0),
        last_good_reader_weight=last_good,
        step_started_at=started,
    )


def fence(confirmed: datetime | None = None, lowered: datetime = NOW - timedelta(hours=1)) -> State:
    return State(
        version=8,
        phase=Phase.WRITE_FENCE,
        weights=Weights(100, 0),
        last_good_reader_weight=100,
        ttl_lowered_at=lowered,
        fence_confirmed_at=confirmed,
        fence_confirmed_by="alice" if confirmed else None,
        # './cutover compare' recorded while reads shifted: the flip's data proof.
        **DATA_COMPARED,
    )


def flipped() -> State:
    at = NOW - timedelta(minutes=30)
    return State(
        version=10,
        phase=Phase.WRITER_FLIPPED,
        weights=Weights(100, 100),
        last_good_reader_weight=100,
        ttl_lowered_at=at - timedelta(hours=1),
        fence_confirmed_at=at - timedelta(minutes=10),
        fence_confirmed_by="alice",
        flipped_at=at,
    )


def paused(origin: State) -> State:
    return replace(origin, phase=Phase.PAUSED, paused_from=origin.phase, step_started_at=None)


# The CLI records a passed preflight before 'advance' starts (tests/db run it on real servers).
REPLICATING = State(version=1, phase=Phase.REPLICATING, preflight_passed_at=NOW - timedelta(seconds=5))
COMPLETED = replace(flipped(), phase=Phase.COMPLETED, ttl_lowered_at=None, version=11)
ROLLED_BACK = State(version=6, phase=Phase.ROLLED_BACK, preflight_passed_at=NOW - timedelta(seconds=5))
ROLLED_BACK_AFTER_FLIP = replace(ROLLED_BACK, fence_confirmed_at=NOW, flipped_at=NOW)


# ---------------------------------------------------------------- gates


def _gate(settings: Settings, observation: Observation, name: str) -> logic.GateResult:
    report = evaluate_gates(settings, observation, NOW)
    return next(r for r in report.results if r.name == name)


def test_all_gates_green(cutover_settings: Settings) -> None:
    report = evaluate_gates(cutover_settings, obs(cutover_settings), NOW)
    assert report.green, report.summary()
    assert [r.name for r in report.results] == [
        "dms_task",
        "cdc_latency_source",
        "cdc_latency_target",
        "alarms",
        "aurora_cluster",
    ]


@pytest.mark.parametrize(
    ("task", "green"),
    [
        (RUNNING, True),
        (TaskObservation(False), False),
        (replace(RUNNING, status="stopped"), False),
        (replace(RUNNING, status="failed"), False),
        (replace(RUNNING, status="starting"), False),
        (replace(RUNNING, full_load_percent=99, full_load_finished=False), False),
        (replace(RUNNING, full_load_percent=None, full_load_finished=True), True),
        (replace(RUNNING, full_load_percent=100, full_load_finished=False), True),
        (replace(RUNNING, migration_type="cdc", full_load_percent=0, full_load_finished=False), True),
        (replace(RUNNING, migration_type="full-load", status="stopped"), False),
        (replace(RUNNING, tables_errored=1), False),
    ],
)
def test_dms_task_gate(cutover_settings: Settings, task: TaskObservation, green: bool) -> None:
    assert _gate(cutover_settings, obs(cutover_settings, task=task), "dms_task").green is green


@pytest.mark.parametrize("metric", ["latency_source", "latency_target"])
@pytest.mark.parametrize(
    ("values", "green", "fragment"),
    [
        ([0.5] * 5, True, "max 0.5s <= 30s"),
        ([30.0] * 5, True, "<= 30s"),
        ([0.5, 0.5, 30.5, 0.5, 0.5], False, "> 30s"),
        ([], False, "no datapoints"),
        ([0.5, 0.5, None, 0.5, 0.5, 0.5], False, "no datapoint for the period"),
        ([0.5] * 4, False, "only 4 of 5"),
        ([None, None, 0.5, 0.5, 0.5, 0.5, 0.5], True, "<= 30s"),  # newest 2 periods late: CloudWatch delay
        ([None, None, None, 0.5, 0.5, 0.5, 0.5], False, "stale"),
        ([math.nan, 0.5, 0.5, 0.5, 0.5], False, "> 30s"),
    ],
)
def test_latency_gate(cutover_settings: Settings, metric: str, values: list[float | None], green: bool, fragment: str) -> None:
    changed: dict[str, Any] = {metric: series(cutover_settings, NOW, values)}
    observation = obs(cutover_settings, NOW, **changed)
    gate = _gate(cutover_settings, observation, f"cdc_{metric}")
    assert gate.green is green
    assert fragment in gate.value


def test_latency_gate_ignores_the_incomplete_current_period(cutover_settings: Settings) -> None:
    current = Datapoint(align(NOW, 60), 999.0)
    observation = obs(cutover_settings)
    observation = replace(observation, latency_source=(current, *observation.latency_source))
    assert _gate(cutover_settings, observation, "cdc_latency_source").green


def test_alarm_and_cluster_gates(cutover_settings: Settings) -> None:
    s = cutover_settings
    assert not _gate(s, obs(s, alarms_in_alarm=("tap-migrate-dev-cpu",)), "alarms").green
    assert "tap-migrate-dev-cpu" in _gate(s, obs(s, alarms_in_alarm=("tap-migrate-dev-cpu",)), "alarms").value
    assert _gate(s, obs(s, cluster_status="available"), "aurora_cluster").green
    assert not _gate(s, obs(s, cluster_status="modifying"), "aurora_cluster").green
    assert not _gate(s, obs(s, cluster_status=None), "aurora_cluster").green


RED_OBSERVATIONS: dict[str, dict[str, Any]] = {
    "dms_task": {"task": replace(RUNNING, status="stopped")},
    "cdc_latency_source": {"latency_source": ()},
    "cdc_latency_target": {"latency_target": ()},
    "alarms": {"alarms_in_alarm": ("tap-migrate-dev-errors",)},
    "aurora_cluster": {"cluster_status": "failover"},
}


@pytest.mark.parametrize("gate", sorted(RED_OBSERVATIONS))
def test_each_gate_alone_turns_the_report_red(cutover_settings: Settings, gate: str) -> None:
    report = evaluate_gates(cutover_settings, obs(cutover_settings, **RED_OBSERVATIONS[gate]), NOW)
    assert not report.green
    assert [r.name for r in report.red()] == [gate]


# ---------------------------------------------------------------- transitions


@dataclass(frozen=True)
class Case:
    name: str
    state: State
    trigger: logic.Trigger
    red: str | None = None  # a gate made red, or None for all green
    expect: str = "no_change"  # "no_change" | "rejected" | transition event name
    phase: Phase | None = None
    weights: Weights | None = None
    changes: tuple[PairChange, ...] = ()
    fragment: str = ""


STEP_DONE = NOW - timedelta(seconds=900)
CASES = [
    Case("replicating tick waits", REPLICATING, TICK, fragment="waiting for an operator 'advance'"),
    Case(
        "advance starts reads at the first step",
        REPLICATING,
        cmd(Action.ADVANCE),
        expect="started",
        phase=Phase.READS_SHIFTING,
        weights=Weights(10, 0),
        changes=(PairChange("reader", 10, 60),),
    ),
    # A refused start voids the preflight recorded for it (a refusal that writes the state, reported as rejected).
    Case(
        "advance refused on red gate",
        REPLICATING,
        cmd(Action.ADVANCE),
        red="aurora_cluster",
        expect="preflight_voided",
        phase=Phase.REPLICATING,
        fragment="start refused: cannot start: gate(s) red",
    ),
    Case(
        "no start without a recorded preflight",
        replace(REPLICATING, preflight_passed_at=None),
        cmd(Action.ADVANCE),
        expect="rejected",
        fragment="no preflight recorded",
    ),
    Case("hold not elapsed", shifting(10, 0), TICK, fragment="s of the hold left"),
    Case(
        "hold elapsed moves to next step",
        shifting(10, 0, STEP_DONE),
        TICK,
        expect="step",
        phase=Phase.READS_SHIFTING,
        weights=Weights(25, 0),
        changes=(PairChange("reader", 25, 60),),
    ),
    Case(
        "DMS event progresses like a tick",
        shifting(25, 10, STEP_DONE),
        Tick("dms_event", "DMS Replication Task State Change: REPLICATION_TASK_STARTED"),
        expect="step",
        weights=Weights(50, 0),
        changes=(PairChange("reader", 50, 60),),
    ),
    Case(
        "100% held enters the fence and lowers TTL on all four records",
        shifting(100, 50, STEP_DONE),
        TICK,
        expect="enter_fence",
        phase=Phase.WRITE_FENCE,
        weights=Weights(100, 0),
        changes=(PairChange("reader", 100, 5), PairChange("writer", 0, 5)),
    ),
    Case(
        "red gate rolls reads back to last good step and pauses",
        shifting(50, 25),
        TICK,
        red="cdc_latency_target",
        expect="gate_rollback",
        phase=Phase.PAUSED,
        weights=Weights(25, 0),
        changes=(PairChange("reader", 25, 60),),
    ),
    Case(
        "red gate on the first step rolls reads back to 0",
        shifting(10, 0),
        TICK,
        red="dms_task",
        expect="gate_rollback",
        phase=Phase.PAUSED,
        weights=Weights(0, 0),
        changes=(PairChange("reader", 0, 60),),
    ),
    Case(
        "missing metrics are red even after a completed hold",
        shifting(25, 10, STEP_DONE),
        TICK,
        red="cdc_latency_source",
        expect="gate_rollback",
        weights=Weights(10, 0),
        changes=(PairChange("reader", 10, 60),),
    ),
    Case(
        "red alarm at the last good step pauses without record change",
        shifting(25, 25),
        TICK,
        red="alarms",
        expect="gate_rollback",
        weights=Weights(25, 0),
    ),
    Case("advance during reads_shifting is refused", shifting(10, 0), cmd(Action.ADVANCE), expect="rejected"),
    Case("fence waits for operator", fence(), TICK, fragment="fence --confirm"),
    Case(
        "red gate in write_fence pauses, reads stay",
        fence(),
        TICK,
        red="aurora_cluster",
        expect="gate_pause",
        phase=Phase.PAUSED,
        weights=Weights(100, 0),
    ),
    Case("fence without confirm", fence(), cmd(Action.FENCE), expect="rejected", fragment="confirm=true"),
    Case("fence outside write_fence", shifting(10, 0), cmd(Action.FENCE, confirm=True), expect="rejected"),
    Case(
        "fence with confirm records it, no DNS change",
        fence(),
        cmd(Action.FENCE, confirm=True),
        expect="fence_confirmed",
        phase=Phase.WRITE_FENCE,
        weights=Weights(100, 0),
    ),
    Case("advance in write_fence is refused", fence(), cmd(Action.ADVANCE), expect="rejected"),
    Case(
        "red gate after the flip pauses; writer never moves back",
        flipped(),
        TICK,
        red="dms_task",
        expect="gate_pause",
        phase=Phase.PAUSED,
        weights=Weights(100, 100),
    ),
    Case(
        "missing metrics after the flip: pause, writer stays",
        flipped(),
        TICK,
        red="cdc_latency_target",
        expect="gate_pause",
        weights=Weights(100, 100),
    ),
    Case("flipped tick green waits", flipped(), TICK, fragment="run 'advance' to complete"),
    Case(
        "advance completes and restores TTL",
        flipped(),
        cmd(Action.ADVANCE),
        expect="completed",
        phase=Phase.COMPLETED,
        weights=Weights(100, 100),
        changes=(PairChange("reader", 100, 60), PairChange("writer", 100, 60)),
    ),
    Case("complete refused on red gate", flipped(), cmd(Action.ADVANCE), red="alarms", expect="rejected"),
    Case("rollback without confirm", shifting(25, 10), cmd(Action.ROLLBACK), expect="rejected"),
    Case(
        "rollback before flip puts reads at 0",
        shifting(25, 10),
        cmd(Action.ROLLBACK, confirm=True),
        expect="rolled_back",
        phase=Phase.ROLLED_BACK,
        weights=Weights(0, 0),
        changes=(PairChange("reader", 0, 60),),
    ),
    Case(
        "rollback in write_fence restores TTL and reads",
        fence(confirmed=NOW),
        cmd(Action.ROLLBACK, confirm=True),
        expect="rolled_back",
        weights=Weights(0, 0),
        changes=(PairChange("reader", 0, 60), PairChange("writer", 0, 60)),
        fragment="make it writable again",
    ),
    Case(
        "rollback works while paused",
        paused(shifting(50, 25)),
        cmd(Action.ROLLBACK, confirm=True),
        expect="rolled_back",
        weights=Weights(0, 0),
        changes=(PairChange("reader", 0, 60),),
    ),
    Case(
        "reads-only rollback impossible after flip",
        flipped(),
        cmd(Action.ROLLBACK, confirm=True),
        expect="rejected",
        fragment="LOSES",
    ),
    Case(
        "writer rollback needs the writer on Aurora",
        shifting(25, 10),
        cmd(Action.ROLLBACK, confirm=True, writer=True),
        expect="rejected",
    ),
    Case(
        "writer rollback needs confirm",
        flipped(),
        cmd(Action.ROLLBACK, writer=True),
        expect="rejected",
        fragment="confirm=true",
    ),
    Case(
        "writer rollback with confirm",
        flipped(),
        cmd(Action.ROLLBACK, confirm=True, writer=True),
        expect="writer_rolled_back",
        phase=Phase.ROLLED_BACK,
        weights=Weights(0, 0),
        changes=(PairChange("reader", 0, 60), PairChange("writer", 0, 60)),
        fragment="NOT on the source",
    ),
    Case(
        "writer rollback from paused-after-flip",
        paused(flipped()),
        cmd(Action.ROLLBACK, confirm=True, writer=True),
        expect="writer_rolled_back",
        weights=Weights(0, 0),
        changes=(PairChange("reader", 0, 60), PairChange("writer", 0, 60)),
    ),
    Case(
        "writer rollback after completion",
        COMPLETED,
        cmd(Action.ROLLBACK, confirm=True, writer=True),
        expect="writer_rolled_back",
        changes=(PairChange("reader", 0, 60), PairChange("writer", 0, 60)),
    ),
    Case("rollback twice", ROLLED_BACK, cmd(Action.ROLLBACK, confirm=True), expect="rejected"),
    Case(
        "pause freezes weights",
        shifting(50, 25),
        cmd(Action.PAUSE),
        expect="paused",
        phase=Phase.PAUSED,
        weights=Weights(50, 0),
    ),
    Case("pause twice", paused(shifting(50, 25)), cmd(Action.PAUSE), expect="rejected"),
    Case("pause after completion", COMPLETED, cmd(Action.PAUSE), expect="rejected"),
    Case("paused tick does nothing even on red", paused(shifting(50, 25)), TICK, red="dms_task"),
    Case(
        "resume returns to the paused phase",
        paused(shifting(50, 25)),
        cmd(Action.RESUME),
        expect="resumed",
        phase=Phase.READS_SHIFTING,
        weights=Weights(50, 0),
    ),
    Case("resume refused on red gate", paused(shifting(50, 25)), cmd(Action.RESUME), red="alarms", expect="rejected"),
    Case("resume when not paused", shifting(50, 25), cmd(Action.RESUME), expect="rejected"),
    Case("advance while paused", paused(fence()), cmd(Action.ADVANCE), expect="rejected", fragment="resume"),
    Case(
        "restart after a reads-only rollback",
        ROLLED_BACK,
        cmd(Action.ADVANCE),
        expect="started",
        weights=Weights(10, 0),
        changes=(PairChange("reader", 10, 60),),
    ),
    Case(
        "no restart after a writer rollback",
        ROLLED_BACK_AFTER_FLIP,
        cmd(Action.ADVANCE),
        expect="preflight_voided",
        phase=Phase.ROLLED_BACK,
        fragment="have diverged",
    ),
    Case(
        "no restart after a writer rollback, no preflight",
        replace(ROLLED_BACK_AFTER_FLIP, preflight_passed_at=None),
        cmd(Action.ADVANCE),
        expect="rejected",
        fragment="have diverged",
    ),
    Case("advance after completion", COMPLETED, cmd(Action.ADVANCE), expect="rejected"),
    Case("completed tick", COMPLETED, TICK, fragment="completed"),
    Case("rolled back tick", ROLLED_BACK, TICK, fragment="rolled back"),
    Case("writer flag on advance", REPLICATING, cmd(Action.ADVANCE, writer=True), expect="rejected"),
    Case("status changes nothing", shifting(10, 0), cmd(Action.STATUS)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition_table(cutover_settings: Settings, case: Case) -> None:
    observation = obs(cutover_settings, **(RED_OBSERVATIONS[case.red] if case.red else {}))
    decision = decide(cutover_settings, case.state, observation, case.trigger, NOW)
    if case.expect == "no_change":
        assert isinstance(decision, NoChange), decision
        assert case.fragment in " ".join(decision.reasons)
        return
    if case.expect == "rejected":
        assert isinstance(decision, Rejected), decision
        assert case.fragment in " ".join(decision.reasons)
        return
    assert isinstance(decision, Transition), decision
    assert decision.event == case.expect
    new = decision.state
    assert new.version == case.state.version + 1
    assert new.history[-1].version == new.version
    assert new.history[-1].from_phase is case.state.phase
    assert new.history[-1].to_phase is new.phase
    if case.phase is not None:
        assert new.phase is case.phase
    if case.weights is not None:
        assert new.weights == case.weights
    assert decision.changes == case.changes
    assert case.fragment in decision.reason
    # Never both 0 in a pair: every change sets aurora weight w and source 100 - w.
    assert all(0 <= c.aurora_weight <= 100 for c in decision.changes)
    State.parse(new.to_json())  # the new state is valid and serialisable


def test_resume_into_reads_shifting_restarts_the_hold(cutover_settings: Settings) -> None:
    decision = decide(cutover_settings, paused(shifting(50, 25)), obs(cutover_settings), cmd(Action.RESUME), NOW)
    assert isinstance(decision, Transition)
    assert decision.state.step_started_at == NOW


def test_pause_and_rollback_need_no_observation(cutover_settings: Settings) -> None:
    assert isinstance(decide(cutover_settings, shifting(10, 0), None, cmd(Action.PAUSE), NOW), Transition)
    rollback = cmd(Action.ROLLBACK, confirm=True)
    assert isinstance(decide(cutover_settings, shifting(10, 0), None, rollback, NOW), Transition)
    assert isinstance(decide(cutover_settings, fence(), None, cmd(Action.FENCE, confirm=True), NOW), Transition)
    with pytest.raises(ValueError, match="needs an observation"):
        decide(cutover_settings, shifting(10, 0), None, TICK, NOW)


def test_history_is_bounded(cutover_settings: Settings) -> None:
    state = shifting(10, 0, STEP_DONE)
    history = tuple(
        HistoryEntry.create(
            version=v,
            at=NOW,
            from_phase=Phase.READS_SHIFTING,
            to_phase=Phase.READS_SHIFTING,
            reason="r",
            trigger="schedule",
            operator=None,
            weights=Weights(10, 0),
        )
        for v in range(1, 5)
    )
    state = replace(state, history=history)
    for _ in range(HISTORY_MAX_ENTRIES + 3):
        decision = decide(cutover_settings, state, obs(cutover_settings), cmd(Action.PAUSE), NOW)
        assert isinstance(decision, Transition)
        resumed = decide(cutover_settings, decision.state, obs(cutover_settings), cmd(Action.RESUME), NOW)
        assert isinstance(resumed, Transition)
        state = resumed.state
    assert len(state.history) == HISTORY_MAX_ENTRIES
    assert state.history[-1].version == state.version


# ---------------------------------------------------------------- evidence and writer flip

FENCE_AT = align(NOW, 60) - timedelta(minutes=10)
FLIP = FlipWriter("alice")


def proven(confirmed: datetime = FENCE_AT, **overrides: Any) -> State:
    """write_fence with all three database proofs recorded after the fence, in order."""
    fields = {
        "fence_proven_at": confirmed + timedelta(seconds=1),
        "drain_reached_at": confirmed + timedelta(seconds=2),
        "sequences_synced_at": confirmed + timedelta(seconds=3),
        **overrides,
    }
    return replace(fence(confirmed=confirmed), **fields)


def test_flip_with_all_three_proofs(cutover_settings: Settings) -> None:
    decision = decide(cutover_settings, proven(), obs(cutover_settings), FLIP, NOW)
    assert isinstance(decision, Transition) and decision.event == "writer_flipped"
    assert decision.state.phase is Phase.WRITER_FLIPPED
    assert decision.state.weights == Weights(100, 100)
    # One pair, one batch: only the writer pair moves, with the low TTL still in place.
    assert decision.changes == (PairChange("writer", 100, 5),)
    assert decision.state.flipped_at == NOW


@pytest.mark.parametrize(
    ("label", "overrides", "missing"),
    [
        ("no proof at all", {"fence_proven_at": None, "drain_reached_at": None, "sequences_synced_at": None}, "fence_proven"),
        ("fence not proven", {"fence_proven_at": None}, "fence_proven"),
        ("drain not reached", {"drain_reached_at": None}, "drain_reached"),
        ("sequences not synced", {"sequences_synced_at": None}, "sequences_synced"),
        ("proof older than the fence", {"fence_proven_at": FENCE_AT - timedelta(seconds=1)}, "fence_proven"),
        ("drain before the fence was proven", {"drain_reached_at": FENCE_AT}, "drain_reached"),
    ],
)
def test_no_flip_without_database_evidence(
    cutover_settings: Settings, label: str, overrides: dict[str, Any], missing: str
) -> None:
    state = proven(**overrides)
    decision = decide(cutover_settings, state, obs(cutover_settings), FLIP, NOW)
    assert isinstance(decision, Rejected), label
    assert missing in " ".join(decision.reasons) and "metrics alone never move the writer" in " ".join(decision.reasons)


def test_flip_waits_for_the_old_ttl(cutover_settings: Settings) -> None:
    state = replace(proven(), ttl_lowered_at=NOW - timedelta(seconds=30))
    decision = decide(cutover_settings, state, obs(cutover_settings), FLIP, NOW)
    assert isinstance(decision, NoChange)
    assert "record TTL 60s not yet expired" in " ".join(decision.reasons)


def test_drained_latency_metrics_never_stand_in_for_evidence(cutover_settings: Settings) -> None:
    zero = series(cutover_settings, NOW, [0.0] * 30)
    decision = decide(
        cutover_settings, fence(confirmed=FENCE_AT), obs(cutover_settings, latency_source=zero, latency_target=zero), FLIP, NOW
    )
    assert isinstance(decision, Rejected)


@pytest.mark.parametrize("gate", ["dms_task", "alarms", "aurora_cluster"])
def test_flip_refused_on_a_red_non_latency_gate(cutover_settings: Settings, gate: str) -> None:
    decision = decide(cutover_settings, proven(), obs(cutover_settings, **RED_OBSERVATIONS[gate]), FLIP, NOW)
    assert isinstance(decision, Rejected) and "writer NOT flipped" in decision.reasons[0]


def test_red_latency_does_not_block_a_proven_flip(cutover_settings: Settings) -> None:
    """CloudWatch latency gates the reads shift; the writer waits on the marker, which the CLI proved."""
    decision = decide(cutover_settings, proven(), obs(cutover_settings, **RED_OBSERVATIONS["cdc_latency_source"]), FLIP, NOW)
    assert isinstance(decision, Transition) and decision.event == "writer_flipped"


def test_evidence_is_recorded_in_order_for_the_current_fence(cutover_settings: Settings) -> None:
    state = fence(confirmed=FENCE_AT)
    for kind in (Evidence.DRAIN_REACHED, Evidence.SEQUENCES_SYNCED):
        refused = decide(cutover_settings, state, None, RecordEvidence(kind, "alice", "x"), NOW)
        assert isinstance(refused, Rejected) and "needs a proven fence first" in refused.reasons[0]
    for kind, name in (
        (Evidence.FENCE_PROVEN, "fence_proven_at"),
        (Evidence.DRAIN_REACHED, "drain_reached_at"),
        (Evidence.SEQUENCES_SYNCED, "sequences_synced_at"),
    ):
        decision = decide(cutover_settings, state, None, RecordEvidence(kind, "alice", f"{kind.value} proof"), NOW)
        assert isinstance(decision, Transition) and decision.event == kind.value and decision.changes == ()
        assert getattr(decision.state, name) == NOW and decision.state.version == state.version + 1
        state = decision.state
    unconfirmed = decide(cutover_settings, fence(), None, RecordEvidence(Evidence.FENCE_PROVEN, "alice", "x"), NOW)
    assert isinstance(unconfirmed, Rejected)


def test_a_new_fence_or_a_resume_discards_earlier_evidence(cutover_settings: Settings) -> None:
    again = decide(cutover_settings, proven(), None, cmd(Action.FENCE, confirm=True), NOW)
    assert isinstance(again, Transition)
    assert (again.state.fence_proven_at, again.state.drain_reached_at, again.state.sequences_synced_at) == (None, None, None)
    resumed = decide(cutover_settings, paused(proven()), obs(cutover_settings), cmd(Action.RESUME), NOW)
    assert isinstance(resumed, Transition) and resumed.state.fence_confirmed_at is None
    assert resumed.state.fence_proven_at is None and "fence and its proofs start over" in resumed.reason


# ---------------------------------------------------------------- reverse replication

REVERSE_STARTED = RecordEvidence(Evidence.REVERSE_STARTED, "alice", "reverse task running from 0/3000060")
FORWARD_STOPPED = replace(RUNNING, status="stopped")
REVERSE_RUNNING = TaskObservation(True, "running", "cdc", None, False, 0)


def reversed_fence() -> State:
    return proven(reverse_started_at=FENCE_AT + timedelta(seconds=4))


def test_reverse_start_is_recorded_only_after_drain_and_sequences(cutover_settings: Settings) -> None:
    early = replace(proven(), sequences_synced_at=None)
    refused = decide(cutover_settings, early, None, REVERSE_STARTED, NOW)
    assert isinstance(refused, Rejected) and "sequences_synced" in refused.reasons[0]
    recorded = decide(cutover_settings, proven(), None, REVERSE_STARTED, NOW)
    assert isinstance(recorded, Transition) and recorded.state.reverse_started_at == NOW and recorded.changes == ()
    assert "reverse_started" in logic.evidence_summary(recorded.state)


def test_after_the_reverse_start_the_gates_watch_the_reverse_task(cutover_settings: Settings) -> None:
    """The forward task is stopped at the reverse start; the flip and later ticks judge the reverse one."""
    observed = obs(cutover_settings, task=FORWARD_STOPPED, reverse_task=REVERSE_RUNNING)
    flip = decide(cutover_settings, reversed_fence(), observed, FLIP, NOW)
    assert isinstance(flip, Transition) and flip.event == "writer_flipped"
    assert any(g.name == "dms_task" and g.green and "reverse" in g.value for g in flip.gates.results)  # type: ignore[union-attr]
    # DMS may still be bringing it up: the slot keeps every change from the start position.
    starting = obs(cutover_settings, task=FORWARD_STOPPED, reverse_task=replace(REVERSE_RUNNING, status="starting"))
    assert isinstance(decide(cutover_settings, reversed_fence(), starting, FLIP, NOW), Transition)
    # Without the recorded start the stopped forward task is still the gate.
    refused = decide(cutover_settings, proven(), observed, FLIP, NOW)
    assert isinstance(refused, Rejected) and "replication task stopped" in refused.reasons[0]


@pytest.mark.parametrize("status", ["failed", "stopped"])
def test_a_failed_reverse_task_pauses_after_the_flip_without_moving_the_writer(cutover_settings: Settings, status: str) -> None:
    after = replace(flipped(), reverse_started_at=flipped().fence_confirmed_at)
    observed = obs(cutover_settings, task=FORWARD_STOPPED, reverse_task=replace(REVERSE_RUNNING, status=status))
    decision = decide(cutover_settings, after, observed, TICK, NOW)
    assert isinstance(decision, Transition) and decision.state.phase is Phase.PAUSED
    assert decision.state.weights.writer == 100 and f"reverse replication task {status}" in decision.reason
    complete = decide(cutover_settings, after, observed, cmd(Action.ADVANCE), NOW)
    assert isinstance(complete, Rejected)
    healthy = obs(cutover_settings, task=FORWARD_STOPPED, reverse_task=REVERSE_RUNNING)
    completed = decide(cutover_settings, after, healthy, cmd(Action.ADVANCE), NOW)
    assert isinstance(completed, Transition) and completed.state.phase is Phase.COMPLETED


def test_a_new_fence_forgets_the_reverse_start(cutover_settings: Settings) -> None:
    again = decide(cutover_settings, reversed_fence(), None, cmd(Action.FENCE, confirm=True), NOW)
    assert isinstance(again, Transition) and again.state.reverse_started_at is None


@pytest.mark.parametrize("state", [REPLICATING, fence(confirmed=FENCE_AT), flipped(), COMPLETED])
def test_a_note_is_recorded_in_any_phase_changing_nothing_else(cutover_settings: Settings, state: State) -> None:
    note = logic.RecordNote("alice", "allowed replacing aws_dms_endpoint.x: re-pointed at the new host")
    decision = decide(cutover_settings, state, None, note, NOW)
    assert isinstance(decision, Transition) and decision.event == "note" and decision.changes == ()
    assert decision.state.phase is state.phase and decision.state.weights == state.weights
    assert decision.state.history[-1].reason == "alice: allowed replacing aws_dms_endpoint.x: re-pointed at the new host"
    assert decision.state.history[-1].trigger == "operator:note"
    assert replace(decision.state, version=state.version, updated_at=state.updated_at, history=state.history) == state


def test_no_tick_ever_moves_the_writer(cutover_settings: Settings) -> None:
    """Exhaustive over phases x gate colours: only FlipWriter (with evidence) and an explicit writer rollback move it."""
    states = [REPLICATING, shifting(50, 25, STEP_DONE), fence(), fence(confirmed=FENCE_AT), proven(), flipped(), COMPLETED]
    states += [paused(s) for s in (shifting(50, 25), fence(), flipped())]
    for state in states:
        for red in [None, *RED_OBSERVATIONS]:
            observation = obs(cutover_settings, **(RED_OBSERVATIONS[red] if red else {}))
            triggers: list[logic.Trigger] = [TICK, Tick("dms_event", "x"), *(cmd(a) for a in Action)]
            for trigger in triggers:
                decision = decide(cutover_settings, state, observation, trigger, NOW)
                if isinstance(decision, Transition):
                    assert decision.state.weights.writer == state.weights.writer, (state.phase, red, trigger)


# ---------------------------------------------------------------- purity


def test_logic_imports_no_aws_sdk() -> None:
    source = Path(logic.__file__).read_text()
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & {"boto3", "botocore", "aiobotocore"}
    lambda_dir = str(Path(logic.__file__).resolve().parents[1])
    probe = (
        "import sys; import tap_cutover.logic, tap_cutover.handler; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=lambda_dir, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_preflight_is_recorded_before_a_start_and_consumed_by_it(cutover_settings: Settings) -> None:
    fresh = State(version=1, phase=Phase.REPLICATING)
    recorded = decide(cutover_settings, fresh, None, RecordEvidence(Evidence.PREFLIGHT_PASSED, "alice", "0 block"), NOW)
    assert isinstance(recorded, Transition) and recorded.state.phase is Phase.REPLICATING and recorded.changes == ()
    started = decide(cutover_settings, recorded.state, obs(cutover_settings), cmd(Action.ADVANCE), NOW)
    assert isinstance(started, Transition) and started.state.preflight_passed_at is None
    late = decide(cutover_settings, shifting(10, 0), None, RecordEvidence(Evidence.PREFLIGHT_PASSED, "alice", "x"), NOW)
    assert isinstance(late, Rejected)


UNEXPLAINED_IF_SILENT: dict[str, dict[str, Any]] = {
    "task stopped": {"task": TaskObservation(True, "stopped", "full-load-and-cdc", 100, True)},
    "task ready after a full load": {"task": TaskObservation(True, "ready", "full-load-and-cdc", 100, True)},
    "full load running": {"task": TaskObservation(True, "running", "full-load-and-cdc", 40)},
    "errored table": {"task": TaskObservation(True, "running", "full-load-and-cdc", 100, True, tables_errored=2)},
    "task missing": {"task": TaskObservation(False)},
    "no lag data": {"latency_source": (), "latency_target": ()},
    "alarm": {"alarms_in_alarm": ("tap-health-lag",)},
    "cluster modifying": {"cluster_status": "modifying"},
}


@pytest.mark.parametrize("case", sorted(UNEXPLAINED_IF_SILENT))
def test_every_red_gate_says_why_in_its_own_words(cutover_settings: Settings, case: str) -> None:
    report = evaluate_gates(cutover_settings, obs(cutover_settings, **UNEXPLAINED_IF_SILENT[case]), NOW)
    red = report.red()
    assert red, case
    for gate in red:
        assert gate.why, f"{case}: {gate.name} is red without a reason"
        assert gate.to_dict()["why"] == gate.why
    if case == "task ready after a full load":
        # "ready, full load 100%, 0 errored" read as success; the reason names what is wrong and the fix.
        assert "not running" in red[0].why and "--start-replication-task-type start-replication" in red[0].why
    if case == "task stopped":
        assert "resume-processing" in red[0].why


def test_green_gates_carry_no_reason(cutover_settings: Settings) -> None:
    report = evaluate_gates(cutover_settings, obs(cutover_settings), NOW)
    assert report.green
    assert all(not gate.why and "why" not in gate.to_dict() for gate in report.results)


# ---------------------------------------------------------------- preflight expiry


def test_a_preflight_older_than_its_validity_does_not_start_and_is_voided(cutover_settings: Settings) -> None:
    valid = cutover_settings.preflight_valid_seconds
    assert valid == 900
    fresh = replace(REPLICATING, preflight_passed_at=NOW - timedelta(seconds=valid))
    started = decide(cutover_settings, fresh, obs(cutover_settings), cmd(Action.ADVANCE), NOW)
    assert isinstance(started, Transition) and started.event == "started" and not started.refused
    stale = replace(REPLICATING, preflight_passed_at=NOW - timedelta(seconds=valid + 1))
    refused = decide(cutover_settings, stale, obs(cutover_settings), cmd(Action.ADVANCE), NOW)
    assert isinstance(refused, Transition) and refused.refused and refused.event == "preflight_voided"
    assert "15 min old, older than the 15 min it is valid (cutover.preflight_valid_minutes)" in refused.reason
    assert refused.state.preflight_passed_at is None and refused.changes == ()
    assert refused.state.phase is Phase.REPLICATING and refused.state.weights == Weights(0, 0)
    # Configurable: the same preflight starts with a longer validity.
    longer = replace(cutover_settings, preflight_valid_seconds=3600)
    assert isinstance(decide(longer, stale, obs(longer), cmd(Action.ADVANCE), NOW), Transition)
    # After the void, the next start (e.g. a Lambda 'advance' hours later) has nothing to start on.
    again = decide(cutover_settings, refused.state, obs(cutover_settings), cmd(Action.ADVANCE), NOW)
    assert isinstance(again, Rejected) and "no preflight recorded" in again.reasons[0]
