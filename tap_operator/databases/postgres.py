"""PostgreSQL: connection, preflight checks, write fence, drain marker and sequences (psycopg 3)."""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

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
from .refusals import refusal_kind
from .results import FenceProof, Marker, PreparedTransaction, Refusal, Session
from .sequences import Plan, SequenceKey, SequenceState, plans, quote_pair
from .shapes import ColumnShape, TableShape

Connection = psycopg.Connection[tuple[Any, ...]]
CONNECT_TIMEOUT_SECONDS = 10
TERMINATE_WAIT_MS = 5000
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
# DMS migrates these as BLOB/CLOB/NCLOB (LOB settings apply); varchar without a length, arrays and
# composite types too. Source: AWS DMS User Guide, "Source data types for PostgreSQL".
LOB_TYPES = frozenset({"text", "citext", "bytea", "json", "jsonb", "xml", "tsvector", "tsquery", "path", "polygon", "hstore"})
SERVER_LOCAL_TYPES = frozenset(
    {
        "regclass", "regproc", "regprocedure", "regoper", "regoperator", "regtype", "regnamespace", "regrole",
        "regconfig", "regdictionary", "regcollation", "xid", "xid8", "cid", "tid", "pg_lsn", "txid_snapshot", "pg_snapshot",
    }
)  # fmt: skip
LARGE_OBJECT_TYPES = frozenset({"oid", "lo"})
TRUE_WORDS = frozenset({"on", "true", "yes", "1", "t", "y"})


def marker_ddl(schema: str) -> str:
    return (
        f'CREATE TABLE "{schema}".{MARKER_TABLE} (id varchar(64) PRIMARY KEY, '
        "written_at timestamptz NOT NULL DEFAULT clock_timestamp());"
    )


# --------------------------------------------------------------------------------------
# Connections


_UNREACHABLE = (
    "connection refused",
    "timeout expired",
    "could not translate host name",
    "no route to host",
    "network is unreachable",
    "name or service not known",
)


def _describe_connect_error(endpoint: Endpoint, role: str, error: Exception) -> str:
    text = one_line(endpoint.scrub(str(error)))
    lowered = text.lower()
    where = f"{endpoint.host}:{endpoint.port}"
    # libpq reports connection failures as text only (no SQLSTATE): the first matching phrase decides.
    known = (
        (
            "authentication failed" in lowered,
            f"authentication failed for user {endpoint.user} on {where}; check the password in the URL or secret",
        ),
        (
            "no pg_hba.conf entry" in lowered,
            f"{where} refuses user {endpoint.user} from this address (pg_hba.conf); ask the DBA for an entry",
        ),
        (
            f'database "{endpoint.database.lower()}" does not exist' in lowered,
            f"database {endpoint.database} does not exist on {where}; create it or fix the database name",
        ),
        (
            f'role "{endpoint.user.lower()}" does not exist' in lowered,
            f"user {endpoint.user} does not exist on {where}; create it or fix the user name",
        ),
        (
            "server does not support ssl" in lowered,
            f"{where} does not offer SSL but sslmode={endpoint.ssl_mode}; enable ssl on the server or lower sslmode",
        ),
        (
            "certificate" in lowered,
            f"the SSL certificate of {where} failed verification ({text}); check sslrootcert and the host name",
        ),
        (
            any(reason in lowered for reason in _UNREACHABLE),
            f"cannot reach {where} ({next((r for r in _UNREACHABLE if r in lowered), '')}); check the host and port, the "
            "network path (VPN, security groups, firewall) and that the server is running",
        ),
    )
    message = next((message for matched, message in known if matched), f"cannot connect to {endpoint.label} ({text})")
    return f"{role}: {message}"


class _CountingCursor(psycopg.Cursor[tuple[Any, ...]]):
    """Counts each statement for counting.count_statements(), under the role the session was opened as."""

    role = "database"

    def execute(self, query: Any, *args: Any, **kwargs: Any) -> Self:
        text = query.as_string(self.connection) if isinstance(query, sql.Composable) else str(query)
        record(self.role, text)
        return super().execute(query, *args, **kwargs)


@functools.cache
def _cursor_class(role: str) -> type[_CountingCursor]:
    return type(f"_CountingCursor_{role}", (_CountingCursor,), {"role": role})


# A session that must write on a fenced database (the fence itself, the drain marker, unfence) opts out of the
# database's read-only default at connection start: no SET statement, so no round trip inside the fence window.
_READ_WRITE_OPTION = "-c default_transaction_read_only=off"


def connect(endpoint: Endpoint, role: str = "database", *, autocommit: bool = True, read_write: bool = False) -> Connection:
    with ca_file(endpoint) as ca_path:
        try:
            return psycopg.connect(
                options=_READ_WRITE_OPTION if read_write else "",
                host=endpoint.host,
                port=endpoint.port,
                user=endpoint.user,
                password=endpoint.password,
                dbname=endpoint.database,
                sslmode=endpoint.ssl_mode,
                sslrootcert=ca_path or "",
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                application_name=f"tap-migrate {role}",
                autocommit=autocommit,
                cursor_factory=_cursor_class(role),
            )
        except psycopg.Error as error:
            raise DatabaseError(_describe_connect_error(endpoint, role, error)) from None


@contextlib.contextmanager
def session(
    endpoint: Endpoint, role: str = "database", *, autocommit: bool = True, read_write: bool = False
) -> Iterator[Connection]:
    """A connection whose driver errors come out as DatabaseError, scrubbed of the password.

    `read_write`: the session ignores a database-level read-only default (the fence's own sessions).
    """
    connection = connect(endpoint, role, autocommit=autocommit, read_write=read_write)
    try:
        yield connection
    except psycopg.Error as error:
        raise DatabaseError(f"{role} {endpoint.label}: {one_line(endpoint.scrub(str(error)))}") from None
    finally:
        connection.close()


def _value(connection: Connection, query: str, params: Sequence[Any] | None = None) -> Any:
    row = connection.execute(query, params).fetchone()
    return None if row is None else row[0]


def _setting(connection: Connection, name: str) -> str:
    return str(_value(connection, "SELECT current_setting(%s)", (name,)))


def server_version(connection: Connection) -> str:
    return "PostgreSQL " + _setting(connection, "server_version")


# --------------------------------------------------------------------------------------
# Catalog


def catalog(connection: Connection) -> list[TableName]:
    """Ordinary and partitioned tables outside the system schemas: what a DMS selection rule can match."""
    rows = connection.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg\\_toast%%' "
        "AND n.nspname NOT LIKE 'pg\\_temp%%'",
        (list(SYSTEM_SCHEMAS),),
    ).fetchall()
    return [TableName(schema, name) for schema, name in rows]


@dataclass(frozen=True)
class _Column:
    table: TableName
    name: str
    type_name: str  # the base type's name (domains resolved)
    type_schema: str
    formatted: str  # format_type(): e.g. "character varying(20)", "numeric"
    typmod: int
    is_array: bool
    is_composite: bool
    is_enum: bool
    in_primary_key: bool

    @property
    def is_lob(self) -> bool:
        unbounded_varchar = self.type_name == "varchar" and self.typmod < 0
        return self.type_name in LOB_TYPES or unbounded_varchar or self.is_array or self.is_composite

    @property
    def declared_type(self) -> str:
        return self.formatted


