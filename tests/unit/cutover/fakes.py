"""In-memory fakes of the cutover adapters sharing one ``World``.

Every fake method first calls ``World.enter(name)``: that counts the call, runs a hook
scheduled for that call index (used to interleave a second invocation) and raises an
injected AwsError. A failed call changes nothing, exactly like a throttled AWS call. An
"ambiguous" fault on a write call is the other kind a network produces: the write takes
effect and then the caller sees a timeout (``lost_answer``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tap_cutover.engine import Engine
from tap_cutover.logic import Datapoint, Notification, PairChange, TaskObservation, Trigger, align, fetch_window
from tap_cutover.ports import Adapters, AwsError, LivePair, LiveRecord, LockInfo
from tap_cutover.settings import Settings
from tap_cutover.state import State

from benchmarks.cutover_fixtures import T0, Clock

__all__ = ["DATA_COMPARED", "T0", "Clock", "World", "fake_adapters", "fake_engine", "run"]

GREEN_LATENCY = 0.5
# A clean './cutover compare' recorded before the fence: the writer flip's data proof, for states built by hand.
DATA_COMPARED: dict[str, Any] = {
    "data_proof_at": T0 - timedelta(hours=2),
    "data_proof_kind": "data_compared",
    "data_proof": "12 table(s) compared: no difference (task ABCDEFGHIJKLMNOPQRSTUVWXYZ)",
}


@dataclass
class Regime:
    """Latency values for every period that starts at or after ``since`` (None = no datapoint)."""

    since: datetime
    source: float | None
    target: float | None


@dataclass
class World:
    settings: Settings
    clock: Clock = field(default_factory=Clock)
    records: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # pair -> set id -> (weight, ttl)
    state_text: str | None = '{"version": 1, "phase": "replicating"}'
    lock: tuple[str, datetime] | None = None
    task: TaskObservation = field(default_factory=lambda: TaskObservation(True, "running", "full-load-and-cdc", 100, True, 0))
    reverse_task: TaskObservation | None = None
    # DescribeTableStatistics rows of the forward task (the data proof reads them; ticks never do).
    table_statistics: list[dict[str, Any]] = field(
        default_factory=lambda: [{"SchemaName": "public", "TableName": "orders", "ValidationState": "Validated"}]
    )
    regimes: list[Regime] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    cluster: str | None = "available"
    published: list[Notification] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    fail_at: dict[int, str] = field(default_factory=dict)  # call index -> "error" | "ambiguous"
    hooks: dict[int, Callable[[], None]] = field(default_factory=dict)
    on_apply: list[Callable[[World, Sequence[PairChange]], None]] = field(default_factory=list)
    # CloudWatch publishing late: the newest this many complete periods have no datapoint yet.
    publish_delay_periods: int = 0
    # What sts:GetCallerIdentity answers: the engine records it in every state version it writes.
    caller: str | None = "arn:aws:sts::123456789012:assumed-role/tap-migrate-dev-cutover/tap-migrate-dev-cutover"

    def __post_init__(self) -> None:
        ttl = self.settings.record_ttl
        for pair in ("reader", "writer"):
            self.records.setdefault(pair, {"source": (100, ttl), "aurora": (0, ttl)})
        if not self.regimes:
            self.regimes.append(Regime(datetime(2000, 1, 1, tzinfo=UTC), GREEN_LATENCY, GREEN_LATENCY))

    # -- fault and interleaving machinery

    def enter(self, name: str) -> str | None:
        index = len(self.calls)
        self.calls.append(name)
        hook = self.hooks.pop(index, None)
        if hook is not None:
            hook()
        kind = self.fail_at.pop(index, None)
        if kind == "error":
            raise AwsError(name.split(".", maxsplit=1)[0], name, "ThrottlingException", f"injected failure at call {index}")
        return kind

    # -- helpers for tests

    def state(self) -> State:
        assert self.state_text is not None
        return State.parse(self.state_text)

    def aurora_weights(self) -> dict[str, int]:
        return {pair: recs["aurora"][0] for pair, recs in self.records.items()}

    def set_latency(self, source: float | None, target: float | None, since: datetime | None = None) -> None:
        self.regimes.append(Regime(since or self.clock.now, source, target))

    def value_at(self, period_start: datetime) -> Regime:
        current = self.regimes[0]
        for regime in self.regimes:
            if regime.since <= period_start:
                current = regime
        return current

    def snapshot(self) -> tuple[str | None, str, bool]:
        return self.state_text, json.dumps(self.records, sort_keys=True), self.lock is not None


def lost_answer(kind: str | None, service: str, operation: str) -> None:
    """An "ambiguous" fault: the write above has taken effect, but the caller sees a read timeout."""
    if kind == "ambiguous":
        raise AwsError(service, operation, "ReadTimeoutError", "injected: applied, but the response was lost")


class FakeRecords:
    def __init__(self, world: World) -> None:
        self.w = world

    def apply(self, changes: Sequence[PairChange]) -> None:
        kind = self.w.enter("route53.ChangeResourceRecordSets")
        for hook in self.w.on_apply:
            hook(self.w, changes)
        for change in changes:
            self.w.records[change.pair] = {
                "source": (100 - change.aurora_weight, change.ttl),
                "aurora": (change.aurora_weight, change.ttl),
            }
        lost_answer(kind, "route53", "ChangeResourceRecordSets")

    def read(self) -> dict[str, LivePair]:
        self.w.enter("route53.ListResourceRecordSets")
        names = {"reader": self.w.settings.reader_record_name, "writer": self.w.settings.writer_record_name}
        targets = {"source": self.w.settings.source_host, "aurora": "aurora-endpoint"}
        return {
            pair: LivePair(names[pair], {sid: LiveRecord(w, ttl, targets[sid]) for sid, (w, ttl) in recs.items()})
            for pair, recs in self.w.records.items()
        }


class FakeMetrics:
    """Publishes one datapoint per complete period, following the world's latency regimes."""

    def __init__(self, world: World) -> None:
        self.w = world

    def latency(self, now: datetime) -> tuple[tuple[Datapoint, ...], tuple[Datapoint, ...]]:
        self.w.enter("cloudwatch.GetMetricData")
        period = timedelta(seconds=self.w.settings.metric_period_seconds)
        start, end = fetch_window(self.w.settings, now)
        end -= period * self.w.publish_delay_periods
        source: list[Datapoint] = []
        target: list[Datapoint] = []
        at = align(start, self.w.settings.metric_period_seconds)
        while at < end:
            regime = self.w.value_at(at)
            if regime.source is not None:
                source.append(Datapoint(at, regime.source))
            if regime.target is not None:
                target.append(Datapoint(at, regime.target))
            at += period
        return tuple(reversed(source)), tuple(reversed(target))


