"""PostgreSQL side of `compare`: a read-only, time-bounded session, table shapes, keyset chunks and their checksums.

A chunk's checksum is computed by the server: count(*) and the sum of the first 64 bits of md5(ROW(columns)::text),
as numeric (order-independent, no overflow). The row text is canonical because every session sets the output
settings that change it (TimeZone, DateStyle, IntervalStyle, extra_float_digits, bytea_output) to the same values.
Keys travel as text and are cast back to the column's declared type, so no value is rounded on the way.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from . import postgres
from .compare_common import ChunkSum, Column, Key, Limits, TableShape
from .endpoints import Endpoint
from .errors import DatabaseError
from .mappings import TableName

Connection = psycopg.Connection[tuple[Any, ...]]
catalog = postgres.catalog

# Output settings that change a row's text form: the same on both sides, whatever the server or role defaults are.
CANONICAL_SETTINGS = (
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "1"),
    ("bytea_output", "hex"),
)


@contextlib.contextmanager
def session(endpoint: Endpoint, role: str, limits: Limits) -> Iterator[Connection]:
    """Autocommit (each chunk its own short snapshot: no long transaction holds back vacuum), read-only, bounded."""
    with postgres.session(endpoint, role) as connection:
        connection.execute("SET application_name = 'tap-migrate compare'")
        connection.execute("SET default_transaction_read_only = on")
        connection.execute(f"SET statement_timeout = {int(limits.statement_timeout_s * 1000)}")
        connection.execute(f"SET lock_timeout = {int(limits.lock_timeout_s * 1000)}")
        connection.execute("SET idle_in_transaction_session_timeout = 60000")
        for name, value in CANONICAL_SETTINGS:
            connection.execute(sql.SQL("SELECT set_config({}, {}, false)").format(sql.Literal(name), sql.Literal(value)))
        try:
            yield connection
        except pg_errors.QueryCanceled:
            raise DatabaseError(
                f"{role} {endpoint.label}: a compare statement ran past statement_timeout "
                f"({limits.statement_timeout_s:g}s); lower --chunk-rows or raise --statement-timeout"
            ) from None
        except pg_errors.LockNotAvailable:
            raise DatabaseError(
                f"{role} {endpoint.label}: a table is locked (DDL in progress?) past lock_timeout "
                f"({limits.lock_timeout_s:g}s); run compare again when the DDL is done"
            ) from None


def backend_pid(connection: Connection) -> int:
    row = connection.execute("SELECT pg_backend_pid()").fetchone()
    return int(row[0]) if row else 0


def describe(connection: Connection, tables: Sequence[TableName]) -> dict[TableName, TableShape]:
    """The shape of each table that exists here (missing ones are left out)."""
    shapes: dict[TableName, TableShape] = {}
    for table in tables:
        found = connection.execute(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
            (table.schema, table.name),
        ).fetchone()
        if found is None:
            continue
        oid = found[0]
        rows = connection.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
            "a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%', false), "
            "CASE WHEN a.attcollation = 0 THEN NULL WHEN co.collname = 'default' "
            "THEN (SELECT datcollate FROM pg_database WHERE datname = current_database()) ELSE co.collname END "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
            "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (oid,),
        ).fetchall()
        key = connection.execute(
            "SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = %s AND i.indisprimary ORDER BY k.position",
            (oid,),
        ).fetchall()
        shapes[table] = TableShape(
            table,
            tuple(
                Column(str(name), str(type_name), bool(nullable), None if collation is None else str(collation))
                for name, type_name, nullable, _, collation in rows
            ),
            tuple(str(name) for (name,) in key),
            tuple(str(name) for name, _, _, sequenced, _ in rows if sequenced),
        )
    return shapes


def _relation(table: TableName) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(table.schema), sql.Identifier(table.name))


def _key_columns(shape: TableShape) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in shape.primary_key)


def _key_values(shape: TableShape) -> sql.Composed:
    # format_type() output is the server's own spelling (quoted where needed); the values are parameters.
    types = [column.type for name in shape.primary_key if (column := shape.column(name)) is not None]
    return sql.SQL(", ").join(sql.SQL("%s::" + type_name) for type_name in types)


def _where(shape: TableShape, after: Key | None, upto: Key | None) -> tuple[sql.Composable, list[Any]]:
    parts: list[sql.Composable] = []
    params: list[Any] = []
    if after is not None:
        parts.append(sql.SQL("({}) > ({})").format(_key_columns(shape), _key_values(shape)))
        params += list(after)
    if upto is not None:
        parts.append(sql.SQL("({}) <= ({})").format(_key_columns(shape), _key_values(shape)))
        params += list(upto)
    if not parts:
        return sql.SQL(""), params
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts), params


def _key_texts(shape: TableShape) -> sql.Composed:
    # Aliased: a bare `id::text` output column would be named id, and ORDER BY id would then sort the text.
    return sql.SQL(", ").join(
        sql.SQL("{}::text AS {}").format(sql.Identifier(name), sql.Identifier(f"tap_key_{index}"))
        for index, name in enumerate(shape.primary_key)
    )


def next_key(connection: Connection, shape: TableShape, after: Key | None, rows: int, upto: Key | None = None) -> Key | None:
    """The key of the `rows`-th row after `after` (up to `upto`), or None when fewer rows are left: an index range scan."""
    where, params = _where(shape, after, upto)
    texts = _key_texts(shape)
    query = sql.SQL("SELECT {} FROM {}{} ORDER BY {} LIMIT 1 OFFSET %s").format(
        texts, _relation(shape.table), where, _key_columns(shape)
    )
    row = connection.execute(query, [*params, rows - 1]).fetchone()
    return None if row is None else tuple(row)


def last_key(connection: Connection, shape: TableShape) -> Key | None:
    """The highest key now (a backward index scan of one row), or None for an empty table."""
    texts = _key_texts(shape)
    order = sql.SQL(", ").join(sql.SQL("{} DESC").format(sql.Identifier(name)) for name in shape.primary_key)
    row = connection.execute(
        sql.SQL("SELECT {} FROM {} ORDER BY {} LIMIT 1").format(texts, _relation(shape.table), order)
    ).fetchone()
    return None if row is None else tuple(row)


def _checksum_query(
    shape: TableShape, columns: Sequence[str], after: Key | None, upto: Key | None
) -> tuple[sql.Composed, list[Any]]:
    where, params = _where(shape, after, upto)
    row = sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    query = sql.SQL(
        "SELECT count(*), coalesce(sum(('x' || substr(md5(ROW({})::text), 1, 16))::bit(64)::bigint::numeric), 0)::text FROM {}{}"
    ).format(row, _relation(shape.table), where)
    return query, params


def checksum(connection: Connection, shape: TableShape, columns: Sequence[str], after: Key | None, upto: Key | None) -> ChunkSum:
    query, params = _checksum_query(shape, columns, after, upto)
    found = connection.execute(query, params).fetchone()
    assert found is not None  # an aggregate always returns a row
    return ChunkSum(int(found[0]), str(found[1]))


def snapshot_checksum(
    connection: Connection, shape: TableShape, columns: Sequence[str], after: Key | None, upto: Key | None
) -> tuple[ChunkSum, str | None]:
    """The checksum and a WAL position at or after every commit the checksum saw (same snapshot)."""
    with connection.transaction():
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        summed = checksum(connection, shape, columns, after, upto)
        row = connection.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    return summed, None if row is None else str(row[0])


def replicating(connection: Connection) -> bool:
    """Whether a logical replication (DMS, or a subscription) is reading this database right now."""
    row = connection.execute(
        "SELECT count(*) FROM pg_replication_slots WHERE slot_type = 'logical' AND database = current_database() AND active"
    ).fetchone()
    return bool(row and row[0])


def wait_applied(
    connection: Connection,
    position: str | None,
    timeout_s: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> float | None:
    """Seconds until every active logical slot of this database confirmed `position` (the replica applied it), or None."""
    if position is None:
        return None
    started = clock()
    while True:
        row = connection.execute(
            "SELECT count(*), coalesce(bool_and(confirmed_flush_lsn >= %s::pg_lsn), false) FROM pg_replication_slots "
            "WHERE slot_type = 'logical' AND database = current_database() AND active",
            (position,),
        ).fetchone()
        waited = clock() - started
        if row is None or not row[0]:
            return None  # nothing replicates: there is no lag to wait out
        if row[1]:
            return waited
        if waited >= timeout_s:
            return None
        sleep(0.2)