def _columns(connection: Connection, tables: Sequence[TableName]) -> list[_Column]:
    if not tables:
        return []
    rows = connection.execute(
        """
        SELECT n.nspname, c.relname, a.attname, bt.typname, btn.nspname, format_type(a.atttypid, a.atttypmod),
               a.atttypmod, bt.typcategory = 'A', bt.typtype = 'c', bt.typtype = 'e',
               EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY(i.indkey))
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_type t ON t.oid = a.atttypid
        JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
        JOIN pg_namespace btn ON btn.oid = bt.typnamespace
        WHERE a.attnum > 0 AND NOT a.attisdropped AND (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
        ORDER BY n.nspname, c.relname, a.attnum
        """,
        ([t.schema for t in tables], [t.name for t in tables]),
    ).fetchall()
    return [
        _Column(TableName(r[0], r[1]), r[2], r[3], r[4], r[5], r[6], bool(r[7]), bool(r[8]), bool(r[9]), bool(r[10]))
        for r in rows
    ]


def _relation(schema: str, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


# --------------------------------------------------------------------------------------
# Preflight: source


@contextlib.contextmanager
def preflight_session(endpoint: Endpoint, role: str, options: PreflightOptions) -> Iterator[Connection]:
    """A session whose every statement has a budget: the preflight must never load or block a production source."""
    with session(endpoint, role) as connection:
        connection.execute(
            "SELECT set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false)",
            (f"{options.statement_timeout_ms}ms", f"{options.lock_timeout_ms}ms"),
        )
        yield connection


def budget_spent(error: BaseException, options: PreflightOptions) -> str | None:
    """Which budget a query ran out of, or None when the error is something else."""
    if isinstance(error, pg_errors.LockNotAvailable):
        return f"lock_timeout {options.lock_timeout_ms} ms: another session holds a conflicting lock"
    if isinstance(error, pg_errors.QueryCanceled):
        return f"statement_timeout {options.statement_timeout_ms} ms"
    return None


def preflight_source(endpoint: Endpoint, mappings_json: str, options: PreflightOptions) -> tuple[list[Check], list[TableName]]:
    """Every source check, and the tables the mappings select (for the target's checks).

    Every query runs under statement_timeout and lock_timeout; a group of checks whose query runs out of
    budget is one named warn ("not checked"), and the others still run.
    """

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
                    f"the table mappings select no table in database {endpoint.database}",
                    "fix the selection rules' schema-name / table-name (DMS matches names exactly, % and _ are wildcards)",
                )
            ]

        checks += guarded("table selection", "source", options, spent, selection)
        checks += guarded("server settings", "source", options, spent, lambda: _server_checks(connection, options))
        checks += guarded("privileges", endpoint.user, options, spent, lambda: _privilege_checks(connection, endpoint, tables))
        columns: list[_Column] = []

        def column_checks() -> list[Check]:
            columns.extend(_columns(connection, tables))
            found = _key_checks(connection, tables, columns)
            found += lob_checks(
                columns,
                options.task,
                _lob_sizes(connection, columns, options),
                options,
                "set the source endpoint's FailTasksOnLobTruncation=true so a longer value fails the task instead of "
                "being truncated",
            )
            return found + _type_checks(columns)

        checks += guarded("primary key, lob size, column type", "source", options, spent, column_checks)
        checks += guarded(
            "unlogged table, large objects", "source", options, spent, lambda: _unreplicated_checks(connection, tables)
        )
        checks += guarded("long transaction", "source", options, spent, lambda: _activity_checks(connection, options))
        checks += guarded(
            "drain marker table", "source", options, spent, lambda: [_marker_check(connection, tables, options.marker_schema)]
        )
    return checks, tables


