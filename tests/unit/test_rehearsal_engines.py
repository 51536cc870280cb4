"""The rehearsal's engine seam, the parts that need no server: GTID positions and the lag they give, the MariaDB
operator configuration, error kinds, the verdict from what a database holds, and the CLI arguments per engine."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymysql
import pytest

from tools.rehearsal import __main__ as main_module
from tools.rehearsal import engines, mariadb_config, mariadb_servers, mariadb_verdicts
from tools.rehearsal.mariadb_replication import gtid_sequence, sample_from
from tools.rehearsal.replication import LsnClock
from tools.rehearsal.schema import row_counts_for
from tools.rehearsal.verdicts import judge_records
from tools.rehearsal.workload import POSTGRES, Operation, Outcome, WriteRecord

# --------------------------------------------------------------------------------------
# GTID positions and the lag


@pytest.mark.parametrize(
    ("text", "domain", "expected"),
    [
        ("1-1-120,2-2-7", 1, 120),
        ("1-1-120,2-2-7", 2, 7),
        ("1-1-120", 2, 0),  # the target has not written yet
        ("", 1, 0),
        (" 0-1-5 , 1-1-9 ", 1, 9),
        ("1-1-3,1-2-8", 1, 8),  # one domain written by two servers (after a switch-over): the highest
    ],
)
def test_gtid_sequence_reads_the_domain(text: str, domain: int, expected: int) -> None:
    assert gtid_sequence(text, domain) == expected


@pytest.mark.parametrize("text", ["1-1", "a-1-3", "1-1-3;2-2-4", "binlog.000001:4"])
def test_gtid_sequence_refuses_what_is_not_a_gtid_list(text: str) -> None:
    with pytest.raises(ValueError, match="not a GTID"):
        gtid_sequence(text, 1)


STREAMING = {"Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes"}


def test_lag_is_zero_when_the_replica_applied_the_newest_transaction() -> None:
    clock = LsnClock()
    sample_from(clock, 100.0, domain=1, newest="1-1-50", status={**STREAMING, "Gtid_IO_Pos": "1-1-50"}, applied_text="1-1-50")
    sample = sample_from(
        clock, 101.0, domain=1, newest="1-1-50", status={**STREAMING, "Gtid_IO_Pos": "1-1-50"}, applied_text="1-1-50"
    )
    assert (sample.source_s, sample.target_s, sample.streaming) == (0.0, 0.0, True)


def test_lag_is_the_age_of_the_oldest_transaction_not_yet_received_or_applied() -> None:
    clock = LsnClock()
    status = {**STREAMING, "Gtid_IO_Pos": "1-1-10"}
    sample_from(clock, 100.0, domain=1, newest="1-1-10", status=status, applied_text="1-1-10")
    sample_from(clock, 101.0, domain=1, newest="1-1-20", status=status, applied_text="1-1-10")
    # At 104 s: received up to 20 (nothing waits to be captured), applied up to 10 (11..20 waiting since 100..101 s).
    sample = sample_from(
        clock, 104.0, domain=1, newest="1-1-20", status={**STREAMING, "Gtid_IO_Pos": "1-1-20"}, applied_text="1-1-10"
    )
    assert sample.source_s == 0.0
    assert sample.target_s is not None and 3.0 <= sample.target_s <= 4.0


def test_stopped_replication_counts_nothing_as_captured_and_the_lag_grows() -> None:
    clock = LsnClock()
    stopped = {"Slave_IO_Running": "No", "Slave_SQL_Running": "No", "Gtid_IO_Pos": "1-1-30"}
    sample_from(clock, 100.0, domain=1, newest="1-1-30", status=stopped, applied_text="1-1-30")
    sample_from(clock, 101.0, domain=1, newest="1-1-31", status=stopped, applied_text="1-1-30")
    later = sample_from(clock, 110.0, domain=1, newest="1-1-40", status=stopped, applied_text="1-1-30")
    assert later.streaming is False
    assert later.sent == later.applied == 30  # the IO position is not trusted while replication is stopped
    assert later.source_s == later.target_s and later.target_s is not None and later.target_s >= 9.0


def test_the_reverse_link_is_measured_in_the_target_domain() -> None:
    clock = LsnClock()
    status = {**STREAMING, "Gtid_IO_Pos": "1-1-900,2-2-4"}
    sample_from(clock, 100.0, domain=2, newest="1-1-900,2-2-4", status=status, applied_text="1-1-900,2-2-4")
    sample = sample_from(clock, 102.0, domain=2, newest="1-1-900,2-2-9", status=status, applied_text="1-1-900,2-2-4")
    assert (sample.wal_end, sample.applied) == (9, 4)
    assert sample.target_s is not None and sample.target_s > 0


# --------------------------------------------------------------------------------------
# The operator's configuration


def test_the_operator_config_is_the_repositorys_with_a_mariadb_source(tmp_path: Path) -> None:
    mappings = tmp_path / "m.json"
    text = mariadb_config.config_text(mariadb_config.REPOSITORY_CONFIG.read_text(encoding="utf-8"), mappings)
    document = tomllib.loads(text)
    source = next(iter(document["sources"].values()))
    assert (source["engine"], source["engine_version"]) == ("mariadb", mariadb_config.MARIADB_VERSION)
    assert next(iter(document["targets"].values()))["kind"] == "aurora_mysql"
    assert document["dms"]["tasks"]["main"]["table_mappings_file"] == str(mappings)
    assert document["cutover"]["enabled"] is True


def test_the_operator_config_loads_as_a_valid_configuration() -> None:
    from lib.config import load_config

    with mariadb_config.operator_config("appdb") as path:
        config = load_config(path, env={"TAP_TARGET": "aws"})
        assert config.sources[next(iter(config.sources))].engine == "mariadb"
        assert '"schema-name":"appdb"' in config.dms.tasks["main"].table_mappings
    assert not path.exists() and not path.parent.exists()


def test_a_changed_repository_config_is_named_not_silently_mis_rewritten(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"engine = \"postgres\".*mariadb_config"):
        mariadb_config.config_text('[sources.x]\nengine = "mysql"\n', tmp_path / "m.json")


# --------------------------------------------------------------------------------------
# Errors the MariaDB application sees, and the statements


@pytest.mark.parametrize(
    ("error", "kind", "in_doubt"),
    [
        (pymysql.err.OperationalError(1290, "running with the --read-only option"), "read_only", False),
        (pymysql.err.IntegrityError(1062, "Duplicate entry"), "duplicate_key", False),
        (pymysql.err.OperationalError(1927, "Connection was killed"), "session_terminated", True),
        (pymysql.err.OperationalError(2013, "Lost connection to server during query"), "session_terminated", True),
        (pymysql.err.OperationalError(2003, "Can't connect"), "connection", False),
        (pymysql.err.InterfaceError(0, ""), "connection", True),
    ],
)
def test_mariadb_errors_are_named_like_postgresql_ones(error: BaseException, kind: str, in_doubt: bool) -> None:
    class Open:
        open = True

    assert mariadb_verdicts.classify(error) == kind
    assert mariadb_verdicts.lost_answer(Open(), error) is in_doubt


def test_a_commit_on_a_session_already_gone_is_in_doubt() -> None:
    class Gone:
        open = False

    assert mariadb_verdicts.lost_answer(Gone(), pymysql.err.OperationalError(1290, "read-only")) is True


def test_both_dialects_take_the_same_parameters() -> None:
    for name in ("insert", "update", "delete", "audit", "read"):
        mine, theirs = getattr(mariadb_verdicts.DIALECT, name), getattr(POSTGRES, name)
        assert mine.count("%s") == theirs.count("%s"), name
    assert "@@server_id" in mariadb_verdicts.DIALECT.audit  # written_on: where the transaction really ran


def test_the_row_hash_quotes_every_column_and_marks_nulls() -> None:
    text = mariadb_verdicts.row_hash_sql(["id", "odd`name"])
    assert "IFNULL(`id`, '\\\\N')" in text and "IFNULL(`odd``name`, '\\\\N')" in text
    assert text.startswith("COUNT(*), COALESCE(SUM(CAST(CONV(LEFT(MD5(CONCAT_WS(0x1f,")


def test_the_load_puts_only_computed_integers_into_the_statements() -> None:
    statements = mariadb_servers.load_statements(5000)
    counts = row_counts_for(5000)
    assert len(statements) == 5
    assert f"seq_1_to_{counts['customers']}" in statements[0] and f"seq_1_to_{counts['ledger']}" in statements[-1]


# --------------------------------------------------------------------------------------
# The verdict from what the database holds


def _record(
    txn: str, request: str, operation: Operation, version: int, *, at: float, outcome: Outcome = "acknowledged"
) -> WriteRecord:
    return WriteRecord(txn, request, operation, version, Decimal("1.00"), f"{operation} v{version}", outcome, "source", 0, at)


def test_the_verdict_counts_lost_duplicated_and_in_doubt_writes() -> None:
    records = [
        _record("t1", "r1", "insert", 1, at=1),
        _record("t2", "r1", "update", 2, at=2),
        _record("t3", "r2", "insert", 1, at=3),  # its audit row is missing: lost
        _record("t4", "r3", "insert", 1, at=4),  # two audit rows: duplicated
        _record("t5", "r4", "insert", 1, at=5, outcome="in_doubt"),  # not applied: neither lost nor duplicated
    ]
    audit = {"t1": 1, "t2": 1, "t4": 2}
    ledger: dict[str, list[Any]] = {
        "r1": [(2, Decimal("1.00"), "update v2")],
        "r2": [(1, Decimal("1.00"), "insert v1")],
        "r3": [(1, Decimal("1.00"), "insert v1")],
    }
    verdict = judge_records(audit, ledger, records, "source x")
    assert (verdict.acknowledged, verdict.lost, verdict.duplicated) == (4, 1, 1)
    assert (verdict.in_doubt, verdict.in_doubt_applied, verdict.in_doubt_not_applied) == (1, 0, 1)
    assert verdict.lost_txns == {"t3"} and verdict.duplicated_txns == {"t4"}


def test_a_stale_row_is_a_lost_write() -> None:
    records = [_record("t1", "r1", "insert", 1, at=1), _record("t2", "r1", "update", 2, at=2)]
    verdict = judge_records({"t1": 1, "t2": 1}, {"r1": [(1, Decimal("1.00"), "insert v1")]}, records, "target y")
    assert verdict.lost == 1 and "expected" in verdict.examples[0]


# --------------------------------------------------------------------------------------
# The seam: the engine's CLI arguments and options


class _Side:
    def __init__(self, role: str) -> None:
        self.role = role

    def app_url(self) -> str:
        return f"mysql://app:secret@127.0.0.1:1/{self.role}"


class _Pair:
    source, target = _Side("source"), _Side("target")


def test_mariadb_commands_get_the_config_shown_and_the_proof_url_hidden(tmp_path: Path) -> None:
    engine = engines.MariaDbEngine()
    engine._config = tmp_path / "tap-migrate.toml"  # what servers() sets
    pair: Any = _Pair()
    assert engine.cli_arguments(["advance"], pair) == (["--config", str(engine._config)], [])
    shown, hidden = engine.cli_arguments(["fence", "--confirm"], pair)
    assert shown == ["--config", str(engine._config)] and hidden == ["--proof-url", "mysql://app:secret@127.0.0.1:1/source"]
    shown, hidden = engine.cli_arguments(["rollback", "--writer", "--confirm"], pair)
    assert hidden == ["--proof-url", "mysql://app:secret@127.0.0.1:1/target"]
    assert engine.cli_arguments(["rollback", "--confirm"], pair)[1] == []
    assert "secret" not in " ".join(shown)


def test_postgres_commands_are_unchanged() -> None:
    pair: Any = _Pair()
    assert engines.PostgresEngine().cli_arguments(["fence", "--confirm"], pair) == ([], [])
    assert engines.PostgresEngine().mappings() is None


def test_an_unknown_engine_is_named() -> None:
    with pytest.raises(ValueError, match="postgres, mariadb"):
        engines.engine_for("oracle")


def test_engine_defaults_to_postgres_and_refuses_postgres_only_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main_module.parser().parse_args([]).engine == "postgres"
    with pytest.raises(SystemExit):
        main_module.main(["--engine", "mariadb", "--tables", "10"])
    assert "--tables and --rtt-ms are PostgreSQL only" in capsys.readouterr().err


def test_the_data_proof_waits_as_long_as_the_measured_lag_says() -> None:
    maria = engines.MariaDbEngine()
    assert maria.compare_lag_seconds(None) == engines.MIN_COMPARE_LAG_SECONDS
    assert maria.compare_lag_seconds(0.4) == engines.MIN_COMPARE_LAG_SECONDS
    assert maria.compare_lag_seconds(4.0) == 8.0
    assert engines.PostgresEngine().compare_lag_seconds(4.0) is None  # PostgreSQL: compare waits for the applied LSN
