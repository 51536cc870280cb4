"""Every PostgreSQL preflight check against real clusters: a database where it passes, one where it does not."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest

from tap_operator.databases import Check, MappingError, PreflightOptions, TaskSettings, run_preflight
from tap_operator.databases.checks import MARKER_TABLE

from .conftest import PgDatabase, mappings

ALL_PUBLIC = mappings(("public", "%", "include"))


def healthy(make: Callable[[], PgDatabase]) -> PgDatabase:
    database = make()
    database.execute("CREATE TABLE orders (id serial PRIMARY KEY, note text, amount numeric(12,2))")
    database.execute("INSERT INTO orders (note, amount) SELECT 'order ' || g, g FROM generate_series(1, 20) g")
    database.create_marker()
    return database


def verdicts(checks: list[Check], name: str) -> set[str]:
    found = {check.verdict for check in checks if check.name == name}
    assert found, f"no {name!r} check in {[c.name for c in checks]}"
    return found


def only(checks: list[Check], name: str, verdict: str) -> Check:
    matching = [check for check in checks if check.name == name and check.verdict == verdict]
    assert matching, f"no {verdict} {name!r} check in {[(c.name, c.verdict, c.value) for c in checks]}"
    return matching[0]


def test_healthy_source_and_target_pass_every_check(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    target = healthy(pg_db)
    checks = run_preflight(source.endpoint(), target.endpoint(), ALL_PUBLIC, PreflightOptions())
    not_ok = [(c.name, c.subject, c.verdict, c.value) for c in checks if c.verdict != "ok"]
    assert not_ok == []
    names = {check.name for check in checks}
    assert {
        "reachable", "table selection", "wal_level", "replication slots", "wal senders", "max_slot_wal_keep_size", "ssl",
        "replication privilege", "select privilege", "primary key", "lob size", "column type", "long transaction",
        "prepared transaction", "drain marker table", "batch apply", "parallel apply", "target table", "target sequences",
        "unlogged table", "large objects", "schema drift", "target sequence",
    } <= names  # fmt: skip


def test_misconfigured_cluster_blocks_wal_level_and_ssl_and_warns_on_unbounded_slot_wal(
    pg_plain_db: Callable[[], PgDatabase],
) -> None:
    source = healthy(pg_plain_db)
    checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions(ssl_mode="require"))
    assert only(checks, "wal_level", "block").value == "replica"
    assert "ssl=off" in only(checks, "ssl", "block").value
    assert only(checks, "max_slot_wal_keep_size", "warn").value == "-1 (unlimited)"
    # ssl_mode none: the DMS endpoint does not ask for SSL, so a server without it is fine.
    assert verdicts(run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions(ssl_mode="none")), "ssl") == {"ok"}


def test_too_few_free_slots_and_senders_for_the_tasks_block(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions(task_count=10))
    assert "need 11" in only(checks, "replication slots", "block").value
    assert "need 11" in only(checks, "wal senders", "block").value


def test_user_without_replication_or_select_is_blocked(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    source.execute("CREATE TABLE secrets_table (id int PRIMARY KEY)")
    user = source.create_app_user()
    source.execute(f'REVOKE ALL ON secrets_table FROM "{user}"')
    checks = run_preflight(source.endpoint(user, "app-pw:/@%?#&x"), None, ALL_PUBLIC, PreflightOptions())
    replication = only(checks, "replication privilege", "block")
    assert f'ALTER ROLE "{user}" REPLICATION' in replication.fix
    assert only(checks, "select privilege", "block").subject == "public.secrets_table"
    source.execute(f'ALTER ROLE "{user}" REPLICATION')
    source.execute(f'GRANT SELECT ON secrets_table TO "{user}"')
    checks = run_preflight(source.endpoint(user, "app-pw:/@%?#&x"), None, ALL_PUBLIC, PreflightOptions())
    assert verdicts(checks, "replication privilege") == {"ok"}
    assert verdicts(checks, "select privilege") == {"ok"}


def test_table_without_key_blocks_unless_replica_identity_full(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    source.execute("CREATE TABLE events (happened timestamptz, payload int)")
    checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions())
    blocked = only(checks, "primary key", "block")
    assert blocked.subject == "public.events"
    assert "REPLICA IDENTITY FULL" in blocked.fix
    source.execute("ALTER TABLE events REPLICA IDENTITY FULL")
    assert verdicts(run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions()), "primary key") == {"ok"}


def test_lob_primary_key_blocks(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    source.execute("CREATE TABLE documents (path text PRIMARY KEY, body bytea)")
    checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions())
    assert only(checks, "lob primary key", "block").subject == "public.documents.path"


def test_value_larger_than_lob_max_size_blocks_with_its_size(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    source.execute("CREATE TABLE pages (id int PRIMARY KEY, body text, data jsonb)")
    source.execute("INSERT INTO pages VALUES (1, repeat('x', 2 * 1024 * 1024), '{\"a\": 1}')")
    checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions())
    blocked = only(checks, "lob size", "block")
    assert blocked.subject == "public.pages.body"
    assert "2.0 MB" in blocked.value and "LobMaxSize 32 KB" in blocked.value
    assert "2048 KB" in blocked.fix
    full_lob = PreflightOptions(task=TaskSettings(full_lob_mode=True, limited_size_lob_mode=False))
    assert verdicts(run_preflight(source.endpoint(), None, ALL_PUBLIC, full_lob), "lob size") == {"ok"}
    no_lobs = PreflightOptions(task=TaskSettings(support_lobs=False))
    assert only(run_preflight(source.endpoint(), None, ALL_PUBLIC, no_lobs), "lob support", "block")


def test_column_types_dms_does_not_migrate_faithfully(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    source.execute("CREATE TABLE ledger (id int PRIMARY KEY, total numeric, blob_ref oid, kind regclass)")
    checks = [
        check for check in run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions()) if check.name == "column type"
    ]
    by_subject = {check.subject: check.verdict for check in checks}
    assert by_subject == {"public.ledger.total": "warn", "public.ledger.blob_ref": "block", "public.ledger.kind": "warn"}


def test_long_transactions_block_when_they_write_and_warn_when_they_only_read(
    pg_db: Callable[[], PgDatabase], pg: object
) -> None:
    source = healthy(pg_db)
    writer = psycopg.connect(source.url())
    reader = psycopg.connect(source.url())
    try:
        writer.execute("INSERT INTO orders (note) VALUES ('held open')")  # holds a transaction id
        reader.execute("SELECT count(*) FROM orders").fetchall()  # a snapshot, no transaction id
        time.sleep(1.2)
        checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions(long_transaction_seconds=1))
        long_ones = {check.verdict for check in checks if check.name == "long transaction"}
        assert long_ones == {"block", "warn"}
        assert "slot" in only(checks, "long transaction", "block").fix
    finally:
        writer.close()
        reader.close()
    assert verdicts(run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions(long_transaction_seconds=1)),
                    "long transaction") == {"ok"}  # fmt: skip


def test_prepared_transaction_blocks(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    with psycopg.connect(source.url(), autocommit=True) as connection:
        connection.execute("BEGIN")
        connection.execute("INSERT INTO orders (note) VALUES ('prepared')")
        connection.execute("PREPARE TRANSACTION 'tap_test_prepared'")
    try:
        checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions())
        assert "ROLLBACK PREPARED 'tap_test_prepared'" in only(checks, "prepared transaction", "block").fix
    finally:
        source.execute("ROLLBACK PREPARED 'tap_test_prepared'")


def test_missing_or_unselected_marker_table_blocks_with_the_ddl(pg_db: Callable[[], PgDatabase]) -> None:
    source = pg_db()
    source.execute("CREATE TABLE orders (id int PRIMARY KEY)")
    checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions())
    missing = only(checks, "drain marker table", "block")
    assert missing.fix == (
        f'CREATE TABLE "public".{MARKER_TABLE} (id varchar(64) PRIMARY KEY, '
        "written_at timestamptz NOT NULL DEFAULT clock_timestamp());"
    )
    source.execute(missing.fix)
    only_orders = mappings(("public", "orders", "include"))
    assert (
        "do not select it"
        in only(run_preflight(source.endpoint(), None, only_orders, PreflightOptions()), "drain marker table", "block").value
    )
    assert verdicts(run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions()), "drain marker table") == {"ok"}


def test_mappings_that_select_nothing_block_and_a_missing_explicit_table_is_an_error(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    checks = run_preflight(source.endpoint(), None, mappings(("sales", "%", "include")), PreflightOptions())
    assert only(checks, "table selection", "block")
    with pytest.raises(MappingError, match=r"explicit table public\.invoices does not exist on the source"):
        run_preflight(source.endpoint(), None, mappings(("public", "invoices", "explicit")), PreflightOptions())


def test_batch_and_parallel_apply_block_the_drain_proof(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    options = PreflightOptions(task=TaskSettings(batch_apply_enabled=True, parallel_apply_threads=4))
    checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, options)
    assert "BatchApplyEnabled to false" in only(checks, "batch apply", "block").fix
    assert only(checks, "parallel apply", "block").value == "TargetMetadata.ParallelApplyThreads = 4"


def test_target_missing_tables_block_or_warn_when_the_task_creates_them(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    target = pg_db()
    checks = run_preflight(source.endpoint(), target.endpoint(), ALL_PUBLIC, PreflightOptions())
    assert {check.subject for check in checks if check.name == "target table" and check.verdict == "block"} == {
        "public.orders",
        f"public.{MARKER_TABLE}",
    }
    creates = PreflightOptions(task=TaskSettings(target_table_prep_mode="DROP_AND_CREATE"))
    assert verdicts(run_preflight(source.endpoint(), target.endpoint(), ALL_PUBLIC, creates), "target table") == {"warn"}


def test_target_sequences_that_cannot_be_read_block(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    target = healthy(pg_db)
    user = target.create_app_user()
    target.execute(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "{user}"')
    checks = run_preflight(source.endpoint(), target.endpoint(user, "app-pw:/@%?#&x"), ALL_PUBLIC, PreflightOptions())
    assert "permission denied" in only(checks, "target sequences", "block").value
