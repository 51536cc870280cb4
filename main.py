#!/usr/bin/env python
"""CDKTF entry point: load and validate the config, then synthesize one TapStack.

Config file: `TAP_CONFIG`, else the `tapConfigFile` context in cdktf.json, else
config/tap-migrate.toml. A bad config stops here with every problem listed, before any
construct exists.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lib import provider_import  # noqa: F401  (installs the fast provider import first)
from lib.config import ConfigError, load_config
from lib.constants import CONFIG_CONTEXT_KEY, STACK_NAME


def main(outdir: str | None = None) -> int:
    from cdktf import App

    app = App(outdir=outdir) if outdir else App()
    context_value = app.node.try_get_context(CONFIG_CONTEXT_KEY)
    try:
        config = load_config(context_value=str(context_value) if context_value else None)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    from lib.tap_stack import TapStack

    TapStack(app, STACK_NAME, config)
    app.synth()
    from lib.policy.gate import check_synth_output

    findings = check_synth_output(Path(app.outdir))
    for finding in findings:
        print(f"policy: {finding}", file=sys.stderr)
    if findings:
        print(
            f"policy gate: {len(findings)} finding(s); fix them or add a reviewed entry to lib/policy/suppressions.toml",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
