"""MySQL and MariaDB: connection, preflight checks, write fence, drain marker and AUTO_INCREMENT sync (PyMySQL).

The fence is server-wide (read_only is a global variable). MariaDB 10.11 has no super_read_only: accounts
holding READ_ONLY ADMIN (part of ALL PRIVILEGES; no longer part of SUPER since 10.11) keep writing through
read_only, so the fence reports every application account that holds it. MySQL exempts CONNECTION_ADMIN /
SUPER holders from read_only until super_read_only is on, which write_marker turns on after the marker.
"""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pymysql
import pymysql.cursors
from pymysql.constants import CLIENT, ER

from .checks import (
    MARKER_TABLE,
    Check,
    LobSize,
    PreflightOptions,
    block,
    guarded,
    lob_checks,
    lob_primary_key_checks,
    marker_table_check,
    no_long_transaction,
    not_checked,
    ok,
    primary_key_checks,
    reachable,
    select_privilege_checks,
    ssl_check,
    table_selection_check,
    target_table_checks,
    warn,
)
from .counting import record
from .endpoints import Endpoint, ca_file
from .errors import DatabaseError, RefusedError, marker_missing_on_target, one_line
from .mappings import TableName, parse_rules, select_tables
from .mysql_grants import Grants
from .refusals import refusal_kind
from .results import FenceProof, Marker, PreparedTransaction, Refusal, Session
from .sequences import SequenceKey, SequenceState, plans
from .shapes import ColumnShape, TableShape

if TYPE_CHECKING:
    Connection = pymysql.connections.Connection[pymysql.cursors.Cursor]
CONNECT_TIMEOUT_SECONDS = 10
LOCK_WAIT_SECONDS = 10
KILL_WAIT_SECONDS = 5.0
SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys")
# Threads a fence must never end: replication readers (DMS's binlog connection is a Binlog Dump),
# replica threads and the server's own.
PROTECTED_COMMANDS = ("Binlog Dump", "Binlog Dump GTID", "Daemon", "Slave_IO", "Slave_SQL", "Slave_worker", "Killed")
PROTECTED_USERS = ("system user", "event_scheduler")
LOB_TYPES = frozenset({"tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob", "json"})
READ_ONLY_ERRORS = frozenset({ER.OPTION_PREVENTS_STATEMENT, 1792, 1836})  # --read-only; read-only transaction; read-only mode
MIN_BINLOG_RETENTION_SECONDS = 24 * 3600
RDS_RETENTION_KEY = "binlog retention hours"
SP_DOES_NOT_EXIST = 1305  # ER_SP_DOES_NOT_EXIST: not RDS / Aurora
PROCEDURE_ACCESS_DENIED = 1370  # ER_PROCACCESS_DENIED_ERROR
RDS_BASEDIR = "/rdsdbbin/"  # where RDS and Aurora MySQL install the server (@@basedir)
CLIENT_SSL_REQUIRED = 2026  # CR_SSL_CONNECTION_ERROR: "SSL is required but the server doesn't support it"
INTEGER_MAX = {"tinyint": 127, "smallint": 32767, "mediumint": 8388607, "int": 2147483647, "bigint": 9223372036854775807}


def marker_ddl(database: str) -> str:
    return (
        f"CREATE TABLE `{database}`.{MARKER_TABLE} (id VARCHAR(64) NOT NULL PRIMARY KEY, "
        "written_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB;"
    )


