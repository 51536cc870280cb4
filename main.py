#!/usr/bin/env python
"""CDKTF entry point: load and validate the config, then synthesize one TapStack.

Config file: `TAP_CONFIG`, else the `tapConfigFile` context in cdktf.json, else
config/tap-migrate.toml. A bad config stops here with every problem listed, before any
construct exists.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from lib import provider_import  # noqa: F401  (installs the fast provider import first)
from lib.config import ConfigError, load_config
from lib.constants import CONFIG_CONTEXT_KEY, STACK_NAME


def _context_value() -> str | None:
    """The config file named in cdktf.json's context, which the cdktf CLI passes in CDKTF_CONTEXT_JSON.

    Read before the App exists: creating an App already creates its output folder.
    """
    try:
        context = json.loads(os.environ.get("CDKTF_CONTEXT_JSON") or "{}")
    except json.JSONDecodeError:
        return None
    value = context.get(CONFIG_CONTEXT_KEY) if isinstance(context, dict) else None
    return str(value) if value else None


def main(outdir: str | None = None) -> int:
    try:
        config = load_config(context_value=_context_value())
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    for warning in config.warnings:  # acknowledged hazards (lib/config/hazards.py), said at every synth
        print(f"warning: {warning}", file=sys.stderr)
    from cdktf import App

    from lib.tap_stack import TapStack

    app = App(outdir=outdir) if outdir else App()

    TapStack(app, STACK_NAME, config)
    app.synth()
    from lib.policy.gate import check_synth_output

    findings = check_synth_output(Path(app.outdir))
    for finding in findings:
        print(f"policy: {finding}", file=sys.stderr)
    if findings:
        # Nothing the gate refused may stay where `cdktf deploy` or a `terraform apply` in cdktf.out would pick it up.
        shutil.rmtree(Path(app.outdir) / "stacks" / STACK_NAME, ignore_errors=True)
        print(
            f"policy gate: {len(findings)} finding(s); fix them or add a reviewed entry to lib/policy/suppressions.toml "
            f"(the refused stack was removed from {app.outdir})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
