"""A recorded preflight expires, and a refused start voids it: a later start needs a fresh database check."""

from __future__ import annotations

from tap_cutover.logic import Action, Evidence, OperatorCommand, RecordEvidence

from .fakes import World, run

PREFLIGHT = RecordEvidence(Evidence.PREFLIGHT_PASSED, "alice", "preflight: 0 block")
ADVANCE = OperatorCommand(Action.ADVANCE, "alice")


def test_a_start_refused_on_a_red_gate_voids_its_preflight(cutover_world: World) -> None:
    world = cutover_world
    assert run(world, PREFLIGHT).status == "changed"
    world.cluster = "backing-up"
    before = world.aurora_weights()
    refused = run(world, ADVANCE)
    assert refused.status == "rejected" and not refused.ok
    assert "aurora_cluster: backing-up" in refused.message and "is voided" in refused.message
    assert [t.event for t in refused.transitions] == ["preflight_voided"]
    state = world.state()
    assert state.preflight_passed_at is None and state.phase.value == "replicating" and state.version == 3
    assert world.aurora_weights() == before and world.lock is None
    assert state.history[-1].reason.startswith("start refused")
    # Hours later the gates are green, but a Lambda 'advance' has no preflight to start on.
    world.clock.advance(3 * 3600)
    world.cluster = "available"
    later = run(world, ADVANCE)
    assert later.status == "rejected" and "no preflight recorded" in later.message
    assert world.state().version == 3 and world.aurora_weights() == before


def test_a_preflight_expires_after_the_configured_time(cutover_world: World) -> None:
    world = cutover_world
    assert run(world, PREFLIGHT).status == "changed"
    world.clock.advance(world.settings.preflight_valid_seconds + 60)
    before = world.aurora_weights()
    expired = run(world, ADVANCE)
    assert expired.status == "rejected" and "cutover.preflight_valid_minutes" in expired.message
    assert world.state().preflight_passed_at is None and world.aurora_weights() == before
    # A fresh preflight starts it.
    assert run(world, PREFLIGHT).status == "changed"
    started = run(world, ADVANCE)
    assert started.status == "changed" and world.aurora_weights()["reader"] == 10


def test_a_failed_void_write_leaves_state_and_dns_as_they_were(cutover_world: World) -> None:
    world = cutover_world
    run(world, PREFLIGHT)
    world.cluster = "backing-up"
    before = world.snapshot()
    probe = World(world.settings, clock=world.clock, state_text=world.state_text, cluster="backing-up")
    run(probe, ADVANCE)
    state_write = [i for i, call in enumerate(probe.calls) if call == "ssm.PutParameter"][1]  # the first takes the lock
    world.fail_at = {state_write: "error"}
    result = run(world, ADVANCE)
    assert result.status == "error" and "nothing changed" in result.message, result.message
    assert world.snapshot() == before and world.state().preflight_passed_at is not None
