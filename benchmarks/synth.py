"""Synth speed, measured in one run on this machine (no timed tests: numbers, not verdicts).

Reports: the plain `import cdktf, cdktf_cdktf_provider_aws` wall time; `python main.py` wall
time and its ratio to that import (target <= 0.4); construct time, synth time and peak RSS
in-process; the same with 100 extra DMS tasks (target: + <= 0.5 s); and `python main.py` on the
largest example config (the one synthesizing the most resources).

    .venv/bin/python -m benchmarks.synth [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


def wall(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def in_process(extra_tasks: int) -> dict[str, float]:
    """Run in a child so each measurement starts cold; prints JSON."""
    code = f"""
import json, resource, time, tempfile
t0 = time.perf_counter()
import lib
from cdktf import App
from lib.config import load_config
from lib.tap_stack import TapStack
t1 = time.perf_counter()
config = load_config(env={{}})
base = next(iter(config.dms.tasks.values()))
tasks = dict(config.dms.tasks)
for i in range({extra_tasks}):
    tasks[f"extra-{{i}}"] = base.with_key(f"extra-{{i}}")
config = config.model_copy(update={{"dms": config.dms.model_copy(update={{"tasks": tasks}})}})
app = App(outdir=tempfile.mkdtemp())
t2 = time.perf_counter()
TapStack(app, "bench", config)
t3 = time.perf_counter()
app.synth()
t4 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "construct_s": t3 - t2, "synth_s": t4 - t3,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    # jsii runs the construct tree in a node child process: count its peak too.
    result["peak_rss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def largest_example() -> tuple[Path, int]:
    """The example config whose synthesized stack has the most resources."""
    counts = {}
    for config in sorted((ROOT / "examples").glob("*/tap-migrate.toml")):
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(
                [sys.executable, "main.py"],
                cwd=ROOT,
                env={**ENV, "CDKTF_OUTDIR": out, "TAP_CONFIG": str(config)},
                check=True,
                capture_output=True,
            )
            stack = json.loads((Path(out) / "stacks" / "tap-migrate" / "cdk.tf.json").read_text())
        counts[config] = sum(len(by_name) for by_name in stack["resource"].values())
    largest = max(counts, key=lambda config: counts[config])
    return largest, counts[largest]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    plain = [wall([sys.executable, "-c", "import cdktf, cdktf_cdktf_provider_aws"], ENV) for _ in range(args.repeat)]
    mains = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            mains.append(wall([sys.executable, "main.py"], {**ENV, "CDKTF_OUTDIR": out}))
    largest, resource_count = largest_example()
    largest_mains = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            largest_mains.append(wall([sys.executable, "main.py"], {**ENV, "CDKTF_OUTDIR": out, "TAP_CONFIG": str(largest)}))
    base = [in_process(0) for _ in range(args.repeat)]
    big = [in_process(100) for _ in range(args.repeat)]

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    plain_s, main_s = statistics.median(plain), statistics.median(mains)
    base_work = med(base, "construct_s") + med(base, "synth_s")
    big_work = med(big, "construct_s") + med(big, "synth_s")
    report = {
        "runs": args.repeat,
        "plain_provider_import_s": round(plain_s, 2),
        "main_py_wall_s": round(main_s, 2),
        "main_py_to_plain_import_ratio": round(main_s / plain_s, 3),
        "ratio_target": 0.4,
        "construct_s": round(med(base, "construct_s"), 3),
        "synth_s": round(med(base, "synth_s"), 3),
        "peak_rss_python_mb": round(med(base, "peak_rss_mb"), 1),
        "peak_rss_children_mb": round(med(base, "peak_rss_children_mb"), 1),
        "largest_example": {
            "config": str(largest.relative_to(ROOT)),
            "resources": resource_count,
            "main_py_wall_s": round(statistics.median(largest_mains), 2),
        },
        "with_100_extra_tasks": {
            "construct_s": round(med(big, "construct_s"), 3),
            "synth_s": round(med(big, "synth_s"), 3),
            "added_s": round(big_work - base_work, 3),
            "added_target_s": 0.5,
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
