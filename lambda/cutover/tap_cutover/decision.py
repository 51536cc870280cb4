"""What a decision returns (a transition, no change or a refusal) and the context each decision works in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .gates import GateReport, Observation, judged_until
from .settings import Settings
from .state import CALLER_MAX, HISTORY_MAX_ENTRIES, HistoryEntry, Phase, State
from .triggers import PairName, Severity, Trigger, operator_of, trigger_label


@dataclass(frozen=True)
class PairChange:
    """Desired absolute values for one weighted pair (source gets 100 - aurora_weight)."""

    pair: PairName
    aurora_weight: int
    ttl: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "pair": self.pair,
            "aurora_weight": self.aurora_weight,
            "source_weight": 100 - self.aurora_weight,
            "ttl": self.ttl,
        }


@dataclass(frozen=True)
class Notification:
    severity: Severity
    subject: str
    message: str


@dataclass(frozen=True)
class Transition:
    event: str
    reason: str
    severity: Severity
    previous: State
    state: State
    changes: tuple[PairChange, ...]
    revert: tuple[PairChange, ...]
    trigger: str
    operator: str | None
    at: datetime
    gates: GateReport | None = None
    # A refusal that still writes the state (a refused start voids its preflight): reported as "rejected".
    refused: bool = False

    def details(self) -> dict[str, Any]:
        return {
            "transition": self.event,
            "severity": self.severity,
            "version": self.state.version,
            "from": self.previous.phase.value,
            "to": self.state.phase.value,
            "reason": self.reason,
            "trigger": self.trigger,
            "operator": self.operator,
            "at": self.at.isoformat(),
            "weights": self.state.weights.to_dict(),
            "previous_weights": self.previous.weights.to_dict(),
            "record_changes": [change.to_dict() for change in self.changes],
            "gates": self.gates.to_list() if self.gates is not None else None,
        }

    def notification(self) -> Notification:
        # SNS subjects: ASCII, no line breaks, at most 100 characters.
        subject = (
            f"tap-migrate cutover v{self.state.version}: {self.event} ({self.previous.phase.value} -> {self.state.phase.value})"
        )
        text = (
            f"{self.severity.upper()}: {self.reason}\n"
            f"Weights on Aurora now: reader {self.state.weights.reader}%, writer {self.state.weights.writer}%.\n\n"
            + json.dumps(self.details(), indent=2)
        )
        return Notification(self.severity, subject[:100], text)


@dataclass(frozen=True)
class NoChange:
    reasons: tuple[str, ...]
    gates: GateReport | None = None


@dataclass(frozen=True)
class Rejected:
    reasons: tuple[str, ...]
    gates: GateReport | None = None


Decision = Transition | NoChange | Rejected


def desired_records(settings: Settings, state: State) -> dict[PairName, PairChange]:
    ttl = settings.cutover_ttl if state.ttl_lowered_at is not None else settings.record_ttl
    return {
        "reader": PairChange("reader", state.weights.reader, ttl),
        "writer": PairChange("writer", state.weights.writer, ttl),
    }


@dataclass
class Ctx:
    settings: Settings
    state: State
    trigger: Trigger
    now: datetime
    obs: Observation | None = field(default=None)
    gates: GateReport | None = field(default=None)
    # The ARN whose credentials write the new version (the engine asks STS); recorded as ``updated_by``.
    caller: str | None = field(default=None)

    def judged_until(self) -> datetime | None:
        return judged_until(self.settings, self.obs, self.now) if self.obs is not None else None

    def transition(self, event: str, reason: str, severity: Severity, phase: Phase, **fields: Any) -> Transition:
        old = self.state
        caller = self.caller[:CALLER_MAX] if self.caller is not None else None
        new = replace(old, version=old.version + 1, phase=phase, updated_at=self.now, updated_by=caller, **fields)
        entry = HistoryEntry.create(
            version=new.version,
            at=self.now,
            from_phase=old.phase,
            to_phase=phase,
            reason=reason,
            trigger=trigger_label(self.trigger),
            operator=operator_of(self.trigger),
            weights=new.weights,
        )
        new = replace(new, history=(*old.history, entry)[-HISTORY_MAX_ENTRIES:])
        # A decision that breaks the state invariants is a bug: fail before anything is applied.
        new.check()
        before = desired_records(self.settings, old)
        after = desired_records(self.settings, new)
        pairs: tuple[PairName, ...] = ("reader", "writer")
        changed = tuple(p for p in pairs if before[p] != after[p])
        return Transition(
            event=event,
            reason=reason,
            severity=severity,
            previous=old,
            state=new,
            changes=tuple(after[p] for p in changed),
            revert=tuple(before[p] for p in changed),
            trigger=trigger_label(self.trigger),
            operator=operator_of(self.trigger),
            at=self.now,
            gates=self.gates,
        )

    def no_change(self, *reasons: str) -> NoChange:
        return NoChange(tuple(reasons), self.gates)

    def reject(self, *reasons: str) -> Rejected:
        return Rejected(tuple(reasons), self.gates)


def hold_left(ctx: Ctx) -> float:
    started = ctx.state.step_started_at
    assert started is not None
    return ctx.settings.step_hold_seconds - (ctx.now - started).total_seconds()


def gates_of(ctx: Ctx) -> GateReport:
    assert ctx.gates is not None, "this decision needs an observation"
    return ctx.gates
