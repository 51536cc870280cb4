"""``./cutover history``: every stored version of the cutover state, from SSM's parameter history.

Each PutParameter of the state is a version SSM keeps (the newest 100). A version's state names its
phase and weights, who wrote it (``updated_by``: the STS caller ARN the engine recorded) and, as its
newest history entry, what happened and why. Operator notes (``./cutover note``) are versions too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from tap_cutover.ports import AwsError, aws_call
from tap_cutover.state import HistoryEntry, State, StateError

# GetParameterHistory answers at most 50 versions a page; SSM keeps 100, so a few pages is all there is.
PAGE_SIZE = 50
MAX_PAGES = 20
NOTE_TRIGGER = "operator:note"
_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
SINCE_HELP = "an ISO-8601 time (2030-01-01T12:00:00Z; without an offset it is UTC) or a duration ago (90s, 30m, 2h, 7d, 1w)"


class HistoryError(Exception):
    """A bad --since, or the history could not be read; nothing was changed either way."""


@dataclass(frozen=True)
class Version:
    """One stored version of the state parameter, as the operator reads it."""

    ssm_version: int
    at: datetime | None  # when SSM stored it
    ssm_user: str | None  # SSM's own LastModifiedUser (the emulator says "N/A")
    state: State | None
    error: str | None = None  # the stored text is not a valid state (hand-edited, or an older format)

    @property
    def note(self) -> bool:
        entry = self._entry()
        return entry is not None and entry.trigger == NOTE_TRIGGER

    def _entry(self) -> HistoryEntry | None:
        """The history entry this version added (absent for the seed Terraform wrote)."""
        state = self.state
        if state is None or not state.history or state.history[-1].version != state.version:
            return None
        return state.history[-1]

    @property
    def who(self) -> str | None:
        """The caller ARN the engine recorded; for versions written before it did, SSM's LastModifiedUser."""
        if self.state is not None and self.state.updated_by:
            return self.state.updated_by
        return self.ssm_user if self.ssm_user not in (None, "", "N/A") else None

    def to_dict(self) -> dict[str, Any]:
        state, entry = self.state, self._entry()
        return {
            "version": state.version if state else None,
            "ssm_version": self.ssm_version,
            "at": self.at.isoformat() if self.at else None,
            "phase": state.phase.value if state else None,
            "paused_from": state.paused_from.value if state and state.paused_from else None,
            "from": entry.from_phase.value if entry else None,
            "weights": state.weights.to_dict() if state else None,
            "who": self.who,
            "updated_by": state.updated_by if state else None,
            "ssm_user": self.ssm_user,
            "operator": entry.operator if entry else None,
            "trigger": entry.trigger if entry else None,
            "reason": entry.reason if entry else ("initial state" if state is not None else None),
            "note": self.note,
            "error": self.error,
        }


def parse_since(text: str, now: datetime) -> datetime:
    """``--since``: an ISO-8601 time or a duration before ``now``; anything else is a HistoryError naming the fix."""
    relative = _RELATIVE.match(text)
    if relative:
        return (now - timedelta(seconds=int(relative.group(1)) * _UNIT_SECONDS[relative.group(2)])).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise HistoryError(f"--since {text!r} is neither {SINCE_HELP}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _pages(client: Any, name: str) -> Iterator[Mapping[str, Any]]:
    fetched = iter(client.get_paginator("get_parameter_history").paginate(Name=name, PaginationConfig={"PageSize": PAGE_SIZE}))
    for _ in range(MAX_PAGES):
        with aws_call("ssm", "GetParameterHistory"):
            page = next(fetched, None)
        if page is None:
            return
        yield page
    raise AwsError("ssm", "GetParameterHistory", "TooManyPages", f"more than {MAX_PAGES} pages of history")


def read_versions(client: Any, name: str) -> list[Version]:
    """Every stored version of ``name``, oldest first, all pages (botocore's paginator follows NextToken)."""
    versions: list[Version] = []
    for page in _pages(client, name):
        for param in page.get("Parameters", []):
            modified = param.get("LastModifiedDate")
            state: State | None = None
            error: str | None = None
            try:
                state = State.parse(str(param.get("Value", "")))
            except StateError as err:
                error = str(err)
            versions.append(
                Version(
                    ssm_version=int(param.get("Version", 0)),
                    at=modified.astimezone(UTC) if isinstance(modified, datetime) else None,
                    ssm_user=param.get("LastModifiedUser"),
                    state=state,
                    error=error,
                )
            )
    return sorted(versions, key=lambda v: v.ssm_version)


def since_filter(versions: list[Version], since: datetime | None) -> list[Version]:
    if since is None:
        return versions
    return [v for v in versions if v.at is not None and v.at >= since]


def render(versions: list[Version], out: TextIO, *, since: datetime | None = None) -> None:
    """Three lines a version: what and when, who, why. Notes are marked."""
    window = f" since {since.isoformat()}" if since else ""
    if not versions:
        out.write(f"no state versions{window}\n")
        return
    notes = sum(1 for v in versions if v.note)
    out.write(f"{len(versions)} state version(s){window}, {notes} operator note(s); oldest first (SSM keeps the newest 100)\n")
    for version in versions:
        row = version.to_dict()
        at = version.at.strftime("%Y-%m-%d %H:%M:%SZ") if version.at else "time unknown"
        if version.state is None:
            out.write(f"  ssm v{version.ssm_version:<4} {at}  UNREADABLE: {version.error}\n")
            continue
        weights = row["weights"]
        moved = f"{row['from']} -> {row['phase']}" if row["from"] and row["from"] != row["phase"] else row["phase"]
        paused = f" (from {row['paused_from']})" if row["paused_from"] else ""
        kind = "NOTE " if version.note else ""
        out.write(f"v{row['version']:<4} {at}  {kind}{moved}{paused}  reader {weights['reader']}% writer {weights['writer']}%\n")
        actor = f"operator {row['operator']}, " if row["operator"] else ""
        trigger = f"{actor}{row['trigger']}" if row["trigger"] else "seeded by Terraform"
        out.write(f"      by {version.who or '(not recorded)'} ({trigger})\n")
        out.write(f"      {row['reason']}\n")