def _server_checks(connection: Connection, options: PreflightOptions) -> list[Check]:
    checks: list[Check] = []
    wal_level = _setting(connection, "wal_level")
    if wal_level == "logical":
        checks.append(ok("wal_level", "source", "logical"))
    else:
        checks.append(
            block(
                "wal_level",
                "source",
                wal_level,
                "set wal_level = logical (RDS/Aurora: rds.logical_replication = 1 in the parameter group) and restart",
            )
        )
    needed = options.task_count + 1
    checks.append(
        _capacity_check(
            connection,
            "replication slots",
            setting="max_replication_slots",
            used_query="SELECT count(*) FROM pg_replication_slots",
            used_word="used",
            needed=needed,
            fix_tail="(restart) or drop unused slots (pg_drop_replication_slot)",
        )
    )
    checks.append(
        _capacity_check(
            connection,
            "wal senders",
            setting="max_wal_senders",
            used_query="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'",
            used_word="connected",
            needed=needed,
            fix_tail="and restart",
        )
    )
    keep = _setting(connection, "max_slot_wal_keep_size")
    if keep in ("-1", "-1MB"):
        checks.append(
            warn(
                "max_slot_wal_keep_size",
                "source",
                "-1 (unlimited)",
                "set max_slot_wal_keep_size (e.g. 50GB): a slot DMS abandons keeps WAL until the disk is full",
            )
        )
    else:
        checks.append(ok("max_slot_wal_keep_size", "source", keep))
    ssl = _setting(connection, "ssl")
    ours = bool(_value(connection, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
    checks.append(
        ssl_check(
            f"ssl={ssl}",
            ours,
            ssl == "on",
            options.ssl_mode,
            "turn ssl on (server certificate + ssl = on) or set the source's ssl_mode to none where the engine version allows it",
        )
    )
    return checks


def _capacity_check(
    connection: Connection, name: str, *, setting: str, used_query: str, used_word: str, needed: int, fix_tail: str
) -> Check:
    """Free server slots (`setting` minus what `used_query` counts) against the `needed` DMS readers."""
    maximum = int(_setting(connection, setting))
    used = int(_value(connection, used_query))
    free = maximum - used
    value = f"{free} free of {setting}={maximum} ({used} {used_word}); need {needed}"
    if free >= needed:
        return ok(name, "source", value)
    return block(name, "source", value, f"raise {setting} to at least {used + needed} {fix_tail}")


def _privilege_checks(connection: Connection, endpoint: Endpoint, tables: Sequence[TableName]) -> list[Check]:
    checks: list[Check] = []
    row = connection.execute(
        "SELECT rolreplication, rolsuper, "
        "EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication') "
        "AND pg_has_role(current_user, 'rds_replication', 'member') "
        "FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    replication, superuser, rds_replication = (bool(v) for v in row) if row else (False, False, False)
    if replication or superuser or rds_replication:
        how = "superuser" if superuser else "REPLICATION" if replication else "member of rds_replication"
        checks.append(ok("replication privilege", endpoint.user, how))
    else:
        checks.append(
            block(
                "replication privilege",
                endpoint.user,
                f"user {endpoint.user} has neither REPLICATION nor membership in rds_replication",
                f'ALTER ROLE "{endpoint.user}" REPLICATION; (RDS/Aurora: GRANT rds_replication TO "{endpoint.user}";)',
            )
        )
    # One statement for every table (a VPN round trip per table made preflight minutes long on thousands).
    refused = {
        (str(schema), str(name))
        for schema, name in connection.execute(
            "SELECT s, n FROM unnest(%s::text[], %s::text[]) AS t(s, n) "
            "WHERE NOT has_table_privilege((quote_ident(s) || '.' || quote_ident(n))::regclass, 'SELECT')",
            ([t.schema for t in tables], [t.name for t in tables]),
        ).fetchall()
    }
    missing = [table for table in tables if _pair(table) in refused]
    checks += select_privilege_checks(
        endpoint.user, tables, missing, lambda table: f'GRANT SELECT ON {_quoted(table)} TO "{endpoint.user}";'
    )
    return checks


def _pair(table: TableName) -> tuple[str, str]:
    return table.schema, table.name


def _quoted(table: TableName) -> str:
    return '"' + table.schema.replace('"', '""') + '"."' + table.name.replace('"', '""') + '"'


def _key_checks(connection: Connection, tables: Sequence[TableName], columns: Sequence[_Column]) -> list[Check]:
    identities = dict(
        ((schema, name), (identity, has_key))
        for schema, name, identity, has_key in connection.execute(
            "SELECT n.nspname, c.relname, c.relreplident, "
            "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
            ([t.schema for t in tables], [t.name for t in tables]),
        ).fetchall()
    )
    unkeyed: list[tuple[TableName, str, str]] = []
    for table in tables:
        identity, has_key = identities.get(_pair(table), ("d", False))
        if identity in {"f", "i"} or (identity == "d" and has_key):
            continue
        value = "no primary key" if identity == "d" else "REPLICA IDENTITY NOTHING"
        fix = f"add a primary key, or ALTER TABLE {_quoted(table)} REPLICA IDENTITY FULL;"
        unkeyed.append((table, f"{value}: DMS cannot apply its UPDATEs and DELETEs", fix))
    checks = primary_key_checks(tables, unkeyed, "have a key or REPLICA IDENTITY FULL")
    checks += lob_primary_key_checks(
        columns, "DMS does not support LOB primary keys: use a bounded type (e.g. varchar(n)) or another key"
    )
    return checks


LOB_TABLES_PER_STATEMENT = 100  # tables measured per statement; a batch out of budget is measured table by table


def _lob_sizes(connection: Connection, columns: Sequence[_Column], options: PreflightOptions) -> Callable[[_Column], LobSize]:
    """Each LOB column's largest value in bytes, as DMS reads it, without scanning a large table.

    One query for every table's size, then the measures batched (a round trip per table made preflight
    minutes long over a VPN on thousands of tables). A table of at most `lob_sample_pages` heap pages
    (pg_relation_size, never a stale statistic) is measured whole; a larger one through TABLESAMPLE
    SYSTEM, which reads about `lob_sample_pages` random pages. octet_length of text and bytea reads the
    TOAST header only, never the value. A batch out of budget is measured table by table, so only the
    tables that really are out of budget end as "not checked" (largest None).
    """
    by_table: dict[TableName, list[_Column]] = {}
    for column in columns:
        if column.is_lob:
            by_table.setdefault(column.table, []).append(column)
    sizes: dict[tuple[TableName, str], LobSize] = {}
    pages: dict[TableName, int] = {}
    try:
        pages = _table_pages(connection, list(by_table))
    except (pg_errors.QueryCanceled, pg_errors.LockNotAvailable):
        for table, lobs in by_table.items():  # one table locked or slow: only it is left unchecked
            try:
                pages.update(_table_pages(connection, [table]))
            except (pg_errors.QueryCanceled, pg_errors.LockNotAvailable) as error:
                spent = budget_spent(error, options) or "budget"
                sizes.update({(table, column.name): LobSize(None, False, spent) for column in lobs})
    tables = [table for table in by_table if table in pages]
    for start in range(0, len(tables), LOB_TABLES_PER_STATEMENT):
        batch = tables[start : start + LOB_TABLES_PER_STATEMENT]
        try:
            sizes.update(_measure_lobs(connection, batch, by_table, pages, options))
        except (pg_errors.QueryCanceled, pg_errors.LockNotAvailable):
            for table in batch:
                try:
                    sizes.update(_measure_lobs(connection, [table], by_table, pages, options))
                except (pg_errors.QueryCanceled, pg_errors.LockNotAvailable) as error:
                    spent = budget_spent(error, options) or "budget"
                    sizes.update({(table, column.name): LobSize(None, False, spent) for column in by_table[table]})
    return lambda column: sizes[(column.table, column.name)]


def _table_pages(connection: Connection, tables: Sequence[TableName]) -> dict[TableName, int]:
    """Heap pages of each table (a partitioned one: all its partitions), in one statement."""
    rows = connection.execute(
        # pg_partition_tree is empty for a table that is neither partitioned nor a partition.
        "SELECT s, n, coalesce((SELECT sum(pg_relation_size(p.relid)) FROM pg_partition_tree(r) p), pg_relation_size(r)) "
        "/ current_setting('block_size')::int FROM unnest(%s::text[], %s::text[]) AS t(s, n), "
        "LATERAL (SELECT (quote_ident(s) || '.' || quote_ident(n))::regclass AS r) AS c",
        ([t.schema for t in tables], [t.name for t in tables]),
    ).fetchall()
    return {TableName(str(schema), str(name)): int(size) for schema, name, size in rows}


def _measure_lobs(
    connection: Connection,
    tables: Sequence[TableName],
    by_table: Mapping[TableName, Sequence[_Column]],
    pages: Mapping[TableName, int],
    options: PreflightOptions,
) -> dict[tuple[TableName, str], LobSize]:
    """One statement: per table, an array of its LOB columns' largest sizes (whole, or on a page sample)."""
    parts = []
    scopes: dict[TableName, tuple[bool, str]] = {}
    for index, table in enumerate(tables):
        size = pages.get(table, 0)
        measures = sql.SQL(", ").join(
            (_BYTEA_SIZE if column.type_name == "bytea" else _TEXT_SIZE).format(sql.Identifier(column.name))
            for column in by_table[table]
        )
        part = sql.SQL("SELECT {}::int, ARRAY[{}]::bigint[] FROM {}").format(
            sql.Literal(index), measures, _relation(*_pair(table))
        )
        if size <= options.lob_sample_pages:
            scopes[table] = (True, f"whole table, {size} page(s)")
        else:
            percent = 100.0 * options.lob_sample_pages / size
            part = sql.SQL("{} TABLESAMPLE SYSTEM ({})").format(part, sql.SQL(f"{percent:.6f}"))
            scopes[table] = (False, f"a sample of ~{options.lob_sample_pages} of {size} pages ({percent:.2f}%)")
        parts.append(sql.SQL("({})").format(part))
    found: dict[tuple[TableName, str], LobSize] = {}
    for index, largest in connection.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall():
        table = tables[int(index)]
        whole, scope = scopes[table]
        for column, value in zip(by_table[table], largest or [], strict=False):
            found[(table, column.name)] = LobSize(int(value or 0), whole, scope)
    return found


_BYTEA_SIZE = sql.SQL("max(octet_length({}))")
_TEXT_SIZE = sql.SQL("max(octet_length({}::text))")  # json, xml, arrays…: measured as DMS reads them, as text


def _unreplicated_checks(connection: Connection, tables: Sequence[TableName]) -> list[Check]:
    """Data logical decoding never carries: UNLOGGED tables and large objects (whatever column refers to them)."""
    checks: list[Check] = []
    unlogged = connection.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relpersistence = 'u' AND (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[])) "
        "ORDER BY 1, 2",
        ([t.schema for t in tables], [t.name for t in tables]),
    ).fetchall()
    for schema, name in unlogged:
        table = TableName(schema, name)
        checks.append(
            block(
                "unlogged table",
                str(table),
                "UNLOGGED: logical decoding skips it, so the full load copies it once and no later change ever arrives",
                f"ALTER TABLE {_quoted(table)} SET LOGGED; (rewrites the table under an ACCESS EXCLUSIVE lock: "
                "plan a window), or exclude it from the mappings and move it another way",
            )
        )
    if tables and not unlogged:
        checks.append(ok("unlogged table", "source", "no selected table is UNLOGGED"))
    # pg_largeobject_metadata is readable by every role; counting stops at the cap, so it stays cheap.
    count = int(_value(connection, "SELECT count(*) FROM (SELECT 1 FROM pg_largeobject_metadata LIMIT %s) l", (_LO_CAP + 1,)))
    if count:
        shown = f"more than {_LO_CAP}" if count > _LO_CAP else str(count)
        checks.append(
            block(
                "large objects",
                "source",
                f"{shown} large object(s) in pg_largeobject: DMS does not migrate them, whatever column refers to them "
                "(oid, lo, bigint, text…); only the numbers would arrive",
                "move the data into bytea columns before the move (UPDATE … SET data = lo_get(ref), then lo_unlink), or "
                "copy the large objects out of band with their OIDs after the fence (pg_dump --blobs restores them "
                "under the same OIDs)",
            )
        )
    else:
        checks.append(ok("large objects", "source", "pg_largeobject is empty"))
    return checks


_LO_CAP = 1_000_000


def _type_checks(columns: Sequence[_Column]) -> list[Check]:
    checks: list[Check] = []
    for column in columns:
        subject = f"{column.table}.{column.name}"
        if column.type_name in LARGE_OBJECT_TYPES:
            checks.append(
                block(
                    "column type",
                    subject,
                    f"{column.formatted}: a large-object reference",
                    "DMS copies the OID number, not the large object (pg_largeobject is not migrated): move the data "
                    "into a bytea column",
                )
            )
        elif column.type_name == "numeric" and column.typmod < 0 and not column.is_array:
            checks.append(
                warn(
                    "column type",
                    subject,
                    "numeric without precision: DMS maps it to NUMERIC(28,6) and rounds digits past the 6th decimal",
                    "declare numeric(p,s), or set the source endpoint's extra connection attribute "
                    "MapUnboundedNumericAsString=true",
                )
            )
        elif column.type_name in SERVER_LOCAL_TYPES:
            checks.append(
                warn(
                    "column type",
                    subject,
                    f"{column.formatted}: a server-local identifier",
                    "its values mean nothing on the target (other OIDs / positions): store names or drop the column",
                )
            )
        elif column.type_schema != "pg_catalog" and not (column.is_enum or column.is_composite or column.is_array):
            checks.append(
                warn(
                    "column type",
                    subject,
                    f"{column.formatted}: an extension type ({column.type_schema}.{column.type_name})",
                    "install the same extension on the target first; DMS carries it as text",
                )
            )
    if not checks:
        checks.append(ok("column type", "source", f"{len(columns)} column(s), all of types DMS migrates"))
    return checks


def _activity_checks(connection: Connection, options: PreflightOptions) -> list[Check]:
    checks: list[Check] = []
    threshold = options.long_transaction_seconds
    rows = connection.execute(
        "SELECT pid, usename, datname, extract(epoch FROM now() - xact_start)::bigint, backend_xid IS NOT NULL "
        "FROM pg_stat_activity WHERE xact_start < now() - make_interval(secs => %s) AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend' ORDER BY xact_start",
        (threshold,),
    ).fetchall()
    for pid, user, database, age, writes in rows:
        value = f"pid {pid} ({user} on {database}) open for {age}s" + (" holding a transaction id" if writes else "")
        if writes:
            checks.append(
                block(
                    "long transaction",
                    f"pid {pid}",
                    value,
                    "creating the DMS replication slot waits for it to end: commit or end it "
                    f"(SELECT pg_terminate_backend({pid}))",
                )
            )
        else:
            checks.append(
                warn(
                    "long transaction",
                    f"pid {pid}",
                    value,
                    "it holds back vacuum and the slot's catalog horizon: end it before starting the task",
                )
            )
    if not rows:
        checks.append(no_long_transaction(threshold))
    prepared = connection.execute(
        "SELECT gid, owner, database, prepared::text FROM pg_prepared_xacts ORDER BY prepared"
    ).fetchall()
    for gid, owner, database, prepared_at in prepared:
        checks.append(
            block(
                "prepared transaction",
                gid,
                f"prepared by {owner} on {database} at {prepared_at}",
                f"slot creation waits for it, and the fence refuses it (it rechecks: COMMIT PREPARED writes through "
                f"read-only): COMMIT PREPARED '{gid}' or ROLLBACK PREPARED '{gid}'",
            )
        )
    if not prepared:
        checks.append(ok("prepared transaction", "source", "none"))
    return checks


def _marker_check(connection: Connection, tables: Sequence[TableName], schema: str) -> Check:
    marker = TableName(schema, MARKER_TABLE)
    exists = _value(connection, "SELECT to_regclass(%s) IS NOT NULL", (_relation(schema, MARKER_TABLE).as_string(connection),))
    return marker_table_check(marker, bool(exists), tables, marker_ddl(schema))


# --------------------------------------------------------------------------------------
# Preflight: target


def preflight_target(endpoint: Endpoint, tables: Sequence[TableName], options: PreflightOptions) -> list[Check]:
    def spent(error: BaseException) -> str | None:
        return budget_spent(error, options)

    with preflight_session(endpoint, "target", options) as connection:
        checks = [reachable("target", server_version(connection), endpoint.host, endpoint.port)]
        checks += guarded(
            "target table",
            "target",
            options,
            spent,
            lambda: target_table_checks(
                tables,
                set(catalog(connection)),
                options.task.target_table_prep_mode,
                "create the schema on the target first (pg_dump --schema-only from the source)",
            ),
        )
        try:
            sequences = list_sequences(connection)
        except psycopg.Error as error:
            budget = spent(error)
            if budget is not None:
                checks.append(not_checked("target sequences", "target", budget, options))
            else:
                checks.append(
                    block(
                        "target sequences",
                        "target",
                        f"cannot read sequences: {one_line(endpoint.scrub(str(error)))}",
                        f'GRANT SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA <schema> TO "{endpoint.user}";',
                    )
                )
            connection.rollback()
        else:
            checks.append(ok("target sequences", "target", f"{len(sequences)} sequence(s) readable"))
    return checks


# --------------------------------------------------------------------------------------
# Schema drift (drift.schema_drift): one catalog query per question and side, whatever the number of tables


def table_shapes(connection: Connection, tables: Sequence[TableName]) -> dict[TableName, TableShape]:
    """Columns (name, format_type, nullability) in order and primary-key columns in key order, of the tables that exist."""
    if not tables:
        return {}
    rows = connection.execute(
        """
        SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
               array_position(i.indkey::int2[], a.attnum)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
        WHERE c.relkind IN ('r', 'p') AND (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
        ORDER BY n.nspname, c.relname, a.attnum
        """,
        ([t.schema for t in tables], [t.name for t in tables]),
    ).fetchall()
    columns: dict[TableName, list[ColumnShape]] = {}
    keys: dict[TableName, list[tuple[int, str]]] = {}
    for schema, name, column, type_name, nullable, key_position in rows:
        table = TableName(schema, name)
        columns.setdefault(table, []).append(ColumnShape(column, str(type_name), bool(nullable)))
        if key_position is not None:
            keys.setdefault(table, []).append((int(key_position), column))
    return {
        table: TableShape(tuple(found), tuple(column for _, column in sorted(keys.get(table, []))))
        for table, found in columns.items()
    }


def table_sequences(connection: Connection, tables: Sequence[TableName]) -> dict[TableName, TableName]:
    """Sequence -> table, for every sequence a selected table uses: serial and identity (owned) and nextval() defaults."""
    if not tables:
        return {}
    rows = connection.execute(
        """
        WITH wanted AS (
            SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
        ), uses AS (
            SELECT d.objid AS sequence, d.refobjid AS owner FROM pg_depend d
            WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
              AND d.refobjid IN (SELECT oid FROM wanted)
            UNION
            SELECT d.refobjid, ad.adrelid FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
            WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
              AND ad.adrelid IN (SELECT oid FROM wanted)
        )
        SELECT sn.nspname, s.relname, tn.nspname, t.relname FROM uses
        JOIN pg_class s ON s.oid = uses.sequence AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
        JOIN pg_class t ON t.oid = uses.owner JOIN pg_namespace tn ON tn.oid = t.relnamespace
        ORDER BY 1, 2, 3, 4
        """,
        ([t.schema for t in tables], [t.name for t in tables]),
    ).fetchall()
    return {TableName(schema, name): TableName(table_schema, table) for schema, name, table_schema, table in rows}


def existing_sequences(connection: Connection, names: Sequence[TableName]) -> set[TableName]:
    if not names:
        return set()
    rows = connection.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'S' AND (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
        ([t.schema for t in names], [t.name for t in names]),
    ).fetchall()
    return {TableName(schema, name) for schema, name in rows}


# --------------------------------------------------------------------------------------
# Fence


def _client_sessions(connection: Connection, database: str) -> list[tuple[int, str, str]]:
    """Ordinary client sessions on the database: never walsenders, a slot's connection, or our own."""
    return [
        (int(pid), str(user or ""), str(application or ""))
        for pid, user, application in connection.execute(
            "SELECT pid, usename, application_name FROM pg_stat_activity "
            "WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
            "AND pid NOT IN (SELECT active_pid FROM pg_replication_slots WHERE active_pid IS NOT NULL) ORDER BY pid",
            (database,),
        ).fetchall()
    ]


def _hidden_sessions(connection: Connection, database: str) -> list[str]:
    """Sessions on the database whose kind this role cannot see (backend_type is NULL without pg_read_all_stats).

    They may be application sessions opened before the fence (still writable): never assumed harmless.
    """
    rows = connection.execute(
        "SELECT pid, usename FROM pg_stat_activity WHERE datname = %s AND backend_type IS NULL AND pid <> pg_backend_pid() "
        "AND pid NOT IN (SELECT active_pid FROM pg_replication_slots WHERE active_pid IS NOT NULL) ORDER BY pid",
        (database,),
    ).fetchall()
    return [_hidden_text(pid, user) for pid, user in rows]


def _hidden_text(pid: int, user: str | None) -> str:
    return f"session {pid} of {user}: its kind is hidden from this role, so it was not ended (grant pg_read_all_stats)"


# Processes on a database that the fence neither ends nor needs to: walsenders only read, autovacuum writes no
# row, a parallel worker serves a leader that is ended with it. Any other background process started before the
# fence keeps the read-write default it started with (checked: a subscription's apply worker keeps applying).
_HARMLESS_BACKENDS = ("client backend", "walsender", "autovacuum worker", "autovacuum launcher", "parallel worker")


def background_writers(connection: Connection, database: str) -> list[tuple[int, str, str]]:
    """(pid, backend type, user) of background processes on the database that can still write once it is fenced."""
    return [
        (int(pid), str(kind), str(user or ""))
        for pid, kind, user in connection.execute(
            "SELECT pid, backend_type, usename FROM pg_stat_activity WHERE datname = %s AND backend_type IS NOT NULL "
            "AND backend_type <> ALL(%s) AND pid <> pg_backend_pid() ORDER BY pid",
            (database, list(_HARMLESS_BACKENDS)),
        ).fetchall()
    ]


def background_fix(database: str) -> str:
    return (
        f"stop it before the fence: ALTER SUBSCRIPTION … DISABLE for a subscription into {database} (its changes would "
        "land after the marker and never reach the target), unschedule pg_cron jobs, stop pglogical; or "
        "SELECT pg_terminate_backend(<pid>) if it restarts read-only"
    )


_CLIENT_SESSIONS = (
    "FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
    "AND pid NOT IN (SELECT active_pid FROM pg_replication_slots WHERE active_pid IS NOT NULL)"
)


def _terminate(connection: Connection, database: str) -> tuple[list[Session], list[str]]:
    """End every client session in one statement (one round trip inside the fence window, whatever their number).

    The same statement names the sessions whose kind this role cannot see (backend_type NULL, without
    pg_read_all_stats): they are not ended, and never assumed harmless. A session this role may not end (a
    superuser's, without pg_signal_backend) fails the whole statement; then they are ended one by one, so each
    one that cannot be is named.
    """
    try:
        rows = connection.execute(
            "SELECT pid, usename, application_name, backend_type IS NULL, "
            "CASE WHEN backend_type = 'client backend' THEN pg_terminate_backend(pid, %s) END "
            "FROM pg_stat_activity WHERE datname = %s AND (backend_type = 'client backend' OR backend_type IS NULL) "
            "AND pid <> pg_backend_pid() "
            "AND pid NOT IN (SELECT active_pid FROM pg_replication_slots WHERE active_pid IS NOT NULL) ORDER BY pid",
            (TERMINATE_WAIT_MS, database),
        ).fetchall()
    except pg_errors.InsufficientPrivilege:
        ended, one_by_one = _terminate_each(connection, database)
        return ended, _hidden_sessions(connection, database) + one_by_one
    failures = [_hidden_text(pid, user) for pid, user, _, hidden, _ in rows if hidden]
    ended = [Session(int(pid), str(user or ""), str(app or "")) for pid, user, app, hidden, done in rows if done]
    for pid, user, _, hidden, done in rows:
        if not hidden and not done and _value(connection, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)):
            failures.append(f"session {pid} of {user} did not exit within {TERMINATE_WAIT_MS // 1000}s")
    return ended, failures


