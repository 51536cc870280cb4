"""The MariaDB rehearsal's pieces on two real MariaDB servers with GTID replication (seconds; no emulator needed):
the lag measured from GTID positions, the reverse replication at the flip without a loop, the snapshot comparison
at a marker, and the verdict catching a lost and a duplicated write on the data itself."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tap_operator.databases import Marker
from tools.rehearsal import mariadb_servers
from tools.rehearsal.mariadb_replication import GtidLagMeter, GtidReverse, forward_link, wait_for_initial_copy
from tools.rehearsal.mariadb_servers import MariaPair, MariaSide
from tools.rehearsal.mariadb_verdicts import DIALECT, compare_snapshots, judge_writes
from tools.rehearsal.workload import WriteRecord


@pytest.fixture(scope="module")
def pair() -> Iterator[MariaPair]:
    with mariadb_servers.rehearsal_servers() as servers:
        mariadb_servers.load(servers, 2000)
        wait_for_initial_copy(forward_link(servers), len(mariadb_servers.TABLES), 60)
        yield servers


def _write(side: MariaSide, request_id: str, txn_id: str) -> None:
    with contextlib.closing(side.app(autocommit=False)) as connection, connection.cursor() as cursor:
        cursor.execute(DIALECT.insert, (request_id, 1, Decimal("12.50"), 1, "insert v1"))
        cursor.execute(DIALECT.audit, (txn_id, request_id, "insert", 1))
        connection.commit()


def _record(txn_id: str, request_id: str, database: str) -> WriteRecord:
    return WriteRecord(txn_id, request_id, "insert", 1, Decimal("12.50"), "insert v1", "acknowledged", database, 0, time.time())


def test_lag_is_zero_while_streaming_and_grows_while_replication_is_stopped(pair: MariaPair) -> None:
    link = forward_link(pair)
    meter = GtidLagMeter(link)
    try:
        assert meter.measure().target_s == 0.0
        link.disable()
        _write(pair.source, str(uuid.uuid4()), str(uuid.uuid4()))
        time.sleep(1.2)
        _write(pair.source, str(uuid.uuid4()), str(uuid.uuid4()))
        stopped = meter.measure()
        assert stopped.streaming is False and stopped.target_s is not None and stopped.target_s > 0
        link.enable()
        link.native.wait_caught_up()
        assert meter.measure().target_s == 0.0
    finally:
        meter.close()


def test_reverse_replication_carries_the_targets_writes_back_without_a_loop(pair: MariaPair) -> None:
    reverse = GtidReverse(forward_link(pair))
    reverse.start(Marker("tap-test", datetime.now(UTC), "appdb", "tap_migrate_cutover_marker", "source", "binlog.000001:4"))
    try:
        request, txn = str(uuid.uuid4()), str(uuid.uuid4())
        _write(pair.target, request, txn)
        assert reverse.link is not None
        reverse.link.native.wait_caught_up()
        rows = pair.source.query("SELECT written_on FROM audit_log WHERE txn_id = %s", (txn,))
        assert rows == [(pair.target.cluster_name,)]  # once, and it says where it ran
        assert pair.target.query("SELECT COUNT(*) FROM audit_log WHERE txn_id = %s", (txn,)) == [(1,)]
    finally:
        reverse.abandon()  # forward again, as the other tests expect
    forward_link(pair).native.wait_caught_up()


def test_snapshots_are_equal_when_replicated_and_catch_a_row_changed_on_one_side(pair: MariaPair) -> None:
    forward_link(pair).native.wait_caught_up()
    equal = compare_snapshots(pair.source, pair.target, "m1", pair.target)
    assert equal.ok, equal.to_dict()
    with contextlib.closing(pair.target.admin()) as connection, connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_log_bin = 0")  # a change the replication never saw
        cursor.execute("UPDATE customers SET email = 'changed@example.com' WHERE id = 7")
    different = compare_snapshots(pair.source, pair.target, "m2", pair.target)
    assert not different.equal
    assert [table for table, (left, right) in different.tables.items() if left != right] == ["customers"]
    assert different.tables["customers"][0].rows == different.tables["customers"][1].rows  # same count, other content


def test_the_verdict_catches_a_lost_and_a_duplicated_write_on_the_data(pair: MariaPair) -> None:
    kept, lost, doubled = (str(uuid.uuid4()) for _ in range(3))
    requests = {name: str(uuid.uuid4()) for name in (kept, lost, doubled)}
    for txn in (kept, doubled):
        _write(pair.source, requests[txn], txn)
    with contextlib.closing(pair.source.admin()) as connection, connection.cursor() as cursor:
        cursor.execute(DIALECT.audit, (doubled, requests[doubled], "insert", 1))
    records = [_record(txn, requests[txn], "source") for txn in (kept, lost, doubled)]
    verdict = judge_writes(pair.source, records)
    assert (verdict.acknowledged, verdict.lost, verdict.duplicated) == (3, 1, 1)
    assert verdict.lost_txns == {lost} and verdict.duplicated_txns == {doubled}