def _name(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def _table(schema: str, name: str) -> str:
    """A quoted schema.table: every identifier we put into SQL text goes through _name (backticks doubled)."""
    return f"{_name(schema)}.{_name(name)}"


def _pair(table: TableName) -> tuple[str, str]:
    return table.schema, table.name


# --------------------------------------------------------------------------------------
# Connections


def _code(error: BaseException) -> int:
    args = getattr(error, "args", ())
    return int(args[0]) if args and isinstance(args[0], int) else 0


UNREACHABLE_CODES = (2003, 2005, 2006, 2013)  # can't connect, unknown host, gone away, lost connection


def _describe_connect_error(endpoint: Endpoint, role: str, error: Exception) -> str:
    code = _code(error)
    where = f"{endpoint.host}:{endpoint.port}"
    detail = one_line(endpoint.scrub(str(error.args[-1] if error.args else error)))
    known = {
        ER.ACCESS_DENIED_ERROR: f"authentication failed for user {endpoint.user} on {where}; check the password",
        ER.BAD_DB_ERROR: f"database {endpoint.database} does not exist on {where}; create it or fix the database name",
        ER.DBACCESS_DENIED_ERROR: f"user {endpoint.user} may not use database {endpoint.database} on {where}; grant access",
        CLIENT_SSL_REQUIRED: f"{where} does not offer SSL but ssl={endpoint.ssl_mode}; enable TLS on the server",
    } | {
        unreachable: f"cannot reach {where} ({detail}); check the host and port, the network path (VPN, security groups, "
        "firewall) and that the server is running"
        for unreachable in UNREACHABLE_CODES
    }
    if code in known:
        return f"{role}: {known[code]}"
    if isinstance(error, ssl.SSLError):
        return f"{role}: SSL with {where} failed ({detail}); check ssl-ca and the server certificate"
    return f"{role}: cannot connect to {endpoint.label} ({detail})"


def _ssl_options(endpoint: Endpoint, ca_path: str | None) -> dict[str, Any] | None:
    if endpoint.ssl_mode == "disable":
        return None
    # PyMySQL falls back to plain text when the server offers no TLS: `require` is checked after connecting.
    return {"ca": ca_path, "check_hostname": endpoint.ssl_mode == "verify-full"} if ca_path else {"check_hostname": False}


class _CountingCursor(pymysql.cursors.Cursor):
    """Counts each statement for counting.count_statements(), under the role the session was opened as."""

    role = "database"

    def execute(self, query: Any, args: Any = None) -> int:
        record(self.role, str(query))
        return int(super().execute(query, args))


@functools.cache
def _cursor_class(role: str) -> type[_CountingCursor]:
    return type(f"_CountingCursor_{role}", (_CountingCursor,), {"role": role})


def _open(
    endpoint: Endpoint, ssl_options: dict[str, Any] | None, autocommit: bool, role: str, multi_statements: bool = False
) -> Connection:
    return pymysql.connect(
        cursorclass=_cursor_class(role),
        client_flag=CLIENT.MULTI_STATEMENTS if multi_statements else 0,
        host=endpoint.host,
        port=endpoint.port,
        user=endpoint.user,
        password=endpoint.password,
        database=endpoint.database or None,
        ssl=ssl_options,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        autocommit=autocommit,
        charset="utf8mb4",
        program_name=f"tap-migrate {role}",
    )


def connect(endpoint: Endpoint, role: str = "database", *, autocommit: bool = True, multi_statements: bool = False) -> Connection:
    """`multi_statements`: one execute may carry several `;`-separated statements (one round trip); only the
    AUTO_INCREMENT sync asks for it, with every identifier quoted by _name."""
    with ca_file(endpoint) as ca_path:
        try:
            try:
                connection = _open(endpoint, _ssl_options(endpoint, ca_path), autocommit, role, multi_statements)
            except pymysql.err.OperationalError as error:
                # PyMySQL has no "preferred" mode: it refuses a server without TLS once asked for it.
                if endpoint.ssl_mode != "prefer" or _code(error) != CLIENT_SSL_REQUIRED:
                    raise
                connection = _open(endpoint, None, autocommit, role, multi_statements)
        except (pymysql.Error, OSError) as error:
            raise DatabaseError(_describe_connect_error(endpoint, role, error)) from None
    if endpoint.ssl_mode not in {"prefer", "disable"} and not _uses_ssl(connection):
        connection.close()
        raise DatabaseError(
            f"{role}: {endpoint.host}:{endpoint.port} does not offer SSL but ssl={endpoint.ssl_mode}; enable TLS on the "
            "server (ssl-cert / ssl-key) or lower the ssl mode"
        )
    return connection


def _uses_ssl(connection: Connection) -> bool:
    row = _row(connection, "SHOW SESSION STATUS LIKE 'Ssl_cipher'")
    return bool(row and row[1])


@contextlib.contextmanager
def session(
    endpoint: Endpoint, role: str = "database", *, autocommit: bool = True, multi_statements: bool = False
) -> Iterator[Connection]:
    """A connection whose driver errors come out as DatabaseError, scrubbed of the password."""
    connection = connect(endpoint, role, autocommit=autocommit, multi_statements=multi_statements)
    try:
        yield connection
    except pymysql.Error as error:
        raise DatabaseError(f"{role} {endpoint.label}: {one_line(endpoint.scrub(str(error)))}") from None
    finally:
        with contextlib.suppress(pymysql.Error):
            connection.close()


def _rows(connection: Connection, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return list(cursor.fetchall())


def _row(connection: Connection, query: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
    rows = _rows(connection, query, params)
    return rows[0] if rows else None


def _value(connection: Connection, query: str, params: Sequence[Any] | None = None) -> Any:
    row = _row(connection, query, params)
    return None if row is None else row[0]


def _variable(connection: Connection, name: str) -> str | None:
    row = _row(connection, "SHOW GLOBAL VARIABLES LIKE %s", (name,))
    return None if row is None else str(row[1])


def _is_mariadb(connection: Connection) -> bool:
    return "mariadb" in str(_value(connection, "SELECT VERSION()")).lower()


def server_version(connection: Connection) -> str:
    version = str(_value(connection, "SELECT VERSION()"))
    return ("MariaDB " if "mariadb" in version.lower() else "MySQL ") + version


def _as_bytes(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --------------------------------------------------------------------------------------
# Catalog


def catalog(connection: Connection) -> list[TableName]:
    rows = _rows(
        connection,
        "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' "
        "AND TABLE_SCHEMA NOT IN %s",
        (SYSTEM_SCHEMAS,),
    )
    return [TableName(_as_bytes(schema), _as_bytes(name)) for schema, name in rows]


@dataclass(frozen=True)
class _Column:
    table: TableName
    name: str
    data_type: str
    column_type: str
    in_primary_key: bool

    @property
    def is_lob(self) -> bool:
        return self.data_type in LOB_TYPES

    @property
    def declared_type(self) -> str:
        return self.column_type


def _columns(connection: Connection, tables: Sequence[TableName]) -> list[_Column]:
    wanted = set(tables)
    schemas = sorted({table.schema for table in tables})
    if not schemas:
        return []
    rows = _rows(
        connection,
        "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, COLUMN_KEY = 'PRI' "
        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN %s ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
        (schemas,),
    )
    columns = [
        _Column(
            TableName(_as_bytes(r[0]), _as_bytes(r[1])), _as_bytes(r[2]), _as_bytes(r[3]).lower(), _as_bytes(r[4]), bool(r[5])
        )
        for r in rows
    ]
    return [column for column in columns if column.table in wanted]


# --------------------------------------------------------------------------------------
# Preflight: source


@contextlib.contextmanager
def preflight_session(endpoint: Endpoint, role: str, options: PreflightOptions) -> Iterator[Connection]:
    """A session whose every statement has a budget: the preflight must never load or block a production source.

    MySQL: max_execution_time (ms, SELECTs); MariaDB: max_statement_time (s); both: lock_wait_timeout (metadata
    locks) and innodb_lock_wait_timeout (row locks), whole seconds, at least 1.
    """
    with session(endpoint, role) as connection:
        lock_seconds = max(1, -(-options.lock_timeout_ms // 1000))
        if _is_mariadb(connection):
            _rows(connection, "SET SESSION max_statement_time = %s", (options.statement_timeout_ms / 1000,))
        else:
            _rows(connection, "SET SESSION max_execution_time = %s", (options.statement_timeout_ms,))
        _rows(connection, "SET SESSION lock_wait_timeout = %s, innodb_lock_wait_timeout = %s", (lock_seconds, lock_seconds))
        yield connection


STATEMENT_TIMEOUT_CODES = (3024, 1969)  # MySQL max_execution_time exceeded; MariaDB max_statement_time exceeded


def budget_spent(error: BaseException, options: PreflightOptions) -> str | None:
    """Which budget a query ran out of, or None when the error is something else."""
    if not isinstance(error, pymysql.Error):
        return None
    code = _code(error)
    if code in STATEMENT_TIMEOUT_CODES:
        return f"max_execution_time / max_statement_time {options.statement_timeout_ms} ms"
    if code == ER.LOCK_WAIT_TIMEOUT:
        return f"lock_wait_timeout {max(1, -(-options.lock_timeout_ms // 1000))} s: another session holds a conflicting lock"
    return None


def preflight_source(endpoint: Endpoint, mappings_json: str, options: PreflightOptions) -> tuple[list[Check], list[TableName]]:
    def spent(error: BaseException) -> str | None:
        return budget_spent(error, options)

    with preflight_session(endpoint, "source", options) as connection:
        checks = [reachable("source", server_version(connection), endpoint.host, endpoint.port)]
        tables: list[TableName] = []

        def selection() -> list[Check]:
            tables.extend(select_tables(parse_rules(mappings_json), catalog(connection)))
            return [
                table_selection_check(
                    tables,
                    "the table mappings select no table on the source",
                    "fix the selection rules' schema-name (the MySQL database) / table-name; % and _ are wildcards",
                )
            ]

        checks += guarded("table selection", "source", options, spent, selection)
        checks += guarded("binary log settings", "source", options, spent, lambda: _binlog_checks(connection))
        checks += guarded(
            "privileges", endpoint.user, options, spent, lambda: _grant_checks(connection, endpoint, tables, options)
        )

        def column_checks() -> list[Check]:
            columns = _columns(connection, tables)
            return _key_checks(tables, columns) + lob_checks(
                columns, options.task, _lob_sizes(connection, columns, options), options
            )

        checks += guarded("primary key, lob size", "source", options, spent, column_checks)
        checks += guarded("ssl", "source", options, spent, lambda: [_ssl_check(connection, options)])
        checks += guarded("long transaction", "source", options, spent, lambda: _long_transaction_checks(connection, options))
        checks += guarded("drain marker table", "source", options, spent, lambda: [_marker_check(connection, endpoint, tables)])
    return checks, tables


def _binlog_checks(connection: Connection) -> list[Check]:
    checks: list[Check] = []
    log_bin = (_variable(connection, "log_bin") or "OFF").upper()
    if log_bin == "ON":
        checks.append(ok("log_bin", "source", "ON"))
    else:
        checks.append(
            block("log_bin", "source", log_bin, "enable the binary log (log-bin; RDS: automated backups on) and restart")
        )
    expected = {"binlog_format": "ROW", "binlog_row_image": "FULL"}
    for name, wanted in expected.items():
        found = (_variable(connection, name) or "unset").upper()
        if found == wanted:
            checks.append(ok(name, "source", found))
        else:
            checks.append(
                block(name, "source", found, f"SET GLOBAL {name} = '{wanted}' and in the config file (RDS: parameter group)")
            )
    checks.append(
        retention_check("binlog retention", "source", binlog_retention(connection), MIN_BINLOG_RETENTION_SECONDS, "DMS")
    )
    server_id = int(_variable(connection, "server_id") or 0)
    if server_id:
        checks.append(ok("server_id", "source", str(server_id)))
    else:
        checks.append(block("server_id", "source", "0", "set server_id to a non-zero value (server-id in the config file)"))
    return checks


class RdsConfigurationDeniedError(Exception):
    """CALL mysql.rds_show_configuration was refused for lack of EXECUTE (it may or may not exist)."""


@dataclass(frozen=True)
class BinlogRetention:
    """How long the server keeps its binary logs. `seconds` None: not kept at all (RDS `binlog retention hours`
    NULL); 0: never purged automatically."""

    seconds: int | None
    setting: str  # what was read, for people
    rds: bool  # read from mysql.rds_show_configuration (RDS, Aurora MySQL)
    unknown: str = ""  # why it could not be read (the check becomes a "not checked" warn)


def rds_configuration(connection: Connection) -> dict[str, str | None] | None:
    """`CALL mysql.rds_show_configuration` as name -> value (names lower case), or None where it does not exist.

    RDS for MySQL/MariaDB and Aurora MySQL have it; there `binlog retention hours` decides how long binary logs
    stay, and binlog_expire_logs_seconds is ignored. One round trip either way.
    """
    with connection.cursor() as cursor:
        try:
            cursor.execute("CALL mysql.rds_show_configuration")
        except pymysql.Error as error:
            if _code(error) == SP_DOES_NOT_EXIST:
                return None
            if _code(error) == PROCEDURE_ACCESS_DENIED:
                # Both servers check EXECUTE before existence: denied says nothing about whether it is there.
                raise RdsConfigurationDeniedError(one_line(str(error.args[-1]))) from None
            raise
        names = [str(column[0]).lower() for column in cursor.description or ()]
        rows = list(cursor.fetchall())
        while cursor.nextset():  # a CALL ends with a status result: read it, or the session is out of sync
            pass
    if "name" not in names or "value" not in names:
        raise DatabaseError(f"mysql.rds_show_configuration returned columns {names}; expected name and value")
    name_at, value_at = names.index("name"), names.index("value")
    return {_as_bytes(row[name_at]).lower(): None if row[value_at] is None else _as_bytes(row[value_at]) for row in rows}


def binlog_retention(connection: Connection) -> BinlogRetention:
    """RDS/Aurora: `binlog retention hours` from rds_show_configuration; elsewhere binlog_expire_logs_seconds,
    or expire_logs_days when that is 0 (MariaDB before 10.6 and MySQL 5.7 know only the days)."""
    try:
        rds = rds_configuration(connection)
    except RdsConfigurationDeniedError as denied:
        if not str(_variable(connection, "basedir") or "").startswith(RDS_BASEDIR):
            rds = None  # not RDS: the server variables are what counts
        else:
            why = f"this account may not CALL mysql.rds_show_configuration ({denied}), where RDS keeps the setting"
            return BinlogRetention(None, RDS_RETENTION_KEY, True, why)
    if rds is not None:
        value = rds.get(RDS_RETENTION_KEY)
        if value is None or value.strip().upper() in ("", "NULL"):
            return BinlogRetention(None, f"{RDS_RETENTION_KEY} = NULL", True)
        hours = float(value)
        return BinlogRetention(int(hours * 3600), f"{RDS_RETENTION_KEY} = {value}", True)
    seconds_text = _variable(connection, "binlog_expire_logs_seconds")
    days_text = _variable(connection, "expire_logs_days")
    seconds = int(float(seconds_text)) if seconds_text not in (None, "") else 0
    if seconds:
        return BinlogRetention(seconds, f"binlog_expire_logs_seconds = {seconds}", False)
    days = float(days_text) if days_text not in (None, "") else 0.0
    return BinlogRetention(int(days * 86400), f"expire_logs_days = {days_text}" if days else "no expiry set", False)


def retention_check(name: str, subject: str, retention: BinlogRetention, minimum_seconds: int, reader: str) -> Check:
    """ok when the binary log stays at least `minimum_seconds`; the fix names the setting that counts there."""
    hours = -(-minimum_seconds // 3600)
    if retention.unknown:
        fix = "GRANT EXECUTE ON PROCEDURE mysql.rds_show_configuration to this account, or run the preflight as the master user"
        return warn(name, subject, f"not checked: {retention.unknown}", fix)
    if retention.rds:
        fix = f"CALL mysql.rds_set_configuration('{RDS_RETENTION_KEY}', {hours})"
    else:
        fix = f"SET GLOBAL binlog_expire_logs_seconds = {hours * 3600} and in the config file (RDS: parameter group)"
    if retention.seconds is None:
        value = f"{retention.setting}: binary logs are not kept for {reader}"
        return block(name, subject, value, f"keep them at least {hours} h: {fix}")
    if retention.seconds == 0:
        return ok(name, subject, f"{retention.setting}: binary logs never expire automatically")
    if retention.seconds >= minimum_seconds:
        return ok(name, subject, f"{retention.seconds / 3600:g} h ({retention.setting})")
    value = f"{retention.seconds / 3600:.1f} h ({retention.setting})"
    return block(name, subject, value, f"keep binary logs at least {hours} h for {reader}: {fix}")


def show_grants(connection: Connection) -> Grants:
    """The session account's `SHOW GRANTS`, parsed (mysql_grants): one statement."""
    return Grants.parse(_as_bytes(grant) for (grant,) in _rows(connection, "SHOW GRANTS"))


def _global_privileges(connection: Connection) -> set[str]:
    return show_grants(connection).global_privileges()


def _grant_checks(
    connection: Connection, endpoint: Endpoint, tables: Sequence[TableName], options: PreflightOptions | None = None
) -> list[Check]:
    """Replication grants and SELECT on every mapped table, from one SHOW GRANTS; only the tables its text cannot
    prove (roles, partial revokes, column grants, wildcard database names) are opened one by one."""
    checks: list[Check] = []
    grants = show_grants(connection)
    privileges = grants.global_privileges()
    everything = "ALL PRIVILEGES" in privileges or "ALL" in privileges
    # MariaDB 10.5+ renamed REPLICATION CLIENT to BINLOG MONITOR (the old name is an alias).
    needs = {
        "REPLICATION CLIENT": ("REPLICATION CLIENT", "BINLOG MONITOR"),
        "REPLICATION SLAVE": ("REPLICATION SLAVE",),
    }
    missing = [name for name, spellings in needs.items() if not everything and not privileges.intersection(spellings)]
    held = "ALL PRIVILEGES" if everything else ", ".join(sorted(privileges)) or "no global privilege"
    if missing:
        checks.append(
            block(
                "replication grants",
                endpoint.user,
                f"global privileges: {held}; missing {', '.join(missing)}",
                f"GRANT {', '.join(missing)} ON *.* TO '{endpoint.user}'@'%'; "
                "(MariaDB 10.5+ spells REPLICATION CLIENT as BINLOG MONITOR)",
            )
        )
    else:
        checks.append(ok("replication grants", endpoint.user, held))
    denied, unchecked = _probe_select(connection, grants.unproven_select(tables), options)
    checks += unchecked
    if unchecked and not denied:
        return checks
    checks += select_privilege_checks(
        endpoint.user, tables, denied, lambda table: f"GRANT SELECT ON `{table.schema}`.* TO '{endpoint.user}'@'%';"
    )
    return checks


def _probe_select(
    connection: Connection, tables: Sequence[TableName], options: PreflightOptions | None
) -> tuple[list[TableName], list[Check]]:
    """Open each table SHOW GRANTS did not settle: (the ones SELECT is denied on, the ones out of budget)."""
    denied: list[TableName] = []
    unchecked: list[Check] = []
    for table in tables:
        try:
            # `*`: SELECT on every column (a column-level grant on some of them is refused), no row read.
            _rows(connection, f"SELECT * FROM {_table(table.schema, table.name)} LIMIT 0")  # noqa: S608  (quoted by _table)
        except (pymysql.err.OperationalError, pymysql.err.ProgrammingError) as error:
            # Opening the table waits for its metadata lock: an ALTER or LOCK TABLES elsewhere runs it out of budget.
            spent = budget_spent(error, options) if options is not None else None
            if spent is not None:
                unchecked.append(not_checked("select privilege", str(table), spent, options or PreflightOptions()))
                continue
            if _code(error) not in (ER.TABLEACCESS_DENIED_ERROR, ER.COLUMNACCESS_DENIED_ERROR, ER.DBACCESS_DENIED_ERROR):
                raise
            denied.append(table)
    return denied, unchecked


def _key_checks(tables: Sequence[TableName], columns: Sequence[_Column]) -> list[Check]:
    keyed = {column.table for column in columns if column.in_primary_key}
    unkeyed = [
        (
            table,
            "no primary key: DMS cannot apply its UPDATEs and DELETEs reliably",
            f"ALTER TABLE {_table(table.schema, table.name)} ADD PRIMARY KEY (...);",
        )
        for table in tables
        if table not in keyed
    ]
    checks = primary_key_checks(tables, unkeyed, "have a primary key")
    checks += lob_primary_key_checks(columns, "DMS does not support LOB primary keys: use VARCHAR/VARBINARY or another key")
    return checks


def _lob_sizes(connection: Connection, columns: Sequence[_Column], options: PreflightOptions) -> Callable[[_Column], LobSize]:
    """Each LOB column's largest value in bytes, reading at most `lob_sample_rows` rows per table (one query each).

    InnoDB has no TABLESAMPLE: the first rows in primary-key order are read. Fewer rows than the budget
    means the whole table was measured; otherwise it is a sample. Out of budget: largest None.
    """
    by_table: dict[TableName, list[_Column]] = {}
    for column in columns:
        if column.is_lob:
            by_table.setdefault(column.table, []).append(column)
    sizes: dict[tuple[TableName, str], LobSize] = {}
    limit = options.lob_sample_rows
    for table, lobs in by_table.items():
        names = ", ".join(_name(column.name) for column in lobs)
        measures = ", ".join(f"MAX(OCTET_LENGTH({_name(column.name)}))" for column in lobs)
        query = f"SELECT COUNT(*), {measures} FROM (SELECT {names} FROM {_table(*_pair(table))} LIMIT {limit + 1}) s"  # noqa: S608
        try:
            row = _row(connection, query) or ()
        except pymysql.err.OperationalError as error:
            budget = budget_spent(error, options)
            if budget is None:
                raise
            for column in lobs:
                sizes[(table, column.name)] = LobSize(None, False, budget)
            continue
        read = int(row[0] or 0) if row else 0
        whole = read <= limit
        scope = f"whole table, {read} row(s)" if whole else f"the first {limit} rows in key order"
        for column, largest in zip(lobs, row[1:], strict=False):
            sizes[(table, column.name)] = LobSize(int(largest or 0), whole, scope)
    return lambda column: sizes[(column.table, column.name)]


def _ssl_check(connection: Connection, options: PreflightOptions) -> Check:
    have_ssl = (_variable(connection, "have_ssl") or "").upper()
    ours = _uses_ssl(connection)
    return ssl_check(
        f"have_ssl={have_ssl or 'n/a'}",
        ours,
        have_ssl == "YES" or ours,
        options.ssl_mode,
        "configure ssl-cert and ssl-key on the server and restart",
    )


def _long_transaction_checks(connection: Connection, options: PreflightOptions) -> list[Check]:
    threshold = options.long_transaction_seconds
    try:
        rows = _rows(
            connection,
            "SELECT trx_mysql_thread_id, TIMESTAMPDIFF(SECOND, trx_started, NOW()), trx_rows_modified "
            "FROM information_schema.INNODB_TRX WHERE TIMESTAMPDIFF(SECOND, trx_started, NOW()) >= %s ORDER BY trx_started",
            (threshold,),
        )
    except pymysql.err.OperationalError as error:
        if _code(error) != ER.SPECIFIC_ACCESS_DENIED_ERROR:
            raise
        return [
            warn(
                "long transaction",
                "source",
                "not checked: reading information_schema.INNODB_TRX needs the PROCESS privilege",
                "run the preflight with an account holding PROCESS, or check SHOW ENGINE INNODB STATUS by hand",
            )
        ]
    checks = [
        warn(
            "long transaction",
            f"thread {thread}",
            f"open for {age}s, {modified} row(s) modified",
            "its changes reach the binlog (and DMS) only when it commits: end it before starting the task or fencing",
        )
        for thread, age, modified in rows
    ]
    return checks or [no_long_transaction(threshold)]


def _marker_check(connection: Connection, endpoint: Endpoint, tables: Sequence[TableName]) -> Check:
    if not endpoint.database:
        return block(
            "drain marker table",
            MARKER_TABLE,
            "no source database to hold it",
            "name the application database in the URL (mysql://user@host/appdb) or the secret's dbname",
        )
    marker = TableName(endpoint.database, MARKER_TABLE)
    exists = _value(
        connection,
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        (marker.schema, marker.name),
    )
    return marker_table_check(marker, bool(exists), tables, marker_ddl(endpoint.database))


# --------------------------------------------------------------------------------------
# Preflight: target


def preflight_target(endpoint: Endpoint, tables: Sequence[TableName], options: PreflightOptions) -> list[Check]:
    def spent(error: BaseException) -> str | None:
        return budget_spent(error, options)

    with preflight_session(endpoint, "target", options) as connection:
        checks = [reachable("target", server_version(connection), endpoint.host, endpoint.port)]
        present: set[TableName] = set()

        def table_checks() -> list[Check]:
            present.update(catalog(connection))
            return target_table_checks(
                tables,
                present,
                options.task.target_table_prep_mode,
                "create the schema on the target first (mysqldump --no-data from the source)",
            )

        def sequence_checks() -> list[Check]:
            counters = list_auto_increments(connection, [table for table in tables if table in present])
            return [ok("target sequences", "target", f"{len(counters)} AUTO_INCREMENT column(s) readable")]

        checks += guarded("target table", "target", options, spent, table_checks)
        checks += guarded("target sequences", "target", options, spent, sequence_checks)
        if options.reverse_replication:
            checks += guarded("reverse binlog", "target", options, spent, lambda: reverse_binlog_checks(connection, options))
    return checks


REVERSE_BINLOG = {"log_bin": "ON", "binlog_format": "ROW", "binlog_row_image": "FULL"}


def reverse_binlog_checks(connection: Connection, options: PreflightOptions) -> list[Check]:
    """cutover.reverse_replication: after the flip the reverse task reads the target's binary log, so it must be ON,
    row-based with full images, and kept for the whole rollback window (cutover.rollback_window_hours)."""
    found = {
        _as_bytes(name).lower(): _as_bytes(value).upper()
        for name, value in _rows(connection, "SHOW GLOBAL VARIABLES WHERE Variable_name IN %s", (tuple(REVERSE_BINLOG),))
    }
    settings = ", ".join(f"{name}={found.get(name, 'unset')}" for name in REVERSE_BINLOG)
    if all(found.get(name) == wanted for name, wanted in REVERSE_BINLOG.items()):
        checks = [ok("reverse binlog", "target", settings)]
    else:
        checks = [
            block(
                "reverse binlog",
                "target",
                f"{settings}: the reverse task needs log_bin=ON, binlog_format=ROW, binlog_row_image=FULL",
                "the stack's Aurora cluster parameter group sets binlog_format=ROW and binlog_row_image=FULL; "
                "binlog_format takes effect at the next reboot: reboot the writer instance after the deploy",
            )
        ]
    window = options.rollback_window_hours * 3600
    reader = f"the reverse task over the rollback window (cutover.rollback_window_hours = {options.rollback_window_hours})"
    checks.append(retention_check("reverse binlog retention", "target", binlog_retention(connection), window, reader))
    return checks


# --------------------------------------------------------------------------------------
# Schema drift (drift.schema_drift): one catalog query per side, whatever the number of tables

_DISPLAY_WIDTH = re.compile(r"^(tinyint|smallint|mediumint|int|bigint)\(\d+\)")


def _comparable_type(column_type: str, extra: str) -> str:
    """COLUMN_TYPE as both engines would agree: MySQL 8 drops integer display widths, MariaDB stores JSON as LONGTEXT."""
    found = _DISPLAY_WIDTH.sub(r"\1", column_type.strip().lower())
    found = "longtext" if found == "json" else found
    return found + (" auto_increment" if "auto_increment" in extra.lower() else "")


def table_shapes(connection: Connection, tables: Sequence[TableName]) -> dict[TableName, TableShape]:
    """Columns (name, comparable COLUMN_TYPE with auto_increment, nullability) and primary-key columns in key order."""
    wanted = set(tables)
    schemas = sorted({table.schema for table in tables})
    if not schemas:
        return {}
    rows = _rows(
        connection,
        "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE = 'YES', c.EXTRA, k.SEQ_IN_INDEX "
        "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
        "ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE' "
        "LEFT JOIN information_schema.STATISTICS k ON k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME "
        "AND k.COLUMN_NAME = c.COLUMN_NAME AND k.INDEX_NAME = 'PRIMARY' "
        "WHERE c.TABLE_SCHEMA IN %s ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION",
        (schemas,),
    )
    columns: dict[TableName, list[ColumnShape]] = {}
    keys: dict[TableName, list[tuple[int, str]]] = {}
    for schema, name, column, column_type, nullable, extra, key_position in rows:
        table = TableName(_as_bytes(schema), _as_bytes(name))
        if table not in wanted:
            continue
        column_name = _as_bytes(column)
        shape = ColumnShape(column_name, _comparable_type(_as_bytes(column_type), _as_bytes(extra or "")), bool(nullable))
        columns.setdefault(table, []).append(shape)
        if key_position is not None:
            keys.setdefault(table, []).append((int(key_position), column_name))
    return {
        table: TableShape(tuple(found), tuple(column for _, column in sorted(keys.get(table, []))))
        for table, found in columns.items()
    }


def table_sequences(connection: Connection, tables: Sequence[TableName]) -> dict[TableName, TableName]:
    """AUTO_INCREMENT is part of the column's comparable type; MariaDB SEQUENCE objects are not handled."""
    return {}


def existing_sequences(connection: Connection, names: Sequence[TableName]) -> set[TableName]:
    return set()


# --------------------------------------------------------------------------------------
# Fence


def _client_sessions(connection: Connection) -> list[tuple[int, str, str]]:
    rows = _rows(
        connection,
        "SELECT ID, USER, COALESCE(DB, '') FROM information_schema.PROCESSLIST "
        "WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN %s AND USER NOT IN %s ORDER BY ID",
        (PROTECTED_COMMANDS, PROTECTED_USERS),
    )
    return [(int(thread), _as_bytes(user), _as_bytes(database)) for thread, user, database in rows]


def _kill(connection: Connection) -> tuple[list[Session], list[str]]:
    ended: list[Session] = []
    failures: list[str] = []
    for thread, user, database in _client_sessions(connection):
        try:
            _rows(connection, f"KILL CONNECTION {thread}")
        except pymysql.err.OperationalError as error:
            if _code(error) == ER.NO_SUCH_THREAD:
                continue
            failures.append(f"session {thread} of {user}: {one_line(str(error.args[-1]))} (grant CONNECTION ADMIN)")
            continue
        ended.append(Session(thread, user, database))
    # KILL only flags the thread: wait until each has really gone, so nothing of theirs commits after us.
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    pending = {session.id for session in ended}
    while pending and time.monotonic() < deadline:
        alive = {thread for thread, _, _ in _all_sessions(connection)}
        pending &= alive
        if pending:
            time.sleep(0.05)
    failures += [f"session {thread} did not exit within {KILL_WAIT_SECONDS:.0f}s" for thread in sorted(pending)]
    return ended, failures


def _all_sessions(connection: Connection) -> list[tuple[int, str, str]]:
    return [(int(r[0]), _as_bytes(r[1]), "") for r in _rows(connection, "SELECT ID, USER FROM information_schema.PROCESSLIST")]


def _exempt_privileges(connection: Connection) -> tuple[str, ...]:
    """The privileges that write through read_only on this server (while super_read_only, if any, is off)."""
    if not _is_mariadb(connection):
        return ("SUPER", "CONNECTION_ADMIN")
    version = str(_value(connection, "SELECT VERSION()")).split("-")[0]
    major_minor = tuple(int(part) for part in version.split(".")[:2])
    return ("READ_ONLY ADMIN",) if major_minor >= (10, 11) else ("READ_ONLY ADMIN", "SUPER")


def _exempt_accounts(connection: Connection, privileges: Sequence[str]) -> dict[str, set[str]]:
    """user name -> accounts ('user'@'host') holding one of `privileges` globally."""
    accounts: dict[str, set[str]] = {}
    for (grantee,) in _rows(
        connection,
        "SELECT DISTINCT GRANTEE FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN %s",
        (tuple(privileges),),
    ):
        text = _as_bytes(grantee)
        user = text.split("@", 1)[0].strip("'")
        accounts.setdefault(user, set()).add(text)
    return accounts


def _set_read_only(connection: Connection) -> list[str]:
    """SET GLOBAL read_only = ON; when open transactions hold it up past lock_wait_timeout, end them and retry."""
    _rows(connection, f"SET SESSION lock_wait_timeout = {LOCK_WAIT_SECONDS}")
    try:
        _rows(connection, "SET GLOBAL read_only = ON")
        return []
    except pymysql.err.OperationalError as error:
        if _code(error) != ER.LOCK_WAIT_TIMEOUT:
            raise
    _, failures = _kill(connection)
    _rows(connection, "SET GLOBAL read_only = ON")
    return failures


def _read_only_state(connection: Connection) -> str:
    read_only = _variable(connection, "read_only") or "unknown"
    super_read_only = _variable(connection, "super_read_only")
    state = f"read_only={read_only}"
    return state + (f", super_read_only={super_read_only}" if super_read_only is not None else " (MariaDB: no super_read_only)")


def _prove(proof: Endpoint, database: str) -> tuple[bool, str, str | None]:
    """(proved, what happened, the refusal kind when not proved)."""
    with session(proof, "proof", autocommit=False) as connection:
        try:
            _rows(
                connection,
                f"INSERT INTO {_table(database, MARKER_TABLE)} (id, written_at) VALUES (%s, NOW(6))",  # noqa: S608
                ("tap-fence-proof-" + secrets.token_hex(8),),
            )
        except pymysql.Error as error:
            connection.rollback()
            code = _code(error)
            if code in READ_ONLY_ERRORS:
                return True, f"a fresh session of {proof.user} got: {one_line(str(error.args[-1]))}", None
            if code == ER.NO_SUCH_TABLE:
                missing = f"the proof needs the marker table, which is missing: {marker_ddl(database)}"
                return False, missing, refusal_kind("marker_table_missing")
            other = f"the proof write failed for another reason than read-only: {one_line(proof.scrub(str(error)))}"
            return False, other, refusal_kind("proof_failed")
        connection.rollback()
        wrote = f"a fresh session of {proof.user} could INSERT into {database}.{MARKER_TABLE}"
        return False, wrote, refusal_kind("proof_write_succeeded")


def xa_transactions(connection: Connection) -> list[PreparedTransaction]:
    """Prepared XA transactions (server-wide): each can still XA COMMIT on a read_only server.

    XA RECOVER names neither owner nor age; its `data` is the gtrid followed by the bqual.
    """
    found: list[PreparedTransaction] = []
    for format_id, gtrid_length, bqual_length, data in _rows(connection, "XA RECOVER"):
        raw = data if isinstance(data, bytes) else str(data).encode()
        gtrid, bqual = raw[: int(gtrid_length)], raw[int(gtrid_length) : int(gtrid_length) + int(bqual_length)]
        gid = f"X'{gtrid.hex()}',X'{bqual.hex()}',{int(format_id)}"
        found.append(PreparedTransaction(gid, "", "", "", None))
    return found


def xa_fix(transaction: PreparedTransaction) -> str:
    return (
        f"decide with its owner: XA COMMIT {transaction.gid} (its rows then commit before the marker and reach the "
        f"target) or XA ROLLBACK {transaction.gid}"
    )


def _xa_refusals(connection: Connection) -> tuple[list[PreparedTransaction], list[Refusal]]:
    try:
        prepared = xa_transactions(connection)
    except pymysql.Error as error:
        detail = f"cannot list prepared XA transactions: {one_line(str(error.args[-1] if error.args else error))}"
        fix = "grant XA_RECOVER_ADMIN (MySQL 8) to the fencing account"
        return [], [Refusal(refusal_kind("prepared_transaction"), "XA RECOVER", detail, fix)]
    refusals = [
        Refusal(
            refusal_kind("prepared_transaction"),
            transaction.gid,
            f"{transaction.description} can still XA COMMIT on the read_only source, after the drain marker",
            xa_fix(transaction) + ", then run the fence again",
        )
        for transaction in prepared
    ]
    return prepared, refusals


def fence(source: Endpoint, proof: Endpoint | None, already_read_only: bool) -> FenceProof:
    database = _marker_database(source)
    prover = proof or source
    with session(source, "source") as connection:
        ended: list[Session] = []
        failures: list[str] = []
        if already_read_only:
            seen_users = {user for _, user, _ in _client_sessions(connection)}
        else:
            failures += _set_read_only(connection)
            ended, kill_failures = _kill(connection)
            failures += kill_failures
            seen_users = {session.user for session in ended}
        # After the sessions ended: a prepared XA transaction outlives its session and commits through read_only.
        prepared, refusals = _xa_refusals(connection)
        state = _read_only_state(connection)
        super_read_only_on = "super_read_only=ON" in state
        exempt = {} if super_read_only_on else _exempt_accounts(connection, _exempt_privileges(connection))
    seen_users.add(prover.user)
    escapes = [
        f"account {account} holds a privilege that writes through read_only"
        for user in sorted(seen_users - {source.user})
        for account in sorted(exempt.get(user, ()))
    ]
    proved, proof_result, proof_kind = _prove(prover, database)
    if "read_only=ON" not in state:
        refusals.insert(
            0, Refusal(refusal_kind("not_read_only"), "source", "read_only is OFF", "fence without --already-read-only")
        )
    fix = "revoke it, or turn on super_read_only on MySQL"
    refusals += [Refusal(refusal_kind("read_only_override"), escape.split()[1], escape, fix) for escape in escapes]
    refusals += [
        Refusal(refusal_kind("session_not_ended"), "source", f"a session could not be ended: {failure}", "grant CONNECTION ADMIN")
        for failure in failures
    ]
    if proof_kind is not None:
        refusals.append(Refusal(proof_kind, prover.user, proof_result, ""))
    fenced = proved and not refusals
    action = "left unchanged (already_read_only)" if already_read_only else f"{len(ended)} application session(s) killed"
    if fenced:
        summary = f"source {source.host}:{source.port} is fenced: {state}; {action}; {proof_result}"
    else:
        problems = "; ".join(refusal.text for refusal in refusals)
        summary = f"source {source.host}:{source.port} is NOT proven read-only: {state}; {action}; {problems}"
    return FenceProof(
        ok=fenced,
        summary=summary,
        source=source.label,
        read_only=state,
        changed=not already_read_only,
        terminated=tuple(ended),
        proof_user=prover.user,
        proof_result=proof_result,
        escapes=tuple(escapes),
        prepared=tuple(prepared),
        refusals=tuple(refusals),
    )


def fence_checks(endpoint: Endpoint) -> list[Check]:
    """What `fence --confirm` would refuse about the fence itself, announced by the preflight (refusals.py)."""
    with session(endpoint, "source") as connection:
        checks: list[Check] = []
        _, refusals = _xa_refusals(connection)
        checks += [
            block("prepared transaction", r.subject, r.detail, f"{r.fix} (the fence rechecks after ending the sessions)")
            for r in refusals
        ]
        if not refusals:
            checks.append(ok("prepared transaction", "source", "no prepared XA transaction"))
        exempt = _exempt_accounts(connection, _exempt_privileges(connection))
        connected = {user for _, user, _ in _client_sessions(connection)} - {endpoint.user}
        escapes = sorted(account for user in connected for account in exempt.get(user, ()))
        checks += [
            block(
                "read-only override",
                account,
                f"connected account {account} holds a privilege that writes through read_only: the fence would refuse",
                f"REVOKE READ_ONLY ADMIN, SUPER, CONNECTION_ADMIN ON *.* FROM {account} (the ones it holds)",
            )
            for account in escapes
        ]
        if not escapes:
            checks.append(ok("read-only override", "source", "no connected application account writes through read_only"))
        privileges = _global_privileges(connection)
        everything = bool(privileges & {"ALL", "ALL PRIVILEGES"})
        missing: list[str] = []
        if not everything and not privileges & set(_exempt_privileges(connection)):
            missing.append(f"writing the marker through read_only needs {' or '.join(_exempt_privileges(connection))}")
        if not everything and not privileges & {"SUPER", "CONNECTION ADMIN", "CONNECTION_ADMIN"}:
            missing.append("ending the application's sessions needs CONNECTION ADMIN (or SUPER)")
        if missing:
            checks.append(
                block("fence privileges", endpoint.user, "; ".join(missing), f"GRANT … ON *.* TO '{endpoint.user}'@'%'")
            )
        else:
            checks.append(ok("fence privileges", endpoint.user, "may set read_only, end sessions and write the marker"))
    return checks


def unfence(source: Endpoint) -> None:
    with session(source, "source") as connection:
        if _variable(connection, "super_read_only") is not None:
            _rows(connection, "SET GLOBAL super_read_only = OFF")
        _rows(connection, "SET GLOBAL read_only = OFF")


def _marker_database(source: Endpoint) -> str:
    if not source.database:
        raise DatabaseError(
            "source: no database named for the drain marker table; put the application database in the URL "
            "(mysql://user@host:3306/appdb) or the secret's dbname"
        )
    return source.database


# --------------------------------------------------------------------------------------
# Drain marker


def _binlog_position(connection: Connection) -> str:
    for statement in ("SHOW MASTER STATUS", "SHOW BINARY LOG STATUS"):  # MySQL 8.4 removed the first
        try:
            row = _row(connection, statement)
        except pymysql.err.ProgrammingError:
            continue
        return f"{_as_bytes(row[0])}:{row[1]}" if row else "binary log off"
    return "unknown"


def write_marker(source: Endpoint) -> Marker:
    """Insert the marker with the fencing account (exempt from read_only), then close super_read_only (MySQL).

    Order: read_only is already on (no application writes), the marker commits, and only then does
    super_read_only shut out the privileged accounts too. A retry finds super_read_only on, lifts it for
    the one insert (read_only stays on throughout), and puts it back.
    """
    database = _marker_database(source)
    marker_id = "tap-" + secrets.token_hex(16)
    with session(source, "source") as connection:
        has_super_read_only = _variable(connection, "super_read_only") is not None
        if has_super_read_only and (_variable(connection, "super_read_only") or "").upper() == "ON":
            _rows(connection, "SET GLOBAL super_read_only = OFF")
        try:
            _rows(
                connection,
                f"INSERT INTO {_table(database, MARKER_TABLE)} (id, written_at) VALUES (%s, NOW(6))",  # noqa: S608
                (marker_id,),
            )
        except pymysql.Error as error:
            code = _code(error)
            if code in READ_ONLY_ERRORS:
                raise RefusedError(
                    f"source: user {source.user} cannot write while read_only is on; fence and write the marker with an "
                    "account holding READ_ONLY ADMIN (MariaDB) or CONNECTION_ADMIN / SUPER (MySQL)",
                    refusal_kind("marker_not_writable"),
                ) from None
            if code == ER.NO_SUCH_TABLE:
                raise RefusedError(
                    f"source: the drain marker table is missing; create it: {marker_ddl(database)}",
                    refusal_kind("marker_table_missing"),
                ) from None
            raise
        finally:
            if has_super_read_only and (_variable(connection, "read_only") or "").upper() == "ON":
                _rows(connection, "SET GLOBAL super_read_only = ON")
        written_at: datetime = _value(
            connection,
            f"SELECT written_at FROM {_table(database, MARKER_TABLE)} WHERE id = %s",  # noqa: S608  (quoted by _table)
            (marker_id,),
        )
        position = _binlog_position(connection)
    return Marker(marker_id, written_at, database, MARKER_TABLE, source.label, position)


def marker_visible(connection: Connection, marker: Marker) -> bool:
    try:
        query = f"SELECT 1 FROM {_table(marker.schema, marker.table)} WHERE id = %s"  # noqa: S608  (quoted by _table)
        return bool(_rows(connection, query, (marker.id,)))
    except pymysql.err.ProgrammingError as error:
        if _code(error) != ER.NO_SUCH_TABLE:
            raise
        raise marker_missing_on_target(marker.qualified_table, marker_ddl(marker.schema)) from None


# --------------------------------------------------------------------------------------
# AUTO_INCREMENT


def _fresh_statistics(connection: Connection) -> None:
    # MySQL 8 caches information_schema.TABLES.AUTO_INCREMENT for a day by default; MariaDB has no such cache.
    with contextlib.suppress(pymysql.err.OperationalError, pymysql.err.InternalError):
        _rows(connection, "SET SESSION information_schema_stats_expiry = 0")


def list_auto_increments(connection: Connection, tables: Sequence[TableName]) -> dict[SequenceKey, SequenceState]:
    """The AUTO_INCREMENT counter (next value) of each given table that has one: one query for all of them."""
    wanted = set(tables)
    schemas = sorted({table.schema for table in tables})
    if not schemas:
        return {}
    found: dict[SequenceKey, SequenceState] = {}
    for schema, name, counter, data_type, column_type, increment in _rows(
        connection,
        "SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.AUTO_INCREMENT, c.DATA_TYPE, c.COLUMN_TYPE, @@auto_increment_increment "
        "FROM information_schema.TABLES t JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA "
        "AND c.TABLE_NAME = t.TABLE_NAME AND c.EXTRA LIKE '%%auto_increment%%' WHERE t.TABLE_SCHEMA IN %s",
        (schemas,),
    ):
        table = TableName(_as_bytes(schema), _as_bytes(name))
        if table not in wanted:
            continue
        maximum = INTEGER_MAX.get(_as_bytes(data_type).lower(), INTEGER_MAX["bigint"])
        if "unsigned" in _as_bytes(column_type).lower():
            maximum = maximum * 2 + 1
        state = SequenceState(table.schema, table.name, int(counter or 1), int(increment or 1), maximum, 1, "`")
        found[state.key] = state
    return found


def read_auto_increments(endpoint: Endpoint, role: str, tables: Sequence[TableName] | None) -> dict[SequenceKey, SequenceState]:
    with session(endpoint, role) as connection:
        _fresh_statistics(connection)
        return list_auto_increments(connection, _tables_or_database(connection, endpoint, tables))


def _tables_or_database(connection: Connection, endpoint: Endpoint, tables: Sequence[TableName] | None) -> list[TableName]:
    if tables is not None:
        return list(tables)
    if not endpoint.database:
        raise DatabaseError(f"{endpoint.label}: name the database whose AUTO_INCREMENT counters to compare (…/appdb)")
    return [table for table in catalog(connection) if table.schema == endpoint.database]


def sync_auto_increments(
    target: Endpoint, source_states: Mapping[SequenceKey, SequenceState], gap: int, tables: Sequence[TableName] | None
) -> tuple[dict[SequenceKey, SequenceState], dict[SequenceKey, SequenceState]]:
    """Read every counter, raise those the plans raise, read back: (before, after).

    ALTER TABLE takes one table at a time, so every ALTER TABLE … AUTO_INCREMENT goes in ONE multi-statement
    round trip (CLIENT_MULTI_STATEMENTS, on this session only); the server still runs them one by one.
    """
    with session(target, "target", multi_statements=True) as connection:
        _fresh_statistics(connection)
        scope = _tables_or_database(connection, target, tables)
        before = list_auto_increments(connection, scope)
        alters = [
            f"ALTER TABLE {_table(*plan.source.key)} AUTO_INCREMENT = {int(plan.set_to)}"
            for plan in plans(source_states, before, gap)
            if plan.set_to is not None
        ]
        if alters:
            with connection.cursor() as cursor:
                cursor.execute(";\n".join(alters))
                while cursor.nextset():  # each statement's result, so an error in any of them is raised here
                    pass
        return before, list_auto_increments(connection, scope)


# --------------------------------------------------------------------------------------
# Reverse replication (Aurora -> source)


def binlog_position(target: Endpoint) -> str:
    """The target's current binary log coordinates as DMS's CdcStartPosition takes them: `file:position`."""
    with session(target, "target") as connection:
        row: tuple[Any, ...] | None = None
        for statement in ("SHOW BINARY LOG STATUS", "SHOW MASTER STATUS"):  # MySQL 8.4 renamed the second
            try:
                row = _row(connection, statement)
            except pymysql.Error:
                continue
            break
    if row is None:
        raise DatabaseError(
            "target: no binary log position (SHOW MASTER STATUS is empty): the reverse task needs binlog_format = ROW "
            "on Aurora (the stack's cluster parameter group sets it) and a user with REPLICATION CLIENT"
        )
    return f"{_as_bytes(row[0])}:{int(row[1])}"


def admit_reverse_writer(source: Endpoint) -> str:
    """MySQL: lift super_read_only (read_only stays ON) so the reverse task's privileged account can write.

    The marker step turned super_read_only on to shut out privileged application accounts; the reverse
    task's account needs CONNECTION_ADMIN or SUPER (MySQL) / READ_ONLY ADMIN (MariaDB) to write through
    read_only. MariaDB has no super_read_only: nothing to change.
    """
    with session(source, "source") as connection:
        value = _variable(connection, "super_read_only")
        if value is None or value.upper() != "ON":
            return f"{source.label}: read_only stays ON; the reverse task's account writes through it"
        _rows(connection, "SET GLOBAL super_read_only = OFF")
    return f"{source.label}: super_read_only lifted for the reverse task's account (read_only stays ON)"