def _terminate_each(connection: Connection, database: str) -> tuple[list[Session], list[str]]:
    ended: list[Session] = []
    failures: list[str] = []
    for pid, user, application in _client_sessions(connection, database):
        try:
            # PostgreSQL 14+: waits (up to the timeout) until the backend has really exited.
            done = _value(connection, "SELECT pg_terminate_backend(%s, %s)", (pid, TERMINATE_WAIT_MS))
        except pg_errors.InsufficientPrivilege:
            failures.append(f"session {pid} of {user}: permission denied (grant pg_signal_backend, or use a superuser)")
            continue
        if done:
            ended.append(Session(pid, user, application))
        elif _value(connection, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)):
            failures.append(f"session {pid} of {user} did not exit within {TERMINATE_WAIT_MS // 1000}s")
    return ended, failures


def prepared_transactions(connection: Connection, database: str | None = None) -> list[PreparedTransaction]:
    """Pending two-phase transactions (of one database, or all): each can still COMMIT PREPARED on a read-only server."""
    rows = connection.execute(
        "SELECT gid, owner, database, prepared, extract(epoch FROM now() - prepared)::bigint FROM pg_prepared_xacts "
        "WHERE %s::text IS NULL OR database = %s ORDER BY prepared",
        (database, database),
    ).fetchall()
    return _prepared_from(rows)


