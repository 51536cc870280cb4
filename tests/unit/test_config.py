"""Every validation error names the field, the bad value and the fix — and no stack gets built."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import main
from lib.config import AppConfig, ConfigError, load_config
from tests.unit.conftest import BASE_CONFIG

BAD_FIELDS: list[tuple[str, dict[str, dict[str, Any]], list[str]]] = [
    ("reader count above 15", {"aurora": {"reader_count": 16}}, ["aurora.reader_count", "16", "0..15"]),
    ("negative reader count", {"aurora": {"reader_count": -1}}, ["aurora.reader_count", "-1"]),
    ("min ACU above max", {"aurora": {"min_acu": 8.0, "max_acu": 2.0}}, ["aurora.min_acu", "8.0", "min <= max"]),
    ("ACU not in half steps", {"aurora": {"min_acu": 0.7}}, ["aurora.min_acu", "0.7", "steps of 0.5"]),
    ("Aurora PostgreSQL too old", {"aurora": {"engine_version": "13.9"}}, ["aurora.engine_version", "'13.9'", "14-17"]),
    (
        "SSL none on PostgreSQL 15",
        {"sources": {"onprem": {"ssl_mode": "none"}}},
        ["sources.onprem.ssl_mode", "'none'", "'require'"],
    ),
    ("unknown SSL mode", {"sources": {"onprem": {"ssl_mode": "prefer"}}}, ["sources.onprem.ssl_mode", "'prefer'"]),
    (
        "verify-full without a CA",
        {"sources": {"onprem": {"ssl_mode": "verify-full"}}},
        ["sources.onprem.ca_certificate_file", "verify-full"],
    ),
    (
        "source CIDR overlaps VPC",
        {"sources": {"onprem": {"cidr_blocks": ["10.20.5.0/24"]}}},
        ["sources.onprem.cidr_blocks[0]", "10.20.5.0/24", "overlaps"],
    ),
    (
        "source CIDR is the world",
        {"sources": {"onprem": {"cidr_blocks": ["0.0.0.0/0"]}}},
        ["sources.onprem.cidr_blocks[0]", "0.0.0.0/0"],
    ),
    (
        "source CIDR malformed",
        {"sources": {"onprem": {"cidr_blocks": ["192.168.1.0/33"]}}},
        ["sources.onprem.cidr_blocks[0]", "'192.168.1.0/33'"],
    ),
    ("missing source host", {"sources": {"onprem": {"host": ""}}}, ["sources.onprem.host", "''"]),
    (
        "PostgreSQL source without a database",
        {"sources": {"onprem": {"database": ""}}},
        ["sources.onprem.database", "PostgreSQL"],
    ),
    ("source port out of range", {"sources": {"onprem": {"port": 70000}}}, ["sources.onprem.port", "70000", "1..65535"]),
    (
        "bad secret ARN",
        {"sources": {"onprem": {"secret_arn": "my-secret"}}},
        ["sources.onprem.secret_arn", "'my-secret'", "leave it empty"],
    ),
    (
        "two subnets",
        {"network": {"private_subnet_cidrs": ["10.20.0.0/20", "10.20.16.0/20"]}},
        ["network.private_subnet_cidrs", "exactly 3"],
    ),
    (
        "subnet outside the VPC",
        {"network": {"private_subnet_cidrs": ["10.20.0.0/20", "10.20.16.0/20", "10.99.0.0/20"]}},
        ["network.private_subnet_cidrs[2]", "10.99.0.0/20", "outside"],
    ),
    (
        "overlapping subnets",
        {"network": {"private_subnet_cidrs": ["10.20.0.0/20", "10.20.0.0/21", "10.20.32.0/20"]}},
        ["network.private_subnet_cidrs[1]", "overlaps"],
    ),
    ("VPC CIDR malformed", {"network": {"vpc_cidr": "10.20.0.1/16"}}, ["network.vpc_cidr", "'10.20.0.1/16'"]),
    (
        "zone of another region",
        {"network": {"availability_zones": ["us-east-1a", "us-east-1b", "eu-west-1c"]}},
        ["network.availability_zones", "'eu-west-1c'", "region 'us-east-1'"],
    ),
    (
        "two zones",
        {"network": {"availability_zones": ["us-east-1a", "us-east-1b"]}},
        ["network.availability_zones", "3 distinct zones", "leave it empty"],
    ),
    ("environment suffix with capitals", {"project": {"environment_suffix": "Dev"}}, ["project.environment_suffix", "'Dev'"]),
    ("unknown profile", {"project": {"profile": "qa"}}, ["project.profile", "'qa'", "dev"]),
    ("region typo", {"project": {"region": "us-east"}}, ["project.region", "'us-east'", "us-east-1"]),
    ("unknown field", {"aurora": {"readers": 2}}, ["aurora.readers", "unknown field"]),
    ("wrong type", {"aurora": {"reader_count": "two"}}, ["aurora.reader_count", "expected int", "'two'"]),
    (
        "prod without deletion protection",
        {"project": {"profile": "prod"}, "aurora": {"deletion_protection": False}},
        ["aurora.deletion_protection", "prod"],
    ),
    ("backup retention too long", {"aurora": {"backup_retention_days": 40}}, ["aurora.backup_retention_days", "40", "1..35"]),
    ("read steps not ending at 100", {"cutover": {"read_steps": [10, 50]}}, ["cutover.read_steps", "[10, 50]", "ending at 100"]),
    ("read steps not increasing", {"cutover": {"read_steps": [50, 25, 100]}}, ["cutover.read_steps", "strictly increasing"]),
    ("cutover TTL above record TTL", {"cutover": {"cutover_ttl": 120}}, ["cutover.cutover_ttl", "120"]),
    ("drain longer than a Lambda", {"cutover": {"drain_timeout_seconds": 900}}, ["cutover.drain_timeout_seconds", "900", "840"]),
    (
        "rollback window past Aurora's binlog retention",
        {"cutover": {"rollback_window_hours": 3000}},
        ["cutover.rollback_window_hours", "3000", "2160", "90 days"],
    ),
    ("rollback window of zero hours", {"cutover": {"rollback_window_hours": 0}}, ["cutover.rollback_window_hours", "0"]),
    ("cutover task missing", {"cutover": {"task_key": "orders"}}, ["cutover.task_key", "'orders'", "main"]),
    ("domain with capitals", {"cutover": {"domain": "DB.example"}}, ["cutover.domain", "'DB.example'"]),
    ("DMS class typo", {"dms": {"instance_class": "r5.large"}}, ["dms.instance_class", "'r5.large'", "dms.r6i.large"]),
    ("log retention not allowed", {"dms": {"log_retention_days": 10}}, ["dms.log_retention_days", "10"]),
    (
        "emulator with a non-loopback endpoint",
        {"deployment": {"target": "emulator", "emulator_endpoint": "http://10.0.0.5:5000"}},
        ["deployment.emulator_endpoint", "loopback"],
    ),
    ("unknown target", {"deployment": {"target": "gcp"}}, ["deployment.target", "'gcp'"]),
    (
        "bad migration type",
        {"dms": {"tasks": {"main": {"migration_type": "cdc-only"}}}},
        ["dms.tasks.main.migration_type", "'cdc-only'"],
    ),
    (
        "task names a missing target",
        {"dms": {"tasks": {"main": {"target": "lake"}}}},
        ["dms.tasks.main.target", "'lake'", "names no entry in [targets]", "aurora"],
    ),
    (
        "task names a missing source",
        {"dms": {"tasks": {"main": {"source": "mainframe"}}}},
        ["dms.tasks.main.source", "'mainframe'", "onprem"],
    ),
    ("unknown target kind", {"targets": {"aurora": {"kind": "redshift"}}}, ["targets.aurora.kind", "'redshift'", "s3"]),
    (
        "Parquet setting on CSV output",
        {"targets": {"lake": {"kind": "s3", "folder": "raw", "data_format": "csv", "parquet_version": "parquet-1-0"}}},
        ["targets.lake.parquet_version", "data_format = 'parquet' only"],
    ),
    (
        "unsupported compression",
        {"targets": {"lake": {"kind": "s3", "folder": "raw", "compression": "snappy"}}},
        ["targets.lake.compression", "'snappy'", "gzip"],
    ),
    (
        "S3 folder with a leading slash",
        {"targets": {"lake": {"kind": "s3", "folder": "/raw"}}},
        ["targets.lake.folder", "'/raw'", "without leading"],
    ),
    (
        "bucket name with capitals",
        {"targets": {"lake": {"kind": "s3", "folder": "raw"}}, "data_lake": {"bucket_name": "My_Lake"}},
        ["data_lake.bucket_name", "'My_Lake'", "lowercase"],
    ),
    (
        "bucket name too short",
        {"targets": {"lake": {"kind": "s3", "folder": "raw"}}, "data_lake": {"bucket_name": "ab"}},
        ["data_lake.bucket_name", "'ab'", "3..63"],
    ),
    (
        "bucket name like an IP address",
        {"targets": {"lake": {"kind": "s3", "folder": "raw"}}, "data_lake": {"bucket_name": "10.1.2.3"}},
        ["data_lake.bucket_name", "'10.1.2.3'", "IP address"],
    ),
    (
        "data lake section without a lake target",
        {"data_lake": {"crawler_schedule": "cron(0 3 * * ? *)"}},
        ["[data_lake]", "no target is s3 or kinesis"],
    ),
    (
        "overlapping lake prefixes",
        {"targets": {"a": {"kind": "s3", "folder": "raw"}, "b": {"kind": "s3", "folder": "raw/orders"}}},
        ["targets.b", "'raw/orders'", "overlaps targets.a"],
    ),
    (
        "dynamic partitioning with small buffers",
        {"targets": {"stream": {"kind": "kinesis", "delivery_prefix": "raw", "buffering_mb": 5}}},
        ["targets.stream.buffering_mb", "5", "64"],
    ),
    (
        "shard count on an on-demand stream",
        {"targets": {"stream": {"kind": "kinesis", "delivery_prefix": "raw", "stream_mode": "ON_DEMAND", "shard_count": 4}}},
        ["targets.stream.shard_count", "ON_DEMAND"],
    ),
    (
        "a target no task writes to",
        {"targets": {"spare": {"kind": "s3", "folder": "spare"}}},
        ["targets.spare", "no task in [dms.tasks] writes to it"],
    ),
    (
        "two Aurora targets",
        {"targets": {"second": {"kind": "aurora_postgresql"}}},
        ["targets:", "one Aurora cluster"],
    ),
    (
        "cutover task writing to S3",
        {"targets": {"lake": {"kind": "s3", "folder": "raw"}}, "dms": {"tasks": {"main": {"target": "lake"}}}},
        ["cutover.task_key", "'main'", "s3 target", "cutover.enabled = false"],
    ),
    (
        "Aurora section without an Aurora target",
        {
            "targets": {"aurora": {"kind": "s3", "folder": "raw"}},
            "cutover": {"enabled": False},
        },
        ["[aurora]", "no target has kind aurora_postgresql or aurora_mysql"],
    ),
    (
        "MySQL source without SSL",
        {"sources": {"onprem": {"engine": "mysql", "engine_version": "8.0", "port": 3306, "ssl_mode": "none"}}},
        ["sources.onprem.ssl_mode", "clear text", "allow_unencrypted = true"],
    ),
    (
        "opting a PostgreSQL source out of SSL",
        {"sources": {"onprem": {"engine_version": "14", "ssl_mode": "none", "allow_unencrypted": True}}},
        ["sources.onprem.allow_unencrypted", "MySQL/MariaDB"],
    ),
    (
        "MySQL version as a major only",
        {"sources": {"onprem": {"engine": "mysql", "engine_version": "8"}}},
        ["sources.onprem.engine_version", "'8'", "'8.0'"],
    ),
    (
        "PostgreSQL into Aurora MySQL without a conversion plan",
        {"targets": {"aurora": {"kind": "aurora_mysql"}}, "aurora": {"engine_version": ""}},
        ["dms.tasks.main", "heterogeneous", "schema_conversion_note"],
    ),
    ("capacity units not a DMS size", {"dms": {"max_capacity_units": 3}}, ["dms.min_capacity_units/max_capacity_units", "1..3"]),
    ("old single [source] table", {"source": {"host": "x.example.com"}}, ["[source]", "[sources.<key>]"]),
    (
        "missing table mappings",
        {"dms": {"tasks": {"main": {"table_mappings_file": "dms/nope.json"}}}},
        ["dms.tasks.main.table_mappings_file", "nope.json", "not found"],
    ),
]


@pytest.mark.parametrize(("case", "overrides", "expected"), BAD_FIELDS, ids=[c[0] for c in BAD_FIELDS])
def test_each_bad_field_is_named_with_its_value_and_fix(
    case: str, overrides: dict[str, dict[str, Any]], expected: list[str], make_config: Callable[..., AppConfig]
) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config(overrides)
    matching = [p for p in raised.value.problems if all(fragment in p for fragment in expected)]
    assert matching, f"{case}: no problem mentions all of {expected}: {raised.value.problems}"


def test_all_problems_are_reported_at_once(make_config: Callable[..., AppConfig]) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config({"aurora": {"reader_count": 99, "min_acu": 9.0, "max_acu": 1.0}, "sources": {"onprem": {"ssl_mode": "none"}}})
    assert len(raised.value.problems) >= 3
    assert str(raised.value).startswith("invalid tap-migrate configuration")


def test_a_field_error_does_not_hide_the_whole_file_checks(make_config: Callable[..., AppConfig]) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config({"aurora": {"reader_count": "two"}, "dms": {"tasks": {"main": {"target": "lake"}}}})
    problems = raised.value.problems
    assert any(p.startswith("aurora.reader_count: expected int, got 'two'") for p in problems), problems
    assert any(p.startswith("dms.tasks.main.target: 'lake' names no entry in [targets]") for p in problems), problems


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_task_settings_that_do_not_parse_are_refused(tmp_path: Path, make_config: Callable[..., AppConfig]) -> None:
    broken = _write(tmp_path, "settings.json", '{"Logging": {"EnableLogging": true,}')
    with pytest.raises(ConfigError, match=r"dms\.tasks\.main\.settings_file: .* is not valid JSON \(line 1"):
        make_config({"dms": {"tasks": {"main": {"settings_file": str(broken)}}}})


def test_task_settings_must_keep_logging_and_validation(tmp_path: Path, make_config: Callable[..., AppConfig]) -> None:
    settings = json.loads(Path("dms/task-settings.json").read_text())
    settings["Logging"]["EnableLogging"] = False
    settings["ValidationSettings"]["EnableValidation"] = False
    path = _write(tmp_path, "settings.json", json.dumps(settings))
    with pytest.raises(ConfigError) as raised:
        make_config({"dms": {"tasks": {"main": {"settings_file": str(path)}}}})
    text = str(raised.value)
    assert "Logging.EnableLogging must be true" in text
    assert "ValidationSettings.EnableValidation must be true" in text


def test_table_mappings_need_a_selection_rule(tmp_path: Path, make_config: Callable[..., AppConfig]) -> None:
    path = _write(tmp_path, "mappings.json", '{"rules": []}')
    with pytest.raises(ConfigError, match="at least one 'selection' rule"):
        make_config({"dms": {"tasks": {"main": {"table_mappings_file": str(path)}}}})


def test_ca_file_must_not_contain_a_private_key(tmp_path: Path, make_config: Callable[..., AppConfig]) -> None:
    path = _write(tmp_path, "ca.pem", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="contains a private key"):
        make_config({"sources": {"onprem": {"ssl_mode": "verify-full", "ca_certificate_file": str(path)}}})


def test_missing_and_malformed_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist; set TAP_CONFIG"):
        load_config(tmp_path / "absent.toml", env={})
    broken = _write(tmp_path, "broken.toml", "[project\nname = 1")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(broken, env={})


def test_environment_overrides_apply_and_are_validated(make_config: Callable[..., AppConfig]) -> None:
    config = make_config({}, env={"ENVIRONMENT_SUFFIX": "pr42", "AWS_REGION": "eu-west-1", "TAP_PROFILE": "staging"})
    assert (config.project.prefix, config.project.region, config.project.profile) == ("tap-migrate-pr42", "eu-west-1", "staging")
    assert config.network.availability_zones == ()  # looked up in the account at plan time
    assert config.aurora is not None and config.aurora.backup_retention_days == 7  # the staging profile's default
    # A bad value from the environment names the variable as well as the field it overrides.
    with pytest.raises(ConfigError, match=r"TAP_TARGET \(environment, overrides deployment\.target\): 'azure'"):
        make_config({}, env={"TAP_TARGET": "azure"})


def test_main_reads_the_config_file_from_the_cdktf_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDKTF_CONTEXT_JSON", '{"tapConfigFile": "examples/other.toml"}')
    assert main._context_value() == "examples/other.toml"
    monkeypatch.setenv("CDKTF_CONTEXT_JSON", "not json")
    assert main._context_value() is None


def test_config_file_is_chosen_by_argument_then_env_then_context(tmp_path: Path) -> None:
    from lib.config import resolve_config_path

    assert resolve_config_path("a.toml", {"TAP_CONFIG": "b.toml"}, "c.toml").name == "a.toml"
    assert resolve_config_path(None, {"TAP_CONFIG": "b.toml"}, "c.toml").name == "b.toml"
    assert resolve_config_path(None, {}, "c.toml").name == "c.toml"
    assert resolve_config_path(None, {}, None).name == "tap-migrate.toml"


def test_config_objects_are_frozen(base_config: AppConfig) -> None:
    assert base_config.aurora is not None
    with pytest.raises(AttributeError):
        base_config.aurora.reader_count = 5  # type: ignore[misc]


def test_a_bad_config_stops_main_before_any_construct_or_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _write(tmp_path, "bad.toml", BASE_CONFIG.read_text().replace("reader_count = 2", "reader_count = 20"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TAP_CONFIG", str(bad))
    built: list[object] = []
    monkeypatch.setattr("lib.tap_stack.TapStack.__init__", lambda *args, **kwargs: built.append(args))
    assert main.main() == 2
    assert built == []
    assert not (tmp_path / "cdktf.out").exists()
    assert "aurora.reader_count: 20 must be 0..15" in capsys.readouterr().err


def test_limited_lob_mode_must_not_truncate_silently(tmp_path: Path, make_config: Callable[..., AppConfig]) -> None:
    settings = json.loads(Path("dms/task-settings.json").read_text())
    settings["ErrorBehavior"]["DataTruncationErrorPolicy"] = "LOG_ERROR"
    path = _write(tmp_path, "settings.json", json.dumps(settings))
    with pytest.raises(ConfigError, match="limited-size LOB mode truncates silently"):
        make_config({"dms": {"tasks": {"main": {"settings_file": str(path)}}}})


def test_a_task_may_omit_source_and_target_only_while_there_is_one_of_each(make_config: Callable[..., AppConfig]) -> None:
    config = make_config({"dms": {"tasks": {"main": {"source": "", "target": ""}}}})
    assert (config.dms.tasks["main"].source, config.dms.tasks["main"].target) == ("onprem", "aurora")
    second_source = {
        "engine": "postgres",
        "engine_version": "16",
        "host": "b.example.com",
        "database": "b",
        "cidr_blocks": ["192.168.0.0/16"],
    }
    with pytest.raises(ConfigError, match=r"dms\.tasks\.main\.source: required when there are several sources"):
        make_config({"sources": {"second": second_source}, "dms": {"tasks": {"main": {"source": ""}}}})


def test_heterogeneous_pair_is_accepted_with_a_conversion_note(make_config: Callable[..., AppConfig]) -> None:
    config = make_config(
        {
            "targets": {"aurora": {"kind": "aurora_mysql"}},
            "aurora": {"engine_version": ""},
            "dms": {"tasks": {"main": {"schema_conversion_note": "docs/sct-plan.md"}}},
            # A converted schema has no reverse task (see test_reverse_replication) and no cutover: the clients
            # would keep speaking PostgreSQL to a MySQL endpoint (tests/unit/test_config_holes.py).
            "cutover": {"enabled": False, "reverse_replication": False},
        }
    )
    assert config.aurora is not None and config.aurora.engine == "aurora-mysql"
    assert config.aurora.engine_version.startswith("8.0.mysql_aurora.3.")
    assert config.aurora.port == 3306


def test_profile_sets_unset_fields_and_the_file_wins(make_config: Callable[..., AppConfig]) -> None:
    from lib.defaults import PROFILES

    prod = make_config({}, env={"TAP_PROFILE": "prod"})
    assert prod.aurora is not None
    assert (prod.aurora.min_acu, prod.aurora.max_acu) == (PROFILES["prod"].aurora_min_acu, PROFILES["prod"].aurora_max_acu)
    assert prod.aurora.reader_count == 2  # set in config/tap-migrate.toml: the file wins over the profile
    assert prod.observability.cdc_latency_alarm_seconds == PROFILES["prod"].cdc_latency_alarm_seconds
    assert prod.dms.max_capacity_units == PROFILES["prod"].dms_serverless_max_dcu
