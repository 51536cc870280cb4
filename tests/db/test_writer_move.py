"""The writer move on real PostgreSQL: the CLI's fence, marker drain, sequence sync and flip, and the
writer rollback that keeps Aurora's writes, with native logical replication standing in for DMS.

The cutover's AWS side is the in-memory fake world of the engine tests (tests/unit/cutover/fakes.py);
every claim about data is checked on the databases.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from tap_cutover.settings import Settings
from tap_cutover.state import Phase, State, Weights

from benchmarks.cutover_fixtures import CUTOVER_ENV
from tap_operator import cli
from tap_operator.databases import Marker
from tap_operator.writer_move import Databases, MoveOptions, fence_and_flip, rollback_writer
from tests.unit.cutover.fakes import T0, World, fake_engine
from tests.unit.cutover.test_cutover_engine import put

from .conftest import APP_PASSWORD, PgDatabase, unique

SCHEMA = """
CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL);
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL);
CREATE TABLE tap_migrate_cutover_marker (id varchar(64) PRIMARY KEY, written_at timestamptz NOT NULL);
"""
ROWS = 300


def settings(**env: str) -> Settings:
    return Settings.from_env({**CUTOVER_ENV, **env})


def write_fence_world(drain_timeout: int = 20) -> World:
    world = World(settings(DRAIN_TIMEOUT_SECONDS=str(drain_timeout), DRAIN_POLL_SECONDS="1"))
    put(
        world,
        State(
            version=7,
            phase=Phase.WRITE_FENCE,
            weights=Weights(100, 0),
            last_good_reader_weight=100,
            ttl_lowered_at=T0 - timedelta(hours=1),
        ),
    )
    return world


@dataclass
class Subscription:
    """Native logical replication between two databases of one cluster (the slot is made by hand there)."""

    publisher: PgDatabase
    subscriber: PgDatabase
    name: str

    def create(self, *, copy_data: bool) -> None:
        self.publisher.execute(f"CREATE PUBLICATION {self.name} FOR ALL TABLES")
        self.publisher.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (self.name,))
        self.subscriber.execute(
            f"CREATE SUBSCRIPTION {self.name} CONNECTION '{self.publisher.url()}' PUBLICATION {self.name} "
            f"WITH (create_slot = false, slot_name = '{self.name}', copy_data = {str(copy_data).lower()})"
        )

    def wait_copied(self) -> None:
        for _ in range(600):
            states = self.subscriber.query("SELECT srsubstate FROM pg_subscription_rel")
            if states and all(state == "r" for (state,) in states):
                return
            self.subscriber.query("SELECT pg_sleep(0.05)")
        raise AssertionError("initial copy did not finish")

    def disable(self) -> None:
        self.subscriber.execute(f"ALTER SUBSCRIPTION {self.name} DISABLE")

    def drop(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.subscriber.execute(f"ALTER SUBSCRIPTION {self.name} DISABLE")
        with contextlib.suppress(psycopg.Error):
            self.subscriber.execute(f"ALTER SUBSCRIPTION {self.name} SET (slot_name = NONE)")
        with contextlib.suppress(psycopg.Error):
            self.subscriber.execute(f"DROP SUBSCRIPTION {self.name}")
        for _ in range(100):
            with contextlib.suppress(psycopg.Error):
                self.publisher.execute("SELECT pg_drop_replication_slot(%s)", (self.name,))
                return
            self.publisher.query("SELECT pg_sleep(0.05)")


class NativeReverse:
    """The rehearsal's reverse replication: at the flip, forward stops, then target -> source starts."""

    def __init__(self, forward: Subscription, source: PgDatabase, target: PgDatabase) -> None:
        self.source = source
        self.forward = forward
        self.reverse = Subscription(target, source, unique("rev"))
        self.started_with: Marker | None = None

    def start(self, marker: Marker) -> str:
        # PostgreSQL 15 has no origin = none: forward must stop applying before reverse starts, or rows loop.
        self.forward.disable()
        # The source is fenced; only the replication's own role may write there (set from an unfenced database).
        self.source.server.execute(f"ALTER ROLE tap IN DATABASE {self.source.name} SET default_transaction_read_only = off")
        self.reverse.create(copy_data=False)
        self.started_with = marker
        return f"reverse subscription {self.reverse.name} started after marker {marker.id}"

    def stop(self) -> str:
        self.reverse.drop()
        self.source.server.execute(f"ALTER ROLE tap IN DATABASE {self.source.name} RESET default_transaction_read_only")
        return f"reverse subscription {self.reverse.name} dropped"

    def abandon(self) -> str:
        stopped = self.stop()
        self.forward.subscriber.execute(f"ALTER SUBSCRIPTION {self.forward.name} ENABLE")
        return f"{stopped}; forward subscription enabled again"