class FakeAlarms:
    def __init__(self, world: World) -> None:
        self.w = world

    def in_alarm(self) -> tuple[str, ...]:
        self.w.enter("cloudwatch.DescribeAlarms")
        return tuple(self.w.alarms)


class FakeTask:
    def __init__(self, world: World) -> None:
        self.w = world

    def describe_all(self) -> tuple[TaskObservation, TaskObservation | None]:
        self.w.enter("dms.DescribeReplicationTasks")
        return self.w.task, self.w.reverse_task

    def table_statistics(self) -> list[dict[str, Any]]:
        self.w.enter("dms.DescribeTableStatistics")
        return list(self.w.table_statistics)


class FakeCluster:
    def __init__(self, world: World) -> None:
        self.w = world

    def status(self) -> str | None:
        self.w.enter("rds.DescribeDBClusters")
        return self.w.cluster


class FakeParams:
    def __init__(self, world: World) -> None:
        self.w = world

    def read_state(self) -> str:
        self.w.enter("ssm.GetParameter")
        if self.w.state_text is None:
            raise AwsError("ssm", "GetParameter", "ParameterNotFound", "state parameter missing")
        return self.w.state_text

    def write_state(self, text: str) -> None:
        kind = self.w.enter("ssm.PutParameter")
        self.w.state_text = text
        lost_answer(kind, "ssm", "PutParameter")

    def acquire_lock(self, value: str) -> bool:
        kind = self.w.enter("ssm.PutParameter")
        if self.w.lock is not None:
            # A lost answer to a refused create is the same refusal seen as a timeout.
            lost_answer(kind, "ssm", "PutParameter")
            return False
        self.w.lock = (value, self.w.clock.now)
        lost_answer(kind, "ssm", "PutParameter")
        return True

    def read_lock(self) -> LockInfo | None:
        self.w.enter("ssm.GetParameter")
        return LockInfo(*self.w.lock) if self.w.lock is not None else None

    def overwrite_lock(self, value: str) -> None:
        kind = self.w.enter("ssm.PutParameter")
        self.w.lock = (value, self.w.clock.now)
        lost_answer(kind, "ssm", "PutParameter")

    def release_lock(self) -> bool:
        kind = self.w.enter("ssm.DeleteParameter")
        if self.w.lock is None:
            lost_answer(kind, "ssm", "DeleteParameter")
            return False
        self.w.lock = None
        lost_answer(kind, "ssm", "DeleteParameter")
        return True


class FakeNotifier:
    def __init__(self, world: World) -> None:
        self.w = world

    def publish(self, notification: Notification) -> None:
        kind = self.w.enter("sns.Publish")
        self.w.published.append(notification)
        lost_answer(kind, "sns", "Publish")


class FakeIdentity:
    def __init__(self, world: World) -> None:
        self.w = world

    def caller_arn(self) -> str:
        # Not counted in ``calls``: the real adapter asks once per container, so call indexes stay those of the work.
        if self.w.caller is None:
            raise AwsError("sts", "GetCallerIdentity", "ExpiredToken", "injected: the credentials expired")
        return self.w.caller


def fake_adapters(world: World) -> Adapters:
    return Adapters(
        records=FakeRecords(world),
        metrics=FakeMetrics(world),
        alarms=FakeAlarms(world),
        task=FakeTask(world),
        cluster=FakeCluster(world),
        params=FakeParams(world),
        notifier=FakeNotifier(world),
        identity=FakeIdentity(world),
    )


def fake_engine(world: World, sleep: Callable[[float], None] | None = None) -> Engine:
    return Engine(
        world.settings,
        fake_adapters(world),
        clock=world.clock,
        sleep=sleep or world.clock.advance,
        emit=lambda record: world.logs.append(dict(record)),
    )


def run(world: World, trigger: Trigger) -> Any:
    """Run one invocation; call indexes for ``fail_at``/``hooks`` count from its first call."""
    world.calls.clear()
    return fake_engine(world).run(trigger)
