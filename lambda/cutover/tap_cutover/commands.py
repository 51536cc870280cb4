"""Operator commands (status, pause, resume, fence, advance, rollback): one function per action, chosen by ``COMMANDS``."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .data_proof import NO_DATA_PROOF, waiver_voided
from .decision import Ctx, Decision, gates_of, hold_left
from .evidence import NO_EVIDENCE
from .state import PAUSABLE, Phase, Weights
from .triggers import Action, OperatorCommand


def _status(ctx: Ctx, cmd: OperatorCommand) -> Decision:
    return ctx.no_change(f"phase {ctx.state.phase.value}, version {ctx.state.version}")


def _pause(ctx: Ctx, cmd: OperatorCommand) -> Decision:
    phase = ctx.state.phase
    if phase not in PAUSABLE:
        return ctx.reject(f"cannot pause in phase {phase.value}")
    return ctx.transition(
        "paused",
        f"paused by {cmd.operator}",
        "info",
        Phase.PAUSED,
        paused_from=phase,
        step_started_at=None,
        latency_judged_until=None,
    )


def _resume(ctx: Ctx, cmd: OperatorCommand) -> Decision:
    state, gates = ctx.state, gates_of(ctx)
    if state.phase is not Phase.PAUSED or state.paused_from is None:
        return ctx.reject(f"not paused (phase is {state.phase.value})")
    target = state.paused_from
    if target is not Phase.REPLICATING and not gates.green:
        return ctx.reject(f"cannot resume {target.value}: gate(s) red: {gates.summary()}")
    restart = ctx.now if target is Phase.READS_SHIFTING else None
    hold = "; the step hold restarts now" if restart is not None else ""
    # A pause may have let anyone make the source writable again: the fence and its proofs start over.
    refence: dict[str, Any] = (
        {"fence_confirmed_at": None, "fence_confirmed_by": None, **NO_EVIDENCE, **waiver_voided(state)}
        if target is Phase.WRITE_FENCE
        else {}
    )
    if refence and ctx.state.fence_confirmed_at is not None:
        hold = "; run 'fence --confirm' again: the fence and its proofs start over"
    return ctx.transition(
        "resumed",
        f"resumed to {target.value} by {cmd.operator}{hold}",
        "info",
        target,
        paused_from=None,
        step_started_at=restart,
        latency_judged_until=ctx.judged_until() if restart is not None else None,
        **refence,
    )


_FENCE_CONFIRM_HELP = (
    "fence requires confirm=true: it makes the source database refuse writes, which is what makes the writer flip safe"
)


def _fence(ctx: Ctx, cmd: OperatorCommand) -> Decision:
    if not cmd.confirm:
        return ctx.reject(_FENCE_CONFIRM_HELP)
    if ctx.state.phase is not Phase.WRITE_FENCE:
        return ctx.reject(f"fence is only possible in write_fence (phase is {ctx.state.phase.value})")
    return ctx.transition(
        "fence_confirmed",
        f"{cmd.operator} started the write fence: the source is fenced and proven read-only, the drain is proven "
        "by a marker row and the sequences are synced on the databases before the writer flips",
        "info",
        Phase.WRITE_FENCE,
        fence_confirmed_at=ctx.now,
        fence_confirmed_by=cmd.operator,
        **NO_EVIDENCE,
        **waiver_voided(ctx.state),
    )


def _start(ctx: Ctx, cmd: OperatorCommand) -> Decision:
    state = ctx.state
    refusal = _start_refusal(ctx)
    if refusal is not None:
        recorded = state.preflight_passed_at
        if recorded is None:
            return ctx.reject(refusal)
        # The preflight was recorded for this start: refused, it proves nothing about a later one.
        voided = ctx.transition(
            "preflight_voided",
            f"start refused: {refusal}. The preflight recorded at {recorded.isoformat()} is voided: the next start "
            "runs a fresh one ('./cutover advance')",
            "info",
            state.phase,
            preflight_passed_at=None,
        )
        return replace(voided, refused=True)
    first = ctx.settings.read_steps[0]
    return ctx.transition(
        "started",
        f"cutover started by {cmd.operator}: reads 0% -> {first}% on Aurora",
        "info",
        Phase.READS_SHIFTING,
        weights=Weights(reader=first, writer=0),
        last_good_reader_weight=0,
        step_started_at=ctx.now,
        latency_judged_until=ctx.judged_until(),
        fence_confirmed_at=None,
        fence_confirmed_by=None,
        preflight_passed_at=None,  # each start needs a fresh preflight
        **NO_EVIDENCE,
    )


def _start_refusal(ctx: Ctx) -> str | None:
    """Why the cutover cannot start now, or None: no divergence, a fresh preflight, every gate green."""
    state, gates = ctx.state, gates_of(ctx)
    if state.phase is Phase.ROLLED_BACK and state.flipped_at is not None:
        return (
            "the writer was on Aurora before this rollback, so Aurora and the source have diverged; "
            "re-seed the DMS task (full load) and reset the state as described in docs/cutover.md"
        )
    recorded = state.preflight_passed_at
    if recorded is None:
        return (
            "no preflight recorded: start with './cutover advance', which checks the source and target on the "
            "databases first (the Lambda cannot reach them)"
        )
    valid = ctx.settings.preflight_valid_seconds
    age = (ctx.now - recorded).total_seconds()
    if age > valid:
        return (
            f"the preflight recorded at {recorded.isoformat()} is {age / 60:.0f} min old, older than the "
            f"{valid // 60} min it is valid (cutover.preflight_valid_minutes): the databases may have changed since"
        )
    if not gates.green:
        return f"cannot start: gate(s) red: {gates.summary()}"
    return None


def _complete(ctx: Ctx, cmd: OperatorCommand) -> Decision:
    gates = gates_of(ctx)
    if not gates.green:
        return ctx.reject(f"cannot complete: gate(s) red: {gates.summary()}")
    return ctx.transition(
        "completed",
        f"cutover completed by {cmd.operator}; record TTL restored to {ctx.settings.record_ttl}s",
        "info",
        Phase.COMPLETED,
        ttl_lowered_at=None,
    )


def _advance(ctx: Ctx, cmd: OperatorCommand) -> Decision:
    state = ctx.state
    phase = state.phase
    if phase in (Phase.REPLICATING, Phase.ROLLED_BACK):
        return _start(ctx, cmd)
    if phase is Phase.WRITER_FLIPPED:
        return _complete(ctx, cmd)
    if phase is Phase.READS_SHIFTING:
        return ctx.reject(
            f"reads advance automatically once each step is held with every gate green; "
            f"{max(0, math.ceil(hold_left(ctx)))}s left at {state.weights.reader}%"
        )
    refusals = {
        Phase.WRITE_FENCE: "the writer moves only through 'fence --confirm' (after the source is read-only)",
        Phase.PAUSED: f"paused (from {state.paused_from.value if state.paused_from else '?'}): run 'resume' first",
        Phase.COMPLETED: "the cutover is already completed",
    }
    return ctx.reject(refusals[phase])


def _rollback(ctx: Ctx, cmd: OperatorCommand) -> Decision:
    state = ctx.state
    if not cmd.confirm:
        return ctx.reject("rollback requires confirm=true")
    if state.phase is Phase.ROLLED_BACK:
        return ctx.reject("already rolled back")
    on_aurora = state.weights.writer == 100
    if on_aurora and not cmd.writer:
        return ctx.reject(
            "the writer is on Aurora: a reads-only rollback is impossible. 'rollback --writer --confirm' moves the "
            "writer back to the source and LOSES every write made on Aurora since the flip unless a reverse "
            "(Aurora -> source) replication task has run since then; see docs/cutover.md"
        )
    if cmd.writer and not on_aurora:
        return ctx.reject("the writer is not on Aurora: use 'rollback --confirm' without --writer")
    common: dict[str, Any] = {
        "paused_from": None,
        "weights": Weights(reader=0, writer=0),
        "last_good_reader_weight": 0,
        "step_started_at": None,
        "latency_judged_until": None,
        "ttl_lowered_at": None,
        **NO_EVIDENCE,
        # The attempt is over: the next one proves its data again.
        **NO_DATA_PROOF,
    }
    if cmd.writer:
        flipped = state.flipped_at.isoformat() if state.flipped_at else "the flip"
        return ctx.transition(
            "writer_rolled_back",
            f"writer and reads moved back to the source by {cmd.operator} (confirmed). Writes made on Aurora since "
            f"{flipped} are NOT on the source unless reverse replication ran; the source must be writable again",
            "alert",
            Phase.ROLLED_BACK,
            **common,
        )
    fenced = "; the source was fenced (read-only): make it writable again" if state.fence_confirmed_at is not None else ""
    return ctx.transition(
        "rolled_back",
        f"reads moved back to the source by {cmd.operator}{fenced}",
        "alert",
        Phase.ROLLED_BACK,
        **common,
    )


COMMANDS: dict[Action, Callable[[Ctx, OperatorCommand], Decision]] = {
    Action.STATUS: _status,
    Action.PAUSE: _pause,
    Action.RESUME: _resume,
    Action.FENCE: _fence,
    Action.ADVANCE: _advance,
    Action.ROLLBACK: _rollback,
}
