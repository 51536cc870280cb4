"""Suite-wide options and grouping.

* Tests marked `long` (minutes each) run only with `--long` (`./tap test --long`); without it they are reported as
  skipped with the command that runs them, never silently left out.
* With pytest-xdist (`./tap test` runs `-n 2 --dist loadgroup`), tests that share something expensive run in one
  worker: everything against the emulator deployment (in file order: the integration tests need the cutover's
  fresh state, the rehearsal then resets it), each set of throwaway database servers, the toolchain's synths.
  Other tests are spread one by one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# tests/<folder> -> the xdist group whose session fixtures it shares.
GROUPS = {"db": "db-servers", "rehearsal": "rehearsal-servers", "toolchain": "toolchain-synths"}
DEPLOYMENT_GROUP = "emulator-deployment"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long", action="store_true", default=False, help="also run the tests marked long (./tap test --long; docs/testing.md)"
    )


def group_of(item: pytest.Item) -> str | None:
    if item.get_closest_marker("integration") is not None:
        return DEPLOYMENT_GROUP
    try:
        folder = item.path.relative_to(TESTS).parts[0]
    except ValueError:
        return None
    return GROUPS.get(folder)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_long = config.getoption("--long")
    skip = pytest.mark.skip(reason="long end-to-end run (minutes): ./tap test --long runs it, see docs/testing.md")
    for item in items:
        if not run_long and item.get_closest_marker("long") is not None:
            item.add_marker(skip)
        group = group_of(item)
        if group is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))