@dataclass
class Pair:
    source: PgDatabase
    target: PgDatabase
    forward: Subscription
    reverses: list[NativeReverse] = field(default_factory=list)

    def databases(self) -> Databases:
        return Databases(self.source.endpoint(), self.target.endpoint())

    def reverse(self) -> NativeReverse:
        made = NativeReverse(self.forward, self.source, self.target)
        self.reverses.append(made)
        return made


@pytest.fixture
def replicated(pg_db: Callable[[], PgDatabase]) -> Iterator[Pair]:
    source, target = pg_db(), pg_db()
    for database in (source, target):
        database.execute(SCHEMA)
    source.execute("INSERT INTO orders (note) SELECT 'order ' || n FROM generate_series(1, %s) AS n", (ROWS,))
    source.execute("INSERT INTO events (body) SELECT 'event ' || n FROM generate_series(1, %s) AS n", (ROWS,))
    forward = Subscription(source, target, unique("fwd"))
    forward.create(copy_data=True)
    pair = Pair(source, target, forward)
    try:
        forward.wait_copied()
        yield pair
    finally:
        for made in pair.reverses:
            made.stop()
        forward.drop()
        for database in (source, target):
            with contextlib.suppress(psycopg.Error):
                database.execute(f"ALTER DATABASE {database.name} RESET default_transaction_read_only")


def insert_fails_read_only(database: PgDatabase) -> bool:
    with database.server.connect(database.name) as connection:
        try:
            connection.execute("INSERT INTO orders (note) VALUES ('after the fence')")
        except psycopg.errors.ReadOnlySqlTransaction:
            return True
    return False


def test_fence_drain_sequences_then_flip_on_real_replication(replicated: Pair) -> None:
    world = write_fence_world()
    app = psycopg.connect(replicated.source.url(), autocommit=True)  # an application session to be ended
    replicated.source.execute("INSERT INTO orders (note) VALUES ('acknowledged just before the fence')")
    result = fence_and_flip(fake_engine(world), replicated.databases(), "alice")
    assert result.status == "changed", result.message
    assert world.aurora_weights() == {"reader": 100, "writer": 100}
    state = world.state()
    assert state.phase is Phase.WRITER_FLIPPED
    assert state.fence_proven_at and state.drain_reached_at and state.sequences_synced_at
    assert [t.event for t in result.transitions] == [
        "fence_confirmed",
        "data_validated",  # the data proof: DMS validation complete (the fake's table statistics), read before the fence
        "fence_proven",
        "drain_reached",
        "sequences_synced",
        "writer_flipped",
    ]
    # The fence holds: the application's session was ended and a fresh one cannot write.
    with pytest.raises(psycopg.OperationalError):
        app.execute("SELECT 1")
    assert insert_fails_read_only(replicated.source)
    # The drain: the marker and every write acknowledged before it are on the target.
    marker_id = result.details["marker"]["id"]
    assert replicated.target.query("SELECT count(*) FROM tap_migrate_cutover_marker WHERE id = %s", (marker_id,)) == [(1,)]
    assert replicated.target.query("SELECT count(*) FROM orders WHERE note LIKE 'acknowledged%%'") == [(1,)]
    # The sequences: new rows on the target never collide with rows copied from the source.
    for _ in range(5):
        replicated.target.execute("INSERT INTO orders (note) VALUES ('on aurora')")
        replicated.target.execute("INSERT INTO events (body) VALUES ('on aurora')")
    (source_max,) = replicated.source.query("SELECT max(id) FROM orders")[0]
    (target_min_new,) = replicated.target.query("SELECT min(id) FROM orders WHERE note = 'on aurora'")[0]
    assert target_min_new > source_max
    assert result.details["sequences"]["ok"] is True
    assert APP_PASSWORD not in json.dumps(result.to_dict(), default=str)
    assert replicated.source.server.password not in json.dumps(result.to_dict(), default=str)


def test_broken_replication_never_flips_and_alerts(replicated: Pair) -> None:
    world = write_fence_world(drain_timeout=3)
    replicated.forward.disable()  # replication breaks before the fence
    result = fence_and_flip(fake_engine(world), replicated.databases(), "alice")
    assert result.status == "drain_failed" and "writer NOT flipped" in result.message
    assert world.aurora_weights()["writer"] == 0
    state = world.state()
    assert state.phase is Phase.WRITE_FENCE and state.fence_proven_at is not None and state.drain_reached_at is None
    assert any(n.severity == "alert" and "drain not reached" in n.subject for n in world.published)
    assert insert_fails_read_only(replicated.source)  # the source stays fenced: nothing is written anywhere


