# ruff: noqa: S608  (the SQL here is the tests' own, with constant names)
"""`./cutover compare` on real pairs: PostgreSQL 15 (two clusters) and MariaDB (two servers).

Each case builds the same tables on both sides, then breaks one thing on the target (a row changed, missing,
extra; a table missing; a column type), and checks that compare finds exactly that, narrowed to the key.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tap_operator import compare as compare_module
from tap_operator.compare import CompareReport, Options, compare_databases
from tap_operator.databases import Endpoint
from tools.dbservers import MariaDbServer

from .conftest import APP_PASSWORD, MariaDatabase, PgDatabase, mappings, unique, write_config

ROWS = 2500
CHUNK = 300


# --------------------------------------------------------------------------------------
# Pairs


@dataclass
class Pair:
    engine: str
    source: PgDatabase | MariaDatabase
    target: PgDatabase | MariaDatabase
    schema: str  # what the mappings' schema-name matches: public, or the MariaDB database
    users: tuple[str, str] | None = None  # the application users of the CLI tests (source, target)

    def endpoints(self) -> tuple[Endpoint, Endpoint]:
        return self.source.endpoint(), self.target.endpoint()

    def mappings(self) -> str:
        return mappings((self.schema, "%", "include"))

    def both(self, statement: str) -> None:
        self.source.execute(statement)
        self.target.execute(statement)

    def compare(self, **options: Any) -> CompareReport:
        direction = options.pop("direction", "forward")
        source, target = self.endpoints()
        return compare_databases(
            source, target, self.mappings(), Options(chunk_rows=CHUNK, rows_per_second=0, **options), direction=direction
        )


PG_ORDERS = (
    "CREATE TABLE orders (id bigserial PRIMARY KEY, customer int NOT NULL, amount numeric(12,2), note text, "
    "placed timestamptz, ratio double precision, payload bytea, tags jsonb)"
)
PG_ORDERS_ROWS = (
    f"INSERT INTO orders (id, customer, amount, note, placed, ratio, payload, tags) SELECT g, g % 97, g * 1.25, "
    "CASE WHEN g % 10 = 0 THEN NULL WHEN g % 10 = 1 THEN '' ELSE 'note, ' || g END, "
    "timestamptz '2024-03-01 12:00:00+00' + g * interval '1 minute 7.25 seconds', g / 7.0, "
    "decode(md5(g::text), 'hex'), jsonb_build_object('g', g) "
    f"FROM generate_series(1, {ROWS}) g"
)
MARIA_ORDERS = (
    "CREATE TABLE orders (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(12,2), "
    "note VARCHAR(100), placed TIMESTAMP(6) NULL, ratio DOUBLE, payload VARBINARY(32)) ENGINE=InnoDB"
)
_DIGITS = "(" + " UNION ALL ".join(f"SELECT {digit} AS d" for digit in range(10)) + ")"


def _numbers(limit: int) -> str:
    """1..limit (up to 10,000) as a derived table `seq(g)`, without recursion (MariaDB bounds it)."""
    return (
        f"(SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 1 AS g FROM {_DIGITS} a CROSS JOIN {_DIGITS} b "
        f"CROSS JOIN {_DIGITS} c CROSS JOIN {_DIGITS} e) seq WHERE g <= {limit}"
    )


MARIA_ORDERS_ROWS = (
    "INSERT INTO orders (id, customer, amount, note, placed, ratio, payload) SELECT g, g % 97, g * 1.25, "
    "CASE WHEN g % 10 = 0 THEN NULL WHEN g % 10 = 1 THEN '' ELSE CONCAT('note# ', g) END, "
    f"TIMESTAMP '2024-03-01 12:00:00' + INTERVAL g MINUTE, g / 7.0, UNHEX(MD5(g)) FROM {_numbers(ROWS)}"
)


def _seed(pair: Pair) -> Pair:
    if pair.engine == "postgres":
        pair.both(PG_ORDERS)
        pair.both(PG_ORDERS_ROWS)
        pair.both("CREATE TABLE lines (order_id bigint, line int, sku text NOT NULL, PRIMARY KEY (order_id, line))")
        pair.both("INSERT INTO lines SELECT g / 4, g % 4, 'sku-' || g FROM generate_series(1, 1200) g")
    else:
        pair.both(MARIA_ORDERS)
        pair.both(MARIA_ORDERS_ROWS)
        pair.both("CREATE TABLE `lines` (order_id BIGINT, line INT, sku VARCHAR(40) NOT NULL, PRIMARY KEY (order_id, line))")
        pair.both(f"INSERT INTO `lines` SELECT g DIV 4, g % 4, CONCAT('sku-', g) FROM {_numbers(1200)}")
    return pair


@pytest.fixture
def pg_pair(pg_db: Callable[[], PgDatabase], pg_plain_db: Callable[[], PgDatabase]) -> Pair:
    source, target = pg_db(), pg_plain_db()
    # The target's sessions print timestamps in another zone: compare's UTC session must make that irrelevant.
    target.server.execute(f"ALTER DATABASE \"{target.name}\" SET timezone = 'America/New_York'")
    return _seed(Pair("postgres", source, target, "public"))


@pytest.fixture
def maria_pair(maria: MariaDbServer, maria_plain: MariaDbServer) -> Iterator[Pair]:
    # MySQL's schema is the database: both sides need the same name, as DMS keeps it.
    name = unique("cmp")
    maria.create_database(name)
    maria_plain.create_database(name)
    try:
        yield _seed(Pair("mariadb", MariaDatabase(maria, name), MariaDatabase(maria_plain, name), name))
    finally:
        for server in (maria, maria_plain):
            with contextlib.suppress(Exception):
                server.drop_database(name)


@pytest.fixture(params=["postgres", "mariadb"])
def pair(request: pytest.FixtureRequest) -> Pair:
    fixture: Pair = request.getfixturevalue("pg_pair" if request.param == "postgres" else "maria_pair")
    return fixture


def _table(report: CompareReport, name: str) -> compare_module.TableResult:
    return next(table for table in report.tables if table.table.endswith("." + name))


def _q(pair: Pair, table: str) -> str:
    return f"`{table}`" if pair.engine == "mariadb" else table


# --------------------------------------------------------------------------------------
# The cases


def test_identical_pairs_are_equal_chunk_by_chunk(pair: Pair) -> None:
    report = pair.compare()
    assert report.ok, report.summary
    orders = _table(report, "orders")
    assert (orders.reference_rows, orders.compared_rows) == (ROWS, ROWS)
    assert orders.chunks == ROWS // CHUNK + 1  # keyset chunks, the last one open-ended
    assert _table(report, "lines").status == "equal"
    assert not report.live


def test_one_changed_row_is_narrowed_to_its_key(pair: Pair) -> None:
    pair.target.execute("UPDATE orders SET amount = amount + 0.01 WHERE id = 1234")
    report = pair.compare()
    assert not report.ok
    orders = _table(report, "orders")
    assert orders.status == "different"
    assert [(d.kind, d.key) for d in orders.differences] == [("changed", "(1234)")]
    assert _table(report, "lines").status == "equal"


def test_a_null_that_became_an_empty_string_is_a_difference(pair: Pair) -> None:
    pair.target.execute("UPDATE orders SET note = '' WHERE id = 10")  # NULL on the source
    orders = _table(pair.compare(), "orders")
    assert [(d.kind, d.key) for d in orders.differences] == [("changed", "(10)")]


def test_one_missing_row_and_one_extra_row(pair: Pair) -> None:
    pair.target.execute("DELETE FROM orders WHERE id = 777")
    pair.target.execute(
        "INSERT INTO orders (id, customer, amount, note) VALUES (9000, 1, 1, 'only on the target')"
    )  # past the source's last key: the open last chunk catches it
    report = pair.compare()
    orders = _table(report, "orders")
    assert sorted((d.kind, d.key) for d in orders.differences) == [("extra", "(9000)"), ("missing", "(777)")]
    assert (orders.reference_rows, orders.compared_rows) == (ROWS, ROWS)
    lines = [d.describe("source", "target") for d in orders.differences]
    assert any("row (777) is on the source only" in line for line in lines)


def test_a_table_missing_on_the_target_and_one_only_on_the_target(pair: Pair) -> None:
    pair.source.execute("CREATE TABLE late_table (id int PRIMARY KEY)")  # created after replication started
    pair.target.execute("CREATE TABLE stray (id int PRIMARY KEY)")
    report = pair.compare()
    assert _table(report, "late_table").status == "missing"
    assert _table(report, "stray").status == "extra"
    assert _table(report, "orders").status == "equal"
    assert not report.ok


def test_a_changed_column_type_and_nullability_are_schema_differences(pair: Pair) -> None:
    if pair.engine == "postgres":
        pair.target.execute("ALTER TABLE orders ALTER COLUMN customer TYPE bigint, ALTER COLUMN customer DROP NOT NULL")
        pair.target.execute("ALTER TABLE orders ALTER COLUMN id DROP DEFAULT")
    else:
        pair.target.execute("ALTER TABLE orders MODIFY customer BIGINT NULL, MODIFY id BIGINT NOT NULL")
    orders = _table(pair.compare(), "orders")
    assert orders.status == "different"
    found = " | ".join(orders.schema)
    assert "column customer:" in found
    assert "bigint on the target" in found
    assert "NOT NULL on the source, nullable on the target" in found
    assert "column id is fed by a sequence / AUTO_INCREMENT on the source only" in found
    assert not orders.differences  # the values print the same


def test_a_composite_key_table_is_narrowed_to_the_whole_key(pair: Pair) -> None:
    pair.target.execute(f"UPDATE {_q(pair, 'lines')} SET sku = 'changed' WHERE order_id = 150 AND line = 2")
    lines = _table(pair.compare(), "lines")
    assert [(d.kind, d.key) for d in lines.differences] == [("changed", "(150, 2)")]


def test_a_table_without_a_primary_key_is_not_comparable_never_equal(pair: Pair) -> None:
    pair.both("CREATE TABLE audit_log (at_text varchar(40), what varchar(40))")
    pair.both("INSERT INTO audit_log VALUES ('x', 'y')")
    report = pair.compare()
    audit = _table(report, "audit_log")
    assert audit.status == "not_comparable"
    assert "no primary key" in audit.note
    assert not report.ok


def test_reverse_direction_takes_the_target_as_the_reference(pair: Pair) -> None:
    pair.target.execute("INSERT INTO orders (id, customer) VALUES (5000, 1)")  # written on Aurora after the flip
    report = pair.compare(direction="reverse")
    assert (report.reference_role, report.compared_role) == ("target", "source")
    orders = _table(report, "orders")
    assert [(d.kind, d.key) for d in orders.differences] == [("missing", "(5000)")]  # not yet back on the source


def test_tables_pattern_limits_the_compare(pair: Pair) -> None:
    pair.target.execute("UPDATE orders SET customer = 0 WHERE id = 5")
    report = pair.compare(tables="lin*")
    assert [table.table.split(".")[1] for table in report.tables] == ["lines"]
    assert report.ok


def test_many_differences_are_bounded_per_table(pair: Pair) -> None:
    pair.target.execute("UPDATE orders SET customer = customer + 1 WHERE id % 50 = 0")  # 50 rows over every chunk
    orders = _table(pair.compare(max_differences=3), "orders")
    assert len(orders.differences) == 3
    assert orders.more_differing_ranges > 0
    assert orders.status == "different"


# --------------------------------------------------------------------------------------
# The command line


def _cli(
    pair: Pair, tmp_path: Path, *arguments: str, env: dict[str, str] | None = None, record: Any = None
) -> tuple[int, str, str]:
    config = write_config(tmp_path, engine="postgres" if pair.engine == "postgres" else "mariadb", mappings_json=pair.mappings())
    if pair.users is None:
        app_user = pair.source.create_app_user()
        if isinstance(pair.target, PgDatabase):
            pair.users = (app_user, pair.target.create_app_user())
        else:
            pair.target.server.create_user(app_user, APP_PASSWORD, (f"ALL ON `{pair.target.name}`.*",))
            pair.users = (app_user, app_user)
    app_user, target_user = pair.users
    out, err = io.StringIO(), io.StringIO()
    environment = {
        "TAP_SOURCE_URL": pair.source.url(app_user, APP_PASSWORD),
        "TAP_TARGET_URL": pair.target.url(target_user, APP_PASSWORD),
        **(env or {}),
    }
    code = compare_module.main(
        ["--config", str(config), "--state-file", str(tmp_path / "state.json"), "--chunk-rows", "500", *arguments],
        out,
        err,
        env=environment,
        record=record,
    )
    return code, out.getvalue(), err.getvalue()


def _no_password(*texts: str) -> None:
    for text in texts:
        assert APP_PASSWORD not in text
        assert "app-pw" not in text


def test_cli_exit_codes_text_and_json_never_a_password(pair: Pair, tmp_path: Path) -> None:
    code, out, err = _cli(pair, tmp_path, "--progress")
    assert code == 0, out + err
    assert "equal: schema and data of 2 table(s)" in out
    assert err.count("] ") == 2  # a progress line per table
    _no_password(out, err)

    pair.target.execute("UPDATE orders SET customer = -1 WHERE id = 42")
    code, out, err = _cli(pair, tmp_path, "--json")
    assert code == 2, out + err
    document = json.loads(out)
    assert document["ok"] is False
    orders = next(t for t in document["tables"] if t["table"].endswith(".orders"))
    assert orders["differences"][0]["key"] == "(42)"
    assert "@" in document["reference"]["endpoint"]
    _no_password(out, err)


def test_cli_connection_error_is_exit_1_without_the_password(pair: Pair, tmp_path: Path) -> None:
    wrong = pair.target.url("nobody", "wrong-" + APP_PASSWORD)
    code, out, err = _cli(pair, tmp_path, env={"TAP_TARGET_URL": wrong})
    assert code == 1
    assert err.startswith("error: target")
    _no_password(out, err)


def test_an_interrupted_compare_resumes_at_the_next_table(pair: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[str] = []
    real = compare_module._compare_table

    def interrupt_second(table: Any, *args: Any, **kwargs: Any) -> Any:
        if len(compared) == 1:
            raise KeyboardInterrupt
        compared.append(str(table))
        return real(table, *args, **kwargs)

    monkeypatch.setattr(compare_module, "_compare_table", interrupt_second)
    code, out, _ = _cli(pair, tmp_path)
    assert code == 1
    assert "interrupted" in out and "--resume" in out
    assert (tmp_path / "state.json").exists()

    compared.append("allow the rest")
    resumed: list[str] = []

    def record(table: Any, *args: Any, **kwargs: Any) -> Any:
        resumed.append(str(table))
        return real(table, *args, **kwargs)

    monkeypatch.setattr(compare_module, "_compare_table", record)
    code, out, _ = _cli(pair, tmp_path, "--resume")
    assert code == 0, out
    assert resumed == [f"{pair.schema}.orders"]  # lines was finished before the interrupt
    assert not (tmp_path / "state.json").exists()  # a finished compare leaves nothing to resume


# --------------------------------------------------------------------------------------
# Safety


def test_sessions_are_read_only_and_time_bounded(pair: Pair) -> None:
    from tap_operator.compare import _engine

    source, _ = pair.endpoints()
    engine = _engine(source)
    limits = compare_module.Limits(statement_timeout_s=0.5)
    with engine.session(source, "source", limits) as connection:
        if pair.engine == "postgres":
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                connection.execute("DELETE FROM orders")
            assert connection.execute("SHOW statement_timeout").fetchone() == ("500ms",)
            assert connection.execute("SHOW TimeZone").fetchone() == ("UTC",)
        else:
            import pymysql

            with pytest.raises(pymysql.err.MySQLError), connection.cursor() as cursor:
                cursor.execute("DELETE FROM orders")
            with connection.cursor() as cursor:
                cursor.execute("SELECT @@session.max_statement_time, @@session.time_zone")
                assert cursor.fetchone() == (0.5, "+00:00")


def test_the_rate_limit_paces_the_reads(pg_pair: Pair) -> None:
    source, target = pg_pair.endpoints()
    slept: list[float] = []
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    options = Options(chunk_rows=500, rows_per_second=1000)
    report = compare_databases(source, target, pg_pair.mappings(), options, clock=clock, sleep=sleep)
    assert report.ok
    rows = sum(t.reference_rows for t in report.tables)
    assert sum(slept) == pytest.approx(rows / 1000, rel=0.01)  # the clock never moved but by sleeping


# --------------------------------------------------------------------------------------
# A live pair: PostgreSQL logical replication between the two clusters, under writes and lag


@dataclass
class Replication:
    source: PgDatabase
    target: PgDatabase
    name: str

    def start(self) -> None:
        self.source.execute(f"CREATE PUBLICATION {self.name} FOR ALL TABLES")
        with self.target.server.connect(self.target.name, autocommit=True) as connection:
            connection.execute(
                f"CREATE SUBSCRIPTION {self.name} CONNECTION '{self.source.url()}' PUBLICATION {self.name} "
                "WITH (copy_data = false)"
            )
        for _ in range(200):
            if self.source.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = %s AND active", (self.name,)) == [
                (1,)
            ]:
                return
            time.sleep(0.05)
        raise AssertionError("the subscription did not start")

    def stop(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.target.execute(f"DROP SUBSCRIPTION {self.name}")


@contextlib.contextmanager
def writing(database: PgDatabase, stop_at: int) -> Iterator[list[int]]:
    """Update random rows (ids below stop_at) and append new ones, ~60 changes a second, until the block ends."""
    done: list[int] = []
    stop = threading.Event()

    def run() -> None:
        chooser = random.Random(7)  # noqa: S311  (a workload, not a secret)
        next_id = 100_000
        with psycopg.connect(database.url(), autocommit=True) as connection:
            while not stop.wait(0.06):
                with connection.transaction():
                    for _ in range(3):
                        changed = chooser.randint(1, stop_at)
                        connection.execute("UPDATE orders SET customer = customer + 1 WHERE id = %s", (changed,))
                    connection.execute("INSERT INTO orders (id, customer) VALUES (%s, 1)", (next_id,))
                next_id += 1
                done.append(next_id)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join(10)


def test_a_replicating_pair_under_writes_and_lag_reports_no_false_mismatch_and_still_a_real_one(pg_pair: Pair) -> None:
    source, target = pg_pair.source, pg_pair.target
    assert isinstance(source, PgDatabase) and isinstance(target, PgDatabase)
    # Lag: every applied row waits 10 ms on the target (a trigger the apply worker fires), so changes queue up.
    target.execute(
        "CREATE FUNCTION slow_apply() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.01); RETURN NEW; END $$"
    )
    target.execute("CREATE TRIGGER slow_apply BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION slow_apply()")
    target.execute("ALTER TABLE orders ENABLE ALWAYS TRIGGER slow_apply")
    target.execute("UPDATE orders SET note = 'diverged on the target' WHERE id = 2400")  # the workload never touches it
    replication = Replication(source, target, unique("cmp_sub"))
    replication.start()
    try:
        with writing(source, stop_at=2000) as written:
            time.sleep(1.0)  # lag builds up
            report = pg_pair.compare(rechecks=4)
        assert written
        assert report.live
        orders = _table(report, "orders")
        assert [(d.kind, d.key) for d in orders.differences] == [("changed", "(2400)")], report.to_dict()
        assert orders.differences[0].rechecks == 4
        assert orders.resolved_by_recheck >= 1  # the lag made ranges differ until it passed
        assert _table(report, "lines").status == "equal"
    finally:
        replication.stop()


def test_mysql_rechecks_wait_the_given_lag_and_a_difference_that_heals_does_not_count(maria_pair: Pair) -> None:
    """MySQL tells no applied position: a live pair waits --lag-seconds before each re-check."""
    maria_pair.target.execute("UPDATE orders SET customer = -1 WHERE id IN (100, 2000)")
    # Replication "catching up" on row 100 while the compare waits out the lag; row 2000 stays different.
    healer = threading.Timer(1.0, lambda: maria_pair.target.execute("UPDATE orders SET customer = 100 % 97 WHERE id = 100"))
    healer.start()
    try:
        report = maria_pair.compare(lag_seconds=0.5, rechecks=4)
    finally:
        healer.join()
    assert report.live  # a given lag marks the pair as live
    orders = _table(report, "orders")
    assert [(d.kind, d.key) for d in orders.differences] == [("changed", "(2000)")]
    assert orders.differences[0].rechecks == 4
    assert orders.differences[0].waited_s >= 4 * 0.5
    # Row 100 healed while the compare waited out the lag (on the chunk's or a half's settled read): not counted.
    assert orders.in_flux == 0


# --------------------------------------------------------------------------------------
# The data proof


class _Engine:
    def __init__(self) -> None:
        self.runs: list[Any] = []

    def run(self, trigger: Any) -> Any:
        self.runs.append(trigger)
        return trigger


def test_a_clean_compare_is_recorded_through_the_engine_naming_both_sides(pg_pair: Pair) -> None:
    from tap_cutover.logic import Evidence, RecordEvidence

    report = pg_pair.compare()
    engine = _Engine()
    compare_module.record_data_proof(engine, "alice", report)
    [evidence] = engine.runs
    assert isinstance(evidence, RecordEvidence) and evidence.kind is Evidence.DATA_COMPARED
    assert evidence.operator == "alice"
    assert evidence.detail.startswith("equal: schema and data of 2 table(s)")
    assert report.compared in evidence.detail
    _no_password(evidence.detail)


def test_record_refuses_a_target_that_is_not_the_stacks_aurora(pg_pair: Pair, tmp_path: Path) -> None:
    import argparse

    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"aurora_writer_endpoint": "cluster.aurora.example", "aurora_reader_endpoint": "ro.example"}))
    from tap_operator.cli import compare_recorder

    record = compare_recorder()
    report = pg_pair.compare()
    with pytest.raises(compare_module.dbcli.UsageError, match="not the deployed stack's Aurora"):
        record(report, pg_pair.target.endpoint(), argparse.Namespace(outputs=outputs))


def test_cli_help_and_usage_errors() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert compare_module.main(["--help"], out, err, env={}) == 0
    assert "--direction" in out.getvalue() and "% or * wildcards" in out.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert compare_module.main(["--chunk-rows", "0"], out, err, env={}) == 1
    assert err.getvalue().startswith("error: --chunk-rows")
    assert compare_module.main(["--direction", "sideways"], out, err, env={}) == 1


def test_cli_record_only_an_equal_forward_compare(pg_pair: Pair, tmp_path: Path) -> None:
    recorded: list[tuple[str, str]] = []

    def record(report: CompareReport, target: Endpoint, args: Any) -> str:
        recorded.append((report.summary, target.label))
        return "changed: noted"

    code, out, _ = _cli(pg_pair, tmp_path, "--record", record=record)
    assert code == 0, out
    assert "data proof: changed: noted" in out
    assert len(recorded) == 1 and recorded[0][0].startswith("equal:")
    code, out, _ = _cli(pg_pair, tmp_path, "--record", "--direction", "reverse", record=record)
    assert "not recorded: only an equal forward compare is a data proof" in out
    pg_pair.target.execute("DELETE FROM orders WHERE id = 3")
    code, out, _ = _cli(pg_pair, tmp_path, "--record", "--json", record=record)
    assert code == 2
    assert json.loads(out)["recorded"].startswith("not recorded")
    assert len(recorded) == 1


def test_a_text_key_with_another_collation_is_named(pg_pair: Pair) -> None:
    pg_pair.source.execute('CREATE TABLE codes (code text COLLATE "C" PRIMARY KEY, label text)')
    pg_pair.target.execute('CREATE TABLE codes (code text COLLATE "POSIX" PRIMARY KEY, label text)')
    codes = _table(pg_pair.compare(), "codes")
    assert codes.status == "different"
    assert codes.schema == [
        "key column code: collation C on the source, POSIX on the target (the servers order its values differently: "
        "key ranges may hold different rows)"
    ]
