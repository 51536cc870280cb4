"""What one engine invocation reports: ``Result`` (JSON-able for the CLI and the handler's answer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .decision import Transition
from .gates import GateReport
from .ports import LivePair
from .state import State

Status = Literal["changed", "no_change", "rejected", "conflict", "stale_lock", "drain_failed", "error"]
EVIDENCE_FIELDS = (
    "preflight_passed_at",
    "fence_confirmed_at",
    "fence_proven_at",
    "drain_reached_at",
    "sequences_synced_at",
    "reverse_started_at",
    "data_proof_at",
    "data_proof_kind",
    "data_proof",
    "flipped_at",
)


@dataclass
class Result:
    status: Status
    message: str
    reasons: list[str] = field(default_factory=list)
    state: State | None = None
    gates: GateReport | None = None
    transitions: list[Transition] = field(default_factory=list)
    # Problems after a commit (SNS, lock release): reported, never undone.
    errors: list[str] = field(default_factory=list)
    live: dict[str, LivePair] | None = None
    lock: dict[str, Any] | None = None
    # What the operator CLI proved on the databases (fence, marker drain, sequences): JSON-able, no credential.
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("changed", "no_change") and not self.errors

    def to_dict(self) -> dict[str, Any]:
        state = self.state
        return {
            "ok": self.ok,
            "status": self.status,
            "message": self.message,
            "reasons": list(self.reasons),
            "phase": state.phase.value if state else None,
            "paused_from": state.paused_from.value if state and state.paused_from else None,
            "version": state.version if state else None,
            "weights": state.weights.to_dict() if state else None,
            "gates": self.gates.to_list() if self.gates else None,
            "transitions": [t.details() for t in self.transitions],
            "errors": list(self.errors),
            "live": {pair: live.to_dict() for pair, live in self.live.items()} if self.live is not None else None,
            "lock": self.lock,
            "history": [entry.to_dict() for entry in state.history] if state else None,
            "evidence": {name: state.to_dict()[name] for name in EVIDENCE_FIELDS} if state else None,
            "details": self.details,
        }


@dataclass
class Outcome:
    """A result and whether the lock must stay held (DNS may be ahead of the state)."""

    result: Result
    keep_lock: bool = False
