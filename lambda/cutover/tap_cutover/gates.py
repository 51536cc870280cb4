"""The gates: what the observation says about the DMS task, the two latency series, the alarms and the cluster.

Pure: ``evaluate_gates`` turns an ``Observation`` into a ``GateReport``; ``hold_coverage`` re-judges
every period of a step hold before it ends.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .settings import LATENCY_GRACE_PERIODS, Settings
from .state import State

GATE_DMS = "dms_task"
GATE_LATENCY_SOURCE = "cdc_latency_source"
GATE_LATENCY_TARGET = "cdc_latency_target"
GATE_ALARMS = "alarms"
GATE_CLUSTER = "aurora_cluster"
# Not a live gate: the check that every period of an ending hold was judged (see hold_coverage).
GATE_HOLD = "hold_periods"
# The writer flip replaces the two latency gates with the (stricter) drain condition.
FLIP_GATES = frozenset({GATE_DMS, GATE_ALARMS, GATE_CLUSTER})


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
    why: str = ""  # a red gate: what makes it red and what to do, in the operator's words

    def to_dict(self) -> dict[str, Any]:
        shown = {"name": self.name, "green": self.green, "value": self.value}
        return shown | ({"why": self.why} if self.why and not self.green else {})


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


@dataclass(frozen=True)
class HoldCoverage:
    """The verdict on every period of an ending hold: red, green, or green so far but still waiting for CloudWatch."""

    result: GateResult
    # The first period of the hold that CloudWatch has not published yet, while it may still do so (None: all in).
    pending: datetime | None = None


def published_by(settings: Settings, now: datetime) -> datetime:
    """End of the last period that must have been published: CloudWatch may be LATENCY_GRACE_PERIODS late."""
    return align(now, settings.metric_period_seconds) - timedelta(seconds=LATENCY_GRACE_PERIODS * settings.metric_period_seconds)


_HOLD_MISSING_WHY = (
    "CloudWatch did not publish a period of the hold within the {grace} periods it may be late: the task may have "
    "stopped publishing CDC latency (see dms_task); once it does, 'resume' starts a new hold"
)


def hold_coverage(settings: Settings, obs: Observation, since: datetime, now: datetime, until: datetime) -> HoldCoverage:
    """Every period from ``since`` up to the end of the hold (``until``) has data and is within the threshold.

    The latency gates look at the last N periods before *now*; when CloudWatch publishes late at
    one tick and on time at the next, the windows of the two ticks need not overlap. The decision
    that ends a hold therefore re-judges every period since the last judged one, up to the last one
    complete when the hold ended. A period missing with later data published is red; a trailing one
    not published yet keeps the step waiting until it must have been published (``published_by``),
    and is red after that: no period of the hold is ever skipped.
    """
    period = timedelta(seconds=settings.metric_period_seconds)
    fetched_from, end = fetch_window(settings, now)
    since = align(since, settings.metric_period_seconds)
    if since < fetched_from:
        return HoldCoverage(
            GateResult(
                GATE_HOLD,
                False,
                f"periods since {since.isoformat()} are older than the fetched window ({fetched_from.isoformat()}): "
                "the hold cannot be judged (missing = red); 'resume' starts a new hold",
            )
        )
    # Every period complete when the hold ended; the one the hold ended in is the next hold's first.
    required_end = align(until, settings.metric_period_seconds)
    deadline = published_by(settings, now)
    pending: datetime | None = None
    worst = -math.inf
    for name, points in ((GATE_LATENCY_SOURCE, obs.latency_source), (GATE_LATENCY_TARGET, obs.latency_target)):
        values = _by_period(points, fetched_from, end)
        newest = max(values) if values else None
        at = since
        while at < required_end:
            value = values.get(at)
            if value is None:
                red = _missing_period(settings, name, at, newest, deadline)
                if red is not None:
                    return HoldCoverage(red)
                pending = at if pending is None else min(pending, at)
                break  # the rest of this series is unpublished too
            if value > settings.latency_threshold_seconds:
                threshold = settings.latency_threshold_seconds
                text = f"{name}: {value:g}s > {threshold:g}s in the period {at.isoformat()} during the hold"
                return HoldCoverage(GateResult(GATE_HOLD, False, text))
            worst = max(worst, value)
            at += period
    if pending is not None:
        text = (
            f"waiting for CloudWatch to publish the hold's periods from {pending.isoformat()} to "
            f"{(required_end - period).isoformat()} (it may be up to {LATENCY_GRACE_PERIODS} periods late)"
        )
        return HoldCoverage(GateResult(GATE_HOLD, True, text), pending)
    if worst == -math.inf:
        return HoldCoverage(GateResult(GATE_HOLD, True, f"no period since {since.isoformat()} beyond those the gates judged"))
    threshold = settings.latency_threshold_seconds
    return HoldCoverage(
        GateResult(
            GATE_HOLD,
            True,
            f"every period from {since.isoformat()} to the hold's end {until.isoformat()} judged: max {worst:g}s <= "
            f"{threshold:g}s",
        )
    )


def _missing_period(
    settings: Settings, name: str, at: datetime, newest: datetime | None, deadline: datetime
) -> GateResult | None:
    """Red for a period without data that is not merely late (None: CloudWatch may still publish it)."""
    if newest is not None and at < newest:
        return GateResult(GATE_HOLD, False, f"{name}: no datapoint for the period {at.isoformat()} in the hold (missing = red)")
    if at + timedelta(seconds=settings.metric_period_seconds) <= deadline:
        return GateResult(
            GATE_HOLD,
            False,
            f"{name}: the period {at.isoformat()} of the hold is still not published, {LATENCY_GRACE_PERIODS} periods "
            "after it ended (missing = red)",
            _HOLD_MISSING_WHY.format(grace=LATENCY_GRACE_PERIODS),
        )
    return None


_NO_LAG_DATA = (
    "CloudWatch has no complete {metric} series for the task: it publishes only while the task runs CDC; check that "
    "the task is running (dms_task) and wait a few periods"
)


def _latency_gate(name: str, points: tuple[Datapoint, ...], settings: Settings, now: datetime) -> GateResult:
    result = _latency_reading(name, points, settings, now)
    if result.green:
        return result
    metric = "CDCLatencySource" if name == GATE_LATENCY_SOURCE else "CDCLatencyTarget"
    if "missing = red" in result.value:
        why = _NO_LAG_DATA.format(metric=metric)
    else:
        why = (
            f"replication is behind: {metric} above {settings.latency_threshold_seconds:g}s; wait until it catches up "
            "(a source-side lag means reading the source's log is slow, a target-side one that applying on Aurora is)"
        )
    return GateResult(result.name, False, result.value, why)


def _latency_reading(name: str, points: tuple[Datapoint, ...], settings: Settings, now: datetime) -> GateResult:
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
        why = "the stack's reverse task is gone: re-deploy it (./tap up), then ./cutover rollback --writer decides"
        return GateResult(GATE_DMS, False, f"{what} not found (it carries Aurora's writes back to the source)", why)
    status = task.status.lower()
    value = f"{what} {task.status or 'unknown'}, {task.tables_errored} table(s) errored (the forward task is stopped)"
    green = status in _REVERSE_GREEN_STATUSES and task.tables_errored == 0
    reasons = []
    if status not in _REVERSE_GREEN_STATUSES:
        reasons.append(f"it is {task.status or 'in an unknown state'}, so Aurora's writes stop reaching the source")
    if task.tables_errored:
        reasons.append(f"{task.tables_errored} table(s) errored (aws dms describe-table-statistics names them)")
    why = f"the reverse task: {'; '.join(reasons)}; restart it or roll back deliberately" if reasons else ""
    return GateResult(GATE_DMS, green, value, why)


def watches_reverse(state: State | None, obs: Observation) -> bool:
    """After the CLI started the reverse replication at the fence, it (not the stopped forward task) is the gate."""
    return state is not None and state.reverse_started_at is not None and obs.reverse_task is not None


def _task_gate(task: TaskObservation) -> GateResult:
    what = "Serverless replication" if task.serverless else "replication task"
    if not task.found:
        return GateResult(GATE_DMS, False, f"{what} not found", f"the {what} named in the Lambda's settings does not exist")
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
    return GateResult(GATE_DMS, green, value, "" if green else _task_why(task, what, load_done, validation_ok))


def _task_why(task: TaskObservation, what: str, load_done: bool, validation_ok: bool) -> str:
    """Each reason the task gate is red, with what to do about it."""
    reasons = []
    status = task.status.lower()
    if status != "running":
        start = "start-replication" if status in ("ready", "created") else "resume-processing"
        reasons.append(
            f"the {what} is {task.status or 'in an unknown state'}, not running; start it with "
            f"aws dms start-replication-task --start-replication-task-type {start} --replication-task-arn <its ARN>"
            if not task.serverless
            else f"the {what} is {task.status or 'in an unknown state'}, not running; start it with aws dms start-replication"
        )
    if not load_done:
        reasons.append("the full load has not finished; wait for it (the gate needs 100%)")
    if task.tables_errored:
        reasons.append(
            f"{task.tables_errored} table(s) errored and stopped replicating; reload them (describe-table-statistics names them)"
        )
    if not validation_ok:
        reasons.append("row validation found mismatched rows; see the validation failures table (awsdms_control) and reload")
    return "; ".join(reasons)


def evaluate_gates(settings: Settings, obs: Observation, now: datetime, state: State | None = None) -> GateReport:
    alarms = obs.alarms_in_alarm
    if alarms:
        shown = ", ".join(alarms[:5]) + (f" and {len(alarms) - 5} more" if len(alarms) > 5 else "")
        why = "a health alarm fires: look at it (aws cloudwatch describe-alarms --state-value ALARM) and fix its cause"
        alarm_gate = GateResult(GATE_ALARMS, False, f"in ALARM: {shown}", why)
    else:
        alarm_gate = GateResult(GATE_ALARMS, True, f"no alarm named {settings.alarm_name_prefix}* in ALARM")
    cluster = obs.cluster_status
    cluster_why = f"the Aurora cluster is {cluster}; wait until it is available" if cluster else "the cluster does not exist"
    if cluster == "available":
        cluster_why = ""
    cluster_gate = GateResult(
        GATE_CLUSTER, cluster == "available", cluster if cluster is not None else "cluster not found", cluster_why
    )
    return GateReport(
        (
            _reverse_gate(obs.reverse_task) if watches_reverse(state, obs) and obs.reverse_task else _task_gate(obs.task),
            _latency_gate(GATE_LATENCY_SOURCE, obs.latency_source, settings, now),
            _latency_gate(GATE_LATENCY_TARGET, obs.latency_target, settings, now),
            alarm_gate,
            cluster_gate,
        )
    )