def test_no_data_proof_stops_before_the_fence_and_a_waiver_flips_with_an_alert(replicated: Pair) -> None:
    world = write_fence_world()
    world.table_statistics = [{"SchemaName": "public", "TableName": "orders", "ValidationState": "Not enabled"}]
    refused = fence_and_flip(fake_engine(world), replicated.databases(), "alice")
    assert refused.status == "rejected" and "source NOT fenced" in refused.message, refused.message
    assert "not enabled: public.orders" in refused.message and world.aurora_weights()["writer"] == 0
    replicated.source.execute("INSERT INTO orders (note) VALUES ('still writable')")
    options = MoveOptions(without_data_proof="validation off: spot-checked")
    waived = fence_and_flip(fake_engine(world), replicated.databases(), "alice", options=options)
    assert waived.status == "changed", waived.message
    assert world.state().data_proof_kind == "data_proof_waived" and world.state().data_proof == "validation off: spot-checked"
    alerts = [n for n in world.published if n.severity == "alert"]
    assert [n.subject.split(": ")[1].split(" ")[0] for n in alerts] == ["data_proof_waived", "writer_flipped"]
    assert all("WITHOUT" in n.message for n in alerts)


def test_unproven_fence_stops_before_the_drain(replicated: Pair) -> None:
    world = write_fence_world()
    escapee = unique("escapee")
    replicated.source.server.create_user(escapee, APP_PASSWORD)
    replicated.source.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {escapee}")
    replicated.source.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {escapee}")
    # Scoped to this database: roles are cluster-wide and other tests share the cluster.
    replicated.source.execute(
        f"ALTER ROLE {escapee} IN DATABASE {replicated.source.name} SET default_transaction_read_only = off"
    )
    proof = replicated.source.endpoint(escapee, APP_PASSWORD)
    databases = replace(replicated.databases(), proof=proof)
    result = fence_and_flip(fake_engine(world), databases, "alice")
    assert result.status == "error" and "writer NOT flipped" in result.message
    assert escapee in result.message
    assert world.aurora_weights()["writer"] == 0 and world.state().fence_proven_at is None
    assert "marker" not in result.details


def test_a_refused_fence_touches_no_database(replicated: Pair) -> None:
    world = write_fence_world()
    put(world, replace(world.state(), phase=Phase.PAUSED, paused_from=Phase.WRITE_FENCE))
    result = fence_and_flip(fake_engine(world), replicated.databases(), "alice")
    assert result.status == "rejected" and "before any database was touched" in result.message
    replicated.source.execute("INSERT INTO orders (note) VALUES ('still writable')")


def test_writer_rollback_keeps_every_write_made_on_aurora(replicated: Pair) -> None:
    world = write_fence_world()
    reverse = replicated.reverse()
    flipped = fence_and_flip(fake_engine(world), replicated.databases(), "alice", reverse=reverse)
    assert flipped.status == "changed", flipped.message
    assert reverse.started_with is not None
    # Recorded between the sequence sync and the flip: from then on the gates watch the reverse replication.
    assert world.state().reverse_started_at is not None
    # The application now writes to Aurora.
    for n in range(20):
        replicated.target.execute("INSERT INTO orders (note) VALUES (%s)", (f"written on aurora {n}",))
    replicated.target.execute("UPDATE events SET body = 'changed on aurora' WHERE id = 1")
    back = rollback_writer(fake_engine(world), replicated.databases(), "alice", reverse=reverse)
    assert back.status == "changed", back.message
    assert world.aurora_weights()["writer"] == 0 and world.state().phase is Phase.ROLLED_BACK
    assert replicated.source.query("SELECT count(*) FROM orders WHERE note LIKE 'written on aurora%%'") == [(20,)]
    assert replicated.source.query("SELECT body FROM events WHERE id = 1") == [("changed on aurora",)]
    # The source takes writes again, past every id Aurora handed out; Aurora is fenced now.
    replicated.source.execute("INSERT INTO orders (note) VALUES ('back on the source')")
    (new_id,) = replicated.source.query("SELECT id FROM orders WHERE note = 'back on the source'")[0]
    (aurora_max,) = replicated.target.query("SELECT max(id) FROM orders")[0]
    assert new_id > aurora_max
    assert insert_fails_read_only(replicated.target)


def run_cli(argv: list[str], world: World) -> tuple[int, dict[str, object], str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv, engine=fake_engine(world))
    return code, json.loads(out.getvalue()) if out.getvalue().startswith("{") else {}, out.getvalue() + err.getvalue()


