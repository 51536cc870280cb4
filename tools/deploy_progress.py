"""Terraform's machine-readable UI (`-json`) stream -> short progress lines for a person watching a deploy.

`ProgressRenderer.feed(line)` takes one line of `terraform init|apply|destroy -json` output and returns the
lines to print (zero or more); `heartbeat(idle_s)` says what is going on when nothing arrived for a while.
It holds the counts and the diagnostics and does no I/O, so it is tested over recorded streams
(tests/unit/fixtures/); `tools.deploy` runs Terraform, writes every raw line to the log file and prints
what this returns.

Message schema: Terraform's "Machine-readable UI" reference (`ui` version 1.x): every line is a JSON object
with `type`, `@level`, `@message`; resource hooks (`apply_start`, `apply_progress`, `apply_complete`,
`apply_errored`) carry `hook.resource.addr`, `hook.action` and, except on start, `hook.elapsed_seconds`;
`planned_change` carries `change.resource.addr` and `change.action`; `change_summary` carries
`changes.{add,change,import,remove,operation}`; `diagnostic` carries `diagnostic.{severity,summary,detail,
address,range,snippet}`. Terraform sends `apply_progress` every 10 s for each resource still in flight.

    [ 12/89] aws_dms_replication_task.main: creating…
    [ 13/89] aws_dms_replication_task.main: created (41s)
             aws_rds_cluster.aurora: still creating (1m10s)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Terraform's change actions (planned_change.change.action / hook.action) -> (progressive, past) verbs.
VERBS = {
    "create": ("creating", "created"),
    "update": ("updating", "updated"),
    "delete": ("destroying", "destroyed"),
    "read": ("reading", "read"),
    "noop": ("checking", "unchanged"),
}
# Planned actions not counted in the total: they change nothing (data sources read at apply time are
# counted as reads, like those read while planning), so the total matches Terraform's "Plan:" line.
NO_APPLY = frozenset({"noop", "move", "remove", "import", "read"})
# A replace is two hooks on the same address (delete + create, in either order).
HOOKS_PER_ACTION = {"replace": 2}
MAX_DETAIL_LINES = 12
RAW_TAIL = 20


def elapsed(seconds: float) -> str:
    """41 -> '41s', 70 -> '1m10s', 3725 -> '1h2m5s'."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""
    address: str = ""
    where: str = ""  # file:line from the diagnostic's range, when there is one

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Diagnostic:
        diag = message.get("diagnostic") or {}
        where = ""
        source = diag.get("range")
        if isinstance(source, dict) and source.get("filename"):
            where = f"{source['filename']} line {(source.get('start') or {}).get('line', '?')}"
        return cls(
            severity=str(diag.get("severity") or message.get("@level") or "error"),
            summary=str(diag.get("summary") or message.get("@message") or ""),
            detail=str(diag.get("detail") or ""),
            address=str(diag.get("address") or ""),
            where=where,
        )

    def block(self) -> list[str]:
        """Terraform's own shape: `Error: summary`, where, then the detail (long details cut, the log has all)."""
        lines = [f"{self.severity.capitalize()}: {self.summary}"]
        if self.address:
            lines.append(f"  with {self.address}")
        if self.where:
            lines.append(f"  on {self.where}")
        detail = [line.rstrip() for line in self.detail.strip().splitlines()]
        if len(detail) > MAX_DETAIL_LINES:
            detail = [*detail[:MAX_DETAIL_LINES], f"(… {len(detail) - MAX_DETAIL_LINES} more lines in the log)"]
        if detail:
            lines.append("")
            lines.extend(f"  {line}" if line else "" for line in detail)
        return lines


