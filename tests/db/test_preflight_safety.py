"""Issue 24 on real PostgreSQL 15: data that would never arrive is named, and the preflight is safe on a live source.

Unlogged tables and large objects (whatever column refers to them) block; a table created on the source
after replication started is caught on the target; schema drift is a catalog-only comparison the fence can
call; the LOB size check reads a bounded sample, and a query out of budget is a named warn.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tap_operator import dbcli
from tap_operator.databases import Check, EndpointError, PreflightOptions, TableName, run_preflight
from tap_operator.databases.checks import MARKER_TABLE
from tap_operator.databases.drift import check_schema_drift, schema_drift
from tap_operator.databases.postgres import preflight_session

from .conftest import PgDatabase, mappings, write_config

ALL_PUBLIC = mappings(("public", "%", "include"))


def healthy(make: Callable[[], PgDatabase]) -> PgDatabase:
    database = make()
    database.execute("CREATE TABLE orders (id serial PRIMARY KEY, note text, amount numeric(12,2))")
    database.execute("INSERT INTO orders (note, amount) SELECT 'order ' || g, g FROM generate_series(1, 20) g")
    database.create_marker()
    return database


def named(checks: list[Check], name: str) -> list[Check]:
    return [check for check in checks if check.name == name]


def only(checks: list[Check], name: str, verdict: str) -> Check:
    matching = [check for check in checks if check.name == name and check.verdict == verdict]
    assert matching, f"no {verdict} {name!r} check in {[(c.name, c.verdict, c.value) for c in checks]}"
    return matching[0]


# --------------------------------------------------------------------------------------
# Data that never replicates


def test_unlogged_table_blocks_with_set_logged(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    source.execute("CREATE UNLOGGED TABLE sessions_cache (id int PRIMARY KEY, payload int)")
    checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions())
    blocked = only(checks, "unlogged table", "block")
    assert blocked.subject == "public.sessions_cache"
    assert "logical decoding skips it" in blocked.value
    assert blocked.fix.startswith('ALTER TABLE "public"."sessions_cache" SET LOGGED;')
    # Not selected: not ours to migrate, so not flagged.
    only_orders = mappings(("public", "orders", "include"), ("public", MARKER_TABLE, "include"))
    assert {c.verdict for c in named(run_preflight(source.endpoint(), None, only_orders, PreflightOptions()),
                                     "unlogged table")} == {"ok"}  # fmt: skip
    source.execute("ALTER TABLE sessions_cache SET LOGGED")
    assert only(run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions()), "unlogged table", "ok")


def test_large_object_referenced_from_a_bigint_column_blocks(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    source.execute("CREATE TABLE documents (id int PRIMARY KEY, content_ref bigint)")
    source.execute("INSERT INTO documents VALUES (1, lo_from_bytea(0, 'the contract'::bytea))")
    checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions())
    # The column type check sees an ordinary bigint: it is the large-object check that catches it.
    assert {c.verdict for c in named(checks, "column type")} == {"ok"}
    blocked = only(checks, "large objects", "block")
    assert blocked.value.startswith("1 large object(s) in pg_largeobject")
    assert "bigint" in blocked.value and "bytea" in blocked.fix
    source.execute("SELECT lo_unlink(content_ref::oid) FROM documents")
    assert only(run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions()), "large objects", "ok")


# --------------------------------------------------------------------------------------
# A table created on the source after replication started; schema drift for the fence


@pytest.fixture
def replicated(pg_db: Callable[[], PgDatabase], pg_plain_db: Callable[[], PgDatabase]) -> Iterator[tuple[PgDatabase, PgDatabase]]:
    """A source replicating its tables to a target by native logical replication (which, like DMS, carries no DDL)."""
    source = healthy(pg_db)
    target = pg_plain_db()
    target.execute("CREATE TABLE orders (id serial PRIMARY KEY, note text, amount numeric(12,2))")
    target.create_marker()
    source.execute(f"CREATE PUBLICATION tap_pub FOR TABLE orders, {MARKER_TABLE}")  # the tables there are when it starts
    subscription = f"tap_sub_{target.name}"
    with target.server.connect(target.name) as connection:  # CREATE SUBSCRIPTION cannot run in a transaction block
        connection.execute(f"CREATE SUBSCRIPTION {subscription} CONNECTION '{source.url()}' PUBLICATION tap_pub")
    try:
        for _ in range(400):
            if target.query("SELECT count(*) FROM orders") == [(20,)]:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the initial copy did not arrive")
        yield source, target
    finally:
        with target.server.connect(target.name) as connection:
            connection.execute(f"DROP SUBSCRIPTION {subscription}")


def test_table_created_on_the_source_after_replication_started_is_missing_on_the_target(
    replicated: tuple[PgDatabase, PgDatabase],
) -> None:
    source, target = replicated
    source.execute("CREATE TABLE invoices (id bigserial PRIMARY KEY, total numeric(12,2))")
    source.execute("INSERT INTO invoices (total) VALUES (10), (20)")
    source.execute("INSERT INTO orders (note) VALUES ('after the new table')")
    for _ in range(400):  # the stream still works for the old table...
        if target.query("SELECT count(*) FROM orders") == [(21,)]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the change to orders did not arrive")
    # ... but the new table never arrives: preflight names it, with the fix.
    checks = run_preflight(source.endpoint(), target.endpoint(), ALL_PUBLIC, PreflightOptions())
    missing = only(checks, "target table", "block")
    assert missing.subject == "public.invoices"
    assert {c.subject for c in checks if c.verdict == "block"} >= {"public.invoices", "public.invoices_id_seq"}
    assert "used by public.invoices" in only(checks, "target sequence", "block").value
    # The fence's call: catalog only, on open connections, every difference blocks.
    tables = [TableName("public", "orders"), TableName("public", "invoices"), TableName("public", MARKER_TABLE)]
    with psycopg.connect(source.url(), autocommit=True) as here, psycopg.connect(target.url(), autocommit=True) as there:
        drift = schema_drift(here, there, tables)
    assert [(c.name, c.subject, c.verdict) for c in drift if c.verdict != "ok"] == [
        ("target table", "public.invoices", "block"),
        ("target sequence", "public.invoices_id_seq", "block"),
    ]
    assert "DMS carries no DDL" in only(drift, "target table", "block").value
    assert only(drift, "schema drift", "ok").value.startswith("2 table(s)")


def test_schema_drift_names_column_type_nullability_and_key_differences(
    pg_db: Callable[[], PgDatabase], pg_plain_db: Callable[[], PgDatabase]
) -> None:
    source = pg_db()
    target = pg_plain_db()
    source.execute("CREATE TABLE accounts (id int PRIMARY KEY, email varchar(200), region text NOT NULL, born date)")
    target.execute("CREATE TABLE accounts (id int, email varchar(100) NOT NULL, region text, born date, legacy int NOT NULL)")
    target.execute("ALTER TABLE accounts ADD PRIMARY KEY (id, born)")
    source.execute("CREATE TABLE same (id int PRIMARY KEY, v text)")
    target.execute("CREATE TABLE same (id int PRIMARY KEY, v text)")
    tables = [TableName("public", "accounts"), TableName("public", "same")]
    checks = check_schema_drift(source.endpoint(), target.endpoint(), tables)
    drift = only(checks, "schema drift", "block")
    assert drift.subject == "public.accounts"
    for difference in (
        "column email is character varying(200) on the source, character varying(100) on the target",
        "column email is NOT NULL on the target only",
        "column region is NOT NULL on the source only",
        "column legacy (NOT NULL integer) exists on the target only",
        "primary key (id) on the source, (id, born) on the target",
    ):
        assert difference in drift.value
    assert "public.same" not in {c.subject for c in checks}
    # Before the full load with DROP_AND_CREATE the task re-creates the table: differences only warn.
    recreated = check_schema_drift(source.endpoint(), target.endpoint(), tables, prep_mode="DROP_AND_CREATE")
    assert only(recreated, "schema drift", "warn").subject == "public.accounts"
    # A harmless-only difference warns.
    target.execute("ALTER TABLE accounts DROP COLUMN legacy, ALTER COLUMN email DROP NOT NULL")
    target.execute("ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200)")
    target.execute("ALTER TABLE accounts DROP CONSTRAINT accounts_pkey, ADD PRIMARY KEY (id), ALTER COLUMN born DROP NOT NULL")
    relaxed = check_schema_drift(source.endpoint(), target.endpoint(), tables)
    assert only(relaxed, "schema drift", "warn").value == "column region is NOT NULL on the source only"


# --------------------------------------------------------------------------------------
# Safe on a production source


def test_preflight_sessions_carry_the_budgets(pg_db: Callable[[], PgDatabase]) -> None:
    source = pg_db()
    options = PreflightOptions(statement_timeout_ms=1234, lock_timeout_ms=567)
    with preflight_session(source.endpoint(), "source", options) as connection:
        assert connection.execute("SHOW statement_timeout").fetchone() == ("1234ms",)
        assert connection.execute("SHOW lock_timeout").fetchone() == ("567ms",)
    with pytest.raises(EndpointError, match="statement_timeout_ms must be at least 1"):
        PreflightOptions(statement_timeout_ms=0)


def _blocks_read(source: PgDatabase, table: str) -> int:
    """Heap blocks read so far (from cache or disk) of a table, once every other session's statistics are flushed."""
    for _ in range(200):  # a backend flushes its statistics as it exits
        others = "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        if not source.query(others):
            break
        time.sleep(0.05)
    (count,) = source.query(
        "SELECT coalesce(heap_blks_read, 0) + coalesce(heap_blks_hit, 0) FROM pg_statio_user_tables WHERE relname = %s",
        (table,),
    )[0]
    return int(count)


