"""The MariaDB rehearsal's two servers, their application database and account, the schema and the data.

The source is the primary of `tools.dbservers.mariadb_replication_pair()` (server-id 1, GTID domain 1),
the stand-in for Aurora MySQL its replica (server-id 2, domain 2); both run ROW binlogs with
log-slave-updates, so the replica's binlog can feed the reverse replication after the flip. The pair's
forward replication runs before the application database exists: the database, the account, the
schema and the data reach the target through the binlog, as a DMS full load would copy them.

The tables are the PostgreSQL rehearsal's (schema.py) in MariaDB types; UUID columns keep request_id and
txn_id (deliberately not unique); audit_log.written_on is set by the writer's statement from the
server's @@server_id (an INSERT cannot default to it; row-based replication copies the value).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pymysql
from pymysql.constants import CLIENT

from tap_operator.databases.checks import MARKER_TABLE
from tap_operator.databases.mysql import marker_ddl
from tools.dbservers import MariaDbReplicationPair, MariaDbServer, mariadb_replication_pair
from tools.rehearsal.schema import row_counts_for
from tools.rehearsal.sides import Role

APP_DATABASE = "appdb"
APP_USER = "app"
CONNECT_TIMEOUT_SECONDS = 3
# A statement that hangs longer than this on a live server is a bug; a dead peer is noticed without waiting forever.
SESSION_TIMEOUT_SECONDS = 60
SERVER_IDS: dict[Role, int] = {"source": 1, "target": 2}  # tools.dbservers.MARIADB_PRIMARY/REPLICA_OPTIONS

SCHEMA_DDL: tuple[str, ...] = (
    "CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, "
    "email VARCHAR(200) NOT NULL, created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB",
    "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(20) NOT NULL, "
    "total DECIMAL(12, 2) NOT NULL, placed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), "
    "FOREIGN KEY (customer_id) REFERENCES customers (id)) ENGINE=InnoDB",
    "CREATE TABLE order_items (order_id BIGINT NOT NULL, line_no INT NOT NULL, sku VARCHAR(40) NOT NULL, "
    "quantity INT NOT NULL, unit_price DECIMAL(10, 2) NOT NULL, PRIMARY KEY (order_id, line_no), "
    "FOREIGN KEY (order_id) REFERENCES orders (id)) ENGINE=InnoDB",
    "CREATE TABLE documents (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, title VARCHAR(200) NOT NULL, "
    "body MEDIUMTEXT NOT NULL, attachment BLOB NOT NULL, FOREIGN KEY (customer_id) REFERENCES customers (id)) ENGINE=InnoDB",
    "CREATE TABLE ledger (id BIGINT AUTO_INCREMENT PRIMARY KEY, request_id UUID NOT NULL, customer_id INT NOT NULL, "
    "amount DECIMAL(12, 2) NOT NULL, version INT NOT NULL, note VARCHAR(200) NOT NULL, "
    "updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY ledger_request_id (request_id), "
    "FOREIGN KEY (customer_id) REFERENCES customers (id)) ENGINE=InnoDB",
    "CREATE TABLE audit_log (id INT AUTO_INCREMENT PRIMARY KEY, txn_id UUID NOT NULL, request_id UUID NOT NULL, "
    "operation VARCHAR(10) NOT NULL, version INT NOT NULL, written_on VARCHAR(64) NOT NULL, "
    "written_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY audit_log_txn_id (txn_id)) ENGINE=InnoDB",
    marker_ddl(APP_DATABASE).rstrip(";"),
)
TABLES: tuple[str, ...] = ("customers", "orders", "order_items", "documents", "ledger", "audit_log", MARKER_TABLE)


@dataclass(frozen=True)
class MariaSide:
    """One MariaDB server of the rehearsal with the application database and account (sides.Side)."""

    role: Role
    server: MariaDbServer
    app_password: str = field(repr=False)
    database: str = APP_DATABASE
    app_user: str = APP_USER

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def server_id(self) -> int:
        return SERVER_IDS[self.role]

    @property
    def cluster_name(self) -> str:
        """What the writers' audit statement records: CONCAT('server-', @@server_id)."""
        return f"server-{self.server_id}"

    @property
    def label(self) -> str:
        return f"{self.role} {self.host}:{self.port}/{self.database}"

    def admin_url(self, database: str | None = None) -> str:
        return self.server.url(database or self.database)

    def operator_url(self, database: str | None = None) -> str:
        return self.admin_url(database)

    def app_url(self) -> str:
        credentials = f"{quote(self.app_user, safe='')}:{quote(self.app_password, safe='')}"
        return f"mysql://{credentials}@{self.host}:{self.port}/{quote(self.database, safe='')}"

    def admin(self, database: str | None = None, *, autocommit: bool = True) -> pymysql.connections.Connection[Any]:
        """The operator's account (`tap`) over TCP: the fence spares its sessions' owner from the read_only escape check.

        Never root: a fence that ends a session of an account holding READ_ONLY ADMIN refuses (it could write
        through read_only), and root holds it.
        """
        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.server.superuser,
            password=self.server.password,
            database=database or self.database,
            autocommit=autocommit,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=SESSION_TIMEOUT_SECONDS,
            write_timeout=SESSION_TIMEOUT_SECONDS,
        )

    def app(self, *, application_name: str = "rehearsal", autocommit: bool = False) -> pymysql.connections.Connection[Any]:
        """An application session (FOUND_ROWS: an UPDATE's rowcount is the rows it matched, as on PostgreSQL)."""
        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.app_user,
            password=self.app_password,
            database=self.database,
            autocommit=autocommit,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=SESSION_TIMEOUT_SECONDS,
            write_timeout=SESSION_TIMEOUT_SECONDS,
            program_name=application_name,
            client_flag=CLIENT.FOUND_ROWS,
        )

    def query(self, statement: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with contextlib.closing(self.admin()) as connection, connection.cursor() as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())


