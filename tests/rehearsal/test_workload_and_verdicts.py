"""The application workload and the verdicts against real clusters: acknowledged, in-doubt, lost and duplicated writes."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tap_operator.databases import parse_url, write_marker
from tests.rehearsal.conftest import AURORA_READER, AURORA_WRITER, SOURCE_HOST, ZONE, Pair, weighted_pair
from tools.rehearsal.clusters import Cluster
from tools.rehearsal.picture import render_png
from tools.rehearsal.report import longest_gap, longest_pause, phase_durations, write_gaps
from tools.rehearsal.resolver import ClientPool, NameTable, WeightedResolver
from tools.rehearsal.timeline import READ_OK, WRITE_ACKED, Timeline
from tools.rehearsal.verdicts import MarkerWatcher, judge_writes
from tools.rehearsal.workload import Workload, WorkloadConfig, WriteRecord


def workload_for(
    pair: Pair, route53: Any, zone_id: str, timeline: Timeline, *, rate: float, writers: int, readers: int
) -> Workload:
    names: NameTable[Cluster] = NameTable({SOURCE_HOST: pair.source, AURORA_WRITER: pair.target, AURORA_READER: pair.target})
    config = WorkloadConfig(
        rate=rate,
        writers=writers,
        readers=readers,
        read_rate=10.0,
        customers=pair.counts["customers"],
        ledger_seed_rows=pair.counts["ledger"],
    )
    return Workload(
        config,
        names,
        lambda index: WeightedResolver(route53, zone_id, f"writer.{ZONE}", rng=random.Random(index)),  # noqa: S311
        lambda index: WeightedResolver(route53, zone_id, f"reader.{ZONE}", rng=random.Random(50 + index)),  # noqa: S311
        timeline,
    )


STALL_AT_COMMIT = """
CREATE TABLE public.stall_control (stall boolean NOT NULL);
INSERT INTO public.stall_control VALUES (true);
CREATE FUNCTION public.stall_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT stall FROM public.stall_control) THEN
        PERFORM pg_sleep(5);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER stall_at_commit AFTER INSERT ON public.audit_log DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION public.stall_at_commit();
