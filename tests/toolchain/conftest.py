"""Toolchain tests run real processes: synthesize once per session into a temp dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.config import PROJECT_ROOT
from lib.constants import STACK_NAME
from tools.terraform_cli import cli_config


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(cli_config(env))
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{' '.join(args)} failed in {cwd}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def _synth_json(outdir: Path, **extra: str) -> Path:
    _run([sys.executable, "main.py"], PROJECT_ROOT, _env(CDKTF_OUTDIR=str(outdir), **extra))
    return outdir / "stacks" / STACK_NAME


@pytest.fixture(scope="session")
def fast_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _synth_json(tmp_path_factory.mktemp("fast"))


EXAMPLES = sorted(path.parent.name for path in (PROJECT_ROOT / "examples").glob("*/tap-migrate.toml"))


@pytest.fixture(scope="session")
def example_synths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each example config synthesized by main.py, as a user would with TAP_CONFIG."""
    return {
        name: _synth_json(tmp_path_factory.mktemp(name), TAP_CONFIG=str(PROJECT_ROOT / "examples" / name / "tap-migrate.toml"))
        for name in EXAMPLES
    }


@pytest.fixture(scope="session")
def serverless_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base config (cutover included) on DMS Serverless: its cutover, alarms and dashboard differ."""
    base = (PROJECT_ROOT / "config" / "tap-migrate.toml").read_text(encoding="utf-8")
    assert "\n[dms]\n" in base
    config = tmp_path_factory.mktemp("serverless-config") / "tap-migrate.toml"
    config.write_text(base.replace("\n[dms]\n", "\n[dms]\nserverless = true\n", 1), encoding="utf-8")
    return config


@pytest.fixture(scope="session")
def serverless_synth(tmp_path_factory: pytest.TempPathFactory, serverless_config: Path) -> Path:
    return _synth_json(tmp_path_factory.mktemp("serverless"), TAP_CONFIG=str(serverless_config))
