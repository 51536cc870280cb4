"""A green preflight never leads to a fence that strands the source.

Every refusal the writer move can meet after it fenced the source has a kind in the registry
(tap_operator/databases/refusals.py) naming the preflight check that announces it. Here, on real PostgreSQL
with native logical replication standing in for DMS: for each kind, the condition makes the announcing
check block, and `fence_and_flip` refuses with that kind (writer not moved). And the registry is read
against the source code: every refusal in it is registered, every registered kind is used.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg
import pytest

from lib.config import PROJECT_ROOT
from tap_operator.databases import (
    FENCE_REFUSALS,
    Endpoint,
    PreflightOptions,
    TableName,
    TaskSettings,
    run_preflight,
    selected_tables,
)
from tap_operator.writer_move import Databases, MoveOptions, fence_and_flip
from tests.unit.cutover.fakes import fake_engine

from .conftest import APP_PASSWORD, PgDatabase, mappings, unique
from .test_writer_move import (  # noqa: F401  (replicated: a fixture)
    Pair,
    Subscription,
    insert_fails_read_only,
    replicated,
    run_cli,
    write_fence_world,
)

ALL_PUBLIC = mappings(("public", "%", "include"))
WITHOUT_MARKER = mappings(("public", "orders", "include"), ("public", "events", "include"))
# Kinds no preflight can foresee, each with its reason in the registry; adding one is a decision made here.
UNANNOUNCED = {"still_connected", "not_read_only", "proof_failed", "data_unproven"}
_KIND_IN_CODE = re.compile(r"""refusal_kind\(\s*["']([a-z_]+)["']\s*\)""")


def _code_files() -> list[Path]:
    return sorted((PROJECT_ROOT / "tap_operator").rglob("*.py"))


def test_every_refusal_in_the_code_is_registered_and_every_registered_kind_is_used() -> None:
    used: dict[str, list[str]] = {}
    for path in _code_files():
        for kind in _KIND_IN_CODE.findall(path.read_text()):
            used.setdefault(kind, []).append(path.name)
    assert set(used) == set(FENCE_REFUSALS), (set(used) ^ set(FENCE_REFUSALS), used)


def test_every_kind_is_announced_by_a_preflight_check_that_exists() -> None:
    code = "\n".join(path.read_text() for path in sorted((PROJECT_ROOT / "tap_operator" / "databases").glob("*.py")))
    for kind in FENCE_REFUSALS.values():
        if kind.kind in UNANNOUNCED:
            assert not kind.announced_by and kind.unannounced_because, kind
            continue
        assert kind.announced_by, f"{kind.kind}: the fence refuses it but no preflight check announces it"
        for check in kind.announced_by:
            # The check's name is a literal in the preflight code (block("<name>", ...) / a name the checks use).
            assert f'"{check}"' in code, f"{kind.kind}: no preflight check named {check!r}"


def test_every_refusal_path_of_the_move_carries_a_registered_kind() -> None:
    """The fence's, the marker's, the drain's and the sync's failures all say which kind they are."""
    text = (PROJECT_ROOT / "tap_operator" / "writer_move.py").read_text()
    move = text[text.index("def _fence_and_prove") : text.index("def _flip")]
    failures = move.count("raise progress.fail(")
    assert failures == move.count('progress.details["refusals"] ='), "a failure after the fence without its refusal kinds"
    # fence not proven, drain not reached, sequences not synced, schema drift, data not proven (marker: RefusedError)
    assert failures == 5


# --------------------------------------------------------------------------------------
# One scenario per announced PostgreSQL kind, on real replication


@dataclass
class Scenario:
    databases: Databases
    mappings_json: str = ALL_PUBLIC
    options: MoveOptions = field(default_factory=MoveOptions)
    cleanups: list[Callable[[], None]] = field(default_factory=list)


def _escapee(pair: Pair, scenario: Scenario) -> str:
    user = unique("escapee")
    pair.source.server.create_user(user, APP_PASSWORD)
    pair.source.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{user}"')
    pair.source.execute(f'ALTER ROLE "{user}" IN DATABASE "{pair.source.name}" SET default_transaction_read_only = off')
    scenario.cleanups.append(
        lambda: pair.source.server.execute(
            f'ALTER ROLE "{user}" IN DATABASE "{pair.source.name}" RESET default_transaction_read_only'
        )
    )
    return user


def read_only_override(pair: Pair, scenario: Scenario) -> None:
    _escapee(pair, scenario)


def proof_write_succeeded(pair: Pair, scenario: Scenario) -> None:
    user = _escapee(pair, scenario)
    scenario.databases = replace(scenario.databases, proof=pair.source.endpoint(user, APP_PASSWORD))


def prepared_transaction(pair: Pair, scenario: Scenario) -> None:
    gid = unique("tap-gid")
    with psycopg.connect(pair.source.url(), autocommit=True) as connection:
        connection.execute("BEGIN")
        connection.execute("INSERT INTO orders (note) VALUES ('prepared before the fence')")
        connection.execute(f"PREPARE TRANSACTION '{gid}'")
    scenario.cleanups.append(lambda: pair.source.execute(f"ROLLBACK PREPARED '{gid}'"))


def session_not_ended(pair: Pair, scenario: Scenario) -> None:
    """The fencing role owns the database but may not end other users' sessions (no pg_signal_backend)."""
    fencer = unique("fencer")
    pair.source.server.create_user(fencer, APP_PASSWORD)
    pair.source.execute(f'ALTER DATABASE "{pair.source.name}" OWNER TO "{fencer}"')
    pair.source.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{fencer}"')
    pair.source.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{fencer}"')
    application = psycopg.connect(pair.source.url(), autocommit=True)  # a superuser's application session
    scenario.cleanups.append(application.close)
    scenario.databases = replace(scenario.databases, source=pair.source.endpoint(fencer, APP_PASSWORD))


def background_writer(pair: Pair, scenario: Scenario) -> None:
    """A subscription INTO the source database: its apply worker keeps applying after the fence."""
    upstream = PgDatabase(pair.source.server, unique("upstream"))
    upstream.server.create_database(upstream.name)
    upstream.execute("CREATE TABLE feed (id int PRIMARY KEY); CREATE PUBLICATION feed FOR TABLE feed")
    pair.source.execute("CREATE TABLE feed (id int PRIMARY KEY)")
    inbound = Subscription(upstream, pair.source, unique("inbound"))
    inbound.create(copy_data=False)
    for _ in range(200):
        if pair.source.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'logical replication worker'",
            (pair.source.name,),
        ) != [(0,)]:
            break
        time.sleep(0.05)

    def drop() -> None:
        with pair.source.server.connect(pair.source.name) as connection:
            connection.execute("SET default_transaction_read_only = off")
            connection.execute(f"ALTER SUBSCRIPTION {inbound.name} DISABLE")
            connection.execute(f"ALTER SUBSCRIPTION {inbound.name} SET (slot_name = NONE)")
            connection.execute(f"DROP SUBSCRIPTION {inbound.name}")
        upstream.execute("SELECT pg_drop_replication_slot(%s)", (inbound.name,))
        upstream.server.drop_database(upstream.name)

    scenario.cleanups.append(drop)


def marker_table_missing(pair: Pair, scenario: Scenario) -> None:
    pair.source.execute("DROP TABLE tap_migrate_cutover_marker")


def marker_missing_on_target(pair: Pair, scenario: Scenario) -> None:
    pair.target.execute("DROP TABLE tap_migrate_cutover_marker")


def drain_timeout(pair: Pair, scenario: Scenario) -> None:
    """The mappings do not carry the marker table (the subscription stands in: it is off)."""
    pair.forward.disable()
    scenario.mappings_json = WITHOUT_MARKER


def sequence_missing(pair: Pair, scenario: Scenario) -> None:
    pair.source.execute("CREATE SEQUENCE only_on_the_source")


def sequence_mismatch(pair: Pair, scenario: Scenario) -> None:
    pair.source.execute("CREATE SEQUENCE countdown INCREMENT -1")
    pair.target.execute("CREATE SEQUENCE countdown")


def sequence_no_room(pair: Pair, scenario: Scenario) -> None:
    pair.source.execute("CREATE SEQUENCE tight; SELECT setval('tight', 500)")
    pair.target.execute("CREATE SEQUENCE tight MAXVALUE 100")


def sequence_not_writable(pair: Pair, scenario: Scenario) -> None:
    user = pair.target.create_app_user()
    pair.target.execute(f'REVOKE UPDATE ON SEQUENCE orders_id_seq FROM "{user}"')
    scenario.databases = replace(scenario.databases, target=pair.target.endpoint(user, APP_PASSWORD))


def sequence_unreadable(pair: Pair, scenario: Scenario) -> None:
    user = pair.target.create_app_user()
    pair.target.execute(f'REVOKE SELECT, UPDATE ON SEQUENCE orders_id_seq FROM "{user}"')
    scenario.databases = replace(scenario.databases, target=pair.target.endpoint(user, APP_PASSWORD))


def schema_drift(pair: Pair, scenario: Scenario) -> None:
    """A table created on the source after replication started: the mappings select it, the target lacks it."""
    pair.source.execute("CREATE TABLE created_late (id int PRIMARY KEY, note text)")
    mapped = selected_tables(scenario.databases.source, scenario.mappings_json)
    assert TableName("public", "created_late") in mapped
    scenario.databases = replace(scenario.databases, mapped=mapped)


SCENARIOS: dict[str, Callable[[Pair, Scenario], None]] = {
    scenario.__name__: scenario
    for scenario in (
        read_only_override, proof_write_succeeded, prepared_transaction, background_writer, session_not_ended,
        marker_table_missing,
        marker_missing_on_target, drain_timeout, sequence_missing, sequence_mismatch, sequence_no_room,
        sequence_not_writable, sequence_unreadable, schema_drift,
    )
}  # fmt: skip


def test_every_announced_postgres_kind_has_a_scenario() -> None:
    announced = {kind.kind for kind in FENCE_REFUSALS.values() if "postgres" in kind.engines and kind.announced_by}
    assert set(SCENARIOS) == announced


def _blocking(source: Endpoint, target: Endpoint, mappings_json: str) -> dict[str, list[str]]:
    checks = run_preflight(source, target, mappings_json, PreflightOptions(task=TaskSettings(), ssl_mode="require"))
    found: dict[str, list[str]] = {}
    for check in checks:
        if check.verdict == "block":
            found.setdefault(check.name, []).append(f"{check.subject}: {check.value}")
    return found


def test_the_healthy_pair_passes_every_announcing_check(replicated: Pair) -> None:  # noqa: F811
    blocking = _blocking(replicated.source.endpoint(), replicated.target.endpoint(), ALL_PUBLIC)
    announcing = {check for kind in FENCE_REFUSALS.values() for check in kind.announced_by}
    assert not set(blocking) & announcing, blocking


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_preflight_blocks_where_the_fence_would_refuse(kind: str, replicated: Pair) -> None:  # noqa: F811
    scenario = Scenario(replicated.databases(), options=MoveOptions(on_refusal="reopen"))
    SCENARIOS[kind](replicated, scenario)
    try:
        blocking = _blocking(scenario.databases.source, scenario.databases.target, scenario.mappings_json)
        announced_by = FENCE_REFUSALS[kind].announced_by
        assert set(blocking) & set(announced_by), f"{kind}: preflight is green on {announced_by}: {blocking}"

        world = write_fence_world(drain_timeout=2)
        result = fence_and_flip(fake_engine(world), scenario.databases, "alice", options=scenario.options)

        assert result.status != "changed" and "writer NOT flipped" in result.message, result.message
        assert world.aurora_weights()["writer"] == 0
        assert "refusals" in result.details, result.message
        refused = {refusal["kind"] for refusal in result.details["refusals"]}
        assert kind in refused, (kind, result.details["refusals"], result.message)
        assert refused <= set(FENCE_REFUSALS)
        assert "reopened" in result.details["source_after_refusal"]
        assert not insert_fails_read_only(replicated.source)  # --on-refusal reopen: writable again
    finally:
        for cleanup in reversed(scenario.cleanups):
            cleanup()


# --------------------------------------------------------------------------------------
# The CLI move with a prepared transaction pending at the fence


@pytest.mark.parametrize("on_refusal", ["hold", "reopen"])
def test_cli_fence_refuses_a_pending_prepared_transaction_and_leaves_the_writer(
    on_refusal: str,
    replicated: Pair,  # noqa: F811
    tmp_path: Path,
) -> None:
    source = replicated.source
    gid = unique("tap-cli-gid")
    with psycopg.connect(source.url(), autocommit=True) as connection:
        connection.execute("BEGIN")
        connection.execute("INSERT INTO orders (note) VALUES ('prepared, never acknowledged')")
        connection.execute(f"PREPARE TRANSACTION '{gid}'")
    urls = ["--source-url", source.url(), "--target-url", replicated.target.url()]
    no_outputs = ["--outputs", str(tmp_path / "absent.json"), "--operator", "alice", "--json"]
    world = write_fence_world()
    try:
        code, body, text = run_cli([*no_outputs, "fence", "--confirm", "--on-refusal", on_refusal, *urls], world)

        assert code != 0, text
        assert world.aurora_weights()["writer"] == 0 and world.state().fence_proven_at is None
        message = str(body["message"])
        assert "writer NOT flipped" in message and f"prepared transaction '{gid}' (owner tap" in message
        assert f"ROLLBACK PREPARED '{gid}'" in message
        assert [r["kind"] for r in body["details"]["refusals"]] == ["prepared_transaction"]  # type: ignore[index]
        assert "marker" not in body["details"]  # type: ignore[operator]
        if on_refusal == "hold":
            assert insert_fails_read_only(source) and "held read-only" in message
        else:
            assert not insert_fails_read_only(source) and "reopened" in message
        assert source.server.password not in text
    finally:
        source.execute(f"ROLLBACK PREPARED '{gid}'")


@pytest.mark.parametrize("on_refusal", ["hold", "reopen"])
def test_an_error_inside_the_fence_also_fails_safe(on_refusal: str, replicated: Pair) -> None:  # noqa: F811
    """An unexpected error part-way (here: the proving session cannot log in) leaves the writer and applies the choice."""
    source = replicated.source
    wrong = replace(source.endpoint(), password="not-the-password")
    databases = replace(replicated.databases(), proof=wrong)
    world = write_fence_world()

    options = MoveOptions(on_refusal="hold" if on_refusal == "hold" else "reopen")
    result = fence_and_flip(fake_engine(world), databases, "alice", options=options)

    assert result.status == "error" and "writer NOT flipped" in result.message and "authentication failed" in result.message
    assert world.aurora_weights()["writer"] == 0
    if on_refusal == "hold":
        assert "left as the interrupted fence left it" in result.message
        assert insert_fails_read_only(source)  # the fence had made it read-only before the proof failed
    else:
        assert "reopened" in result.message and not insert_fails_read_only(source)
    assert "not-the-password" not in result.message
