"""The database evidence the operator CLI records, and the writer flip that requires it (with a data proof)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from .data_proof import DATA_PROOF_HELP, data_proof_summary
from .decision import Ctx, Decision, gates_of
from .gates import FLIP_GATES
from .state import Phase, State
from .triggers import Evidence, FlipWriter, RecordEvidence

# What a new fence (or a start, a rollback) voids: the proofs recorded for an earlier fence.
NO_EVIDENCE: dict[str, None] = {
    "fence_proven_at": None,
    "drain_reached_at": None,
    "sequences_synced_at": None,
    "reverse_started_at": None,
}


# What the writer flip requires, in order.
_FLIP_EVIDENCE: dict[Evidence, str] = {
    Evidence.FENCE_PROVEN: "fence_proven_at",
    Evidence.DRAIN_REACHED: "drain_reached_at",
    Evidence.SEQUENCES_SYNCED: "sequences_synced_at",
}


_EVIDENCE_FIELD: dict[Evidence, str] = {
    Evidence.PREFLIGHT_PASSED: "preflight_passed_at",
    **_FLIP_EVIDENCE,
    Evidence.REVERSE_STARTED: "reverse_started_at",
}


def evidence_summary(state: State) -> str:
    parts = []
    for kind, name in _FLIP_EVIDENCE.items():
        moment = getattr(state, name)
        parts.append(f"{kind.value} {moment.isoformat() if moment is not None else 'missing'}")
    if state.reverse_started_at is not None:
        parts.append(f"{Evidence.REVERSE_STARTED.value} {state.reverse_started_at.isoformat()}")
    parts.append(data_proof_summary(state))
    return ", ".join(parts)


def missing_flip_evidence(state: State) -> list[str]:
    """The flip's proofs not recorded for the current fence, in order (each after the fence proof)."""
    fenced, proven = state.fence_confirmed_at, state.fence_proven_at
    assert fenced is not None
    return [
        kind.value
        for kind, name in _FLIP_EVIDENCE.items()
        if (moment := getattr(state, name)) is None
        or moment < fenced
        or (kind is not Evidence.FENCE_PROVEN and (proven is None or moment < proven))
    ]


def record_evidence(ctx: Ctx, evidence: RecordEvidence) -> Decision:
    state = ctx.state
    if evidence.kind is Evidence.PREFLIGHT_PASSED:
        if state.phase not in (Phase.REPLICATING, Phase.ROLLED_BACK):
            return ctx.reject(f"preflight is recorded before a start, not in phase {state.phase.value}")
        return ctx.transition(
            evidence.kind.value, f"{evidence.operator}: {evidence.detail}", "info", state.phase, preflight_passed_at=ctx.now
        )
    if state.phase is not Phase.WRITE_FENCE or state.fence_confirmed_at is None:
        return ctx.reject(
            f"{evidence.kind.value} can only be recorded after 'fence --confirm' in write_fence (phase is "
            f"{state.phase.value}); the writer stays where it is"
        )
    if evidence.kind is not Evidence.FENCE_PROVEN and state.fence_proven_at is None:
        return ctx.reject(f"{evidence.kind.value} needs a proven fence first: the writer stays on the source")
    if evidence.kind is Evidence.REVERSE_STARTED and (missing := missing_flip_evidence(state)):
        return ctx.reject(
            f"the reverse replication starts only once the drain and the sequences are proven ({', '.join(missing)} "
            "missing): before that the forward task still has changes to apply"
        )
    return ctx.transition(
        evidence.kind.value,
        f"{evidence.operator}: {evidence.detail}",
        "info",
        Phase.WRITE_FENCE,
        **{_EVIDENCE_FIELD[evidence.kind]: ctx.now},
    )


def flip_writer(ctx: Ctx, flip: FlipWriter) -> Decision:
    """The writer moves once: fence proven, drain reached and sequences synced, in that order, for this fence,
    and a data proof (or its recorded waiver)."""
    state, settings, gates = ctx.state, ctx.settings, gates_of(ctx)
    if state.phase is not Phase.WRITE_FENCE or state.fence_confirmed_at is None:
        return ctx.reject(f"the writer flips only from a confirmed write_fence (phase is {state.phase.value})")
    fenced = state.fence_confirmed_at
    missing = missing_flip_evidence(state)
    if missing:
        return ctx.reject(
            f"no writer flip without database evidence: {', '.join(missing)} missing for the fence of "
            f"{fenced.isoformat()} (metrics alone never move the writer); the writer stays on the source"
        )
    if state.data_proof_at is None:
        return ctx.reject(
            "no writer flip without proof that the data is the same (DMS validation complete for every table, or a "
            f"clean compare): {DATA_PROOF_HELP}; the writer stays on the source"
        )
    red = gates.red(FLIP_GATES)
    if red:
        return ctx.reject(f"writer NOT flipped: gate(s) red: {gates.summary(FLIP_GATES)}; the source stays fenced")
    assert state.ttl_lowered_at is not None
    # Resolvers may still cache the old TTL: wait it out so the flip reaches clients within CUTOVER_TTL.
    ttl_settled_at = state.ttl_lowered_at + timedelta(seconds=settings.record_ttl)
    if ctx.now < ttl_settled_at:
        return ctx.no_change(
            f"record TTL {settings.record_ttl}s not yet expired since it was lowered: the flip waits until "
            f"{ttl_settled_at.isoformat()}"
        )
    waived = state.data_proof_kind == Evidence.DATA_PROOF_WAIVED.value
    return ctx.transition(
        "writer_flipped",
        f"writer -> Aurora by {flip.operator}{' WITHOUT a data proof' if waived else ''}: {evidence_summary(state)}",
        "alert" if waived else "info",
        Phase.WRITER_FLIPPED,
        weights=replace(state.weights, writer=100),
        flipped_at=ctx.now,
    )
