"""Fixtures for the cutover Lambda tests (names prefixed ``cutover_`` to stay out of other suites' way)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The Lambda zip is built from lambda/cutover, so tap_cutover is a top-level package there.
_LAMBDA_DIR = Path(__file__).resolve().parents[3] / "lambda" / "cutover"
if str(_LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(_LAMBDA_DIR))

from tap_cutover.settings import Settings  # noqa: E402

from benchmarks.cutover_fixtures import (  # noqa: E402
    CUTOVER_ENV,
    MotoStack,
    isolate_aws_env,
)

from .fakes import World  # noqa: E402


@pytest.fixture
def cutover_env() -> dict[str, str]:
    return dict(CUTOVER_ENV)


@pytest.fixture
def cutover_settings() -> Settings:
    return Settings.from_env(CUTOVER_ENV)


@pytest.fixture
def cutover_world(cutover_settings: Settings) -> World:
    return World(cutover_settings)


@pytest.fixture
def cutover_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoStack]:
    """moto's in-process AWS with the cutover's resources; no real endpoint or profile can leak in."""
    from moto import mock_aws

    isolate_aws_env(monkeypatch)
    with mock_aws():
        yield MotoStack()
