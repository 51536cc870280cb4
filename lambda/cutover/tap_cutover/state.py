"""The cutover state machine's persisted state: model, JSON parsing and serialisation.

The state lives in one SSM String parameter. Terraform seeds it with
``{"version": 1, "phase": "replicating"}`` and never touches it again, so every field except
``version`` and ``phase`` has a default. Anything malformed is rejected with a StateError and
the caller changes nothing.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

# SSM standard-tier parameters hold at most 4 KB; history is trimmed (oldest first) to fit.
STATE_MAX_BYTES = 4096
HISTORY_MAX_ENTRIES = 10
_REASON_MAX = 200
OPERATOR_MAX = 128
# The ARN of the principal whose credentials wrote a version (an IAM ARN is at most 2048 characters; real ones are
# far shorter): kept to this so the state and its history still fit 4 KB.
CALLER_MAX = 512
# The kinds of data proof (logic's Evidence values): DMS validation, a clean compare, the operator's waiver.
DATA_PROOF_WAIVED = "data_proof_waived"
DATA_PROOF_KINDS = ("data_validated", "data_compared", DATA_PROOF_WAIVED)
DATA_PROOF_MAX = 300


class StateError(ValueError):
    """The stored state is not a valid cutover state."""


class Phase(StrEnum):
    REPLICATING = "replicating"
    READS_SHIFTING = "reads_shifting"
    WRITE_FENCE = "write_fence"
    WRITER_FLIPPED = "writer_flipped"
    COMPLETED = "completed"
    PAUSED = "paused"
    ROLLED_BACK = "rolled_back"


# Phases a pause can remember; terminal phases have nothing left to pause.
PAUSABLE = frozenset({Phase.REPLICATING, Phase.READS_SHIFTING, Phase.WRITE_FENCE, Phase.WRITER_FLIPPED})


@dataclass(frozen=True)
class Weights:
    """Percent of each record pair on Aurora; the ``source`` record carries the rest."""

    reader: int = 0
    writer: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"reader": self.reader, "writer": self.writer}


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    at: datetime
    from_phase: Phase
    to_phase: Phase
    reason: str
    trigger: str
    operator: str | None
    weights: Weights

    @classmethod
    def create(
        cls,
        *,
        version: int,
        at: datetime,
        from_phase: Phase,
        to_phase: Phase,
        reason: str,
        trigger: str,
        operator: str | None,
        weights: Weights,
    ) -> HistoryEntry:
        # Full reasons go to the log line and SNS; the SSM copy is kept short to fit 4 KB.
        short = reason if len(reason) <= _REASON_MAX else reason[: _REASON_MAX - 3] + "..."
        return cls(
            version=version,
            at=at,
            from_phase=from_phase,
            to_phase=to_phase,
            reason=short,
            trigger=trigger,
            operator=operator[:OPERATOR_MAX] if operator is not None else None,
            weights=weights,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "at": _iso(self.at),
            "from": self.from_phase.value,
            "to": self.to_phase.value,
            "reason": self.reason,
            "trigger": self.trigger,
            "operator": self.operator,
            "weights": self.weights.to_dict(),
        }


@dataclass(frozen=True)
class State:
    version: int
    phase: Phase
    paused_from: Phase | None = None
    weights: Weights = field(default_factory=Weights)
    # Highest reader weight that was held for the full hold time with every gate green.
    last_good_reader_weight: int = 0
    step_started_at: datetime | None = None
    # End of the newest latency period judged green when the current hold began (or last moved on):
    # the step that ends the hold judges every complete period from here, so no minute goes unjudged.
    latency_judged_until: datetime | None = None
    # Set while the four records carry CUTOVER_TTL instead of RECORD_TTL.
    ttl_lowered_at: datetime | None = None
    fence_confirmed_at: datetime | None = None
    fence_confirmed_by: str | None = None
    # Database evidence the operator CLI recorded: preflight before a start, the rest for the current fence.
    preflight_passed_at: datetime | None = None
    fence_proven_at: datetime | None = None
    drain_reached_at: datetime | None = None
    sequences_synced_at: datetime | None = None
    # The reverse replication (Aurora -> source) started at this fence: from then on the gates watch it, not the
    # forward task (which is stopped so the two do not replay each other's changes).
    reverse_started_at: datetime | None = None
    # Proof that the data is the same (DMS validation complete, or a clean compare), or the operator's recorded
    # waiver: when, which kind (an Evidence value: data_validated, data_compared, data_proof_waived) and its summary.
    data_proof_at: datetime | None = None
    data_proof_kind: str | None = None
    data_proof: str | None = None
    flipped_at: datetime | None = None
    updated_at: datetime | None = None
    # Who wrote this version: the STS caller ARN of the credentials the engine ran with (the Lambda's role for a tick
    # or a direct invocation, the operator's own for the CLI). Each SSM version of the parameter keeps its own.
    updated_by: str | None = None
    history: tuple[HistoryEntry, ...] = ()

    @property
    def effective_phase(self) -> Phase:
        """The phase that decides weights and TTL: a paused state behaves like its origin."""
        return self.paused_from if self.paused_from is not None else self.phase

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "phase": self.phase.value,
            "paused_from": self.paused_from.value if self.paused_from else None,
            "weights": self.weights.to_dict(),
            "last_good_reader_weight": self.last_good_reader_weight,
            "step_started_at": _iso_or_none(self.step_started_at),
            "latency_judged_until": _iso_or_none(self.latency_judged_until),
            "ttl_lowered_at": _iso_or_none(self.ttl_lowered_at),
            "fence_confirmed_at": _iso_or_none(self.fence_confirmed_at),
            "fence_confirmed_by": self.fence_confirmed_by,
            "preflight_passed_at": _iso_or_none(self.preflight_passed_at),
            "fence_proven_at": _iso_or_none(self.fence_proven_at),
            "drain_reached_at": _iso_or_none(self.drain_reached_at),
            "sequences_synced_at": _iso_or_none(self.sequences_synced_at),
            "reverse_started_at": _iso_or_none(self.reverse_started_at),
            "data_proof_at": _iso_or_none(self.data_proof_at),
            "data_proof_kind": self.data_proof_kind,
            "data_proof": self.data_proof,
            "flipped_at": _iso_or_none(self.flipped_at),
            "updated_at": _iso_or_none(self.updated_at),
            "updated_by": self.updated_by,
            "history": [entry.to_dict() for entry in self.history],
        }

    def to_json(self) -> str:
        """Serialise, dropping the oldest history entries until the text fits SSM's 4 KB."""
        state = replace(self, history=self.history[-HISTORY_MAX_ENTRIES:])
        while True:
            text = json.dumps(state.to_dict(), separators=(",", ":"), sort_keys=False)
            if len(text.encode()) <= STATE_MAX_BYTES or not state.history:
                return text
            state = replace(state, history=state.history[1:])

    @classmethod
    def parse(cls, text: str) -> State:
        try:
            raw = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise StateError(f"state is not valid JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise StateError(f"state must be a JSON object, got {type(raw).__name__}")
        unknown = sorted(set(raw) - _STATE_KEYS)
        if unknown:
            raise StateError(f"state has unknown field(s): {', '.join(unknown)}")
        if "version" not in raw or "phase" not in raw:
            raise StateError("state must contain 'version' and 'phase'")
        weights_raw = raw.get("weights", {"reader": 0, "writer": 0})
        state = cls(
            version=_int(raw, "version", 1, None),
            phase=_phase(raw["phase"], "phase"),
            paused_from=_phase(raw["paused_from"], "paused_from") if raw.get("paused_from") is not None else None,
            weights=_weights(weights_raw, "weights"),
            last_good_reader_weight=_int(raw, "last_good_reader_weight", 0, 100, default=0),
            step_started_at=_time(raw, "step_started_at"),
            latency_judged_until=_time(raw, "latency_judged_until"),
            ttl_lowered_at=_time(raw, "ttl_lowered_at"),
            fence_confirmed_at=_time(raw, "fence_confirmed_at"),
            fence_confirmed_by=_opt_str(raw, "fence_confirmed_by"),
            preflight_passed_at=_time(raw, "preflight_passed_at"),
            fence_proven_at=_time(raw, "fence_proven_at"),
            drain_reached_at=_time(raw, "drain_reached_at"),
            sequences_synced_at=_time(raw, "sequences_synced_at"),
            reverse_started_at=_time(raw, "reverse_started_at"),
            data_proof_at=_time(raw, "data_proof_at"),
            data_proof_kind=_opt_str(raw, "data_proof_kind"),
            data_proof=_opt_str(raw, "data_proof"),
            flipped_at=_time(raw, "flipped_at"),
            updated_at=_time(raw, "updated_at"),
            updated_by=_opt_str(raw, "updated_by"),
            history=_history(raw.get("history", [])),
        )
        state.check()
        return state

    def check(self) -> None:  # noqa: PLR0912  (one branch per state invariant, read top to bottom)
        """Reject combinations no transition can produce (e.g. a writer on Aurora before a fence)."""
        w = self.weights
        if (self.phase is Phase.PAUSED) != (self.paused_from is not None):
            raise StateError("'paused_from' must be set exactly when phase is 'paused'")
        if self.paused_from is not None and self.paused_from not in PAUSABLE:
            raise StateError(f"cannot be paused from {self.paused_from.value!r}")
        if self.last_good_reader_weight > w.reader:
            raise StateError("'last_good_reader_weight' exceeds the current reader weight")
        eff = self.effective_phase
        expected: dict[Phase, tuple[int | None, int, bool | None]] = {
            # phase: (reader weight or None for any, writer weight, TTL lowered or None for any)
            Phase.REPLICATING: (0, 0, False),
            Phase.READS_SHIFTING: (None, 0, False),
            Phase.WRITE_FENCE: (100, 0, True),
            Phase.WRITER_FLIPPED: (100, 100, True),
            Phase.COMPLETED: (100, 100, False),
            Phase.ROLLED_BACK: (0, 0, False),
        }
        reader, writer, lowered = expected[eff]
        if reader is not None and w.reader != reader:
            raise StateError(f"phase {eff.value!r} requires reader weight {reader}, found {w.reader}")
        if w.writer != writer:
            raise StateError(f"phase {eff.value!r} requires writer weight {writer}, found {w.writer}")
        if lowered is not None and (self.ttl_lowered_at is not None) != lowered:
            raise StateError(f"phase {eff.value!r} requires ttl_lowered_at to be {'set' if lowered else 'null'}")
        if w.writer == 100 and (self.fence_confirmed_at is None or self.flipped_at is None):
            raise StateError("writer on Aurora requires fence_confirmed_at and flipped_at")
        if self.phase is Phase.READS_SHIFTING and self.step_started_at is None:
            raise StateError("phase 'reads_shifting' requires step_started_at")
        if self.phase is not Phase.READS_SHIFTING and self.latency_judged_until is not None:
            raise StateError("'latency_judged_until' is only set in phase 'reads_shifting'")
        if self.fence_confirmed_by is not None and self.fence_confirmed_at is None:
            raise StateError("'fence_confirmed_by' set without 'fence_confirmed_at'")
        if self.preflight_passed_at is not None and eff not in (Phase.REPLICATING, Phase.ROLLED_BACK):
            raise StateError("'preflight_passed_at' is only kept until the start (replicating or rolled_back)")
        for name in ("fence_proven_at", "drain_reached_at", "sequences_synced_at", "reverse_started_at"):
            if getattr(self, name) is not None and self.fence_confirmed_at is None:
                raise StateError(f"{name!r} set without 'fence_confirmed_at'")
        self._check_data_proof()
        versions = [entry.version for entry in self.history]
        if any(b != a + 1 for a, b in itertools.pairwise(versions)):
            raise StateError("history versions must be consecutive")
        if versions and versions[-1] > self.version:
            raise StateError("history is ahead of the state version")

    def _check_data_proof(self) -> None:
        if (self.data_proof_at is None) != (self.data_proof_kind is None):
            raise StateError("'data_proof_at' and 'data_proof_kind' are set together")
        if self.data_proof_kind is not None and self.data_proof_kind not in DATA_PROOF_KINDS:
            raise StateError(f"'data_proof_kind' must be one of {', '.join(DATA_PROOF_KINDS)}; got {self.data_proof_kind!r}")
        if self.data_proof_kind == DATA_PROOF_WAIVED and self.fence_confirmed_at is None:
            raise StateError("a waived data proof belongs to a fence: set without 'fence_confirmed_at'")


_STATE_KEYS = frozenset(
    {
        "version",
        "phase",
        "paused_from",
        "weights",
        "last_good_reader_weight",
        "step_started_at",
        "latency_judged_until",
        "ttl_lowered_at",
        "fence_confirmed_at",
        "fence_confirmed_by",
        "preflight_passed_at",
        "fence_proven_at",
        "drain_reached_at",
        "sequences_synced_at",
        "reverse_started_at",
        "data_proof_at",
        "data_proof_kind",
        "data_proof",
        "flipped_at",
        "updated_at",
        "updated_by",
        "history",
    }
)
_HISTORY_KEYS = frozenset({"version", "at", "from", "to", "reason", "trigger", "operator", "weights"})


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _iso_or_none(moment: datetime | None) -> str | None:
    return _iso(moment) if moment is not None else None


def _int(raw: dict[str, Any], key: str, low: int, high: int | None, default: int | None = None) -> int:
    value = raw.get(key, default)
    # bool is a subclass of int in Python; JSON true must not pass as 1.
    if type(value) is not int:
        raise StateError(f"{key!r} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise StateError(f"{key!r} must be {bounds}, got {value}")
    return value


def _phase(value: Any, key: str) -> Phase:
    try:
        return Phase(value)
    except ValueError:
        allowed = ", ".join(p.value for p in Phase)
        raise StateError(f"{key!r} must be one of {allowed}; got {value!r}") from None


def _weights(value: Any, key: str) -> Weights:
    if not isinstance(value, dict) or set(value) != {"reader", "writer"}:
        raise StateError(f"{key!r} must be an object with exactly 'reader' and 'writer'")
    reader = _int(value, "reader", 0, 100)
    writer = _int(value, "writer", 0, 100)
    # The writer pair only ever moves in one step; anything in between would split writes.
    if writer not in (0, 100):
        raise StateError(f"{key}.writer must be 0 or 100, got {writer}")
    return Weights(reader=reader, writer=writer)


def _time(raw: dict[str, Any], key: str) -> datetime | None:
    value = raw.get(key)
    if value is None:
        return None
    return _parse_time(value, key)


def _parse_time(value: Any, key: str) -> datetime:
    if not isinstance(value, str):
        raise StateError(f"{key!r} must be an ISO-8601 timestamp string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise StateError(f"{key!r} is not an ISO-8601 timestamp: {value!r}") from None
    if moment.tzinfo is None:
        raise StateError(f"{key!r} must carry a UTC offset: {value!r}")
    return moment


def _opt_str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise StateError(f"{key!r} must be a string or null, got {value!r}")
    return value


def _history(value: Any) -> tuple[HistoryEntry, ...]:
    if not isinstance(value, list):
        raise StateError("'history' must be a list")
    entries: list[HistoryEntry] = []
    for index, item in enumerate(value):
        where = f"history[{index}]"
        if not isinstance(item, dict) or set(item) != _HISTORY_KEYS:
            raise StateError(f"{where} must be an object with fields {', '.join(sorted(_HISTORY_KEYS))}")
        for text_key in ("reason", "trigger"):
            if not isinstance(item[text_key], str):
                raise StateError(f"{where}.{text_key} must be a string")
        operator = item["operator"]
        if operator is not None and not isinstance(operator, str):
            raise StateError(f"{where}.operator must be a string or null")
        entries.append(
            HistoryEntry(
                version=_int(item, "version", 1, None),
                at=_parse_time(item["at"], f"{where}.at"),
                from_phase=_phase(item["from"], f"{where}.from"),
                to_phase=_phase(item["to"], f"{where}.to"),
                reason=item["reason"],
                trigger=item["trigger"],
                operator=operator,
                weights=_weights(item["weights"], f"{where}.weights"),
            )
        )
    return tuple(entries)