def test_lob_size_check_reads_a_bounded_sample_not_the_table(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    # No autovacuum: its ANALYZE would read the table too and blur what the preflight read.
    source.execute("CREATE TABLE pages (id int PRIMARY KEY, body text) WITH (autovacuum_enabled = off)")
    source.execute("INSERT INTO pages SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 60000) g")  # ~1,700 pages
    source.execute("INSERT INTO pages VALUES (0, repeat('x', 2 * 1024 * 1024))")
    (pages,) = source.query("SELECT pg_relation_size('pages') / 8192")[0]
    assert pages > 1000
    before = _blocks_read(source, "pages")
    checks = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions(lob_sample_pages=20))
    read = _blocks_read(source, "pages") - before
    assert read <= 200, f"the LOB check read {read} of {pages} pages"
    sampled = [c for c in named(checks, "lob size") if "pages.body" in c.value or c.subject == "public.pages.body"]
    assert sampled and f"a sample of ~20 of {pages} pages" in sampled[0].value
    # Nothing too large in a sample is a warn (unread values may be), never an ok; usually the 2 MB row is not in it.
    assert sampled[0].verdict in {"warn", "block"}
    if sampled[0].verdict == "warn":
        assert "only sampled" in sampled[0].value and "FullLobMode" in sampled[0].fix
    # A budget that covers the table measures it whole and finds the 2 MB value.
    whole = run_preflight(source.endpoint(), None, ALL_PUBLIC, PreflightOptions(lob_sample_pages=pages + 1))
    blocked = only(whole, "lob size", "block")
    assert blocked.subject == "public.pages.body" and "2.0 MB" in blocked.value and "whole table" in blocked.value


