"""Pure cutover decisions: (settings, state, observation, trigger, now) -> decision.

Nothing here performs I/O or imports an AWS SDK. The engine (``engine.py``) fetches the
observation, calls ``decide`` and applies whatever it returns under the lock.

This module is the front door: ``decide`` dispatches to the module that holds each kind of
decision, and the names callers use are re-exported from here.

- ``triggers``: what starts a decision (Tick, OperatorCommand, RecordEvidence, FlipWriter, RecordNote)
- ``gates``: the observation and the gates judged on it (evaluate_gates, hold_coverage, windows)
- ``decision``: what a decision returns (Transition, NoChange, Rejected) and its context
- ``phases``: a tick, one function per phase
- ``commands``: an operator command, one function per action
- ``evidence``: the database evidence and the writer flip that requires it
- ``data_proof``: the proof that the data is the same (``validation`` judges DMS validation), or its waiver
"""

from __future__ import annotations

from datetime import datetime

from .commands import COMMANDS
from .data_proof import DATA_PROOF_KINDS, record_data_proof
from .decision import (
    Ctx,
    Decision,
    NoChange,
    Notification,
    PairChange,
    Rejected,
    Transition,
    desired_records,
)
from .evidence import evidence_summary, flip_writer, record_evidence
from .gates import (
    GATE_ALARMS,
    GATE_CLUSTER,
    GATE_DMS,
    GATE_HOLD,
    GATE_LATENCY_SOURCE,
    GATE_LATENCY_TARGET,
    HOLD_FETCH_SLACK_SECONDS,
    Datapoint,
    GateReport,
    GateResult,
    HoldCoverage,
    Observation,
    TaskObservation,
    align,
    evaluate_gates,
    fetch_window,
    hold_coverage,
    judged_until,
    latency_window,
    published_by,
    watches_reverse,
)
from .phases import TICKS
from .settings import Settings
from .state import PAUSABLE, Phase, State
from .triggers import (
    Action,
    Evidence,
    FlipWriter,
    OperatorCommand,
    PairName,
    RecordEvidence,
    RecordNote,
    Severity,
    Tick,
    Trigger,
    needs_observation,
    trigger_label,
)

__all__ = [
    "GATE_ALARMS",
    "GATE_CLUSTER",
    "GATE_DMS",
    "GATE_HOLD",
    "GATE_LATENCY_SOURCE",
    "GATE_LATENCY_TARGET",
    "HOLD_FETCH_SLACK_SECONDS",
    "RECONCILE_HELP",
    "Action",
    "Datapoint",
    "Decision",
    "Evidence",
    "FlipWriter",
    "GateReport",
    "GateResult",
    "HoldCoverage",
    "NoChange",
    "Notification",
    "Observation",
    "OperatorCommand",
    "PairChange",
    "PairName",
    "RecordEvidence",
    "RecordNote",
    "Rejected",
    "Severity",
    "TaskObservation",
    "Tick",
    "Transition",
    "Trigger",
    "align",
    "decide",
    "decide_dns_mismatch",
    "desired_records",
    "evaluate_gates",
    "evidence_summary",
    "fetch_window",
    "hold_coverage",
    "judged_until",
    "latency_window",
    "needs_observation",
    "published_by",
    "trigger_label",
    "watches_reverse",
]


def decide(
    settings: Settings,
    state: State,
    obs: Observation | None,
    trigger: Trigger,
    now: datetime,
    *,
    caller: str | None = None,
) -> Decision:
    """``caller``: the ARN whose credentials will write the new version, recorded in it as ``updated_by``."""
    if needs_observation(trigger) and obs is None:
        raise ValueError(f"trigger {trigger_label(trigger)} needs an observation")
    ctx = Ctx(settings, state, trigger, now, obs, caller=caller)
    if obs is not None:
        ctx.gates = evaluate_gates(settings, obs, now, state)
    if isinstance(trigger, OperatorCommand):
        if trigger.writer and trigger.action is not Action.ROLLBACK:
            return ctx.reject("'writer' only applies to 'rollback'")
        return COMMANDS[trigger.action](ctx, trigger)
    if isinstance(trigger, RecordEvidence):
        recorder = record_data_proof if trigger.kind in DATA_PROOF_KINDS else record_evidence
        return recorder(ctx, trigger)
    if isinstance(trigger, FlipWriter):
        return flip_writer(ctx, trigger)
    if isinstance(trigger, RecordNote):
        # Recorded in any phase, changing nothing else: the history is the audit trail.
        return ctx.transition("note", f"{trigger.operator}: {trigger.detail}", "info", state.phase)
    return TICKS[state.phase](ctx)


RECONCILE_HELP = (
    "reconcile first: 'unlock --confirm --sync-dns' sets the reader pair and TTLs back to the state (never the "
    "writer); a writer difference needs the writer-mismatch procedure in docs/cutover.md"
)


def decide_dns_mismatch(
    settings: Settings,
    state: State,
    trigger: Trigger,
    now: datetime,
    *,
    differences: tuple[str, ...],
    live_writer_on_aurora: bool,
    caller: str | None = None,
) -> Decision:
    """Live Route 53 differs from the stored state: stop and say so; never 'correct' DNS by itself.

    A tick pauses (an alert, no record change); an operator command or a flip is refused. Only
    'pause' and 'status' go ahead, and they go through ``decide`` as usual.
    """
    ctx = Ctx(settings, state, trigger, now, caller=caller)
    summary = "; ".join(differences)
    if isinstance(trigger, Tick):
        if state.phase in PAUSABLE:
            return ctx.transition(
                "dns_mismatch",
                f"live Route 53 differs from the state ({summary}); paused, nothing moved. {RECONCILE_HELP}",
                "alert",
                Phase.PAUSED,
                paused_from=state.phase,
                step_started_at=None,
                latency_judged_until=None,
            )
        return ctx.no_change(f"live Route 53 differs from the state ({summary}); {RECONCILE_HELP}")
    refusal = f"refused: live Route 53 differs from the state ({summary}). {RECONCILE_HELP}"
    if (
        isinstance(trigger, OperatorCommand)
        and trigger.action is Action.ROLLBACK
        and not trigger.writer
        and live_writer_on_aurora
    ):
        refusal = (
            "refused: the LIVE writer record is on Aurora, whatever the state says, so a reads-only rollback would "
            f"leave clients split; moving the writer back loses Aurora's writes ({summary}). {RECONCILE_HELP}"
        )
    return ctx.reject(refusal)