def _prepared_from(rows: Sequence[Sequence[Any]]) -> list[PreparedTransaction]:
    return [
        PreparedTransaction(
            str(gid), str(owner), str(name), prepared if isinstance(prepared, str) else prepared.isoformat(), int(age)
        )
        for gid, owner, name, prepared, age in rows
    ]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def prepared_fix(transaction: PreparedTransaction) -> str:
    gid = _literal(transaction.gid)
    return (
        f"decide with its owner {transaction.owner}, connected to database {transaction.database}: COMMIT PREPARED {gid} "
        f"(its rows then commit before the marker and reach the target) or ROLLBACK PREPARED {gid}"
    )


def _read_only_escapes(connection: Connection, database: str) -> list[tuple[str, str]]:
    """(role, description) of role and role-in-database settings that turn default_transaction_read_only off."""
    rows = connection.execute(
        "SELECT r.rolname, s.setdatabase <> 0, cfg FROM pg_db_role_setting s "
        "JOIN pg_roles r ON r.oid = s.setrole CROSS JOIN LATERAL unnest(s.setconfig) AS cfg "
        "WHERE s.setrole <> 0 AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = %s)) "
        "AND cfg LIKE 'default\\_transaction\\_read\\_only=%%' ORDER BY r.rolname",
        (database,),
    ).fetchall()
    return _escapes_from(rows, database)


