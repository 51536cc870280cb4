"""The engine's ports: what it needs from AWS, as protocols and value types (no boto3 here).

One protocol per concern (records, metrics, alarms, replication, cluster, parameters, notifier, identity),
bundled in ``Adapters``; ``aws.py`` implements them with boto3 clients and the tests with fakes.
``AwsError`` / ``aws_call`` turn any AWS failure into one error type the engine understands.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .decision import Notification, PairChange
from .gates import Datapoint, TaskObservation

SOURCE_SET_ID = "source"
AURORA_SET_ID = "aurora"


class AwsError(Exception):
    """An AWS call failed (throttling, permissions, network, service error)."""

    def __init__(self, service: str, operation: str, code: str, message: str) -> None:
        super().__init__(f"{service} {operation} failed: {code}: {message}")
        self.service = service
        self.operation = operation
        self.code = code


@contextmanager
def aws_call(service: str, operation: str) -> Iterator[None]:
    """Turn botocore failures into AwsError; anything else is a bug and propagates unchanged."""
    try:
        yield
    except Exception as exc:
        # botocore is loaded by then (a client raised); importing it at module level costs ~25 ms.
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            message = str(error.get("Message", exc))
            if message.lstrip().lower().startswith(("<!doctype", "<html")):
                # A proxy's or an emulator's error page, not an AWS error: its HTML says nothing an operator can use.
                message = "the endpoint answered with an HTML error page (not an AWS error); is the operation supported there?"
            raise AwsError(service, operation, str(error.get("Code", "Unknown")), message) from exc
        if isinstance(exc, BotoCoreError):
            raise AwsError(service, operation, type(exc).__name__, str(exc)) from exc
        raise


# ---------------------------------------------------------------- ports


@dataclass(frozen=True)
class LiveRecord:
    weight: int
    ttl: int | None
    target: str


@dataclass(frozen=True)
class LivePair:
    name: str
    records: Mapping[str, LiveRecord]  # keyed by SetIdentifier

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **{
                set_id: (
                    {"weight": rec.weight, "ttl": rec.ttl, "target": rec.target} if (rec := self.records.get(set_id)) else None
                )
                for set_id in (SOURCE_SET_ID, AURORA_SET_ID)
            },
        }


@dataclass(frozen=True)
class LockInfo:
    value: str
    modified: datetime | None

    def fields(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @property
    def kept(self) -> bool:
        """Set when an invocation deliberately left the lock because DNS may be ahead of the state."""
        return self.fields().get("kept") is True

    def age_seconds(self, now: datetime) -> float | None:
        # Prefer the holder's own timestamp: it comes from the same kind of clock as ``now``.
        acquired = self.fields().get("acquired_at")
        moment: datetime | None = None
        if isinstance(acquired, str):
            try:
                moment = datetime.fromisoformat(acquired)
            except ValueError:
                moment = None
        if moment is None or moment.tzinfo is None:
            moment = self.modified
        return (now - moment).total_seconds() if moment is not None else None

    def to_dict(self, now: datetime) -> dict[str, Any]:
        age = self.age_seconds(now)
        return {"age_seconds": round(age, 1) if age is not None else None, **self.fields()}


class RecordStore(Protocol):
    def apply(self, changes: Sequence[PairChange]) -> None: ...
    def read(self) -> dict[str, LivePair]: ...


class MetricsSource(Protocol):
    def latency(self, now: datetime) -> tuple[tuple[Datapoint, ...], tuple[Datapoint, ...]]: ...


class AlarmSource(Protocol):
    def in_alarm(self) -> tuple[str, ...]: ...


class TaskSource(Protocol):
    def describe_all(self) -> tuple[TaskObservation, TaskObservation | None]:
        """The forward replication and, when configured, the reverse one (None: no reverse replication)."""
        ...

    def table_statistics(self) -> list[Mapping[str, Any]]:
        """Every selected table's statistics row of the forward replication, all pages (validation state and counts).

        Read only when the operator moves the writer (the data proof), never on a tick.
        """
        ...


class ClusterSource(Protocol):
    def status(self) -> str | None: ...


class ParameterStore(Protocol):
    def read_state(self) -> str: ...
    def write_state(self, text: str) -> None: ...
    def acquire_lock(self, value: str) -> bool: ...
    def read_lock(self) -> LockInfo | None: ...
    def overwrite_lock(self, value: str) -> None: ...
    def release_lock(self) -> bool: ...


class Notifier(Protocol):
    def publish(self, notification: Notification) -> None: ...


class Identity(Protocol):
    def caller_arn(self) -> str:
        """The ARN of the principal whose credentials the engine runs with (recorded in every state version)."""
        ...


@dataclass(frozen=True)
class Adapters:
    records: RecordStore
    metrics: MetricsSource
    alarms: AlarmSource
    task: TaskSource
    cluster: ClusterSource
    params: ParameterStore
    notifier: Notifier
    identity: Identity
