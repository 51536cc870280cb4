"""The synthesized Terraform JSON of the base stack, its Serverless variant and every example, pinned.

A refactoring of the config model or the constructs must leave these byte-identical (after the
normalization below); an intended change shows up as a reviewed diff of tests/snapshots/*.json.
Regenerate after an intended change with:

    TAP_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/test_synth_snapshots.py

Normalized: the checkout's absolute path (the local state backend) and the Lambda asset's content
hash (it changes with every edit of the Lambda code, which tests/unit/test_lambda_package.py covers).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import lib  # noqa: F401  (fast provider import before cdktf loads anything)
from lib.config import PROJECT_ROOT, AppConfig, load_config
from tests.unit.conftest import BASE_CONFIG, config_from, synthesize

SNAPSHOTS = PROJECT_ROOT / "tests" / "snapshots"
EXAMPLES = sorted(path.parent.name for path in (PROJECT_ROOT / "examples").glob("*/tap-migrate.toml"))
_ASSET_HASH = re.compile(r"(assets/[A-Za-z0-9_]+/)[0-9A-F]{32}(/)")
_CODE_HASH = re.compile(r'("source_code_hash":\s*")[0-9A-F]{32}(")')

CONFIGS: dict[str, Callable[[], AppConfig]] = {
    "base": lambda: load_config(BASE_CONFIG, env={}),
    "base-serverless": lambda: config_from({"dms": {"serverless": True}}),
    **{
        name: (lambda name=name: load_config(PROJECT_ROOT / "examples" / name / "tap-migrate.toml", env={}))  # type: ignore[misc]
        for name in EXAMPLES
    },
}


def normalized(synthesized: str, root: Path = PROJECT_ROOT) -> str:
    text = synthesized.replace(str(root), "<project-root>")
    text = _ASSET_HASH.sub(r"\1<content-hash>\2", text)
    text = _CODE_HASH.sub(r"\1<content-hash>\2", text)
    parsed: Any = json.loads(text)
    return json.dumps(parsed, indent=1, sort_keys=True) + "\n"


def test_every_example_has_a_snapshot_and_no_snapshot_is_orphaned() -> None:
    assert EXAMPLES, "no example found"
    on_disk = {path.stem for path in SNAPSHOTS.glob("*.json")}
    if os.environ.get("TAP_UPDATE_SNAPSHOTS") != "1":
        assert on_disk == set(CONFIGS), f"snapshots {sorted(on_disk)} != stacks {sorted(CONFIGS)}"


def test_normalization_hides_only_the_checkout_path_and_the_asset_hash() -> None:
    asset = "assets/cutover_code_CF4CC5E1/ACA63E6DFB0C41B1D706F2805A12E8AE/c.zip"
    raw = json.dumps({"path": f"{PROJECT_ROOT}/.state/x.tfstate", "code": asset, "source_code_hash": "AB" * 16})
    assert json.loads(normalized(raw)) == {
        "code": "assets/cutover_code_CF4CC5E1/<content-hash>/c.zip",
        "path": "<project-root>/.state/x.tfstate",
        "source_code_hash": "<content-hash>",
    }


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_synthesized_json_matches_the_snapshot(name: str) -> None:
    actual = normalized(synthesize(CONFIGS[name]()))
    snapshot = SNAPSHOTS / f"{name}.json"
    if os.environ.get("TAP_UPDATE_SNAPSHOTS") == "1":
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(actual)
    assert snapshot.exists(), f"{snapshot} missing: run with TAP_UPDATE_SNAPSHOTS=1 and review the new file"
    expected = snapshot.read_text()
    if actual != expected:
        pytest.fail(
            f"{name}: the synthesized JSON differs from {snapshot.relative_to(PROJECT_ROOT)}. If the change is intended, "
            "regenerate with TAP_UPDATE_SNAPSHOTS=1 and review the diff; otherwise the refactoring changed the stack."
        )