@pytest.fixture
def locked_pages(pg_db: Callable[[], PgDatabase]) -> Iterator[PgDatabase]:
    """A source whose LOB table another session holds in ACCESS EXCLUSIVE mode (an ALTER TABLE in progress)."""
    source = healthy(pg_db)
    source.execute("CREATE TABLE pages (id int PRIMARY KEY, body text)")
    holder = psycopg.connect(source.url())
    holder.execute("LOCK TABLE pages IN ACCESS EXCLUSIVE MODE")
    try:
        yield source
    finally:
        holder.rollback()
        holder.close()


def test_lock_wait_beyond_lock_timeout_is_a_named_warn_and_the_rest_still_runs(locked_pages: PgDatabase) -> None:
    started = time.monotonic()
    checks = run_preflight(locked_pages.endpoint(), None, ALL_PUBLIC, PreflightOptions(lock_timeout_ms=200))
    assert time.monotonic() - started < 10
    timed_out = only(checks, "lob size", "warn")
    assert timed_out.subject == "public.pages.body"
    assert "not checked" in timed_out.value and "lock_timeout 200 ms" in timed_out.value
    assert "--lock-timeout-ms" in timed_out.fix and "--statement-timeout-ms" in timed_out.fix
    # The other checks ran and judged as usual.
    assert only(checks, "drain marker table", "ok") and only(checks, "primary key", "ok")