@dataclass(frozen=True)
class MariaPair:
    """The two sides and the replication pair they run on (sides.Pair)."""

    source: MariaSide
    target: MariaSide
    servers: MariaDbReplicationPair


@contextlib.contextmanager
def rehearsal_servers() -> Iterator[MariaPair]:
    """Primary -> replica with GTID replication running, the application database and account created on the
    primary (replicated); both servers stopped and deleted when the block exits, however it exits."""
    with mariadb_replication_pair() as servers:
        password = secrets.token_urlsafe(18)
        servers.primary.create_database(APP_DATABASE)
        servers.primary.create_user(APP_USER, password, (f"SELECT, INSERT, UPDATE, DELETE ON `{APP_DATABASE}`.*",))
        yield MariaPair(MariaSide("source", servers.primary, password), MariaSide("target", servers.replica, password), servers)


def load_statements(rows: int) -> list[str]:
    """The rehearsal's data (schema.row_counts_for) generated server-side from MariaDB's sequence tables.

    Only integers computed here are put into the text (a sequence table's name cannot be a parameter).
    """
    counts = row_counts_for(rows)
    customers, orders, documents, ledger = counts["customers"], counts["orders"], counts["documents"], counts["ledger"]
    return [
        "INSERT INTO customers (name, email, created_at) SELECT CONCAT('customer ', seq), CONCAT('c', seq, '@example.com'), "  # noqa: S608
        f"NOW(6) - INTERVAL seq MINUTE FROM seq_1_to_{customers}",
        "INSERT INTO orders (customer_id, status, total, placed_at) SELECT 1 + seq % "  # noqa: S608
        f"{customers}, ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'delivered'), ROUND((seq % 100000) / 7.0, 2), "
        f"NOW(6) - INTERVAL seq SECOND FROM seq_1_to_{orders}",
        "INSERT INTO order_items (order_id, line_no, sku, quantity, unit_price) SELECT o.seq, l.seq, "  # noqa: S608
        "CONCAT('SKU-', (o.seq * 7 + l.seq) % 5000), 1 + (o.seq + l.seq) % 5, ROUND(((o.seq * 13 + l.seq) % 20000) / 100.0, 2) "
        f"FROM seq_1_to_{orders} o, seq_1_to_2 l",
        # ~3.3 KB of text and 512 bytes of binary per document, barely compressible (hashes).
        f"INSERT INTO documents (customer_id, title, body, attachment) SELECT 1 + g.seq % {customers}, "  # noqa: S608
        "CONCAT('document ', g.seq), "
        "(SELECT GROUP_CONCAT(MD5(CONCAT(g.seq, ':', p.seq)) ORDER BY p.seq SEPARATOR ' ') FROM seq_1_to_100 p), "
        "UNHEX((SELECT GROUP_CONCAT(MD5(CONCAT(p.seq, ':', g.seq)) ORDER BY p.seq SEPARATOR '') FROM seq_1_to_32 p)) "
        f"FROM seq_1_to_{documents} g",
        f"INSERT INTO ledger (request_id, customer_id, amount, version, note) SELECT UUID(), 1 + seq % {customers}, "  # noqa: S608
        f"ROUND((seq % 50000) / 3.0, 2), 1, CONCAT('seed ', seq) FROM seq_1_to_{ledger}",
    ]


def load(pair: MariaPair, rows: int) -> dict[str, int]:
    """The schema and `rows` rows on the source (the replication carries them to the target); returns the counts."""
    with contextlib.closing(pair.source.admin()) as connection, connection.cursor() as cursor:
        for statement in (*SCHEMA_DDL, *load_statements(rows)):
            cursor.execute(statement)
        cursor.execute("ANALYZE TABLE " + ", ".join(TABLES))
        cursor.fetchall()
    return row_counts_for(rows)


def server_version(side: MariaSide) -> str:
    return str(side.query("SELECT VERSION()")[0][0])