def _escapes_from(rows: Sequence[Sequence[Any]], database: str) -> list[tuple[str, str]]:
    escapes: list[tuple[str, str]] = []
    for role, in_database, config in rows:
        value = str(config).split("=", 1)[1]
        if value.strip().lower() not in TRUE_WORDS:
            scope = f"in database {database}" if in_database else "on every database"
            escapes.append((str(role), f"role {role} overrides it {scope} (default_transaction_read_only={value})"))
    return escapes


# The proof's write, in one statement (one round trip inside the fence window): a DO block inserts a row and,
# when the insert is allowed, raises this SQLSTATE carrying the session's read-only setting, so nothing commits.
_WRITE_SUCCEEDED = "TAP01"


def _proof_statement(schema: str) -> sql.Composed:
    tag = "$tap_proof_" + secrets.token_hex(6) + "$"  # a random dollar-quote tag: no identifier can close it
    return sql.SQL(
        "DO {tag} BEGIN INSERT INTO {marker} (id, written_at) VALUES ({id}, clock_timestamp()); "
        "RAISE EXCEPTION USING ERRCODE = {code}, MESSAGE = current_setting('default_transaction_read_only'); END {tag}"
    ).format(
        tag=sql.SQL(tag),
        marker=_relation(schema, MARKER_TABLE),
        id=sql.Literal("tap-fence-proof-" + secrets.token_hex(8)),
        code=sql.Literal(_WRITE_SUCCEEDED),
    )


def _prove(proof: Endpoint, schema: str) -> tuple[bool, str, str | None]:
    """A fresh ordinary session tries to write; only a read-only error proves the fence. Nothing is ever committed.

    Returns (proved, what happened, the refusal kind when not proved).
    """
    with session(proof, "proof") as connection:
        try:
            connection.execute(_proof_statement(schema))
        except pg_errors.ReadOnlySqlTransaction as error:
            return True, f"a fresh session of {proof.user} got: {one_line(str(error))}", None
        except pg_errors.UndefinedTable:
            missing = f"the proof needs the marker table, which is missing: {marker_ddl(schema)}"
            return False, missing, refusal_kind("marker_table_missing")
        except psycopg.Error as error:
            if error.sqlstate != _WRITE_SUCCEEDED:
                other = f"the proof write failed for another reason than read-only: {one_line(proof.scrub(str(error)))}"
                return False, other, refusal_kind("proof_failed")
            effective = error.diag.message_primary or "?"
        else:  # a DO block that returns normally cannot happen: its insert either fails or raises
            effective = "?"
        return (
            False,
            (
                f"a fresh session of {proof.user} (default_transaction_read_only={effective}) could INSERT into "
                f"{schema}.{MARKER_TABLE}"
            ),
            refusal_kind("proof_write_succeeded"),
        )


# Everything the fence reads once the sessions ended, in one statement (one round trip inside the fence window):
# pending prepared transactions, background writers, role settings that override read-only, the database's own.
_AFTER_THE_FENCE = """
SELECT
  (SELECT coalesce(json_agg(json_build_array(gid, owner, database, prepared,
                                             extract(epoch FROM now() - prepared)::bigint) ORDER BY prepared), '[]')
     FROM pg_prepared_xacts WHERE database = %(db)s),
  (SELECT coalesce(json_agg(json_build_array(pid, backend_type, usename) ORDER BY pid), '[]')
     FROM pg_stat_activity WHERE datname = %(db)s AND backend_type IS NOT NULL
      AND backend_type <> ALL(%(harmless)s) AND pid <> pg_backend_pid()),
  (SELECT coalesce(json_agg(json_build_array(r.rolname, s.setdatabase <> 0, cfg) ORDER BY r.rolname), '[]')
     FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole CROSS JOIN LATERAL unnest(s.setconfig) AS cfg
    WHERE s.setrole <> 0 AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = %(db)s))
      AND cfg LIKE 'default\\_transaction\\_read\\_only=%%'),
  (SELECT cfg FROM pg_db_role_setting s CROSS JOIN LATERAL unnest(s.setconfig) AS cfg
    WHERE s.setrole = 0 AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = %(db)s)
      AND cfg LIKE 'default\\_transaction\\_read\\_only=%%' LIMIT 1)
"""


@dataclass(frozen=True)
class _AfterTheFence:
    prepared: list[PreparedTransaction]
    workers: list[tuple[int, str, str]]
    escapes: list[tuple[str, str]]
    setting: str | None


def _after_the_fence(connection: Connection, database: str) -> _AfterTheFence:
    row = connection.execute(_AFTER_THE_FENCE, {"db": database, "harmless": list(_HARMLESS_BACKENDS)}).fetchone()
    assert row is not None  # a SELECT of scalar subqueries always returns one row
    prepared, workers, escapes, setting = row
    return _AfterTheFence(
        _prepared_from(prepared),
        [(int(pid), str(kind), str(user or "")) for pid, kind, user in workers],
        _escapes_from(escapes, database),
        None if setting is None else str(setting).split("=", 1)[1],
    )


