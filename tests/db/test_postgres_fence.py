"""The PostgreSQL write fence, its proof, and the drain marker carried by native logical replication."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import errors as pg_errors

from tap_operator.databases import fence_source, marker_applied, unfence_source, wait_for_marker, write_marker
from tap_operator.databases.checks import MARKER_TABLE
from tools.dbservers import PostgresServer

from .conftest import APP_PASSWORD, PgDatabase


@pytest.fixture
def fenced_source(pg_db: Callable[[], PgDatabase]) -> Iterator[PgDatabase]:
    source = pg_db()
    source.execute("CREATE TABLE orders (id serial PRIMARY KEY, note text)")
    source.create_marker()
    yield source
    unfence_source(source.endpoint())


def _backends(server: PostgresServer, database: str, backend_type: str) -> list[int]:
    return [
        row[0]
        for row in server.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = %s", params=(database, backend_type)
        )
    ]


def test_fence_terminates_application_sessions_and_a_fresh_session_cannot_write(fenced_source: PgDatabase) -> None:
    source = fenced_source
    app = source.create_app_user()
    application = psycopg.connect(source.url(app, APP_PASSWORD), autocommit=True)
    application.execute("INSERT INTO orders (note) VALUES ('before the fence')")
    slot = "tap_test_slot_" + source.name
    source.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (slot,))
    # A walsender on the source database, like DMS's change stream.
    receiver = subprocess.Popen(
        [shutil.which("pg_recvlogical") or "pg_recvlogical", "-d", source.url(), "--slot", slot, "--start", "-f", "/dev/null"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _backends(source.server, source.name, "walsender") and time.monotonic() < deadline:
            time.sleep(0.05)
        walsenders = _backends(source.server, source.name, "walsender")
        assert walsenders, "pg_recvlogical did not connect"

        proof = fence_source(source.endpoint(), source.endpoint(app, APP_PASSWORD))

        assert proof.ok, proof.summary
        assert proof.changed
        assert app in {session.user for session in proof.terminated}
        assert "read-only transaction" in proof.proof_result
        assert f"database {source.name} has default_transaction_read_only=on" in proof.summary
        with pytest.raises(psycopg.OperationalError):
            application.execute("INSERT INTO orders (note) VALUES ('after the fence')")
        with psycopg.connect(source.url(app, APP_PASSWORD)) as fresh, pytest.raises(pg_errors.ReadOnlySqlTransaction):
            fresh.execute("INSERT INTO orders (note) VALUES ('fresh session')")
        assert _backends(source.server, source.name, "walsender") == walsenders  # the change stream survived
        assert receiver.poll() is None
        assert APP_PASSWORD not in repr(proof.to_dict()) and source.server.password not in repr(proof.to_dict())
    finally:
        application.close()
        receiver.terminate()
        receiver.wait(timeout=10)
        source.execute("SELECT pg_drop_replication_slot(%s)", (slot,))


def test_role_override_makes_the_proof_fail_with_the_state_it_found(fenced_source: PgDatabase) -> None:
    source = fenced_source
    writer = source.create_app_user("app_writer_" + source.name)
    source.execute(f'ALTER ROLE "{writer}" IN DATABASE "{source.name}" SET default_transaction_read_only = off')
    try:
        proof = fence_source(source.endpoint(), source.endpoint(writer, APP_PASSWORD))
        assert not proof.ok
        assert (
            f"database {source.name} has default_transaction_read_only=on but role {writer} overrides it in database "
            f"{source.name} (default_transaction_read_only=off); sessions of {writer} can still write"
        ) in proof.summary
        assert "could INSERT" in proof.summary  # the override really let the proving session write
        assert proof.escapes
    finally:
        source.server.execute(f'ALTER ROLE "{writer}" IN DATABASE "{source.name}" RESET default_transaction_read_only')


def test_role_level_override_on_another_role_is_reported_even_when_the_proof_write_fails(fenced_source: PgDatabase) -> None:
    source = fenced_source
    other = source.create_app_user()
    source.execute(f'ALTER ROLE "{other}" SET default_transaction_read_only = off')
    try:
        proof = fence_source(source.endpoint())
        assert not proof.ok
        assert "read-only transaction" in proof.proof_result  # the proving role itself is fenced
        assert f"role {other} overrides it on every database" in proof.summary
    finally:
        source.server.execute(f'ALTER ROLE "{other}" RESET default_transaction_read_only')


def test_already_read_only_mode_changes_nothing_and_refuses_to_claim_a_writable_source(fenced_source: PgDatabase) -> None:
    source = fenced_source
    proof = fence_source(source.endpoint(), already_read_only=True)
    assert not proof.ok
    assert not proof.changed
    assert "default_transaction_read_only=unset" in proof.summary
    assert "could INSERT" in proof.summary
    assert source.query("SELECT count(*) FROM orders WHERE note LIKE 'tap-fence-proof%'") == [(0,)]  # rolled back

    assert fence_source(source.endpoint()).ok
    again = fence_source(source.endpoint(), already_read_only=True)
    assert again.ok, again.summary
    assert again.terminated == ()


def test_unfence_makes_the_source_writable_again(fenced_source: PgDatabase) -> None:
    source = fenced_source
    assert fence_source(source.endpoint()).ok
    unfence_source(source.endpoint())
    with psycopg.connect(source.url()) as connection:
        connection.execute("INSERT INTO orders (note) VALUES ('writable again')")


def test_marker_reaches_a_subscriber_and_wait_for_marker_returns(
    fenced_source: PgDatabase, pg_plain_db: Callable[[], PgDatabase]
) -> None:
    source = fenced_source
    target = pg_plain_db()
    target.execute("CREATE TABLE orders (id serial PRIMARY KEY, note text)")
    target.create_marker()
    source.execute(f"CREATE PUBLICATION tap_pub FOR TABLE orders, {MARKER_TABLE}")
    password = source.server.password.replace("\\", "\\\\").replace("'", "\\'")
    conninfo = f"host=127.0.0.1 port={source.server.port} user=tap password='{password}' dbname={source.name}"
    with target.server.connect(target.name) as connection:  # CREATE SUBSCRIPTION cannot run in a transaction block
        connection.execute(
            f"CREATE SUBSCRIPTION tap_sub_{target.name} CONNECTION '{conninfo.replace(chr(39), chr(39) * 2)}' PUBLICATION tap_pub"
        )
    try:
        with psycopg.connect(source.url(), autocommit=True) as writer:
            for number in range(50):
                writer.execute("INSERT INTO orders (note) VALUES (%s)", (f"acknowledged {number}",))
        assert fence_source(source.endpoint()).ok
        marker = write_marker(source.endpoint())
        assert marker.position.count("/") == 1  # a WAL LSN such as 0/1A2B3C8
        assert source.query(f"SELECT id FROM {MARKER_TABLE}") == [(marker.id,)]  # noqa: S608  (a constant table name)

        drained = wait_for_marker(target.endpoint(), marker, timeout_s=30, poll_s=0.2)

        assert drained.ok, drained.summary
        assert marker_applied(target.endpoint(), marker)
        assert marker_applied(target.endpoint(), marker.id)  # by id alone: public schema
        assert target.query("SELECT count(*) FROM orders") == [(50,)]  # every acknowledged write arrived first
    finally:
        with target.server.connect(target.name) as connection:
            connection.execute(f"DROP SUBSCRIPTION tap_sub_{target.name}")


def test_wait_for_marker_reports_the_timeout(pg_db: Callable[[], PgDatabase]) -> None:
    target = pg_db()
    target.create_marker()
    ticks = iter(float(second) for second in range(100))
    sleeps: list[float] = []
    drained = wait_for_marker(target.endpoint(), "tap-never-written", timeout_s=3, poll_s=1.0, clock=lambda: next(ticks),
                              sleep=sleeps.append)  # fmt: skip
    assert not drained.ok
    assert f"is not on {target.endpoint().label}" in drained.summary
    assert drained.polls >= 2
    assert all(0 < pause <= 1.0 for pause in sleeps)
    with pytest.raises(ValueError, match="poll_s"):
        wait_for_marker(target.endpoint(), "x", timeout_s=3, poll_s=2.0)


def test_a_prepared_transaction_stops_the_fence_and_is_named(fenced_source: PgDatabase) -> None:
    """COMMIT PREPARED writes through default_transaction_read_only: the fence must refuse while one is pending."""
    source = fenced_source
    gid = "tap-pending-" + source.name
    with psycopg.connect(source.url(), autocommit=True) as connection:
        connection.execute("BEGIN")
        connection.execute("INSERT INTO orders (note) VALUES ('prepared before the fence')")
        connection.execute(f"PREPARE TRANSACTION '{gid}'")
    try:
        proof = fence_source(source.endpoint())

        assert not proof.ok
        assert [refusal.kind for refusal in proof.refusals] == ["prepared_transaction"]
        (pending,) = proof.prepared
        assert (pending.gid, pending.owner, pending.database) == (gid, "tap", source.name)
        assert pending.age_seconds is not None and pending.age_seconds >= 0
        assert f"prepared transaction '{gid}' (owner tap, database {source.name}, prepared" in proof.summary
        assert f"COMMIT PREPARED '{gid}'" in proof.summary and f"ROLLBACK PREPARED '{gid}'" in proof.summary
        assert proof.to_dict()["prepared"][0]["gid"] == gid
        # Why: the source is read-only now, and yet the pending transaction still commits its row.
        with psycopg.connect(source.url(), autocommit=True) as fresh:
            assert fresh.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
            fresh.execute(f"COMMIT PREPARED '{gid}'")
        assert source.query("SELECT count(*) FROM orders WHERE note = 'prepared before the fence'") == [(1,)]
        # Resolved: the fence proves.
        assert fence_source(source.endpoint()).ok
    finally:
        if source.query("SELECT count(*) FROM pg_prepared_xacts WHERE gid = %s", (gid,)) != [(0,)]:
            source.execute(f"ROLLBACK PREPARED '{gid}'")
