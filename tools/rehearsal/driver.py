"""The rehearsal from start to end: stack, clusters, data, replication, workload, cutover, verdicts, report.

Every wait is bounded: by --duration for the cutover itself, by fixed timeouts for the setup. Whatever
happens (an error, Ctrl-C, SIGTERM), the workload stops, both clusters are stopped and deleted, and an
emulator this rehearsal started is stopped; the verdicts and the report are still produced when the
databases were reached.
"""

from __future__ import annotations

import contextlib
import random
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError
from tap_cutover.engine import Engine, Result
from tap_cutover.ports import AwsError
from tap_cutover.settings import Settings

from lib.constants import Output
from tap_operator.cli import settings_from_lambda
from tap_operator.writer_move import ReverseReplication
from tools.rehearsal import cutover, schema
from tools.rehearsal.engines import Forward, NativeReverse, PostgresEngine, RehearsalEngine, engine_for
from tools.rehearsal.latency_proxy import LatencyProxy
from tools.rehearsal.monitor import Monitor
from tools.rehearsal.report import human_summary, longest_gap, longest_pause, phase_durations, seconds_between
from tools.rehearsal.resolver import ClientPool, NameTable, WeightedResolver, describe
from tools.rehearsal.sides import Pair, Role, Side
from tools.rehearsal.stack import emulator_stack
from tools.rehearsal.timeline import Timeline
from tools.rehearsal.verdicts import MarkerWatcher, SnapshotComparison, WriteVerdict, summarize
from tools.rehearsal.workload import Workload, WorkloadConfig

INITIAL_COPY_TIMEOUT_SECONDS = 600.0
TICK_SECONDS = 1.5  # the EventBridge schedule, sped up
ADVANCE_RETRY_SECONDS = 5.0
POST_FLIP_SECONDS = 15.0  # writes on the new writer before 'advance' (complete) or the rollback
POST_ROLLBACK_SECONDS = 10.0
BREAK_DRAIN_TIMEOUT_SECONDS = 10
TTL_SLACK_SECONDS = 0.5
FIRST_SAMPLE_TIMEOUT_SECONDS = 15.0
OWN_PERIOD_GRACE_SECONDS = 2.0  # CloudWatch (the emulator) answers for a period right after it ends
HEARTBEAT_SECONDS = 10.0  # a wait says what it waits for at least this often
DNS_CLIENTS = 20  # the readers' DNS clients, each with its own cache (resolver.ClientPool)
LAG_STOPPED_AT_ROLLBACK = "the rollback stopped the reverse replication;\nno replication left whose lag could be measured"


class RehearsalTimeoutError(RuntimeError):
    pass


@dataclass
class Options:
    duration_s: float = 600.0  # the bound on the whole scenario; with --duration, also how long the application writes
    write_until_duration: bool = False  # --duration given: keep writing after the scenario until it ends
    rate: float = 200.0
    rows: int = schema.DEFAULT_ROWS
    rollback: bool = False
    break_replication: bool = False
    writers: int = 4
    readers: int = 2
    read_rate: float = 50.0
    dns_clients: int = DNS_CLIENTS
    png: Path | None = None  # where the timeline PNG goes (None: no picture)
    seed: int = 14
    tables: int = 0  # extra tables, each with its own sequence (schema.create_extra_tables)
    rtt_ms: float = 0.0  # round-trip time the operator CLI's connections pay (clusters.operator_proxies)
    engine: str = "postgres"  # engines.ENGINES: the database engine both sides run

    @property
    def mode(self) -> str:
        return "break-replication" if self.break_replication else "rollback" if self.rollback else "cutover"


