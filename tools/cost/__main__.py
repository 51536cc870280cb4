"""`./tap cost [--config PATH] [--json]`: the config's monthly estimate (tools/cost/__init__.py says how).

The config is TAP_CONFIG's (or --config's), synthesized here for the `aws` target into a temporary folder,
so cdktf.out/ and any deployment are left alone. Exit 2 on a config error, 1 when something cannot be priced.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lib import provider_import  # noqa: F401  (the fast provider import, before cdktf loads anything)
from lib.config import AppConfig, ConfigError, load_config
from lib.constants import STACK_NAME
from tools.cost import PRICES_FILE, CostError, estimate, load_prices, render


def synthesized(config: AppConfig) -> dict[str, Any]:
    """The Terraform JSON `cdktf synth` writes for `config`, synthesized in a temporary folder."""
    from cdktf import App  # noqa: PLC0415  (jsii starts only when a stack is built)

    from lib.tap_stack import TapStack  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="tap-cost-") as outdir:
        app = App(outdir=outdir)
        TapStack(app, STACK_NAME, config)
        app.synth()
        stack: dict[str, Any] = json.loads((Path(outdir) / "stacks" / STACK_NAME / "cdk.tf.json").read_text(encoding="utf-8"))
    return stack


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./tap cost", description="A monthly estimate of what the config deploys.")
    parser.add_argument("--config", help="the config file (default: TAP_CONFIG, else config/tap-migrate.toml)")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    args = parser.parse_args(argv)
    env = dict(os.environ if env is None else env)
    env["TAP_TARGET"] = "aws"  # what an account would run, whatever the launcher's target
    try:
        config = load_config(args.config, env=env)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"[cost] synthesizing {config.project.prefix} in a temporary folder (10-60 s) ...", file=sys.stderr, flush=True)
    try:
        result = estimate(synthesized(config), load_prices())
    except CostError as error:
        print(f"cost: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"stack": config.project.prefix, "prices": str(PRICES_FILE.name), **result.as_dict()}, indent=2))
    else:
        title = (
            f"monthly estimate for {config.project.prefix}: {result.price_region} on-demand list prices of {result.taken} "
            f"(tools/cost/{PRICES_FILE.name}), {int(load_prices()['hours_per_month'])} h a month"
        )
        print(render(result, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
