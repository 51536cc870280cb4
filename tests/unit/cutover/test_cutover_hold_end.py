"""The tick that ends a hold judges every period up to the hold's end: late minutes are waited for, never skipped."""

from __future__ import annotations

from datetime import timedelta

from tap_cutover.logic import Action, Evidence, OperatorCommand, RecordEvidence, Tick
from tap_cutover.state import Phase

from .fakes import T0, World, run

PREFLIGHT = RecordEvidence(Evidence.PREFLIGHT_PASSED, "alice", "preflight: 0 block")
TICK = Tick("schedule")


def started(world: World) -> None:
    """Reads at 10% from T0 (aligned); the 900 s hold ends at T0 + 15 min with CloudWatch two periods late."""
    assert world.clock.now == T0 and world.settings.step_hold_seconds == 900
    run(world, PREFLIGHT)
    assert run(world, OperatorCommand(Action.ADVANCE, "alice")).status == "changed"
    for _ in range(2):
        world.clock.advance(300)
        assert run(world, TICK).status == "no_change"
    world.clock.advance(300)
    world.publish_delay_periods = 2  # the periods of 12:13 and 12:14 are not published yet (the gates allow it)


def test_the_step_waits_for_the_late_periods_and_is_taken_when_they_arrive(cutover_world: World) -> None:
    world = cutover_world
    started(world)
    waiting = run(world, TICK)
    assert waiting.status == "no_change" and waiting.gates is not None and waiting.gates.green
    assert "waiting for CloudWatch to publish the hold's periods from 2030-01-01T12:13:00+00:00" in waiting.message
    assert world.aurora_weights()["reader"] == 10 and world.state().version == 3
    # Half a period later the same periods may still be late: still waiting, still not skipped.
    world.clock.advance(30)
    assert run(world, TICK).status == "no_change" and world.aurora_weights()["reader"] == 10
    world.clock.advance(30)
    world.publish_delay_periods = 0
    stepped = run(world, TICK)
    assert [t.event for t in stepped.transitions] == ["step"], stepped.message
    assert world.aurora_weights()["reader"] == 25
    assert world.state().latency_judged_until == T0 + timedelta(minutes=16)


def test_a_spike_in_the_late_periods_stops_the_step(cutover_world: World) -> None:
    """What used to be skipped: the hold ended on the newest datapoint, two periods before its end."""
    world = cutover_world
    started(world)
    world.set_latency(120.0, 120.0, since=T0 + timedelta(minutes=13))
    world.set_latency(0.5, 0.5, since=T0 + timedelta(minutes=15))
    assert run(world, TICK).status == "no_change" and world.aurora_weights()["reader"] == 10
    world.clock.advance(60)
    world.publish_delay_periods = 0
    refused = run(world, TICK)
    assert refused.gates is not None
    hold = next(g for g in refused.gates.results if g.name == "hold_periods")
    assert not hold.green and "120s > 30s in the period 2030-01-01T12:13:00+00:00" in hold.value
    assert [t.event for t in refused.transitions] == ["gate_rollback"]
    assert world.aurora_weights()["reader"] == 0 and world.state().phase is Phase.PAUSED


def test_periods_that_never_arrive_turn_red_after_the_allowed_delay(cutover_world: World) -> None:
    world = cutover_world
    started(world)
    world.set_latency(None, None, since=T0 + timedelta(minutes=13))  # CloudWatch stops publishing
    assert run(world, TICK).status == "no_change"
    world.clock.advance(60)
    world.publish_delay_periods = 0
    red = run(world, TICK)
    assert red.gates is not None
    failed = {g.name: g for g in red.gates.results if not g.green}
    assert "hold_periods" in failed, red.gates.to_list()
    assert "the period 2030-01-01T12:13:00+00:00 of the hold is still not published" in failed["hold_periods"].value
    assert "may have stopped publishing" in failed["hold_periods"].why
    assert [t.event for t in red.transitions] == ["gate_rollback"]
    assert world.aurora_weights()["reader"] == 0 and world.state().phase is Phase.PAUSED
