#!/usr/bin/env python
"""CDKTF entry point: load and validate the config, then synthesize one TapStack.

Config file: `TAP_CONFIG`, else the `tapConfigFile` context in cdktf.json, else
config/tap-migrate.toml. A bad config stops here with every problem listed, before any
construct exists.
"""

from __future__ import annotations

import sys

from lib import provider_import  # noqa: F401  (installs the fast provider import first)
from lib.config import ConfigError, load_config
from lib.constants import CONFIG_CONTEXT_KEY, STACK_NAME


def main() -> int:
    from cdktf import App

    app = App()
    context_value = app.node.try_get_context(CONFIG_CONTEXT_KEY)
    try:
        config = load_config(context_value=str(context_value) if context_value else None)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    from lib.tap_stack import TapStack

    TapStack(app, STACK_NAME, config)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
