"""The stack's reverse DMS replication as the CLI drives it at the flip: DMS in moto, the slot on real PostgreSQL.

moto plays DMS's control plane (task status, start/stop); the claims about data (the slot is created
after the drain and captures every later write on Aurora, it is dropped afterwards, the binlog position
is real) are checked on real servers.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from tap_cutover.state import Phase

from benchmarks.cutover_fixtures import REGION, MotoStack, isolate_aws_env
from tap_operator import cli
from tap_operator.databases import Marker, admit_reverse_writer, reverse_start_position
from tap_operator.reverse_dms import DmsReverseReplication, ReplicationIds, ReverseReplicationError
from tap_operator.writer_move import fence_and_flip
from tests.unit.cutover.fakes import fake_engine

from .conftest import MariaDatabase, PgDatabase, unique
from .test_writer_move import Pair, replicated, settings, write_fence_world  # noqa: F401  (the fixture is reused)

MARKER = Marker("tap-test-marker", datetime(2030, 1, 1, tzinfo=UTC), "public", "tap_migrate_cutover_marker", "source", "")


@pytest.fixture
def dms(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoStack]:
    """moto's DMS with the forward task running and the reverse CDC task created (stopped) beside it."""
    from moto import mock_aws

    isolate_aws_env(monkeypatch)
    with mock_aws():
        stack = MotoStack()
        stack.start_task()
        stack.add_reverse_task()
        yield stack


def task_status(stack: MotoStack, arn: str) -> str:
    tasks = stack.dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])
    return str(tasks["ReplicationTasks"][0]["Status"])


def ids(stack: MotoStack, slot: str | None) -> ReplicationIds:
    reverse = stack.settings.dms_reverse_replication_arn
    assert reverse is not None
    return ReplicationIds(stack.settings.dms_replication_arn, reverse, slot)


def reverse_for(stack: MotoStack, source: PgDatabase, target: PgDatabase, slot: str) -> DmsReverseReplication:
    return DmsReverseReplication(
        stack.dms, ids(stack, slot), source=source.endpoint(), target=target.endpoint(), poll_s=0.0, sleep=lambda _: None
    )


def slot_row(target: PgDatabase, slot: str) -> list[tuple[Any, ...]]:
    return target.server.query(
        "SELECT plugin, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s", params=(slot,)
    )


