"""Real Terraform on the synthesized stack: JSON and HCL both validate; the fast import path is exact.

Each test runs a separate process (synth, terraform), so they live apart from the unit suite.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lib.config import PROJECT_ROOT
from lib.constants import STACK_NAME
from tests.toolchain.conftest import _env, _run, _synth_json
from tools.terraform_cli import prepare_workdir, terraform_binary

pytestmark = pytest.mark.terraform


def _validate(stack_dir: Path) -> str:
    env = _env()
    prepare_workdir(stack_dir)
    terraform = terraform_binary(env)
    _run([terraform, "init", "-input=false", "-no-color", "-lockfile=readonly", "-backend=false"], stack_dir, env)
    return _run([terraform, "validate", "-no-color", "-json"], stack_dir, env).stdout


def test_synthesized_json_passes_terraform_validate(fast_synth: Path) -> None:
    report = json.loads(_validate(fast_synth))
    assert report["valid"] is True, report
    assert report["error_count"] == 0


def _hcl_exit_path_is_valid(out: Path, **extra_env: str) -> None:
    cdktf = PROJECT_ROOT / "node_modules" / ".bin" / "cdktf"
    _run([str(cdktf), "synth", "--hcl", "--output", str(out)], PROJECT_ROOT, _env(**extra_env), timeout=600)
    stack_dir = out / "stacks" / STACK_NAME
    assert (stack_dir / "cdk.tf").is_file() and not (stack_dir / "cdk.tf.json").exists()
    report = json.loads(_validate(stack_dir))
    assert report["valid"] is True, report


def test_hcl_exit_path_passes_terraform_validate(tmp_path: Path) -> None:
    _hcl_exit_path_is_valid(tmp_path)


def test_hcl_exit_path_of_the_serverless_stack_passes_terraform_validate(tmp_path: Path, serverless_config: Path) -> None:
    """Its alarm and dashboard dimensions are templates (account id and ARN part) inside jsonencode."""
    _hcl_exit_path_is_valid(tmp_path, TAP_CONFIG=str(serverless_config))


def test_fast_provider_import_synthesizes_byte_identical_json(fast_synth: Path, tmp_path: Path) -> None:
    plain = _synth_json(tmp_path, TAP_PROVIDER_FAST_IMPORT="0")
    assert (fast_synth / "cdk.tf.json").read_bytes() == (plain / "cdk.tf.json").read_bytes()


def test_fast_path_really_skips_the_provider_package_init() -> None:
    code = (
        "import lib, sys; from cdktf_cdktf_provider_aws.vpc import Vpc; "
        "print(len([m for m in sys.modules if m.startswith('cdktf_cdktf_provider_aws.')]))"
    )
    loaded = int(_run([sys.executable, "-c", code], PROJECT_ROOT, _env()).stdout)
    assert loaded < 10, f"{loaded} provider submodules imported: the package __init__ ran"
