"""The rehearsal's numbers, from the client's log and the cutover's own evidence; a JSON object and a human summary."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from tools.rehearsal.workload import WriteRecord

CUTOVER_PHASES = ("replicating", "reads_shifting", "write_fence", "writer_flipped", "completed", "paused", "rolled_back")


def write_gaps(records: Sequence[WriteRecord], before: str, after: str) -> dict[int, float]:
    """Per writer thread: seconds between its last acknowledged write on `before` and its first on `after` that followed."""
    by_thread: defaultdict[int, list[WriteRecord]] = defaultdict(list)
    for record in records:
        if record.outcome == "acknowledged":
            by_thread[record.thread].append(record)
    gaps: dict[int, float] = {}
    for thread, own in by_thread.items():
        own.sort(key=lambda r: r.at)
        for previous, current in itertools.pairwise(own):
            if previous.database == before and current.database == after:
                gaps[thread] = max(gaps.get(thread, 0.0), current.at - previous.at)
    return gaps


def longest_pause(records: Sequence[WriteRecord]) -> float | None:
    """The longest time any writer thread went without an acknowledged write, wherever they went."""
    by_thread: defaultdict[int, list[float]] = defaultdict(list)
    for record in records:
        if record.outcome == "acknowledged":
            by_thread[record.thread].append(record.at)
    pauses = [b - a for times in by_thread.values() for a, b in itertools.pairwise(sorted(times))]
    return round(max(pauses), 3) if pauses else None


def longest_gap(records: Sequence[WriteRecord], before: str, after: str) -> float | None:
    gaps = write_gaps(records, before, after)
    return round(max(gaps.values()), 3) if gaps else None


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def phase_durations(transitions: Iterable[Mapping[str, Any]], ended_at: datetime) -> dict[str, float]:
    """Seconds spent in each cutover phase, from the transitions the rehearsal saw (tick and CLI results)."""
    ordered = sorted(
        ({"at": datetime.fromisoformat(str(t["at"])), "from": t["from"], "to": t["to"]} for t in transitions),
        key=lambda t: t["at"],
    )
    spent: defaultdict[str, float] = defaultdict(float)
    ends = [following["at"] for following in ordered[1:]] + [ended_at]
    for current, end in zip(ordered, ends[: len(ordered)], strict=True):
        spent[str(current["to"])] += max(0.0, (end - current["at"]).total_seconds())
    return {phase: round(spent[phase], 3) for phase in CUTOVER_PHASES if phase in spent}


def human_summary(report: Mapping[str, Any]) -> str:
    lines = [
        f"tap-migrate rehearsal ({report['mode']}): {'PASSED' if report['passed'] else 'FAILED'} (expected: {report['outcome']})",
        "",
        "What ran: two PostgreSQL 15 clusters on 127.0.0.1; native logical replication (publication/subscription) stood in",
        "for AWS DMS and its measured lag was published as the task's CDCLatencySource/CDCLatencyTarget in the emulator;",
        "the deployed cutover engine ran in-process; the operator CLI fenced, drained by marker, synced sequences, flipped.",
        "",
        "Names -> clusters:",
        *(f"  {line}" for line in report["name_table"]),
        "",
        f"writes acknowledged {report['writes_acknowledged']}, lost {report['writes_lost']}, duplicated "
        f"{report['writes_duplicated']}, in doubt {report['writes_in_doubt']} "
        f"(applied {report['in_doubt_applied']}, not applied {report['in_doubt_not_applied']})",
        f"writes refused while fenced/moving (client-visible errors): {report['writes_refused']}",
        f"duplicate-key errors on the target after the flip: {report['duplicate_keys_after_flip']}",
        f"write unavailable (longest gap source -> target over writer threads): {_s(report['write_unavailable_s'])}; "
        f"longest pause of any writer: {_s(report['longest_write_pause_s'])}",
        f"drain (fence proven -> marker on target): {_s(report['drain_s'])}; sequence sync: {_s(report['sequence_sync_s'])}",
        "phases: " + ", ".join(f"{phase} {seconds:.1f}s" for phase, seconds in report["phases"].items()),
        "setup: " + ", ".join(f"{step} {seconds:.1f}s" for step, seconds in report["setup_s"].items()),
    ]
    if report.get("rollback"):
        rollback = report["rollback"]
        lines.append(
            f"rollback: writes acknowledged on the target {rollback['writes_acknowledged']}, lost {rollback['writes_lost']}, "
            f"duplicated {rollback['writes_duplicated']}, in doubt {rollback['writes_in_doubt']}; write unavailable "
            f"{_s(rollback['write_unavailable_s'])}; reverse drain {_s(rollback['drain_s'])}"
        )
    proof = report.get("compare_before_fence")
    if proof:
        lines.append(f"compare before the fence (./cutover compare --record, {proof['seconds']}s): {proof['summary']}")
    lines += ["", "at the fence (target equals the fenced source up to the marker):", *report["table_lines"], "", "checks:"]
    lines += [f"  [{'ok' if ok else 'FAIL'}] {name}" for name, ok in report["checks"].items()]
    if report.get("problems"):
        lines += ["", "problems:", *(f"  - {problem}" for problem in report["problems"])]
    return "\n".join(lines)


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}s"
