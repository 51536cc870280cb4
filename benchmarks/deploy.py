"""Deploy timings on the embedded emulator, in one run (target: deploy <= 90 s on 2 cores).

Reports emulator start, synth, init, apply (terraform apply -json -auto-approve), outputs, plan-after-apply
and destroy, each wall-clock seconds, and whether the plan after apply was clean.

    .venv/bin/python -m benchmarks.deploy
"""

from __future__ import annotations

import json
import os

from tools import deploy


def main() -> None:
    env = {**os.environ, "TAP_TARGET": "emulator"}
    try:
        report = deploy.up(env)
    finally:
        destroy_timings = deploy.down(env)
    timings = {**report["timings_s"], **destroy_timings}
    print(
        json.dumps(
            {
                "timings_s": timings,
                "plan_after_apply_clean": report["plan_clean"],
                "deploy_target_s": 90,
                "deploy_within_target": timings["init"] + timings["apply"] <= 90,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