@dataclass
class Run:
    """What the rehearsal saw, filled in as it goes (the report reads it, also after a failure)."""

    options: Options
    say: Callable[[str], None]
    databases: RehearsalEngine = field(default_factory=PostgresEngine)  # what differs per database engine
    server_version: str | None = None
    setup_s: dict[str, float] = field(default_factory=dict)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    cli_runs: list[cutover.CliRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    comparisons: list[SnapshotComparison] = field(default_factory=list)
    data_proof: dict[str, Any] | None = None  # `./cutover compare --record` before the fence
    fence: cutover.CliRun | None = None
    rollback: cutover.CliRun | None = None
    completed: cutover.CliRun | None = None
    name_table: list[str] = field(default_factory=list)
    data_counts: dict[str, int] = field(default_factory=dict)
    final_phase: str | None = None
    final_writer: str | None = None
    proxies: dict[Role, LatencyProxy] = field(default_factory=dict)  # --rtt-ms: the operator's latency proxies
    fence_round_trips: dict[str, dict[str, int]] = field(default_factory=dict)  # what `fence --confirm` paid per side
    status: Callable[[], str] = lambda: ""  # what a heartbeat line adds (the lag, the writes so far)


def _logger(stream: TextIO, started: float) -> Callable[[str], None]:
    def say(message: str) -> None:
        stream.write(f"[rehearsal +{time.monotonic() - started:6.1f}s] {message}\n")
        stream.flush()

    return say


@contextlib.contextmanager
def _timed(run: Run, step: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        run.setup_s[step] = round(time.monotonic() - started, 3)


def _note(run: Run, result: Result) -> Result:
    run.transitions.extend(t.details() for t in result.transitions)
    for transition in result.transitions:
        moved = f"{transition.previous.phase.value} -> {transition.state.phase.value}"
        run.say(f"cutover: {transition.event} ({moved}): {transition.reason}")
    return result


def _cli(run: Run, engine: Engine, command: list[str], clusters: Pair, reverse: ReverseReplication | None) -> cutover.CliRun:
    shown, hidden = run.databases.cli_arguments(command, clusters)
    hidden_names = " ".join(argument for argument in hidden if argument.startswith("--"))
    run.say(f"operator: ./cutover {' '.join([*command, *shown])}" + (f" {hidden_names} ..." if hidden_names else ""))
    outcome = cutover.run_cli(
        engine,
        [*command, *shown],
        source_url=clusters.source.operator_url(),
        target_url=clusters.target.operator_url(),
        reverse=reverse,
        echo=run.say,
        hidden=hidden,
    )
    run.cli_runs.append(outcome)
    if outcome.result is not None:
        run.transitions.extend(outcome.result.get("transitions") or [])
    run.say(f"operator: ./cutover {command[0]} -> exit {outcome.exit_code}, {outcome.status}: {outcome.message}")
    return outcome


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.seconds = seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def check(self, waiting_for: str) -> None:
        if self.left() <= 0:
            raise RehearsalTimeoutError(
                f"--duration {self.seconds:.0f}s ended while waiting for {waiting_for}; a cutover needs about one metric "
                "period, the read steps' holds, RECORD_TTL and the fence: give it more time"
            )


def _tick_until(run: Run, engine: Engine, deadline: Deadline, done: Callable[[Result], bool], what: str) -> Result:
    while True:
        result = _note(run, cutover.tick(engine))
        if done(result):
            return result
        if result.state is not None and result.state.phase.value == "paused":
            raise RuntimeError(f"the cutover paused while waiting for {what}: {result.message}")
        deadline.check(what)
        time.sleep(TICK_SECONDS)


def _wait(run: Run, seconds: float, what: str, step: Callable[[], object] | None = None) -> None:
    """Wait `seconds`, calling `step` every tick, and say every HEARTBEAT_SECONDS what it waits for: never silent."""
    end = time.monotonic() + seconds
    beat = time.monotonic() + HEARTBEAT_SECONDS
    while (now := time.monotonic()) < end:
        if now >= beat:
            if end - now >= 1.0:
                run.say(f"still {what}: {end - now:.0f}s left{run.status()}")
            beat += HEARTBEAT_SECONDS
        if step is not None:
            step()
        pause = min(TICK_SECONDS if step is not None else HEARTBEAT_SECONDS, end - time.monotonic(), beat - time.monotonic())
        time.sleep(max(0.0, pause))


def _keep_ticking(run: Run, engine: Engine, seconds: float, what: str) -> None:
    _wait(run, seconds, what, lambda: _note(run, cutover.tick(engine)))


def _status(monitor: Monitor, workload: Workload) -> str:
    """What a heartbeat line adds: the lag just measured and the writes so far."""
    sample = monitor.latest()
    lag = f"lag {sample.target_s:.2f}s" if sample is not None and sample.target_s is not None else "lag not measured"
    return f" ({lag}, {len(workload.records)} writes logged)"


def _name_table(settings: Settings, clusters: Pair) -> NameTable[Side]:
    return NameTable(
        {
            settings.source_host: clusters.source,
            settings.aurora_writer_endpoint: clusters.target,
            settings.aurora_reader_endpoint: clusters.target,
        }
    )


def _start(run: Run, engine: Engine, clusters: Pair, *, monitor: Monitor, period_s: int, deadline: Deadline) -> None:
    """'advance' from replicating: preflight on the databases, then the gates on a metric period of this run's own lag."""
    first = monitor.wait_for_first_sample(FIRST_SAMPLE_TIMEOUT_SECONDS)
    if first is None:
        raise RuntimeError(
            f"the lag monitor measured nothing within {FIRST_SAMPLE_TIMEOUT_SECONDS:.0f}s: {monitor.failures[-3:]}"
        )
    wait = monitor.own_period_end(first) + OWN_PERIOD_GRACE_SECONDS - time.time()
    if wait > 0:
        run.say(f"waiting {wait:.0f}s until a whole {period_s}s metric period holds only this run's measured lag")
        deadline.check("a metric period of this run's own lag")
        _wait(run, min(wait, max(deadline.left(), 0.0)), "waiting for a metric period of this run's own lag")
    last, said_at = "", time.monotonic()
    while True:
        outcome = _cli(run, engine, ["advance"], clusters, None) if not last else _quiet_advance(run, engine, clusters)
        if outcome.status == "changed":
            return
        if outcome.message != last:
            run.say(f"start refused (retrying every {ADVANCE_RETRY_SECONDS:.0f}s): {outcome.message}")
            last, said_at = outcome.message, time.monotonic()
        elif time.monotonic() - said_at >= HEARTBEAT_SECONDS:
            run.say(f"start still refused, retrying{run.status()}")
            said_at = time.monotonic()
        deadline.check("the gates to allow the start")
        time.sleep(ADVANCE_RETRY_SECONDS)


def _quiet_advance(run: Run, engine: Engine, clusters: Pair) -> cutover.CliRun:
    shown, hidden = run.databases.cli_arguments(["advance"], clusters)
    outcome = cutover.run_cli(
        engine,
        ["advance", *shown],
        source_url=clusters.source.operator_url(),
        target_url=clusters.target.operator_url(),
        reverse=None,
        hidden=hidden,
    )
    run.cli_runs.append(outcome)
    if outcome.result is not None:
        run.transitions.extend(outcome.result.get("transitions") or [])
    if outcome.status == "changed":
        run.say(f"operator: ./cutover advance -> {outcome.status}: {outcome.message}")
    return outcome


def _events_from(timeline: Timeline, outcome: cutover.CliRun | None, prefix: str = "") -> None:
    for name, moment in cutover.evidence_times(outcome.result if outcome else None).items():
        if name != "fence_confirmed_at" or moment.timestamp() >= timeline.started_at:
            timeline.event(prefix + name.removesuffix("_at"), moment.timestamp())


def _cutover(
    run: Run,
    *,
    engine: Engine,
    settings: Settings,
    clusters: Pair,
    link: Forward,
    monitor: Monitor,
    timeline: Timeline,
    deadline: Deadline,
    dms: Any,
) -> None:
    options = run.options
    _start(run, engine, clusters, monitor=monitor, period_s=settings.metric_period_seconds, deadline=deadline)
    timeline.event("advance (start)")
    fenced = _tick_until(
        run, engine, deadline, lambda r: r.state is not None and r.state.phase.value == "write_fence", "write_fence"
    )
    timeline.event("write_fence (TTL lowered)")
    assert fenced.state is not None and fenced.state.ttl_lowered_at is not None
    # The flip waits until resolvers dropped answers cached with the old TTL; fencing after that keeps the outage short.
    settle = fenced.state.ttl_lowered_at.timestamp() + settings.record_ttl + TTL_SLACK_SECONDS - time.time()
    if settle > 0:
        run.say(f"waiting {settle:.0f}s for answers cached with RECORD_TTL {settings.record_ttl}s to expire before fencing")
        deadline.check("RECORD_TTL to expire")
        _keep_ticking(run, engine, min(settle, max(deadline.left(), 0.0)), "waiting for RECORD_TTL to expire")
    # The flip needs a data proof: a clean compare on the live pair, recorded as the operator would, before the
    # fence (and, with --break-replication, before the replication breaks: the drain is what must catch it).
    # Direct URLs: compare reads every table chunk by chunk, minutes of round trips over --rtt-ms with thousands of
    # tables; it runs before the fence (no write outage), and the fence window is what --rtt-ms is here to price.
    lag_seconds = run.databases.compare_lag_seconds(_recent_lag(monitor, settings.metric_period_seconds))
    run.data_proof = cutover.prove_data(
        engine,
        clusters.source.admin_url(),
        clusters.target.admin_url(),
        run.say,
        mappings=run.databases.mappings(),
        lag_seconds=lag_seconds,
    )
    if options.break_replication:
        link.disable()
        timeline.event("replication broken")
        run.say(f"--break-replication: replication {link.name} disabled before the fence; the drain must time out")
    # A stack with a reverse task starts one at every flip (the CLI would start the DMS task), a rollback needs one.
    reverse: ReverseReplication | None = None
    if options.rollback or settings.dms_reverse_replication_arn is not None:
        native = _measured_reverse(run.databases, link, monitor, timeline)
        reverse = cutover.MirroredReverse(native, dms, settings) if settings.dms_reverse_replication_arn else native
    watcher = run.databases.marker_watcher(
        clusters.source, clusters.target, clusters.target, settings.drain_timeout_seconds + 60.0
    ).start()
    before = {role: proxy.stats.to_dict() for role, proxy in run.proxies.items()}
    run.fence = _cli(run, engine, ["fence", "--confirm"], clusters, reverse)
    for role, proxy in run.proxies.items():
        after = proxy.stats.to_dict()
        run.fence_round_trips[role] = {key: after[key] - before[role][key] for key in ("round_trips", "connections")}
    watcher.finish()
    _keep_watch(run, watcher)
    _events_from(timeline, run.fence)
    if options.break_replication:
        run.rollback = _cli(run, engine, ["rollback", "--confirm"], clusters, None)
        timeline.event("rollback (reads, source writable)")
        _keep_ticking(run, engine, POST_ROLLBACK_SECONDS, "writing on the source after the rollback")
        return
    if run.fence.status != "changed":
        raise RuntimeError(f"the writer did not flip: {run.fence.message}")
    _keep_ticking(run, engine, POST_FLIP_SECONDS, "writing on the target after the flip")
    if options.rollback:
        assert reverse is not None
        watcher = run.databases.marker_watcher(
            clusters.target, clusters.source, clusters.source, settings.drain_timeout_seconds + 60.0
        ).start()
        run.rollback = _cli(run, engine, ["rollback", "--writer", "--confirm"], clusters, reverse)
        watcher.finish()
        _keep_watch(run, watcher)
        timeline.event("writer rolled back")
        if run.rollback.status != "changed":
            raise RuntimeError(f"the writer did not move back: {run.rollback.message}")
        _keep_ticking(run, engine, POST_ROLLBACK_SECONDS, "writing on the source after the writer moved back")
        return
    run.completed = _cli(run, engine, ["advance"], clusters, None)
    timeline.event("completed")


def _recent_lag(monitor: Monitor, seconds: float) -> float | None:
    """The highest CDCLatencyTarget measured in the last `seconds` (None: nothing measured), as the gates showed it."""
    since = time.time() - seconds
    lags = [sample.target_s for sample in list(monitor.samples) if sample.at >= since and sample.target_s is not None]
    return max(lags) if lags else None


def _measured_reverse(databases: RehearsalEngine, link: Forward, monitor: Monitor, timeline: Timeline) -> NativeReverse:
    """The reverse replication, its lag measured while it runs; the timeline notes why the lag ends when it stops."""

    def started(reverse_link: Any) -> None:
        timeline.lag_resume()
        monitor.measure(databases.lag_meter(reverse_link))

    def stopped() -> None:
        if native.link is None:  # abandoned (the flip did not happen): the forward replication applies again
            monitor.measure(databases.lag_meter(link))
        else:
            monitor.measure(None)
            timeline.lag_stop(LAG_STOPPED_AT_ROLLBACK)

    native = databases.reverse(link, started, stopped)
    return native


def _leave_fresh(engine: Engine, dms: Any, say: Callable[[str], None]) -> None:
    try:
        for line in cutover.reset_cutover(engine, dms):
            say(f"reset after the run: {line}")
    except (BotoCoreError, ClientError, AwsError) as error:
        say(f"could not reset the cutover after the run (the emulator went away?): {error}")


def _keep_watch(run: Run, watcher: MarkerWatcher) -> None:
    if watcher.result is not None:
        run.comparisons.append(watcher.result)
        for line in summarize([watcher.result])[:1]:
            run.say(line)
    elif not run.options.break_replication or watcher.caught_up.role == "source":
        run.problems.append(f"tables at the fence were not compared ({watcher.caught_up.label}): {watcher.error}")


@dataclass
class _Deployment:
    """The deployed stack as the rehearsal drives it: its settings, the in-process engine and AWS clients."""

    settings: Settings
    engine: Engine
    engine_log: cutover.EngineLog
    dms: Any
    cloudwatch: Any
    route53: Any


def _deployment(run: Run, cleanup: contextlib.ExitStack) -> _Deployment:
    options, say = run.options, run.say
    with _timed(run, "stack"):
        stack = cleanup.enter_context(emulator_stack(say))
        stack.activate()
        session = stack.session()
        deployed = settings_from_lambda(session, str(stack.outputs[Output.CUTOVER_FUNCTION_NAME]))
        settings = cutover.rehearsal_settings(
            deployed, drain_timeout_seconds=BREAK_DRAIN_TIMEOUT_SECONDS if options.break_replication else None
        )
        engine_log = cutover.EngineLog()
        engine = cutover.build_engine(settings, session, engine_log)
        found = _Deployment(
            settings, engine, engine_log, stack.client("dms"), stack.client("cloudwatch"), stack.client("route53")
        )
        for line in cutover.reset_cutover(engine, found.dms):
            say(f"reset: {line}")
        if not stack.started_emulator:
            # A deployment somebody else may use is left as a fresh one (the report keeps what happened).
            cleanup.callback(_leave_fresh, engine, found.dms, say)
    return found


def _loaded_clusters(run: Run, cleanup: contextlib.ExitStack, settings: Settings) -> tuple[Pair, NameTable[Side]]:
    """Two servers with the rehearsal's schema and data (behind latency proxies with --rtt-ms), and the names."""
    options, say = run.options, run.say
    with _timed(run, "clusters"):
        clusters, run.proxies = run.databases.servers(cleanup, options.rtt_ms)
        if run.proxies:
            say(f"--rtt-ms {options.rtt_ms:g}: the operator CLI connects through a latency proxy in front of each cluster")
    run.server_version = run.databases.server_version(clusters)
    say(f"{run.databases.name} {run.server_version}: {clusters.source.label} (on-premises source), "
        f"{clusters.target.label} (stands in for Aurora)")  # fmt: skip
    with _timed(run, "load"):
        run.data_counts = run.databases.load(clusters, options.rows, options.tables)
    copied = "pg_dump --schema-only" if run.databases.name == "postgres" else "the binlog (replicated from the start)"
    say(f"source data: {run.data_counts}; target schema from {copied}")
    names = _name_table(settings, clusters)
    run.name_table = describe(names, lambda cluster: cluster.label)
    say("Route 53 names -> clusters:")
    for line in run.name_table:
        say(f"  {line}")
    return clusters, names


def _workload(run: Run, deployment: _Deployment, names: NameTable[Side], timeline: Timeline) -> Workload:
    options, settings = run.options, deployment.settings
    config = WorkloadConfig(
        rate=options.rate,
        writers=options.writers,
        readers=options.readers,
        read_rate=options.read_rate,
        customers=run.data_counts["customers"],
        ledger_seed_rows=run.data_counts["ledger"],
        seed=options.seed,
    )

    route53, zone = deployment.route53, settings.hosted_zone_id

    def writer(index: int) -> WeightedResolver:  # every writer thread is an application host with its own cache
        return WeightedResolver(route53, zone, settings.writer_record_name, rng=random.Random(options.seed * 100 + index))  # noqa: S311

    # The readers serve many DNS clients: the share of reads on Aurora follows the reader weight step by step.
    readers = ClientPool(route53, zone, settings.reader_record_name, options.dns_clients, seed=options.seed * 100 + 50)
    return Workload(config, names, writer, lambda _: readers, timeline, dialect=run.databases.dialect)


def _judge(run: Run, engine: Engine, clusters: Pair, workload: Workload) -> WriteVerdict:
    """Where the writer record points now, and every acknowledged write judged on that cluster."""
    state = cutover.read_state(engine)
    run.final_phase = state.phase.value
    writer = engine.adapters.records.read().get("writer")
    on_aurora = writer is not None and writer.records.get("aurora") is not None and writer.records["aurora"].weight == 100
    final = clusters.target if on_aurora else clusters.source
    run.final_writer = final.role
    run.say(f"workload stopped; the writer record points at the {final.role}; judging every acknowledged write there")
    return run.databases.judge(final, workload.records)


def rehearse(options: Options, stream: TextIO | None = None) -> dict[str, Any]:
    """Run the whole rehearsal; returns the report (see report.py). Raises only for setup failures."""
    run = Run(options, _logger(stream or sys.stderr, time.monotonic()), engine_for(options.engine))
    bound = f"{options.duration_s:.0f}s"
    ends = f"after --duration {bound}" if options.write_until_duration else f"when the scenario is done (at most {bound})"
    run.say(f"mode {options.mode}: {options.rate:g} writes/s, {options.rows} rows, ends {ends}")
    with contextlib.ExitStack() as cleanup:
        deployment = _deployment(run, cleanup)
        settings, engine = deployment.settings, deployment.engine
        clusters, names = _loaded_clusters(run, cleanup, settings)
        timeline = Timeline()
        monitor = Monitor(None, deployment.cloudwatch, settings, engine.adapters.records.read, timeline).start()
        cleanup.callback(monitor.stop)
        workload = _workload(run, deployment, names, timeline)
        workload.start()
        cleanup.callback(workload.stop)
        run.status = lambda: _status(monitor, workload)
        deadline = Deadline(options.duration_s)
        run.say(run.databases.stand_in)
        with _timed(run, "initial_copy"):
            link = run.databases.start_forward(clusters)
            run.databases.wait_for_initial_copy(link, options.tables, INITIAL_COPY_TIMEOUT_SECONDS)
        # CDC lag is measured (and published as the task's CDCLatency*) from the end of the copy, as DMS does: a
        # long copy (thousands of tables) left periods without a datapoint, which the gates rightly call red.
        monitor.measure(run.databases.lag_meter(link))
        timeline.event("initial copy done")
        started_task = cutover.start_dms_task(deployment.dms, settings.dms_replication_arn)
        run.say(f"initial copy done in {run.setup_s['initial_copy']:.1f}s while the application wrote; {started_task}")
        try:
            _cutover(run, engine=engine, settings=settings, clusters=clusters, link=link, monitor=monitor,
                     timeline=timeline, deadline=deadline, dms=deployment.dms)  # fmt: skip
            if options.write_until_duration and deadline.left() > 0:
                run.say(f"writing on until --duration ends ({deadline.left():.0f}s)")
                _keep_ticking(run, engine, deadline.left(), "writing until --duration ends")
        except (RuntimeError, RehearsalTimeoutError) as problem:
            run.problems.append(str(problem))
            run.say(f"PROBLEM: {problem}")
        workload.stop()
        monitor.stop()
        verdict = _judge(run, engine, clusters, workload)
        report = build_report(run, workload=workload, verdict=verdict, timeline=timeline,
                              engine_log=deployment.engine_log, monitor_failures=monitor.failures)  # fmt: skip
        _picture(run, timeline, report, settings)
    return _with_setup(run, settings, report)


def _picture(run: Run, timeline: Timeline, report: dict[str, Any], settings: Settings) -> None:
    options = run.options
    if options.png is None:
        return
    from tools.rehearsal.picture import render_png  # noqa: PLC0415  (only the picture needs matplotlib)

    title = (
        f"{run.databases.name} {_short_version(run.server_version)} rehearsal ({options.mode}): "
        f"{options.rate:g} writes/s, {options.rows} rows, "
        f"{options.dns_clients} DNS clients reading, RECORD_TTL {settings.record_ttl} s, CUTOVER_TTL {settings.cutover_ttl} s"
    )
    thresholds = {
        f"LATENCY_THRESHOLD_SECONDS {settings.latency_threshold_seconds:g} s (the gates)": settings.latency_threshold_seconds,
        f"DRAIN_THRESHOLD_SECONDS {settings.drain_threshold_seconds:g} s (before the flip)": settings.drain_threshold_seconds,
    }
    try:
        render_png(timeline, options.png, {"source": "source", "target": "target (Aurora)"}, title, thresholds=thresholds)
    except (OSError, ValueError) as error:  # the verdicts stand without the picture
        report["png_error"] = f"{type(error).__name__}: {error}"
        run.say(f"could not write the timeline to {options.png}: {report['png_error']}")
        return
    report["png"] = str(options.png)
    run.say(f"timeline written to {options.png}")


def _short_version(version: str | None) -> str:
    """'10.11.19-MariaDB-0+deb12u1-log' -> '10.11.19', '15.10 (Debian 15.10-1)' -> '15.10' (the title must fit)."""
    return (version or "?").replace("-", " ").split(" ", 1)[0]


def _with_setup(run: Run, settings: Settings, report: dict[str, Any]) -> dict[str, Any]:
    report["setup_s"] = dict(run.setup_s)
    report["engine"], report["server_version"] = run.databases.name, run.server_version
    report["extra_tables"], report["rtt_ms"] = run.options.tables, run.options.rtt_ms
    report["dns_clients"] = run.options.dns_clients
    # The records' TTL while the writer flips is CUTOVER_TTL (lowered at the fence); RECORD_TTL before and after.
    report["record_ttl_s"], report["cutover_ttl_s"] = settings.record_ttl, settings.cutover_ttl
    report["operator_round_trips"] = {role: proxy.stats.to_dict() for role, proxy in run.proxies.items()} or None
    report["fence_round_trips"] = dict(run.fence_round_trips) or None
    return report


def _checks(
    run: Run, verdict: WriteVerdict, counts: Mapping[str, Any], duplicate_keys: int, engine_log: cutover.EngineLog
) -> tuple[dict[str, bool], str]:
    """What must hold for this mode, and the outcome it expects."""
    options = run.options
    flipped = run.fence is not None and run.fence.status == "changed"
    checks: dict[str, bool] = {
        "no acknowledged write lost": verdict.lost == 0,
        "no acknowledged write duplicated": verdict.duplicated == 0,
        "no insert on the target hit a duplicate key": duplicate_keys == 0,
        "no workload thread crashed": not counts["crashed_threads"],
    }
    if options.break_replication:
        alerts = [alert for alert in engine_log.alerts() if "drain" in str(alert.get("alert", "")).lower()]
        checks["the writer stayed on the source"] = run.final_writer == "source" and not flipped
        checks["the drain timed out and alerted"] = run.fence is not None and run.fence.status == "drain_failed" and bool(alerts)
        return checks, "replication broken before the fence: the drain never reached the marker, the writer stayed on the source"
    checks["tables equal on both sides at the fence"] = bool(run.comparisons) and run.comparisons[0].ok
    checks["compare before the fence found the tables equal"] = bool(run.data_proof and run.data_proof["equal"])
    checks["the writer flipped after the fence, drain and sequence sync"] = flipped
    if options.rollback:
        checks["the writer moved back keeping the target's writes"] = (
            run.rollback is not None and run.rollback.status == "changed" and run.final_writer == "source"
        )
        checks["tables equal on both sides at the rollback's fence"] = len(run.comparisons) > 1 and run.comparisons[1].ok
        return checks, "writer moved to the target and back; every write made on the target was carried back to the source"
    checks["cutover completed with the writer on the target"] = run.final_phase == "completed" and run.final_writer == "target"
    return checks, "writer moved to the target with every acknowledged write"


def _rollback_section(run: Run, workload: Workload, verdict: WriteVerdict) -> dict[str, Any] | None:
    """The writes made on the target between the flip and the rollback, judged with everything else on the source."""
    if not run.options.rollback:
        return None
    on_target = [record for record in workload.records if record.database == "target"]
    acknowledged = {record.txn_id for record in on_target if record.outcome == "acknowledged"}
    drain = ((run.rollback.result or {}).get("details") or {}).get("drain") if run.rollback else None
    return {
        "writes_acknowledged": len(acknowledged),
        "writes_lost": len(verdict.lost_txns & acknowledged),
        "writes_duplicated": len(verdict.duplicated_txns & {record.txn_id for record in on_target}),
        "writes_in_doubt": sum(1 for record in on_target if record.outcome == "in_doubt"),
        "write_unavailable_s": longest_gap(workload.records, "target", "source"),
        "drain_s": drain.get("waited_seconds") if isinstance(drain, Mapping) else None,
        "command_s": round(run.rollback.ended_at - run.rollback.started_at, 3) if run.rollback else None,
    }


def _operator_record(run: Run, engine_log: cutover.EngineLog) -> dict[str, Any]:
    """What the operator ran and what the engine said, as the report lists them."""
    return {
        "cli": [
            {
                "argv": list(c.argv),
                "exit": c.exit_code,
                "status": c.status,
                "message": c.message,
                "seconds": round(c.ended_at - c.started_at, 3),
            }
            for c in run.cli_runs
            if c.status != "rejected" or c is run.cli_runs[-1]
        ],
        "alerts": [{"alert": a.get("alert"), "message": a.get("message")} for a in engine_log.alerts()],
        "transitions": [
            {key: t.get(key) for key in ("at", "transition", "from", "to", "trigger", "reason")} for t in run.transitions
        ],
    }


def build_report(
    run: Run,
    *,
    workload: Workload,
    verdict: WriteVerdict,
    timeline: Timeline,
    engine_log: cutover.EngineLog,
    monitor_failures: list[str],
) -> dict[str, Any]:
    options = run.options
    counts = workload.counts()
    evidence = cutover.evidence_times(run.fence.result if run.fence else None)
    duplicate_keys = sum(
        n
        for (who, kind, db), n in workload.error_counts.items()
        if who == "writer" and kind == "duplicate_key" and db == "target"
    )
    checks, outcome = _checks(run, verdict, counts, duplicate_keys, engine_log)
    return {
        "mode": options.mode,
        "passed": all(checks.values()) and not run.problems,
        "outcome": outcome,
        "checks": checks,
        "problems": list(run.problems),
        "writes_acknowledged": verdict.acknowledged,
        "writes_lost": verdict.lost,
        "writes_duplicated": verdict.duplicated,
        "writes_in_doubt": verdict.in_doubt,
        "in_doubt_applied": verdict.in_doubt_applied,
        "in_doubt_not_applied": verdict.in_doubt_not_applied,
        "writes_refused": counts["refused_total"],
        "writes_refused_by_kind": counts["refused"],
        "read_errors": counts["read_errors"],
        "crashed_threads": counts["crashed_threads"],
        "duplicate_keys_after_flip": duplicate_keys,
        "write_unavailable_s": longest_gap(workload.records, "source", "target"),
        "longest_write_pause_s": longest_pause(workload.records),
        "drain_s": seconds_between(evidence.get("fence_proven_at"), evidence.get("drain_reached_at")),
        "sequence_sync_s": seconds_between(evidence.get("drain_reached_at"), evidence.get("sequences_synced_at")),
        "phases": phase_durations(run.transitions, datetime.now(UTC)),
        "rollback": _rollback_section(run, workload, verdict),
        "final_writer": run.final_writer,
        "final_phase": run.final_phase,
        "rate": options.rate,
        "rows": run.data_counts,
        "name_table": run.name_table,
        "verdict_examples": verdict.examples,
        "compare_before_fence": run.data_proof,
        "tables_at_fence": [comparison.to_dict() for comparison in run.comparisons],
        "table_lines": summarize(run.comparisons),
        **_operator_record(run, engine_log),
        "monitor_failures": list(monitor_failures),
        "timeline": timeline.to_dict(),
        "setup_s": dict(run.setup_s),
    }


def summary(report: Mapping[str, Any]) -> str:
    return human_summary(report)


__all__ = ["Options", "rehearse", "summary"]
