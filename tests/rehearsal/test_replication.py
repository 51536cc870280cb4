"""The DMS stand-in on real clusters: initial copy and streaming, the CLI's marker, the lag it reports, the reverse."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tap_operator.databases import parse_url, sync_sequences, wait_for_marker, write_marker
from tests.rehearsal.conftest import Pair
from tools.rehearsal import schema
from tools.rehearsal.clusters import Cluster
from tools.rehearsal.replication import LagMeter, LsnClock, RehearsalReverse, copy_states


@contextmanager
def writing(cluster: Cluster, per_second: float = 50.0) -> Iterator[list[str]]:
    """Insert ledger rows on `cluster` as the application until the block ends; yields the request ids written."""
    written: list[str] = []
    stop = threading.Event()

    def run() -> None:
        with cluster.app(autocommit=True) as connection:
            while not stop.wait(1 / per_second):
                request = str(uuid.uuid4())
                connection.execute(
                    "INSERT INTO public.ledger (request_id, customer_id, amount, version, note) VALUES (%s, 1, 1, 1, 'test')",
                    (request,),
                )
                written.append(request)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield written
    finally:
        stop.set()
        thread.join(10)


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_lsn_clock_puts_a_position_between_the_last_sighting_of_the_older_end_and_the_first_of_the_newer() -> None:
    clock = LsnClock()
    clock.observe(100.0, 1000)
    clock.observe(104.0, 1000)  # the WAL end did not move for 4 s
    clock.observe(105.0, 2000)
    assert clock.reached_at(1500) == 104.5
    assert clock.reached_at(1000) == 104.0
    assert clock.reached_at(2000) is None  # at the end: nothing waits
    assert clock.lag(2000, 110.0) == 0.0
    assert clock.lag(1500, 110.0) == 5.5
    assert clock.reached_at(10) == 100.0  # older than every sample: the oldest sample bounds it


def test_initial_copy_and_streaming_keep_every_table_equal_and_carry_the_cli_drain_marker(make_pair: Callable[..., Pair]) -> None:
    pair = make_pair(rows=3000)
    assert pair.link is not None
    assert copy_states(pair.link) == dict.fromkeys(schema.TABLES, "r")
    with writing(pair.source) as written:
        time.sleep(1.0)
    # The operator CLI's own marker functions: its DDL is the one the rehearsal created, and the table replicates.
    marker = write_marker(parse_url(pair.source.admin_url()))
    proof = wait_for_marker(parse_url(pair.target.admin_url()), marker, 15.0, 0.1)
    assert proof.ok, proof.summary
    assert written
    with pair.source.admin() as source, pair.target.admin() as target:
        assert schema.table_sums(source) == schema.table_sums(target)
        assert target.execute("SELECT count(*) FROM public.ledger WHERE note = 'test'").fetchone() == (len(written),)


def test_measured_lag_rises_while_the_subscription_is_disabled_and_falls_once_it_applies_again(
    make_pair: Callable[..., Pair],
) -> None:
    pair = make_pair()
    assert pair.link is not None
    meter = LagMeter(pair.link)
    try:
        with writing(pair.source):
            streaming = []
            for _ in range(6):
                streaming.append(meter.measure())
                time.sleep(0.3)
            assert all(sample.streaming for sample in streaming)
            assert max(sample.target_s or 0.0 for sample in streaming) < 1.0
            pair.link.disable()
            pair.link.wait_until_stopped()
            stopped = []
            for _ in range(8):
                time.sleep(0.4)
                stopped.append(meter.measure())
            target_lags = [sample.target_s or 0.0 for sample in stopped]
            assert not any(sample.streaming for sample in stopped)
            assert target_lags == sorted(target_lags), target_lags
            assert target_lags[-1] >= 2.5, target_lags
            assert all(sample.source_s == sample.target_s for sample in stopped)  # nothing is captured either
            pair.link.enable()
            wait_for(lambda: (meter.measure().target_s or 99.0) < 1.0, 20.0, "the lag to fall after the subscription is enabled")
    finally:
        meter.close()


def test_reverse_replication_starts_after_the_forward_one_stopped_and_brings_target_writes_back_once(
    make_pair: Callable[..., Pair],
) -> None:
    pair = make_pair()
    assert pair.link is not None
    source_endpoint, target_endpoint = parse_url(pair.source.admin_url()), parse_url(pair.target.admin_url())
    marker = write_marker(source_endpoint)
    assert wait_for_marker(target_endpoint, marker, 15.0, 0.1).ok
    # What the CLI does before it calls start(): without it the target's identity would hand out copied keys.
    assert sync_sequences(source_endpoint, target_endpoint).ok
    reverse = RehearsalReverse(pair.link, name=f"{pair.link.name}_reverse")
    said = reverse.start(marker)
    assert marker.id in said
    assert not pair.link.apply_running()
    with writing(pair.target, per_second=20.0) as written:
        time.sleep(1.5)

    def on_source() -> int:
        with pair.source.admin() as connection:
            row = connection.execute(
                "SELECT count(*) FROM public.ledger WHERE request_id = ANY(%s::uuid[])", (written,)
            ).fetchone()
        return int(row[0]) if row else -1

    wait_for(lambda: on_source() == len(written), 15.0, "the target's writes on the source")
    time.sleep(1.0)  # a loop would bring them back to the target as second copies by now
    with pair.target.admin() as connection:
        row = connection.execute("SELECT count(*) FROM public.ledger WHERE request_id = ANY(%s::uuid[])", (written,)).fetchone()
    assert row == (len(written),)
    assert "disabled" in reverse.stop()
    assert reverse.link is not None and not reverse.link.apply_running()
