"""Real throwaway servers for the database layer: two PostgreSQL 15 clusters and two MariaDB servers per session.

`pg` is a healthy source (wal_level=logical, SSL, bounded slot WAL); `pg_plain` is misconfigured on purpose
(wal_level=replica, no SSL, unbounded slot WAL) and doubles as the logical-replication subscriber and the
sequences' target. `maria` is a healthy MySQL-family source (ROW binlog, SSL); `maria_plain` has no binlog and
no SSL, and is the AUTO_INCREMENT target. `maria_pair` is a MariaDB primary -> replica pair with GTID binlog
replication (tools/dbservers.mariadb_replication_pair), for the writer move. Each test gets its own databases
and users, named uniquely.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from lib.config import PROJECT_ROOT
from lib.constants import MARKER_TABLE, marker_schema_for
from lib.dms_mappings import selected, selections
from tools.dbservers import (
    DatabaseServerError,
    MariaDbReplicationPair,
    MariaDbServer,
    PostgresServer,
    mariadb_replication_pair,
    mariadb_server,
    postgres_server,
)

_LAMBDA_DIR = PROJECT_ROOT / "lambda" / "cutover"
if str(_LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(_LAMBDA_DIR))

from tap_operator.databases import Endpoint, parse_url  # noqa: E402

APP_PASSWORD = "app-pw:/@%?#&x"  # characters that must survive percent-encoding and never be printed
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}_{next(_names)}"


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresServer]:
    with postgres_server({"max_prepared_transactions": "5"}) as server:
        yield server


@pytest.fixture(scope="session")
def pg_plain() -> Iterator[PostgresServer]:
    with postgres_server({"wal_level": "replica", "max_slot_wal_keep_size": "-1"}, ssl=False) as server:
        yield server


def _mariadb(options: dict[str, str | None], ssl: bool) -> Iterator[MariaDbServer]:
    try:
        with mariadb_server(options, ssl=ssl) as server:
            yield server
    except DatabaseServerError as error:
        # CI installs MariaDB: a missing server is a failure to fix, never a skip.
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def maria() -> Iterator[MariaDbServer]:
    yield from _mariadb({}, ssl=True)


@pytest.fixture(scope="session")
def maria_plain() -> Iterator[MariaDbServer]:
    yield from _mariadb({"log-bin": None, "binlog-format": None, "binlog-row-image": None,
                         "binlog-expire-logs-seconds": None, "server-id": "2"}, ssl=False)  # fmt: skip


@pytest.fixture(scope="session")
def maria_pair() -> Iterator[MariaDbReplicationPair]:
    try:
        with mariadb_replication_pair() as pair:
            yield pair
    except DatabaseServerError as error:
        pytest.fail(str(error), pytrace=False)


Server = TypeVar("Server", PostgresServer, MariaDbServer)


@dataclass
class _Database(Generic[Server]):
    """One throwaway database on a server: its URL, an endpoint, and statements run in it."""

    server: Server
    name: str

    def url(self, user: str | None = None, password: str | None = None, **query: str) -> str:
        return self.server.url(self.name, user, password, **query)

    def endpoint(self, user: str | None = None, password: str | None = None) -> Endpoint:
        return parse_url(self.url(user, password))

    def execute(self, statement: str, params: Any = None) -> None:
        self.server.execute(statement, self.name, params)

    def query(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.server.query(statement, self.name, params)


@dataclass
class PgDatabase(_Database[PostgresServer]):
    def create_marker(self, schema: str = "public") -> None:
        self.execute(f'CREATE TABLE "{schema}".{MARKER_TABLE} (id varchar(64) PRIMARY KEY, written_at timestamptz NOT NULL)')

    def create_app_user(self, name: str | None = None, *, replication: bool = False) -> str:
        user = name or unique("app")
        self.server.create_user(user, APP_PASSWORD, replication=replication)
        self.execute(f'GRANT ALL ON SCHEMA public TO "{user}"')
        self.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{user}"')
        self.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{user}"')
        return user


@dataclass
class MariaDatabase(_Database[MariaDbServer]):
    def create_marker(self) -> None:
        self.execute(
            f"CREATE TABLE {MARKER_TABLE} (id VARCHAR(64) NOT NULL PRIMARY KEY, written_at DATETIME(6) NOT NULL) ENGINE=InnoDB"
        )

    def create_app_user(self, grants: tuple[str, ...] = ()) -> str:
        user = unique("app")
        self.server.create_user(user, APP_PASSWORD, (f"ALL ON `{self.name}`.*", *grants))
        return user


Db = TypeVar("Db", PgDatabase, MariaDatabase)


def _factory(server: Server, database: Callable[[Server, str], Db]) -> Iterator[Callable[[], Db]]:
    """make() creates a fresh database on the server; every one made is dropped after the test."""
    created: list[str] = []

    def make() -> Db:
        name = unique("db")
        server.create_database(name)
        created.append(name)
        return database(server, name)

    yield make
    for name in created:
        with contextlib.suppress(Exception):
            server.drop_database(name)


@pytest.fixture
def pg_db(pg: PostgresServer) -> Iterator[Callable[[], PgDatabase]]:
    yield from _factory(pg, PgDatabase)


@pytest.fixture
def pg_plain_db(pg_plain: PostgresServer) -> Iterator[Callable[[], PgDatabase]]:
    yield from _factory(pg_plain, PgDatabase)


@pytest.fixture
def maria_db(maria: MariaDbServer) -> Iterator[Callable[[], MariaDatabase]]:
    yield from _factory(maria, MariaDatabase)


@pytest.fixture
def maria_plain_db(maria_plain: MariaDbServer) -> Iterator[Callable[[], MariaDatabase]]:
    yield from _factory(maria_plain, MariaDatabase)


def mappings(*rules: tuple[str, str, str]) -> str:
    """Table-mappings JSON from (schema, table, action) selection rules."""
    return json.dumps(
        {
            "rules": [
                {"rule-type": "selection", "rule-id": str(index), "rule-name": f"r{index}",
                 "object-locator": {"schema-name": schema, "table-name": table}, "rule-action": action}
                for index, (schema, table, action) in enumerate(rules, start=1)
            ]
        }
    )  # fmt: skip


def task_settings(**sections: dict[str, Any]) -> dict[str, Any]:
    """The repository's task settings with transactional apply (what the drain proof needs), plus overrides per section."""
    settings: dict[str, Any] = json.loads((PROJECT_ROOT / "dms" / "task-settings.json").read_text())
    settings["TargetMetadata"]["BatchApplyEnabled"] = False
    for section, values in sections.items():
        settings.setdefault(section, {}).update(values)
    return settings


