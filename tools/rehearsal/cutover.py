"""Every call the rehearsal makes into the cutover: the engine's ticks, the operator CLI's commands, the reset.

The engine is the deployed Lambda's (its Settings read from the function's environment), run
in-process like the EventBridge schedule runs it, with the holds shortened for a rehearsal. The CLI
commands run in-process too, through `tap_operator.cli.main(argv, engine=..., reverse=...)`, with the
rehearsal's database URLs.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tap_cutover.aws import build_adapters
from tap_cutover.engine import Engine, Result
from tap_cutover.logic import PairChange, Tick
from tap_cutover.settings import Settings
from tap_cutover.state import State, StateError

from tap_operator import cli, compare
from tap_operator.databases import parse_url

if TYPE_CHECKING:
    from boto3.session import Session

    from tap_operator.databases import Marker
    from tap_operator.writer_move import ReverseReplication

OPERATOR = "rehearsal"
# A rehearsal holds each read step for seconds, not the configured quarter hour, and judges one metric period.
REHEARSAL_STEP_HOLD_SECONDS = 5
REHEARSAL_LATENCY_PERIODS = 1


def rehearsal_settings(deployed: Settings, *, drain_timeout_seconds: int | None = None) -> Settings:
    """The deployed Lambda's settings with the holds shortened; TTLs, thresholds and everything else stay as deployed."""
    settings = replace(deployed, step_hold_seconds=REHEARSAL_STEP_HOLD_SECONDS, latency_periods=REHEARSAL_LATENCY_PERIODS)
    if drain_timeout_seconds is not None:
        settings = replace(
            settings,
            drain_timeout_seconds=drain_timeout_seconds,
            drain_poll_seconds=min(settings.drain_poll_seconds, drain_timeout_seconds),
        )
    return settings


@dataclass
class EngineLog:
    """The engine's structured log lines (what the Lambda would write to CloudWatch Logs)."""

    records: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, record: Mapping[str, Any]) -> None:
        self.records.append({"at": time.time(), **record})

    def alerts(self) -> list[dict[str, Any]]:
        return [record for record in self.records if record.get("event") == "cutover_alert"]


def build_engine(settings: Settings, session: Session, log: EngineLog) -> Engine:
    return Engine(settings, build_adapters(settings, session), emit=log)


def tick(engine: Engine) -> Result:
    """What the EventBridge schedule does: one invocation with a scheduled tick."""
    return engine.run(Tick("schedule"))


def read_state(engine: Engine) -> State:
    return State.parse(engine.adapters.params.read_state())


def reset_cutover(engine: Engine, dms: Any) -> list[str]:
    """Put the cutover back to its deployed start so a rehearsal can run again; returns what it did, one line each.

    * a lock left by an interrupted run is deleted;
    * the state parameter becomes {"version": <current + 1>, "phase": "replicating"} (the version moves on, so
      nothing that read the old state can write over the new one);
    * both record pairs go back to source 100 / Aurora 0 with RECORD_TTL;
    * the DMS task is stopped if it runs, so the task gate stays red until the rehearsal's initial copy is done.
    """
    settings = engine.settings
    params = engine.adapters.params
    done: list[str] = []
    if params.release_lock():
        done.append(f"deleted the lock parameter {settings.lock_parameter_name} left by an earlier run")
    try:
        version = State.parse(params.read_state()).version
    except StateError:
        version = 0
    params.write_state(json.dumps({"version": version + 1, "phase": "replicating"}))
    done.append(f"state {settings.state_parameter_name} -> version {version + 1}, phase replicating")
    engine.adapters.records.apply([PairChange("reader", 0, settings.record_ttl), PairChange("writer", 0, settings.record_ttl)])
    done.append(
        f"{settings.reader_record_name} and {settings.writer_record_name} -> source 100 / aurora 0, TTL {settings.record_ttl}s"
    )
    task = _task(dms, settings.dms_replication_arn)
    if task.get("Status") == "running":
        dms.stop_replication_task(ReplicationTaskArn=settings.dms_replication_arn)
        done.append(f"stopped the DMS task {settings.dms_resource_id} (it starts again once the initial copy is done)")
    reverse_arn = settings.dms_reverse_replication_arn
    if reverse_arn is not None and _task(dms, reverse_arn).get("Status") == "running":
        dms.stop_replication_task(ReplicationTaskArn=reverse_arn)
        done.append(f"stopped the reverse DMS task {reverse_arn.rsplit(':', 1)[1]} left running by an earlier run")
    return done


