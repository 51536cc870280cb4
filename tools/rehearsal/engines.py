"""The rehearsal's engine seam: what differs between a PostgreSQL and a MariaDB rehearsal, and nothing else.

The driver runs one scenario (stack, workload, cutover, verdicts, report, picture) for every engine; an
engine brings its two servers, their schema and data, what stands in for DMS (forward and reverse
replication), the lag measure, the application's statements and the verdict queries, and the few
arguments its operator CLI commands need.

    postgres  PostgreSQL 15 clusters, native logical replication (clusters.py, replication.py, schema.py)
    mariadb   MariaDB with GTID binlog replication (mariadb_servers.py, mariadb_replication.py,
              mariadb_verdicts.py); the CLI gets a MariaDB -> Aurora MySQL configuration (mariadb_config.py)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from tap_operator.writer_move import ReverseReplication
from tools.rehearsal import clusters, mariadb_config, mariadb_replication, mariadb_servers, mariadb_verdicts, replication, schema
from tools.rehearsal.latency_proxy import LatencyProxy
from tools.rehearsal.replication import Meter
from tools.rehearsal.sides import Pair, Role, Side
from tools.rehearsal.verdicts import MarkerWatcher, WriteVerdict, judge_writes
from tools.rehearsal.workload import POSTGRES, Dialect, WriteRecord

ENGINES = ("postgres", "mariadb")
MIN_COMPARE_LAG_SECONDS = 3.0


class Forward(Protocol):
    """The forward replication: --break-replication disables it before the fence."""

    @property
    def name(self) -> str: ...

    def disable(self) -> None: ...


class NativeReverse(ReverseReplication, Protocol):
    """The reverse replication the CLI starts at the flip; `link` is what carries the writes while it runs."""

    @property
    def link(self) -> Any: ...


class RehearsalEngine(Protocol):
    name: str
    dialect: Dialect  # the application's sessions and statements
    stand_in: str  # one line: what stands in for DMS here

    def servers(self, cleanup: contextlib.ExitStack, rtt_ms: float) -> tuple[Pair, dict[Role, LatencyProxy]]:
        """Start both servers (stopped and deleted by `cleanup`), behind latency proxies for the operator with rtt_ms."""
        ...

    def load(self, pair: Pair, rows: int, tables: int) -> dict[str, int]:
        """Schema and data on the source, the schema on the target, the application's grants; the row counts."""
        ...

    def start_forward(self, pair: Pair) -> Forward: ...

    def wait_for_initial_copy(self, link: Forward, tables: int, timeout_s: float) -> None: ...

    def lag_meter(self, link: Any) -> Meter: ...

    def reverse(self, link: Forward, on_start: Callable[[Any], None], on_stop: Callable[[], None]) -> NativeReverse: ...

    def marker_watcher(self, frozen: Side, caught_up: Side, next_writer: Side, timeout_s: float) -> MarkerWatcher: ...

    def judge(self, side: Side, records: Sequence[WriteRecord]) -> WriteVerdict: ...

    def cli_arguments(self, command: Sequence[str], pair: Pair) -> tuple[list[str], list[str]]:
        """(shown, hidden) arguments the operator CLI needs for `command`: hidden ones carry credentials."""
        ...

    def mappings(self) -> str | None:
        """The table mappings `compare --record` uses (None: the deployed configuration's)."""
        ...

    def server_version(self, pair: Pair) -> str: ...

    def compare_lag_seconds(self, recent_lag_s: float | None) -> float | None:
        """compare's --lag-seconds for the data proof (None: compare measures the applied position itself)."""
        ...


class PostgresEngine:
    name = "postgres"
    dialect = POSTGRES
    stand_in = "native logical replication stands in for AWS DMS: publication on the source, subscription on the target"

    def servers(self, cleanup: contextlib.ExitStack, rtt_ms: float) -> tuple[Pair, dict[Role, LatencyProxy]]:
        pair = cleanup.enter_context(clusters.rehearsal_clusters())
        if rtt_ms > 0:
            return cleanup.enter_context(clusters.operator_proxies(pair, rtt_ms))
        return pair, {}

    def load(self, pair: Pair, rows: int, tables: int) -> dict[str, int]:
        source, target = _pg(pair.source), _pg(pair.target)
        schema.create_schema(source)
        counts = schema.load_data(source, rows)
        schema.create_extra_tables(source, tables)
        schema.copy_schema(source, target)
        for cluster in (source, target):
            clusters.grant_application(cluster)
        return counts

    def start_forward(self, pair: Pair) -> Forward:
        return replication.start_forward(_pg(pair.source), _pg(pair.target))

    def wait_for_initial_copy(self, link: Forward, tables: int, timeout_s: float) -> None:
        assert isinstance(link, replication.Link)
        replication.wait_for_initial_copy(link, len(schema.TABLES) + tables, timeout_s)

    def lag_meter(self, link: Any) -> Meter:
        return replication.LagMeter(link)

    def reverse(self, link: Forward, on_start: Callable[[Any], None], on_stop: Callable[[], None]) -> NativeReverse:
        assert isinstance(link, replication.Link)
        return replication.RehearsalReverse(link, on_start=on_start, on_stop=on_stop)

    def marker_watcher(self, frozen: Side, caught_up: Side, next_writer: Side, timeout_s: float) -> MarkerWatcher:
        return MarkerWatcher(frozen, caught_up, next_writer, timeout_s)

    def judge(self, side: Side, records: Sequence[WriteRecord]) -> WriteVerdict:
        cluster = _pg(side)
        with cluster.admin() as connection:
            return judge_writes(connection, records, cluster.label)

    def cli_arguments(self, command: Sequence[str], pair: Pair) -> tuple[list[str], list[str]]:
        return [], []

    def mappings(self) -> str | None:
        return None

    def server_version(self, pair: Pair) -> str:
        return str(_pg(pair.source).server.query("SHOW server_version")[0][0])

    def compare_lag_seconds(self, recent_lag_s: float | None) -> float | None:
        return None  # PostgreSQL tells the position the subscriber applied: compare waits for exactly that


