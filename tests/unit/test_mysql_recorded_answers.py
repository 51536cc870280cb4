"""Where MySQL 8 and MariaDB answer differently, both paths of tap_operator/databases/mysql.py against recorded answers.

Only MariaDB runs in this project's tests (tests/db: 10.11.19, Debian 12). The MariaDB answers below were
recorded from that server; the MySQL 8.0 / RDS / Aurora MySQL answers are the shapes the MySQL 8.0 reference
manual and the Amazon RDS / Aurora user guides show (SHOW GRANTS with a separate dynamic-privileges line and
role grants, super_read_only, XA RECOVER's binary `data`, `CALL mysql.rds_show_configuration`'s name / value /
description rows, @@basedir under /rdsdbbin/). The fake connection answers each statement the module sends
from these recordings and keeps what it was sent, so the statements are checked as well as the verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pymysql
import pytest

from tap_operator.databases import PreflightOptions, mysql
from tap_operator.databases.endpoints import parse_url
from tap_operator.databases.mappings import TableName
from tap_operator.databases.mysql_grants import Grants, parse_grant

MARIADB_VERSION = "10.11.19-MariaDB-0+deb12u1-log"  # recorded (tests/db)
MARIADB_106_VERSION = "10.6.16-MariaDB-log"
MYSQL_VERSION = "8.0.36"

# Recorded from MariaDB 10.11.19 (tools/dbservers.mariadb_server).
MARIADB_GRANTS_DMS = [
    "GRANT `reader` TO `dms`@`%`",
    "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `dms`@`%` IDENTIFIED BY PASSWORD "
    "'*D821809F681A40A6E379B50D0463EFAE20BDD122'",
    "GRANT SELECT ON `app_db`.* TO `dms`@`%`",
    "GRANT SELECT (`id`), INSERT ON `app_db`.`odd name``s` TO `dms`@`%`",
]
MARIADB_GRANTS_ALL = [
    "GRANT ALL PRIVILEGES ON *.* TO `tap`@`%` IDENTIFIED BY PASSWORD '*E6884C41098A59FF24F07E991724FCA04F6E2B04' "
    "WITH GRANT OPTION"
]
# MySQL 8.0 shapes (reference manual, SHOW GRANTS; RDS master user).
MYSQL_GRANTS_MASTER = [
    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, SHOW DATABASES, "
    "CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, "
    "CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER ON *.* TO `admin`@`%` WITH GRANT OPTION",
    "GRANT APPLICATION_PASSWORD_ADMIN,BACKUP_ADMIN,CONNECTION_ADMIN,FLUSH_OPTIMIZER_COSTS,ROLE_ADMIN,"
    "SESSION_VARIABLES_ADMIN,SET_USER_ID,XA_RECOVER_ADMIN ON *.* TO `admin`@`%` WITH GRANT OPTION",
    "GRANT `rds_superuser_role`@`%` TO `admin`@`%`",
]
MYSQL_GRANTS_DMS_PARTIAL_REVOKE = [
    "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `dms`@`%`",
    "REVOKE SELECT ON `mysql`.* FROM `dms`@`%`",
]
RDS_CONFIGURATION_COLUMNS = ("name", "value", "description")


def rds_rows(hours: str | None) -> list[tuple[Any, ...]]:
    return [
        ("binlog retention hours", hours, "binlog retention hours specifies the duration in hours before binary logs are "
         "automatically deleted."),
        ("source delay", "0", "source delay specifies replication delay in seconds between current instance and its master."),
        ("target delay", "0", "target delay specifies replication delay in seconds between current instance and its future "
         "read-replica."),
    ]  # fmt: skip


@dataclass
class Server:
    """The recorded answers of one server, and every statement it was sent."""

    version: str
    variables: dict[str, str] = field(default_factory=dict)
    grants: list[str] = field(default_factory=list)
    xa: list[tuple[Any, ...]] = field(default_factory=list)
    rds: list[tuple[Any, ...]] | pymysql.Error | None = None  # None: the procedure does not exist
    sent: list[str] = field(default_factory=list)

    def answer(self, query: str, params: Sequence[Any] | None) -> tuple[Sequence[str], list[tuple[Any, ...]]]:  # noqa: PLR0911
        self.sent.append(query if not params else f"{query} <- {list(params)}")
        text = " ".join(query.split())
        if text == "SELECT VERSION()":
            return ("VERSION()",), [(self.version,)]
        if text.startswith("SHOW GLOBAL VARIABLES LIKE"):
            name = str((params or [""])[0])
            return ("Variable_name", "Value"), [(name, self.variables[name])] if name in self.variables else []
        if text.startswith("SHOW GLOBAL VARIABLES WHERE Variable_name IN"):
            names = set((params or [()])[0])
            return ("Variable_name", "Value"), sorted((k, v) for k, v in self.variables.items() if k in names)
        if text == "SHOW GRANTS":
            return ("Grants",), [(grant,) for grant in self.grants]
        if text == "XA RECOVER":
            return ("formatID", "gtrid_length", "bqual_length", "data"), list(self.xa)
        if text == "CALL mysql.rds_show_configuration":
            if self.rds is None:
                raise pymysql.err.OperationalError(1305, "PROCEDURE mysql.rds_show_configuration does not exist")
            if isinstance(self.rds, pymysql.Error):
                raise self.rds
            return RDS_CONFIGURATION_COLUMNS, list(self.rds)
        if text.startswith("SELECT written_at"):
            return ("written_at",), [(datetime(2026, 1, 1),)]
        if text.startswith(("SHOW MASTER STATUS", "SHOW BINARY LOG STATUS")):
            return ("File", "Position"), [("mysql-bin-changelog.000042", 157)]
        if re.match(r"^(SET|INSERT)\b", text):
            if text.startswith("SET GLOBAL"):
                match = re.match(r"SET GLOBAL (\w+) = (\w+)", text)
                assert match, text
                self.variables[match.group(1)] = match.group(2)
            return (), []
        raise AssertionError(f"no recorded answer for {text!r}")


class _Cursor:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.description: tuple[tuple[str, ...], ...] | None = None
        self.rows: list[tuple[Any, ...]] = []

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def execute(self, query: str, params: Sequence[Any] | None = None) -> int:
        columns, self.rows = self.server.answer(query, params)
        self.description = tuple((name,) for name in columns)
        return len(self.rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def nextset(self) -> bool:
        return False


@dataclass
class Connection:
    server: Server

    def cursor(self, *_: object) -> _Cursor:
        return _Cursor(self.server)


def connection(server: Server) -> Any:
    return Connection(server)


# --------------------------------------------------------------------------------------
# SHOW GRANTS


def test_mariadb_grants_recorded_prove_select_on_the_database_not_on_a_column_grant() -> None:
    grants = Grants.parse(MARIADB_GRANTS_DMS)
    assert grants.global_privileges() == {"REPLICATION SLAVE", "BINLOG MONITOR"}
    tables = [TableName("app_db", "orders"), TableName("app_db", "odd name`s"), TableName("appXdb", "orders")]
    # app_db.* covers both app_db tables whatever a column grant says; `app_db` also matches appXdb as a pattern
    # (`_` is a wildcard) but not by name: the probe decides that one; the role's grants are not listed at all.
    assert grants.unproven_select(tables) == [TableName("appXdb", "orders")]
    assert grants.indirect == ("GRANT `reader` TO `dms`@`%`",)
    column_grant = parse_grant(MARIADB_GRANTS_DMS[3])
    assert column_grant is not None and column_grant.columns_only == {"SELECT"} and column_grant.privileges == {"INSERT"}
    assert column_grant.table == "odd name`s"


def test_mariadb_all_privileges_cover_every_table() -> None:
    grants = Grants.parse(MARIADB_GRANTS_ALL)
    assert grants.global_privileges() == {"ALL PRIVILEGES"}
    assert grants.unproven_select([TableName("any", "table")]) == []


def test_mysql8_dynamic_privileges_line_and_role_grant() -> None:
    grants = Grants.parse(MYSQL_GRANTS_MASTER)
    privileges = grants.global_privileges()
    assert {"REPLICATION SLAVE", "REPLICATION CLIENT", "CONNECTION_ADMIN", "XA_RECOVER_ADMIN", "SELECT"} <= privileges
    assert grants.indirect == ("GRANT `rds_superuser_role`@`%` TO `admin`@`%`",)
    assert grants.unproven_select([TableName("app", "orders")]) == []


def test_mysql8_partial_revoke_leaves_every_table_to_the_probe() -> None:
    grants = Grants.parse(MYSQL_GRANTS_DMS_PARTIAL_REVOKE)
    tables = [TableName("app", "orders"), TableName("mysql", "user")]
    assert grants.unproven_select(tables) == tables


@pytest.mark.parametrize(
    "line",
    [
        "GRANT EXECUTE ON PROCEDURE `mysql`.`rds_show_configuration` TO `dms`@`%`",  # recorded, MariaDB
        "GRANT PROXY ON ''@'%' TO 'dms'@'%'",
        "GRANT `reader` TO `dms`@`%`",
    ],
)
def test_lines_that_grant_no_table_privilege_are_not_read_as_one(line: str) -> None:
    assert parse_grant(line) is None


# --------------------------------------------------------------------------------------
# read_only and its exemptions


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (MYSQL_VERSION, ("SUPER", "CONNECTION_ADMIN")),
        (MARIADB_VERSION, ("READ_ONLY ADMIN",)),  # 10.11: SUPER no longer includes it
        (MARIADB_106_VERSION, ("READ_ONLY ADMIN", "SUPER")),
    ],
)
def test_privileges_that_write_through_read_only(version: str, expected: tuple[str, ...]) -> None:
    assert mysql._exempt_privileges(connection(Server(version))) == expected


def test_read_only_state_names_super_read_only_on_mysql_only() -> None:
    mysql8 = Server(MYSQL_VERSION, {"read_only": "ON", "super_read_only": "ON"})
    assert mysql._read_only_state(connection(mysql8)) == "read_only=ON, super_read_only=ON"
    maria = Server(MARIADB_VERSION, {"read_only": "ON"})
    assert mysql._read_only_state(connection(maria)) == "read_only=ON (MariaDB: no super_read_only)"


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Server]]:
    """mysql.session() opens a recorded server instead of a connection: {endpoint user: server}."""
    servers: dict[str, Server] = {}

    def session(endpoint: Any, role: str = "database", **_: object) -> Any:
        class _Session:
            def __enter__(self) -> Connection:
                return Connection(servers[endpoint.user])

            def __exit__(self, *_: object) -> None:
                return None

        return _Session()

    monkeypatch.setattr(mysql, "session", session)
    yield servers


def test_mysql_marker_lifts_super_read_only_for_one_insert_then_closes_it(sessions: dict[str, Server]) -> None:
    server = Server(MYSQL_VERSION, {"read_only": "ON", "super_read_only": "ON"})
    sessions["admin"] = server
    marker = mysql.write_marker(parse_url("mysql://admin:pw@aurora.example:3306/app"))
    writes = [statement for statement in server.sent if statement.startswith(("SET", "INSERT"))]
    assert writes[0] == "SET GLOBAL super_read_only = OFF" and writes[1].startswith(
        "INSERT INTO `app`.`tap_migrate_cutover_marker`"
    )
    assert writes[2] == "SET GLOBAL super_read_only = ON" and server.variables["super_read_only"] == "ON"
    assert marker.position == "mysql-bin-changelog.000042:157"


def test_mariadb_marker_changes_no_global_variable(sessions: dict[str, Server]) -> None:
    server = Server(MARIADB_VERSION, {"read_only": "ON"})
    sessions["tap"] = server
    mysql.write_marker(parse_url("mysql://tap:pw@maria.example:3306/app"))
    assert not [statement for statement in server.sent if statement.startswith("SET")]


def test_unfence_and_reverse_admission_per_server(sessions: dict[str, Server]) -> None:
    sessions["admin"] = mysql8 = Server(MYSQL_VERSION, {"read_only": "ON", "super_read_only": "ON"})
    sessions["tap"] = maria = Server(MARIADB_VERSION, {"read_only": "ON"})
    assert "super_read_only lifted" in mysql.admit_reverse_writer(parse_url("mysql://admin:pw@h:3306/app"))
    assert mysql8.variables == {"read_only": "ON", "super_read_only": "OFF"}  # read_only stays ON for the others
    assert "read_only stays ON" in mysql.admit_reverse_writer(parse_url("mysql://tap:pw@h:3306/app"))
    mysql.unfence(parse_url("mysql://admin:pw@h:3306/app"))
    mysql.unfence(parse_url("mysql://tap:pw@h:3306/app"))
    assert mysql8.variables["read_only"] == "OFF" and maria.variables == {"read_only": "OFF"}


def test_xa_recover_rows_of_both_servers_name_the_same_xid() -> None:
    recorded_maria = Server(MARIADB_VERSION, xa=[(1, 2, 2, b"gtbq")])  # recorded: XA START 'gt', 'bq'
    mysql8 = Server(MYSQL_VERSION, xa=[(1, 2, 2, "gtbq")])
    for server in (recorded_maria, mysql8):
        (transaction,) = mysql.xa_transactions(connection(server))
        assert transaction.gid == "X'6774',X'6271',1"


# --------------------------------------------------------------------------------------
# Binary log retention


def _retention_check(server: Server, minimum_hours: int = 24) -> Any:
    retention = mysql.binlog_retention(connection(server))
    return mysql.retention_check("binlog retention", "source", retention, minimum_hours * 3600, "DMS")


def test_rds_retention_hours_decide_and_the_fix_is_the_rds_call() -> None:
    server = Server(MYSQL_VERSION, {"binlog_expire_logs_seconds": "2592000"}, rds=rds_rows("12"))
    check = _retention_check(server)
    assert (check.verdict, check.value) == ("block", "12.0 h (binlog retention hours = 12)")
    assert check.fix.endswith("CALL mysql.rds_set_configuration('binlog retention hours', 24)")
    assert not [statement for statement in server.sent if "VARIABLES" in statement]  # the variables do not count there


def test_rds_retention_null_means_binlogs_are_not_kept() -> None:
    check = _retention_check(Server(MYSQL_VERSION, rds=rds_rows(None)))
    assert check.verdict == "block" and check.value == "binlog retention hours = NULL: binary logs are not kept for DMS"


def test_rds_procedure_denied_on_rds_is_not_checked_elsewhere_the_variables_count() -> None:
    denied = pymysql.err.OperationalError(
        1370, "execute command denied to user 'dms'@'%' for routine 'mysql.rds_show_configuration'"
    )
    on_rds = Server(MYSQL_VERSION, {"basedir": "/rdsdbbin/mysql/"}, rds=denied)
    check = _retention_check(on_rds)
    assert check.verdict == "warn" and "not checked" in check.value and "GRANT EXECUTE ON PROCEDURE" in check.fix
    elsewhere = Server(MARIADB_VERSION, {"basedir": "/usr/", "binlog_expire_logs_seconds": "604800"}, rds=denied)
    assert _retention_check(elsewhere).value == "168 h (binlog_expire_logs_seconds = 604800)"


def test_server_variables_without_rds() -> None:
    # MySQL 5.7 / MariaDB before 10.6: only expire_logs_days.
    days = Server("5.7.44-log", {"expire_logs_days": "3"})
    assert _retention_check(days).value == "72 h (expire_logs_days = 3)"
    short = Server(MARIADB_VERSION, {"binlog_expire_logs_seconds": "3600", "expire_logs_days": "0.041667"})
    assert _retention_check(short).verdict == "block"
    assert "SET GLOBAL binlog_expire_logs_seconds = 86400" in _retention_check(short).fix
    never = Server(MYSQL_VERSION, {"binlog_expire_logs_seconds": "0", "expire_logs_days": "0"})
    assert "never expire" in _retention_check(never).value


def _reverse(variables: Mapping[str, str], rds: list[tuple[Any, ...]] | None, window: int = 48) -> list[Any]:
    server = Server(MYSQL_VERSION, dict(variables), rds=rds)
    return mysql.reverse_binlog_checks(connection(server), PreflightOptions(reverse_replication=True,
                                                                            rollback_window_hours=window))  # fmt: skip


def test_aurora_reverse_binlog_on_row_full_and_kept_through_the_window() -> None:
    aurora = {"log_bin": "ON", "binlog_format": "ROW", "binlog_row_image": "FULL"}
    binlog, retention = _reverse(aurora, rds_rows("72"))
    assert (binlog.verdict, retention.verdict) == ("ok", "ok")
    binlog, retention = _reverse(aurora, rds_rows("24"))
    assert retention.verdict == "block" and "cutover.rollback_window_hours = 48" in retention.fix
    # Aurora before the reboot that applies the parameter group's binlog_format: no binary log.
    binlog, retention = _reverse({"log_bin": "OFF", "binlog_format": "ROW", "binlog_row_image": "FULL"}, rds_rows(None))
    assert binlog.verdict == "block" and binlog.value.startswith("log_bin=OFF") and "reboot" in binlog.fix
    assert retention.verdict == "block"
