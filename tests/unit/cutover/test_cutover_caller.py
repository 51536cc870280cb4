"""Every state version records who wrote it (the STS caller ARN), and the state still fits SSM's 4 KB."""

from __future__ import annotations

from datetime import timedelta

from tap_cutover.aws import StsIdentity
from tap_cutover.logic import Action, Evidence, OperatorCommand, RecordEvidence, Tick
from tap_cutover.state import CALLER_MAX, OPERATOR_MAX, STATE_MAX_BYTES, HistoryEntry, Phase, State, Weights

from benchmarks.cutover_fixtures import T0, MotoStack, count_calls

from .fakes import World, run

PREFLIGHT = RecordEvidence(Evidence.PREFLIGHT_PASSED, "alice", "preflight: 0 block")
OPERATOR_ARN = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Operators_0123456789abcdef/alice@example.com"


def test_each_version_records_the_caller_that_wrote_it(cutover_world: World) -> None:
    world = cutover_world
    run(world, PREFLIGHT)
    assert world.state().updated_by == world.caller  # the Lambda's role
    world.caller = OPERATOR_ARN  # the CLI runs the engine with the operator's credentials
    run(world, OperatorCommand(Action.ADVANCE, "alice"))
    state = world.state()
    assert state.version == 3 and state.updated_by == OPERATOR_ARN
    # A tick that changes nothing writes nothing, so it records nothing.
    assert run(world, Tick("schedule")).status == "no_change" and world.state() == state


def test_an_unidentified_caller_never_blocks_a_pause(cutover_world: World) -> None:
    world = cutover_world
    world.caller = None  # sts:GetCallerIdentity fails
    paused = run(world, OperatorCommand(Action.PAUSE, "alice"))
    assert paused.status == "changed" and world.state().phase is Phase.PAUSED
    recorded = world.state().updated_by
    assert recorded is not None and recorded.startswith("unidentified (sts GetCallerIdentity failed: ExpiredToken")


def test_a_long_caller_is_cut_to_its_bound(cutover_world: World) -> None:
    world = cutover_world
    world.caller = "arn:aws:sts::123456789012:assumed-role/" + "p/" * 600 + "role/session"
    run(world, PREFLIGHT)
    recorded = world.state().updated_by
    assert recorded is not None and len(recorded) == CALLER_MAX and recorded == world.caller[:CALLER_MAX]


def test_the_largest_state_still_fits_4_kb_with_its_newest_history() -> None:
    """Every bounded field at its bound: the oldest history entries go, never the state itself."""
    long_reason = "r" * 400  # cut to 200 by HistoryEntry.create
    entries = tuple(
        HistoryEntry.create(
            version=v,
            at=T0 + timedelta(minutes=v),
            from_phase=Phase.WRITE_FENCE,
            to_phase=Phase.WRITE_FENCE,
            reason=long_reason,
            trigger="evidence:sequences_synced",
            operator="o" * OPERATOR_MAX,
            weights=Weights(100, 0),
        )
        for v in range(11, 21)
    )
    state = State(
        version=20,
        phase=Phase.WRITE_FENCE,
        weights=Weights(100, 0),
        last_good_reader_weight=100,
        ttl_lowered_at=T0,
        fence_confirmed_at=T0,
        fence_confirmed_by="o" * OPERATOR_MAX,
        fence_proven_at=T0,
        drain_reached_at=T0,
        sequences_synced_at=T0,
        reverse_started_at=T0,
        data_proof_at=T0,
        data_proof_kind="data_proof_waived",
        data_proof="w" * 300,
        updated_at=T0,
        updated_by="a" * CALLER_MAX,
        history=entries,
    )
    text = state.to_json()
    assert len(text.encode()) <= STATE_MAX_BYTES
    kept = State.parse(text)
    assert kept.updated_by == "a" * CALLER_MAX and kept.data_proof == "w" * 300
    # The newest entry is what './cutover history' reads for each version (its reason and trigger); measured: 4 kept.
    assert kept.history[-1].version == 20 and len(kept.history) >= 3


def test_the_lambda_asks_sts_once_per_container(cutover_aws: MotoStack) -> None:
    sts = cutover_aws.session.client("sts")
    calls = count_calls(sts, "GetCallerIdentity")
    identity = StsIdentity(sts)
    first = identity.caller_arn()
    assert first.startswith("arn:aws:") and identity.caller_arn() == first
    assert len(calls) == 1