def _task(dms: Any, arn: str) -> dict[str, Any]:
    tasks = dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])["ReplicationTasks"]
    if not tasks:
        raise RuntimeError(f"the DMS task {arn} does not exist in the emulator")
    task: dict[str, Any] = tasks[0]
    return task


def start_dms_task(dms: Any, arn: str) -> str:
    """Start the emulator's task once the real initial copy finished: it then reports running, full load 100 %."""
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    task = _task(dms, arn)
    percent = task.get("ReplicationTaskStats", {}).get("FullLoadProgressPercent")
    return f"DMS task {arn.rsplit(':', 1)[1]}: {task.get('Status')}, full load {percent}%"


class MirroredReverse:
    """The rehearsal's native reverse replication, mirrored onto the emulator's two DMS tasks.

    The deployed Lambda watches the reverse task once the CLI recorded its start (the forward task is
    then stopped): the emulator's tasks follow what the native replication does, so the gates judge the
    replication that really carries the writes, as they would judge DMS.
    """

    def __init__(self, native: ReverseReplication, dms: Any, settings: Settings) -> None:
        if settings.dms_reverse_replication_arn is None:
            raise ValueError("the deployed stack has no reverse replication task to mirror")
        self.native = native
        self._dms = dms
        self._forward = settings.dms_replication_arn
        self._reverse = settings.dms_reverse_replication_arn

    def start(self, marker: Marker) -> str:
        started = self.native.start(marker)
        self._stop(self._forward)
        self._dms.start_replication_task(ReplicationTaskArn=self._reverse, StartReplicationTaskType="start-replication")
        return f"{started}; emulator: forward DMS task stopped, reverse DMS task running"

    def stop(self) -> str:
        stopped = self.native.stop()
        self._stop(self._reverse)
        return f"{stopped}; emulator: reverse DMS task stopped"

    def abandon(self) -> str:
        abandoned = self.native.abandon()
        self._stop(self._reverse)
        if _task(self._dms, self._forward).get("Status") != "running":
            self._dms.start_replication_task(ReplicationTaskArn=self._forward, StartReplicationTaskType="resume-processing")
        return f"{abandoned}; emulator: reverse DMS task stopped, forward DMS task running"

    def _stop(self, arn: str) -> None:
        if _task(self._dms, arn).get("Status") == "running":
            self._dms.stop_replication_task(ReplicationTaskArn=arn)


@dataclass(frozen=True)
class CliRun:
    """One operator CLI command run in-process."""

    argv: tuple[str, ...]  # without the credentials
    exit_code: int
    result: dict[str, Any] | None  # the --json result object
    stderr: str
    started_at: float
    ended_at: float

    @property
    def status(self) -> str | None:
        return None if self.result is None else str(self.result.get("status"))

    @property
    def message(self) -> str:
        if self.result is not None:
            return str(self.result.get("message", ""))
        return self.stderr.strip().splitlines()[-1] if self.stderr.strip() else f"exit {self.exit_code}, no result"