def fence(source: Endpoint, proof: Endpoint | None, already_read_only: bool, marker_schema: str) -> FenceProof:
    database = source.database
    prover = proof or source
    # read_write: the fencing session itself must be able to (re)fence a database that is already read-only.
    with session(source, "source", read_write=True) as connection:
        remaining: list[tuple[int, str, str]] = []
        failures: list[str] = []
        ended: list[Session] = []
        if already_read_only:
            remaining = _client_sessions(connection, database)
            failures = _hidden_sessions(connection, database)
        else:
            connection.execute(
                sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(sql.Identifier(database))
            )
            ended, failures = _terminate(connection, database)
        # After the sessions ended: a prepared transaction outlives its session and commits through read-only.
        after = _after_the_fence(connection, database)
        prepared, workers, escapes, setting = after.prepared, after.workers, after.escapes, after.setting
    proved, proof_result, proof_kind = _prove(prover, marker_schema)
    state = f"database {database} has default_transaction_read_only={setting or 'unset'}"
    refusals = _fence_refusals(database, escapes, prepared, failures, remaining)
    refusals += [
        Refusal(
            refusal_kind("background_writer"),
            f"pid {pid}",
            f"{kind} (pid {pid}, {user}) started before the fence and can still write",
            background_fix(database),
        )
        for pid, kind, user in workers
    ]
    if proof_kind is not None:
        refusals.append(Refusal(proof_kind, prover.user, proof_result, ""))
    problems: list[str] = []
    if escapes:
        roles = ", ".join(sorted({role for role, _ in escapes}))
        problems.append("but " + "; ".join(text for _, text in escapes) + f"; sessions of {roles} can still write")
    problems += [refusal.text for refusal in refusals if refusal.kind not in ("read_only_override", "proof_write_succeeded")]
    if proof_kind == "proof_write_succeeded":
        problems.append(proof_result)
    fenced = proved and not refusals
    action = "left unchanged (already_read_only)" if already_read_only else f"{len(ended)} application session(s) terminated"
    if fenced:
        summary = f"source {database} is fenced: {state}; {action}; {proof_result}"
    else:
        detail = "; ".join(problems)
        joiner = " " if detail.startswith("but ") else "; "
        summary = f"source {database} is NOT proven read-only: {state}{joiner}{detail}; {action}"
    return FenceProof(
        ok=fenced,
        summary=summary,
        source=source.label,
        read_only=state,
        changed=not already_read_only,
        terminated=tuple(ended),
        proof_user=prover.user,
        proof_result=proof_result,
        escapes=tuple(text for _, text in escapes),
        prepared=tuple(prepared),
        refusals=tuple(refusals),
    )


def _fence_refusals(
    database: str,
    escapes: Sequence[tuple[str, str]],
    prepared: Sequence[PreparedTransaction],
    failures: Sequence[str],
    remaining: Sequence[tuple[int, str, str]],
) -> list[Refusal]:
    """Each way the fenced database can still change, found after fencing, as a refusal naming it and its fix."""
    refusals = [
        Refusal(
            refusal_kind("read_only_override"),
            role,
            text,
            f'ALTER ROLE "{role}" IN DATABASE "{database}" RESET default_transaction_read_only (or ALTER ROLE … RESET)',
        )
        for role, text in escapes
    ]
    refusals += [
        Refusal(
            refusal_kind("prepared_transaction"),
            transaction.gid,
            f"{transaction.description} can still COMMIT PREPARED on the read-only source, after the drain marker",
            prepared_fix(transaction) + ", then run the fence again",
        )
        for transaction in prepared
    ]
    refusals += [
        Refusal(
            refusal_kind("session_not_ended"),
            "source",
            f"a session that could not be ended may still write: {failure}",
            "fence with a superuser or a member of pg_signal_backend",
        )
        for failure in failures
    ]
    if remaining:
        who = ", ".join(f"{pid} ({user})" for pid, user, _ in remaining[:10])
        refusals.append(
            Refusal(
                refusal_kind("still_connected"),
                "source",
                f"{len(remaining)} application session(s) are still connected ({who}); sessions opened before the database "
                "became read-only can still write",
                "end them, or fence without already_read_only",
            )
        )
    return refusals


