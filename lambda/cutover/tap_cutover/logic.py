"""Pure cutover decisions: (settings, state, observation, trigger, now) -> decision.

Nothing here performs I/O or imports an AWS SDK. The engine (``engine.py``) fetches the
observation, calls ``decide`` and applies whatever it returns under the lock.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from .settings import LATENCY_GRACE_PERIODS, Settings
from .state import HISTORY_MAX_ENTRIES, PAUSABLE, HistoryEntry, Phase, State, Weights

GATE_DMS = "dms_task"
GATE_LATENCY_SOURCE = "cdc_latency_source"
GATE_LATENCY_TARGET = "cdc_latency_target"
GATE_ALARMS = "alarms"
GATE_CLUSTER = "aurora_cluster"
# Not a live gate: the check that every period of an ending hold was judged (see hold_coverage).
GATE_HOLD = "hold_periods"
# The writer flip replaces the two latency gates with the (stricter) drain condition.
_FLIP_GATES = frozenset({GATE_DMS, GATE_ALARMS, GATE_CLUSTER})

PairName = Literal["reader", "writer"]
Severity = Literal["info", "alert"]


class Action(StrEnum):
    ADVANCE = "advance"
    PAUSE = "pause"
    RESUME = "resume"
    ROLLBACK = "rollback"
    FENCE = "fence"
    STATUS = "status"


# ---------------------------------------------------------------- triggers


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


def _operator_of(trigger: Trigger) -> str | None:
    return trigger.operator if isinstance(trigger, OperatorCommand | RecordEvidence | FlipWriter | RecordNote) else None


def needs_observation(trigger: Trigger) -> bool:
    """Pause, rollback and fence must work even when CloudWatch or DMS cannot be read."""
    if isinstance(trigger, OperatorCommand):
        return trigger.action in (Action.ADVANCE, Action.RESUME, Action.STATUS)
    return not isinstance(trigger, RecordEvidence | RecordNote)


# ---------------------------------------------------------------- observation


@dataclass(frozen=True)
class Datapoint:
    at: datetime  # start of the CloudWatch period
    value: float


@dataclass(frozen=True)
class TaskObservation:
    found: bool
    status: str = ""
    migration_type: str = ""
    full_load_percent: int | None = None
    full_load_finished: bool = False
    tables_errored: int = 0
    # DMS Serverless only: tables whose row validation found failed or suspended records. None: not read
    # here, because a task's validation metrics raise health alarms that the alarms gate already reads.
    tables_failing_validation: int | None = None
    serverless: bool = False


@dataclass(frozen=True)
class Observation:
    task: TaskObservation
    latency_source: tuple[Datapoint, ...]
    latency_target: tuple[Datapoint, ...]
    alarms_in_alarm: tuple[str, ...]
    cluster_status: str | None  # None: the cluster does not exist
    # The reverse (Aurora -> source) task or replication, when the Lambda is configured with one.
    reverse_task: TaskObservation | None = None


@dataclass(frozen=True)
class GateResult:
    name: str
    green: bool
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "green": self.green, "value": self.value}


@dataclass(frozen=True)
class GateReport:
    results: tuple[GateResult, ...]

    @property
    def green(self) -> bool:
        return all(result.green for result in self.results)

    def red(self, names: frozenset[str] | None = None) -> tuple[GateResult, ...]:
        return tuple(r for r in self.results if not r.green and (names is None or r.name in names))

    def summary(self, names: frozenset[str] | None = None) -> str:
        return "; ".join(f"{r.name}: {r.value}" for r in self.red(names))

    def to_list(self) -> list[dict[str, Any]]:
        return [result.to_dict() for result in self.results]


def align(moment: datetime, period_seconds: int) -> datetime:
    """Start of the period containing ``moment`` (periods aligned to the Unix epoch)."""
    seconds = math.floor(moment.timestamp() / period_seconds) * period_seconds
    return datetime.fromtimestamp(seconds, tz=UTC)


def latency_window(settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) covering the newest complete periods the latency gates may use."""
    end = align(now, settings.metric_period_seconds)
    span = (settings.latency_periods + LATENCY_GRACE_PERIODS) * settings.metric_period_seconds
    return end - timedelta(seconds=span), end


