"""On real MariaDB: SELECT on the mapped tables proven from one SHOW GRANTS (a constant number of statements in
the number of tables), and binary log retention read where it counts: `binlog retention hours` from
`mysql.rds_show_configuration` on RDS / Aurora MySQL, the server variables elsewhere, for the source (DMS) and
for the target the reverse task reads through the rollback window.

The RDS procedure does not exist outside RDS: here it is created in the `mysql` schema, returning the result set
the AWS documentation shows for RDS / Aurora MySQL (columns name, value, description). These are recorded-shape
tests of our reading of it, not tests against RDS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tap_operator.databases import Check, PreflightOptions, run_preflight
from tap_operator.databases.counting import count_statements
from tools.dbservers import MariaDbServer

from .conftest import APP_PASSWORD, MariaDatabase, mappings, unique

RDS_DESCRIPTIONS = {
    "binlog retention hours": "binlog retention hours specifies the duration in hours before binary logs are "
    "automatically deleted.",
    "source delay": "source delay specifies replication delay in seconds between current instance and its master.",
    "target delay": "target delay specifies replication delay in seconds between current instance and its future read-replica.",
}


def only(checks: list[Check], name: str, verdict: str) -> Check:
    matching = [check for check in checks if check.name == name and check.verdict == verdict]
    assert matching, f"no {verdict} {name!r} check in {[(c.name, c.verdict, c.value) for c in checks]}"
    return matching[0]


def with_tables(make: Callable[[], MariaDatabase], count: int) -> MariaDatabase:
    database = make()
    database.execute(
        "CREATE TABLE tap_migrate_cutover_marker (id VARCHAR(64) PRIMARY KEY, written_at DATETIME(6) NOT NULL) ENGINE=InnoDB"
    )
    for index in range(count):
        database.execute(f"CREATE TABLE `t {index}` (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB")
    return database


def dms_user(database: MariaDatabase, *grants: str) -> str:
    user = unique("dms")
    database.server.create_user(user, APP_PASSWORD, ("REPLICATION SLAVE, BINLOG MONITOR ON *.*", *grants))
    return user


def source_statements(database: MariaDatabase, user: str) -> tuple[int, list[Check]]:
    with count_statements() as counted:
        checks = run_preflight(database.endpoint(user, APP_PASSWORD), None, mappings((database.name, "%", "include")),
                               PreflightOptions())  # fmt: skip
    return counted["source"], checks


def test_select_privilege_costs_the_same_statements_for_5_and_60_tables(maria_db: Callable[[], MariaDatabase]) -> None:
    counts = []
    for size in (5, 60):
        database = with_tables(maria_db, size)
        user = dms_user(database, f"SELECT ON `{database.name}`.*")
        statements, checks = source_statements(database, user)
        assert only(checks, "select privilege", "ok").value == f"SELECT on all {size + 1} selected table(s)"
        counts.append(statements)
    assert counts[0] == counts[1], counts


def test_a_table_without_select_is_found_and_named(maria_db: Callable[[], MariaDatabase]) -> None:
    database = with_tables(maria_db, 3)
    # Table-level grants, one table missing SELECT (INSERT makes it visible to the account, but not readable).
    grants = [f"SELECT ON `{database.name}`.`t {index}`" for index in (0, 1)]
    grants += [f"SELECT ON `{database.name}`.tap_migrate_cutover_marker", f"INSERT ON `{database.name}`.`t 2`"]
    user = dms_user(database, *grants)
    _, checks = source_statements(database, user)
    assert only(checks, "select privilege", "block").subject == f"{database.name}.t 2"


def test_select_through_a_role_or_a_column_grant_is_probed_never_guessed(maria_db: Callable[[], MariaDatabase]) -> None:
    database = with_tables(maria_db, 2)
    role = unique("reader_role")
    database.server.execute(f"CREATE ROLE {role}")
    database.server.execute(f"GRANT SELECT ON `{database.name}`.* TO {role}")
    user = dms_user(database, f"SELECT (id) ON `{database.name}`.`t 1`")
    database.server.execute(f"GRANT {role} TO '{user}'@'%'")
    database.server.execute(f"SET DEFAULT ROLE {role} FOR '{user}'@'%'")
    try:
        _, checks = source_statements(database, user)
        assert only(checks, "select privilege", "ok")  # the role gives SELECT: opening each table proves it
        database.server.execute(f"REVOKE {role} FROM '{user}'@'%'")
        _, checks = source_statements(database, user)
        # `t 1`: SELECT on one column only is not SELECT on the table (DMS reads every column). The tables the
        # account holds nothing on are hidden from it (and so from the selection) by the server itself.
        assert only(checks, "select privilege", "block").subject == f"{database.name}.t 1"
    finally:
        database.server.execute(f"DROP ROLE IF EXISTS {role}")


# --------------------------------------------------------------------------------------
# Binary log retention: RDS / Aurora MySQL's `binlog retention hours`


@pytest.fixture
def rds_configuration(maria: MariaDbServer) -> Iterator[Callable[[str | None], None]]:
    """set(hours): mysql.rds_show_configuration answers `binlog retention hours` = hours (None: NULL).

    The procedure (created once, so EXECUTE granted on it stays) reads its answer from a table, in RDS's shape.
    """
    maria.execute("CREATE TABLE mysql.tap_rds_configuration (name VARCHAR(64) PRIMARY KEY, value VARCHAR(64), "
                  "description VARCHAR(255))")  # fmt: skip
    for name, description in RDS_DESCRIPTIONS.items():
        maria.execute("INSERT INTO mysql.tap_rds_configuration VALUES (%s, %s, %s)", params=(name, "0", description))
    maria.execute(
        "CREATE PROCEDURE mysql.rds_show_configuration() SQL SECURITY DEFINER "
        "SELECT name, value, description FROM mysql.tap_rds_configuration ORDER BY name"
    )

    def set_hours(hours: str | None) -> None:
        maria.execute("UPDATE mysql.tap_rds_configuration SET value = %s WHERE name = 'binlog retention hours'",
                      params=(hours,))  # fmt: skip

    try:
        yield set_hours
    finally:
        maria.execute("DROP PROCEDURE IF EXISTS mysql.rds_show_configuration")
        maria.execute("DROP TABLE IF EXISTS mysql.tap_rds_configuration")


def test_rds_binlog_retention_hours_decide_over_the_server_variables(
    maria_db: Callable[[], MariaDatabase], rds_configuration: Callable[[str | None], None]
) -> None:
    source = with_tables(maria_db, 1)
    # The server keeps its binlogs 7 days (binlog_expire_logs_seconds), which RDS ignores: the procedure decides.
    rds_configuration("2")
    user = dms_user(source, f"SELECT ON `{source.name}`.*", "EXECUTE ON PROCEDURE mysql.rds_show_configuration")
    _, checks = source_statements(source, user)
    blocked = only(checks, "binlog retention", "block")
    assert blocked.value == "2.0 h (binlog retention hours = 2)"
    assert "CALL mysql.rds_set_configuration('binlog retention hours', 24)" in blocked.fix
    rds_configuration(None)
    _, checks = source_statements(source, user)
    assert "binlog retention hours = NULL: binary logs are not kept" in only(checks, "binlog retention", "block").value
    rds_configuration("168")
    _, checks = source_statements(source, user)
    assert only(checks, "binlog retention", "ok").value == "168 h (binlog retention hours = 168)"


def test_without_the_procedure_the_server_variables_decide(maria_db: Callable[[], MariaDatabase]) -> None:
    source = with_tables(maria_db, 1)
    checks = run_preflight(source.endpoint(), None, mappings((source.name, "%", "include")), PreflightOptions())
    assert only(checks, "binlog retention", "ok").value == "168 h (binlog_expire_logs_seconds = 604800)"


def _reverse_preflight(source: MariaDatabase, target: MariaDatabase, window_hours: int) -> list[Check]:
    options = PreflightOptions(reverse_replication=True, rollback_window_hours=window_hours)
    return run_preflight(source.endpoint(), target.endpoint(), mappings((source.name, "%", "include")), options)


def test_reverse_target_binlog_must_be_row_and_kept_through_the_rollback_window(
    maria: MariaDbServer,
    maria_db: Callable[[], MariaDatabase],
    maria_plain_db: Callable[[], MariaDatabase],
    rds_configuration: Callable[[str | None], None],
) -> None:
    source = with_tables(maria_db, 1)
    # A target with its binary log ON (the `maria` server plays Aurora here; the RDS procedure answers there).
    rds_configuration("24")
    checks = _reverse_preflight(source, source, 48)
    assert only(checks, "reverse binlog", "ok").value == "log_bin=ON, binlog_format=ROW, binlog_row_image=FULL"
    retention = only(checks, "reverse binlog retention", "block")
    assert retention.value == "24.0 h (binlog retention hours = 24)" and "cutover.rollback_window_hours = 48" in retention.fix
    assert "CALL mysql.rds_set_configuration('binlog retention hours', 48)" in retention.fix
    rds_configuration("72")
    assert only(_reverse_preflight(source, source, 48), "reverse binlog retention", "ok")
    # Without reverse replication the target's binlog is not the preflight's business.
    plain = run_preflight(source.endpoint(), source.endpoint(), mappings((source.name, "%", "include")), PreflightOptions())
    assert not [check for check in plain if check.name.startswith("reverse binlog")]
    # A target without a binary log (binlog_format is not applied until the reboot, for example) blocks.
    target = maria_plain_db()
    checks = _reverse_preflight(source, target, 24)
    blocked = only(checks, "reverse binlog", "block")
    assert "log_bin=OFF" in blocked.value and "reboot the writer instance" in blocked.fix