def test_statement_timeout_expiry_is_a_named_warn(locked_pages: PgDatabase) -> None:
    options = PreflightOptions(statement_timeout_ms=300, lock_timeout_ms=60000)
    checks = run_preflight(locked_pages.endpoint(), None, ALL_PUBLIC, options)
    timed_out = only(checks, "lob size", "warn")
    assert "not checked" in timed_out.value and "statement_timeout 300 ms" in timed_out.value
    assert "--statement-timeout-ms 30000" in timed_out.fix
    assert not [c for c in checks if c.verdict == "ok" and c.name == "lob size"]


def test_partitioned_table_is_measured_through_its_partitions(pg_db: Callable[[], PgDatabase]) -> None:
    source = healthy(pg_db)
    source.execute("CREATE TABLE events (id int, at date, body text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)")
    source.execute("CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
    source.execute("INSERT INTO events VALUES (1, '2026-05-01', repeat('x', 2 * 1024 * 1024))")
    only_events = mappings(("public", "events", "include"), ("public", MARKER_TABLE, "include"))
    blocked = only(run_preflight(source.endpoint(), None, only_events, PreflightOptions()), "lob size", "block")
    assert blocked.subject == "public.events.body" and "whole table, 1 page(s)" in blocked.value


# --------------------------------------------------------------------------------------
# The verdicts alone (no server)


def test_lob_verdicts_from_measures_whole_sampled_and_out_of_budget() -> None:
    from dataclasses import dataclass

    from tap_operator.databases import TaskSettings
    from tap_operator.databases.checks import LobSize, lob_checks

    @dataclass(frozen=True)
    class Col:
        table: TableName
        name: str
        in_primary_key: bool = False
        is_lob: bool = True
        declared_type: str = "text"

    columns = [Col(TableName("s", f"t{i}"), "body") for i in range(8)]
    measures = {
        "t0": LobSize(10, True, "whole table, 1 page(s)"),
        "t1": LobSize(None, False, "statement_timeout 5000 ms"),
        **{f"t{i}": LobSize(100, False, "a sample of ~1280 of 9999 pages (12.80%)") for i in range(2, 8)},
    }
    checks = lob_checks(columns, TaskSettings(), lambda column: measures[column.table.name], PreflightOptions(), "extra fix")
    assert [(c.verdict, c.subject) for c in checks] == [("warn", "s.t1.body"), ("warn", "source")]
    assert "statement_timeout 5000 ms" in checks[0].value
    assert checks[1].value.startswith("6 LOB column(s) only sampled") and "and 1 more" in checks[1].value
    assert "extra fix" in checks[1].fix
    assert [c.verdict for c in lob_checks(columns[:1], TaskSettings(), lambda column: measures["t0"])] == ["ok"]


def test_cli_budget_options_reach_the_checks(tmp_path: Path, pg_db: Callable[[], PgDatabase]) -> None:
    source, target = healthy(pg_db), healthy(pg_db)
    target.execute("CREATE TABLE pages (id int PRIMARY KEY, body text)")
    source.execute("CREATE TABLE pages (id int PRIMARY KEY, body text)")
    source.execute("INSERT INTO pages SELECT g, 'p' || g FROM generate_series(1, 2000) g")
    config = str(write_config(tmp_path, engine="postgres", mappings_json=ALL_PUBLIC))
    out, err = io.StringIO(), io.StringIO()
    urls = ["--source-url", source.url(), "--target-url", target.url(), "--config", config]
    budgets = ["--lob-sample-pages", "1", "--statement-timeout-ms", "4000"]
    assert dbcli.preflight([*urls, "--json", *budgets], out, err, env={}) == 0, err.getvalue()
    lob = [check for check in json.loads(out.getvalue())["checks"] if check["name"] == "lob size"]
    assert lob[0]["verdict"] == "warn" and "a sample of ~1 of" in lob[0]["value"]
    out, err = io.StringIO(), io.StringIO()
    assert dbcli.preflight([*urls, "--lock-timeout-ms", "0"], out, err, env={}) == 1
    assert err.getvalue().strip() == "error: preflight option lock_timeout_ms must be at least 1, got 0"
