"""Synthesize each stack variant once per session; tests assert on the JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

import lib  # noqa: F401  (fast provider import before cdktf loads anything)
from lib.config import PROJECT_ROOT, AppConfig, load_config
from lib.policy.model import SynthesizedStack

if TYPE_CHECKING:
    from lib.tap_stack import TapStack

BASE_CONFIG = PROJECT_ROOT / "config" / "tap-migrate.toml"


def build(config: AppConfig) -> TapStack:
    import cdktf

    from lib.tap_stack import TapStack

    return TapStack(cdktf.Testing.app(), "under-test", config)


# Service principals and kms:ViaService values end in the partition's DNS suffix, a reference in the JSON.
DNS_SUFFIX = "${data.aws_partition.partition.dns_suffix}"


def synthesize(config: AppConfig) -> str:
    import cdktf

    return cdktf.Testing.synth(build(config))


@pytest.fixture(scope="session")
def base_config() -> AppConfig:
    return load_config(BASE_CONFIG, env={})


@pytest.fixture(scope="session")
def base_stack(base_config: AppConfig) -> TapStack:
    return build(base_config)


@pytest.fixture(scope="session")
def synthesized(base_stack: TapStack) -> str:
    import cdktf

    return cdktf.Testing.synth(base_stack)


@pytest.fixture(scope="session")
def stack_json(synthesized: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(synthesized)
    return parsed


@pytest.fixture(scope="session")
def variant_json(base_config: AppConfig) -> dict[str, Any]:
    """prod profile, existing source secret, looked-up DMS roles, emulator target, verify-full with a CA."""
    raw_overrides = {
        "project": {"profile": "prod"},
        "deployment": {"target": "emulator", "emulator_endpoint": "http://127.0.0.1:4599", "create_dms_service_roles": False},
        "sources": {
            "onprem": {
                "host": "pg.corp.example.com",
                "database": "appdb",
                "cidr_blocks": ["192.168.0.0/16"],
                "secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:onprem-pg-AbCdEf",
                "ssl_mode": "verify-full",
                "ca_certificate_file": "tests/unit/fixtures/source-ca.pem",
            }
        },
        "cutover": {"hosted_zone_id": "Z0123456789ABCDEFGHIJ"},
    }
    config = config_from(raw_overrides)
    parsed: dict[str, Any] = json.loads(synthesize(config))
    return parsed


def config_from(overrides: dict[str, Any], env: dict[str, str] | None = None) -> AppConfig:
    """The base TOML with some fields replaced, tables merged recursively (validation runs as for a user's file)."""
    import tomllib

    from lib.config import parse_config

    raw = tomllib.loads(BASE_CONFIG.read_text())
    _merge(raw, overrides)
    return parse_config(raw, env=env or {}, config_file=BASE_CONFIG)


def _merge(into: dict[str, Any], overrides: dict[str, Any]) -> None:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


@pytest.fixture(scope="session")
def make_config() -> Callable[..., AppConfig]:
    return config_from


def resources(stack: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = stack.get("resource", {}).get(resource_type, {})
    return found


def only(stack: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = resources(stack, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def statements(stack: dict[str, Any], policy_value: str) -> dict[str, dict[str, Any]]:
    """A policy attribute's statements by Sid (JSON or aws_iam_policy_document reference)."""
    found = SynthesizedStack(stack).policy_statements(policy_value)
    assert found is not None, f"unreadable policy {policy_value!r}"
    return {s["Sid"]: s for s in found}


JSONENCODE = re.compile(r"^\$\{jsonencode\((?P<body>.*)\)\}$", re.S)
BARE_SPLIT = re.compile(r'regex\("\[\^:\]\+\$", ((?:aws_)[\w.\-]+)\)')
BARE_REFERENCE = re.compile(r"([\[,:]\s*)((?:aws_|data\.|local\.)[\w.\-]+(?:\[\d+\][\w.\-]*)*)")


def decode_jsonencode(value: str) -> Any:
    """Read a `${jsonencode({...})}` attribute back into Python, references as "${...}" strings."""
    match = JSONENCODE.match(value)
    assert match, f"not a jsonencode expression: {value[:80]!r}"
    body = match["body"].replace('" = ', '": ')
    # Function calls first, parked as sentinels (their own quotes and references would confuse the next step).
    body = BARE_SPLIT.sub(lambda m: f'"@@split|{m[1]}@@"', body)
    decoded = json.loads(BARE_REFERENCE.sub(lambda m: f'{m[1]}"${{{m[2]}}}"', body))
    return _restore_splits(decoded)


def _restore_splits(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _restore_splits(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_restore_splits(value) for value in node]
    if isinstance(node, str) and node.startswith("@@split|"):
        _, reference = node.strip("@").split("|")
        return f'${{regex("[^:]+$", {reference})}}'
    return node
