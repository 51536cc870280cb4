"""The writer move on real MariaDB: the CLI's fence, marker drain, AUTO_INCREMENT sync and flip, and the writer
rollback that keeps the target's writes, over GTID binlog replication between two servers
(tools/dbservers.mariadb_replication_pair) standing in for DMS.

The source is a database on the primary, the target the same database on the replica: nothing written on
the source reaches the target except through replication. The cutover's AWS side is the in-memory fake
world of the engine tests (tests/unit/cutover/fakes.py); every claim about data is checked on the servers.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pymysql
import pytest
from tap_cutover.state import Phase, State

from tap_operator import cli
from tap_operator.databases import DatabaseError, Marker
from tap_operator.databases.counting import count_statements
from tap_operator.writer_move import Databases, MoveOptions, OnRefusal, fence_and_flip, rollback_writer
from tests.unit.cutover.fakes import World, fake_engine
from tests.unit.cutover.test_cutover_engine import put
from tools.dbservers import MariaDbReplicationPair, MariaDbServer

from .conftest import APP_PASSWORD, MariaDatabase, mappings, task_settings, unique, write_config
from .test_writer_move import write_fence_world

SCHEMA = (
    "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(200) NOT NULL) ENGINE=InnoDB",
    "CREATE TABLE events (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL) ENGINE=InnoDB",
    "CREATE TABLE `odd name``s` (id SMALLINT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB",
    "CREATE TABLE tap_migrate_cutover_marker (id VARCHAR(64) NOT NULL PRIMARY KEY, written_at DATETIME(6) NOT NULL) "
    "ENGINE=InnoDB",
)
ROWS = 300


class MariaReverse:
    """The reverse replication at the flip: forward stops, then replica -> primary starts from the replica's
    current GTID position (as the DMS reverse task starts from Aurora's binlog position)."""

    def __init__(self, pair: MariaDbReplicationPair, fail_start: bool = False) -> None:
        self.pair = pair
        self.fail_start = fail_start
        self.started_with: Marker | None = None
        self.calls: list[str] = []

    def start(self, marker: Marker) -> str:
        self.calls.append("start")
        self.pair.forward.stop()
        if self.fail_start:
            raise DatabaseError("reverse replication: injected failure at its start")
        position = self.pair.reverse.start()
        self.started_with = marker
        return f"replica -> primary from GTID {position} after marker {marker.id}"

    def stop(self) -> str:
        self.calls.append("stop")
        self.pair.reverse.remove()
        return "reverse replication removed"

    def abandon(self) -> str:
        self.calls.append("abandon")
        self.pair.reverse.remove()
        self.pair.forward.resume()
        return "reverse replication removed; forward replication resumed"


@dataclass
class Replicated:
    pair: MariaDbReplicationPair
    source: MariaDatabase
    target: MariaDatabase
    app: str
    reverses: list[MariaReverse] = field(default_factory=list)

    def databases(self, **changes: object) -> Databases:
        proof = self.source.endpoint(self.app, APP_PASSWORD)
        return replace(Databases(self.source.endpoint(), self.target.endpoint(), proof), **changes)  # type: ignore[arg-type]

    def reverse(self, fail_start: bool = False) -> MariaReverse:
        made = MariaReverse(self.pair, fail_start)
        self.reverses.append(made)
        return made


@pytest.fixture
def replicated(maria_pair: MariaDbReplicationPair) -> Iterator[Replicated]:
    """A database on the primary with rows, replicated to the replica; an application account on both."""
    name = unique("db")
    primary, replica = maria_pair.primary, maria_pair.replica
    source, target = MariaDatabase(primary, name), MariaDatabase(replica, name)
    app = unique("app")
    try:
        primary.create_database(name)
        for statement in SCHEMA:
            source.execute(statement)
        source.execute("INSERT INTO orders (note) SELECT CONCAT('order ', seq) FROM seq_1_to_%s" % ROWS)  # noqa: S608, UP031
        source.execute("INSERT INTO events (body) SELECT CONCAT('event ', seq) FROM seq_1_to_%s" % ROWS)  # noqa: S608, UP031
        source.execute("INSERT INTO `odd name``s` (v) VALUES (1), (2)")
        # The account is replicated too, as the application's would be on Aurora after a full load of the grants.
        primary.create_user(app, APP_PASSWORD, (f"ALL ON `{name}`.*",))
        maria_pair.forward.wait_caught_up()
        yield Replicated(maria_pair, source, target, app)
    finally:
        maria_pair.reset()
        maria_pair.drop_database(name)
        for server in (primary, replica):
            with server.connect() as connection, connection.cursor() as cursor:
                cursor.execute("SET SESSION sql_log_bin = 0")
                cursor.execute("DROP USER IF EXISTS %s@'%%'", (app,))


def app_connection(database: MariaDatabase, user: str) -> pymysql.connections.Connection[pymysql.cursors.Cursor]:
    server = database.server
    return pymysql.connect(
        host=server.host, port=server.port, user=user, password=APP_PASSWORD, database=database.name, autocommit=True
    )


def insert_fails_read_only(database: MariaDatabase, user: str) -> bool:
    with app_connection(database, user) as connection, connection.cursor() as cursor:
        try:
            cursor.execute("INSERT INTO orders (note) VALUES ('after the fence')")
        except pymysql.err.OperationalError as error:
            return "read-only" in str(error)
    return False


def read_only(server: MariaDbServer) -> bool:
    return bool(server.query("SELECT @@GLOBAL.read_only")[0][0])


def binlog_dump_threads(server: MariaDbServer) -> list[int]:
    rows = server.query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%%'")
    return [int(row[0]) for row in rows]


def test_fence_drain_auto_increment_then_flip_on_real_replication(replicated: Replicated) -> None:
    world = write_fence_world()
    application = app_connection(replicated.source, replicated.app)  # an application session to be ended
    with application.cursor() as cursor:
        cursor.execute("INSERT INTO orders (note) VALUES ('acknowledged just before the fence')")
    dumps = binlog_dump_threads(replicated.pair.primary)
    assert len(dumps) == 1  # the replica's IO thread: the binlog reader the fence must spare

    with count_statements() as counted:
        result = fence_and_flip(fake_engine(world), replicated.databases(), "alice")

    assert result.status == "changed", result.message
    assert world.aurora_weights() == {"reader": 100, "writer": 100}
    assert world.state().phase is Phase.WRITER_FLIPPED
    assert [t.event for t in result.transitions] == [
        "fence_confirmed", "data_validated", "fence_proven", "drain_reached", "sequences_synced", "writer_flipped",
    ]  # fmt: skip
    fence = result.details["fence"]
    assert replicated.app in {ended["user"] for ended in fence["terminated"]}
    assert "--read-only option" in fence["proof_result"] and replicated.app in fence["proof_result"]
    with pytest.raises(pymysql.err.OperationalError), application.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert insert_fails_read_only(replicated.source, replicated.app)  # a fresh session cannot write either
    # The binlog reader was spared and replication still runs.
    assert binlog_dump_threads(replicated.pair.primary) == dumps and replicated.pair.forward.running()
    # The drain: the marker, and every write acknowledged before it, reached the replica through replication.
    marker_id = result.details["marker"]["id"]
    assert replicated.target.query("SELECT COUNT(*) FROM tap_migrate_cutover_marker WHERE id = %s", (marker_id,)) == [(1,)]
    assert replicated.target.query("SELECT COUNT(*) FROM orders WHERE note LIKE 'acknowledged%%'") == [(1,)]
    # AUTO_INCREMENT: new rows on the target never collide with ids the source handed out.
    sequences = result.details["sequences"]
    assert sequences["ok"] is True and len(sequences["rows"]) == 3, sequences
    replicated.target.execute("INSERT INTO orders (note) VALUES ('on target')")
    replicated.target.execute("INSERT INTO events (body) VALUES ('on target')")
    replicated.target.execute("INSERT INTO `odd name``s` (v) VALUES (3)")
    for table in ("orders", "events", "`odd name``s`"):
        (source_max,) = replicated.source.query(f"SELECT MAX(id) FROM {table}")[0]  # noqa: S608
        (target_new,) = replicated.target.query(f"SELECT MAX(id) FROM {table}")[0]  # noqa: S608
        assert target_new > source_max, table
    # The sync is a fixed number of round trips to the target whatever the number of tables (issue 24).
    alters = [s for s in counted.statements["target"] if s.startswith("ALTER TABLE")]
    assert len(alters) == 1 and alters[0].count("ALTER TABLE") == 3, counted.statements["target"]
    text = json.dumps(result.to_dict(), default=str)
    assert APP_PASSWORD not in text and replicated.pair.primary.password not in text


@pytest.mark.parametrize("on_refusal", ["hold", "reopen"])
def test_broken_replication_never_flips(replicated: Replicated, on_refusal: OnRefusal) -> None:
    world = write_fence_world(drain_timeout=2)
    replicated.pair.forward.stop()  # replication breaks before the fence: the marker cannot arrive
    result = fence_and_flip(fake_engine(world), replicated.databases(), "alice", options=MoveOptions(on_refusal=on_refusal))
    assert result.status == "drain_failed" and "writer NOT flipped" in result.message, result.message
    assert world.aurora_weights()["writer"] == 0 and world.state().drain_reached_at is None
    assert any(n.severity == "alert" and "drain not reached" in n.subject for n in world.published)
    marker_id = result.details["marker"]["id"]
    assert replicated.source.query("SELECT COUNT(*) FROM tap_migrate_cutover_marker WHERE id = %s", (marker_id,)) == [(1,)]
    assert replicated.target.query("SELECT COUNT(*) FROM tap_migrate_cutover_marker WHERE id = %s", (marker_id,)) == [(0,)]
    assert read_only(replicated.pair.primary) is (on_refusal == "hold")
    assert insert_fails_read_only(replicated.source, replicated.app) is (on_refusal == "hold")
    # Once replication runs again, the marker arrives: it travels only that way.
    replicated.pair.forward.resume()
    replicated.pair.forward.wait_caught_up()
    assert replicated.target.query("SELECT COUNT(*) FROM tap_migrate_cutover_marker WHERE id = %s", (marker_id,)) == [(1,)]


# --------------------------------------------------------------------------------------
# A failure injected at each step: the writer stays on the source, which is held or reopened as asked


def _escapee_proof(replicated: Replicated, cleanups: list[Callable[[], None]]) -> Databases:
    user = unique("escapee")
    replicated.pair.primary.create_user(user, APP_PASSWORD, (f"ALL ON `{replicated.source.name}`.*", "READ_ONLY ADMIN ON *.*"))
    cleanups.append(lambda: replicated.pair.primary.execute("DROP USER IF EXISTS %s@'%%'", params=(user,)))
    return replicated.databases(proof=replicated.source.endpoint(user, APP_PASSWORD))


def _prepared_xa(replicated: Replicated, cleanups: list[Callable[[], None]]) -> Databases:
    gtrid = unique("tap-xa")
    with app_connection(replicated.source, replicated.app) as connection, connection.cursor() as cursor:
        cursor.execute(f"XA START '{gtrid}'")
        cursor.execute("INSERT INTO orders (note) VALUES ('prepared')")
        cursor.execute(f"XA END '{gtrid}'")
        cursor.execute(f"XA PREPARE '{gtrid}'")
    cleanups.append(lambda: replicated.pair.primary.execute(f"XA ROLLBACK '{gtrid}'"))
    return replicated.databases()


def _broken_replication(replicated: Replicated, cleanups: list[Callable[[], None]]) -> Databases:
    replicated.pair.forward.stop()
    return replicated.databases()


def _counter_overflows(replicated: Replicated, cleanups: list[Callable[[], None]]) -> Databases:
    # The target's column is narrower than the source's (changed there by hand): the source's next id does not fit it.
    with replicated.pair.replica.connect(replicated.target.name) as connection, connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_log_bin = 0")
        cursor.execute("ALTER TABLE `odd name``s` MODIFY id TINYINT AUTO_INCREMENT")
    with replicated.pair.primary.connect(replicated.source.name) as connection, connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_log_bin = 0")
        cursor.execute("ALTER TABLE `odd name``s` AUTO_INCREMENT = 200")
    return replicated.databases()


def _unchanged(replicated: Replicated, cleanups: list[Callable[[], None]]) -> Databases:
    return replicated.databases()


# step -> (how it fails, the result's status, the refusal kind, whether the reverse start fails)
STEPS: dict[str, tuple[Callable[[Replicated, list[Callable[[], None]]], Databases], str, str | None, bool]] = {
    "fence (an account writes through read_only)": (_escapee_proof, "error", "read_only_override", False),
    "fence (a prepared XA transaction)": (_prepared_xa, "error", "prepared_transaction", False),
    "drain (replication broken)": (_broken_replication, "drain_failed", "drain_timeout", False),
    "AUTO_INCREMENT sync (no room on the target)": (_counter_overflows, "error", "sequence_no_room", False),
    "reverse replication start": (_unchanged, "error", None, True),
}


@pytest.mark.parametrize("on_refusal", ["hold", "reopen"])
@pytest.mark.parametrize("step", list(STEPS))
def test_a_failure_at_each_step_leaves_the_writer_and_holds_or_reopens_the_source(
    replicated: Replicated, step: str, on_refusal: OnRefusal
) -> None:
    inject, status, kind, reverse_fails = STEPS[step]
    cleanups: list[Callable[[], None]] = []
    world = write_fence_world(drain_timeout=2)
    try:
        databases = inject(replicated, cleanups)
        reverse = replicated.reverse(fail_start=reverse_fails)
        options = MoveOptions(on_refusal=on_refusal)
        result = fence_and_flip(fake_engine(world), databases, "alice", options=options, reverse=reverse)
    finally:
        for cleanup in cleanups:
            with contextlib.suppress(pymysql.Error):
                cleanup()
    assert result.status == status and "writer NOT flipped" in result.message, result.message
    assert world.aurora_weights()["writer"] == 0 and world.state().phase is Phase.WRITE_FENCE
    if kind is not None:
        assert kind in [refusal["kind"] for refusal in result.details["refusals"]], result.details["refusals"]
        assert reverse.calls == []  # the reverse replication is never started before every proof
    else:
        assert reverse.calls == ["start", "abandon"] and replicated.pair.forward.running()
    assert read_only(replicated.pair.primary) is (on_refusal == "hold")
    expected = "held read-only" if on_refusal == "hold" else "reopened"
    assert expected in result.details["source_after_refusal"], result.details["source_after_refusal"]
    assert insert_fails_read_only(replicated.source, replicated.app) is (on_refusal == "hold")


def test_a_refused_fence_touches_no_database(replicated: Replicated) -> None:
    world = write_fence_world()
    state: State = world.state()
    put(world, replace(state, phase=Phase.PAUSED, paused_from=Phase.WRITE_FENCE))
    result = fence_and_flip(fake_engine(world), replicated.databases(), "alice")
    assert result.status == "rejected" and "before any database was touched" in result.message
    assert not read_only(replicated.pair.primary)


# --------------------------------------------------------------------------------------
# Writer rollback over reverse replication


def _flip_with_reverse(replicated: Replicated) -> tuple[World, MariaReverse]:
    world = write_fence_world()
    reverse = replicated.reverse()
    flipped = fence_and_flip(fake_engine(world), replicated.databases(), "alice", reverse=reverse)
    assert flipped.status == "changed", flipped.message
    assert reverse.started_with is not None and world.state().reverse_started_at is not None
    assert not replicated.pair.forward.running() and replicated.pair.reverse.running()
    return world, reverse


def test_writer_rollback_keeps_every_write_made_on_the_target(replicated: Replicated) -> None:
    world, reverse = _flip_with_reverse(replicated)
    with app_connection(replicated.target, replicated.app) as connection, connection.cursor() as cursor:
        for n in range(20):
            cursor.execute("INSERT INTO orders (note) VALUES (%s)", (f"written on the target {n}",))
        cursor.execute("UPDATE events SET body = 'changed on the target' WHERE id = 1")
    target_proof = replicated.target.endpoint(replicated.app, APP_PASSWORD)
    back = rollback_writer(fake_engine(world), replicated.databases(proof=target_proof), "alice", reverse=reverse)
    assert back.status == "changed", back.message
    assert world.aurora_weights()["writer"] == 0 and world.state().phase is Phase.ROLLED_BACK
    assert reverse.calls == ["start", "stop"] and not replicated.pair.reverse.running()
    # Every write made on the target came back, the marker with them: the reverse drain.
    assert replicated.source.query("SELECT COUNT(*) FROM orders WHERE note LIKE 'written on the target%%'") == [(20,)]
    assert replicated.source.query("SELECT body FROM events WHERE id = 1") == [("changed on the target",)]
    marker_id = back.details["marker"]["id"]
    assert replicated.source.query("SELECT COUNT(*) FROM tap_migrate_cutover_marker WHERE id = %s", (marker_id,)) == [(1,)]
    assert "--read-only option" in back.details["fence_target"]["proof_result"]
    # The source takes writes again, past every id the target handed out; the target is fenced now.
    assert not read_only(replicated.pair.primary) and read_only(replicated.pair.replica)
    with app_connection(replicated.source, replicated.app) as connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO orders (note) VALUES ('back on the source')")
        new_id = cursor.lastrowid
    assert new_id > replicated.target.query("SELECT MAX(id) FROM orders")[0][0]
    assert insert_fails_read_only(replicated.target, replicated.app)


def test_writer_rollback_without_the_reverse_drain_stays_on_the_target(replicated: Replicated) -> None:
    world, reverse = _flip_with_reverse(replicated)
    replicated.pair.reverse.stop()  # the reverse replication broke: the marker cannot come back
    settings = replace(world.settings, drain_timeout_seconds=2)
    world.settings = settings
    target_proof = replicated.target.endpoint(replicated.app, APP_PASSWORD)
    back = rollback_writer(fake_engine(world), replicated.databases(proof=target_proof), "alice", reverse=reverse)
    assert back.status == "drain_failed" and "writer stays on Aurora" in back.message, back.message
    assert world.aurora_weights()["writer"] == 100 and world.state().phase is Phase.WRITER_FLIPPED
    # The target that was fenced is writable again; the source stays fenced.
    assert not read_only(replicated.pair.replica) and read_only(replicated.pair.primary)
    assert not insert_fails_read_only(replicated.target, replicated.app)


def test_writer_rollback_with_an_account_that_writes_through_read_only_stays_on_the_target(replicated: Replicated) -> None:
    world, reverse = _flip_with_reverse(replicated)
    # Without the application's credentials the proof session is the operator's, which holds READ_ONLY ADMIN.
    back = rollback_writer(fake_engine(world), replicated.databases(proof=None), "alice", reverse=reverse)
    assert back.status == "error" and "writer stays on Aurora" in back.message, back.message
    assert "could INSERT" in back.message
    assert world.aurora_weights()["writer"] == 100 and not read_only(replicated.pair.replica)


# --------------------------------------------------------------------------------------
# The CLI: advance (preflight), fence --confirm, rollback --writer --confirm --keep-writes


def run_cli(argv: list[str], world: World, reverse: MariaReverse | None = None) -> tuple[int, dict[str, object], str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv, engine=fake_engine(world), reverse=reverse)
    return code, json.loads(out.getvalue()) if out.getvalue().startswith("{") else {}, out.getvalue() + err.getvalue()


def _cli_config(tmp_path: Path, database: str) -> Path:
    return write_config(tmp_path, engine="mariadb", mappings_json=mappings((database, "%", "include")), settings=task_settings())


def test_cli_advance_fence_and_writer_rollback_on_mariadb(replicated: Replicated, tmp_path: Path) -> None:
    config = _cli_config(tmp_path, replicated.source.name)
    urls = ["--source-url", replicated.source.url(), "--target-url", replicated.target.url(), "--config", str(config)]
    common = ["--outputs", str(tmp_path / "absent.json"), "--operator", "alice", "--json"]
    world = World(write_fence_world().settings)
    code, body, text = run_cli([*common, "advance", *urls], world)
    assert code == 0, text
    assert body["phase"] == "reads_shifting", text
    checks = body["details"]["preflight"]  # type: ignore[index]
    assert not [c for c in checks if c["verdict"] == "block"], text
    assert {"log_bin", "binlog retention", "select privilege", "prepared transaction", "sequence sync"} <= {
        c["name"] for c in checks
    }

    world = write_fence_world()
    reverse = replicated.reverse()
    source_proof = replicated.source.url(replicated.app, APP_PASSWORD)
    code, body, text = run_cli([*common, "fence", "--confirm", "--proof-url", source_proof, *urls], world, reverse)
    assert code == 0, text
    assert body["phase"] == "writer_flipped" and body["evidence"]["drain_reached_at"]  # type: ignore[index]
    assert replicated.pair.primary.password not in text and APP_PASSWORD not in text

    with app_connection(replicated.target, replicated.app) as connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO orders (note) VALUES ('kept by the rollback')")
    target_proof = replicated.target.url(replicated.app, APP_PASSWORD)
    argv = [*common, "rollback", "--writer", "--confirm", "--keep-writes", "--proof-url", target_proof, *urls]
    code, body, text = run_cli(argv, world, reverse)
    assert code == 0, text
    assert body["phase"] == "rolled_back" and world.aurora_weights()["writer"] == 0
    assert replicated.source.query("SELECT COUNT(*) FROM orders WHERE note = 'kept by the rollback'") == [(1,)]
    assert replicated.pair.primary.password not in text and APP_PASSWORD not in text
