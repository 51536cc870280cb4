"""cutover.reverse_replication: an Aurora -> source CDC task, created stopped, that never harms the live source."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lib.config import AppConfig, ConfigError, normalize_json, parse_config
from lib.constants import CutoverEnv, Output
from tests.unit.conftest import BASE_CONFIG, config_from, decode_jsonencode, resources, statements, synthesize

Stack = dict[str, Any]
PREFIX = "tap-migrate-dev"
REVERSE_SETTINGS = Path(__file__).resolve().parents[2] / "dms" / "reverse-task-settings.json"


def _endpoints(stack: Stack) -> dict[str, dict[str, Any]]:
    return {e["endpoint_id"]: e for e in resources(stack, "aws_dms_endpoint").values()}


def _tasks(stack: Stack) -> dict[str, dict[str, Any]]:
    return {t["replication_task_id"]: t for t in resources(stack, "aws_dms_replication_task").values()}


def _secret_name(stack: Stack, reference: str) -> str:
    (name,) = [n for n in resources(stack, "aws_secretsmanager_secret") if reference == f"${{aws_secretsmanager_secret.{n}.arn}}"]
    return str(resources(stack, "aws_secretsmanager_secret")[name]["name"])


@pytest.fixture(scope="module")
def reverse_off() -> tuple[AppConfig, Stack]:
    """The base file without the field: the default is off."""
    raw = tomllib.loads(BASE_CONFIG.read_text())
    del raw["cutover"]["reverse_replication"], raw["cutover"]["reverse_settings_file"]
    config = parse_config(raw, env={}, config_file=BASE_CONFIG)
    return config, json.loads(synthesize(config))


@pytest.fixture(scope="module")
def mysql_stack() -> tuple[AppConfig, Stack]:
    config = config_from(
        {
            "sources": {"onprem": {"engine": "mysql", "engine_version": "8.0", "port": 3306, "database": ""}},
            "targets": {"aurora": {"kind": "aurora_mysql"}},
            "aurora": {"engine_version": ""},
        }
    )
    return config, json.loads(synthesize(config))


@pytest.fixture(scope="module")
def serverless_stack() -> tuple[AppConfig, Stack]:
    config = config_from({"dms": {"serverless": True}})
    return config, json.loads(synthesize(config))


# --------------------------------------------------------------------------------------
# Config


def test_the_default_config_turns_it_on_with_the_shipped_settings(base_config: AppConfig) -> None:
    assert base_config.cutover is not None and base_config.cutover.reverse_replication
    source = base_config.reverse_replication_source
    assert source is not None and source.key == "onprem"
    settings = json.loads(base_config.cutover.reverse_task_settings or "")
    assert settings["FullLoadSettings"]["TargetTablePrepMode"] == "DO_NOTHING"
    assert settings["TargetMetadata"]["BatchApplyEnabled"] is False
    assert settings["Logging"]["EnableLogging"] is True
    assert base_config.cutover.reverse_task_settings == normalize_json(json.loads(REVERSE_SETTINGS.read_text()))


def test_it_is_off_unless_set(reverse_off: tuple[AppConfig, Stack]) -> None:
    config, stack = reverse_off
    assert config.cutover is not None and not config.cutover.reverse_replication
    assert config.reverse_replication_source is None
    assert list(_tasks(stack)) == [f"{PREFIX}-main"]
    assert not any("reverse" in endpoint_id for endpoint_id in _endpoints(stack))
    assert not {Output.REVERSE_TASK_ARN, Output.REVERSE_TARGET_SECRET_ARN, Output.REVERSE_SLOT_NAME} & set(stack["output"])
    names = {s["name"] for s in resources(stack, "aws_secretsmanager_secret").values()}
    assert names == {f"{PREFIX}/dms-source-onprem", f"{PREFIX}/dms-target"}
    (function,) = resources(stack, "aws_lambda_function").values()
    assert CutoverEnv.DMS_REVERSE_REPLICATION_ARN not in function["environment"]["variables"]


def _problems(overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        config_from(overrides)
    return raised.value.problems


def test_it_is_refused_without_a_cutover() -> None:
    (problem,) = _problems({"cutover": {"enabled": False}})
    assert problem.startswith("cutover.reverse_replication: true, but cutover.enabled is false")
    assert "set reverse_replication = false" in problem


def test_it_is_refused_across_engine_families() -> None:
    problems = _problems(
        {
            "targets": {"aurora": {"kind": "aurora_mysql"}},
            "aurora": {"engine_version": ""},
            "dms": {"tasks": {"main": {"schema_conversion_note": "docs/sct-plan.md"}}},
        }
    )
    (problem,) = [p for p in problems if p.startswith("cutover.reverse_replication")]
    assert problem.startswith("cutover.reverse_replication: true, but the cutover task 'main' migrates postgres -> aurora_mysql")
    # The cutover itself is refused across families too (tests/unit/test_config_holes.py).
    assert any(p.startswith("cutover.task_key: the cutover moves the clients of a postgres database") for p in problems)
    assert "postgres -> aurora_postgresql, mysql/mariadb -> aurora_mysql" in problem and "set it to false" in problem


def test_a_task_may_not_take_the_reverse_task_name() -> None:
    (problem,) = _problems({"dms": {"tasks": {"main-reverse": {"source": "onprem", "target": "aurora"}}}})
    assert problem.startswith("dms.tasks.main-reverse: the reverse task of 'main' takes this name")


def _with_settings(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> list[str]:
    settings = json.loads(REVERSE_SETTINGS.read_text())
    change(settings)
    path = tmp_path / "reverse.json"
    path.write_text(json.dumps(settings))
    return _problems({"cutover": {"reverse_settings_file": str(path)}})


@pytest.mark.parametrize("mode", ["DROP_AND_CREATE", "TRUNCATE_BEFORE_LOAD", None])
def test_settings_that_would_drop_or_empty_source_tables_are_refused(tmp_path: Path, mode: str | None) -> None:
    def prepare(settings: dict[str, Any]) -> None:
        if mode is None:
            del settings["FullLoadSettings"]["TargetTablePrepMode"]  # DMS's default: DROP_AND_CREATE
        else:
            settings["FullLoadSettings"]["TargetTablePrepMode"] = mode

    (problem,) = _with_settings(tmp_path, prepare)
    assert problem.startswith(f"cutover.reverse_settings_file: FullLoadSettings.TargetTablePrepMode is {mode!r}")
    assert "set it to 'DO_NOTHING'" in problem and "live source database" in problem


def test_batch_apply_is_refused(tmp_path: Path) -> None:
    (problem,) = _with_settings(tmp_path, lambda s: s["TargetMetadata"].update(BatchApplyEnabled=True))
    assert problem.startswith("cutover.reverse_settings_file: TargetMetadata.BatchApplyEnabled is true; set it to false")
    assert "live source database" in problem


@pytest.mark.parametrize("key", ["HandleSourceTableDropped", "HandleSourceTableTruncated"])
def test_replaying_drop_or_truncate_is_refused(tmp_path: Path, key: str) -> None:
    (problem,) = _with_settings(tmp_path, lambda s: s["ChangeProcessingDdlHandlingPolicy"].pop(key))
    assert problem.startswith(f"cutover.reverse_settings_file: ChangeProcessingDdlHandlingPolicy.{key} is None")
    assert "set it to false" in problem


def test_the_settings_file_keeps_the_task_checks(tmp_path: Path) -> None:
    def unsafe(settings: dict[str, Any]) -> None:
        settings["Logging"]["EnableLogging"] = False
        settings["ErrorBehavior"]["DataTruncationErrorPolicy"] = "IGNORE_RECORD"

    logging, truncation = _with_settings(tmp_path, unsafe)
    assert logging == (
        "cutover.reverse_settings_file: Logging.EnableLogging must be true (task logs are how failures are diagnosed)"
    )
    assert truncation.startswith("cutover.reverse_settings_file: limited-size LOB mode truncates silently")


def test_a_missing_settings_file_is_named() -> None:
    (problem,) = _problems({"cutover": {"reverse_settings_file": "dms/absent.json"}})
    assert problem == (
        "cutover.reverse_settings_file: file 'dms/absent.json' not found (relative to the config file or the project root)"
    )


# --------------------------------------------------------------------------------------
# The stack (base config: PostgreSQL 15 -> Aurora PostgreSQL on a replication instance)


def test_the_reverse_task_is_cdc_only_created_stopped_on_the_forward_instance(stack_json: Stack) -> None:
    tasks = _tasks(stack_json)
    forward, reverse = tasks[f"{PREFIX}-main"], tasks[f"{PREFIX}-main-reverse"]
    assert reverse["migration_type"] == "cdc"
    assert reverse["start_replication_task"] is False
    assert reverse["replication_instance_arn"] == forward["replication_instance_arn"]
    assert reverse["table_mappings"] == forward["table_mappings"]
    settings = json.loads(reverse["replication_task_settings"])
    assert settings == json.loads(REVERSE_SETTINGS.read_text())
    assert settings["ChangeProcessingDdlHandlingPolicy"]["HandleSourceTableDropped"] is False


def test_the_reverse_endpoints_point_from_aurora_to_the_source(stack_json: Stack) -> None:
    endpoints = _endpoints(stack_json)
    tasks = _tasks(stack_json)
    reverse = tasks[f"{PREFIX}-main-reverse"]
    names = {name: body["endpoint_id"] for name, body in resources(stack_json, "aws_dms_endpoint").items()}
    by_reference = {f"${{aws_dms_endpoint.{name}.endpoint_arn}}": endpoint_id for name, endpoint_id in names.items()}
    assert by_reference[reverse["source_endpoint_arn"]] == f"{PREFIX}-reverse-source-aurora"
    assert by_reference[reverse["target_endpoint_arn"]] == f"{PREFIX}-reverse-target-onprem"

    aurora = endpoints[f"{PREFIX}-reverse-source-aurora"]
    assert (aurora["endpoint_type"], aurora["engine_name"], aurora["ssl_mode"]) == ("source", "aurora-postgresql", "require")
    assert aurora["database_name"] == "appdb"
    # The forward task's Aurora user, whose secret names the cluster writer endpoint (where slots live).
    assert _secret_name(stack_json, aurora["secrets_manager_arn"]) == f"{PREFIX}/dms-target"
    assert aurora["postgres_settings"] == {
        "plugin_name": "test_decoding",
        "slot_name": "tap_migrate_dev_reverse",
        "capture_ddls": False,
        "heartbeat_enable": True,
        "heartbeat_frequency": 5,
    }

    source = endpoints[f"{PREFIX}-reverse-target-onprem"]
    assert (source["endpoint_type"], source["engine_name"], source["ssl_mode"]) == ("target", "postgres", "require")
    assert source["database_name"] == "appdb"
    assert _secret_name(stack_json, source["secrets_manager_arn"]) == f"{PREFIX}/dms-reverse-target-onprem"
    # The fence makes the source default to read-only; only the reverse task's own sessions opt out.
    assert source["postgres_settings"] == {"after_connect_script": "SET default_transaction_read_only = off"}
    for endpoint in (aurora, source):
        assert "dms-secrets-role" in endpoint["secrets_manager_access_role_arn"]
        assert "aws_kms_key" in endpoint["kms_key_arn"]
        assert not {"password", "username", "server_name", "port"} & set(endpoint)


def test_the_reverse_target_secret_is_an_empty_encrypted_container(stack_json: Stack) -> None:
    secrets = {s["name"]: s for s in resources(stack_json, "aws_secretsmanager_secret").values()}
    secret = secrets[f"{PREFIX}/dms-reverse-target-onprem"]
    assert "aws_kms_key" in secret["kms_key_id"]
    assert "secret_string" not in secret and "aws_secretsmanager_secret_version" not in stack_json["resource"]
    # The Aurora user doubles as the reverse task's source: its secret says which grant that takes.
    assert "rds_replication" in secrets[f"{PREFIX}/dms-target"]["description"]


def test_outputs_name_the_task_secret_and_slot(stack_json: Stack) -> None:
    outputs = {key: body["value"] for key, body in stack_json["output"].items()}
    task_name = next(n for n, t in resources(stack_json, "aws_dms_replication_task").items() if t["migration_type"] == "cdc")
    assert outputs[Output.REVERSE_TASK_ARN] == f"${{aws_dms_replication_task.{task_name}.replication_task_arn}}"
    assert _secret_name(stack_json, outputs[Output.REVERSE_TARGET_SECRET_ARN]) == f"{PREFIX}/dms-reverse-target-onprem"
    assert outputs[Output.REVERSE_SLOT_NAME] == "tap_migrate_dev_reverse"


def test_the_reverse_task_gates_only_once_the_cli_started_it(stack_json: Stack) -> None:
    task_name = next(n for n, t in resources(stack_json, "aws_dms_replication_task").items() if t["migration_type"] == "cdc")
    reference = f"aws_dms_replication_task.{task_name}."
    for alarm in resources(stack_json, "aws_cloudwatch_metric_alarm").values():
        assert reference not in json.dumps(alarm), alarm["alarm_name"]
    # The Lambda knows it; its dms_task gate switches to it only when the state records the CLI's start
    # (tap_cutover.logic.watches_reverse), so a stopped reverse task never blocks the reads shift.
    (function,) = resources(stack_json, "aws_lambda_function").values()
    variables = function["environment"]["variables"]
    assert variables[CutoverEnv.DMS_REVERSE_REPLICATION_ARN] == f"${{{reference}replication_task_arn}}"
    rules = {r["name"]: r for r in resources(stack_json, "aws_cloudwatch_event_rule").values()}
    # Its state changes tick the Lambda at once (a failure after the fence pauses on the event); before the
    # CLI started it, such a tick judges the forward task as any other tick does.
    trigger = decode_jsonencode(rules[f"{PREFIX}-cutover-dms-task"]["event_pattern"])
    assert f"${{{reference}replication_task_arn}}" in trigger["resources"] and len(trigger["resources"]) == 2
    # Its stop or failure after the flip reaches the operators' topic: a rollback would then lose writes.
    stopped = decode_jsonencode(rules[f"{PREFIX}-dms-task-stopped"]["event_pattern"])
    assert f"${{{reference}replication_task_arn}}" in stopped["resources"]


def test_the_reverse_direction_needs_no_network_rule(stack_json: Stack, reverse_off: tuple[AppConfig, Stack]) -> None:
    """DMS opens both connections from its own group, which already reaches Aurora and the source."""
    _, without = reverse_off
    for rule_type in ("aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule", "aws_security_group"):
        assert resources(stack_json, rule_type) == resources(without, rule_type), rule_type


def test_the_secrets_role_reads_the_reverse_secret(stack_json: Stack) -> None:
    secret = next(n for n, s in resources(stack_json, "aws_secretsmanager_secret").items() if "reverse" in s["name"])
    policy = next(p for p in resources(stack_json, "aws_iam_role_policy").values() if p["name"] == "read-endpoint-secrets")
    readable = statements(stack_json, policy["policy"])["ReadEndpointSecrets"]["Resource"]
    assert f"${{aws_secretsmanager_secret.{secret}.arn}}" in readable


def test_verify_full_applies_to_the_reverse_target_too(variant_json: Stack) -> None:
    endpoints = _endpoints(variant_json)
    forward, reverse = endpoints[f"{PREFIX}-source-onprem"], endpoints[f"{PREFIX}-reverse-target-onprem"]
    assert reverse["ssl_mode"] == "verify-full"
    assert reverse["certificate_arn"] == forward["certificate_arn"] and "aws_dms_certificate" in reverse["certificate_arn"]
    # The forward task reads with the given secret; writing back uses the stack's own empty one.
    assert forward["secrets_manager_arn"].endswith(":secret:onprem-pg-AbCdEf")
    assert _secret_name(variant_json, reverse["secrets_manager_arn"]) == f"{PREFIX}/dms-reverse-target-onprem"


def test_mysql_reads_aurora_binlog_through_engine_aurora(mysql_stack: tuple[AppConfig, Stack]) -> None:
    config, stack = mysql_stack
    endpoints = _endpoints(stack)
    aurora, source = endpoints[f"{PREFIX}-reverse-source-aurora"], endpoints[f"{PREFIX}-reverse-target-onprem"]
    assert (aurora["engine_name"], aurora["endpoint_type"]) == ("aurora", "source")
    assert aurora["extra_connection_attributes"] == f"eventsPollInterval={config.sources['onprem'].events_poll_interval_seconds}"
    assert "postgres_settings" not in aurora and "database_name" not in aurora
    assert (source["engine_name"], source["endpoint_type"]) == ("mysql", "target")
    assert "database_name" not in source and "postgres_settings" not in source
    # The cluster keeps the row-based binlog the reverse task reads.
    (group,) = resources(stack, "aws_rds_cluster_parameter_group").values()
    assert {p["name"]: p["value"] for p in group["parameter"]}["binlog_format"] == "ROW"
    assert Output.REVERSE_SLOT_NAME not in stack["output"]
    assert {Output.REVERSE_TASK_ARN, Output.REVERSE_TARGET_SECRET_ARN} <= set(stack["output"])


def test_serverless_builds_a_stopped_cdc_replication_config(serverless_stack: tuple[AppConfig, Stack]) -> None:
    _, stack = serverless_stack
    assert "aws_dms_replication_task" not in stack["resource"]
    configs = {c["replication_config_identifier"]: c for c in resources(stack, "aws_dms_replication_config").values()}
    forward, reverse = configs[f"{PREFIX}-main"], configs[f"{PREFIX}-main-reverse"]
    assert (reverse["replication_type"], reverse["start_replication"]) == ("cdc", False)
    assert reverse["resource_identifier"] == f"{PREFIX}-main-reverse"
    assert reverse["compute_config"] == forward["compute_config"]
    assert reverse["table_mappings"] == forward["table_mappings"]
    assert json.loads(reverse["replication_settings"])["FullLoadSettings"]["TargetTablePrepMode"] == "DO_NOTHING"
    groups = {g["name"]: g for g in resources(stack, "aws_cloudwatch_log_group").values()}
    logs = groups[f"dms-serverless-replication-{PREFIX}-main-reverse"]
    assert logs["retention_in_days"] == 14 and "aws_kms_key" in logs["kms_key_id"]
    name = next(n for n, c in resources(stack, "aws_dms_replication_config").items() if c["replication_type"] == "cdc")
    assert stack["output"][Output.REVERSE_TASK_ARN]["value"] == f"${{aws_dms_replication_config.{name}.arn}}"
    (function,) = resources(stack, "aws_lambda_function").values()
    variables = function["environment"]["variables"]
    assert variables[CutoverEnv.DMS_REVERSE_REPLICATION_ARN] == f"${{aws_dms_replication_config.{name}.arn}}"
