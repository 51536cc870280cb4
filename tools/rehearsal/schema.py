"""The rehearsal's schema and data: what a real application database holds, small enough to load in seconds.

    customers    serial key
    orders       identity key, foreign key to customers
    order_items  composite primary key (order_id, line_no), foreign key to orders
    documents    bigserial key, a few KB of text and a bytea per row (what DMS treats as LOBs)
    ledger       identity key; the writers' table (insert/update/delete by a client-generated request_id)
    audit_log    serial key; one row per writer transaction, keyed by its client-generated txn_id
    tap_migrate_cutover_marker  the drain marker, with the DDL the operator CLI expects

With `--tables N`, N more tables (`extra_tables`), each with its own serial, bigserial or identity key
and a few rows, so the operator's sequence sync has thousands of sequences to carry; a few have names
that need quoting (dots, double quotes, mixed case, spaces). They are replicated like the rest and the
application never writes them.

ledger.request_id and audit_log.txn_id are deliberately not unique: a replication that applied a
change twice would show as two rows, which the verdicts count. audit_log.written_on records the
server a transaction really ran on (its cluster_name; the replication copies the value unchanged).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from tap_operator.databases.checks import DEFAULT_MARKER_SCHEMA, MARKER_TABLE
from tap_operator.databases.postgres import marker_ddl
from tools.rehearsal.clusters import Cluster

DEFAULT_ROWS = 300_000
EXTRA_TABLES_PER_TRANSACTION = 250  # a transaction locks each table, its sequence and its index
DUMP_TIMEOUT_SECONDS = 120
# Shares of --rows per table: ~100 % in total.
_SHARES = {"customers": 0.10, "orders": 0.25, "order_items": 0.50, "documents": 0.025, "ledger": 0.125}

SCHEMA_DDL: tuple[str, ...] = (
    """
    CREATE TABLE public.customers (
        id serial PRIMARY KEY,
        name text NOT NULL,
        email text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE public.orders (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        customer_id integer NOT NULL REFERENCES public.customers (id),
        status text NOT NULL,
        total numeric(12, 2) NOT NULL,
        placed_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE public.order_items (
        order_id bigint NOT NULL REFERENCES public.orders (id),
        line_no integer NOT NULL,
        sku text NOT NULL,
        quantity integer NOT NULL,
        unit_price numeric(10, 2) NOT NULL,
        PRIMARY KEY (order_id, line_no)
    )
    """,
    """
    CREATE TABLE public.documents (
        id bigserial PRIMARY KEY,
        customer_id integer NOT NULL REFERENCES public.customers (id),
        title text NOT NULL,
        body text NOT NULL,
        attachment bytea NOT NULL
    )
    """,
    """
    CREATE TABLE public.ledger (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id uuid NOT NULL,
        customer_id integer NOT NULL REFERENCES public.customers (id),
        amount numeric(12, 2) NOT NULL,
        version integer NOT NULL,
        note text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX ledger_request_id ON public.ledger (request_id)",
    """
    CREATE TABLE public.audit_log (
        id serial PRIMARY KEY,
        txn_id uuid NOT NULL,
        request_id uuid NOT NULL,
        operation text NOT NULL,
        version integer NOT NULL,
        written_on text NOT NULL DEFAULT current_setting('cluster_name'),
        written_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX audit_log_txn_id ON public.audit_log (txn_id)",
    marker_ddl(DEFAULT_MARKER_SCHEMA).rstrip(";"),
)

# Every table the replication carries, in an order that respects the foreign keys.
TABLES: tuple[str, ...] = ("customers", "orders", "order_items", "documents", "ledger", "audit_log", MARKER_TABLE)
WORKLOAD_TABLES: tuple[str, ...] = ("ledger", "audit_log")


@dataclass(frozen=True)
class TableSum:
    """Row count and an order-independent content checksum (sum of 64-bit row hashes) of one table."""

    rows: int
    checksum: int

    def to_dict(self) -> dict[str, int]:
        return {"rows": self.rows, "checksum": self.checksum}


def create_schema(cluster: Cluster) -> None:
    with cluster.admin() as connection:
        for statement in SCHEMA_DDL:
            connection.execute(statement)


# Every 250th table from the first on gets one of these names ({n} is the table's number): quoting matters.
ODD_NAMES: tuple[str, ...] = ("Extra.Dots.{n}", 'extra "quoted" {n}', "Extra_MixedCase_{n}", "extra with spaces {n}")
DESCENDING_TABLE = "extra_descending"

# One DO block (one round trip) creates them all, committing every EXTRA_TABLES_PER_TRANSACTION tables.
# Table n: key serial (n % 3 = 0), bigserial (1) or identity (2); 1 + n % 5 rows, so the sequences differ.
_EXTRA_TABLES_DO = """
DO $extra$
DECLARE
    name text;
    key text;
BEGIN
    FOR n IN 1..{count} LOOP
        name := CASE WHEN n % 250 BETWEEN 1 AND {odd} THEN
                    replace((ARRAY[{odd_names}])[n % 250], '{{n}}', n::text)
                ELSE 'extra_' || lpad(n::text, 5, '0') END;
        key := (ARRAY['serial', 'bigserial', 'bigint GENERATED BY DEFAULT AS IDENTITY'])[1 + n % 3];
        EXECUTE format('CREATE TABLE public.%I (id %s PRIMARY KEY, note text NOT NULL)', name, key);
        EXECUTE format('INSERT INTO public.%I (note) SELECT %L || g FROM generate_series(1, %s) g',
                       name, name || ' row ', 1 + n % 5);
        IF n % {batch} = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
    IF {descending} THEN
        EXECUTE format(
            'CREATE TABLE public.%I (id bigint GENERATED ALWAYS AS IDENTITY (INCREMENT BY -1 MAXVALUE -1 START WITH -1) '
            'PRIMARY KEY, note text NOT NULL)', {descending_name});
        EXECUTE format('INSERT INTO public.%I (note) SELECT %L || g FROM generate_series(1, 3) g', {descending_name}, 'row ');
    END IF;
END
$extra$
"""


def extra_table_names(count: int, *, descending: bool = False) -> list[str]:
    """The names create_extra_tables gives (what the DO block computes), in order."""
    names = [
        ODD_NAMES[n % 250 - 1].format(n=n) if 1 <= n % 250 <= len(ODD_NAMES) else f"extra_{n:05d}" for n in range(1, count + 1)
    ]
    return [*names, DESCENDING_TABLE] if descending else names


def create_extra_tables(cluster: Cluster, count: int, *, descending: bool = False) -> int:
    """`count` more tables, each with its own sequence and 1-5 rows, in one round trip; returns how many were made.

    `descending` adds one table whose identity counts down: the operator's sequence sync reports it as not
    synced ("set it on the target by hand") and does not flip, so the rehearsal leaves it out; the benchmark
    and the tests use it.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if count == 0 and not descending:
        return 0
    odd_names = ", ".join(sql.quote(name) for name in ODD_NAMES)
    statement = _EXTRA_TABLES_DO.format(
        count=count,
        odd=len(ODD_NAMES),
        odd_names=odd_names,
        batch=EXTRA_TABLES_PER_TRANSACTION,
        descending="true" if descending else "false",
        descending_name=f"'{DESCENDING_TABLE}'",
    )
    with cluster.admin() as connection:  # autocommit: the DO block may COMMIT
        connection.execute(statement.encode())
    return count + (1 if descending else 0)


def row_counts_for(rows: int) -> dict[str, int]:
    """How many rows each table gets for a total of about `rows` (at least one customer and one order)."""
    counts = {table: max(1, int(rows * share)) for table, share in _SHARES.items()}
    counts["order_items"] = 2 * counts["orders"]  # two lines per order
    return counts


def load_data(cluster: Cluster, rows: int) -> dict[str, int]:
    """Generate the data server-side (generate_series): seconds for a few hundred thousand rows."""
    counts = row_counts_for(rows)
    customers, orders, documents, ledger = counts["customers"], counts["orders"], counts["documents"], counts["ledger"]
    statements: list[tuple[LiteralString, Sequence[Any]]] = [
        (
            "INSERT INTO public.customers (name, email, created_at) "
            "SELECT 'customer ' || g, 'c' || g || '@example.com', now() - g * interval '1 minute' FROM generate_series(1, %s) g",
            (customers,),
        ),
        (
            "INSERT INTO public.orders (customer_id, status, total, placed_at) "
            "SELECT 1 + g %% %s, (ARRAY['new', 'paid', 'shipped', 'delivered'])[1 + g %% 4], round((g %% 100000) / 7.0, 2), "
            "now() - g * interval '1 second' FROM generate_series(1, %s) g",
            (customers, orders),
        ),
        (
            "INSERT INTO public.order_items (order_id, line_no, sku, quantity, unit_price) "
            "SELECT o, l, 'SKU-' || ((o * 7 + l) %% 5000), 1 + (o + l) %% 5, round(((o * 13 + l) %% 20000) / 100.0, 2) "
            "FROM generate_series(1, %s) o, generate_series(1, 2) l",
            (orders,),
        ),
        # ~3.3 KB of text and 512 bytes of binary per document, barely compressible (hashes).
        (
            "INSERT INTO public.documents (customer_id, title, body, attachment) "
            "SELECT 1 + g %% %s, 'document ' || g, "
            "(SELECT string_agg(md5(g::text || ':' || p::text), ' ') FROM generate_series(1, 100) p), "
            "(SELECT decode(string_agg(md5(p::text || ':' || g::text), ''), 'hex') FROM generate_series(1, 32) p) "
            "FROM generate_series(1, %s) g",
            (customers, documents),
        ),
        (
            "INSERT INTO public.ledger (request_id, customer_id, amount, version, note) "
            "SELECT gen_random_uuid(), 1 + g %% %s, round((g %% 50000) / 3.0, 2), 1, 'seed ' || g FROM generate_series(1, %s) g",
            (customers, ledger),
        ),
    ]
    with cluster.admin() as connection:
        for statement, params in statements:
            connection.execute(statement, params)
        connection.execute("ANALYZE")
    return counts


def copy_schema(source: Cluster, target: Cluster) -> None:
    """The source's schema onto the target (pg_dump --schema-only | psql), as a DBA prepares a DMS target."""
    dump = subprocess.run(
        [
            "pg_dump", "--schema-only", "--no-publications", "--no-subscriptions",
            "-h", str(source.server.directory), "-p", str(source.port), "-U", source.server.superuser, "-d", source.database,
        ],
        capture_output=True, text=True, check=False, timeout=DUMP_TIMEOUT_SECONDS,
    )  # fmt: skip
    if dump.returncode != 0:
        raise RuntimeError(f"pg_dump --schema-only of the source failed: {dump.stderr.strip()}")
    restore = subprocess.run(
        [
            "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
            "-h", str(target.server.directory), "-p", str(target.port), "-U", target.server.superuser, "-d", target.database,
        ],
        input=dump.stdout, capture_output=True, text=True, check=False, timeout=DUMP_TIMEOUT_SECONDS,
    )  # fmt: skip
    if restore.returncode != 0:
        raise RuntimeError(f"restoring the source's schema on the target failed: {restore.stderr.strip()}")


def table_sums(connection: psycopg.Connection[Any], tables: Sequence[str] = TABLES) -> dict[str, TableSum]:
    """Count and checksum each table in the connection's current transaction (use REPEATABLE READ for a snapshot).

    Rows are hashed from their text form, so the session's TimeZone must be the same on both sides: UTC here.
    """
    connection.execute("SET LOCAL TimeZone = 'UTC'" if not connection.autocommit else "SET TimeZone = 'UTC'")
    sums: dict[str, TableSum] = {}
    for table in tables:
        query = sql.SQL("SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0) FROM public.{} AS t").format(
            sql.Identifier(table)
        )
        row = connection.execute(query).fetchone()
        assert row is not None
        sums[table] = TableSum(int(row[0]), int(row[1]))
    return sums
