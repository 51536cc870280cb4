"""benchmarks/fence_window.py: what it counts as the operator's statements, and the outage verdict it reads."""

from __future__ import annotations

from pathlib import Path

from benchmarks import fence_window
from tools.dbservers import PostgresServer


def test_only_the_operators_statements_are_counted(tmp_path: Path) -> None:
    log = "\n".join(
        [
            "tapbench@@tap-migrate source@@LOG:  statement: SET default_transaction_read_only = off",
            "tapbench@@tap-migrate target@@LOG:  execute <unnamed>: SELECT setval($1::regclass, $2, false)",
            "tapbench@@tap-migrate target@@DETAIL:  parameters: $1 = 'public.a', $2 = '5'",
            "tapbench@@tap-migrate target@@LOG:  execute _pg3_0: SELECT last_value, is_called FROM public.a",
            "tapbench@@tap-migrate proof@@LOG:  statement: BEGIN",
            "tapbench@@bench_marker_10@@LOG:  logical replication apply worker for subscription started",
            "tapbench@@@@LOG:  statement: DO $reset$",
            "            FOR s IN SELECT 1 LOOP",
            "tapbench@@psql@@LOG:  statement: SELECT 1",
        ]
    )
    (tmp_path / "postgres.log").write_text(log + "\n")
    side = fence_window.Side(PostgresServer(5432, tmp_path, "x", {}), "app")
    assert side.statements_since(0) == 4


def test_the_outage_is_judged_against_the_ttl_at_the_flip_plus_five_seconds() -> None:
    report = {
        "passed": True,
        "extra_tables": 2000,
        "rtt_ms": 20.0,
        "record_ttl_s": 60,
        "cutover_ttl_s": 5,
        "write_unavailable_s": 9.2,
        "cli": [{"argv": ["advance"], "seconds": 1.0}, {"argv": ["fence", "--confirm"], "seconds": 3.5}],
        "fence_round_trips": {"source": {"round_trips": 40, "connections": 3}},
    }
    numbers = fence_window.rehearsal_numbers(report)
    assert numbers["outage_limit_s"] == 10  # the TTL at the flip (CUTOVER_TTL) + 5 s, not RECORD_TTL
    assert numbers["outage_target_met"] is True
    assert numbers["fence_command_s"] == 3.5
    assert fence_window.rehearsal_numbers({**report, "write_unavailable_s": 12.0})["outage_target_met"] is False
    assert fence_window.rehearsal_numbers({})["outage_target_met"] is None
