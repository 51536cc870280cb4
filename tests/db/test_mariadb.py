"""MariaDB as source and target: preflight checks, the server-wide write fence, and the drain marker."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator

import pymysql
import pytest

from tap_operator.databases import (
    Check,
    PreflightOptions,
    fence_source,
    marker_applied,
    run_preflight,
    unfence_source,
    wait_for_marker,
    write_marker,
)
from tap_operator.databases.checks import MARKER_TABLE
from tools.dbservers import MariaDbServer

from .conftest import APP_PASSWORD, MariaDatabase, mappings


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


@contextlib.contextmanager
def global_variable(server: MariaDbServer, name: str, value: str) -> Iterator[None]:
    (original,) = server.query(f"SELECT @@GLOBAL.{name}")[0]
    server.execute(f"SET GLOBAL {name} = %s", params=(int(value) if value.isdigit() else value,))
    try:
        yield
    finally:
        server.execute(f"SET GLOBAL {name} = %s", params=(original,))


def test_healthy_mariadb_source_and_target_pass(maria_db: Callable[[], MariaDatabase],
                                                maria_plain_db: Callable[[], MariaDatabase]) -> None:  # fmt: skip
    source = healthy(maria_db)
    target = maria_plain_db()
    target.execute(f"CREATE DATABASE IF NOT EXISTS `{source.name}`")
    target.server.execute("CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, note TEXT)", source.name)
    target.server.execute(f"CREATE TABLE {MARKER_TABLE} (id VARCHAR(64) PRIMARY KEY, written_at DATETIME(6) NOT NULL)",
                          source.name)  # fmt: skip
    try:
        checks = run_preflight(source.endpoint(), target.endpoint(), everything(source), PreflightOptions())
        assert [(c.name, c.subject, c.value) for c in checks if c.verdict != "ok"] == []
        assert {"log_bin", "binlog_format", "binlog_row_image", "binlog retention", "server_id", "replication grants",
                "select privilege", "primary key", "lob size", "ssl", "long transaction", "drain marker table",
                "target table", "target sequences", "schema drift"} <= {c.name for c in checks}  # fmt: skip
    finally:
        target.server.drop_database(source.name)


def test_server_without_binlog_or_ssl_blocks(maria_plain_db: Callable[[], MariaDatabase]) -> None:
    source = healthy(maria_plain_db)
    checks = run_preflight(source.endpoint(), None, everything(source), PreflightOptions())
    assert only(checks, "log_bin", "block").value == "OFF"
    assert "have_ssl=DISABLED" in only(checks, "ssl", "block").value


def test_binlog_settings_that_break_cdc_block(maria: MariaDbServer, maria_db: Callable[[], MariaDatabase]) -> None:
    source = healthy(maria_db)
    # server_id = 0 cannot be shown here: MariaDB clamps it to 1 (MySQL accepts 0, which the check blocks).
    with global_variable(maria, "binlog_format", "STATEMENT"), global_variable(maria, "binlog_row_image", "MINIMAL"), \
            global_variable(maria, "binlog_expire_logs_seconds", "3600"):  # fmt: skip
        checks = run_preflight(source.endpoint(), None, everything(source), PreflightOptions())
    assert only(checks, "binlog_format", "block").value == "STATEMENT"
    assert only(checks, "binlog_row_image", "block").value == "MINIMAL"
    assert only(checks, "binlog retention", "block").value == "1.0 h (binlog_expire_logs_seconds = 3600)"
    assert only(checks, "server_id", "ok").value == "1"
    with global_variable(maria, "binlog_expire_logs_seconds", "0"):
        checks = run_preflight(source.endpoint(), None, everything(source), PreflightOptions())
    assert "never expire" in only(checks, "binlog retention", "ok").value


def test_missing_replication_grants_and_select_block(maria_db: Callable[[], MariaDatabase]) -> None:
    source = healthy(maria_db)
    source.execute("CREATE TABLE private_notes (id INT PRIMARY KEY)")
    user = "reader_" + source.name
    # MySQL hides tables a user holds no privilege on at all; INSERT alone makes it visible but unreadable.
    grants = (f"SELECT ON `{source.name}`.`orders`", f"SELECT ON `{source.name}`.`{MARKER_TABLE}`",
              f"INSERT ON `{source.name}`.`private_notes`")  # fmt: skip
    source.server.create_user(user, APP_PASSWORD, grants)
    checks = run_preflight(source.endpoint(user, APP_PASSWORD), None, everything(source), PreflightOptions())
    assert "missing REPLICATION CLIENT, REPLICATION SLAVE" in only(checks, "replication grants", "block").value
    assert only(checks, "select privilege", "block").subject == f"{source.name}.private_notes"
    source.server.execute(f"GRANT BINLOG MONITOR, REPLICATION SLAVE ON *.* TO '{user}'@'%'")
    source.server.execute(f"GRANT SELECT ON `{source.name}`.* TO '{user}'@'%'")
    checks = run_preflight(source.endpoint(user, APP_PASSWORD), None, everything(source), PreflightOptions())
    assert only(checks, "replication grants", "ok")
    assert only(checks, "select privilege", "ok")


def test_keys_lobs_and_long_transactions(maria_db: Callable[[], MariaDatabase]) -> None:
    source = healthy(maria_db)
    source.execute("CREATE TABLE audit (happened DATETIME, what VARCHAR(20))")
    source.execute("CREATE TABLE pages (path TEXT, body LONGTEXT, PRIMARY KEY (path(100)))")
    source.execute("INSERT INTO pages VALUES ('/big', REPEAT('x', 2 * 1024 * 1024))")
    holder = pymysql.connect(host=source.server.host, port=source.server.port, user="tap", password=source.server.password,
                             database=source.name, autocommit=False)  # fmt: skip
    try:
        with holder.cursor() as cursor:
            cursor.execute("INSERT INTO orders (note) VALUES ('held open')")
        time.sleep(1.2)
        checks = run_preflight(source.endpoint(), None, everything(source), PreflightOptions(long_transaction_seconds=1))
    finally:
        holder.rollback()
        holder.close()
    assert only(checks, "primary key", "block").subject == f"{source.name}.audit"
    assert only(checks, "lob primary key", "block").subject == f"{source.name}.pages.path"
    lob = only(checks, "lob size", "block")
    assert lob.subject == f"{source.name}.pages.body" and "2.0 MB" in lob.value
    assert "1 row(s) modified" in only(checks, "long transaction", "warn").value


def test_missing_marker_table_blocks_with_the_ddl(maria_db: Callable[[], MariaDatabase]) -> None:
    source = maria_db()
    source.execute("CREATE TABLE orders (id INT PRIMARY KEY)")
    blocked = only(run_preflight(source.endpoint(), None, everything(source), PreflightOptions()), "drain marker table", "block")
    source.execute(blocked.fix)  # the fix is the exact DDL
    assert only(run_preflight(source.endpoint(), None, everything(source), PreflightOptions()), "drain marker table", "ok")


def test_target_without_the_tables_blocks(
    maria_db: Callable[[], MariaDatabase], maria_plain_db: Callable[[], MariaDatabase]
) -> None:
    source = healthy(maria_db)
    target = maria_plain_db()
    checks = run_preflight(source.endpoint(), target.endpoint(), everything(source), PreflightOptions())
    assert {c.subject for c in checks if c.name == "target table" and c.verdict == "block"} == {
        f"{source.name}.orders",
        f"{source.name}.{MARKER_TABLE}",
    }


@pytest.fixture
def fenced(maria: MariaDbServer, maria_db: Callable[[], MariaDatabase]) -> Iterator[MariaDatabase]:
    source = healthy(maria_db)
    try:
        yield source
    finally:
        unfence_source(source.endpoint())


def _processlist(server: MariaDbServer) -> list[tuple[int, str, str]]:
    return [
        (int(r[0]), str(r[1]), str(r[2])) for r in server.query("SELECT ID, USER, COMMAND FROM information_schema.PROCESSLIST")
    ]


def test_fence_kills_application_sessions_spares_the_binlog_reader_and_proves_read_only(fenced: MariaDatabase) -> None:
    source = fenced
    app = source.create_app_user()
    application = pymysql.connect(host=source.server.host, port=source.server.port, user=app, password=APP_PASSWORD,
                                  database=source.name, autocommit=True)  # fmt: skip
    reader = subprocess.Popen(
        [shutil.which("mariadb-binlog") or "mariadb-binlog", "--read-from-remote-server", "--stop-never", "--host=127.0.0.1",
         f"--port={source.server.port}", "--user=tap", f"--password={source.server.password}", "binlog.000001",
         "--result-file=/dev/null"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not [p for p in _processlist(source.server) if p[2].startswith("Binlog Dump")] and time.monotonic() < deadline:
            time.sleep(0.05)
        dumps = [p[0] for p in _processlist(source.server) if p[2].startswith("Binlog Dump")]
        assert dumps, "mariadb-binlog did not connect"

        proof = fence_source(source.endpoint(), source.endpoint(app, APP_PASSWORD))

        assert proof.ok, proof.summary
        assert "read_only=ON" in proof.read_only and "no super_read_only" in proof.read_only
        assert app in {session.user for session in proof.terminated}
        assert "--read-only option" in proof.proof_result
        with pytest.raises(pymysql.err.OperationalError), application.cursor() as cursor:
            cursor.execute("INSERT INTO orders (note) VALUES ('after the fence')")
        assert [p[0] for p in _processlist(source.server) if p[2].startswith("Binlog Dump")] == dumps
        assert reader.poll() is None

        marker = write_marker(source.endpoint())  # the fencing account holds READ_ONLY ADMIN
        assert marker.position.startswith("binlog.")
        assert marker_applied(source.endpoint(), marker)
        assert wait_for_marker(source.endpoint(), marker, timeout_s=5).ok
        assert source.server.password not in repr(proof.to_dict()) + repr(marker.to_dict())
    finally:
        with contextlib.suppress(pymysql.Error):
            application.close()
        reader.terminate()
        reader.wait(timeout=10)


def test_application_account_with_read_only_admin_escapes_the_fence(fenced: MariaDatabase) -> None:
    source = fenced
    admin_app = source.create_app_user(("READ_ONLY ADMIN ON *.*",))
    proof = fence_source(source.endpoint(), source.endpoint(admin_app, APP_PASSWORD))
    assert not proof.ok
    assert f"account '{admin_app}'@'%' holds a privilege that writes through read_only" in proof.summary
    assert "could INSERT" in proof.summary


def test_unfence_makes_mariadb_writable_again(fenced: MariaDatabase) -> None:
    source = fenced
    app = source.create_app_user()
    assert fence_source(source.endpoint(), source.endpoint(app, APP_PASSWORD)).ok
    unfence_source(source.endpoint())
    with pymysql.connect(host=source.server.host, port=source.server.port, user=app, password=APP_PASSWORD,
                         database=source.name, autocommit=True) as connection, connection.cursor() as cursor:  # fmt: skip
        cursor.execute("INSERT INTO orders (note) VALUES ('writable again')")


def test_a_prepared_xa_transaction_stops_the_fence_and_is_named(fenced: MariaDatabase) -> None:
    """A prepared XA transaction outlives its killed session and can XA COMMIT later: the fence refuses it."""
    source = fenced
    app = source.create_app_user()
    gtrid = "tap-xa-" + source.name
    application = pymysql.connect(host=source.server.host, port=source.server.port, user=app, password=APP_PASSWORD,
                                  database=source.name, autocommit=True)  # fmt: skip
    with application.cursor() as cursor:
        cursor.execute(f"XA START '{gtrid}'")
        cursor.execute("INSERT INTO orders (note) VALUES ('prepared before the fence')")
        cursor.execute(f"XA END '{gtrid}'")
        cursor.execute(f"XA PREPARE '{gtrid}'")
    xid = f"X'{gtrid.encode().hex()}',X'',1"
    try:
        proof = fence_source(source.endpoint(), source.endpoint(app, APP_PASSWORD))

        assert not proof.ok
        assert [refusal.kind for refusal in proof.refusals] == ["prepared_transaction"]
        assert [transaction.gid for transaction in proof.prepared] == [xid]
        assert app in {session.user for session in proof.terminated}  # its session ended, the transaction did not
        assert f"XA COMMIT {xid}" in proof.summary and f"XA ROLLBACK {xid}" in proof.summary
        # Why: read_only is ON; MariaDB 10.11 refuses the XA COMMIT to the application's account, but any account
        # holding READ_ONLY ADMIN (a DBA, a transaction manager) still commits the row, after the marker.
        fresh = pymysql.connect(host=source.server.host, port=source.server.port, user=app, password=APP_PASSWORD,
                                database=source.name, autocommit=True)  # fmt: skip
        with fresh, fresh.cursor() as cursor, pytest.raises(pymysql.err.OperationalError, match="read-only"):
            cursor.execute(f"XA COMMIT {xid}")
        source.server.execute(f"XA COMMIT {xid}")
        assert source.query("SELECT COUNT(*) FROM orders WHERE note = 'prepared before the fence'") == [(1,)]
        assert fence_source(source.endpoint(), source.endpoint(app, APP_PASSWORD)).ok
    finally:
        with contextlib.suppress(pymysql.Error):
            application.close()
        with contextlib.suppress(pymysql.Error):
            source.server.execute(f"XA ROLLBACK {xid}")


def test_preflight_announces_what_the_mariadb_fence_would_refuse(fenced: MariaDatabase) -> None:
    source = fenced
    admin_app = source.create_app_user(("READ_ONLY ADMIN ON *.*",))
    gtrid = "tap-xa-pre-" + source.name
    application = pymysql.connect(host=source.server.host, port=source.server.port, user=admin_app, password=APP_PASSWORD,
                                  database=source.name, autocommit=True)  # fmt: skip
    with application.cursor() as cursor:
        cursor.execute(f"XA START '{gtrid}'")
        cursor.execute("INSERT INTO orders (note) VALUES ('prepared')")
        cursor.execute(f"XA END '{gtrid}'")
        cursor.execute(f"XA PREPARE '{gtrid}'")
    try:
        checks = run_preflight(source.endpoint(), None, everything(source), PreflightOptions())
        blocked = {(c.name, c.subject) for c in checks if c.verdict == "block"}
        assert ("prepared transaction", f"X'{gtrid.encode().hex()}',X'',1") in blocked
        assert ("read-only override", f"'{admin_app}'@'%'") in blocked
        assert [c.verdict for c in checks if c.name == "fence privileges"] == ["ok"]
    finally:
        application.close()
        source.server.execute(f"XA ROLLBACK '{gtrid}'")
