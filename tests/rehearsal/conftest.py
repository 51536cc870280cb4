"""Real PostgreSQL 15 clusters for the rehearsal's pieces: one source and one target server per session.

Each test gets its own pair of databases (same name on both servers) holding the rehearsal's schema and
a small data set, optionally replicated with its own publication/subscription (slot names are per
server, so every pair names its link uniquely). Route 53 and CloudWatch come from moto's in-process mock.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from psycopg import sql

from tools.dbservers import PostgresServer, postgres_server
from tools.rehearsal import replication, schema
from tools.rehearsal.clusters import CLUSTER_SETTINGS, Clusters, create_app_role, grant_application, prepare_database

REGION = "us-east-1"
ZONE = "rehearsal.test"
SOURCE_HOST = "onprem-pg.rehearsal.test"
AURORA_WRITER = "aurora.cluster-x.rehearsal.test"
AURORA_READER = "aurora.cluster-ro-x.rehearsal.test"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Servers:
    source: PostgresServer
    target: PostgresServer
    source_password: str
    target_password: str


@dataclass(frozen=True)
class Pair:
    clusters: Clusters
    link: replication.Link | None
    counts: dict[str, int]

    @property
    def source(self) -> Any:
        return self.clusters.source

    @property
    def target(self) -> Any:
        return self.clusters.target


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    with postgres_server(CLUSTER_SETTINGS["source"]) as source, postgres_server(CLUSTER_SETTINGS["target"]) as target:
        yield Servers(source, target, create_app_role(source), create_app_role(target))


def _drop(server: PostgresServer, database: str) -> None:
    with server.connect(database) as connection:
        names = [row[0] for row in connection.execute("SELECT subname FROM pg_subscription").fetchall()]
        for name in names:
            connection.execute(sql.SQL("DROP SUBSCRIPTION IF EXISTS {}").format(sql.Identifier(name)))
    server.drop_database(database)


@pytest.fixture
def make_pair(servers: Servers) -> Iterator[Callable[..., Pair]]:
    made: list[str] = []

    def make(rows: int = 2000, *, replicate: bool = True) -> Pair:
        number = next(_numbers)
        database = f"rehearsal_{number}"
        made.append(database)
        source = prepare_database("source", servers.source, servers.source_password, database)
        target = prepare_database("target", servers.target, servers.target_password, database)
        schema.create_schema(source)
        counts = schema.load_data(source, rows)
        schema.copy_schema(source, target)
        for cluster in (source, target):
            grant_application(cluster)
        link = None
        if replicate:
            link = replication.start_forward(source, target, name=f"tap_rehearsal_{number}")
            replication.wait_for_initial_copy(link, len(schema.TABLES), 60)
        return Pair(Clusters(source, target), link, counts)

    yield make
    for database in reversed(made):
        # Subscriptions first (they hold slots on the other server), then the databases.
        for server in (servers.target, servers.source):
            with contextlib.suppress(Exception):
                _drop(server, database)


@pytest.fixture
def aws() -> Iterator[Callable[[str], Any]]:
    """moto's in-process AWS (no emulator server needed)."""
    with mock_aws():
        session: Any = boto3.session.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        clients: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in clients:
                clients[service] = session.client(service)
            return clients[service]

        yield client


def weighted_pair(route53: Any, zone_id: str, name: str, source_weight: int, aurora_target: str, *, ttl: int = 60) -> None:
    """The cutover's record pair for `name`: `source` -> SOURCE_HOST and `aurora` -> `aurora_target`."""
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": name,
                "Type": "CNAME",
                "SetIdentifier": set_id,
                "Weight": weight,
                "TTL": ttl,
                "ResourceRecords": [{"Value": value}],
            },
        }
        for set_id, weight, value in (("source", source_weight, SOURCE_HOST), ("aurora", 100 - source_weight, aurora_target))
    ]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})


@pytest.fixture
def zone(aws: Callable[[str], Any]) -> str:
    """A hosted zone with writer.<zone> and reader.<zone> all on the source, TTL 60."""
    route53 = aws("route53")
    zone_id = str(route53.create_hosted_zone(Name=ZONE, CallerReference="rehearsal")["HostedZone"]["Id"]).rsplit("/", 1)[-1]
    weighted_pair(route53, zone_id, f"writer.{ZONE}", 100, AURORA_WRITER)
    weighted_pair(route53, zone_id, f"reader.{ZONE}", 100, AURORA_READER)
    return zone_id


def run_rehearsal(*arguments: str) -> dict[str, Any]:
    """`python -m tools.rehearsal ... --json` against the deployed emulator stack, as an operator runs it.

    Skips when no stack is deployed to a running emulator; fails with the tail of stderr on a non-zero exit.
    The run's folder is a temporary one: its report.json must be the report printed, its timeline.png a PNG.
    """
    import json
    import os
    import subprocess
    import sys
    import tempfile

    from lib.config import PROJECT_ROOT
    from tools import emulator
    from tools.rehearsal.stack import read_outputs, reusable

    if not reusable(emulator.endpoint(), read_outputs()):
        pytest.skip("needs the stack deployed to a running emulator (python -m tools.deploy up with TAP_TARGET=emulator)")
    with tempfile.TemporaryDirectory(prefix="rehearsal-") as folder:
        done = subprocess.run(
            [sys.executable, "-m", "tools.rehearsal", *arguments, "--json", "--out", folder],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": f"{PROJECT_ROOT}:{PROJECT_ROOT / 'lambda' / 'cutover'}"},
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        report: dict[str, Any] = json.loads(done.stdout)
        written = Path(folder)
        assert json.loads((written / "report.json").read_text()) == report
        assert report["png"] == str(written / "timeline.png")
        assert (written / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"report: {written / 'report.json'}; timeline: {written / 'timeline.png'}" in done.stderr
    return report