def fence_checks(endpoint: Endpoint) -> list[Check]:
    """What `fence --confirm` would refuse about the fence itself, announced by the preflight (refusals.py).

    Prepared transactions are the preflight's "prepared transaction" check (in the activity checks).
    """
    database = endpoint.database
    with session(endpoint, "source") as connection:
        checks: list[Check] = []
        for role, text in _read_only_escapes(connection, database):
            checks.append(
                block(
                    "read-only override",
                    role,
                    f"{text}: the fence would make the database read-only, but sessions of {role} could still write",
                    f'ALTER ROLE "{role}" IN DATABASE "{database}" RESET default_transaction_read_only; '
                    f'(a role-wide setting: ALTER ROLE "{role}" RESET default_transaction_read_only;)',
                )
            )
        if not checks:
            checks.append(ok("read-only override", "source", "no role overrides default_transaction_read_only"))
        workers = background_writers(connection, database)
        checks += [
            block(
                "background writers",
                f"pid {pid}",
                f"{kind} of {user}: the fence cannot stop it, and it keeps writing into the fenced database",
                background_fix(database),
            )
            for pid, kind, user in workers
        ]
        if not workers:
            checks.append(ok("background writers", "source", "no background process writes into the database"))
        superuser, owner, signaller, reader = connection.execute(
            "SELECT r.rolsuper, pg_has_role(current_user, d.datdba, 'USAGE'), "
            "pg_has_role(current_user, 'pg_signal_backend', 'USAGE'), pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') "
            "FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = %s",
            (database,),
        ).fetchone() or (False, False, False, False)
        missing: list[str] = []
        if not (superuser or owner):
            missing.append(f"ALTER DATABASE needs the owner of {database} or a superuser")
        if not (superuser or signaller):
            missing.append("ending the application's sessions needs pg_signal_backend")
        if not (superuser or reader):
            missing.append("telling application sessions from replication ones needs pg_read_all_stats")
        elif not superuser:
            supers = connection.execute(
                "SELECT count(*) FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid WHERE a.datname = %s "
                "AND a.backend_type = 'client backend' AND r.rolsuper AND a.pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
            if supers and supers[0]:
                missing.append(f"{supers[0]} superuser session(s) on {database}: only a superuser can end them")
        if missing:
            checks.append(
                block(
                    "fence privileges",
                    endpoint.user,
                    "; ".join(missing),
                    f'fence with a superuser, or GRANT pg_signal_backend, pg_read_all_stats TO "{endpoint.user}" and make '
                    "it the database owner (and keep superusers off the application's connections)",
                )
            )
        else:
            how = "superuser" if superuser else "database owner with pg_signal_backend and pg_read_all_stats"
            checks.append(ok("fence privileges", endpoint.user, how))
    return checks


def unfence(source: Endpoint) -> None:
    """Writable again (rollback, tests): remove the database-level default; existing sessions keep theirs until they reconnect."""
    with session(source, "source", read_write=True) as connection:
        connection.execute(
            sql.SQL("ALTER DATABASE {} RESET default_transaction_read_only").format(sql.Identifier(source.database))
        )


# --------------------------------------------------------------------------------------
# Drain marker


def write_marker(source: Endpoint, marker_schema: str) -> Marker:
    """One statement on the fenced source: the session opts out of the read-only default at connection start.

    The position is the source's WAL insert position as the marker row was written (its commit follows it).
    """
    marker_id = "tap-" + secrets.token_hex(16)
    with session(source, "source", read_write=True) as connection:
        try:
            row = connection.execute(
                sql.SQL(
                    "INSERT INTO {} (id, written_at) VALUES (%s, clock_timestamp()) "
                    "RETURNING written_at, pg_current_wal_insert_lsn()::text"
                ).format(_relation(marker_schema, MARKER_TABLE)),
                (marker_id,),
            ).fetchone()
        except pg_errors.UndefinedTable:
            raise RefusedError(
                f"source: the drain marker table is missing; create it: {marker_ddl(marker_schema)}",
                refusal_kind("marker_table_missing"),
            ) from None
    assert row is not None  # INSERT … RETURNING of one row returns it
    written_at: datetime = row[0]
    return Marker(marker_id, written_at, marker_schema, MARKER_TABLE, source.label, str(row[1]))


def marker_visible(connection: Connection, marker: Marker) -> bool:
    try:
        query = sql.SQL("SELECT 1 FROM {} WHERE id = %s").format(_relation(marker.schema, marker.table))
        return connection.execute(query, (marker.id,)).fetchone() is not None
    except pg_errors.UndefinedTable:
        raise marker_missing_on_target(marker.qualified_table, marker_ddl(marker.schema)) from None


# --------------------------------------------------------------------------------------
# Sequences


# Every sequence and its state in ONE statement, whatever their number. pg_sequences lists them with their
# bounds and, for a sequence already called, its last_value (the same tuple value `SELECT last_value FROM seq`
# reads): then is_called is true. Only where it is NULL (never called, set with is_called = false, or not
# readable by this role) is the sequence read itself, server-side through query_to_xml, which costs a query
# plan per sequence (about 0.2 ms each). A sequence the session may not read yields NULL instead of failing.
_READ_SEQUENCES = """
SELECT s.schemaname, s.sequencename, s.increment_by, s.min_value, s.max_value, s.last_value,
       CASE WHEN s.last_value IS NULL AND has_sequence_privilege(r.oid, 'SELECT')
            THEN query_to_xml(format('SELECT last_value, is_called FROM %%I.%%I', s.schemaname, s.sequencename),
                              false, true, '')::text END,
       has_sequence_privilege(r.oid, 'UPDATE')
FROM pg_sequences s
CROSS JOIN LATERAL (SELECT format('%%I.%%I', s.schemaname, s.sequencename)::regclass::oid AS oid) r
WHERE s.schemaname <> ALL(%s)
ORDER BY s.schemaname, s.sequencename
"""
_XML_LAST_VALUE = re.compile(r"<last_value>(-?\d+)</last_value>")
_XML_IS_CALLED = re.compile(r"<is_called>(true|false)</is_called>")
# Every wanted next value set in ONE statement (regclass resolves each quoted name). Set as "called" one
# increment before it where that is within the bounds (computed in numeric: no bigint overflow at the edges),
# so the read-back takes pg_sequences' fast path; at a bound, as "not called" on the value itself. Either
# way nextval returns exactly next_value.
_SET_SEQUENCES = """
SELECT CASE WHEN w.next_value::numeric - s.seqincrement BETWEEN s.seqmin AND s.seqmax
            THEN setval(w.relation::regclass, (w.next_value::numeric - s.seqincrement)::bigint, true)
            ELSE setval(w.relation::regclass, w.next_value, false) END
FROM unnest(%s::text[], %s::bigint[]) AS w(relation, next_value)
JOIN pg_sequence s ON s.seqrelid = w.relation::regclass
"""


def list_sequences(connection: Connection) -> dict[SequenceKey, SequenceState]:
    """Every sequence (serial, identity and free-standing ones) outside the system schemas, with its next value."""
    found: dict[SequenceKey, SequenceState] = {}
    unreadable: list[str] = []
    for schema, name, increment, min_value, max_value, called_value, xml, can_update in connection.execute(
        _READ_SEQUENCES, (list(SYSTEM_SCHEMAS),)
    ).fetchall():
        if called_value is not None:
            next_value = int(called_value) + int(increment)
        else:
            last_value = _XML_LAST_VALUE.search(xml or "")
            is_called = _XML_IS_CALLED.search(xml or "")
            if last_value is None or is_called is None:
                unreadable.append(quote_pair(schema, name))
                continue
            # is_called = false (fresh, or setval(..., false)): nextval returns last_value itself.
            value = int(last_value.group(1))
            next_value = value + int(increment) if is_called.group(1) == "true" else value
        state = SequenceState(schema, name, next_value, int(increment), int(max_value), int(min_value), '"', bool(can_update))
        found[state.key] = state
    if unreadable:
        # A driver error, so that session() words it with the endpoint and preflight_target reports it as a block.
        raise pg_errors.InsufficientPrivilege(
            f"permission denied: cannot read {len(unreadable)} sequence(s): {', '.join(unreadable[:10])}; "
            "GRANT SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA <schema> TO <this user>"
        )
    return found


def _listed(connection: Connection, endpoint: Endpoint, role: str) -> dict[SequenceKey, SequenceState]:
    try:
        return list_sequences(connection)
    except pg_errors.InsufficientPrivilege as error:
        message = f"{role} {endpoint.label}: {one_line(str(error))}"
        raise RefusedError(message, refusal_kind("sequence_unreadable")) from None


def read_sequences(endpoint: Endpoint, role: str) -> dict[SequenceKey, SequenceState]:
    with session(endpoint, role) as connection:
        return _listed(connection, endpoint, role)


def set_sequences(connection: Connection, plans: Sequence[Plan]) -> None:
    """One setval statement for every plan that has a value to set (the plans only ever move a sequence forward)."""
    chosen = [(plan.source.key, plan.set_to) for plan in plans if plan.set_to is not None]
    if not chosen:
        return
    relations = [_relation(*key).as_string(connection) for key, _ in chosen]
    connection.execute(_SET_SEQUENCES, (relations, [value for _, value in chosen])).fetchall()


def sync_target_sequences(
    target: Endpoint, source_states: Mapping[SequenceKey, SequenceState], gap: int
) -> tuple[dict[SequenceKey, SequenceState], dict[SequenceKey, SequenceState]]:
    """On the target, in one session: read every sequence, set those the plans raise, read back. Returns (before, after).

    Three statements whatever the number of sequences: read, set, read back.
    """
    # The side being raised may be fenced (a writer rollback syncs Aurora's sequences back to the fenced
    # source): this maintenance session opts out of the read-only default, as the marker's session does.
    with session(target, "target", read_write=True) as connection:
        before = _listed(connection, target, "target")
        set_sequences(connection, plans(source_states, before, gap))
        return before, list_sequences(connection)


# --------------------------------------------------------------------------------------
# Reverse replication (Aurora -> source) position


def create_reverse_slot(target: Endpoint, slot: str, plugin: str) -> str:
    """Create the reverse task's logical slot on the target and return its start LSN.

    Called after the drain, with the forward task stopped and before the writer flips: nothing after
    this position is a forward-applied change, and every application write on the target comes after
    it. An inactive slot of the same name is left from an earlier attempt: its position is older (it
    would replay forward-applied changes back into the source), so it is dropped and created again.
    """
    with session(target, "target") as connection:
        existing = connection.execute(
            "SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = %s", (slot,)
        ).fetchone()
        if existing is not None:
            if existing[0]:
                raise DatabaseError(
                    f"target: replication slot {slot} is in use (pid {existing[1]}): the reverse task still runs "
                    "from an earlier position; stop it first"
                )
            connection.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
        try:
            lsn = _value(connection, "SELECT lsn::text FROM pg_create_logical_replication_slot(%s, %s)", (slot, plugin))
        except psycopg.Error as error:
            raise DatabaseError(
                f"target: cannot create the reverse replication slot {slot}: {one_line(target.scrub(str(error)))} "
                "(needs wal_level = logical, a free replication slot and the rds_replication role)"
            ) from None
    return str(lsn)


def drop_reverse_slot(target: Endpoint, slot: str) -> str:
    """Drop the reverse slot once its task stopped, so the target does not keep WAL for it."""
    with session(target, "target") as connection:
        existing = connection.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)).fetchone()
        if existing is None:
            return f"replication slot {slot} was already gone"
        if existing[0]:
            return f"replication slot {slot} is still in use: drop it once its task stopped (pg_drop_replication_slot)"
        connection.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    return f"replication slot {slot} dropped on {target.label}"