def test_cli_advance_runs_preflight_and_fence_moves_the_writer(replicated: Pair, tmp_path: Path) -> None:
    urls = ["--source-url", replicated.source.url(), "--target-url", replicated.target.url()]
    no_outputs = ["--outputs", str(tmp_path / "absent.json"), "--operator", "alice", "--json"]
    world = World(settings())
    replicated.source.execute("DROP TABLE tap_migrate_cutover_marker")  # the drain cannot work without it
    code, body, text = run_cli([*no_outputs, "advance", *urls], world)
    assert code == 1 and body["status"] == "rejected", text
    assert "preflight blocks the start" in str(body["message"]) and "tap_migrate_cutover_marker" in str(body["message"])
    assert world.state().phase is Phase.REPLICATING
    assert replicated.source.server.password not in text

    replicated.source.execute(SCHEMA.strip().splitlines()[-1])
    # A table created after the subscription is replicated once the subscriber refreshes its table list.
    replicated.target.execute(f"ALTER SUBSCRIPTION {replicated.forward.name} REFRESH PUBLICATION WITH (copy_data = false)")
    code, body, text = run_cli([*no_outputs, "advance", *urls], world)
    assert code == 0, text
    assert body["phase"] == "reads_shifting" and world.aurora_weights()["reader"] == 10
    assert not [c for c in body["details"]["preflight"] if c["verdict"] == "block"]  # type: ignore[index]

    world = write_fence_world()
    code, body, text = run_cli([*no_outputs, "fence", "--confirm", *urls], world)
    assert code == 0, text
    assert body["phase"] == "writer_flipped" and body["evidence"]["drain_reached_at"]  # type: ignore[index]
    assert replicated.source.server.password not in text
    # Completing needs no database: no URL, no outputs file.
    code, body, text = run_cli([*no_outputs, "advance"], world)
    assert code == 0 and body["phase"] == "completed", text


def test_sequences_sync_into_a_fenced_database(replicated: Pair) -> None:
    """A writer rollback syncs Aurora's sequences back while the source is still fenced."""
    from tap_operator.databases import sync_sequences

    replicated.target.execute("SELECT setval('orders_id_seq', 50000)")
    replicated.source.execute(f"ALTER DATABASE {replicated.source.name} SET default_transaction_read_only = on")
    report = sync_sequences(replicated.target.endpoint(), replicated.source.endpoint(), 1000)
    assert report.ok, report.summary
    assert insert_fails_read_only(replicated.source)  # still fenced for everyone else
    replicated.source.server.execute(f"ALTER DATABASE {replicated.source.name} RESET default_transaction_read_only")
    replicated.source.execute("INSERT INTO orders (note) VALUES ('after the sync')")
    assert replicated.source.query("SELECT id FROM orders WHERE note = 'after the sync'")[0][0] >= 51000


def _fence_window_statements(pair: Pair) -> tuple[int, int, int]:
    """Statements per side of the whole fence window as `fence --confirm` runs it, and the drain's polls."""
    from tap_operator.databases import count_statements, fence_source, sync_sequences, unfence_source, wait_for_marker
    from tap_operator.databases import write_marker as write

    source, target = pair.source.endpoint(), pair.target.endpoint()
    try:
        with count_statements() as counted:
            proof = fence_source(source)
            assert proof.ok, proof.summary
            drain = wait_for_marker(target, write(source), 20, 0.05)
            assert drain.ok, drain.summary
            assert sync_sequences(source, target, 1000).ok
    finally:
        unfence_source(source)
    # The proving session is a session on the source too; the drain's polls are waiting, not the window's work.
    return counted["source"] + counted["proof"], counted["target"] - drain.polls, drain.polls


def test_the_whole_fence_window_is_a_constant_number_of_statements(replicated: Pair) -> None:
    """Issue 24: <= 10 statements per side whatever the number of sequences (each is a round trip over a VPN)."""
    counts: dict[int, tuple[int, int]] = {}
    for size in (5, 400):
        for database in (replicated.source, replicated.target):
            database.execute("; ".join(f"CREATE SEQUENCE IF NOT EXISTS extra_{n}" for n in range(1, size + 1)))
        replicated.source.execute("SELECT nextval(format('extra_%%s', g)::regclass) FROM generate_series(1, %s) g", (size,))
        source_statements, target_statements, _polls = _fence_window_statements(replicated)
        counts[size] = (source_statements, target_statements)
    assert counts[5] == counts[400], counts
    # source: ALTER DATABASE, end sessions, read what could still write, the proof, the marker, read sequences;
    # target: read, set, read back the sequences.
    assert counts[400] == (6, 3), counts
