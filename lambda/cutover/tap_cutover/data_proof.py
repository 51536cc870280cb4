"""Proof that the data is the same, which the writer flip requires besides the fence, drain and sequences.

One of: DMS validation complete for every selected table (``validation.judge_validation`` on the table
statistics, read through the engine when the operator moves the writer), a clean './cutover compare'
recorded after the forward task's full load, or the operator's waiver ('fence --confirm
--without-data-proof REASON'), which is recorded with its reason and alerted. A compare or a validation
verdict stands until a rollback; a waiver belongs to one fence.
"""

from __future__ import annotations

from typing import Any

from .decision import Ctx, Decision
from .gates import TaskObservation
from .state import DATA_PROOF_MAX, DATA_PROOF_WAIVED, Phase, State
from .triggers import Evidence, RecordEvidence, Severity

DATA_PROOF_KINDS = frozenset({Evidence.DATA_VALIDATED, Evidence.DATA_COMPARED, Evidence.DATA_PROOF_WAIVED})
NO_DATA_PROOF: dict[str, None] = {"data_proof_at": None, "data_proof_kind": None, "data_proof": None}
DATA_PROOF_HELP = (
    "run './cutover compare' (a clean compare is recorded), or let DMS validation finish for every table (the CLI "
    "reads it when it moves the writer), or give 'fence --confirm --without-data-proof REASON' (recorded and alerted)"
)


def waiver_voided(state: State) -> dict[str, Any]:
    """A new fence (or a resume to the fence) voids a waiver given for the previous one; a real proof stands."""
    return dict(NO_DATA_PROOF) if state.data_proof_kind == DATA_PROOF_WAIVED else {}


def data_proof_summary(state: State) -> str:
    if state.data_proof_at is None:
        return "data_proof missing"
    text = f"{state.data_proof_kind} {state.data_proof_at.isoformat()}"
    return f"{text} ({state.data_proof})" if state.data_proof_kind == DATA_PROOF_WAIVED else text


def _load_done(task: TaskObservation) -> bool:
    return task.found and (task.migration_type == "cdc" or task.full_load_percent == 100 or task.full_load_finished)


def record_data_proof(ctx: Ctx, evidence: RecordEvidence) -> Decision:
    state, kind = ctx.state, evidence.kind
    if state.weights.writer != 0 or state.effective_phase in (Phase.WRITER_FLIPPED, Phase.COMPLETED):
        return ctx.reject(f"{kind.value}: the writer already moved; a data proof is recorded before the flip")
    detail = evidence.detail.strip()
    severity: Severity = "info"
    if kind is Evidence.DATA_PROOF_WAIVED:
        if state.phase is not Phase.WRITE_FENCE or state.fence_confirmed_at is None:
            return ctx.reject(
                f"a data-proof waiver is given with 'fence --confirm' in write_fence (phase is {state.phase.value})"
            )
        if not detail:
            return ctx.reject("a data-proof waiver needs a reason: 'fence --confirm --without-data-proof \"REASON\"'")
        severity = "alert"
        reason = f"{evidence.operator} will flip the writer WITHOUT proof that the data is the same: {detail}"
    else:
        if kind is Evidence.DATA_COMPARED:
            assert ctx.obs is not None, "a compare is judged with the forward task's observation"
            if not _load_done(ctx.obs.task):
                return ctx.reject(
                    f"data_compared: the forward task's full load has not finished ({ctx.obs.task.status or 'not found'}, "
                    f"{ctx.obs.task.full_load_percent}%): a compare during the load proves nothing; nothing recorded"
                )
            detail = f"{detail} (task {ctx.settings.dms_resource_id})"
        reason = f"{evidence.operator}: {detail}"
    return ctx.transition(
        kind.value,
        reason,
        severity,
        state.phase,
        data_proof_at=ctx.now,
        data_proof_kind=kind.value,
        data_proof=detail[:DATA_PROOF_MAX],
    )