@dataclass
class ProgressRenderer:
    """State over one Terraform run's `-json` stream; `feed` returns the lines to show for each message."""

    planned: dict[str, int] = field(default_factory=dict)  # address -> hooks still expected
    done: int = 0
    failed: list[str] = field(default_factory=list)
    in_flight: dict[str, tuple[str, int]] = field(default_factory=dict)  # address -> (action, last elapsed_s)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    raw_tail: list[str] = field(default_factory=list)  # the last lines that were not JSON (stderr, panics)
    raw_keep: int = RAW_TAIL  # how many of them to keep (a plain-text plan keeps all of its diff)
    summary: str = ""
    phase: str = "running"
    reads: int = 0  # data sources and refreshed resources seen while planning

    @property
    def total(self) -> int:
        return len(self.planned)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def _counter(self) -> str:
        width = len(str(self.total)) if self.total else 1
        return f"[{self.done:>{width}}/{self.total}]"

    def _indent(self) -> str:
        return " " * (len(self._counter()) + 1)

    def feed(self, line: str) -> list[str]:
        text = line.rstrip("\r\n")
        if not text.strip():
            return []
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict) or "type" not in message:
            self.raw_tail = [*self.raw_tail[-(self.raw_keep - 1) :], text]
            return []
        return self._message(message)

    def _message(self, message: dict[str, Any]) -> list[str]:
        kind = str(message["type"])
        if kind in ("apply_start", "apply_progress", "apply_complete", "apply_errored"):
            return self._hook(kind, message.get("hook") or {})
        handler = {
            "planned_change": self._planned_change,
            "refresh_start": self._refresh,
            "refresh_complete": self._refresh,
            "change_summary": self._change_summary,
            "diagnostic": self._diagnostic,
            "init_output": self._init_output,
        }.get(kind)
        # Anything else (version, log, outputs, resource_drift, newer types) is in the log only.
        return handler(message) if handler else []

    def _planned_change(self, message: dict[str, Any]) -> list[str]:
        change = message.get("change") or {}
        action = str(change.get("action") or "")
        if action not in NO_APPLY:
            self.planned[_addr(change)] = HOOKS_PER_ACTION.get(action, 1)
        self.phase = "planning"
        return []

    def _refresh(self, message: dict[str, Any]) -> list[str]:
        self.phase = "refreshing state"
        self.reads += message["type"] == "refresh_complete"
        return []

    def _diagnostic(self, message: dict[str, Any]) -> list[str]:
        diagnostic = Diagnostic.from_message(message)
        self.diagnostics.append(diagnostic)
        if diagnostic.severity == "error":
            return ["", *diagnostic.block(), ""]
        where = f" ({diagnostic.address})" if diagnostic.address else ""
        return [f"{diagnostic.severity}: {diagnostic.summary}{where}"]

    def _init_output(self, message: dict[str, Any]) -> list[str]:
        self.phase = "initialising"
        return [f"init: {message.get('@message', '')}"]

    def _change_summary(self, message: dict[str, Any]) -> list[str]:
        changes = message.get("changes") or {}
        text = str(message.get("@message") or "")
        if changes.get("operation") == "plan":
            self.phase = "applying" if self.total else "planned"
            return [text]
        self.summary = text
        self.phase = "finished"
        return [text]

    def _hook(self, kind: str, hook: dict[str, Any]) -> list[str]:
        addr = _addr(hook)
        action = str(hook.get("action") or "")
        progressive, past = VERBS.get(action, (action, action))
        seconds = int(hook.get("elapsed_seconds") or 0)
        if addr not in self.planned and addr not in self.in_flight and kind != "apply_errored":
            # Data sources read while planning come as apply_* hooks too: counted, not listed.
            self.phase = "planning" if self.phase == "running" else self.phase
            self.reads += kind == "apply_complete"
            return []
        if kind == "apply_start":
            self.phase = "applying"
            self.in_flight[addr] = (action, 0)
            return [f"{self._counter()} {addr}: {progressive}…"]
        if kind == "apply_progress":
            self.in_flight[addr] = (action, seconds)
            return [f"{self._indent()}{addr}: still {progressive} ({elapsed(seconds)})"]
        self.in_flight.pop(addr, None)
        if kind == "apply_errored":
            self.failed.append(addr)
            return [f"{self._counter()} {addr}: FAILED {progressive} after {elapsed(seconds)}"]
        remaining = self.planned.get(addr, 1) - 1
        self.planned[addr] = remaining
        if remaining <= 0:
            self.done += 1
        return [f"{self._counter()} {addr}: {past} ({elapsed(seconds)})"]

    def heartbeat(self, elapsed_s: float, step: str = "terraform") -> list[str]:
        """What to print when nothing was printed for a while: the step, its phase, what is in flight, its age."""
        if self.in_flight:
            # The one in flight longest (by Terraform's last tick) and how many more: one short line.
            oldest = max(self.in_flight, key=lambda addr: self.in_flight[addr][1])
            more = f" +{len(self.in_flight) - 1} more" if len(self.in_flight) > 1 else ""
            return [f"{self._indent()}… {step}: {len(self.in_flight)} in flight ({oldest}{more}) [{elapsed(elapsed_s)}]"]
        counts = f", {self.done}/{self.total} done" if self.total else ""
        reads = f", {self.reads} read or refreshed" if self.reads else ""
        return [f"{self._indent()}… {step}: {self.phase}{counts}{reads} [{elapsed(elapsed_s)}]"]

    def failure_report(self) -> list[str]:
        """The last error block (or, without one, the last raw output lines), for the end of a failed run."""
        errors = self.errors
        if len(errors) > 1:
            return [f"{len(errors)} errors (all shown above and in the log); the last one:", *errors[-1].block()]
        if errors:
            return errors[-1].block()
        return list(self.raw_tail) or ["(terraform printed no diagnostic)"]


def _addr(container: dict[str, Any]) -> str:
    resource = container.get("resource") or {}
    return str(resource.get("addr") or "?")
