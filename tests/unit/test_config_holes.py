"""Bad configs a new user tried that used to pass synth (or crash): each is refused naming the field and the fix.

Issue 15's list: tracebacks, values AWS refuses at apply, configs that synthesize but cannot work,
unbounded safety values, environment overrides, and the documented allow_unencrypted opt-in.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import main
from lib.config import AppConfig, ConfigError, known_regions, load_config
from lib.constants import ALLOW_UNENCRYPTED_TAG, IAM_ROLE_NAME_MAX
from lib.policy.gate import evaluate
from tests.unit.conftest import BASE_CONFIG, synthesize

MYSQL_SOURCE = {"engine": "mysql", "engine_version": "8.0", "port": 3306}
KINESIS_TARGET = {"kind": "kinesis", "stream_mode": "ON_DEMAND"}

HOLES: list[tuple[str, dict[str, Any], list[str]]] = [
    # IPv6 where the stack writes IPv4 (a TypeError from subnet_of before)
    ("IPv6 VPC", {"network": {"vpc_cidr": "2001:db8::/56"}}, ["network.vpc_cidr", "2001:db8::/56", "IPv6", "IPv4 block"]),
    (
        "IPv6 source network",
        {"sources": {"onprem": {"cidr_blocks": ["2001:db8::/32"]}}},
        ["sources.onprem.cidr_blocks[0]", "IPv6", "IPv4 block"],
    ),
    # Values AWS refuses at apply
    ("name with a trailing hyphen", {"project": {"name": "tap-"}}, ["project.name", "'tap-'", "not ending with '-'"]),
    ("name with a double hyphen", {"project": {"name": "tap--migrate"}}, ["project.name", "'tap--migrate'", "single '-'"]),
    (
        "key with a trailing hyphen",
        {"sources": {"onprem-": {}}},
        ["sources.onprem-", "not ending with '-'"],
    ),
    (
        "VPC block too large",
        {"network": {"vpc_cidr": "10.0.0.0/8", "private_subnet_cidrs": ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"]}},
        ["network.vpc_cidr", "10.0.0.0/8", "/16 to /28"],
    ),
    (
        "subnet smaller than /28",
        {"network": {"private_subnet_cidrs": ["10.20.0.0/29", "10.20.1.0/24", "10.20.2.0/24"]}},
        ["network.private_subnet_cidrs[0]", "10.20.0.0/29", "/28 or larger"],
    ),
    ("region that does not exist", {"project": {"region": "us-moon-1"}}, ["project.region", "'us-moon-1'", "not an AWS region"]),
    ("tag key with the aws: prefix", {"project": {"tags": {"aws:owner": "me"}}}, ["project.tags.aws:owner", "reserved"]),
    ("tag value too long", {"project": {"tags": {"Owner": "x" * 257}}}, ["project.tags.Owner", "at most 256"]),
    # Configs that synthesize but cannot work
    (
        "cutover across engine families, whatever the note",
        {
            "sources": {"onprem": MYSQL_SOURCE},
            "dms": {"tasks": {"main": {"schema_conversion_note": "docs/sct-plan.md"}}},
            "cutover": {"reverse_replication": False},
        },
        ["cutover.task_key", "mysql database", "aurora_postgresql", "wrong protocol", "cutover.enabled = false"],
    ),
    (
        "source host given as an IP address with a cutover",
        {"sources": {"onprem": {"host": "192.168.1.10"}}},
        ["sources.onprem.host", "'192.168.1.10'", "CNAME", "DNS name"],
    ),
    (
        "cutover domain above the source host",
        {"cutover": {"domain": "corp.example.com"}},
        ["cutover.domain", "'corp.example.com'", "onprem-pg.corp.example.com", "hide the real source"],
    ),
    # Unbounded safety values
    (
        "latency threshold of a day",
        {"cutover": {"latency_threshold_seconds": 86400}},
        ["cutover.latency_threshold_seconds", "86400", "at most 3600"],
    ),
    (
        "one metric period and no hold",
        {"cutover": {"latency_periods": 1, "step_hold_seconds": 0}},
        ["cutover.step_hold_seconds", "single metric datapoint"],
    ),
    ("every read at once", {"cutover": {"read_steps": [100]}}, ["cutover.read_steps", "[100]", "cutover.risk_accepted"]),
    (
        "a ten-minute latency threshold",
        {"cutover": {"latency_threshold_seconds": 600}},
        ["cutover.latency_threshold_seconds", "600", "risk_accepted"],
    ),
    (
        "a hold shorter than the gate window",
        {"cutover": {"step_hold_seconds": 60}},
        ["cutover.step_hold_seconds", "60", "risk_accepted"],
    ),
    (
        "a preflight that never expires",
        {"cutover": {"preflight_valid_minutes": 0}},
        ["cutover.preflight_valid_minutes", "0", "1..1440", "fresh one"],
    ),
    (
        "a CPU alarm that cannot fire",
        {"observability": {"aurora_cpu_max_percent": 100}},
        ["observability.aurora_cpu_max_percent", "100", "1..99"],
    ),
    (
        "a connection alarm above any max_connections",
        {"observability": {"aurora_connections_max": 100000}},
        ["observability.aurora_connections_max", "100000", "never fires"],
    ),
    (
        "a cutover error alarm a failing schedule never reaches",
        {"observability": {"cutover_errors_max": 1}},
        ["observability.cutover_errors_max", "would never alarm"],
    ),
    (
        "a free-storage alarm that is always on",
        {"observability": {"dms_free_storage_min_gb": 100}},
        ["observability.dms_free_storage_min_gb", "100", "always on"],
    ),
]


@pytest.mark.parametrize(("case", "overrides", "expected"), HOLES, ids=[c[0] for c in HOLES])
def test_each_hole_is_refused_naming_field_and_fix(
    case: str, overrides: dict[str, Any], expected: list[str], make_config: Callable[..., AppConfig]
) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config(overrides)
    matching = [p for p in raised.value.problems if all(fragment in p for fragment in expected)]
    assert matching, f"{case}: no problem mentions all of {expected}: {raised.value.problems}"


def test_unusual_values_pass_with_a_reason_in_the_file(make_config: Callable[..., AppConfig]) -> None:
    config = make_config(
        {"cutover": {"read_steps": [100], "step_hold_seconds": 60, "risk_accepted": "a read-only reporting replica"}}
    )
    assert config.cutover is not None and config.cutover.read_steps == (100,)
    # Unsafe stays refused whatever the reason.
    with pytest.raises(ConfigError, match="at most 3600"):
        make_config({"cutover": {"latency_threshold_seconds": 86400, "risk_accepted": "trust me"}})


def test_a_role_name_over_iam_limit_is_refused_before_synth(make_config: Callable[..., AppConfig]) -> None:
    key = "k" + "x" * 30  # the longest key allowed
    raw = tomllib.loads(Path("examples/003-postgres-kinesis-streaming-lake/tap-migrate.toml").read_text())
    (target_key,) = [k for k, t in raw["targets"].items() if t["kind"] == "kinesis"]
    raw["targets"][key] = raw["targets"].pop(target_key)
    for task in raw["dms"]["tasks"].values():
        if task.get("target") == target_key:
            task["target"] = key
    raw["project"]["environment_suffix"] = "abcdefghijkl"
    from lib.config import parse_config

    with pytest.raises(ConfigError) as raised:
        parse_config(raw, env={}, config_file=Path("examples/003-postgres-kinesis-streaming-lake/tap-migrate.toml"))
    assert any(f"targets.{key}" in p and f"IAM allows {IAM_ROLE_NAME_MAX}" in p for p in raised.value.problems)


def test_mappings_that_select_nothing_or_lack_a_locator_are_refused(
    tmp_path: Path, make_config: Callable[..., AppConfig]
) -> None:
    rule = {"rule-type": "selection", "rule-id": "1", "rule-name": "1"}
    cases = {
        "exclude-only.json": (
            [{**rule, "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "exclude"}],
            "migrate nothing",
        ),
        "no-locator.json": ([{**rule, "rule-action": "include"}], "needs an 'object-locator'"),
    }
    for name, (rules, expected) in cases.items():
        path = tmp_path / name
        path.write_text(json.dumps({"rules": rules}))
        with pytest.raises(ConfigError) as raised:
            make_config({"dms": {"tasks": {"main": {"table_mappings_file": str(path)}}}})
        assert any("dms.tasks.main.table_mappings_file" in p and expected in p for p in raised.value.problems), name


def test_files_that_are_not_utf8_are_named_not_a_traceback(tmp_path: Path, make_config: Callable[..., AppConfig]) -> None:
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(BASE_CONFIG.read_bytes().replace(b'Owner = "platform-team"', b'Owner = "\xe9quipe"'))
    with pytest.raises(ConfigError, match=r"is not UTF-8 text .*save it as UTF-8"):
        load_config(latin1, env={})
    mappings = tmp_path / "mappings.json"
    mappings.write_bytes(b'{"rules": "\xff"}')
    with pytest.raises(ConfigError, match=r"dms\.tasks\.main\.table_mappings_file: .* is not UTF-8 text"):
        make_config({"dms": {"tasks": {"main": {"table_mappings_file": str(mappings)}}}})


@pytest.mark.parametrize(
    ("variable", "value", "field"),
    [
        ("TAP_PROFILE", "production", "project.profile"),
        ("AWS_REGION", "moon", "project.region"),
        ("ENVIRONMENT_SUFFIX", "Dev_1", "project.environment_suffix"),
    ],
)
def test_a_bad_environment_override_names_the_variable(
    variable: str, value: str, field: str, make_config: Callable[..., AppConfig]
) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config({}, env={variable: value})
    (problem,) = [p for p in raised.value.problems if field in p]
    assert problem.startswith(f"{variable} (environment, overrides {field}): ") and repr(value) in problem
    assert f"unset {variable}" in problem


def test_regions_come_from_the_sdk_data_and_include_other_partitions() -> None:
    regions = known_regions()
    assert {"us-east-1", "eu-west-1", "us-gov-west-1", "cn-north-1"} <= regions and "us-moon-1" not in regions


def test_the_documented_allow_unencrypted_opt_in_synthesizes_past_the_gate(
    tmp_path: Path, make_config: Callable[..., AppConfig]
) -> None:
    mappings = tmp_path / "mysql-mappings.json"  # on MySQL a schema is the database, here appdb
    mappings.write_text(json.dumps({"rules": [_selection("1", "appdb", "%")]}))
    config = make_config(
        {
            "sources": {"onprem": {**MYSQL_SOURCE, "ssl_mode": "none", "allow_unencrypted": True}},
            "targets": {"aurora": {"kind": "aurora_mysql"}},
            "aurora": {"engine_version": ""},
            "dms": {"tasks": {"main": {"table_mappings_file": str(mappings)}}},
        }
    )
    stack = json.loads(synthesize(config))
    endpoints = [e for e in stack["resource"]["aws_dms_endpoint"].values() if e.get("ssl_mode") == "none"]
    # The source endpoint and the reverse task's endpoint into the same source carry the opt-in, naming the field.
    assert len(endpoints) == 2
    assert all(e["tags"] == {ALLOW_UNENCRYPTED_TAG: "sources.onprem.allow_unencrypted"} for e in endpoints)
    assert evaluate(stack, suppressions=[]) == []


def test_the_ssl_rule_still_refuses_an_untagged_or_non_mysql_endpoint() -> None:
    from lib.policy import source_ssl
    from lib.policy.model import SynthesizedStack

    def doc(body: dict[str, Any]) -> SynthesizedStack:
        return SynthesizedStack({"resource": {"aws_dms_endpoint": {"bad": body}}})

    assert source_ssl.check(doc({"engine_name": "mysql", "ssl_mode": "none"}))
    assert source_ssl.check(doc({"engine_name": "postgres", "ssl_mode": "none", "tags": {ALLOW_UNENCRYPTED_TAG: "x"}}))
    assert source_ssl.check(doc({"engine_name": "mysql", "ssl_mode": "none", "tags": {ALLOW_UNENCRYPTED_TAG: "x"}})) == []


def test_a_stack_the_gate_refuses_is_removed_from_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lib.policy.model import Finding

    monkeypatch.setenv("TAP_CONFIG", str(BASE_CONFIG))
    monkeypatch.setattr("lib.policy.gate.check_synth_output", lambda outdir: [Finding("ssl-to-database-endpoints", "x.y", "bad")])
    outdir = tmp_path / "cdktf.out"
    assert main.main(str(outdir)) == 1
    assert not (outdir / "stacks" / "tap-migrate").exists()
    assert "the refused stack was removed" in capsys.readouterr().err


def _selection(rule_id: str, schema: str, table: str, action: str = "include") -> dict[str, object]:
    locator = {"schema-name": schema, "table-name": table}
    return {"rule-type": "selection", "rule-id": rule_id, "rule-name": rule_id, "object-locator": locator, "rule-action": action}


@pytest.mark.parametrize(
    ("rules", "refused"),
    [
        ([_selection("1", "sales", "%")], True),  # only the user's tables
        ([_selection("1", "public", "orders")], True),
        ([_selection("1", "public", "%"), _selection("2", "public", "tap[_]migrate%", "exclude")], True),
        ([_selection("1", "public", "%")], False),
        ([_selection("1", "sales", "%"), _selection("2", "public", "tap_migrate_cutover_marker", "explicit")], False),
        ([_selection("1", "p_blic", "tap[_]migrate[_]cutover[_]marker")], False),  # DMS wildcards: _ is any one char
    ],
)
def test_a_cutover_whose_mappings_leave_out_the_marker_table_fails_synth(
    tmp_path: Path, make_config: Callable[..., AppConfig], rules: list[dict[str, object]], refused: bool
) -> None:
    path = tmp_path / "mappings.json"
    path.write_text(json.dumps({"rules": rules}))
    override = {"dms": {"tasks": {"main": {"table_mappings_file": str(path)}}}}
    if not refused:
        make_config(override)
        return
    with pytest.raises(ConfigError) as raised:
        make_config(override)
    problem = next(p for p in raised.value.problems if "dms.tasks.main.table_mappings_file" in p)
    assert "selects no public.tap_migrate_cutover_marker" in problem and '"rule-action": "include"' in problem


def test_the_marker_rule_applies_only_with_a_cutover(tmp_path: Path, make_config: Callable[..., AppConfig]) -> None:
    path = tmp_path / "mappings.json"
    path.write_text(json.dumps({"rules": [_selection("1", "sales", "%")]}))
    make_config(
        {
            "dms": {"tasks": {"main": {"table_mappings_file": str(path)}}},
            "cutover": {"enabled": False, "reverse_replication": False},
        }
    )