class _EchoLines(io.TextIOBase):
    """A stderr that hands every complete line to `echo` the moment it is written, and keeps the whole text."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        super().__init__()
        self._echo = echo
        self._pending = ""
        self._text: list[str] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._text.append(text)
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        for line in lines:
            self._echo(line)
        return len(text)

    def flush(self) -> None:
        """Written lines are echoed already; a partial line waits for its end (or `getvalue`)."""

    def getvalue(self) -> str:
        if self._pending:
            self._echo(self._pending)
            self._pending = ""
        return "".join(self._text)


def run_cli(
    engine: Engine,
    command: Sequence[str],
    *,
    source_url: str,
    target_url: str,
    reverse: ReverseReplication | None,
    echo: Callable[[str], None] = lambda _: None,
    hidden: Sequence[str] = (),
) -> CliRun:
    """`cli.main([--operator rehearsal --json] + command + [--source-url ... --target-url ...] + hidden)` with this engine.

    Its stderr lines reach `echo` as they are written (each with its own time in the rehearsal's log), not
    after the command returned. The URLs and `hidden` (arguments that carry credentials) are not recorded.
    """
    argv = ["--operator", OPERATOR, "--json", *command]
    out, err = io.StringIO(), _EchoLines(lambda line: echo(f"  cli: {line}"))
    started = time.time()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([*argv, "--source-url", source_url, "--target-url", target_url, *hidden], engine=engine, reverse=reverse)
    ended = time.time()
    try:
        loaded = json.loads(out.getvalue()) if out.getvalue().strip() else None
    except ValueError:
        loaded = None
    return CliRun(tuple(argv), code, loaded if isinstance(loaded, dict) else None, err.getvalue(), started, ended)


def evidence_times(result: Mapping[str, Any] | None) -> dict[str, datetime]:
    """fence_proven_at, drain_reached_at, sequences_synced_at, ... from a CLI result's state evidence."""
    evidence = (result or {}).get("evidence") or {}
    # Only the moments: the evidence also carries what the data proof was (its kind and summary).
    return {
        name: datetime.fromisoformat(value) for name, value in evidence.items() if name.endswith("_at") and isinstance(value, str)
    }


def prove_data(
    engine: Engine,
    source_url: str,
    target_url: str,
    echo: Callable[[str], None],
    *,
    mappings: str | None = None,
    lag_seconds: float | None = None,
) -> dict[str, Any]:
    """`./cutover compare --record` as the operator runs it before the fence: the data proof the flip requires.

    Compares the tables the deployed task's mappings select, on the live replicating pair (a difference
    counts only if it persists once the replication applied what the source had), and records a clean
    result through this engine. Returns what the report shows. `lag_seconds` is compare's --lag-seconds: how long
    a differing chunk waits before it is read again on a pair that tells no applied position (MySQL/MariaDB).
    """
    if mappings is None:  # the deployed stack's task mappings (the MariaDB rehearsal passes its own)
        from lib.config import load_config  # noqa: PLC0415  (the rehearsal's own config, read once here)

        config = load_config(env={"TAP_TARGET": "aws"})  # the target needs no URL
        task_key = config.cutover.task_key if config.cutover else next(iter(config.dms.tasks))
        mappings = config.dms.tasks[task_key].table_mappings
    echo("operator: ./cutover compare --record (schema and checksummed primary-key chunks on both sides)")
    report = compare.compare_databases(
        parse_url(source_url, "source"),
        parse_url(target_url, "target"),
        mappings,
        compare.Options(lag_seconds=lag_seconds),
        progress=lambda index, total, table: echo(f"operator: compare [{index}/{total}] {table.line('source', 'target')}"),
    )
    echo(f"operator: ./cutover compare -> {report.summary}")
    recorded = compare.record_data_proof(engine, OPERATOR, report) if report.ok else None
    if recorded is not None:
        echo(f"operator: data proof {recorded.status}: {recorded.message}")
    return {
        "equal": report.ok,
        "summary": report.summary,
        "seconds": round(report.seconds, 2),
        "live": report.live,
        "tables": len(report.tables),
        "recorded": None if recorded is None else f"{recorded.status}: {recorded.message}",
        "not_equal": [
            {
                "table": table.line(report.reference_role, report.compared_role),
                "differences": [d.describe(report.reference_role, report.compared_role) for d in table.differences[:5]],
                "in_flux": table.in_flux,
            }
            for table in report.tables
            if not table.equal
        ],
    }
