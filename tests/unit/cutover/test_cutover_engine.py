"""The engine against in-memory fakes: compare-and-set, lock, failures at every call, drain loop."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from tap_cutover.logic import Action, Evidence, FlipWriter, OperatorCommand, RecordEvidence, Tick, desired_records
from tap_cutover.state import Phase, State, Weights

from .fakes import DATA_COMPARED, T0, World, fake_engine, run

TICK = Tick("schedule")


def put(world: World, state: State) -> None:
    """Store ``state`` and make Route 53 agree with it."""
    world.state_text = state.to_json()
    for pair, want in desired_records(world.settings, state).items():
        world.records[pair] = {"source": (100 - want.aurora_weight, want.ttl), "aurora": (want.aurora_weight, want.ttl)}


def shifting(reader: int, last_good: int, held_seconds: int = 900) -> State:
    return State(
        version=3,
        phase=Phase.READS_SHIFTING,
        weights=Weights(reader, 0),
        last_good_reader_weight=last_good,
        step_started_at=T0 - timedelta(seconds=held_seconds),
    )


def fence_state(lowered_minutes_ago: int = 60) -> State:
    return State(
        version=7,
        phase=Phase.WRITE_FENCE,
        weights=Weights(100, 0),
        last_good_reader_weight=100,
        ttl_lowered_at=T0 - timedelta(minutes=lowered_minutes_ago),
        # './cutover compare' recorded while reads shifted: the flip's data proof.
        **DATA_COMPARED,
    )


def op(action: Action, **kw: bool) -> OperatorCommand:
    return OperatorCommand(action, "alice", **kw)


def transition_lines(world: World) -> list[dict[str, object]]:
    return [line for line in world.logs if line["event"] == "cutover_transition"]


TRANSITION_CALLS = [
    "dms.DescribeReplicationTasks",
    "cloudwatch.GetMetricData",
    "cloudwatch.DescribeAlarms",
    "rds.DescribeDBClusters",
    "ssm.PutParameter",  # take the lock
    "ssm.GetParameter",  # read the state under the lock
    "route53.ListResourceRecordSets",  # compare live DNS with the state (one page, both pairs)
    "route53.ChangeResourceRecordSets",
    "ssm.PutParameter",  # write the state
    "ssm.DeleteParameter",  # release the lock
    "sns.Publish",
]


def test_no_change_tick_reads_and_releases(cutover_world: World) -> None:
    before = cutover_world.snapshot()
    result = run(cutover_world, TICK)
    assert result.status == "no_change" and result.ok
    assert cutover_world.snapshot() == before
    assert cutover_world.calls == [*TRANSITION_CALLS[:7], "ssm.DeleteParameter"]
    assert cutover_world.published == []
    assert transition_lines(cutover_world) == []


def test_transition_tick_commits_dns_state_log_and_sns(cutover_world: World) -> None:
    put(cutover_world, shifting(10, 0))
    result = run(cutover_world, TICK)
    assert result.status == "changed" and result.ok, result.message
    assert cutover_world.calls == TRANSITION_CALLS
    assert cutover_world.aurora_weights() == {"reader": 25, "writer": 0}
    assert cutover_world.records["reader"]["source"] == (75, 60)
    stored = cutover_world.state()
    assert stored.version == 4 and stored.weights.reader == 25 and stored.last_good_reader_weight == 10
    assert cutover_world.lock is None
    [note] = cutover_world.published
    assert "v4" in note.subject and note.severity == "info"
    [line] = transition_lines(cutover_world)
    assert line["version"] == 4 and line["weights"] == {"reader": 25, "writer": 0}


def test_fresh_lock_is_a_conflict_and_changes_nothing(cutover_world: World) -> None:
    put(cutover_world, shifting(10, 0))
    cutover_world.lock = (json.dumps({"purpose": "schedule", "acquired_at": T0.isoformat()}), T0)
    before = cutover_world.snapshot()
    result = run(cutover_world, TICK)
    assert result.status == "conflict" and not result.ok
    assert cutover_world.snapshot() == before
    assert cutover_world.published == []


def test_stale_lock_is_reported_alerted_and_never_broken(cutover_world: World) -> None:
    put(cutover_world, shifting(10, 0))
    old = T0 - timedelta(seconds=cutover_world.settings.lock_ttl_seconds + 1)
    cutover_world.lock = (json.dumps({"purpose": "schedule", "acquired_at": old.isoformat()}), old)
    before = cutover_world.snapshot()
    result = run(cutover_world, TICK)
    assert result.status == "stale_lock"
    assert "unlock --confirm" in result.message
    assert cutover_world.snapshot() == before
    [alert] = cutover_world.published
    assert alert.severity == "alert" and "stale lock" in alert.subject


# Calls 0-3 observe, 4 takes the lock, 5 reads the state, 6 reads live DNS, 7 changes Route 53, 8 writes the state.
@pytest.mark.parametrize("failing_call", range(9))
def test_a_failed_call_before_the_commit_changes_nothing(cutover_world: World, failing_call: int) -> None:
    put(cutover_world, shifting(10, 0))
    before = cutover_world.snapshot()
    cutover_world.fail_at = {failing_call: "error"}
    result = run(cutover_world, TICK)
    assert result.status == "error" and not result.ok
    assert "ThrottlingException" in result.message
    assert cutover_world.snapshot() == before  # weights, state and (free) lock exactly as before
    assert transition_lines(cutover_world) == []


def test_state_write_failure_reverts_route53(cutover_world: World) -> None:
    put(cutover_world, shifting(10, 0))
    cutover_world.fail_at = {8: "error"}
    result = run(cutover_world, TICK)
    assert "Route 53 left as before" in result.message
    # The change was applied, then reverted with the old values.
    assert cutover_world.calls.count("route53.ChangeResourceRecordSets") == 2
    assert cutover_world.aurora_weights() == {"reader": 10, "writer": 0}


@pytest.mark.parametrize("failing_call", [9, 10])
def test_failures_after_the_commit_are_reported_not_undone(cutover_world: World, failing_call: int) -> None:
    put(cutover_world, shifting(10, 0))
    cutover_world.fail_at = {failing_call: "error"}
    result = run(cutover_world, TICK)
    assert result.status == "changed" and not result.ok
    assert result.errors
    assert cutover_world.state().version == 4
    assert cutover_world.aurora_weights()["reader"] == 25
    assert len(transition_lines(cutover_world)) == 1
    if failing_call == 9:  # lock release failed: it stays, with an alert
        assert cutover_world.lock is not None
        assert any(n.severity == "alert" for n in cutover_world.published)
    else:  # SNS failed after the commit
        assert "SNS publish failed" in result.errors[0]
        assert cutover_world.lock is None


def test_ambiguous_state_write_that_landed_counts_as_committed(cutover_world: World) -> None:
    put(cutover_world, shifting(10, 0))
    cutover_world.fail_at = {8: "ambiguous"}
    result = run(cutover_world, TICK)
    assert result.status == "changed"
    assert cutover_world.state().version == 4
    assert cutover_world.aurora_weights()["reader"] == 25
    assert cutover_world.lock is None


@pytest.mark.parametrize("second_failure", [9, 10], ids=["state re-read fails", "revert fails"])
def test_dns_ahead_of_state_keeps_the_lock(cutover_world: World, second_failure: int) -> None:
    put(cutover_world, shifting(10, 0))
    cutover_world.fail_at = {8: "error", second_failure: "error"}
    result = run(cutover_world, TICK)
    assert result.status == "error"
    assert "lock is kept" in result.message
    assert cutover_world.lock is not None and json.loads(cutover_world.lock[0])["kept"] is True
    assert cutover_world.state().version == 3
    assert cutover_world.aurora_weights()["reader"] == 25  # DNS ahead of the state
    assert any("DNS may be ahead" in n.subject for n in cutover_world.published)
    # Every later invocation is held off, immediately (kept), without waiting for LOCK_TTL.
    assert run(cutover_world, TICK).status == "stale_lock"
    # The operator compares and removes the lock.
    engine = fake_engine(cutover_world)
    assert engine.unlock(confirm=False, operator="bob").status == "rejected"
    unlocked = engine.unlock(confirm=True, operator="bob")
    assert unlocked.status == "changed" and cutover_world.lock is None
    assert any(line.startswith("reader: MISMATCH") for line in unlocked.reasons)
    assert "differs from the state" in unlocked.message


def test_unlock_refuses_a_fresh_lock_and_reports_no_lock(cutover_world: World) -> None:
    engine = fake_engine(cutover_world)
    assert engine.unlock(confirm=True, operator="bob").status == "no_change"
    cutover_world.lock = (json.dumps({"purpose": "schedule", "acquired_at": T0.isoformat()}), T0)
    refused = engine.unlock(confirm=True, operator="bob")
    assert refused.status == "rejected" and cutover_world.lock is not None


def test_malformed_or_missing_state_changes_nothing(cutover_world: World) -> None:
    cutover_world.state_text = '{"version": 1, "phase": "warp"}'
    before = cutover_world.snapshot()
    result = run(cutover_world, TICK)
    assert result.status == "error" and "malformed" in result.message
    assert cutover_world.snapshot() == before
    cutover_world.state_text = None
    result = run(cutover_world, op(Action.PAUSE))
    assert result.status == "error" and "ParameterNotFound" in result.message
    assert cutover_world.lock is None


def test_pause_and_rollback_do_not_depend_on_the_gates(cutover_world: World) -> None:
    put(cutover_world, shifting(50, 25))
    result = run(cutover_world, op(Action.PAUSE))
    assert result.status == "changed"
    assert not any(c.startswith(("cloudwatch", "dms", "rds")) for c in cutover_world.calls)
    result = run(cutover_world, op(Action.ROLLBACK, confirm=True))
    assert result.status == "changed"
    assert cutover_world.aurora_weights() == {"reader": 0, "writer": 0}
    assert cutover_world.state().phase is Phase.ROLLED_BACK


def test_rejected_command_changes_nothing(cutover_world: World) -> None:
    put(cutover_world, fence_state())
    before = cutover_world.snapshot()
    result = run(cutover_world, op(Action.FENCE))
    assert result.status == "rejected" and "confirm" in result.message
    assert cutover_world.snapshot() == before


# ---------------------------------------------------------------- the writer flip needs database evidence


def prove(world: World, *kinds: Evidence) -> list[str]:
    return [run(world, RecordEvidence(kind, "alice", f"{kind.value} proven")).status for kind in kinds]


ALL_EVIDENCE = (Evidence.FENCE_PROVEN, Evidence.DRAIN_REACHED, Evidence.SEQUENCES_SYNCED)


def test_fence_records_the_confirmation_and_never_flips_by_itself(cutover_world: World) -> None:
    put(cutover_world, fence_state())
    result = run(cutover_world, op(Action.FENCE, confirm=True))
    assert result.status == "changed" and [t.event for t in result.transitions] == ["fence_confirmed"]
    assert cutover_world.aurora_weights() == {"reader": 100, "writer": 0}
    cutover_world.set_latency(0.0, 0.0, since=T0 - timedelta(hours=1))  # perfectly drained metrics
    cutover_world.clock.advance(600)
    assert run(cutover_world, TICK).status == "no_change"
    refused = run(cutover_world, FlipWriter("alice"))
    assert refused.status == "rejected" and "no writer flip without database evidence" in refused.message
    assert cutover_world.aurora_weights()["writer"] == 0


def test_evidence_then_flip_moves_the_writer_once(cutover_world: World) -> None:
    put(cutover_world, fence_state())
    run(cutover_world, op(Action.FENCE, confirm=True))
    assert prove(cutover_world, *ALL_EVIDENCE) == ["changed"] * 3
    state = cutover_world.state()
    assert state.fence_proven_at and state.drain_reached_at and state.sequences_synced_at
    flipped = run(cutover_world, FlipWriter("alice"))
    assert flipped.status == "changed" and [t.event for t in flipped.transitions] == ["writer_flipped"]
    assert cutover_world.records["writer"]["aurora"] == (100, 5)
    assert cutover_world.state().version == 7 + 5  # fence, three proofs, flip
    assert flipped.to_dict()["evidence"]["drain_reached_at"] == state.drain_reached_at.isoformat()
    subjects = [n.subject.split(": ")[1].split(" ")[0] for n in cutover_world.published]
    assert subjects == ["fence_confirmed", "fence_proven", "drain_reached", "sequences_synced", "writer_flipped"]


def test_the_flip_waits_for_the_old_ttl(cutover_world: World) -> None:
    put(cutover_world, fence_state(lowered_minutes_ago=0))
    run(cutover_world, op(Action.FENCE, confirm=True))
    prove(cutover_world, *ALL_EVIDENCE)
    waiting = run(cutover_world, FlipWriter("alice"))
    assert waiting.status == "no_change" and "not yet expired" in waiting.message
    cutover_world.clock.advance(cutover_world.settings.record_ttl)
    assert run(cutover_world, FlipWriter("alice")).status == "changed"


def test_a_pause_between_proofs_and_flip_voids_them(cutover_world: World) -> None:
    put(cutover_world, fence_state())
    run(cutover_world, op(Action.FENCE, confirm=True))
    prove(cutover_world, *ALL_EVIDENCE)
    assert run(cutover_world, op(Action.PAUSE)).status == "changed"
    assert run(cutover_world, FlipWriter("alice")).status == "rejected"
    assert run(cutover_world, op(Action.RESUME)).status == "changed"
    assert cutover_world.state().fence_proven_at is None
    assert run(cutover_world, FlipWriter("alice")).status == "rejected"
    assert cutover_world.aurora_weights()["writer"] == 0


def test_status_reports_gates_live_weights_and_partial_failures(cutover_world: World) -> None:
    put(cutover_world, shifting(25, 10))
    result = fake_engine(cutover_world).status()
    assert result.ok and result.gates is not None and result.gates.green
    assert result.live is not None and result.live["reader"].records["aurora"].weight == 25
    assert [line.split(":")[1].strip() for line in result.reasons] == ["match", "match"]
    cutover_world.fail_at = {len(cutover_world.calls) + 1: "error"}  # the DMS describe inside observe()
    degraded = fake_engine(cutover_world).status()
    assert not degraded.ok and degraded.gates is None and degraded.state is not None
    assert degraded.errors[0].startswith("gates:")


def test_unlock_can_restore_dns_but_never_moves_the_writer(cutover_world: World) -> None:
    put(cutover_world, shifting(10, 0))
    cutover_world.fail_at = {8: "error", 10: "error"}  # state write and the revert both fail
    run(cutover_world, TICK)
    assert cutover_world.aurora_weights()["reader"] == 25 and cutover_world.lock is not None
    restored = fake_engine(cutover_world).unlock(confirm=True, operator="bob", sync_dns=True)
    assert restored.status == "changed" and "Route 53 restored" in restored.message
    assert cutover_world.aurora_weights()["reader"] == 10 and cutover_world.lock is None

    put(cutover_world, fence_state())
    cutover_world.records["writer"] = {"source": (0, 5), "aurora": (100, 5)}  # a flip DNS applied, state did not
    cutover_world.lock = (json.dumps({"kept": True, "acquired_at": T0.isoformat()}), T0)
    refused = fake_engine(cutover_world).unlock(confirm=True, operator="bob", sync_dns=True)
    assert refused.status == "rejected" and "would move the writer" in refused.message
    assert cutover_world.lock is not None and cutover_world.aurora_weights()["writer"] == 100


def test_unknown_write_outcome_without_dns_change_alerts(cutover_world: World) -> None:
    put(cutover_world, shifting(50, 25))
    # pause: 0 lock, 1 read state, 2 read live DNS, 3 write state (lands, reports a timeout), 4 re-read fails
    cutover_world.fail_at = {3: "ambiguous", 4: "error"}
    result = run(cutover_world, op(Action.PAUSE))
    assert result.status == "error" and "may or may not be stored" in result.message
    assert cutover_world.lock is None  # DNS agrees with either version: nothing to hold off
    assert cutover_world.aurora_weights() == {"reader": 50, "writer": 0}
    assert cutover_world.published[-1].severity == "alert"
    assert "outcome unknown" in cutover_world.published[-1].subject
