"""The rehearsal's two PostgreSQL 15 clusters on loopback: the on-premises source and the stand-in for Aurora.

Both come from tools.dbservers (a temporary folder each, 127.0.0.1 only, stopped and deleted when the
block exits for any reason). Each holds the application database and an ordinary application role;
the superuser `tap` is what the operator CLI and the replication use.

With `--rtt-ms`, `operator_proxies` puts a latency proxy (tools.rehearsal.latency_proxy) in front of
each cluster and the operator CLI connects through it (`Cluster.operator_url`): its fence, drain and
sequence sync pay the round-trip time a VPN to AWS would. Everything else (the application, the
replication, the lag monitor, the verdicts) stays direct.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import psycopg
from psycopg import sql

from tools.dbservers import PostgresServer, postgres_server
from tools.rehearsal.latency_proxy import LatencyProxy

Role = Literal["source", "target"]
APP_DATABASE = "appdb"
APP_USER = "app"
CONNECT_TIMEOUT_SECONDS = 3
# Logical replication on both sides (the target publishes too, for the reverse replication of a rollback).
# cluster_name is what audit_log.written_on records: the server a transaction really ran on.
_REPLICATION = {
    "wal_level": "logical",
    "max_connections": "80",
    "max_worker_processes": "16",
    "max_logical_replication_workers": "8",
    # --tables N: the initial copy of thousands of (empty) tables goes four at a time, not two.
    "max_sync_workers_per_subscription": "4",
    # One transaction may lock thousands of relations (pg_dump --schema-only of a large schema).
    "max_locks_per_transaction": "256",
}
CLUSTER_SETTINGS: dict[Role, dict[str, str]] = {
    "source": {**_REPLICATION, "cluster_name": "rehearsal-source"},
    "target": {**_REPLICATION, "cluster_name": "rehearsal-target"},
}


@dataclass(frozen=True)
class Cluster:
    """One running cluster with the application database and role created."""

    role: Role
    server: PostgresServer
    app_password: str = field(repr=False)
    database: str = APP_DATABASE
    app_user: str = APP_USER
    operator_port: int | None = None  # a latency proxy's port on 127.0.0.1 for the operator CLI (--rtt-ms)

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def cluster_name(self) -> str:
        return CLUSTER_SETTINGS[self.role]["cluster_name"]

    @property
    def label(self) -> str:
        return f"{self.role} {self.host}:{self.port}/{self.database}"

    def admin_url(self, database: str | None = None) -> str:
        """The superuser over TCP (what the operator CLI and a subscription connect with)."""
        return self.server.url(database or self.database)

    def operator_url(self, database: str | None = None) -> str:
        """The superuser URL the operator CLI gets: through the latency proxy with --rtt-ms, else admin_url."""
        if self.operator_port is None:
            return self.admin_url(database)
        return dataclasses.replace(self.server, port=self.operator_port).url(database or self.database)

    def app_url(self) -> str:
        credentials = f"{quote(self.app_user, safe='')}:{quote(self.app_password, safe='')}"
        return f"postgresql://{credentials}@{self.host}:{self.port}/{quote(self.database, safe='')}"

    def admin(self, database: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
        """A superuser session over the unix socket (autocommit)."""
        return self.server.connect(database or self.database, **kwargs)

    def app(self, *, application_name: str = "rehearsal", autocommit: bool = False) -> psycopg.Connection[Any]:
        """An application session over TCP, as the application's role (TLS when the server offers it)."""
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.app_user,
            password=self.app_password,
            dbname=self.database,
            sslmode="prefer",
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name=application_name,
            autocommit=autocommit,
        )


@dataclass(frozen=True)
class Clusters:
    source: Cluster
    target: Cluster

    def by_role(self, role: Role) -> Cluster:
        return self.source if role == "source" else self.target


def create_app_role(server: PostgresServer, user: str = APP_USER) -> str:
    """An ordinary (non-superuser) login role for the application; returns its password."""
    password = secrets.token_urlsafe(18)
    server.create_user(user, password)
    return password


def prepare_database(role: Role, server: PostgresServer, app_password: str, database: str = APP_DATABASE) -> Cluster:
    """Create the application database on a running server whose application role exists."""
    server.create_database(database)
    with server.connect(database) as connection:
        connection.execute(sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier(APP_USER)))
    return Cluster(role, server, app_password, database)


def prepare_cluster(role: Role, server: PostgresServer) -> Cluster:
    """The application role and database on a fresh server."""
    return prepare_database(role, server, create_app_role(server))


def grant_application(cluster: Cluster) -> None:
    """The application role may read and write every table and use every sequence (run after the schema exists)."""
    user = sql.Identifier(cluster.app_user)
    with cluster.admin() as connection:
        connection.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(user))
        connection.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(user))


@contextlib.contextmanager
def rehearsal_clusters() -> Iterator[Clusters]:
    """Start the source and the target cluster; both are stopped and deleted when the block exits, however it exits."""
    with (
        postgres_server(settings=CLUSTER_SETTINGS["source"]) as source,
        postgres_server(settings=CLUSTER_SETTINGS["target"]) as target,
    ):
        yield Clusters(prepare_cluster("source", source), prepare_cluster("target", target))


@contextlib.contextmanager
def operator_proxies(clusters: Clusters, rtt_ms: float) -> Iterator[tuple[Clusters, dict[Role, LatencyProxy]]]:
    """A latency proxy in front of each cluster; yields the clusters whose operator_url goes through them."""
    with contextlib.ExitStack() as stack:
        proxies: dict[Role, LatencyProxy] = {
            cluster.role: stack.enter_context(LatencyProxy((cluster.host, cluster.port), rtt_ms))
            for cluster in (clusters.source, clusters.target)
        }
        proxied = Clusters(
            dataclasses.replace(clusters.source, operator_port=proxies["source"].port),
            dataclasses.replace(clusters.target, operator_port=proxies["target"].port),
        )
        yield proxied, proxies
