"""Suite-wide options: tests marked `long` (minutes each) run only with `--long` (`./tap test --long`).

Without it they are reported as skipped with the command that runs them, never silently left out.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long", action="store_true", default=False, help="also run the tests marked long (./tap test --long; docs/testing.md)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--long"):
        return
    skip = pytest.mark.skip(reason="long end-to-end run (minutes): ./tap test --long runs it, see docs/testing.md")
    for item in items:
        if item.get_closest_marker("long") is not None:
            item.add_marker(skip)
