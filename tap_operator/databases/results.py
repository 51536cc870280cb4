"""What the fence, the drain marker and the sequence sync prove, as frozen values.

Each has `ok`, a one-paragraph human `summary` and a JSON-able `to_dict()`. None of them holds a
credential: endpoints appear as their label (engine://user@host:port/database), never with a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .refusals import refusal_kind


@dataclass(frozen=True)
class Session:
    """A database session the fence ended."""

    id: int
    user: str
    application: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "user": self.user, "application": self.application}


@dataclass(frozen=True)
class PreparedTransaction:
    """A transaction prepared for two-phase commit: it commits later, read-only or not, unless it is resolved first."""

    gid: str
    owner: str
    database: str
    prepared_at: str  # ISO-8601, or "" where the server does not say (MySQL/MariaDB XA RECOVER)
    age_seconds: int | None

    @property
    def description(self) -> str:
        age = "age unknown" if self.age_seconds is None else f"prepared {self.age_seconds}s ago"
        owner, database = self.owner or "unknown", self.database or "unknown"
        return f"prepared transaction {self.gid!r} (owner {owner}, database {database}, {age})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "gid": self.gid,
            "owner": self.owner,
            "database": self.database,
            "prepared_at": self.prepared_at,
            "age_seconds": self.age_seconds,
        }


@dataclass(frozen=True)
class Refusal:
    """One reason the fence (or the marker, drain or sequence step after it) refuses to let the writer move.

    `kind` is a key of refusals.FENCE_REFUSALS, which names the preflight check that announces it.
    """

    kind: str
    subject: str
    detail: str
    fix: str

    def __post_init__(self) -> None:
        refusal_kind(self.kind)

    @property
    def text(self) -> str:
        return f"{self.detail}; fix: {self.fix}" if self.fix else self.detail

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "subject": self.subject, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class FenceProof:
    ok: bool
    summary: str
    source: str  # endpoint label
    read_only: str  # the setting that fences writers, as found after fencing
    changed: bool  # False in already_read_only mode: we only proved
    terminated: tuple[Session, ...]
    proof_user: str
    proof_result: str  # what the proof write got back (the read-only error, or why the proof failed)
    escapes: tuple[str, ...]  # roles / accounts that can still write despite the fence
    prepared: tuple[PreparedTransaction, ...] = ()  # pending two-phase transactions found after the sessions ended
    refusals: tuple[Refusal, ...] = ()  # why ok is False, each of a registered kind

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary,
            "source": self.source,
            "read_only": self.read_only,
            "changed": self.changed,
            "terminated": [session.to_dict() for session in self.terminated],
            "proof_user": self.proof_user,
            "proof_result": self.proof_result,
            "escapes": list(self.escapes),
            "prepared": [transaction.to_dict() for transaction in self.prepared],
            "refusals": [refusal.to_dict() for refusal in self.refusals],
        }


@dataclass(frozen=True)
class Marker:
    """The drain marker row written on the fenced source."""

    id: str
    written_at: datetime
    schema: str
    table: str
    source: str  # endpoint label
    position: str  # PostgreSQL WAL LSN or MySQL binlog file:position right after the marker committed

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def summary(self) -> str:
        return (
            f"marker {self.id} written to {self.qualified_table} on {self.source} at {self.written_at.isoformat()} "
            f"(source position {self.position})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "written_at": self.written_at.isoformat(),
            "table": self.qualified_table,
            "source": self.source,
            "position": self.position,
        }


@dataclass(frozen=True)
class DrainProof:
    ok: bool
    summary: str
    marker_id: str
    target: str  # endpoint label
    waited_seconds: float
    polls: int
    refusal: str | None = None  # a refusal kind when not ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary,
            "marker_id": self.marker_id,
            "target": self.target,
            "waited_seconds": round(self.waited_seconds, 3),
            "polls": self.polls,
            "refusal": self.refusal,
        }


@dataclass(frozen=True)
class SequenceRow:
    """One sequence (PostgreSQL) or AUTO_INCREMENT table (MySQL/MariaDB); values are the NEXT value each would hand out.

    `name` is the (schema, object) pair quoted for display; `schema` and `object_name` are the pair itself.
    """

    name: str
    source: int | None
    target_before: int | None
    target_after: int | None
    ok: bool
    note: str = ""
    schema: str = ""
    object_name: str = ""
    refusal: str | None = None  # a refusal kind (refusals.py) when the sync cannot make it safe
    gap: int | None = None  # the gap the sync aims for (smaller than asked near the target's limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "schema": self.schema,
            "object_name": self.object_name,
            "source": self.source,
            "target_before": self.target_before,
            "target_after": self.target_after,
            "ok": self.ok,
            "note": self.note,
            "refusal": self.refusal,
            "gap": self.gap,
        }


@dataclass(frozen=True)
class SequenceReport:
    ok: bool
    summary: str
    synced: bool  # False: only compared (--check)
    gap: int
    rows: tuple[SequenceRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary,
            "synced": self.synced,
            "gap": self.gap,
            "rows": [row.to_dict() for row in self.rows],
        }
