"""The migration rehearsal's numbers on this machine (numbers, not verdicts), in two parts, each bounded in time.

1. The rehearsal at the default rate (`python -m tools.rehearsal --json`, in a subprocess): writes
   acknowledged / lost / duplicated / in doubt, the write outage, the drain, the sequence sync, the phases.
2. The highest write rate the rehearsal's application and replication sustain here: the same workload
   (writer threads through weighted Route 53 records, moto in-process) against a real source cluster that
   replicates to a real target, run for a short window per rate; a rate is sustained when at least 97 % of
   the offered transactions were acknowledged and the measured replication lag stayed within
   LAG_LIMIT_SECONDS. The search doubles the rate from --start until a rate fails, then bisects a few
   times; it stops when --budget seconds are spent.

    .venv/bin/python -m benchmarks.rehearsal [--rows N] [--duration S] [--start RATE] [--budget S] [--skip-rehearsal]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda" / "cutover"))
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from tools.rehearsal import schema  # noqa: E402
from tools.rehearsal.clusters import Cluster, grant_application, rehearsal_clusters  # noqa: E402
from tools.rehearsal.replication import LagMeter, start_forward, wait_for_initial_copy  # noqa: E402
from tools.rehearsal.resolver import NameTable, WeightedResolver  # noqa: E402
from tools.rehearsal.timeline import Timeline  # noqa: E402
from tools.rehearsal.workload import Workload, WorkloadConfig  # noqa: E402

SUSTAINED_SHARE = 0.97
LAG_LIMIT_SECONDS = 5.0
WARMUP_SECONDS = 3.0
WINDOW_SECONDS = 12.0
BISECT_STEPS = 3
MAX_RATE = 6400.0
SEARCH_ROWS = 20_000
ZONE = "rehearsal.bench"
SOURCE_HOST = "onprem-pg.rehearsal.bench"


def run_rehearsal(rows: int, duration: float) -> dict[str, Any]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tools.rehearsal", "--json", "--rows", str(rows), "--duration", str(duration)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'lambda' / 'cutover'}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=duration + 900,
    )
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        return {"error": f"exit {done.returncode}, no report", "stderr_tail": done.stderr.strip().splitlines()[-15:]}
    keys = (
        "passed", "writes_acknowledged", "writes_lost", "writes_duplicated", "writes_in_doubt", "writes_refused",
        "duplicate_keys_after_flip", "write_unavailable_s", "drain_s", "sequence_sync_s", "phases", "setup_s", "problems",
    )  # fmt: skip
    numbers = {key: report.get(key) for key in keys}
    numbers["rate"] = report.get("rate")
    numbers["wall_s"] = round(time.monotonic() - started, 1)
    return numbers


def _zone(route53: Any) -> str:
    zone_id = str(route53.create_hosted_zone(Name=ZONE, CallerReference="bench")["HostedZone"]["Id"]).rsplit("/", 1)[-1]
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": f"{pair}.{ZONE}",
                "Type": "CNAME",
                "SetIdentifier": "source",
                "Weight": 100,
                "TTL": 60,
                "ResourceRecords": [{"Value": SOURCE_HOST}],
            },
        }
        for pair in ("writer", "reader")
    ]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return zone_id


def measure_rate(
    rate: float, writers: int, *, source: Cluster, meter: LagMeter, route53: Any, zone_id: str, counts: dict[str, int]
) -> dict[str, Any]:
    names: NameTable[Cluster] = NameTable({SOURCE_HOST: source})
    config = WorkloadConfig(
        rate=rate, writers=writers, readers=1, read_rate=20.0, customers=counts["customers"], ledger_seed_rows=counts["ledger"]
    )
    workload = Workload(
        config,
        names,
        lambda index: WeightedResolver(route53, zone_id, f"writer.{ZONE}", rng=random.Random(index)),  # noqa: S311
        lambda index: WeightedResolver(route53, zone_id, f"reader.{ZONE}", rng=random.Random(index)),  # noqa: S311
        Timeline(),
    )
    worst_lag = 0.0
    with workload:
        time.sleep(WARMUP_SECONDS)
        before, started = len(workload.records), time.monotonic()
        end = started + WINDOW_SECONDS
        while time.monotonic() < end:
            time.sleep(1.0)
            sample = meter.measure()
            worst_lag = max(worst_lag, sample.target_s if sample.target_s is not None else float("inf"))
        achieved = (len(workload.records) - before) / (time.monotonic() - started)
    sustained = achieved >= SUSTAINED_SHARE * rate and worst_lag <= LAG_LIMIT_SECONDS and not workload.crashed
    return {
        "offered_per_s": rate,
        "achieved_per_s": round(achieved, 1),
        "max_lag_s": round(worst_lag, 3),
        "writers": writers,
        "sustained": sustained,
    }


def search(start: float, budget_s: float) -> dict[str, Any]:
    began = time.monotonic()
    points: list[dict[str, Any]] = []
    with rehearsal_clusters() as clusters, mock_aws():
        schema.create_schema(clusters.source)
        counts = schema.load_data(clusters.source, SEARCH_ROWS)
        schema.copy_schema(clusters.source, clusters.target)
        for cluster in (clusters.source, clusters.target):
            grant_application(cluster)
        link = start_forward(clusters.source, clusters.target)
        wait_for_initial_copy(link, len(schema.TABLES), 120)
        meter = LagMeter(link)
        route53 = boto3.session.Session(region_name="us-east-1").client("route53")
        zone_id = _zone(route53)
        per_point = WARMUP_SECONDS + WINDOW_SECONDS + 3

        def measure(rate: float) -> bool:
            writers = max(4, min(32, round(rate / 100)))
            point = measure_rate(
                rate, writers, source=clusters.source, meter=meter, route53=route53, zone_id=zone_id, counts=counts
            )
            points.append(point)
            print(f"  {rate:7.0f}/s offered -> {point['achieved_per_s']:7.1f}/s, lag {point['max_lag_s']}s: "
                  f"{'sustained' if point['sustained'] else 'NOT sustained'}", file=sys.stderr)  # fmt: skip
            return bool(point["sustained"])

        def affordable() -> bool:
            return time.monotonic() - began + per_point <= budget_s

        good, bad = 0.0, None
        rate = start
        while rate <= MAX_RATE and affordable():
            if not measure(rate):
                bad = rate
                break
            good, rate = rate, rate * 2
        for _ in range(BISECT_STEPS):
            if bad is None or not affordable():
                break
            middle = round((good + bad) / 2)
            if measure(middle):
                good = middle
            else:
                bad = middle
        meter.close()
    return {
        "highest_sustained_per_s": good or None,
        "lowest_failed_per_s": bad,
        "criteria": f">= {SUSTAINED_SHARE:.0%} of offered acknowledged, replication lag <= {LAG_LIMIT_SECONDS:g}s, "
        f"{WINDOW_SECONDS:g}s window after {WARMUP_SECONDS:g}s warm-up",
        "points": points,
        "search_s": round(time.monotonic() - began, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=schema.DEFAULT_ROWS, help="rows for the rehearsal run")
    parser.add_argument("--duration", type=float, default=300.0, help="the rehearsal's --duration")
    parser.add_argument("--start", type=float, default=200.0, help="first rate of the search")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds the rate search may take")
    parser.add_argument("--skip-rehearsal", action="store_true", help="only the rate search (no emulator needed)")
    args = parser.parse_args()
    result: dict[str, Any] = {"cpus": os.cpu_count()}
    if not args.skip_rehearsal:
        print("rehearsal at the default rate ...", file=sys.stderr)
        result["rehearsal"] = run_rehearsal(args.rows, args.duration)
    print("highest sustained rate ...", file=sys.stderr)
    result["sustained_rate"] = search(args.start, args.budget)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
