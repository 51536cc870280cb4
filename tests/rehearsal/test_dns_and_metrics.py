"""The rehearsal's AWS side on moto: the resolver, the lag metrics the gates read, the reset, the shortened settings."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto import mock_aws
from tap_cutover.aws import build_adapters
from tap_cutover.engine import Engine
from tap_cutover.logic import evaluate_gates

from benchmarks.cutover_fixtures import MotoStack
from tests.rehearsal.conftest import AURORA_WRITER, SOURCE_HOST, ZONE, weighted_pair
from tools.rehearsal.cutover import EngineLog, rehearsal_settings, reset_cutover, start_dms_task
from tools.rehearsal.monitor import own_period_end, publish_lag
from tools.rehearsal.replication import LagSample
from tools.rehearsal.resolver import NameTable, ResolveError, WeightedResolver


def test_resolver_caches_an_answer_for_its_ttl_and_picks_records_by_weight(aws: Callable[[str], Any], zone: str) -> None:
    route53 = aws("route53")
    name = f"writer.{ZONE}"
    weighted_pair(route53, zone, name, 75, AURORA_WRITER, ttl=60)
    now = [1000.0]
    resolver = WeightedResolver(route53, zone, name, rng=random.Random(7), clock=lambda: now[0])  # noqa: S311
    first = resolver.resolve()
    assert (resolver.lookups, first.from_cache, first.record.ttl) == (1, False, 60)
    now[0] += 59.9
    cached = resolver.resolve()
    assert (resolver.lookups, cached.from_cache, cached.target) == (1, True, first.target)
    now[0] += 0.1
    resolver.resolve()
    assert resolver.lookups == 2

    picks: Counter[str] = Counter()
    for _ in range(800):
        now[0] += 61
        picks[resolver.resolve().record.set_identifier] += 1
    assert 0.18 < picks["aurora"] / 800 < 0.32, picks

    # The cutover lowers the TTL and moves the writer: the new answer arrives once the old one expired, then lives 5 s.
    weighted_pair(route53, zone, name, 0, AURORA_WRITER, ttl=5)
    before = resolver.resolve()
    now[0] = before.expires_at - 0.01
    assert resolver.resolve().from_cache
    now[0] = before.expires_at
    moved = resolver.resolve()
    assert (moved.target, moved.record.ttl, moved.from_cache) == (AURORA_WRITER, 5, False)
    targets = set()
    for _ in range(50):
        now[0] += 5
        targets.add(resolver.resolve().target)
    assert targets == {AURORA_WRITER}  # weight 0 is never answered


def test_name_table_maps_route53_targets_to_local_clusters_and_refuses_unknown_names() -> None:
    table = NameTable({SOURCE_HOST + ".": "source", AURORA_WRITER.upper(): "target"})
    assert table.lookup(SOURCE_HOST) == "source"
    assert table.lookup(AURORA_WRITER + ".") == "target"
    with pytest.raises(ResolveError, match="not in the rehearsal's name table"):
        table.lookup("elsewhere.example.com")


@pytest.fixture
def moto_stack() -> Iterator[MotoStack]:
    with mock_aws():
        yield MotoStack()


def test_published_lag_lands_in_the_series_the_cutover_gates_read(moto_stack: MotoStack) -> None:
    settings = rehearsal_settings(moto_stack.settings)
    moto_stack.start_task()
    now = datetime.now(UTC).replace(second=30, microsecond=0)
    # One measured second in each of the last three minutes, as the monitor publishes them.
    for minutes_ago, lag in ((3, 0.4), (2, 0.6), (1, 0.2)):
        at = (now - timedelta(minutes=minutes_ago)).timestamp()
        sample = LagSample(at=at, source_s=lag, target_s=lag + 0.1, wal_end=10, sent=9, applied=9, streaming=True)
        assert publish_lag(moto_stack.cloudwatch, settings, sample) == 2
    engine = Engine(settings, build_adapters(settings, moto_stack.session), emit=EngineLog())
    observation = engine.observe(now)
    assert [point.value for point in observation.latency_target][:3] == pytest.approx([0.3, 0.7, 0.5])
    gates = {gate.name: gate for gate in evaluate_gates(settings, observation, now).results}
    assert gates["cdc_latency_source"].green and gates["cdc_latency_target"].green

    unmeasured = LagSample(at=now.timestamp(), source_s=None, target_s=None, wal_end=10, sent=None, applied=None, streaming=False)
    assert publish_lag(moto_stack.cloudwatch, settings, unmeasured) == 0  # missing stays missing (red), never 0

    late = now + timedelta(minutes=1)
    lagging = LagSample(at=now.timestamp() + 10, source_s=45.0, target_s=47.0, wal_end=10, sent=1, applied=1, streaming=False)
    publish_lag(moto_stack.cloudwatch, settings, lagging)
    gates = {gate.name: gate for gate in evaluate_gates(settings, engine.observe(late), late).results}
    assert not gates["cdc_latency_target"].green
    assert "47" in gates["cdc_latency_target"].value


def test_reset_puts_state_records_lock_and_task_back_to_the_start(moto_stack: MotoStack) -> None:
    settings = moto_stack.settings
    engine = Engine(settings, build_adapters(settings, moto_stack.session), emit=EngineLog())
    moto_stack.ssm.put_parameter(
        Name=settings.state_parameter_name, Value='{"version": 7, "phase": "replicating"}', Overwrite=True
    )
    moto_stack.ssm.put_parameter(Name=settings.lock_parameter_name, Value='{"purpose": "interrupted"}', Type="String")
    moto_stack.route53.change_resource_record_sets(
        HostedZoneId=settings.hosted_zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": settings.writer_record_name,
                        "Type": "CNAME",
                        "SetIdentifier": "aurora",
                        "Weight": 100,
                        "TTL": 5,
                        "ResourceRecords": [{"Value": settings.aurora_writer_endpoint}],
                    },
                }
            ]
        },
    )
    moto_stack.start_task()
    done = reset_cutover(engine, moto_stack.dms)
    assert len(done) == 4, done
    assert moto_stack.state() == {"version": 8, "phase": "replicating"}
    assert moto_stack.weights() == {
        "reader": {"source": (100, 60), "aurora": (0, 60)},
        "writer": {"source": (100, 60), "aurora": (0, 60)},
    }
    assert engine.adapters.params.read_lock() is None
    task = moto_stack.dms.describe_replication_tasks()["ReplicationTasks"][0]
    assert task["Status"] == "stopped"
    assert "running, full load 100%" in start_dms_task(moto_stack.dms, settings.dms_replication_arn)
    assert json.loads(engine.adapters.params.read_state())["version"] == 8


def test_rehearsal_settings_shorten_the_holds_and_keep_ttls_and_thresholds(moto_stack: MotoStack) -> None:
    deployed = moto_stack.settings
    shortened = rehearsal_settings(deployed)
    assert (shortened.step_hold_seconds, shortened.latency_periods) == (5, 1)
    assert replace(shortened, step_hold_seconds=deployed.step_hold_seconds, latency_periods=deployed.latency_periods) == deployed
    broken = rehearsal_settings(deployed, drain_timeout_seconds=10)
    assert (broken.drain_timeout_seconds, broken.drain_poll_seconds, broken.record_ttl) == (10, 5, deployed.record_ttl)


def test_own_period_skips_a_period_an_earlier_run_published_into(moto_stack: MotoStack) -> None:
    settings = moto_stack.settings
    period_start = (datetime.now(UTC) - timedelta(minutes=10)).replace(second=0, microsecond=0).timestamp()
    first = period_start + 30
    assert own_period_end(moto_stack.cloudwatch, settings, first) == period_start + 60
    earlier = LagSample(at=period_start + 10, source_s=0.1, target_s=0.1, wal_end=1, sent=1, applied=1, streaming=True)
    publish_lag(moto_stack.cloudwatch, settings, earlier)
    assert own_period_end(moto_stack.cloudwatch, settings, first) == period_start + 120
