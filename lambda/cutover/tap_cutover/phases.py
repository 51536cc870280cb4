"""Ticks (schedule and DMS events): one function per phase, chosen by ``TICKS``."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from .decision import Ctx, Decision, gates_of, hold_left
from .evidence import evidence_summary
from .gates import GateReport, hold_coverage
from .state import Phase


def _tick_replicating(ctx: Ctx) -> Decision:
    return ctx.no_change("replicating: waiting for an operator 'advance' to start shifting reads")


def _tick_paused(ctx: Ctx) -> Decision:
    origin = ctx.state.paused_from.value if ctx.state.paused_from else "?"
    return ctx.no_change(f"paused (from {origin}): run 'resume' to continue")


def _tick_completed(ctx: Ctx) -> Decision:
    return ctx.no_change("cutover completed: nothing to do")


def _tick_rolled_back(ctx: Ctx) -> Decision:
    return ctx.no_change("rolled back: nothing to do")


def _gate_rollback(ctx: Ctx) -> Decision:
    """Reads back to the last step held with every gate green, and pause."""
    state, gates = ctx.state, gates_of(ctx)
    reader = state.weights.reader
    target = state.last_good_reader_weight
    moved = f"reads {reader}% -> {target}%" if target != reader else f"reads stay at {reader}%"
    return ctx.transition(
        "gate_rollback",
        f"gate(s) red: {gates.summary()}; {moved} on Aurora (last fully held step); paused",
        "alert",
        Phase.PAUSED,
        paused_from=Phase.READS_SHIFTING,
        weights=replace(state.weights, reader=target),
        step_started_at=None,
        latency_judged_until=None,
    )


def _tick_reads_shifting(ctx: Ctx) -> Decision:
    state, settings, gates = ctx.state, ctx.settings, gates_of(ctx)
    reader = state.weights.reader
    left = hold_left(ctx)
    if left > 0:
        if not gates.green:
            return _gate_rollback(ctx)
        return ctx.no_change(f"holding reads at {reader}% on Aurora: {math.ceil(left)}s of the hold left")
    assert ctx.obs is not None and state.step_started_at is not None
    since = state.latency_judged_until or state.step_started_at
    until = state.step_started_at + timedelta(seconds=settings.step_hold_seconds)
    coverage = hold_coverage(settings, ctx.obs, since, ctx.now, until)
    if not coverage.result.green or not gates.green:
        if not coverage.result.green:
            ctx.gates = GateReport((*gates.results, coverage.result))
        return _gate_rollback(ctx)
    if coverage.pending is not None:
        return ctx.no_change(
            f"reads at {reader}% held {settings.step_hold_seconds}s; the step waits until every period of the hold "
            f"is judged: {coverage.result.value}"
        )
    judged = ctx.judged_until()
    if reader < 100:
        nxt = next(step for step in settings.read_steps if step > reader)
        return ctx.transition(
            "step",
            f"reads at {reader}% held {settings.step_hold_seconds}s with every gate green: reads {reader}% -> {nxt}%",
            "info",
            Phase.READS_SHIFTING,
            weights=replace(state.weights, reader=nxt),
            last_good_reader_weight=reader,
            step_started_at=ctx.now,
            latency_judged_until=judged,
        )
    return ctx.transition(
        "enter_fence",
        f"reads at 100% held {settings.step_hold_seconds}s with every gate green; TTL of all four records "
        f"lowered to {settings.cutover_ttl}s. Next: make the source read-only, then run 'fence --confirm'",
        "info",
        Phase.WRITE_FENCE,
        last_good_reader_weight=100,
        step_started_at=None,
        latency_judged_until=None,
        ttl_lowered_at=ctx.now,
    )


def _tick_write_fence(ctx: Ctx) -> Decision:
    gates = gates_of(ctx)
    if not gates.green:
        return ctx.transition(
            "gate_pause",
            f"gate(s) red in write_fence: {gates.summary()}; reads stay at 100% (the last fully held step), "
            "the writer stays on the source; paused",
            "alert",
            Phase.PAUSED,
            paused_from=Phase.WRITE_FENCE,
        )
    state = ctx.state
    if state.fence_confirmed_at is not None:
        return ctx.no_change(
            f"fence confirmed at {state.fence_confirmed_at.isoformat()} ({evidence_summary(state)}); the writer flips "
            "only from './cutover fence --confirm' once the databases proved all three"
        )
    return ctx.no_change("waiting for the operator: run './cutover fence --confirm' (it fences and proves the source)")


def _tick_writer_flipped(ctx: Ctx) -> Decision:
    gates = gates_of(ctx)
    if not gates.green:
        return ctx.transition(
            "gate_pause",
            f"gate(s) red after the writer flip: {gates.summary()}; the writer STAYS on Aurora (moving it back "
            "automatically would lose Aurora's writes); paused",
            "alert",
            Phase.PAUSED,
            paused_from=Phase.WRITER_FLIPPED,
        )
    return ctx.no_change("writer on Aurora: run 'advance' to complete (restores the record TTL)")


TICKS: dict[Phase, Callable[[Ctx], Decision]] = {
    Phase.REPLICATING: _tick_replicating,
    Phase.READS_SHIFTING: _tick_reads_shifting,
    Phase.WRITE_FENCE: _tick_write_fence,
    Phase.WRITER_FLIPPED: _tick_writer_flipped,
    Phase.COMPLETED: _tick_completed,
    Phase.PAUSED: _tick_paused,
    Phase.ROLLED_BACK: _tick_rolled_back,
}
