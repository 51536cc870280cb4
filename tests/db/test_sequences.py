"""Sequence reconciliation: after a sync, inserts through each target sequence never collide with copied rows."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from tap_operator.databases import TableName, compare_sequences, parse_url, sync_sequences

from .conftest import MariaDatabase, PgDatabase

PG_SCHEMA = """
CREATE TABLE serial_orders (id serial PRIMARY KEY, note text);
CREATE TABLE identity_orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
CREATE SEQUENCE invoice_numbers START 500;
CREATE SEQUENCE untouched_numbers;
"""


def pg_pair(pg_db: Callable[[], PgDatabase], pg_plain_db: Callable[[], PgDatabase]) -> tuple[PgDatabase, PgDatabase]:
    source, target = pg_db(), pg_plain_db()
    for database in (source, target):
        database.execute(PG_SCHEMA)
    source.execute("INSERT INTO serial_orders (note) SELECT 's' || g FROM generate_series(1, 40) g")
    source.execute("INSERT INTO identity_orders (note) SELECT 'i' || g FROM generate_series(1, 25) g")
    source.execute("SELECT nextval('invoice_numbers') FROM generate_series(1, 3)")
    # What DMS does: rows arrive with their ids, the target's sequences stay where they were.
    for row_id, note in source.query("SELECT id, note FROM serial_orders"):
        target.execute("INSERT INTO serial_orders (id, note) VALUES (%s, %s)", (row_id, note))
    for row_id, note in source.query("SELECT id, note FROM identity_orders"):
        target.execute("INSERT INTO identity_orders (id, note) OVERRIDING SYSTEM VALUE VALUES (%s, %s)", (row_id, note))
    return source, target


def test_postgres_check_reports_the_gap_and_sync_closes_it(pg_db: Callable[[], PgDatabase],
                                                           pg_plain_db: Callable[[], PgDatabase]) -> None:  # fmt: skip
    source, target = pg_pair(pg_db, pg_plain_db)
    target.execute("SELECT setval('untouched_numbers', 5000)")  # already far ahead: must not be lowered

    before = compare_sequences(source.endpoint(), target.endpoint(), gap=1000)
    assert not before.ok
    rows = {row.name: row for row in before.rows}
    assert rows["public.serial_orders_id_seq"].source == 41 and rows["public.serial_orders_id_seq"].target_before == 1
    assert rows["public.identity_orders_id_seq"].source == 26
    assert rows["public.invoice_numbers"].source == 503  # START 500, three values handed out
    assert rows["public.untouched_numbers"].ok

    synced = sync_sequences(source.endpoint(), target.endpoint(), gap=1000)

    assert synced.ok, synced.summary
    after = {row.name: row for row in synced.rows}
    assert after["public.serial_orders_id_seq"].target_after == 1041
    assert after["public.identity_orders_id_seq"].target_after == 1026
    assert after["public.invoice_numbers"].target_after == 1503
    assert after["public.untouched_numbers"].target_after == 5001  # never lowered
    with psycopg.connect(target.url(), autocommit=True) as connection:
        serial_id = connection.execute("INSERT INTO serial_orders (note) VALUES ('new') RETURNING id").fetchone()
        identity_id = connection.execute("INSERT INTO identity_orders (note) VALUES ('new') RETURNING id").fetchone()
    assert serial_id == (1041,) and identity_id == (1026,)
    assert compare_sequences(source.endpoint(), target.endpoint(), gap=1000).ok


def test_a_source_sequence_missing_on_the_target_is_reported(pg_db: Callable[[], PgDatabase],
                                                             pg_plain_db: Callable[[], PgDatabase]) -> None:  # fmt: skip
    source, target = pg_pair(pg_db, pg_plain_db)
    source.execute("CREATE SEQUENCE only_on_source")
    report = sync_sequences(source.endpoint(), target.endpoint(), gap=10)
    assert not report.ok
    missing = [row for row in report.rows if row.name == "public.only_on_source"]
    assert missing and missing[0].note == "missing on the target" and missing[0].target_after is None
    assert "public.only_on_source (missing on the target)" in report.summary


def test_mariadb_auto_increment_is_raised_and_new_rows_do_not_collide(
    maria_db: Callable[[], MariaDatabase], maria_plain_db: Callable[[], MariaDatabase]
) -> None:
    source = maria_db()
    target_server_db = maria_plain_db()
    # DMS writes into the database named like the source's: the same name on the target server.
    target_server_db.server.create_database(source.name)
    try:
        ddl = "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(20)) ENGINE=InnoDB"
        source.execute(ddl)
        target_server_db.server.execute(ddl, source.name)
        for number in range(1, 61):
            source.execute("INSERT INTO orders (note) VALUES (%s)", (f"n{number}",))
        source.execute("DELETE FROM orders WHERE id > 30")  # the counter stays at 61
        for row_id, note in source.query("SELECT id, note FROM orders"):
            target_server_db.server.execute("INSERT INTO orders (id, note) VALUES (%s, %s)", source.name, (row_id, note))
        target = target_server_db.server.url(source.name)
        tables = [TableName(source.name, "orders")]
        before = compare_sequences(source.endpoint(), parse_url(target), gap=100, tables=tables)
        assert not before.ok
        assert [(row.source, row.target_before) for row in before.rows] == [(61, 31)]

        synced = sync_sequences(source.endpoint(), parse_url(target), gap=100, tables=tables)

        assert synced.ok, synced.summary
        assert synced.rows[0].target_after == 161
        target_server_db.server.execute("INSERT INTO orders (note) VALUES ('new')", source.name)
        assert target_server_db.server.query("SELECT MAX(id) FROM orders", source.name) == [(161,)]
    finally:
        target_server_db.server.drop_database(source.name)