# How far before the hold's longest possible span the metrics are fetched: ticks may be late or
# missing for a while, and the step that ends a hold judges every period since the last judged one.
HOLD_FETCH_SLACK_SECONDS = 3600


def fetch_window(settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the latency datapoints to fetch: the gate's window plus a whole hold and some slack."""
    start, end = latency_window(settings, now)
    return start - timedelta(seconds=settings.step_hold_seconds + HOLD_FETCH_SLACK_SECONDS), end


def _by_period(points: tuple[Datapoint, ...], start: datetime, end: datetime) -> dict[datetime, float]:
    """One value per period in [start, end): the worse of duplicates, NaN/inf as +inf (never green)."""
    values: dict[datetime, float] = {}
    for point in points:
        if start <= point.at < end:
            value = point.value if math.isfinite(point.value) else math.inf
            previous = values.get(point.at)
            values[point.at] = value if previous is None else max(previous, value)
    return values


def judged_until(settings: Settings, obs: Observation, now: datetime) -> datetime | None:
    """End of the newest period for which BOTH latency series have data (what a green decision judged)."""
    start, end = latency_window(settings, now)
    period = timedelta(seconds=settings.metric_period_seconds)
    newest: list[datetime] = []
    for points in (obs.latency_source, obs.latency_target):
        periods = _by_period(points, start, end)
        if not periods:
            return None
        newest.append(max(periods) + period)
    return min(newest)


def hold_coverage(settings: Settings, obs: Observation, since: datetime, now: datetime) -> GateResult:
    """Every complete period from ``since`` to the newest datapoint has data and is within the threshold.

    The latency gates look at the last N periods before *now*; when CloudWatch publishes late at
    one tick and on time at the next, the windows of the two ticks need not overlap. The decision
    that ends a hold therefore re-judges every period since the last judged one.
    """
    period = timedelta(seconds=settings.metric_period_seconds)
    fetched_from, end = fetch_window(settings, now)
    since = align(since, settings.metric_period_seconds)
    if since < fetched_from:
        return GateResult(
            GATE_HOLD,
            False,
            f"periods since {since.isoformat()} are older than the fetched window ({fetched_from.isoformat()}): "
            "the hold cannot be judged (missing = red); 'resume' starts a new hold",
        )
    threshold = settings.latency_threshold_seconds
    worst = -math.inf
    checked = 0
    for name, points in ((GATE_LATENCY_SOURCE, obs.latency_source), (GATE_LATENCY_TARGET, obs.latency_target)):
        values = _by_period(points, fetched_from, end)
        if not values:
            return GateResult(GATE_HOLD, False, f"{name}: no datapoints during the hold (missing = red)")
        newest = max(values)
        at = since
        while at <= newest:
            value = values.get(at)
            if value is None:
                missing = f"{name}: no datapoint for the period {at.isoformat()} in the hold (missing = red)"
                return GateResult(GATE_HOLD, False, missing)
            if value > threshold:
                return GateResult(
                    GATE_HOLD, False, f"{name}: {value:g}s > {threshold:g}s in the period {at.isoformat()} during the hold"
                )
            worst = max(worst, value)
            checked += 1
            at += period
    if not checked:
        return GateResult(GATE_HOLD, True, f"no complete period since {since.isoformat()} beyond those the gates judged")
    return GateResult(GATE_HOLD, True, f"every period since {since.isoformat()} judged: max {worst:g}s <= {threshold:g}s")


def _latency_gate(name: str, points: tuple[Datapoint, ...], settings: Settings, now: datetime) -> GateResult:
    period = timedelta(seconds=settings.metric_period_seconds)
    start, end = latency_window(settings, now)
    ordered = sorted(_by_period(points, start, end).items(), reverse=True)
    needed = settings.latency_periods
    if not ordered:
        return GateResult(name, False, f"no datapoints in the last {needed + LATENCY_GRACE_PERIODS} periods (missing = red)")
    if ordered[0][0] < end - period * (1 + LATENCY_GRACE_PERIODS):
        return GateResult(name, False, f"newest datapoint {ordered[0][0].isoformat()} is stale (missing = red)")
    recent = ordered[:needed]
    if len(recent) < needed:
        return GateResult(name, False, f"only {len(recent)} of {needed} consecutive periods have data (missing = red)")
    for (newer, _), (older, _) in itertools.pairwise(recent):
        if newer - older != period:
            return GateResult(name, False, f"no datapoint for the period before {newer.isoformat()} (missing = red)")
    worst = max(value for _, value in recent)
    verdict = "<=" if worst <= settings.latency_threshold_seconds else ">"
    text = f"max {worst:g}s {verdict} {settings.latency_threshold_seconds:g}s over the last {needed} period(s)"
    return GateResult(name, worst <= settings.latency_threshold_seconds, text)


# A reverse replication is started from a recorded position (a slot or binlog coordinates), so nothing is missed
# while DMS is still starting it: "starting" counts as green; failed, stopped or errored tables do not.
_REVERSE_GREEN_STATUSES = frozenset({"starting", "running"})


def _reverse_gate(task: TaskObservation) -> GateResult:
    what = "reverse Serverless replication" if task.serverless else "reverse replication task"
    if not task.found:
        return GateResult(GATE_DMS, False, f"{what} not found (it carries Aurora's writes back to the source)")
    status = task.status.lower()
    value = f"{what} {task.status or 'unknown'}, {task.tables_errored} table(s) errored (the forward task is stopped)"
    return GateResult(GATE_DMS, status in _REVERSE_GREEN_STATUSES and task.tables_errored == 0, value)


def watches_reverse(state: State | None, obs: Observation) -> bool:
    """After the CLI started the reverse replication at the fence, it (not the stopped forward task) is the gate."""
    return state is not None and state.reverse_started_at is not None and obs.reverse_task is not None


def _task_gate(task: TaskObservation) -> GateResult:
    what = "Serverless replication" if task.serverless else "replication task"
    if not task.found:
        return GateResult(GATE_DMS, False, f"{what} not found")
    if task.migration_type == "cdc":
        load_done, load_text = True, "cdc-only (no full load)"
    else:
        load_done = task.full_load_percent == 100 or task.full_load_finished
        load_text = f"full load {task.full_load_percent if task.full_load_percent is not None else '?'}%"
    value = f"{what} {task.status or 'unknown'}, {load_text}, {task.tables_errored} table(s) errored"
    validation_ok = True
    if task.tables_failing_validation is not None:
        value += f", {task.tables_failing_validation} table(s) failing validation"
        # A mismatched row is a write the target does not have: moving clients then would lose it.
        validation_ok = task.tables_failing_validation == 0
    # An errored table stops replicating; cutting over would silently drop its changes.
    green = task.status.lower() == "running" and load_done and task.tables_errored == 0 and validation_ok
    return GateResult(GATE_DMS, green, value)


def evaluate_gates(settings: Settings, obs: Observation, now: datetime, state: State | None = None) -> GateReport:
    alarms = obs.alarms_in_alarm
    if alarms:
        shown = ", ".join(alarms[:5]) + (f" and {len(alarms) - 5} more" if len(alarms) > 5 else "")
        alarm_gate = GateResult(GATE_ALARMS, False, f"in ALARM: {shown}")
    else:
        alarm_gate = GateResult(GATE_ALARMS, True, f"no alarm named {settings.alarm_name_prefix}* in ALARM")
    cluster = obs.cluster_status
    cluster_gate = GateResult(GATE_CLUSTER, cluster == "available", cluster if cluster is not None else "cluster not found")
    return GateReport(
        (
            _reverse_gate(obs.reverse_task) if watches_reverse(state, obs) and obs.reverse_task else _task_gate(obs.task),
            _latency_gate(GATE_LATENCY_SOURCE, obs.latency_source, settings, now),
            _latency_gate(GATE_LATENCY_TARGET, obs.latency_target, settings, now),
            alarm_gate,
            cluster_gate,
        )
    )


# ---------------------------------------------------------------- decisions


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
class _Ctx:
    settings: Settings
    state: State
    trigger: Trigger
    now: datetime
    obs: Observation | None = field(default=None)
    gates: GateReport | None = field(default=None)

    def judged_until(self) -> datetime | None:
        return judged_until(self.settings, self.obs, self.now) if self.obs is not None else None

    def transition(self, event: str, reason: str, severity: Severity, phase: Phase, **fields: Any) -> Transition:
        old = self.state
        new = replace(old, version=old.version + 1, phase=phase, updated_at=self.now, **fields)
        entry = HistoryEntry.create(
            version=new.version,
            at=self.now,
            from_phase=old.phase,
            to_phase=phase,
            reason=reason,
            trigger=trigger_label(self.trigger),
            operator=_operator_of(self.trigger),
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
            operator=_operator_of(self.trigger),
            at=self.now,
            gates=self.gates,
        )

    def no_change(self, *reasons: str) -> NoChange:
        return NoChange(tuple(reasons), self.gates)

    def reject(self, *reasons: str) -> Rejected:
        return Rejected(tuple(reasons), self.gates)


def decide(settings: Settings, state: State, obs: Observation | None, trigger: Trigger, now: datetime) -> Decision:
    if needs_observation(trigger) and obs is None:
        raise ValueError(f"trigger {trigger_label(trigger)} needs an observation")
    ctx = _Ctx(settings, state, trigger, now, obs)
    if obs is not None:
        ctx.gates = evaluate_gates(settings, obs, now, state)
    if isinstance(trigger, OperatorCommand):
        if trigger.writer and trigger.action is not Action.ROLLBACK:
            return ctx.reject("'writer' only applies to 'rollback'")
        return _COMMANDS[trigger.action](ctx, trigger)
    if isinstance(trigger, RecordEvidence):
        return _record_evidence(ctx, trigger)
    if isinstance(trigger, FlipWriter):
        return _flip(ctx, trigger)
    if isinstance(trigger, RecordNote):
        # Recorded in any phase, changing nothing else: the history is the audit trail.
        return ctx.transition("note", f"{trigger.operator}: {trigger.detail}", "info", state.phase)
    return _TICKS[state.phase](ctx)


RECONCILE_HELP = (
    "reconcile first: 'unlock --confirm --sync-dns' sets the reader pair and TTLs back to the state (never the "
    "writer); a writer difference needs the writer-mismatch procedure in docs/cutover.md"
)


def decide_dns_mismatch(
    settings: Settings,
    state: State,
    trigger: Trigger,
    now: datetime,
    *,
    differences: tuple[str, ...],
    live_writer_on_aurora: bool,
) -> Decision:
    """Live Route 53 differs from the stored state: stop and say so; never 'correct' DNS by itself.

    A tick pauses (an alert, no record change); an operator command or a flip is refused. Only
    'pause' and 'status' go ahead, and they go through ``decide`` as usual.
    """
    ctx = _Ctx(settings, state, trigger, now)
    summary = "; ".join(differences)
    if isinstance(trigger, Tick):
        if state.phase in PAUSABLE:
            return ctx.transition(
                "dns_mismatch",
                f"live Route 53 differs from the state ({summary}); paused, nothing moved. {RECONCILE_HELP}",
                "alert",
                Phase.PAUSED,
                paused_from=state.phase,
                step_started_at=None,
                latency_judged_until=None,
            )
        return ctx.no_change(f"live Route 53 differs from the state ({summary}); {RECONCILE_HELP}")
    refusal = f"refused: live Route 53 differs from the state ({summary}). {RECONCILE_HELP}"
    if (
        isinstance(trigger, OperatorCommand)
        and trigger.action is Action.ROLLBACK
        and not trigger.writer
        and live_writer_on_aurora
    ):
        refusal = (
            "refused: the LIVE writer record is on Aurora, whatever the state says, so a reads-only rollback would "
            f"leave clients split; moving the writer back loses Aurora's writes ({summary}). {RECONCILE_HELP}"
        )
    return ctx.reject(refusal)


def _hold_left(ctx: _Ctx) -> float:
    started = ctx.state.step_started_at
    assert started is not None
    return ctx.settings.step_hold_seconds - (ctx.now - started).total_seconds()


def _gates(ctx: _Ctx) -> GateReport:
    assert ctx.gates is not None, "this decision needs an observation"
    return ctx.gates


# -- ticks (schedule and DMS events), one function per phase


def _tick_replicating(ctx: _Ctx) -> Decision:
    return ctx.no_change("replicating: waiting for an operator 'advance' to start shifting reads")


def _tick_paused(ctx: _Ctx) -> Decision:
    origin = ctx.state.paused_from.value if ctx.state.paused_from else "?"
    return ctx.no_change(f"paused (from {origin}): run 'resume' to continue")


def _tick_completed(ctx: _Ctx) -> Decision:
    return ctx.no_change("cutover completed: nothing to do")


def _tick_rolled_back(ctx: _Ctx) -> Decision:
    return ctx.no_change("rolled back: nothing to do")


def _gate_rollback(ctx: _Ctx) -> Decision:
    """Reads back to the last step held with every gate green, and pause."""
    state, gates = ctx.state, _gates(ctx)
    reader = state.weights.reader
    target = state.last_good_reader_weight
    moved = f"reads {reader}% -> {target}%" if target != reader else f"reads stay at {reader}%"
    return ctx.transition(
        "gate_rollback",
        f"gate(s) red: {gates.summary()}; {moved} on Aurora (last fully held step); paused",
        "alert",
        Phase.PAUSED,
        paused_from=Phase.READS_SHIFTING,
        weights=replace(state.weights, reader=target),
        step_started_at=None,
        latency_judged_until=None,
    )


def _tick_reads_shifting(ctx: _Ctx) -> Decision:
    state, settings, gates = ctx.state, ctx.settings, _gates(ctx)
    reader = state.weights.reader
    if not gates.green:
        return _gate_rollback(ctx)
    left = _hold_left(ctx)
    if left > 0:
        return ctx.no_change(f"holding reads at {reader}% on Aurora: {math.ceil(left)}s of the hold left")
    assert ctx.obs is not None and state.step_started_at is not None
    since = state.latency_judged_until or state.step_started_at
    coverage = hold_coverage(settings, ctx.obs, since, ctx.now)
    if not coverage.green:
        ctx.gates = GateReport((*gates.results, coverage))
        return _gate_rollback(ctx)
    judged = ctx.judged_until()
    if reader < 100:
        nxt = next(step for step in settings.read_steps if step > reader)
        return ctx.transition(
            "step",
            f"reads at {reader}% held {settings.step_hold_seconds}s with every gate green: reads {reader}% -> {nxt}%",
            "info",
            Phase.READS_SHIFTING,
            weights=replace(state.weights, reader=nxt),
            last_good_reader_weight=reader,
            step_started_at=ctx.now,
            latency_judged_until=judged,
        )
    return ctx.transition(
        "enter_fence",
        f"reads at 100% held {settings.step_hold_seconds}s with every gate green; TTL of all four records "
        f"lowered to {settings.cutover_ttl}s. Next: make the source read-only, then run 'fence --confirm'",
        "info",
        Phase.WRITE_FENCE,
        last_good_reader_weight=100,
        step_started_at=None,
        latency_judged_until=None,
        ttl_lowered_at=ctx.now,
    )


def _tick_write_fence(ctx: _Ctx) -> Decision:
    gates = _gates(ctx)
    if not gates.green:
        return ctx.transition(
            "gate_pause",
            f"gate(s) red in write_fence: {gates.summary()}; reads stay at 100% (the last fully held step), "
            "the writer stays on the source; paused",
            "alert",
            Phase.PAUSED,
            paused_from=Phase.WRITE_FENCE,
        )
    state = ctx.state
    if state.fence_confirmed_at is not None:
        return ctx.no_change(
            f"fence confirmed at {state.fence_confirmed_at.isoformat()} ({evidence_summary(state)}); the writer flips "
            "only from './cutover fence --confirm' once the databases proved all three"
        )
    return ctx.no_change("waiting for the operator: run './cutover fence --confirm' (it fences and proves the source)")


def _tick_writer_flipped(ctx: _Ctx) -> Decision:
    gates = _gates(ctx)
    if not gates.green:
        return ctx.transition(
            "gate_pause",
            f"gate(s) red after the writer flip: {gates.summary()}; the writer STAYS on Aurora (moving it back "
            "automatically would lose Aurora's writes); paused",
            "alert",
            Phase.PAUSED,
            paused_from=Phase.WRITER_FLIPPED,
        )
    return ctx.no_change("writer on Aurora: run 'advance' to complete (restores the record TTL)")


_TICKS: dict[Phase, Callable[[_Ctx], Decision]] = {
    Phase.REPLICATING: _tick_replicating,
    Phase.READS_SHIFTING: _tick_reads_shifting,
    Phase.WRITE_FENCE: _tick_write_fence,
    Phase.WRITER_FLIPPED: _tick_writer_flipped,
    Phase.COMPLETED: _tick_completed,
    Phase.PAUSED: _tick_paused,
    Phase.ROLLED_BACK: _tick_rolled_back,
}


# -- operator commands, one function per action


def _status(ctx: _Ctx, cmd: OperatorCommand) -> Decision:
    return ctx.no_change(f"phase {ctx.state.phase.value}, version {ctx.state.version}")


def _pause(ctx: _Ctx, cmd: OperatorCommand) -> Decision:
    phase = ctx.state.phase
    if phase not in PAUSABLE:
        return ctx.reject(f"cannot pause in phase {phase.value}")
    return ctx.transition(
        "paused",
        f"paused by {cmd.operator}",
        "info",
        Phase.PAUSED,
        paused_from=phase,
        step_started_at=None,
        latency_judged_until=None,
    )


def _resume(ctx: _Ctx, cmd: OperatorCommand) -> Decision:
    state, gates = ctx.state, _gates(ctx)
    if state.phase is not Phase.PAUSED or state.paused_from is None:
        return ctx.reject(f"not paused (phase is {state.phase.value})")
    target = state.paused_from
    if target is not Phase.REPLICATING and not gates.green:
        return ctx.reject(f"cannot resume {target.value}: gate(s) red: {gates.summary()}")
    restart = ctx.now if target is Phase.READS_SHIFTING else None
    hold = "; the step hold restarts now" if restart is not None else ""
    # A pause may have let anyone make the source writable again: the fence and its proofs start over.
    refence: dict[str, Any] = (
        {"fence_confirmed_at": None, "fence_confirmed_by": None, **_NO_EVIDENCE} if target is Phase.WRITE_FENCE else {}
    )
    if refence and ctx.state.fence_confirmed_at is not None:
        hold = "; run 'fence --confirm' again: the fence and its proofs start over"
    return ctx.transition(
        "resumed",
        f"resumed to {target.value} by {cmd.operator}{hold}",
        "info",
        target,
        paused_from=None,
        step_started_at=restart,
        latency_judged_until=ctx.judged_until() if restart is not None else None,
        **refence,
    )


_FENCE_CONFIRM_HELP = (
    "fence requires confirm=true: it makes the source database refuse writes, which is what makes the writer flip safe"
)
_NO_EVIDENCE: dict[str, None] = {
    "fence_proven_at": None,
    "drain_reached_at": None,
    "sequences_synced_at": None,
    "reverse_started_at": None,
}


def _fence(ctx: _Ctx, cmd: OperatorCommand) -> Decision:
    if not cmd.confirm:
        return ctx.reject(_FENCE_CONFIRM_HELP)
    if ctx.state.phase is not Phase.WRITE_FENCE:
        return ctx.reject(f"fence is only possible in write_fence (phase is {ctx.state.phase.value})")
    return ctx.transition(
        "fence_confirmed",
        f"{cmd.operator} started the write fence: the source is fenced and proven read-only, the drain is proven "
        "by a marker row and the sequences are synced on the databases before the writer flips",
        "info",
        Phase.WRITE_FENCE,
        fence_confirmed_at=ctx.now,
        fence_confirmed_by=cmd.operator,
        **_NO_EVIDENCE,
    )


def _start(ctx: _Ctx, cmd: OperatorCommand) -> Decision:
    state, gates = ctx.state, _gates(ctx)
    if state.phase is Phase.ROLLED_BACK and state.flipped_at is not None:
        return ctx.reject(
            "the writer was on Aurora before this rollback, so Aurora and the source have diverged; "
            "re-seed the DMS task (full load) and reset the state as described in docs/cutover.md"
        )
    if state.preflight_passed_at is None:
        return ctx.reject(
            "no preflight recorded: start with './cutover advance', which checks the source and target on the "
            "databases first (the Lambda cannot reach them)"
        )
    if not gates.green:
        return ctx.reject(f"cannot start: gate(s) red: {gates.summary()}")
    first = ctx.settings.read_steps[0]
    return ctx.transition(
        "started",
        f"cutover started by {cmd.operator}: reads 0% -> {first}% on Aurora",
        "info",
        Phase.READS_SHIFTING,
        weights=Weights(reader=first, writer=0),
        last_good_reader_weight=0,
        step_started_at=ctx.now,
        latency_judged_until=ctx.judged_until(),
        fence_confirmed_at=None,
        fence_confirmed_by=None,
        preflight_passed_at=None,  # each start needs a fresh preflight
        **_NO_EVIDENCE,
    )


def _complete(ctx: _Ctx, cmd: OperatorCommand) -> Decision:
    gates = _gates(ctx)
    if not gates.green:
        return ctx.reject(f"cannot complete: gate(s) red: {gates.summary()}")
    return ctx.transition(
        "completed",
        f"cutover completed by {cmd.operator}; record TTL restored to {ctx.settings.record_ttl}s",
        "info",
        Phase.COMPLETED,
        ttl_lowered_at=None,
    )


def _advance(ctx: _Ctx, cmd: OperatorCommand) -> Decision:
    state = ctx.state
    phase = state.phase
    if phase in (Phase.REPLICATING, Phase.ROLLED_BACK):
        return _start(ctx, cmd)
    if phase is Phase.WRITER_FLIPPED:
        return _complete(ctx, cmd)
    if phase is Phase.READS_SHIFTING:
        return ctx.reject(
            f"reads advance automatically once each step is held with every gate green; "
            f"{max(0, math.ceil(_hold_left(ctx)))}s left at {state.weights.reader}%"
        )
    refusals = {
        Phase.WRITE_FENCE: "the writer moves only through 'fence --confirm' (after the source is read-only)",
        Phase.PAUSED: f"paused (from {state.paused_from.value if state.paused_from else '?'}): run 'resume' first",
        Phase.COMPLETED: "the cutover is already completed",
    }
    return ctx.reject(refusals[phase])


def _rollback(ctx: _Ctx, cmd: OperatorCommand) -> Decision:
    state = ctx.state
    if not cmd.confirm:
        return ctx.reject("rollback requires confirm=true")
    if state.phase is Phase.ROLLED_BACK:
        return ctx.reject("already rolled back")
    on_aurora = state.weights.writer == 100
    if on_aurora and not cmd.writer:
        return ctx.reject(
            "the writer is on Aurora: a reads-only rollback is impossible. 'rollback --writer --confirm' moves the "
            "writer back to the source and LOSES every write made on Aurora since the flip unless a reverse "
            "(Aurora -> source) replication task has run since then; see docs/cutover.md"
        )
    if cmd.writer and not on_aurora:
        return ctx.reject("the writer is not on Aurora: use 'rollback --confirm' without --writer")
    common: dict[str, Any] = {
        "paused_from": None,
        "weights": Weights(reader=0, writer=0),
        "last_good_reader_weight": 0,
        "step_started_at": None,
        "latency_judged_until": None,
        "ttl_lowered_at": None,
        **_NO_EVIDENCE,
    }
    if cmd.writer:
        flipped = state.flipped_at.isoformat() if state.flipped_at else "the flip"
        return ctx.transition(
            "writer_rolled_back",
            f"writer and reads moved back to the source by {cmd.operator} (confirmed). Writes made on Aurora since "
            f"{flipped} are NOT on the source unless reverse replication ran; the source must be writable again",
            "alert",
            Phase.ROLLED_BACK,
            **common,
        )
    fenced = "; the source was fenced (read-only): make it writable again" if state.fence_confirmed_at is not None else ""
    return ctx.transition(
        "rolled_back",
        f"reads moved back to the source by {cmd.operator}{fenced}",
        "alert",
        Phase.ROLLED_BACK,
        **common,
    )


_COMMANDS: dict[Action, Callable[[_Ctx, OperatorCommand], Decision]] = {
    Action.STATUS: _status,
    Action.PAUSE: _pause,
    Action.RESUME: _resume,
    Action.FENCE: _fence,
    Action.ADVANCE: _advance,
    Action.ROLLBACK: _rollback,
}


# What the writer flip requires, in order.
_FLIP_EVIDENCE: dict[Evidence, str] = {
    Evidence.FENCE_PROVEN: "fence_proven_at",
    Evidence.DRAIN_REACHED: "drain_reached_at",
    Evidence.SEQUENCES_SYNCED: "sequences_synced_at",
}


_EVIDENCE_FIELD: dict[Evidence, str] = {
    Evidence.PREFLIGHT_PASSED: "preflight_passed_at",
    **_FLIP_EVIDENCE,
    Evidence.REVERSE_STARTED: "reverse_started_at",
}


def evidence_summary(state: State) -> str:
    parts = []
    for kind, name in _FLIP_EVIDENCE.items():
        moment = getattr(state, name)
        parts.append(f"{kind.value} {moment.isoformat() if moment is not None else 'missing'}")
    if state.reverse_started_at is not None:
        parts.append(f"{Evidence.REVERSE_STARTED.value} {state.reverse_started_at.isoformat()}")
    return ", ".join(parts)


def _missing_flip_evidence(state: State) -> list[str]:
    """The flip's proofs not recorded for the current fence, in order (each after the fence proof)."""
    fenced, proven = state.fence_confirmed_at, state.fence_proven_at
    assert fenced is not None
    return [
        kind.value
        for kind, name in _FLIP_EVIDENCE.items()
        if (moment := getattr(state, name)) is None
        or moment < fenced
        or (kind is not Evidence.FENCE_PROVEN and (proven is None or moment < proven))
    ]


def _record_evidence(ctx: _Ctx, evidence: RecordEvidence) -> Decision:
    state = ctx.state
    if evidence.kind is Evidence.PREFLIGHT_PASSED:
        if state.phase not in (Phase.REPLICATING, Phase.ROLLED_BACK):
            return ctx.reject(f"preflight is recorded before a start, not in phase {state.phase.value}")
        return ctx.transition(
            evidence.kind.value, f"{evidence.operator}: {evidence.detail}", "info", state.phase, preflight_passed_at=ctx.now
        )
    if state.phase is not Phase.WRITE_FENCE or state.fence_confirmed_at is None:
        return ctx.reject(
            f"{evidence.kind.value} can only be recorded after 'fence --confirm' in write_fence (phase is "
            f"{state.phase.value}); the writer stays where it is"
        )
    if evidence.kind is not Evidence.FENCE_PROVEN and state.fence_proven_at is None:
        return ctx.reject(f"{evidence.kind.value} needs a proven fence first: the writer stays on the source")
    if evidence.kind is Evidence.REVERSE_STARTED and (missing := _missing_flip_evidence(state)):
        return ctx.reject(
            f"the reverse replication starts only once the drain and the sequences are proven ({', '.join(missing)} "
            "missing): before that the forward task still has changes to apply"
        )
    return ctx.transition(
        evidence.kind.value,
        f"{evidence.operator}: {evidence.detail}",
        "info",
        Phase.WRITE_FENCE,
        **{_EVIDENCE_FIELD[evidence.kind]: ctx.now},
    )


def _flip(ctx: _Ctx, flip: FlipWriter) -> Decision:
    """The writer moves once: fence proven, drain reached and sequences synced, in that order, for this fence."""
    state, settings, gates = ctx.state, ctx.settings, _gates(ctx)
    if state.phase is not Phase.WRITE_FENCE or state.fence_confirmed_at is None:
        return ctx.reject(f"the writer flips only from a confirmed write_fence (phase is {state.phase.value})")
    fenced = state.fence_confirmed_at
    missing = _missing_flip_evidence(state)
    if missing:
        return ctx.reject(
            f"no writer flip without database evidence: {', '.join(missing)} missing for the fence of "
            f"{fenced.isoformat()} (metrics alone never move the writer); the writer stays on the source"
        )
    red = gates.red(_FLIP_GATES)
    if red:
        return ctx.reject(f"writer NOT flipped: gate(s) red: {gates.summary(_FLIP_GATES)}; the source stays fenced")
    assert state.ttl_lowered_at is not None
    # Resolvers may still cache the old TTL: wait it out so the flip reaches clients within CUTOVER_TTL.
    ttl_settled_at = state.ttl_lowered_at + timedelta(seconds=settings.record_ttl)
    if ctx.now < ttl_settled_at:
        return ctx.no_change(
            f"record TTL {settings.record_ttl}s not yet expired since it was lowered: the flip waits until "
            f"{ttl_settled_at.isoformat()}"
        )
    return ctx.transition(
        "writer_flipped",
        f"writer -> Aurora by {flip.operator}: {evidence_summary(state)}",
        "info",
        Phase.WRITER_FLIPPED,
        weights=replace(state.weights, writer=100),
        flipped_at=ctx.now,
    )
