"""Sequence reconciliation: after a sync, inserts through each target sequence never collide with copied rows."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from tap_operator.databases import TableName, compare_sequences, count_statements, parse_url, sync_sequences

from .conftest import APP_PASSWORD, MariaDatabase, PgDatabase

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
    assert rows['"public"."serial_orders_id_seq"'].source == 41
    assert rows['"public"."serial_orders_id_seq"'].target_before == 1
    assert rows['"public"."identity_orders_id_seq"'].source == 26  # an identity column's sequence
    assert rows['"public"."invoice_numbers"'].source == 503  # START 500, three handed out; owned by no column
    assert rows['"public"."untouched_numbers"'].ok
    assert (rows['"public"."invoice_numbers"'].schema, rows['"public"."invoice_numbers"'].object_name) == (
        "public",
        "invoice_numbers",
    )

    synced = sync_sequences(source.endpoint(), target.endpoint(), gap=1000)

    assert synced.ok, synced.summary
    after = {(row.schema, row.object_name): row for row in synced.rows}
    assert after["public", "serial_orders_id_seq"].target_after == 1041
    assert after["public", "identity_orders_id_seq"].target_after == 1026
    assert after["public", "invoice_numbers"].target_after == 1503
    assert after["public", "untouched_numbers"].target_after == 5001  # never lowered
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
    missing = [row for row in report.rows if row.name == '"public"."only_on_source"']
    assert missing and missing[0].note == "missing on the target" and missing[0].target_after is None
    assert missing[0].refusal == "sequence_missing"
    assert '"public"."only_on_source" (missing on the target)' in report.summary


def test_names_that_join_to_the_same_string_stay_two_sequences(pg_db: Callable[[], PgDatabase],
                                                              pg_plain_db: Callable[[], PgDatabase]) -> None:  # fmt: skip
    """`"a.b"."c"` and `"a"."b.c"` both join to a.b.c: each must be synced, and shown quoted."""
    source, target = pg_db(), pg_plain_db()
    ddl = 'CREATE SCHEMA "a.b"; CREATE SCHEMA a; CREATE SEQUENCE "a.b"."c"; CREATE SEQUENCE a."b.c"'
    source.execute(ddl)
    target.execute(ddl)
    source.execute('SELECT nextval(\'"a.b"."c"\') FROM generate_series(1, 70)')
    source.execute("SELECT nextval('a.\"b.c\"') FROM generate_series(1, 9)")

    report = sync_sequences(source.endpoint(), target.endpoint(), gap=100)

    assert report.ok, report.summary
    assert [(row.name, row.source, row.target_after) for row in report.rows] == [
        ('"a"."b.c"', 10, 110),
        ('"a.b"."c"', 71, 171),
    ]
    assert target.query('SELECT nextval(\'"a.b"."c"\'), nextval(\'a."b.c"\')') == [(171, 110)]


def test_descending_and_near_limit_sequences_are_synced_in_their_own_direction(
    pg_db: Callable[[], PgDatabase], pg_plain_db: Callable[[], PgDatabase]
) -> None:
    source, target = pg_db(), pg_plain_db()
    ddl = (
        "CREATE SEQUENCE countdown INCREMENT -1;"  # -1, -2, ... down to its MINVALUE
        "CREATE SEQUENCE near_max MAXVALUE 1100;"  # source + 1000 would pass it: the gap shrinks to fit
        "CREATE SEQUENCE near_min INCREMENT -5 MINVALUE -2000 MAXVALUE -1 START -1;"
    )
    source.execute(ddl)
    target.execute(ddl)
    source.execute("SELECT nextval('countdown') FROM generate_series(1, 10)")  # handed out -1 .. -10
    source.execute("SELECT setval('near_max', 500)")  # next 501
    source.execute("SELECT setval('near_min', -1500)")  # next -1505

    report = sync_sequences(source.endpoint(), target.endpoint(), gap=1000)

    assert report.ok, report.summary
    rows = {row.object_name: row for row in report.rows}
    assert (rows["countdown"].source, rows["countdown"].target_after, rows["countdown"].gap) == (-11, -1011, 1000)
    assert (rows["near_max"].source, rows["near_max"].target_after, rows["near_max"].gap) == (501, 1100, 599)
    assert "gap reduced to 599 by the target's maxvalue 1100" in rows["near_max"].note
    assert (rows["near_min"].source, rows["near_min"].target_after, rows["near_min"].gap) == (-1505, -2000, 495)
    assert "smaller gap near their limit" in report.summary
    assert target.query("SELECT nextval('countdown'), nextval('near_max'), nextval('near_min')") == [(-1011, 1100, -2000)]
    # Synced again: nothing moves back, and the rows stay ok.
    assert sync_sequences(source.endpoint(), target.endpoint(), gap=1000).ok


def test_no_value_fits_under_the_targets_limit_is_refused_and_left_alone(
    pg_db: Callable[[], PgDatabase], pg_plain_db: Callable[[], PgDatabase]
) -> None:
    source, target = pg_db(), pg_plain_db()
    source.execute("CREATE SEQUENCE tight")
    target.execute("CREATE SEQUENCE tight MAXVALUE 100")
    source.execute("SELECT setval('tight', 500)")

    report = sync_sequences(source.endpoint(), target.endpoint(), gap=10)

    assert not report.ok
    (row,) = report.rows
    assert row.refusal == "sequence_no_room" and row.target_after == 1  # untouched
    assert "past the target's maxvalue 100: no value is safe" in row.note


def _many_sequences(database: PgDatabase, count: int) -> None:
    database.execute(
        f"DO $$ BEGIN FOR i IN 1..{int(count)} LOOP EXECUTE format('CREATE SEQUENCE %I', 'many_' || i); END LOOP; END $$"
    )


def test_statements_per_side_do_not_grow_with_the_number_of_sequences(
    pg_db: Callable[[], PgDatabase], pg_plain_db: Callable[[], PgDatabase]
) -> None:
    counts: dict[int, tuple[int, int]] = {}
    for size in (10, 1000):
        source, target = pg_db(), pg_plain_db()
        _many_sequences(source, size)
        _many_sequences(target, size)
        source.execute("SELECT nextval(format('many_%%s', g)::regclass) FROM generate_series(1, %s) g", (size,))

        with count_statements() as counted:
            report = sync_sequences(source.endpoint(), target.endpoint(), gap=1000)

        assert report.ok, report.summary
        assert len(report.rows) == size and {row.target_after for row in report.rows} == {1002}
        counts[size] = (counted["source"], counted["target"])
    assert counts[10] == counts[1000], counts
    source_statements, target_statements = counts[1000]
    assert source_statements <= 10 and target_statements <= 10, counts
    assert counts[1000] == (1, 3), counts  # read | read, one setval over arrays, read back


def test_a_sequence_the_target_user_may_not_set_is_refused(
    pg_db: Callable[[], PgDatabase], pg_plain_db: Callable[[], PgDatabase]
) -> None:
    source, target = pg_db(), pg_plain_db()
    for database in (source, target):
        database.execute("CREATE SEQUENCE allowed; CREATE SEQUENCE forbidden")
    source.execute("SELECT setval('allowed', 50), setval('forbidden', 50)")
    user = target.create_app_user()
    target.execute(f'REVOKE UPDATE ON SEQUENCE forbidden FROM "{user}"')

    report = sync_sequences(source.endpoint(), target.endpoint(user, APP_PASSWORD), gap=10)

    rows = {row.object_name: row for row in report.rows}
    assert rows["allowed"].ok and rows["allowed"].target_after == 61
    assert rows["forbidden"].refusal == "sequence_not_writable" and not rows["forbidden"].ok
    assert 'GRANT UPDATE ON SEQUENCE "public"."forbidden"' in rows["forbidden"].note


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


def test_mariadb_statements_per_side_do_not_grow_with_the_number_of_tables(
    maria_db: Callable[[], MariaDatabase], maria_plain_db: Callable[[], MariaDatabase]
) -> None:
    """AUTO_INCREMENT: one read per side, and every ALTER TABLE in one multi-statement round trip."""
    counts: dict[int, tuple[int, int]] = {}
    for size in (5, 60):
        source = maria_db()
        target_server = maria_plain_db().server
        target_server.create_database(source.name)
        try:
            names = [f"t`{number}" for number in range(size)]  # a backtick in every name: quoted by doubling it
            for name in names:
                ddl = f"CREATE TABLE `{name.replace('`', '``')}` (id INT AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB"
                source.execute(ddl)
                target_server.execute(ddl, source.name)
                source.execute(f"INSERT INTO `{name.replace('`', '``')}` VALUES (7)")  # noqa: S608  (quoted)
            tables = [TableName(source.name, name) for name in names]
            target = parse_url(target_server.url(source.name))

            with count_statements() as counted:
                report = sync_sequences(source.endpoint(), target, gap=100, tables=tables)

            assert report.ok, report.summary
            assert {row.target_after for row in report.rows} == {108} and len(report.rows) == size
            assert f"`{source.name}`.`t``0`" in {row.name for row in report.rows}
            counts[size] = (counted["source"], counted["target"])
        finally:
            target_server.drop_database(source.name)
    assert counts[5] == counts[60], counts
    assert max(counts[60]) <= 10, counts
