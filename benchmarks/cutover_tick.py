"""Cutover Lambda cost, measured in one run (numbers, not verdicts).

Reports: handler import time in fresh interpreters (target <= 150 ms, boto3 must not be
imported); AWS calls per tick counted with a botocore ``before-call`` hook under moto's
mock_aws, for a no-change tick, a step tick and the fence-entry tick (target <= 10); and,
with --fuzz N, the wall time of N random state-machine sequences.

    .venv/bin/python -m benchmarks.cutover_tick [--repeat N] [--fuzz N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = ROOT / "lambda" / "cutover"
sys.path.insert(0, str(LAMBDA_DIR))

from tap_cutover.adapters import Engine, build_adapters  # noqa: E402
from tap_cutover.logic import Tick, align  # noqa: E402
from tap_cutover.settings import Settings  # noqa: E402

IMPORT_PROBE = (
    "import sys, time; t = time.perf_counter(); import tap_cutover.handler; "
    "ms = (time.perf_counter() - t) * 1000; "
    "print(ms, any(m.split('.')[0] in ('boto3', 'botocore') for m in sys.modules))"
)

ENV = {
    "STATE_PARAMETER_NAME": "/tap-migrate/bench/cutover/state",
    "LOCK_PARAMETER_NAME": "/tap-migrate/bench/cutover/lock",
    "HOSTED_ZONE_ID": "ZPLACEHOLDER",  # replaced by the zone moto creates
    "READER_RECORD_NAME": "reader.db.example.internal",
    "WRITER_RECORD_NAME": "writer.db.example.internal",
    "SOURCE_HOST": "onprem-pg.corp.example.com",
    "AURORA_READER_ENDPOINT": "tap.cluster-ro-abc.us-east-1.rds.amazonaws.com",
    "AURORA_WRITER_ENDPOINT": "tap.cluster-abc.us-east-1.rds.amazonaws.com",
    "RECORD_TTL": "60",
    "CUTOVER_TTL": "5",
    "DMS_TASK_ARN": "arn:aws:dms:us-east-1:123456789012:task:PLACEHOLDER",
    "DMS_REPLICATION_INSTANCE_ID": "tap-migrate-bench",
    "AURORA_CLUSTER_ID": "tap-migrate-bench",
    "SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:placeholder",
    "ALARM_NAME_PREFIX": "tap-migrate-bench-",
    "READ_STEPS": "10,25,50,100",
    "STEP_HOLD_SECONDS": "300",
    "LATENCY_THRESHOLD_SECONDS": "30",
    "LATENCY_PERIODS": "5",
    "METRIC_PERIOD_SECONDS": "60",
    "DRAIN_THRESHOLD_SECONDS": "1",
    "DRAIN_TIMEOUT_SECONDS": "600",
    "DRAIN_POLL_SECONDS": "5",
    "LOCK_TTL_SECONDS": "720",
}


def import_ms(repeat: int) -> dict[str, Any]:
    samples: list[float] = []
    loaded_sdk = False
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", IMPORT_PROBE], cwd=LAMBDA_DIR, check=True, capture_output=True, text=True)
        ms, sdk = done.stdout.split()
        samples.append(float(ms))
        loaded_sdk = loaded_sdk or sdk == "True"
    return {
        "median_ms": round(statistics.median(samples), 1),
        "max_ms": round(max(samples), 1),
        "target_ms": 150,
        "boto3_imported": loaded_sdk,
    }


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _create_resources(session: Any) -> Settings:
    base = Settings.from_env(ENV)
    route53, ssm, sns, dms, rds = (session.client(n) for n in ("route53", "ssm", "sns", "dms", "rds"))
    zone_id = route53.create_hosted_zone(Name="db.example.internal", CallerReference="bench")["HostedZone"]["Id"]
    zone_id = zone_id.split("/")[-1]
    topic = sns.create_topic(Name="tap-migrate-bench-cutover")["TopicArn"]
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier=base.dms_replication_instance_id, ReplicationInstanceClass="dms.t3.medium"
    )["ReplicationInstance"]["ReplicationInstanceArn"]
    endpoints = [
        dms.create_endpoint(EndpointIdentifier=kind, EndpointType=kind, EngineName="postgres", ServerName=kind, Port=5432)[
            "Endpoint"
        ]["EndpointArn"]
        for kind in ("source", "target")
    ]
    task = dms.create_replication_task(
        ReplicationTaskIdentifier="bench-main",
        SourceEndpointArn=endpoints[0],
        TargetEndpointArn=endpoints[1],
        ReplicationInstanceArn=instance,
        MigrationType="full-load-and-cdc",
        TableMappings='{"rules": []}',
    )["ReplicationTask"]["ReplicationTaskArn"]
    dms.start_replication_task(ReplicationTaskArn=task, StartReplicationTaskType="start-replication")
    rds.create_db_cluster(
        DBClusterIdentifier=base.aurora_cluster_id,
        Engine="aurora-postgresql",
        MasterUsername="bench",
        MasterUserPassword="bench-password-1",
    )
    settings = replace(base, hosted_zone_id=zone_id, sns_topic_arn=topic, dms_task_arn=task)
    ssm.put_parameter(Name=settings.state_parameter_name, Value='{"version": 1, "phase": "replicating"}', Type="String")
    changes = [
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": name,
                "Type": "CNAME",
                "SetIdentifier": set_id,
                "Weight": weight,
                "TTL": 60,
                "ResourceRecords": [{"Value": target}],
            },
        }
        for name, endpoint in (
            (settings.reader_record_name, settings.aurora_reader_endpoint),
            (settings.writer_record_name, settings.aurora_writer_endpoint),
        )
        for set_id, weight, target in (("source", 100, settings.source_host), ("aurora", 0, endpoint))
    ]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return settings


def _publish_latency(session: Any, settings: Settings, start: datetime, end: datetime) -> None:
    dims = [
        {"Name": "ReplicationInstanceIdentifier", "Value": settings.dms_replication_instance_id},
        {"Name": "ReplicationTaskIdentifier", "Value": settings.dms_task_resource_id},
    ]
    data = []
    at = start
    while at < end:
        for name in ("CDCLatencySource", "CDCLatencyTarget"):
            data.append({"MetricName": name, "Dimensions": dims, "Timestamp": at, "Value": 0.5})
        at += timedelta(seconds=60)
    session.client("cloudwatch").put_metric_data(Namespace="AWS/DMS", MetricData=data)


def calls_per_tick() -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        settings = _create_resources(session)
        clock = Clock(datetime.now(UTC).replace(second=30, microsecond=0))
        _publish_latency(session, settings, align(clock.now, 60) - timedelta(hours=1), align(clock.now, 60) + timedelta(hours=1))

        counter: Counter[str] = Counter()
        # Clients copy the session's event hooks when they are created: register before building them.
        session.events.register("before-call.*.*", lambda model, **_: counter.update([model.name]))
        engine = Engine(settings, build_adapters(settings, session), clock=clock, emit=lambda _record: None)

        def measure(label: str, trigger: Any, expect: str) -> dict[str, Any]:
            counter.clear()
            start = time.perf_counter()
            result = engine.run(trigger)
            elapsed = (time.perf_counter() - start) * 1000
            assert result.status == expect, (label, result.status, result.message)
            return {"calls": sum(counter.values()), "by_operation": dict(sorted(counter.items())), "moto_ms": round(elapsed, 1)}

        from tap_cutover.logic import Action, OperatorCommand

        report: dict[str, Any] = {
            "start (operator advance)": measure("start", OperatorCommand(Action.ADVANCE, "bench"), "changed")
        }
        report["no-change tick (holding a step)"] = measure("hold", Tick("schedule"), "no_change")
        clock.now += timedelta(seconds=settings.step_hold_seconds)
        report["transition tick (next step)"] = measure("step", Tick("schedule"), "changed")
        for _ in range(2):
            clock.now += timedelta(seconds=settings.step_hold_seconds)
            engine.run(Tick("schedule"))
        clock.now += timedelta(seconds=settings.step_hold_seconds)
        report["transition tick (enter fence: both pairs, one batch)"] = measure("fence", Tick("schedule"), "changed")
        report["max_tick_calls"] = max(v["calls"] for k, v in report.items() if "tick" in k)
        report["target_calls"] = 10
        return report


def fuzz_seconds(examples: int) -> dict[str, Any]:
    env = {**os.environ, "CUTOVER_FUZZ_EXAMPLES": str(examples)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/cutover/test_cutover_fuzz.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        "sequences": examples,
        "passed": done.returncode == 0,
        "wall_s": round(time.perf_counter() - start, 1),
        "tail": done.stdout.strip().splitlines()[-1:] if done.stdout else done.stderr.strip().splitlines()[-3:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7, help="fresh interpreters for the import timing")
    parser.add_argument("--fuzz", type=int, default=0, help="also time this many fuzz sequences (e.g. 10000)")
    args = parser.parse_args()
    report: dict[str, Any] = {"handler_import": import_ms(args.repeat), "aws_calls": calls_per_tick()}
    if args.fuzz:
        report["fuzz"] = fuzz_seconds(args.fuzz)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
