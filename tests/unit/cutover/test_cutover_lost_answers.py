"""Faults a network produces besides a clean error: a write that applied but whose answer was lost,
live DNS that differs from the state, holds whose periods CloudWatch published late, and a lock
holder that stalled past its budget. Decisions must follow what is live, never what is assumed."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from tap_cutover.logic import Action, Evidence, FlipWriter, RecordEvidence, Trigger, desired_records
from tap_cutover.state import Phase, State, Weights

from .fakes import T0, World, fake_engine, run
from .test_cutover_engine import TICK, fence_state, op, put, shifting

PREFLIGHT = RecordEvidence(Evidence.PREFLIGHT_PASSED, "alice", "preflight: 0 block")
WRITE_CALLS = frozenset({"route53.ChangeResourceRecordSets", "ssm.PutParameter", "ssm.DeleteParameter", "sns.Publish"})


def fence_confirmed() -> State:
    return replace(fence_state(), fence_confirmed_at=T0 - timedelta(minutes=2), fence_confirmed_by="alice")


def fence_proven() -> State:
    confirmed = fence_confirmed()
    at = T0 - timedelta(minutes=1)
    return replace(confirmed, fence_proven_at=at, drain_reached_at=at, sequences_synced_at=at)


def flipped(phase: Phase = Phase.WRITER_FLIPPED) -> State:
    lowered = T0 - timedelta(hours=1) if phase is Phase.WRITER_FLIPPED else None
    return State(
        version=9,
        phase=phase,
        weights=Weights(100, 100),
        last_good_reader_weight=100,
        ttl_lowered_at=lowered,
        fence_confirmed_at=T0 - timedelta(minutes=30),
        fence_confirmed_by="alice",
        flipped_at=T0 - timedelta(minutes=20),
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    state: State
    trigger: Trigger
    # Which pair's live Aurora weight the transition moves, and to what.
    moved: dict[str, int]


SCENARIOS = [
    Scenario("preflight recorded", State(version=1, phase=Phase.REPLICATING), PREFLIGHT, {"reader": 0}),
    Scenario("start", State(version=2, phase=Phase.REPLICATING, preflight_passed_at=T0), op(Action.ADVANCE), {"reader": 10}),
    Scenario("step 10->25", shifting(10, 0), TICK, {"reader": 25}),
    Scenario("step 25->50", shifting(25, 10), TICK, {"reader": 50}),
    Scenario("step 50->100", shifting(50, 25), TICK, {"reader": 100}),
    Scenario("TTL lowering (enter the fence)", shifting(100, 50), TICK, {"reader": 100}),
    Scenario("fence confirmed", fence_state(), op(Action.FENCE, confirm=True), {"writer": 0}),
    Scenario("evidence recorded", fence_confirmed(), RecordEvidence(Evidence.FENCE_PROVEN, "alice", "proof"), {"writer": 0}),
    Scenario("writer flip", fence_proven(), FlipWriter("alice"), {"writer": 100}),
    Scenario("complete", flipped(), op(Action.ADVANCE), {"writer": 100}),
    Scenario("rollback", shifting(50, 25), op(Action.ROLLBACK, confirm=True), {"reader": 0}),
    Scenario("rollback --writer", flipped(Phase.COMPLETED), op(Action.ROLLBACK, confirm=True, writer=True), {"writer": 0}),
]


def fresh(settings_world: World, state: State) -> World:
    world = World(settings_world.settings)
    put(world, state)
    return world


def write_call_indexes(template: World, scenario: Scenario) -> list[int]:
    world = fresh(template, scenario.state)
    result = run(world, scenario.trigger)
    assert result.status == "changed", (scenario.name, result.message)
    for pair, weight in scenario.moved.items():
        assert world.aurora_weights()[pair] == weight, scenario.name
    return [index for index, name in enumerate(world.calls) if name in WRITE_CALLS]


def assert_consistent_or_held(world: World, before_dns: str, message: str) -> None:
    """Either live DNS is exactly what the stored state says, or the lock is kept and an alert names it."""
    state = world.state()
    wanted = {pair: want.aurora_weight for pair, want in desired_records(world.settings, state).items()}
    ttls = {pair: want.ttl for pair, want in desired_records(world.settings, state).items()}
    agree = world.aurora_weights() == wanted and all(world.records[p]["aurora"][1] == ttls[p] for p in ttls)
    if not agree:
        assert world.lock is not None and json.loads(world.lock[0]).get("kept") is True, message
        assert any(n.severity == "alert" and "DNS" in n.subject for n in world.published), message
    if "nothing changed" in message:
        assert json.dumps(world.records, sort_keys=True) == before_dns, message


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_every_write_whose_answer_is_lost_leaves_dns_and_state_in_agreement(cutover_world: World, scenario: Scenario) -> None:
    indexes = write_call_indexes(cutover_world, scenario)
    assert indexes
    for index in indexes:
        for follow_up in (None, "error"):
            world = fresh(cutover_world, scenario.state)
            before_dns = json.dumps(world.records, sort_keys=True)
            # The write applies and times out; with a follow-up the read that would tell also fails.
            world.fail_at = {index: "ambiguous", **({index + 1: follow_up} if follow_up else {})}
            result = run(world, scenario.trigger)
            context = f"{scenario.name}: lost answer at call {index} (then {follow_up}): {result.status}: {result.message}"
            assert_consistent_or_held(world, before_dns, context)


def test_flip_whose_route53_answer_is_lost_is_committed_not_reported_as_nothing(cutover_world: World) -> None:
    """The reproduction from the field: the writer change applies, its answer times out."""
    world = fresh(cutover_world, fence_proven())
    world.fail_at = {7: "ambiguous"}  # 0-3 observe, 4 lock, 5 state, 6 live DNS, 7 the writer change
    result = run(world, FlipWriter("alice"))
    assert result.status == "changed" and "writer -> Aurora" in result.message, result.message
    assert any("show the change applied" in error for error in result.errors)
    assert world.state().phase is Phase.WRITER_FLIPPED and world.aurora_weights()["writer"] == 100
    assert world.lock is None
    # The documented next step can no longer move the writer back by mistake.
    refused = run(world, op(Action.ROLLBACK, confirm=True))
    assert refused.status == "rejected" and world.aurora_weights()["writer"] == 100


def test_route53_error_confirmed_by_live_records_changes_nothing(cutover_world: World) -> None:
    put(cutover_world, shifting(10, 0))
    before = cutover_world.snapshot()
    cutover_world.fail_at = {7: "error"}  # the change itself fails cleanly
    result = run(cutover_world, TICK)
    assert result.status == "error" and "live records confirm nothing changed" in result.message
    assert cutover_world.snapshot() == before


def test_route53_outcome_that_cannot_be_read_keeps_the_lock(cutover_world: World) -> None:
    put(cutover_world, shifting(10, 0))
    cutover_world.fail_at = {7: "ambiguous", 8: "error"}  # applied, answer lost, and the live read fails
    result = run(cutover_world, TICK)
    assert result.status == "error" and "lock is kept" in result.message
    assert cutover_world.lock is not None and json.loads(cutover_world.lock[0])["kept"] is True
    assert cutover_world.state().version == 3 and cutover_world.aurora_weights()["reader"] == 25
    assert run(cutover_world, TICK).status == "stale_lock"  # every later invocation stops at the lock


def test_tick_pauses_when_the_live_writer_differs_and_never_moves_it(cutover_world: World) -> None:
    put(cutover_world, fence_state())
    cutover_world.records["writer"] = {"source": (0, 5), "aurora": (100, 5)}  # DNS flipped, the state did not
    result = run(cutover_world, TICK)
    assert result.status == "changed" and [t.event for t in result.transitions] == ["dns_mismatch"]
    state = cutover_world.state()
    assert state.phase is Phase.PAUSED and state.paused_from is Phase.WRITE_FENCE
    assert cutover_world.aurora_weights()["writer"] == 100  # never "corrected" by the engine
    [alert] = [n for n in cutover_world.published if n.severity == "alert"]
    assert "writer: MISMATCH: live source 0 / aurora 100" in alert.message
    assert "state expects source 100 / aurora 0" in alert.message

    # Stale belief: the state says the writer is on the source, live DNS says Aurora.
    refused = run(cutover_world, op(Action.ROLLBACK, confirm=True))
    assert refused.status == "rejected" and "LIVE writer record is on Aurora" in refused.message
    assert cutover_world.aurora_weights()["writer"] == 100
    assert run(cutover_world, op(Action.RESUME)).status == "rejected"
    synced = fake_engine(cutover_world).unlock(confirm=True, operator="bob", sync_dns=True)
    assert synced.status == "rejected" and "would move the writer" in synced.message
    assert cutover_world.lock is None and cutover_world.aurora_weights()["writer"] == 100
    # Later ticks keep alerting without another transition.
    again = run(cutover_world, TICK)
    assert again.status == "no_change" and "differs from the state" in again.message
    assert cutover_world.published[-1].severity == "alert"


def test_reader_drift_pauses_then_sync_dns_restores_it_without_a_held_lock(cutover_world: World) -> None:
    put(cutover_world, shifting(25, 10, held_seconds=60))
    cutover_world.records["reader"] = {"source": (50, 60), "aurora": (50, 60)}  # someone edited the record
    result = run(cutover_world, TICK)
    assert [t.event for t in result.transitions] == ["dns_mismatch"]
    assert cutover_world.aurora_weights()["reader"] == 50  # reported, not corrected, by a tick
    synced = fake_engine(cutover_world).unlock(confirm=True, operator="bob", sync_dns=True)
    assert synced.status == "changed" and "restored" in synced.message, synced.message
    assert cutover_world.aurora_weights()["reader"] == 25 and cutover_world.lock is None
    resumed = run(cutover_world, op(Action.RESUME))
    assert resumed.status == "changed" and cutover_world.state().phase is Phase.READS_SHIFTING


def test_pause_goes_ahead_when_dns_differs_or_cannot_be_read(cutover_world: World) -> None:
    put(cutover_world, shifting(25, 10, held_seconds=60))
    cutover_world.fail_at = {2: "error"}  # 0 lock, 1 state, 2 the live DNS read
    result = run(cutover_world, op(Action.PAUSE))
    assert result.status == "changed" and cutover_world.state().phase is Phase.PAUSED


def test_a_hold_judges_the_periods_cloudwatch_published_late(cutover_world: World) -> None:
    """One tick sees data two periods late, the next on time: a spike in between must stop the step."""
    settings = cutover_world.settings  # hold 900 s, 5 periods of 60 s
    assert settings.step_hold_seconds == 900 and settings.latency_periods == 5
    world = World(settings)
    run(world, PREFLIGHT)
    started = run(world, op(Action.ADVANCE))
    assert started.status == "changed" and world.state().latency_judged_until is not None
    world.clock.advance(300)
    assert run(world, TICK).status == "no_change"
    # The next tick sees the newest data two periods late; the spike falls in exactly those periods.
    world.clock.advance(300)
    world.publish_delay_periods = 2
    world.set_latency(120.0, 120.0, since=world.clock.now - timedelta(seconds=150))
    world.set_latency(0.5, 0.5, since=world.clock.now - timedelta(seconds=30))
    late = run(world, TICK)
    assert late.status == "no_change" and late.gates is not None and late.gates.green
    # Caught up at the end of the hold: the last 5 periods are green, yet the spike was in the hold.
    world.clock.advance(300)
    world.publish_delay_periods = 0
    refused = run(world, TICK)
    assert refused.gates is not None
    red = {g.name for g in refused.gates.results if not g.green}
    assert red == {"hold_periods"}, refused.gates.to_list()
    assert [t.event for t in refused.transitions] == ["gate_rollback"]
    assert world.aurora_weights()["reader"] == 0 and world.state().phase is Phase.PAUSED


def test_without_a_spike_the_late_periods_do_not_block_the_step(cutover_world: World) -> None:
    world = World(cutover_world.settings)
    run(world, PREFLIGHT)
    run(world, op(Action.ADVANCE))
    for delay in (0, 2, 0):
        world.clock.advance(300)
        world.publish_delay_periods = delay
        result = run(world, TICK)
    assert [t.event for t in result.transitions] == ["step"], result.message
    assert world.state().latency_judged_until is not None


def test_a_stalled_holder_does_not_change_dns_after_its_budget(cutover_world: World) -> None:
    put(cutover_world, shifting(10, 0))
    before = cutover_world.snapshot()
    # Stalled while reading the state (call 5) for longer than half of LOCK_TTL.
    cutover_world.hooks = {5: lambda: cutover_world.clock.advance(cutover_world.settings.lock_ttl_seconds / 2 + 1)}
    result = run(cutover_world, TICK)
    assert result.status == "error" and "budget" in result.message
    assert cutover_world.snapshot() == before  # its own lock (checked first) was removed


def test_a_stalled_holder_never_removes_or_writes_over_a_later_holders_lock(cutover_world: World) -> None:
    put(cutover_world, shifting(10, 0))
    other = json.dumps({"holder": "someone-else", "purpose": "schedule"})

    def operator_unlocked_and_another_invocation_took_the_lock() -> None:
        cutover_world.clock.advance(cutover_world.settings.lock_ttl_seconds + 1)
        cutover_world.lock = (other, cutover_world.clock.now)

    cutover_world.hooks = {7: operator_unlocked_and_another_invocation_took_the_lock}  # during the Route 53 change
    result = run(cutover_world, TICK)
    assert result.status == "error" and "state was NOT written" in result.message
    assert cutover_world.lock is not None and cutover_world.lock[0] == other
    assert cutover_world.state().version == 3
    assert any("lock lost" in n.subject for n in cutover_world.published)


def test_release_past_the_budget_checks_the_holder(cutover_world: World) -> None:
    put(cutover_world, shifting(25, 10, held_seconds=60))  # a no-change tick
    other = json.dumps({"holder": "someone-else"})

    def replaced() -> None:
        cutover_world.clock.advance(cutover_world.settings.lock_ttl_seconds + 1)
        cutover_world.lock = (other, cutover_world.clock.now)

    cutover_world.hooks = {6: replaced}
    result = run(cutover_world, TICK)
    assert cutover_world.lock is not None and cutover_world.lock[0] == other
    assert any("left in place" in error for error in result.errors)


def test_ambiguous_lock_create_is_recognised_as_ours(cutover_world: World) -> None:
    put(cutover_world, shifting(10, 0))
    cutover_world.fail_at = {4: "ambiguous"}  # the lock is created, the answer is lost
    result = run(cutover_world, TICK)
    assert result.status == "changed" and cutover_world.lock is None
    assert cutover_world.aurora_weights()["reader"] == 25


def test_hold_bookkeeping_is_only_kept_while_shifting() -> None:
    state = replace(shifting(25, 10), latency_judged_until=T0)
    assert State.parse(state.to_json()).latency_judged_until == T0
    with pytest.raises(ValueError, match="only set in phase 'reads_shifting'"):
        State.parse(replace(fence_state(), latency_judged_until=T0).to_json())