def peek_until(target: PgDatabase, slot: str, text: str, timeout_s: float = 10.0) -> bool:
    """Decoding reads flushed WAL only; the test server commits asynchronously, so wait for the WAL writer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        changes = target.query("SELECT data FROM pg_logical_slot_peek_changes(%s, NULL, NULL)", (slot,))
        if any(text in data for (data,) in changes):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def pg_pair(pg_db: Callable[[], PgDatabase]) -> Iterator[tuple[PgDatabase, PgDatabase, str]]:
    source, target = pg_db(), pg_db()
    target.execute("CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL)")
    slot = unique("tap_reverse")
    yield source, target, slot
    with contextlib.suppress(Exception):
        target.server.execute("SELECT pg_drop_replication_slot(%s)", params=(slot,))


def test_start_stops_forward_then_starts_reverse_from_a_fresh_slot(dms: MotoStack, pg_pair: tuple[PgDatabase, ...]) -> None:
    source, target, slot = pg_pair
    reverse = reverse_for(dms, source, target, slot)  # type: ignore[arg-type]
    summary = reverse.start(MARKER)
    assert task_status(dms, dms.settings.dms_replication_arn) == "stopped"
    assert task_status(dms, ids(dms, slot).reverse_arn) == "running"
    assert reverse.position is not None and reverse.position in summary
    assert slot_row(target, slot) == [("test_decoding", reverse.position)]  # type: ignore[arg-type]
    # Every write on Aurora after the start position is in the slot: what the reverse task will read.
    target.execute("INSERT INTO orders (note) VALUES ('written on aurora after the flip')")  # type: ignore[attr-defined]
    assert peek_until(target, slot, "written on aurora after the flip")  # type: ignore[arg-type]

    stopped = reverse.stop()
    assert task_status(dms, ids(dms, slot).reverse_arn) == "stopped"
    assert task_status(dms, dms.settings.dms_replication_arn) == "stopped"  # a new start needs a re-seed
    assert slot_row(target, slot) == [] and "dropped" in stopped  # type: ignore[arg-type]


def test_abandon_gives_the_forward_task_back(dms: MotoStack, pg_pair: tuple[PgDatabase, ...]) -> None:
    source, target, slot = pg_pair
    reverse = reverse_for(dms, source, target, slot)  # type: ignore[arg-type]
    reverse.start(MARKER)
    abandoned = reverse.abandon()
    assert task_status(dms, dms.settings.dms_replication_arn) == "running"
    assert task_status(dms, ids(dms, slot).reverse_arn) == "stopped"
    assert slot_row(target, slot) == [] and "resumed" in abandoned  # type: ignore[arg-type]


def test_a_slot_left_from_an_earlier_attempt_is_replaced_by_a_newer_position(pg_pair: tuple[PgDatabase, ...]) -> None:
    _, target, slot = pg_pair
    target.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (slot,))  # type: ignore[attr-defined]
    (old,) = slot_row(target, slot)[0][1:]  # type: ignore[arg-type]
    target.execute("INSERT INTO orders (note) VALUES ('forward-applied before this fence')")  # type: ignore[attr-defined]
    fresh = reverse_start_position(target.endpoint(), slot)  # type: ignore[attr-defined]
    (newer,) = target.query("SELECT %s::pg_lsn > %s::pg_lsn", (fresh, old))[0]  # type: ignore[attr-defined]
    assert newer, (old, fresh)


def test_a_reverse_start_that_fails_leaves_the_writer_on_the_source(replicated: Pair, dms: MotoStack) -> None:  # noqa: F811
    """The reverse task cannot start: alert, no flip, the forward task runs again and no slot is left behind."""
    slot = unique("tap_reverse")
    broken = ReplicationIds(dms.settings.dms_replication_arn, dms.settings.dms_replication_arn + "-missing", slot)
    reverse = DmsReverseReplication(
        dms.dms, broken, source=replicated.source.endpoint(), target=replicated.target.endpoint(), poll_s=0.0,
        sleep=lambda _: None,
    )  # fmt: skip
    world = write_fence_world()
    result = fence_and_flip(fake_engine(world), replicated.databases(), "alice", reverse=reverse)
    assert result.status == "error" and "writer NOT flipped" in result.message, result.message
    assert world.aurora_weights()["writer"] == 0 and world.state().phase is Phase.WRITE_FENCE
    assert world.state().reverse_started_at is None
    assert any("reverse replication not started" in n.subject or "reverse" in n.message for n in world.published)
    assert task_status(dms, dms.settings.dms_replication_arn) == "running"
    assert slot_row(replicated.target, slot) == []
    assert "resumed" in str(result.details["reverse_replication_abandoned"])


def test_the_cli_starts_the_stacks_reverse_task_at_the_flip(replicated: Pair, dms: MotoStack, tmp_path: Path) -> None:  # noqa: F811
    """fence --confirm with a reverse replication configured: drain, sequences, reverse start, then the flip."""
    slot = unique("tap_reverse")
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"reverse_slot_name": slot}))
    reverse_arn = ids(dms, slot).reverse_arn
    world = write_fence_world()
    world.settings = settings(DMS_REPLICATION_ARN=dms.settings.dms_replication_arn, DMS_REVERSE_REPLICATION_ARN=reverse_arn)
    urls = ["--source-url", replicated.source.url(), "--target-url", replicated.target.url()]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(
            ["--outputs", str(outputs), "--operator", "alice", "--json", "fence", "--confirm", *urls],
            engine=fake_engine(world),
            session=boto3.session.Session(region_name=REGION),
        )
    text = out.getvalue() + err.getvalue()
    assert code == 0, text
    body = json.loads(out.getvalue())
    assert body["phase"] == "writer_flipped" and body["evidence"]["reverse_started_at"], text
    assert task_status(dms, dms.settings.dms_replication_arn) == "stopped"
    assert task_status(dms, reverse_arn) == "running"
    assert slot_row(replicated.target, slot) != []
    assert replicated.source.server.password not in text
    with contextlib.suppress(Exception):
        replicated.target.server.execute("SELECT pg_drop_replication_slot(%s)", params=(slot,))


def test_serverless_replications_use_their_own_calls(pg_pair: tuple[PgDatabase, ...]) -> None:
    source, target, slot = pg_pair
    forward = "arn:aws:dms:us-east-1:123456789012:replication-config:FORWARD"
    backward = "arn:aws:dms:us-east-1:123456789012:replication-config:REVERSE"
    client = boto3.client("dms", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")

    def described(arn: str, status: str) -> dict[str, Any]:
        return {"Replications": [{"ReplicationConfigArn": arn, "Status": status}]}

    def filters(arn: str) -> dict[str, Any]:
        return {"Filters": [{"Name": "replication-config-arn", "Values": [arn]}]}

    with Stubber(client) as stub:
        stub.add_response("describe_replications", described(forward, "running"), filters(forward))
        stub.add_response("stop_replication", {}, {"ReplicationConfigArn": forward})
        stub.add_response("describe_replications", described(forward, "stopped"), filters(forward))
        stub.add_response(
            "start_replication",
            {},
            {"ReplicationConfigArn": backward, "StartReplicationType": "start-replication", "CdcStartPosition": ANY},
        )
        stub.add_response("describe_replications", described(backward, "starting"), filters(backward))
        reverse = DmsReverseReplication(
            client, ReplicationIds(forward, backward, slot), source=source.endpoint(), target=target.endpoint(),  # type: ignore[attr-defined]
            poll_s=0.0, sleep=lambda _: None,
        )  # fmt: skip
        summary = reverse.start(MARKER)
        stub.assert_no_pending_responses()
    assert "starting" in summary and slot_row(target, slot)  # type: ignore[arg-type]


def test_a_stop_that_never_ends_is_reported_not_waited_forever(dms: MotoStack, pg_pair: tuple[PgDatabase, ...]) -> None:
    source, target, slot = pg_pair
    client = boto3.client("dms", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    forward = dms.settings.dms_replication_arn
    ticks = iter(range(1000))
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response(
                "describe_replication_tasks", {"ReplicationTasks": [{"ReplicationTaskArn": forward, "Status": "stopping"}]}
            )
        reverse = DmsReverseReplication(
            client, ids(dms, slot), source=source.endpoint(), target=target.endpoint(),  # type: ignore[attr-defined]
            stop_timeout_s=1.5, poll_s=0.0, clock=lambda: float(next(ticks)), sleep=lambda _: None,
        )  # fmt: skip
        with pytest.raises(ReverseReplicationError, match="still stopping after 2s"):
            reverse.start(MARKER)
    assert slot_row(target, slot) == []  # nothing was created before the forward task stopped  # type: ignore[arg-type]


def test_mysql_starts_from_the_binlog_position(maria_db: Callable[[], MariaDatabase]) -> None:
    database = maria_db()
    position = reverse_start_position(database.endpoint(), None)
    file_name, offset = position.rsplit(":", 1)
    assert file_name and int(offset) > 0
    # MariaDB has no super_read_only: read_only alone fences, and the reverse account writes through it.
    assert "read_only stays ON" in admit_reverse_writer(database.endpoint())
