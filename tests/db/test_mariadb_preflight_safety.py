"""Issue 24 on real MariaDB: bounded LOB reads, budgets that end in named warns, schema drift."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pymysql
import pytest

from tap_operator.databases import Check, PreflightOptions, TableName, run_preflight
from tap_operator.databases.checks import MARKER_TABLE
from tap_operator.databases.drift import check_schema_drift, schema_drift
from tap_operator.databases.mysql import _comparable_type, preflight_session

from .conftest import APP_PASSWORD, MariaDatabase, mappings, unique


def healthy(make: Callable[[], MariaDatabase]) -> MariaDatabase:
    database = make()
    database.execute("CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, note TEXT) ENGINE=InnoDB")
    database.execute("INSERT INTO orders (note) VALUES ('a'), ('b'), ('c')")
    database.create_marker()
    return database


def everything(database: MariaDatabase) -> str:
    return mappings((database.name, "%", "include"))


def only(checks: list[Check], name: str, verdict: str) -> Check:
    matching = [check for check in checks if check.name == name and check.verdict == verdict]
    assert matching, f"no {verdict} {name!r} check in {[(c.name, c.verdict, c.value) for c in checks]}"
    return matching[0]


def test_preflight_sessions_carry_the_budgets(maria_db: Callable[[], MariaDatabase]) -> None:
    source = maria_db()
    options = PreflightOptions(statement_timeout_ms=1500, lock_timeout_ms=2500)
    with preflight_session(source.endpoint(), "source", options) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.max_statement_time, @@SESSION.lock_wait_timeout, @@SESSION.innodb_lock_wait_timeout")
        assert cursor.fetchone() == (1.5, 3, 3)


def test_lob_size_reads_at_most_the_row_budget(maria_db: Callable[[], MariaDatabase]) -> None:
    source = healthy(maria_db)
    source.execute("CREATE TABLE pages (id INT PRIMARY KEY, body LONGTEXT)")
    source.execute("INSERT INTO pages SELECT seq, REPEAT('x', 100) FROM seq_1_to_49")
    source.execute("INSERT INTO pages VALUES (50, REPEAT('y', 2 * 1024 * 1024))")  # last in key order
    sampled = run_preflight(source.endpoint(), None, everything(source), PreflightOptions(lob_sample_rows=10))
    warned = only(sampled, "lob size", "warn")
    assert "only sampled" in warned.value and "the first 10 rows in key order" in warned.value
    whole = only(run_preflight(source.endpoint(), None, everything(source), PreflightOptions()), "lob size", "block")
    assert whole.subject == f"{source.name}.pages.body" and "whole table, 50 row(s)" in whole.value


@pytest.fixture
def locked_pages(maria_db: Callable[[], MariaDatabase]) -> Iterator[MariaDatabase]:
    """A source whose LOB table another session holds with LOCK TABLES … WRITE (metadata lock)."""
    source = healthy(maria_db)
    source.execute("CREATE TABLE pages (id INT PRIMARY KEY, body LONGTEXT)")
    holder = pymysql.connect(host=source.server.host, port=source.server.port, user="tap", password=source.server.password,
                             database=source.name)  # fmt: skip
    with holder.cursor() as cursor:
        cursor.execute("LOCK TABLES pages WRITE")
    try:
        yield source
    finally:
        with holder.cursor() as cursor:
            cursor.execute("UNLOCK TABLES")
        holder.close()


def test_lock_wait_beyond_lock_wait_timeout_is_a_named_warn(locked_pages: MariaDatabase) -> None:
    started = time.monotonic()
    checks = run_preflight(locked_pages.endpoint(), None, everything(locked_pages), PreflightOptions(lock_timeout_ms=1000))
    assert time.monotonic() - started < 15
    subject = f"{locked_pages.name}.pages"
    # SELECT is proven from SHOW GRANTS without opening the locked table: no wait, and a verdict.
    assert only(checks, "select privilege", "ok")
    lob = only(checks, "lob size", "warn")
    assert lob.subject == subject + ".body" and "not checked" in lob.value and "--lock-timeout-ms" in lob.fix
    assert only(checks, "replication grants", "ok") and only(checks, "drain marker table", "ok")


def test_a_column_grant_on_a_locked_table_is_a_named_warn_in_bounded_time(maria_db: Callable[[], MariaDatabase]) -> None:
    """SHOW GRANTS cannot settle a column-level grant: the table is opened, and its lock wait ends in the budget.

    The grant is made before the lock: GRANT itself waits for the table's metadata lock (with the server's
    default lock_wait_timeout of a year), which is what hung this scenario while it was being written.
    """
    source = healthy(maria_db)
    source.execute("CREATE TABLE pages (id INT PRIMARY KEY, body LONGTEXT)")
    name, user = source.name, unique("cols")
    grants = (f"SELECT (id) ON `{name}`.`pages`", f"SELECT ON `{name}`.`orders`", f"SELECT ON `{name}`.`{MARKER_TABLE}`")
    source.server.create_user(user, APP_PASSWORD, grants)
    holder = source.server.connect(name)
    try:
        with holder.cursor() as cursor:
            cursor.execute("LOCK TABLES pages WRITE")
        started = time.monotonic()
        checks = run_preflight(source.endpoint(user, APP_PASSWORD), None, everything(source), PreflightOptions())
        assert time.monotonic() - started < 15
    finally:
        holder.close()  # ends the lock
    pages = only(checks, "select privilege", "warn")
    assert pages.subject == f"{name}.pages" and "not checked" in pages.value and "lock_wait_timeout" in pages.value


def test_statement_time_expiry_is_a_named_warn(locked_pages: MariaDatabase) -> None:
    options = PreflightOptions(statement_timeout_ms=300, lock_timeout_ms=30000)
    started = time.monotonic()
    checks = run_preflight(locked_pages.endpoint(), None, everything(locked_pages), options)
    assert time.monotonic() - started < 15
    lob = only(checks, "lob size", "warn")
    assert "not checked" in lob.value and "max_statement_time 300 ms" in lob.value
    assert "--statement-timeout-ms 30000" in lob.fix


def test_table_added_on_the_source_and_drifted_columns_are_named(
    maria_db: Callable[[], MariaDatabase], maria_plain_db: Callable[[], MariaDatabase]
) -> None:
    source = healthy(maria_db)
    target = maria_plain_db()
    target.execute(f"CREATE DATABASE IF NOT EXISTS `{source.name}`")
    try:
        target.server.execute("CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(200))", source.name)
        target.server.execute(
            f"CREATE TABLE {MARKER_TABLE} (id VARCHAR(64) PRIMARY KEY, written_at DATETIME(6) NOT NULL)", source.name
        )
        source.execute("CREATE TABLE invoices (id BIGINT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(12,2))")  # after the start
        checks = run_preflight(source.endpoint(), target.endpoint(), everything(source), PreflightOptions())
        assert only(checks, "target table", "block").subject == f"{source.name}.invoices"
        drift = only(checks, "schema drift", "block")
        assert drift.subject == f"{source.name}.orders"
        assert drift.value == "column note is text on the source, varchar(200) on the target"
        tables = [TableName(source.name, name) for name in ("orders", "invoices", MARKER_TABLE)]
        with source.server.connect(source.name) as here, target.server.connect(source.name) as there:
            fence = schema_drift(here, there, tables)
        assert [(c.name, c.subject) for c in fence if c.verdict == "block"] == [
            ("target table", f"{source.name}.invoices"),
            ("schema drift", f"{source.name}.orders"),
        ]
        target.server.execute("ALTER TABLE orders MODIFY note TEXT", source.name)
        target.server.execute("CREATE TABLE invoices (id BIGINT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(12,2))", source.name)
        settled = check_schema_drift(source.endpoint(), target.endpoint(), tables)
        assert [(c.name, c.verdict) for c in settled] == [("schema drift", "ok")]
    finally:
        target.server.drop_database(source.name)


def test_comparable_types_ignore_what_mysql_8_and_mariadb_only_spell_differently() -> None:
    assert _comparable_type("int(11)", "") == _comparable_type("int", "") == "int"
    assert _comparable_type("bigint(20) unsigned", "auto_increment") == "bigint unsigned auto_increment"
    assert _comparable_type("json", "") == _comparable_type("longtext", "")
    assert _comparable_type("decimal(12,2)", "") != _comparable_type("decimal(12,4)", "")