class MariaDbEngine:
    """MariaDB servers with GTID replication; the operator CLI gets a MariaDB -> Aurora MySQL configuration."""

    name = "mariadb"
    dialect = mariadb_verdicts.DIALECT
    stand_in = (
        "GTID binlog replication stands in for AWS DMS: the target replicates the source (schema and data included), "
        "and at the flip the source replicates the target"
    )

    def __init__(self) -> None:
        self._config: Path | None = None

    def servers(self, cleanup: contextlib.ExitStack, rtt_ms: float) -> tuple[Pair, dict[Role, LatencyProxy]]:
        if rtt_ms > 0:
            raise ValueError("--rtt-ms is not available with --engine mariadb (PostgreSQL only)")
        self._config = cleanup.enter_context(mariadb_config.operator_config(mariadb_servers.APP_DATABASE))
        return cleanup.enter_context(mariadb_servers.rehearsal_servers()), {}

    def load(self, pair: Pair, rows: int, tables: int) -> dict[str, int]:
        if tables:
            raise ValueError("--tables is not available with --engine mariadb (PostgreSQL only)")
        return mariadb_servers.load(_maria_pair(pair), rows)

    def start_forward(self, pair: Pair) -> Forward:
        return mariadb_replication.forward_link(_maria_pair(pair))

    def wait_for_initial_copy(self, link: Forward, tables: int, timeout_s: float) -> None:
        assert isinstance(link, mariadb_replication.GtidLink)
        mariadb_replication.wait_for_initial_copy(link, len(mariadb_servers.TABLES) + tables, timeout_s)

    def lag_meter(self, link: Any) -> Meter:
        return mariadb_replication.GtidLagMeter(link)

    def reverse(self, link: Forward, on_start: Callable[[Any], None], on_stop: Callable[[], None]) -> NativeReverse:
        assert isinstance(link, mariadb_replication.GtidLink)
        return mariadb_replication.GtidReverse(link, on_start=on_start, on_stop=on_stop)

    def marker_watcher(self, frozen: Side, caught_up: Side, next_writer: Side, timeout_s: float) -> MarkerWatcher:
        return mariadb_verdicts.MariaMarkerWatcher(frozen, caught_up, next_writer, timeout_s)

    def judge(self, side: Side, records: Sequence[WriteRecord]) -> WriteVerdict:
        return mariadb_verdicts.judge_writes(_maria(side), records)

    def cli_arguments(self, command: Sequence[str], pair: Pair) -> tuple[list[str], list[str]]:
        """The configuration (a MariaDB source) for every database command; the application's URL as the fence's proof.

        The operator's account writes through read_only on MariaDB (READ_ONLY ADMIN), so a fresh session of the
        application's account is what must fail to write: the source's for `fence`, the target's for a writer rollback.
        """
        if self._config is None or not command or command[0] not in {"advance", "fence", "rollback"}:
            return [], []
        shown = ["--config", str(self._config)]
        if command[0] == "fence":
            return shown, ["--proof-url", pair.source.app_url()]
        if command[0] == "rollback" and "--writer" in command:
            return shown, ["--proof-url", pair.target.app_url()]
        return shown, []

    def mappings(self) -> str | None:
        return mariadb_config.mappings_json(mariadb_servers.APP_DATABASE)

    def server_version(self, pair: Pair) -> str:
        return mariadb_servers.server_version(_maria(pair.source))

    def compare_lag_seconds(self, recent_lag_s: float | None) -> float | None:
        """MySQL/MariaDB tell compare no applied position: without --lag-seconds it waits 30 s (the gates' default
        threshold) per differing chunk. The operator passes what the gates showed; the rehearsal passes twice the
        highest lag it measured over the last metric period, at least MIN_COMPARE_LAG_SECONDS. Too short fails safe:
        a chunk read before it was applied stays different and no data proof is recorded."""
        return max(MIN_COMPARE_LAG_SECONDS, 2 * (recent_lag_s or 0.0))


def _pg(side: Side) -> clusters.Cluster:
    if not isinstance(side, clusters.Cluster):
        raise TypeError(f"the PostgreSQL rehearsal needs PostgreSQL clusters, got {side!r}")
    return side


def _maria(side: Side) -> mariadb_servers.MariaSide:
    if not isinstance(side, mariadb_servers.MariaSide):
        raise TypeError(f"the MariaDB rehearsal needs MariaDB servers, got {side!r}")
    return side


def _maria_pair(pair: Pair) -> mariadb_servers.MariaPair:
    if not isinstance(pair, mariadb_servers.MariaPair):
        raise TypeError(f"the MariaDB rehearsal needs a MariaDB pair, got {pair!r}")
    return pair


def engine_for(name: str) -> RehearsalEngine:
    if name == "postgres":
        return PostgresEngine()
    if name == "mariadb":
        return MariaDbEngine()
    raise ValueError(f"--engine {name!r}: use one of {', '.join(ENGINES)}")
