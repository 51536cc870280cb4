"""The preflight's vocabulary: a Check per finding, and the options the checks read from the configuration."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import EndpointError

Verdict = Literal["ok", "warn", "block"]
VERDICTS: tuple[Verdict, ...] = ("ok", "warn", "block")
MARKER_TABLE = "tap_migrate_cutover_marker"
DEFAULT_MARKER_SCHEMA = "public"  # PostgreSQL; on MySQL/MariaDB the marker lives in the source database
DEFAULT_LONG_TRANSACTION_SECONDS = 300
# DMS limited LOB mode caps LobMaxSize at 100 MB (102400 KB).
_MAX_LOB_KB = 102400


@dataclass(frozen=True)
class Check:
    name: str  # what was checked, e.g. "wal_level"
    subject: str  # where: "source", "target", or a table / column / role
    verdict: Verdict
    value: str  # what was found
    fix: str  # what to do about it ("" when ok)

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "subject": self.subject, "verdict": self.verdict, "value": self.value, "fix": self.fix}


def ok(name: str, subject: str, value: str) -> Check:
    return Check(name, subject, "ok", value, "")


def warn(name: str, subject: str, value: str, fix: str) -> Check:
    return Check(name, subject, "warn", value, fix)


def block(name: str, subject: str, value: str, fix: str) -> Check:
    return Check(name, subject, "block", value, fix)


def worst(checks: Iterable[Check]) -> Verdict:
    found = {check.verdict for check in checks}
    return "block" if "block" in found else "warn" if "warn" in found else "ok"


@dataclass(frozen=True)
class TaskSettings:
    """The parts of a DMS task's settings JSON the preflight and the drain proof depend on."""

    support_lobs: bool = True
    full_lob_mode: bool = False
    limited_size_lob_mode: bool = True
    lob_max_size_kb: int = 32
    target_table_prep_mode: str = "DO_NOTHING"
    batch_apply_enabled: bool = False
    parallel_apply_threads: int = 0

    @property
    def truncates_lobs(self) -> bool:
        """Limited LOB mode silently truncates every LOB value above LobMaxSize."""
        return self.support_lobs and not self.full_lob_mode and self.limited_size_lob_mode

    @classmethod
    def from_json(cls, text: str) -> TaskSettings:
        try:
            raw: Any = json.loads(text) if text.strip() else {}
        except ValueError as error:
            raise EndpointError(f"task settings: not valid JSON ({error}); fix the settings file") from None
        if not isinstance(raw, dict):
            raise EndpointError("task settings: must be a JSON object; fix the settings file")
        target: Mapping[str, Any] = raw.get("TargetMetadata") or {}
        full_load: Mapping[str, Any] = raw.get("FullLoadSettings") or {}
        defaults = cls()
        lob_max = target.get("LobMaxSize", defaults.lob_max_size_kb)
        if not isinstance(lob_max, int) or isinstance(lob_max, bool) or not 0 <= lob_max <= _MAX_LOB_KB:
            raise EndpointError(f"task settings: TargetMetadata.LobMaxSize must be 0..{_MAX_LOB_KB} (KB), got {lob_max!r}")
        threads = target.get("ParallelApplyThreads", 0)
        return cls(
            support_lobs=bool(target.get("SupportLobs", defaults.support_lobs)),
            full_lob_mode=bool(target.get("FullLobMode", defaults.full_lob_mode)),
            limited_size_lob_mode=bool(target.get("LimitedSizeLobMode", defaults.limited_size_lob_mode)),
            lob_max_size_kb=lob_max,
            target_table_prep_mode=str(full_load.get("TargetTablePrepMode", defaults.target_table_prep_mode)),
            batch_apply_enabled=bool(target.get("BatchApplyEnabled", defaults.batch_apply_enabled)),
            parallel_apply_threads=threads if isinstance(threads, int) else 0,
        )


@dataclass(frozen=True)
class PreflightOptions:
    task: TaskSettings = TaskSettings()
    ssl_mode: str = "require"  # the DMS source endpoint's: none | require | verify-ca | verify-full
    task_count: int = 1  # DMS tasks reading this source (each holds a replication slot / binlog reader)
    long_transaction_seconds: int = DEFAULT_LONG_TRANSACTION_SECONDS
    marker_schema: str = DEFAULT_MARKER_SCHEMA  # PostgreSQL only


def task_checks(settings: TaskSettings) -> list[Check]:
    """Task settings the drain marker's proof relies on (see docs/preflight.md, "Why the marker proves the drain")."""
    checks: list[Check] = []
    if settings.batch_apply_enabled:
        checks.append(
            block(
                "batch apply",
                "task settings",
                "TargetMetadata.BatchApplyEnabled = true",
                "set TargetMetadata.BatchApplyEnabled to false: batch apply groups changes per table, so the marker "
                "can reach the target before earlier commits and the drain proof would lie",
            )
        )
    else:
        checks.append(ok("batch apply", "task settings", "BatchApplyEnabled = false (transactional apply, commit order)"))
    if settings.parallel_apply_threads > 0:
        checks.append(
            block(
                "parallel apply",
                "task settings",
                f"TargetMetadata.ParallelApplyThreads = {settings.parallel_apply_threads}",
                "set TargetMetadata.ParallelApplyThreads to 0: parallel apply threads commit out of source order",
            )
        )
    else:
        checks.append(ok("parallel apply", "task settings", "ParallelApplyThreads = 0"))
    return checks


def human_bytes(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"
