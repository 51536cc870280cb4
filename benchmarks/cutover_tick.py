"""Cutover Lambda cost, measured in one run (numbers, not verdicts).

Reports: handler import time in fresh interpreters (target <= 150 ms, boto3 must not be
imported); AWS calls per tick counted with a botocore ``before-call`` hook under moto's
mock_aws, for a no-change tick, a step tick and the fence-entry tick (target <= 10), for a
task and for a DMS Serverless replication (whose two DMS calls a recording fake answers); and,
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
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = ROOT / "lambda" / "cutover"
sys.path.insert(0, str(LAMBDA_DIR))

from tap_cutover.aws import DmsServerlessReplication, build_adapters  # noqa: E402
from tap_cutover.engine import Engine  # noqa: E402
from tap_cutover.logic import Tick, align  # noqa: E402

sys.path.insert(0, str(ROOT))
from benchmarks.cutover_fixtures import Clock, MotoStack, aligned_now  # noqa: E402

IMPORT_PROBE = (
    "import sys, time; t = time.perf_counter(); import tap_cutover.handler; "
    "ms = (time.perf_counter() - t) * 1000; "
    "print(ms, any(m.split('.')[0] in ('boto3', 'botocore') for m in sys.modules))"
)


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


class RecordingServerlessDms:
    """moto has no DMS Serverless: this answers its two calls as a caught-up replication and counts them."""

    def __init__(self, arn: str, counter: Counter[str]) -> None:
        self._arn = arn
        self._counter = counter

    def describe_replications(self, **_: Any) -> dict[str, Any]:
        self._counter.update(["DescribeReplications"])
        stats = {"FullLoadProgressPercent": 100, "TablesErrored": 0}
        replication = {"ReplicationConfigArn": self._arn, "Status": "running", "ReplicationType": "full-load-and-cdc"}
        return {"Replications": [{**replication, "ReplicationStats": stats}]}

    def describe_replication_table_statistics(self, **_: Any) -> dict[str, Any]:
        self._counter.update(["DescribeReplicationTableStatistics"])
        return {"ReplicationTableStatistics": [{"TableName": "orders", "ValidationState": "Validated"}]}


def calls_per_tick(*, serverless: bool) -> dict[str, Any]:
    from moto import mock_aws

    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    with mock_aws():
        # The same moto resources the handler tests use (benchmarks/cutover_fixtures.py).
        stack = MotoStack()
        stack.start_task()
        session, settings = stack.session, replace(stack.settings, step_hold_seconds=300)
        clock = Clock(aligned_now())
        window = (align(clock.now, 60) - timedelta(hours=1), align(clock.now, 60) + timedelta(hours=1))
        counter: Counter[str] = Counter()
        # Clients copy the session's event hooks when they are created: register before building them.
        session.events.register("before-call.*.*", lambda model, **_: counter.update([model.name]))
        if serverless:
            arn = f"arn:aws:dms:us-east-1:123456789012:replication-config:{settings.dms_resource_id}"
            settings = replace(settings, dms_replication_arn=arn, dms_replication_instance_id=None)
            dims = [{"Name": "ReplicationConfigId", "Value": f"123456789012:{settings.dms_resource_id}"}]
            stack.publish_latency(*window, 0.5, 0.5, dimensions=dims)
            adapters = build_adapters(settings, session)
            adapters = replace(adapters, task=DmsServerlessReplication(RecordingServerlessDms(arn, counter), settings))  # type: ignore[arg-type]
        else:
            stack.publish_latency(*window, 0.5, 0.5)
            adapters = build_adapters(settings, session)
        engine = Engine(settings, adapters, clock=clock, emit=lambda _record: None)

        def measure(label: str, trigger: Any, expect: str) -> dict[str, Any]:
            counter.clear()
            start = time.perf_counter()
            result = engine.run(trigger)
            elapsed = (time.perf_counter() - start) * 1000
            assert result.status == expect, (label, result.status, result.message)
            return {"calls": sum(counter.values()), "by_operation": dict(sorted(counter.items())), "moto_ms": round(elapsed, 1)}

        from tap_cutover.logic import Action, Evidence, OperatorCommand, RecordEvidence

        # './cutover advance' records the passed preflight, then starts.
        assert engine.run(RecordEvidence(Evidence.PREFLIGHT_PASSED, "bench", "0 block")).status == "changed"
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
    report: dict[str, Any] = {
        "handler_import": import_ms(args.repeat),
        "aws_calls": calls_per_tick(serverless=False),
        # The first tick of a container also lists the replication's lag series (two ListMetrics).
        "aws_calls_dms_serverless": calls_per_tick(serverless=True),
    }
    if args.fuzz:
        report["fuzz"] = fuzz_seconds(args.fuzz)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
