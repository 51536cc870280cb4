"""--tables N: many tables with their own sequences (odd names included), replicated, synced by the operator over a proxy."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator

import pytest
from psycopg import sql

from tap_operator.databases import parse_url
from tap_operator.databases.operations import sync_sequences
from tests.rehearsal.conftest import Servers, _drop
from tools.rehearsal import replication, schema
from tools.rehearsal.clusters import Cluster, Clusters, grant_application, operator_proxies, prepare_database

EXTRA = 300
_numbers = itertools.count(1)


@pytest.fixture
def replicated_extra(servers: Servers) -> Iterator[Clusters]:
    """A pair with the rehearsal's schema, EXTRA extra tables and the descending one, replicated source -> target."""
    database = f"extra_{next(_numbers)}"
    try:
        source = prepare_database("source", servers.source, servers.source_password, database)
        target = prepare_database("target", servers.target, servers.target_password, database)
        schema.create_schema(source)
        assert schema.create_extra_tables(source, EXTRA, descending=True) == EXTRA + 1
        schema.copy_schema(source, target)
        for cluster in (source, target):
            grant_application(cluster)
        link = replication.start_forward(source, target, name=f"tap_extra_{database}")
        replication.wait_for_initial_copy(link, len(schema.TABLES) + EXTRA + 1, 120)
        yield Clusters(source, target)
    finally:
        for server in (servers.target, servers.source):
            with contextlib.suppress(Exception):
                _drop(server, database)


def _tables(cluster: Cluster) -> set[str]:
    with cluster.admin() as connection:
        rows = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {str(row[0]) for row in rows}


def _rows(cluster: Cluster, table: str) -> int:
    with cluster.admin() as connection:
        row = connection.execute(sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(table))).fetchone()
    assert row is not None
    return int(row[0])


def test_extra_tables_are_made_replicated_and_their_sequences_synced_through_the_proxy(replicated_extra: Clusters) -> None:
    source, target = replicated_extra.source, replicated_extra.target
    names = schema.extra_table_names(EXTRA, descending=True)
    assert len(names) == len(set(names)) == EXTRA + 1
    odd = [name for name in names if not name.startswith("extra_")]
    assert {"Extra.Dots.1", 'extra "quoted" 2', "Extra_MixedCase_3", "extra with spaces 4", "Extra.Dots.251"} <= set(odd)
    assert set(names) <= _tables(source)
    assert set(names) <= _tables(target)
    for name in [*odd, "extra_00005", "extra_00300"]:
        assert _rows(target, name) == _rows(source, name) > 0
    with source.admin() as connection:
        sequences = connection.execute("SELECT count(*) FROM pg_sequences WHERE schemaname = 'public'").fetchone()
        descending = connection.execute(
            "SELECT increment_by FROM pg_sequences WHERE sequencename LIKE %s", (f"{schema.DESCENDING_TABLE}%",)
        ).fetchone()
    assert sequences is not None and int(sequences[0]) >= EXTRA + 1
    assert descending == (-1,)

    # The operator's sync through latency proxies: every ascending sequence raised, the descending one refused.
    with operator_proxies(replicated_extra, rtt_ms=2) as (proxied, proxies):
        started = time.monotonic()
        report = sync_sequences(parse_url(proxied.source.operator_url()), parse_url(proxied.target.operator_url()))
        seconds = time.monotonic() - started
        trips = {role: proxy.stats.turns for role, proxy in proxies.items()}
    assert proxied.source.operator_url() != source.admin_url()
    # Every ascending sequence raised; the descending one is refused ("set it by hand") or, by a sync that moves
    # each sequence in its own direction, synced too.
    bad = [row for row in report.rows if not row.ok]
    assert all(schema.DESCENDING_TABLE in str(row.name) for row in bad), report.summary
    assert len(report.rows) >= EXTRA + 1
    assert trips["source"] > 0 and trips["target"] > 0
    assert seconds >= 0.002 * (trips["source"] + trips["target"]) * 0.9  # each round trip paid the RTT
    with target.admin() as connection:
        next_id = connection.execute(
            sql.SQL("INSERT INTO public.{} (note) VALUES ('after') RETURNING id").format(sql.Identifier(odd[1]))
        ).fetchone()
    with source.admin() as connection:
        on_source = connection.execute(sql.SQL("SELECT max(id) FROM public.{}").format(sql.Identifier(odd[1]))).fetchone()
    assert next_id is not None and on_source is not None and next_id[0] > on_source[0]


def test_no_extra_tables_by_default() -> None:
    assert schema.extra_table_names(0) == []
    with pytest.raises(ValueError, match="count"):
        schema.create_extra_tables(None, -1)  # type: ignore[arg-type]
