"""What the fence, the drain marker and the sequence sync prove, as frozen values.

Each has `ok`, a one-paragraph human `summary` and a JSON-able `to_dict()`. None of them holds a
credential: endpoints appear as their label (engine://user@host:port/database), never with a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Session:
    """A database session the fence ended."""

    id: int
    user: str
    application: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "user": self.user, "application": self.application}


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary,
            "marker_id": self.marker_id,
            "target": self.target,
            "waited_seconds": round(self.waited_seconds, 3),
            "polls": self.polls,
        }


@dataclass(frozen=True)
class SequenceRow:
    """One sequence (PostgreSQL) or AUTO_INCREMENT table (MySQL/MariaDB); values are the NEXT value each would hand out."""

    name: str
    source: int | None
    target_before: int | None
    target_after: int | None
    ok: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "target_before": self.target_before,
            "target_after": self.target_after,
            "ok": self.ok,
            "note": self.note,
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
