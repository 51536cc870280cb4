"""MySQL/MariaDB side of `compare`: a read-only, time-bounded session, table shapes, keyset chunks and their checksums.

A chunk's checksum is computed by the server: COUNT(*) and the BIT_XOR of the first 64 bits of
MD5(CONCAT_WS('#', columns..., NULL flags)) (order-independent; rows are unique by their primary key, so none
cancels another). The session's time_zone is UTC, so TIMESTAMP columns print the same on both sides.
Composite-key ranges are written as OR-expanded comparisons, which both optimizers turn into index ranges.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pymysql

from . import mysql
from .compare_common import ChunkSum, Column, Key, Limits, TableShape
from .endpoints import Endpoint
from .errors import DatabaseError
from .mappings import TableName

if TYPE_CHECKING:
    from .mysql import Connection

catalog = mysql.catalog
_name = mysql._name
_as_text = mysql._as_bytes
TIMEOUT_ERRORS = frozenset({3024, 1969})  # MySQL max_execution_time, MariaDB max_statement_time
LOCK_WAIT_TIMEOUT = 1205
# MySQL 8 dropped integer display widths that MariaDB still prints: int(11) and int are the same type.
_DISPLAY_WIDTH = re.compile(r"^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)")


def _rows(connection: Connection, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return list(cursor.fetchall())


@contextlib.contextmanager
def session(endpoint: Endpoint, role: str, limits: Limits) -> Iterator[Connection]:
    """Autocommit (each chunk its own short read view), read-only, statement time and lock waits bounded."""
    with mysql.session(endpoint, role) as connection:
        version = str(_rows(connection, "SELECT VERSION()")[0][0]).lower()
        _rows(connection, "SET SESSION TRANSACTION READ ONLY")
        _rows(connection, "SET SESSION time_zone = '+00:00'")
        _rows(connection, "SET SESSION lock_wait_timeout = %s", (max(1, int(limits.lock_timeout_s)),))
        if "mariadb" in version:
            _rows(connection, "SET SESSION max_statement_time = %s", (limits.statement_timeout_s,))
        else:
            _rows(connection, "SET SESSION max_execution_time = %s", (int(limits.statement_timeout_s * 1000),))
        try:
            yield connection
        except pymysql.Error as error:
            code = int(error.args[0]) if error.args and isinstance(error.args[0], int) else 0
            if code in TIMEOUT_ERRORS:
                raise DatabaseError(
                    f"{role} {endpoint.label}: a compare statement ran past the statement time limit "
                    f"({limits.statement_timeout_s:g}s); lower --chunk-rows or raise --statement-timeout"
                ) from None
            if code == LOCK_WAIT_TIMEOUT:
                raise DatabaseError(
                    f"{role} {endpoint.label}: a table is locked (DDL in progress?) past lock_wait_timeout; "
                    "run compare again when the DDL is done"
                ) from None
            raise


def backend_pid(connection: Connection) -> int:
    return int(_rows(connection, "SELECT CONNECTION_ID()")[0][0])


def _type(column_type: str) -> str:
    return _DISPLAY_WIDTH.sub(r"\1", column_type.lower()).replace(" zerofill", "")


def describe(connection: Connection, tables: Sequence[TableName]) -> dict[TableName, TableShape]:
    """The shape of each table that exists here (missing ones are left out)."""
    shapes: dict[TableName, TableShape] = {}
    for table in tables:
        rows = _rows(
            connection,
            "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES', EXTRA LIKE '%%auto_increment%%', COLLATION_NAME "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (table.schema, table.name),
        )
        if not rows:
            continue
        key = _rows(
            connection,
            "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
            "AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX",
            (table.schema, table.name),
        )
        shapes[table] = TableShape(
            table,
            tuple(
                Column(_as_text(name), _type(_as_text(kind)), bool(nullable), None if collation is None else _as_text(collation))
                for name, kind, nullable, _, collation in rows
            ),
            tuple(_as_text(name) for (name,) in key),
            tuple(_as_text(name) for name, _, _, auto, _ in rows if auto),
        )
    return shapes


def _relation(table: TableName) -> str:
    return f"{_name(table.schema)}.{_name(table.name)}"


def _compare(columns: Sequence[str], values: Key, strict: str, last: str) -> tuple[str, list[Any]]:
    """(a, b) <op> (x, y) lexicographically, as (a strict x) OR (a = x AND b <last> y): index ranges in both engines."""
    terms: list[str] = []
    params: list[Any] = []
    for position in range(len(columns)):
        equal = [f"{_name(column)} = %s" for column in columns[:position]]
        operator = last if position == len(columns) - 1 else strict
        terms.append("(" + " AND ".join([*equal, f"{_name(columns[position])} {operator} %s"]) + ")")
        params += [*values[:position], values[position]]
    return "(" + " OR ".join(terms) + ")", params


def _where(shape: TableShape, after: Key | None, upto: Key | None) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    if after is not None:
        text, values = _compare(shape.primary_key, after, ">", ">")
        parts.append(text)
        params += values
    if upto is not None:
        text, values = _compare(shape.primary_key, upto, "<", "<=")
        parts.append(text)
        params += values
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def next_key(connection: Connection, shape: TableShape, after: Key | None, rows: int, upto: Key | None = None) -> Key | None:
    """The key of the `rows`-th row after `after` (up to `upto`), or None when fewer rows are left: a primary-key range."""
    where, params = _where(shape, after, upto)
    keys = ", ".join(_name(column) for column in shape.primary_key)
    found = _rows(
        connection,
        f"SELECT {keys} FROM {_relation(shape.table)}{where} ORDER BY {keys} LIMIT 1 OFFSET %s",  # noqa: S608  (quoted names)
        [*params, rows - 1],
    )
    return tuple(found[0]) if found else None


def last_key(connection: Connection, shape: TableShape) -> Key | None:
    """The highest key now (a backward primary-key scan of one row), or None for an empty table."""
    keys = ", ".join(_name(column) for column in shape.primary_key)
    order = ", ".join(f"{_name(column)} DESC" for column in shape.primary_key)
    found = _rows(connection, f"SELECT {keys} FROM {_relation(shape.table)} ORDER BY {order} LIMIT 1")  # noqa: S608
    return tuple(found[0]) if found else None


def checksum(connection: Connection, shape: TableShape, columns: Sequence[str], after: Key | None, upto: Key | None) -> ChunkSum:
    where, params = _where(shape, after, upto)
    values = ", ".join(_name(column) for column in columns)
    nulls = ", ".join(f"ISNULL({_name(column)})" for column in columns)
    query = (
        "SELECT COUNT(*), COALESCE(BIT_XOR(CAST(CONV(SUBSTRING(MD5(CONCAT_WS('#', "  # noqa: S608  (quoted names only)
        f"{values}, CONCAT({nulls}))), 1, 16), 16, 10) AS UNSIGNED)), 0) FROM {_relation(shape.table)}{where}"
    )
    row = _rows(connection, query, params)[0]
    return ChunkSum(int(row[0]), str(row[1]))


def snapshot_checksum(
    connection: Connection, shape: TableShape, columns: Sequence[str], after: Key | None, upto: Key | None
) -> tuple[ChunkSum, str | None]:
    """The checksum; MySQL offers no position a reader of the binary log confirms back to the server."""
    return checksum(connection, shape, columns, after, upto), None


def replicating(connection: Connection) -> bool:
    """Whether a binary-log reader (DMS, a replica) is connected (needs PROCESS to see other users' threads)."""
    rows = _rows(connection, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
    return bool(rows and rows[0][0])


def wait_applied(connection: Connection, position: str | None, timeout_s: float) -> float | None:
    """Not measurable from the server: the caller waits the lag it was given."""
    return None
