"""What starts a decision: a tick, an operator command, recorded evidence, the writer flip or a note."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

PairName = Literal["reader", "writer"]
Severity = Literal["info", "alert"]


class Action(StrEnum):
    ADVANCE = "advance"
    PAUSE = "pause"
    RESUME = "resume"
    ROLLBACK = "rollback"
    FENCE = "fence"
    STATUS = "status"


@dataclass(frozen=True)
class Tick:
    """A scheduled tick or a DMS task state-change event: re-evaluate the gates."""

    source: Literal["schedule", "dms_event"]
    detail: str = ""


@dataclass(frozen=True)
class OperatorCommand:
    action: Action
    operator: str
    confirm: bool = False
    writer: bool = False


class Evidence(StrEnum):
    """What the operator CLI proved on the databases: preflight before a start; after a confirmed fence, in order, the rest."""

    PREFLIGHT_PASSED = "preflight_passed"  # no source/target check blocks (recorded before 'advance' starts)
    FENCE_PROVEN = "fence_proven"  # the source refuses an ordinary session's write
    DRAIN_REACHED = "drain_reached"  # the marker written after the fence is on the target
    SEQUENCES_SYNCED = "sequences_synced"  # every target sequence is past the source's, read back
    # The reverse replication (Aurora -> source) runs from a position taken before any write can reach Aurora;
    # optional (only with a reverse replication), recorded after the other three and before the flip.
    REVERSE_STARTED = "reverse_started"
    # Proof that the data is the same, one of three (the flip requires one; see evidence.DATA_PROOF_KINDS):
    DATA_VALIDATED = "data_validated"  # DMS validation complete for every selected table (the CLI reads it via the engine)
    DATA_COMPARED = "data_compared"  # './cutover compare' found source and target the same after the full load
    DATA_PROOF_WAIVED = "data_proof_waived"  # 'fence --confirm --without-data-proof REASON': no proof, recorded and alerted


@dataclass(frozen=True)
class RecordEvidence:
    """The CLI records one piece of database evidence in the state (the Lambda cannot: no database access)."""

    kind: Evidence
    operator: str
    detail: str


@dataclass(frozen=True)
class RecordNote:
    """An operator's audited decision in the state's history (e.g. a replacement allowed during a live migration)."""

    operator: str
    detail: str


@dataclass(frozen=True)
class FlipWriter:
    """The CLI asks for the writer flip once all three pieces of evidence are recorded."""

    operator: str


Trigger = Tick | OperatorCommand | RecordEvidence | FlipWriter | RecordNote


def trigger_label(trigger: Trigger) -> str:
    if isinstance(trigger, Tick):
        return trigger.source
    if isinstance(trigger, RecordEvidence):
        return f"evidence:{trigger.kind.value}"
    if isinstance(trigger, FlipWriter):
        return "operator:flip"
    if isinstance(trigger, RecordNote):
        return "operator:note"
    suffix = " --writer" if trigger.writer else ""
    return f"operator:{trigger.action.value}{suffix}"


def operator_of(trigger: Trigger) -> str | None:
    return trigger.operator if isinstance(trigger, OperatorCommand | RecordEvidence | FlipWriter | RecordNote) else None


def needs_observation(trigger: Trigger) -> bool:
    """Pause, rollback and fence must work even when CloudWatch or DMS cannot be read.

    A compare is recorded only after the forward task's full load, which the observation shows.
    """
    if isinstance(trigger, OperatorCommand):
        return trigger.action in (Action.ADVANCE, Action.RESUME, Action.STATUS)
    if isinstance(trigger, RecordEvidence):
        return trigger.kind is Evidence.DATA_COMPARED
    return not isinstance(trigger, RecordNote)