def write_config(directory: Path, *, engine: str, mappings_json: str, settings: dict[str, Any] | None = None) -> Path:
    """A valid tap-migrate TOML (the repository's, adapted) whose task uses the given mappings and settings.

    The config's cutover needs its mappings to select the drain marker table where the config's source
    database keeps it (`public` on PostgreSQL, `appdb` on MySQL): a rule for it is added when missing. It
    matches nothing in the tests' own databases unless they hold that very table.
    """
    document = json.loads(mappings_json)
    marker_schema = marker_schema_for("postgres" if engine == "postgres" else "mysql", "appdb")
    if isinstance(document, dict) and isinstance(document.get("rules"), list):
        if not selected(selections(document), marker_schema, MARKER_TABLE):
            locator = {"schema-name": marker_schema, "table-name": MARKER_TABLE}
            rule = {"rule-type": "selection", "rule-id": "9999", "rule-name": "marker", "object-locator": locator}
            document["rules"].append({**rule, "rule-action": "include"})
        mappings_json = json.dumps(document)
    (directory / "mappings.json").write_text(mappings_json)
    (directory / "settings.json").write_text(json.dumps(settings or task_settings()))
    text = (PROJECT_ROOT / "config" / "tap-migrate.toml").read_text()
    text = text.replace(
        'table_mappings_file = "dms/table-mappings.json"', f'table_mappings_file = "{directory / "mappings.json"}"'
    )
    text = text.replace('settings_file = "dms/task-settings.json"', f'settings_file = "{directory / "settings.json"}"')
    if engine != "postgres":
        text = text.replace('engine = "postgres"', f'engine = "{engine}"').replace(
            'engine_version = "15"', 'engine_version = "10.11"'
        )
        text = text.replace('kind = "aurora_postgresql"', 'kind = "aurora_mysql"').replace(
            'engine_version = "15.10"', 'engine_version = ""'
        )
    path = directory / "tap-migrate.toml"
    path.write_text(text)
    return path