"""


def test_a_commit_whose_answer_is_lost_is_counted_in_doubt_never_lost(
    make_pair: Callable[..., Pair], aws: Callable[[str], Any], zone: str
) -> None:
    pair = make_pair(replicate=False)
    with pair.source.admin() as admin:
        admin.execute(STALL_AT_COMMIT)
        admin.execute("GRANT SELECT ON public.stall_control TO app")
    killed: list[int] = []

    def kill_during_commit() -> None:
        # The deferred trigger runs inside COMMIT: terminating the backend then loses the answer to COMMIT.
        deadline = time.monotonic() + 20
        with pair.source.admin() as admin:
            while not killed and time.monotonic() < deadline:
                row = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'rehearsal-writer-%%' AND query = 'COMMIT' "
                    "AND wait_event = 'PgSleep' AND datname = %s",
                    (pair.source.database,),
                ).fetchone()
                if row:
                    admin.execute("SELECT pg_terminate_backend(%s)", (row[0],))
                    killed.append(int(row[0]))
                    admin.execute("UPDATE public.stall_control SET stall = false")
                time.sleep(0.05)

    killer = threading.Thread(target=kill_during_commit, daemon=True)
    killer.start()
    timeline = Timeline()
    with workload_for(pair, aws("route53"), zone, timeline, rate=20.0, writers=1, readers=1) as workload:
        killer.join(25)
        time.sleep(1.5)  # the writer reconnects and goes on
    assert killed, "no writer was caught inside COMMIT"
    in_doubt = [record for record in workload.records if record.outcome == "in_doubt"]
    assert len(in_doubt) == 1
    assert in_doubt[0].database == "source"
    after = [record for record in workload.records if record.at > in_doubt[0].at and record.outcome == "acknowledged"]
    assert after, "the writer did not reconnect after losing its connection"
    assert all(record.request_id != in_doubt[0].request_id for record in after)  # never touched again
    with pair.source.admin() as admin:
        verdict = judge_writes(admin, workload.records, pair.source.label)
    assert (verdict.in_doubt, verdict.lost, verdict.duplicated) == (1, 0, 0)
    # The trigger ran before the commit record: this one did not happen, and is reported so.
    assert (verdict.in_doubt_applied, verdict.in_doubt_not_applied) == (0, 1)
    assert verdict.acknowledged == len(workload.records) - 1
    assert workload.counts()["crashed_threads"] == []


def test_verdict_catches_a_deleted_a_stale_and_a_duplicated_acknowledged_write(
    make_pair: Callable[..., Pair], aws: Callable[[str], Any], zone: str
) -> None:
    pair = make_pair(replicate=False)
    timeline = Timeline()
    with workload_for(pair, aws("route53"), zone, timeline, rate=120.0, writers=2, readers=1) as workload:
        time.sleep(2.5)
    acknowledged = [record for record in workload.records if record.outcome == "acknowledged"]
    assert len(acknowledged) > 150
    assert {record.operation for record in acknowledged} == {"insert", "update", "delete"}
    assert sum(second.counts.get(f"{WRITE_ACKED}:source", 0) for _, second in timeline.snapshot()) == len(acknowledged)
    with pair.source.admin() as admin:
        clean = judge_writes(admin, workload.records, pair.source.label)
        assert clean.ok and (clean.acknowledged, clean.lost, clean.duplicated) == (len(acknowledged), 0, 0)

        last: dict[str, WriteRecord] = {}
        for record in acknowledged:
            last[record.request_id] = record
        present = [record for record in last.values() if record.operation != "delete"]
        deleted_row, stale_row, duplicated_txn = present[0], present[1], acknowledged[-1]
        admin.execute("DELETE FROM public.ledger WHERE request_id = %s", (deleted_row.request_id,))
        admin.execute("UPDATE public.ledger SET version = version + 100 WHERE request_id = %s", (stale_row.request_id,))
        admin.execute(
            "INSERT INTO public.audit_log (txn_id, request_id, operation, version) "
            "SELECT txn_id, request_id, operation, version FROM public.audit_log WHERE txn_id = %s",
            (duplicated_txn.txn_id,),
        )
        tampered = judge_writes(admin, workload.records, pair.source.label)
    assert (tampered.lost, tampered.duplicated) == (2, 1), tampered.examples
    assert not tampered.ok
    assert any(deleted_row.request_id in example and "no row" in example for example in tampered.examples)
    assert any(duplicated_txn.txn_id in example for example in tampered.examples)


def test_readers_through_a_pool_of_dns_clients_read_where_each_client_points(
    make_pair: Callable[..., Pair], aws: Callable[[str], Any], zone: str
) -> None:
    """Half the reader weight on Aurora: one reader thread asks 20 clients in turn and reads from both clusters."""
    pair = make_pair(replicate=False)
    route53 = aws("route53")
    weighted_pair(route53, zone, f"reader.{ZONE}", 50, AURORA_READER)
    names: NameTable[Cluster] = NameTable({SOURCE_HOST: pair.source, AURORA_WRITER: pair.target, AURORA_READER: pair.target})
    pool = ClientPool(route53, zone, f"reader.{ZONE}", 20, seed=5)
    timeline = Timeline()
    counts = pair.counts
    config = WorkloadConfig(
        rate=1.0, writers=1, readers=1, read_rate=40.0, customers=counts["customers"], ledger_seed_rows=counts["ledger"]
    )
    writer = WeightedResolver(route53, zone, f"writer.{ZONE}", rng=random.Random(1))  # noqa: S311
    with Workload(config, names, lambda _: writer, lambda _: pool, timeline) as workload:
        time.sleep(2.0)
        with pair.target.admin() as admin:
            readers_on_target = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rehearsal-reader-0'"
            ).fetchone()
    reads = {db: sum(second.counts.get(f"{READ_OK}:{db}", 0) for _, second in timeline.snapshot()) for db in ("source", "target")}
    on_aurora = sum(1 for client in pool.clients if client.resolve().target == AURORA_READER)
    assert 0 < on_aurora < 20  # the clients' answers differ: some name each cluster
    assert reads["source"] > 10 and reads["target"] > 10, reads
    assert 0.2 < reads["target"] / (reads["source"] + reads["target"]) < 0.8
    assert readers_on_target == (1,)  # one connection per cluster, kept, not one per read
    assert pool.lookups == 20  # each client asked Route 53 once: its answer is cached for the TTL
    assert workload.counts()["read_errors"] == {}


def test_marker_watcher_compares_both_sides_when_the_marker_arrives_and_sees_a_difference(make_pair: Callable[..., Pair]) -> None:
    pair = make_pair()
    source_endpoint = parse_url(pair.source.admin_url())

    watcher = MarkerWatcher(pair.source, pair.target, pair.target, timeout_s=20).start()
    marker = write_marker(source_endpoint)
    comparison = watcher.finish(grace_s=15).result
    assert comparison is not None, watcher.error
    assert (comparison.marker_id, comparison.valid, comparison.equal) == (marker.id, True, True)

    with pair.target.admin() as admin:
        admin.execute("DELETE FROM public.documents WHERE id = (SELECT min(id) FROM public.documents)")
    watcher = MarkerWatcher(pair.source, pair.target, pair.target, timeout_s=20).start()
    write_marker(source_endpoint)
    different = watcher.finish(grace_s=15).result
    assert different is not None and different.valid and not different.equal
    unequal = [table for table, (left, right) in different.tables.items() if left != right]
    assert unequal == ["documents"]

    # A write made on the next writer before the snapshot makes the comparison invalid rather than wrong.
    with pair.target.admin() as admin:
        admin.execute(
            "INSERT INTO public.audit_log (id, txn_id, request_id, operation, version) "
            "VALUES (-1, gen_random_uuid(), gen_random_uuid(), 'insert', 1)"
        )
    watcher = MarkerWatcher(pair.source, pair.target, pair.target, timeout_s=20).start()
    write_marker(source_endpoint)
    invalid = watcher.finish(grace_s=15).result
    assert invalid is not None and not invalid.valid and invalid.guard == (0, 1)


def _record(thread: int, database: str, at: float) -> WriteRecord:
    from decimal import Decimal

    return WriteRecord("t", "r", "insert", 1, Decimal(1), "n", "acknowledged", database, thread, at)


def test_write_gaps_are_per_thread_from_the_last_source_write_to_the_first_target_write() -> None:
    records = [
        _record(0, "source", 10.0),
        _record(0, "source", 11.0),
        _record(0, "target", 14.5),
        _record(1, "source", 10.5),
        _record(1, "target", 16.0),
        _record(1, "target", 16.1),
        _record(2, "source", 12.0),  # never reached the target: no gap of its own
    ]
    assert write_gaps(records, "source", "target") == {0: 3.5, 1: 5.5}
    assert longest_gap(records, "source", "target") == 5.5
    assert longest_gap(records, "target", "source") is None
    assert longest_pause(records) == 5.5


def test_phase_durations_follow_the_transitions_in_time_order() -> None:
    from datetime import UTC, datetime

    transitions = [
        {"at": "2026-01-01T00:00:10+00:00", "from": "replicating", "to": "reads_shifting"},
        {"at": "2026-01-01T00:00:40+00:00", "from": "reads_shifting", "to": "write_fence"},
        {"at": "2026-01-01T00:00:20+00:00", "from": "reads_shifting", "to": "reads_shifting"},
        {"at": "2026-01-01T00:01:40+00:00", "from": "write_fence", "to": "writer_flipped"},
    ]
    ended = datetime(2026, 1, 1, 0, 2, 0, tzinfo=UTC)
    assert phase_durations(transitions, ended) == {"reads_shifting": 30.0, "write_fence": 60.0, "writer_flipped": 20.0}
    assert phase_durations([], ended) == {}


def test_timeline_png_is_written_with_the_agg_backend(tmp_path: Path) -> None:
    clock = [1000.0]
    timeline = Timeline(clock=lambda: clock[0])
    for second in range(30):
        clock[0] = 1000.0 + second
        timeline.count(WRITE_ACKED, "source" if second < 15 else "target", amount=200)
        timeline.lag(0.2, 0.3)
        timeline.weights(100, 100 if second >= 15 else 0)
    timeline.event("writer_flipped", 1015.0)
    path = render_png(timeline, tmp_path / "timeline.png", {"source": "source", "target": "target"}, "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert timeline.to_dict()["events"] == [{"t": 15.0, "event": "writer_flipped"}]
