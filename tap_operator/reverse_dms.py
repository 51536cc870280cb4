"""The stack's reverse DMS replication (Aurora -> source), started by the operator CLI at the writer flip.

`start` runs after the drain and the sequence sync, with the source fenced and the writer record still on
the source, so no application write has reached Aurora yet:

1. stop the forward task and wait until it is stopped: a running forward task would capture the reverse
   task's writes into the source and send them back (DMS has no origin filter for these engines);
2. let the reverse task's account write into the fenced source (MySQL: lift super_read_only, read_only
   stays on; PostgreSQL: the reverse endpoint's sessions opt out themselves);
3. take the start position on Aurora: a fresh logical slot's LSN (PostgreSQL) or the binlog coordinates
   (MySQL); every later Aurora commit comes after it;
4. start the reverse task CDC-only from that position (`start-replication` + `CdcStartPosition`, the
   only way DMS starts a CDC task at a given position). It may still be `starting` at the flip: the slot
   keeps every change from the position on, so nothing is missed while DMS brings it up.

`stop` (after the writer moved back) stops the reverse task and drops its slot; the forward task stays
stopped because the source now holds changes the reverse task wrote, which a resumed forward task would
replay into Aurora: a new start needs a re-seed (docs/cutover.md). `abandon` (the flip did not happen)
stops the reverse task, drops its slot and resumes the forward task from its own checkpoint.

Calls: dms:DescribeReplicationTasks, dms:StopReplicationTask, dms:StartReplicationTask (Serverless:
dms:DescribeReplications, dms:StopReplication, dms:StartReplication). The operator's credentials make
them, not the Lambda's role.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tap_cutover.ports import AwsError, aws_call
from tap_cutover.settings import SERVERLESS_RESOURCE_TYPE

from .databases import (
    DatabaseError,
    Endpoint,
    Marker,
    admit_reverse_writer,
    release_reverse_position,
    reverse_start_position,
)

# Stopping a task takes seconds to a few minutes on AWS; starting one may take longer but is not waited for.
DEFAULT_STOP_TIMEOUT_SECONDS = 600.0
DEFAULT_POLL_SECONDS = 5.0
_RUNNING = frozenset({"starting", "running"})
# Passing states: wait them out (a starting replication can only be stopped once it runs).
_TRANSIENT = frozenset({"starting", "stopping"})


class ReverseReplicationError(DatabaseError):
    """A DMS call or state change the reverse start needs did not happen (the CLI reports it, no traceback)."""


@dataclass(frozen=True)
class ReplicationIds:
    forward_arn: str
    reverse_arn: str
    # PostgreSQL: the slot the reverse source endpoint names (the stack's reverse_slot_name output); MySQL: None.
    slot: str | None

    @property
    def serverless(self) -> bool:
        return self.forward_arn.split(":")[5] == SERVERLESS_RESOURCE_TYPE


class DmsReverseReplication:
    """`ReverseReplication` for the deployed stack: DMS tasks or Serverless replications, the slot on Aurora."""

    def __init__(
        self,
        client: Any,
        ids: ReplicationIds,
        *,
        source: Endpoint,
        target: Endpoint,
        stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_SECONDS,
        poll_s: float = DEFAULT_POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        say: Callable[[str], None] = lambda _: None,
    ) -> None:
        self._client = client
        self.ids = ids
        self._source = source
        self._target = target
        self._stop_timeout = stop_timeout_s
        self._poll = poll_s
        self._clock = clock
        self._sleep = sleep
        self._say = say
        self.position: str | None = None

    # -- ReverseReplication

    def start(self, marker: Marker) -> str:
        forward = self._stop(self.ids.forward_arn, "forward")
        admitted = admit_reverse_writer(self._source)
        self.position = reverse_start_position(self._target, self.ids.slot)
        self._say(f"reverse start position on {self._target.label}: {self.position}")
        self._start(self.ids.reverse_arn, "start-replication", self.position)
        status = self.status(self.ids.reverse_arn)
        if status not in _RUNNING:
            raise ReverseReplicationError(
                f"the reverse replication is {status or 'missing'} right after its start: check its task log; the "
                "writer is NOT flipped"
            )
        slot = f" (slot {self.ids.slot})" if self.ids.slot else ""
        return (
            f"forward replication {forward} after marker {marker.id} drained; {admitted}; reverse replication "
            f"{self.ids.reverse_arn} {status} from {self.position}{slot}"
        )

    def stop(self) -> str:
        stopped = self._stop(self.ids.reverse_arn, "reverse")
        released = release_reverse_position(self._target, self.ids.slot)
        return (
            f"reverse replication {stopped}; {released}; the forward replication stays stopped (the source holds "
            "the reverse task's writes: a new start needs a re-seed)"
        )

    def abandon(self) -> str:
        stopped = self._stop(self.ids.reverse_arn, "reverse")
        released = release_reverse_position(self._target, self.ids.slot)
        if self.status(self.ids.forward_arn) in _RUNNING:
            return f"reverse replication {stopped}; {released}; forward replication still running"
        self._start(self.ids.forward_arn, "resume-processing", None)
        return f"reverse replication {stopped}; {released}; forward replication resumed from its checkpoint"

    # -- DMS

    def status(self, arn: str) -> str:
        """The task's or Serverless replication's status, lower case; '' when DMS does not know it."""
        try:
            if self.ids.serverless:
                with aws_call("dms", "DescribeReplications"):
                    answer = self._client.describe_replications(Filters=[{"Name": "replication-config-arn", "Values": [arn]}])
                entries: list[Mapping[str, Any]] = answer.get("Replications", [])
                key = "ReplicationConfigArn"
            else:
                with aws_call("dms", "DescribeReplicationTasks"):
                    answer = self._client.describe_replication_tasks(
                        Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WithoutSettings=True
                    )
                entries = answer.get("ReplicationTasks", [])
                key = "ReplicationTaskArn"
        except AwsError as error:
            if error.code == "ResourceNotFoundFault":
                return ""
            raise ReverseReplicationError(f"cannot read the state of {arn}: {error}") from None
        return next((str(entry.get("Status", "")).lower() for entry in entries if entry.get(key) == arn), "")

    def _stop(self, arn: str, role: str) -> str:
        """Stop and wait until stopped; an already stopped (or never started) replication is left as it is."""
        deadline = self._clock() + self._stop_timeout
        requested = False
        while True:
            status = self.status(arn)
            if status not in _TRANSIENT and status != "running":
                # stopped, ready, created, failed, ... or unknown to DMS: nothing is running
                return "stopped" if requested else f"was not running ({status or 'not found'})"
            if status == "running" and not requested:
                self._call_stop(arn)
                requested = True
                self._say(f"stopping the {role} replication")
            if self._clock() >= deadline:
                raise ReverseReplicationError(
                    f"the {role} replication {arn} is still {status} after {self._stop_timeout:.0f}s; the writer is "
                    "NOT flipped (stop it, then run the command again)"
                )
            self._sleep(self._poll)

    def _call_stop(self, arn: str) -> None:
        try:
            if self.ids.serverless:
                with aws_call("dms", "StopReplication"):
                    self._client.stop_replication(ReplicationConfigArn=arn)
            else:
                with aws_call("dms", "StopReplicationTask"):
                    self._client.stop_replication_task(ReplicationTaskArn=arn)
        except AwsError as error:
            # Stopped between the read and the call: the next read shows it; anything else is reported.
            if error.code != "InvalidResourceStateFault":
                raise ReverseReplicationError(f"cannot stop {arn}: {error}") from None

    def _start(self, arn: str, kind: str, position: str | None) -> None:
        at: dict[str, str] = {"CdcStartPosition": position} if position is not None else {}
        try:
            if self.ids.serverless:
                with aws_call("dms", "StartReplication"):
                    self._client.start_replication(ReplicationConfigArn=arn, StartReplicationType=kind, **at)
            else:
                with aws_call("dms", "StartReplicationTask"):
                    self._client.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType=kind, **at)
        except AwsError as error:
            raise ReverseReplicationError(f"cannot start {arn} ({kind}): {error}") from None
