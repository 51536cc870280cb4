"""The whole stack per example system, per target kind and source engine, per profile, and with DMS Serverless.

Each example in examples/ is one user's seed system; its synthesized stack is checked against its own
tap-migrate.toml (values read from the config, not repeated here). Construct-level details (bucket
policy, lifecycle, crawler and Firehose roles) are in test_data_lake.py and test_streaming.py.
Every stack is synthesized at most once per session (`stacks`, built lazily by name).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import lib  # noqa: F401  (fast provider import before cdktf loads anything)
from lib import defaults
from lib.config import PROJECT_ROOT, AppConfig, ConfigError, load_config, parse_config
from lib.config.schema import Dms, KinesisTarget
from lib.constants import CORE_OUTPUTS, HEALTH_ALARM_INFIX, CutoverEnv, Output
from lib.defaults import PROFILES, Profile
from lib.policy.gate import SUPPRESSIONS_FILE, evaluate, load_suppressions
from tests.unit.conftest import (
    BASE_CONFIG,
    DNS_SUFFIX,
    config_from,
    decode_jsonencode,
    only,
    resources,
    statements,
    synthesize,
)

Stack = dict[str, Any]

EXAMPLES_DIR = PROJECT_ROOT / "examples"
LAKEHOUSE = "000-postgres-s3-lakehouse"
VENDOR_MYSQL = "001-vendor-mysql-to-aurora-mysql"
FIVE_SYSTEMS = "002-mysql-s3-parquet-five-systems"
STREAMING = "003-postgres-kinesis-streaming-lake"
ONPREM_AURORA = "004-onprem-postgres-to-aurora"
EXISTING_VPC = "005-existing-vpc"
MARIADB_CUTOVER = "006-mariadb-to-aurora-mysql-cutover"
SERVERLESS_EXAMPLE = "007-dms-serverless-cutover"
EXAMPLES = [LAKEHOUSE, VENDOR_MYSQL, FIVE_SYSTEMS, STREAMING, ONPREM_AURORA, EXISTING_VPC, MARIADB_CUTOVER, SERVERLESS_EXAMPLE]

# Variants built from an example or the base config (names of the `stacks` cache).
SERVERLESS = "000-serverless"
SERVERLESS_CUTOVER = "base-serverless"  # the base stack (PostgreSQL -> Aurora with a cutover) on DMS Serverless
SERVERLESS_AURORA = "001-serverless"  # no S3 target: the gateway endpoint is there for DMS Serverless alone
BASE_PROD = "base-prod"
BASE_DEV_PROFILE_READERS = "base-dev-without-reader-count"
BASE_STAGING = "base-staging"
STREAMING_DEV_DEFAULT_MODE = "003-dev-without-stream-mode"
STREAMING_PROD_DEFAULT_MODE = "003-prod-without-stream-mode"
POSTGRES_TO_AURORA_MYSQL = "postgres-to-aurora-mysql-with-note"
VARIANTS = [
    SERVERLESS,
    SERVERLESS_AURORA,
    BASE_PROD,
    BASE_DEV_PROFILE_READERS,
    STREAMING_DEV_DEFAULT_MODE,
    STREAMING_PROD_DEFAULT_MODE,
    POSTGRES_TO_AURORA_MYSQL,
]
SERVERLESS_CAPACITY = (2, 8)  # min/max DCUs of the 000 serverless variant (neither is a default)
# Serverless variant -> the example it is built from.
SERVERLESS_VARIANTS = {SERVERLESS: LAKEHOUSE, SERVERLESS_AURORA: VENDOR_MYSQL}
CONVERSION_NOTE = "docs/schema-conversion/appdb-to-mysql.md"

AURORA_RESOURCE_TYPES = ("aws_rds_cluster", "aws_rds_cluster_instance", "aws_rds_cluster_parameter_group", "aws_db_subnet_group")
CUTOVER_RESOURCE_TYPES = (
    "aws_route53_zone",
    "aws_route53_record",
    "aws_lambda_function",
    "aws_lambda_permission",
    "aws_ssm_parameter",
)
BACKUP_RESOURCE_TYPES = ("aws_backup_plan", "aws_backup_vault", "aws_backup_selection")
AURORA_OUTPUTS = {
    Output.AURORA_SECURITY_GROUP_ID,
    Output.AURORA_CLUSTER_ARN,
    Output.AURORA_CLUSTER_ID,
    Output.AURORA_WRITER_ENDPOINT,
    Output.AURORA_READER_ENDPOINT,
    Output.AURORA_INSTANCE_IDS,
    Output.AURORA_MASTER_SECRET_ARN,
    Output.TARGET_SECRET_ARN,
}
CUTOVER_OUTPUTS = {
    Output.HOSTED_ZONE_ID,
    Output.READER_RECORD_NAME,
    Output.WRITER_RECORD_NAME,
    Output.CUTOVER_FUNCTION_NAME,
    Output.CUTOVER_STATE_PARAMETER,
    Output.CUTOVER_LOCK_PARAMETER,
}
BACKUP_OUTPUTS = {Output.BACKUP_VAULT_NAME, Output.BACKUP_PLAN_ID}
LAKE_OUTPUTS = {Output.DATA_LAKE_BUCKET, Output.GLUE_DATABASE, Output.GLUE_CRAWLERS, Output.ATHENA_WORKGROUP}
STREAM_OUTPUTS = {Output.KINESIS_STREAM_ARNS, Output.FIREHOSE_DELIVERY_STREAMS}
INSTANCE_OUTPUTS = {Output.DMS_REPLICATION_INSTANCE_ARN, Output.DMS_REPLICATION_INSTANCE_ID}
# S3 actions that act on the bucket itself (their resource is the bucket ARN, not an object ARN).
BUCKET_LEVEL_ACTIONS = {"s3:ListBucket", "s3:GetBucketLocation"}
# What the seed systems asked for: (data_format, compression_type) of every S3 target.
S3_FORMATS = {LAKEHOUSE: ("csv", "GZIP"), FIVE_SYSTEMS: ("parquet", "GZIP")}
DATE_PATH = "!{timestamp:yyyy/MM/dd}/"
# Aurora MySQL log exports and the cluster parameter that makes each produce anything (None: always on).
MYSQL_LOG_EXPORTS = {
    "audit": "server_audit_logging",
    "error": None,
    "general": "general_log",
    "slowquery": "slow_query_log",
    "iam-db-auth-error": None,
}
REFERENCE = re.compile(r"\$\{(?P<type>aws_\w+)\.(?P<name>[\w-]+)\.(?P<attribute>\w+)\}")


# --------------------------------------------------------------------------------------
# Configs and the lazily synthesized stacks


def _toml_path(example: str) -> Path:
    return EXAMPLES_DIR / example / "tap-migrate.toml"


def _example_raw(example: str) -> dict[str, Any]:
    raw: dict[str, Any] = tomllib.loads(_toml_path(example).read_text(encoding="utf-8"))
    return raw


def _serverless_config() -> AppConfig:
    raw = _example_raw(LAKEHOUSE)
    minimum, maximum = SERVERLESS_CAPACITY
    raw.setdefault("dms", {}).update(serverless=True, min_capacity_units=minimum, max_capacity_units=maximum)
    return parse_config(raw, env={}, config_file=_toml_path(LAKEHOUSE))


def _vendor_serverless_config() -> AppConfig:
    raw = _example_raw(VENDOR_MYSQL)
    raw.setdefault("dms", {})["serverless"] = True
    return parse_config(raw, env={}, config_file=_toml_path(VENDOR_MYSQL))


def _base_without_reader_count(profile: str) -> AppConfig:
    raw: dict[str, Any] = tomllib.loads(BASE_CONFIG.read_text(encoding="utf-8"))
    del raw["aurora"]["reader_count"]
    return parse_config(raw, env={"TAP_PROFILE": profile}, config_file=BASE_CONFIG)


def _streaming_without_stream_mode(profile: str) -> AppConfig:
    raw = _example_raw(STREAMING)
    (target,) = raw["targets"].values()
    del target["stream_mode"], target["shard_count"]
    if profile == "prod":  # the example's dev log retention is below prod's floor: a prod stack takes the profile's
        raw["dms"].pop("log_retention_days", None)
    return parse_config(raw, env={"TAP_PROFILE": profile}, config_file=_toml_path(STREAMING))


def _postgres_to_aurora_mysql(note: str) -> AppConfig:
    task = {"schema_conversion_note": note} if note else {}
    return config_from(
        {
            "targets": {"aurora": {"kind": "aurora_mysql"}},
            "aurora": {"engine_version": ""},
            "dms": {"tasks": {"main": task}},
            # Neither a cutover nor a reverse task crosses engine families (test_config_holes, test_reverse_replication).
            "cutover": {"enabled": False, "reverse_replication": False},
        }
    )


def _example_config(example: str) -> Callable[[], AppConfig]:
    return lambda: load_config(_toml_path(example), env={})


BUILDERS: dict[str, Callable[[], AppConfig]] = {
    **{example: _example_config(example) for example in EXAMPLES},
    SERVERLESS: _serverless_config,
    SERVERLESS_AURORA: _vendor_serverless_config,
    SERVERLESS_CUTOVER: lambda: config_from({"dms": {"serverless": True}}),
    BASE_PROD: lambda: config_from({}, env={"TAP_PROFILE": "prod"}),
    BASE_STAGING: lambda: config_from({}, env={"TAP_PROFILE": "staging"}),
    BASE_DEV_PROFILE_READERS: lambda: _base_without_reader_count("dev"),
    STREAMING_DEV_DEFAULT_MODE: lambda: _streaming_without_stream_mode("dev"),
    STREAMING_PROD_DEFAULT_MODE: lambda: _streaming_without_stream_mode("prod"),
    POSTGRES_TO_AURORA_MYSQL: lambda: _postgres_to_aurora_mysql(CONVERSION_NOTE),
}


class Synthesized(dict[str, tuple[AppConfig, Stack]]):
    """Name -> (config, synthesized stack), each built on first use."""

    def __missing__(self, name: str) -> tuple[AppConfig, Stack]:
        config = BUILDERS[name]()
        built = (config, json.loads(synthesize(config)))
        self[name] = built
        return built


@pytest.fixture(scope="session")
def stacks() -> Synthesized:
    return Synthesized()


# --------------------------------------------------------------------------------------
# Reading the synthesized JSON


def _ref(resource_type: str, name: str, attribute: str) -> str:
    return f"${{{resource_type}.{name}.{attribute}}}"


def _named(stack: Stack, resource_type: str, **attributes: Any) -> tuple[str, dict[str, Any]]:
    """The one resource of a type whose attributes have these values: (its name, its body)."""
    found = [
        (name, body)
        for name, body in resources(stack, resource_type).items()
        if all(body.get(key) == value for key, value in attributes.items())
    ]
    assert len(found) == 1, f"expected one {resource_type} with {attributes}, found {[name for name, _ in found]}"
    return found[0]


def _only_name(stack: Stack, resource_type: str) -> str:
    names = list(resources(stack, resource_type))
    assert len(names) == 1, f"expected one {resource_type}, found {names}"
    return names[0]


def _referenced(stack: Stack, value: Any, resource_type: str) -> tuple[str, dict[str, Any]]:
    """The resource a `${type.name.attribute}` value points at."""
    match = REFERENCE.fullmatch(value) if isinstance(value, str) else None
    assert match is not None and match["type"] == resource_type, f"{value!r} is not a reference to an {resource_type}"
    return match["name"], resources(stack, resource_type)[match["name"]]


def _key_arn(stack: Stack) -> str:
    return _ref("aws_kms_key", _only_name(stack, "aws_kms_key"), "arn")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(stack: Stack, role_name: str) -> list[dict[str, Any]]:
    """Every statement a role is granted: its one inline policy, and no managed policy at all."""
    role_refs = {_ref("aws_iam_role", role_name, "id"), _ref("aws_iam_role", role_name, "name")}
    attached = [a for a in resources(stack, "aws_iam_role_policy_attachment").values() if a["role"] in role_refs]
    assert attached == [], f"{role_name} has managed policies attached"
    policies = [p for p in resources(stack, "aws_iam_role_policy").values() if p["role"] in role_refs]
    assert len(policies) == 1, f"expected one inline policy on {role_name}"
    return list(statements(stack, policies[0]["policy"]).values())


def _trusted_services(role: dict[str, Any]) -> list[str]:
    (trust,) = decode_jsonencode(role["assume_role_policy"])["Statement"]
    return _as_list(trust["Principal"]["Service"])


def _security_group(stack: Stack, name: str) -> str:
    return _ref("aws_security_group", _named(stack, "aws_security_group", name=name)[0], "id")


def _rules(stack: Stack, resource_type: str, security_group: str) -> list[dict[str, Any]]:
    return [rule for rule in resources(stack, resource_type).values() if rule["security_group_id"] == security_group]


def _s3_targets(config: AppConfig) -> dict[str, Any]:
    return {key: target.s3 for key, target in config.targets.items() if target.s3 is not None}


def _mapping_file(example: str, task_key: str) -> Any:
    relative = _example_raw(example)["dms"]["tasks"][task_key]["table_mappings_file"]
    return json.loads((EXAMPLES_DIR / example / relative).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------
# 1. Every example (and every variant) synthesizes and passes the policy gate


def test_every_example_directory_is_covered() -> None:
    assert sorted(p.parent.name for p in EXAMPLES_DIR.glob("*/tap-migrate.toml")) == EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES + VARIANTS)
def test_stack_synthesizes_and_the_policy_gate_finds_nothing(stacks: Synthesized, name: str) -> None:
    config, stack = stacks[name]
    findings = evaluate(stack, load_suppressions(SUPPRESSIONS_FILE))
    assert [str(f) for f in findings] == []
    assert set(stack["output"]) >= CORE_OUTPUTS
    (provider,) = stack["provider"]["aws"]
    assert provider["region"] == config.project.region
    assert provider["default_tags"][0]["tags"]["Profile"] == config.project.profile
    assert stack["output"][Output.REGION]["value"] == config.project.region


# --------------------------------------------------------------------------------------
# 2. S3 targets (000: CSV, 002: Parquet, five systems)


@pytest.mark.parametrize("name", sorted(S3_FORMATS))
def test_s3_endpoints_write_their_folder_in_the_configured_format(stacks: Synthesized, name: str) -> None:
    config, stack = stacks[name]
    prefix = config.project.prefix
    key_arn = _key_arn(stack)
    bucket = _ref("aws_s3_bucket", _only_name(stack, "aws_s3_bucket"), "bucket")
    targets = _s3_targets(config)
    assert len(targets) == len(config.targets) == len(resources(stack, "aws_dms_s3_endpoint"))
    for key, s3 in targets.items():
        assert (s3.data_format, s3.compression.upper()) == S3_FORMATS[name]
        _, endpoint = _named(stack, "aws_dms_s3_endpoint", endpoint_id=f"{prefix}-target-{key}")
        expected = {
            "endpoint_type": "target",
            "bucket_name": bucket,
            "bucket_folder": s3.folder,
            "data_format": s3.data_format,
            "compression_type": s3.compression.upper(),
            "cdc_path": s3.cdc_path,
            "date_partition_enabled": s3.date_partition_enabled,
            "include_op_for_full_load": s3.include_op_for_full_load,
            "timestamp_column_name": s3.timestamp_column_name,
            "encryption_mode": "SSE_KMS",
            "server_side_encryption_kms_key_id": key_arn,
            "kms_key_arn": key_arn,
        }
        assert {field: endpoint.get(field) for field in expected} == expected
        if s3.data_format == "parquet":
            assert endpoint["parquet_version"] == s3.parquet_version
            assert endpoint["enable_statistics"] is s3.enable_statistics
            assert "add_column_name" not in endpoint
        else:
            assert endpoint["add_column_name"] is True
            assert "parquet_version" not in endpoint
            assert "enable_statistics" not in endpoint


@pytest.mark.parametrize("name", sorted(S3_FORMATS))
def test_each_s3_endpoint_role_touches_only_its_own_folder(stacks: Synthesized, name: str) -> None:
    config, stack = stacks[name]
    prefix = config.project.prefix
    key_arn = _key_arn(stack)
    bucket_arn = _ref("aws_s3_bucket", _only_name(stack, "aws_s3_bucket"), "arn")
    roles = set()
    for key, s3 in _s3_targets(config).items():
        _, endpoint = _named(stack, "aws_dms_s3_endpoint", endpoint_id=f"{prefix}-target-{key}")
        role_name, role = _referenced(stack, endpoint["service_access_role_arn"], "aws_iam_role")
        roles.add(role_name)
        assert _trusted_services(role) == [f"dms.{DNS_SUFFIX}"]
        folder_objects = f"{bucket_arn}/{s3.folder}/*"
        granted: set[str] = set()
        for found in _role_statements(stack, role_name):
            actions, targets = _as_list(found["Action"]), _as_list(found["Resource"])
            assert found["Effect"] == "Allow"
            assert not any(action.endswith("*") for action in actions), found
            s3_actions = [action for action in actions if action.startswith("s3:")]
            if not s3_actions:
                assert targets == [key_arn], found
                continue
            granted.update(s3_actions)
            if set(s3_actions) <= BUCKET_LEVEL_ACTIONS:
                assert targets == [bucket_arn], found
            else:
                assert targets == [folder_objects], found
            if "s3:ListBucket" in s3_actions:
                assert found["Condition"] == {"StringLike": {"s3:prefix": [f"{s3.folder}/*"]}}
        assert {"s3:PutObject", "s3:ListBucket"} <= granted
    assert len(roles) == len(_s3_targets(config)), "every S3 target needs its own role"


def test_five_systems_have_one_task_endpoint_and_crawler_each(stacks: Synthesized) -> None:
    config, stack = stacks[FIVE_SYSTEMS]
    prefix = config.project.prefix
    bucket = _ref("aws_s3_bucket", _only_name(stack, "aws_s3_bucket"), "bucket")
    source_endpoint = _ref("aws_dms_endpoint", _only_name(stack, "aws_dms_endpoint"), "endpoint_arn")
    tasks = _example_raw(FIVE_SYSTEMS)["dms"]["tasks"]
    assert len(tasks) == 5
    for resource_type in ("aws_dms_replication_task", "aws_dms_s3_endpoint", "aws_glue_crawler"):
        assert len(resources(stack, resource_type)) == 5, resource_type
    for key, body in tasks.items():
        folder = config.targets[body["target"]].s3.folder  # type: ignore[union-attr]
        _, task = _named(stack, "aws_dms_replication_task", replication_task_id=f"{prefix}-{key}")
        endpoint, _ = _named(stack, "aws_dms_s3_endpoint", endpoint_id=f"{prefix}-target-{body['target']}")
        assert task["target_endpoint_arn"] == _ref("aws_dms_s3_endpoint", endpoint, "endpoint_arn")
        assert task["source_endpoint_arn"] == source_endpoint
        assert task["migration_type"] == config.dms.tasks[key].migration_type
        mappings = json.loads(task["table_mappings"])
        assert mappings == _mapping_file(FIVE_SYSTEMS, key)
        rules = mappings["rules"]
        assert any(r["rule-type"] == "selection" and r["rule-action"] == "include" for r in rules)
        transformations = {r["rule-action"]: r for r in rules if r["rule-type"] == "transformation"}
        assert set(transformations) == {"rename", "remove-table-prefix", "convert-lowercase", "add-column"}
        # The added column names this system: each task got its own file, not a neighbour's.
        assert transformations["add-column"]["expression"] == f"'{key}'"
        _, crawler = _named(stack, "aws_glue_crawler", name=f"{prefix}-{body['target']}")
        assert crawler["s3_target"] == [{"path": f"s3://{bucket}/{folder}/"}]


@pytest.mark.parametrize("name", [*sorted(S3_FORMATS), *sorted(SERVERLESS_VARIANTS)])
def test_dms_reaches_s3_through_the_gateway_endpoint(stacks: Synthesized, name: str) -> None:
    config, stack = stacks[name]
    gateway, endpoint = _named(stack, "aws_vpc_endpoint", vpc_endpoint_type="Gateway")
    assert endpoint["service_name"] == f"com.amazonaws.{config.project.region}.s3"
    # The private subnets' table (000 also has the public subnets' table: its source is reached over the internet).
    (private,) = [name for name in resources(stack, "aws_route_table") if name.startswith("network_private-routes")]
    route_table = _ref("aws_route_table", private, "id")
    assert endpoint["route_table_ids"] == [route_table]
    associations = [a for a in resources(stack, "aws_route_table_association").values() if "network_private" in a["subnet_id"]]
    assert len(associations) == 3
    assert {a["route_table_id"] for a in associations} == {route_table}
    _, egress = _named(
        stack, "aws_vpc_security_group_egress_rule", prefix_list_id=_ref("aws_vpc_endpoint", gateway, "prefix_list_id")
    )
    assert egress["security_group_id"] == _security_group(stack, f"{config.project.prefix}-dms")
    assert (egress["ip_protocol"], egress["from_port"], egress["to_port"]) == ("tcp", 443, 443)


@pytest.mark.parametrize("name", [LAKEHOUSE, FIVE_SYSTEMS, STREAMING])
def test_lake_only_stacks_have_no_aurora_cutover_or_backup(stacks: Synthesized, name: str) -> None:
    config, stack = stacks[name]
    assert config.aurora is None and config.cutover is None
    for resource_type in (*AURORA_RESOURCE_TYPES, *CUTOVER_RESOURCE_TYPES, *BACKUP_RESOURCE_TYPES):
        assert resource_type not in stack["resource"], resource_type
    assert all(not n.endswith("-aurora") for n in (sg["name"] for sg in resources(stack, "aws_security_group").values()))
    secrets = {s["name"] for s in resources(stack, "aws_secretsmanager_secret").values()}
    assert secrets == {f"{config.project.prefix}/dms-source-{key}" for key in config.sources}


@pytest.mark.parametrize("name", [LAKEHOUSE, FIVE_SYSTEMS, STREAMING])
def test_lake_outputs_replace_the_aurora_and_cutover_outputs(stacks: Synthesized, name: str) -> None:
    config, stack = stacks[name]
    outputs = stack["output"]
    assert set(outputs) >= LAKE_OUTPUTS
    assert set(outputs).isdisjoint(AURORA_OUTPUTS | CUTOVER_OUTPUTS | BACKUP_OUTPUTS)
    has_streams = any(t.kinesis is not None for t in config.targets.values())
    assert (set(outputs) >= STREAM_OUTPUTS) is has_streams
    assert set(outputs).isdisjoint(STREAM_OUTPUTS) is not has_streams
    assert outputs[Output.DATA_LAKE_BUCKET]["value"] == _ref("aws_s3_bucket", _only_name(stack, "aws_s3_bucket"), "bucket")
    assert outputs[Output.GLUE_DATABASE]["value"] == _ref(
        "aws_glue_catalog_database", _only_name(stack, "aws_glue_catalog_database"), "name"
    )
    assert outputs[Output.ATHENA_WORKGROUP]["value"] == _ref(
        "aws_athena_workgroup", _only_name(stack, "aws_athena_workgroup"), "name"
    )
    crawled = {key for key, target in config.targets.items() if target.crawled_prefix}
    crawlers = outputs[Output.GLUE_CRAWLERS]["value"]
    assert set(crawlers) == crawled
    for key, value in crawlers.items():
        assert _referenced(stack, value, "aws_glue_crawler")[1]["name"] == f"{config.project.prefix}-{key}"


# --------------------------------------------------------------------------------------
# 3. Kinesis target (003)


def _kinesis_target(config: AppConfig) -> tuple[str, Any]:
    (found,) = [(key, target.kinesis) for key, target in config.targets.items() if target.kinesis is not None]
    return found


def test_kinesis_endpoint_writes_the_stream_with_the_configured_settings(stacks: Synthesized) -> None:
    config, stack = stacks[STREAMING]
    prefix = config.project.prefix
    key, kinesis = _kinesis_target(config)
    stream, _ = _named(stack, "aws_kinesis_stream", name=f"{prefix}-{key}")
    role, _ = _named(stack, "aws_iam_role", name=f"{prefix}-{key}-dms-kinesis")
    target, endpoint = _named(stack, "aws_dms_endpoint", endpoint_id=f"{prefix}-target-{key}")
    assert (endpoint["endpoint_type"], endpoint["engine_name"]) == ("target", "kinesis")
    assert endpoint["kms_key_arn"] == _key_arn(stack)
    assert endpoint["kinesis_settings"] == {
        "stream_arn": _ref("aws_kinesis_stream", stream, "arn"),
        "service_access_role_arn": _ref("aws_iam_role", role, "arn"),
        "message_format": kinesis.message_format,
        "include_transaction_details": kinesis.include_transaction_details,
        "include_control_details": kinesis.include_control_details,
        "include_table_alter_operations": kinesis.include_table_alter_operations,
        "include_partition_value": kinesis.include_partition_value,
        "partition_include_schema_table": kinesis.partition_include_schema_table,
    }
    assert not {"secrets_manager_arn", "ssl_mode", "extra_connection_attributes"} & set(endpoint)
    assert "aws_dms_s3_endpoint" not in stack["resource"]
    assert only(stack, "aws_dms_replication_task")["target_endpoint_arn"] == _ref("aws_dms_endpoint", target, "endpoint_arn")


@pytest.mark.parametrize("name", sorted(S3_FORMATS))
def test_each_s3_endpoint_waits_for_its_role_policy(stacks: Synthesized, name: str) -> None:
    config, stack = stacks[name]
    prefix = config.project.prefix
    for key in _s3_targets(config):
        _, endpoint = _named(stack, "aws_dms_s3_endpoint", endpoint_id=f"{prefix}-target-{key}")
        role, _ = _referenced(stack, endpoint["service_access_role_arn"], "aws_iam_role")
        policy, _ = _named(stack, "aws_iam_role_policy", role=_ref("aws_iam_role", role, "id"))
        assert endpoint.get("depends_on") == [f"aws_iam_role_policy.{policy}"]


def test_kinesis_endpoint_waits_for_its_role_policy(stacks: Synthesized) -> None:
    config, stack = stacks[STREAMING]
    prefix = config.project.prefix
    key, _ = _kinesis_target(config)
    role, _ = _named(stack, "aws_iam_role", name=f"{prefix}-{key}-dms-kinesis")
    policy, _ = _named(stack, "aws_iam_role_policy", role=_ref("aws_iam_role", role, "id"))
    _, endpoint = _named(stack, "aws_dms_endpoint", endpoint_id=f"{prefix}-target-{key}")
    assert f"aws_iam_role_policy.{policy}" in endpoint.get("depends_on", [])


def test_dms_reaches_kinesis_through_an_interface_endpoint(stacks: Synthesized) -> None:
    config, stack = stacks[STREAMING]
    prefix = config.project.prefix
    _, endpoint = _named(stack, "aws_vpc_endpoint", service_name=f"com.amazonaws.{config.project.region}.kinesis-streams")
    endpoints_sg = _security_group(stack, f"{prefix}-endpoints")
    assert endpoint["vpc_endpoint_type"] == "Interface"
    assert endpoint["private_dns_enabled"] is True
    assert endpoint["security_group_ids"] == [endpoints_sg]
    assert sorted(endpoint["subnet_ids"]) == sorted(_ref("aws_subnet", name, "id") for name in resources(stack, "aws_subnet"))
    _, egress = _named(stack, "aws_vpc_security_group_egress_rule", referenced_security_group_id=endpoints_sg)
    assert egress["security_group_id"] == _security_group(stack, f"{prefix}-dms")
    assert (egress["from_port"], egress["to_port"]) == (443, 443)
    # No S3 target and no DMS Serverless: no gateway endpoint (Firehose writes the lake from outside the VPC).
    assert all(e["vpc_endpoint_type"] == "Interface" for e in resources(stack, "aws_vpc_endpoint").values())


def test_stream_is_provisioned_with_the_configured_shards_and_firehose_partitions_by_date(stacks: Synthesized) -> None:
    config, stack = stacks[STREAMING]
    prefix = config.project.prefix
    key, kinesis = _kinesis_target(config)
    assert (kinesis.stream_mode, kinesis.shard_count, kinesis.dynamic_partitioning) == ("PROVISIONED", 2, False)
    stream, body = _named(stack, "aws_kinesis_stream", name=f"{prefix}-{key}")
    assert body["stream_mode_details"] == {"stream_mode": kinesis.stream_mode}
    assert body["shard_count"] == kinesis.shard_count
    assert body["retention_period"] == kinesis.retention_hours
    _, firehose = _named(stack, "aws_kinesis_firehose_delivery_stream", name=f"{prefix}-{key}")
    assert firehose["kinesis_source_configuration"]["kinesis_stream_arn"] == _ref("aws_kinesis_stream", stream, "arn")
    s3 = firehose["extended_s3_configuration"]
    assert kinesis.delivery_prefix == "raw"
    assert s3["prefix"] == f"{kinesis.delivery_prefix}/{DATE_PATH}"
    assert (s3["buffering_size"], s3["buffering_interval"]) == (kinesis.buffering_mb, kinesis.buffering_seconds)
    assert "dynamic_partitioning_configuration" not in s3
    assert "processing_configuration" not in s3
    _, crawler = _named(stack, "aws_glue_crawler", name=f"{prefix}-{key}")
    bucket = _ref("aws_s3_bucket", _only_name(stack, "aws_s3_bucket"), "bucket")
    assert crawler["s3_target"] == [{"path": f"s3://{bucket}/{kinesis.delivery_prefix}/"}]


def test_stream_health_alarms_gate_the_migration(stacks: Synthesized) -> None:
    config, stack = stacks[STREAMING]
    prefix = config.project.prefix
    key, _ = _kinesis_target(config)
    health = f"{prefix}-{HEALTH_ALARM_INFIX}-"
    stream, _ = _named(stack, "aws_kinesis_stream", name=f"{prefix}-{key}")
    firehose, _ = _named(stack, "aws_kinesis_firehose_delivery_stream", name=f"{prefix}-{key}")
    topic = _ref("aws_sns_topic", _only_name(stack, "aws_sns_topic"), "arn")
    throttled_name, throttled = _named(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"{health}kinesis-{key}-write-throttled")
    assert (throttled["namespace"], throttled["metric_name"]) == ("AWS/Kinesis", "WriteProvisionedThroughputExceeded")
    assert throttled["dimensions"] == {"StreamName": _ref("aws_kinesis_stream", stream, "name")}
    fresh_name, fresh = _named(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"{health}firehose-{key}-freshness")
    assert (fresh["namespace"], fresh["metric_name"]) == ("AWS/Firehose", "DeliveryToS3.DataFreshness")
    assert fresh["dimensions"] == {"DeliveryStreamName": _ref("aws_kinesis_firehose_delivery_stream", firehose, "name")}
    for alarm in (throttled, fresh):
        assert alarm["alarm_actions"] == [topic]
    names = stack["output"][Output.ALARM_NAMES]["value"]
    for alarm_name in (throttled_name, fresh_name):
        assert _ref("aws_cloudwatch_metric_alarm", alarm_name, "alarm_name") in names
    assert stack["output"][Output.KINESIS_STREAM_ARNS]["value"] == {key: _ref("aws_kinesis_stream", stream, "arn")}
    assert stack["output"][Output.FIREHOSE_DELIVERY_STREAMS]["value"] == {
        key: _ref("aws_kinesis_firehose_delivery_stream", firehose, "name")
    }


def test_streaming_task_carries_the_object_mapping_rule(stacks: Synthesized) -> None:
    config, stack = stacks[STREAMING]
    (task_key,) = config.dms.tasks
    task = only(stack, "aws_dms_replication_task")
    assert task["replication_task_id"] == f"{config.project.prefix}-{task_key}"
    mappings = json.loads(task["table_mappings"])
    assert mappings == _mapping_file(STREAMING, task_key)
    (object_mapping,) = [r for r in mappings["rules"] if r["rule-type"] == "object-mapping"]
    assert object_mapping["rule-action"] == "map-record-to-record"
    assert object_mapping["mapping-parameters"] == {"partition-key-type": "primary-key"}


# --------------------------------------------------------------------------------------
# 4. MySQL source into Aurora MySQL (001, prod profile)


def test_mysql_source_endpoint_polls_the_binlog_over_ssl(stacks: Synthesized) -> None:
    config, stack = stacks[VENDOR_MYSQL]
    prefix = config.project.prefix
    ((key, source),) = config.sources.items()
    assert source.engine == "mysql"
    _, endpoint = _named(stack, "aws_dms_endpoint", endpoint_id=f"{prefix}-source-{key}")
    secret, _ = _named(stack, "aws_secretsmanager_secret", name=f"{prefix}/dms-source-{key}")
    assert (endpoint["endpoint_type"], endpoint["engine_name"]) == ("source", "mysql")
    assert endpoint["ssl_mode"] == source.ssl_mode == "require"
    assert endpoint["extra_connection_attributes"] == f"eventsPollInterval={source.events_poll_interval_seconds}"
    # The provider sends no database name for a MySQL endpoint with a secret (and would diff on one).
    assert "database_name" not in endpoint
    assert endpoint["secrets_manager_arn"] == _ref("aws_secretsmanager_secret", secret, "arn")
    assert "postgres_settings" not in endpoint


def test_aurora_mysql_target_endpoint_is_engine_aurora_with_parallel_load(stacks: Synthesized) -> None:
    config, stack = stacks[VENDOR_MYSQL]
    prefix = config.project.prefix
    ((key, target),) = config.targets.items()
    assert config.aurora is not None and target.kind == "aurora_mysql"
    _, endpoint = _named(stack, "aws_dms_endpoint", endpoint_id=f"{prefix}-target-{key}")
    secret, _ = _named(stack, "aws_secretsmanager_secret", name=f"{prefix}/dms-target")
    assert (endpoint["endpoint_type"], endpoint["engine_name"]) == ("target", "aurora")
    assert endpoint["extra_connection_attributes"] == f"parallelLoadThreads={target.parallel_load_threads}"
    assert endpoint["ssl_mode"] == "require"
    assert "database_name" not in endpoint
    assert endpoint["secrets_manager_arn"] == _ref("aws_secretsmanager_secret", secret, "arn")
    assert "postgres_settings" not in endpoint
    assert "kinesis_settings" not in endpoint


def test_aurora_mysql_cluster_is_tls_only_with_row_binlog(stacks: Synthesized) -> None:
    config, stack = stacks[VENDOR_MYSQL]
    assert config.aurora is not None
    cluster = only(stack, "aws_rds_cluster")
    assert cluster["engine"] == "aurora-mysql"
    assert cluster["engine_version"] == config.aurora.engine_version == defaults.AURORA_DEFAULT_VERSIONS["aurora-mysql"]
    assert cluster["port"] == config.aurora.port == 3306
    assert cluster["database_name"] == config.aurora.database_name
    exports = cluster["enabled_cloudwatch_logs_exports"]
    assert {"error", "slowquery"} <= set(exports) <= set(MYSQL_LOG_EXPORTS)
    _, group = _referenced(stack, cluster["db_cluster_parameter_group_name"], "aws_rds_cluster_parameter_group")
    assert group["family"] == "aurora-mysql8.0"
    parameters = {p["name"]: p["value"] for p in group["parameter"]}
    assert parameters["require_secure_transport"] == "ON"
    assert parameters["binlog_format"] == "ROW"
    assert "rds.force_ssl" not in parameters
    # An exported log the parameter group never turns on stays empty.
    for export in exports:
        switch = MYSQL_LOG_EXPORTS[export]
        assert switch is None or parameters.get(switch) == "1", f"{export} exported but {switch} is not 1"
    for instance in resources(stack, "aws_rds_cluster_instance").values():
        assert (instance["engine"], instance["engine_version"]) == ("aurora-mysql", config.aurora.engine_version)


def test_mysql_port_is_the_only_database_port_opened(stacks: Synthesized) -> None:
    config, stack = stacks[VENDOR_MYSQL]
    prefix = config.project.prefix
    ((_, source),) = config.sources.items()
    assert source.port == defaults.SOURCE_DEFAULT_PORTS["mysql"] == 3306
    dms_sg, aurora_sg = _security_group(stack, f"{prefix}-dms"), _security_group(stack, f"{prefix}-aurora")
    (ingress,) = _rules(stack, "aws_vpc_security_group_ingress_rule", aurora_sg)
    assert ingress["referenced_security_group_id"] == dms_sg
    assert (ingress["ip_protocol"], ingress["from_port"], ingress["to_port"]) == ("tcp", 3306, 3306)
    egress = _rules(stack, "aws_vpc_security_group_egress_rule", dms_sg)
    (to_aurora,) = [rule for rule in egress if rule.get("referenced_security_group_id") == aurora_sg]
    assert (to_aurora["from_port"], to_aurora["to_port"]) == (3306, 3306)
    to_source = [rule for rule in egress if "cidr_ipv4" in rule]
    assert [(r["cidr_ipv4"], r["from_port"], r["to_port"]) for r in to_source] == [
        (cidr, source.port, source.port) for cidr in source.cidr_blocks
    ]
    assert {rule["from_port"] for rule in egress} == {3306, 443}


def test_vendor_stack_applies_the_prod_profile(stacks: Synthesized) -> None:
    config, stack = stacks[VENDOR_MYSQL]
    assert config.project.profile == "prod"
    _assert_profile_applied(stack, config, PROFILES["prod"], readers=PROFILES["prod"].aurora_reader_count)
    # No cutover for a vendor-owned source, but AWS Backup still protects the Aurora cluster.
    for resource_type in CUTOVER_RESOURCE_TYPES:
        assert resource_type not in stack["resource"], resource_type
    assert set(stack["output"]) >= BACKUP_OUTPUTS | AURORA_OUTPUTS
    assert set(stack["output"]).isdisjoint(CUTOVER_OUTPUTS)


# --------------------------------------------------------------------------------------
# 5. Profiles


def _profile_values(stack: Stack, config: AppConfig) -> dict[str, Any]:
    """What a profile decides, as synthesized."""
    prefix = config.project.prefix
    instance = only(stack, "aws_dms_replication_instance")
    cluster = only(stack, "aws_rds_cluster")
    _, task_logs = _named(stack, "aws_cloudwatch_log_group", name=f"dms-tasks-{prefix}-dms")
    rules = {rule["rule_name"]: rule["lifecycle"]["delete_after"] for rule in only(stack, "aws_backup_plan")["rule"]}
    task_key = config.cutover.task_key if config.cutover else next(iter(config.dms.tasks))
    _, latency = _named(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"{prefix}-health-dms-{task_key}-cdc-latency-source")
    return {
        "dms_instance_class": instance["replication_instance_class"],
        "dms_multi_az": instance["multi_az"],
        "aurora_min_acu": cluster["serverlessv2_scaling_configuration"]["min_capacity"],
        "aurora_max_acu": cluster["serverlessv2_scaling_configuration"]["max_capacity"],
        "deletion_protection": cluster["deletion_protection"],
        "skip_final_snapshot": cluster["skip_final_snapshot"],
        "backup_retention_days": cluster["backup_retention_period"],
        "log_retention_days": task_logs["retention_in_days"],
        "backup_daily_retention_days": rules["daily"],
        "backup_monthly_retention_days": rules.get("monthly", 0),
        "cdc_latency_alarm_seconds": latency["threshold"],
    }


def _reader_count(stack: Stack, config: AppConfig) -> int:
    identifiers = {instance["identifier"] for instance in resources(stack, "aws_rds_cluster_instance").values()}
    writer = f"{config.project.prefix}-aurora-writer"
    assert writer in identifiers
    return len(identifiers - {writer})


def _assert_profile_applied(stack: Stack, config: AppConfig, profile: Profile, *, readers: int) -> None:
    expected = {field: getattr(profile, field) for field in _profile_values(stack, config)}
    assert _profile_values(stack, config) == expected
    assert _reader_count(stack, config) == readers


def _file_reader_count() -> int:
    value: int = tomllib.loads(BASE_CONFIG.read_text(encoding="utf-8"))["aurora"]["reader_count"]
    return value


def test_dev_and_prod_profiles_differ_as_their_presets_say(
    base_config: AppConfig, stack_json: Stack, stacks: Synthesized
) -> None:
    prod_config, prod_stack = stacks[BASE_PROD]
    assert (base_config.project.profile, prod_config.project.profile) == ("dev", "prod")
    readers = _file_reader_count()
    _assert_profile_applied(stack_json, base_config, PROFILES["dev"], readers=readers)
    _assert_profile_applied(prod_stack, prod_config, PROFILES["prod"], readers=readers)
    # The comparison can only fail if the presets differ in what it compares.
    assert _profile_values(stack_json, base_config) != _profile_values(prod_stack, prod_config)


def test_the_staging_profile_sits_between_dev_and_prod(stacks: Synthesized, base_config: AppConfig, stack_json: Stack) -> None:
    staging_config, staging_stack = stacks[BASE_STAGING]
    assert staging_config.project.profile == "staging"
    _assert_profile_applied(staging_stack, staging_config, PROFILES["staging"], readers=_file_reader_count())
    prod_config, prod_stack = stacks[BASE_PROD]
    values = [
        _profile_values(stack, config)
        for stack, config in ((stack_json, base_config), (staging_stack, staging_config), (prod_stack, prod_config))
    ]
    assert len({repr(v) for v in values}) == 3


def test_a_field_set_in_the_file_wins_over_the_profile(base_config: AppConfig, stack_json: Stack, stacks: Synthesized) -> None:
    file_readers = _file_reader_count()
    assert file_readers != PROFILES["dev"].aurora_reader_count
    assert _reader_count(stack_json, base_config) == file_readers
    profile_config, profile_stack = stacks[BASE_DEV_PROFILE_READERS]
    assert _reader_count(profile_stack, profile_config) == PROFILES["dev"].aurora_reader_count
    # The same holds for every (profile) field, in prod as in dev.
    overrides = {
        "dms": {"instance_class": "dms.r6i.large", "multi_az": False, "log_retention_days": 30},
        "aurora": {"min_acu": 1.0, "max_acu": 8.0, "backup_retention_days": 7},
        "observability": {"cdc_latency_alarm_seconds": 45},
        "backup": {"daily_retention_days": 10, "monthly_retention_days": 0},
    }
    # Below prod's own floor on purpose: allowed only with a stated reason.
    acknowledged = {"acknowledge": {"below-profile-floor": "this test shows that the file wins over the profile"}}
    config = config_from({**overrides, **acknowledged}, env={"TAP_PROFILE": "prod"})
    assert config.project.profile == "prod"
    assert config.aurora is not None
    chosen = {
        "dms": {
            "instance_class": config.dms.instance_class,
            "multi_az": config.dms.multi_az,
            "log_retention_days": config.dms.log_retention_days,
        },
        "aurora": {
            "min_acu": config.aurora.min_acu,
            "max_acu": config.aurora.max_acu,
            "backup_retention_days": config.aurora.backup_retention_days,
        },
        "observability": {"cdc_latency_alarm_seconds": config.observability.cdc_latency_alarm_seconds},
        "backup": {
            "daily_retention_days": config.backup.daily_retention_days,
            "monthly_retention_days": config.backup.monthly_retention_days,
        },
    }
    assert chosen == overrides


@pytest.mark.parametrize(("name", "profile"), [(STREAMING_DEV_DEFAULT_MODE, "dev"), (STREAMING_PROD_DEFAULT_MODE, "prod")])
def test_kinesis_stream_mode_follows_the_profile_when_not_set(stacks: Synthesized, name: str, profile: str) -> None:
    config, stack = stacks[name]
    assert config.project.profile == profile
    key, kinesis = _kinesis_target(config)
    expected_mode = PROFILES[profile].kinesis_stream_mode
    assert kinesis.stream_mode == expected_mode
    stream, body = _named(stack, "aws_kinesis_stream", name=f"{config.project.prefix}-{key}")
    assert body["stream_mode_details"] == {"stream_mode": expected_mode}
    if expected_mode == "PROVISIONED":
        assert body["shard_count"] == KinesisTarget.model_fields["shard_count"].default
    else:
        assert "shard_count" not in body
    _, endpoint = _named(stack, "aws_dms_endpoint", engine_name="kinesis")
    assert endpoint["kinesis_settings"]["stream_arn"] == _ref("aws_kinesis_stream", stream, "arn")


def test_the_presets_disagree_on_the_stream_mode() -> None:
    assert PROFILES["dev"].kinesis_stream_mode != PROFILES["prod"].kinesis_stream_mode


# --------------------------------------------------------------------------------------
# 6. DMS Serverless


@pytest.mark.parametrize("name", sorted(SERVERLESS_VARIANTS))
def test_serverless_builds_replication_configs_instead_of_instance_and_tasks(stacks: Synthesized, name: str) -> None:
    config, stack = stacks[name]
    prefix = config.project.prefix
    assert config.dms.serverless
    for resource_type in ("aws_dms_replication_instance", "aws_dms_replication_task"):
        assert resource_type not in stack["resource"], resource_type
    replications = resources(stack, "aws_dms_replication_config")
    assert len(replications) == len(config.dms.tasks)
    subnet_group = _ref(
        "aws_dms_replication_subnet_group", _only_name(stack, "aws_dms_replication_subnet_group"), "replication_subnet_group_id"
    )
    for key, task in config.dms.tasks.items():
        _, replication = _named(stack, "aws_dms_replication_config", replication_config_identifier=f"{prefix}-{key}")
        assert replication["compute_config"] == {
            "min_capacity_units": config.dms.min_capacity_units,
            "max_capacity_units": config.dms.max_capacity_units,
            "kms_key_id": _key_arn(stack),
            "replication_subnet_group_id": subnet_group,
            "vpc_security_group_ids": [_security_group(stack, f"{prefix}-dms")],
            "multi_az": config.dms.multi_az,
        }
        assert replication["start_replication"] is False
        assert replication["replication_type"] == task.migration_type
        assert replication["table_mappings"] == task.table_mappings
        assert json.loads(replication["table_mappings"]) == _mapping_file(SERVERLESS_VARIANTS[name], key)
        source, _ = _named(stack, "aws_dms_endpoint", endpoint_id=f"{prefix}-source-{task.source}")
        target_type = "aws_dms_s3_endpoint" if config.targets[task.target].s3 is not None else "aws_dms_endpoint"
        target, _ = _named(stack, target_type, endpoint_id=f"{prefix}-target-{task.target}")
        assert replication["source_endpoint_arn"] == _ref("aws_dms_endpoint", source, "endpoint_arn")
        assert replication["target_endpoint_arn"] == _ref(target_type, target, "endpoint_arn")
    assert set(stack["output"]).isdisjoint(INSTANCE_OUTPUTS)


@pytest.mark.parametrize("name", sorted(SERVERLESS_VARIANTS))
def test_serverless_log_groups_exist_before_dms_writes_to_them(stacks: Synthesized, name: str) -> None:
    config, stack = stacks[name]
    prefix = config.project.prefix
    groups = {body["name"]: body for body in resources(stack, "aws_cloudwatch_log_group").values()}
    assert not any(group.startswith("dms-tasks-") for group in groups)  # no instance, no instance task logs
    for key in config.dms.tasks:
        # DMS names it after the replication config's resource identifier.
        _, replication = _named(stack, "aws_dms_replication_config", replication_config_identifier=f"{prefix}-{key}")
        group = groups[f"dms-serverless-replication-{replication['resource_identifier']}"]
        assert group["retention_in_days"] == config.dms.log_retention_days
        assert group["kms_key_id"] == _key_arn(stack)


def test_serverless_capacity_comes_from_the_file_or_else_the_profile(stacks: Synthesized) -> None:
    lake, _ = stacks[SERVERLESS]
    assert (lake.dms.min_capacity_units, lake.dms.max_capacity_units) == SERVERLESS_CAPACITY
    vendor, stack = stacks[SERVERLESS_AURORA]
    profile = PROFILES[vendor.project.profile]
    expected = (Dms.model_fields["min_capacity_units"].default, profile.dms_serverless_max_dcu)
    assert (vendor.dms.min_capacity_units, vendor.dms.max_capacity_units) == expected
    compute = only(stack, "aws_dms_replication_config")["compute_config"]
    assert (compute["min_capacity_units"], compute["max_capacity_units"], compute["multi_az"]) == (
        *expected,
        profile.dms_multi_az,
    )


@pytest.mark.parametrize("name", sorted(SERVERLESS_VARIANTS))
def test_serverless_has_no_instance_metric_alarms(stacks: Synthesized, name: str) -> None:
    config, stack = stacks[name]
    for alarm in resources(stack, "aws_cloudwatch_metric_alarm").values():
        assert "ReplicationInstanceIdentifier" not in alarm.get("dimensions", {}), alarm["alarm_name"]
        # DMS alarms name the replication config, never an instance or a task.
        if alarm["namespace"] == "AWS/DMS":
            assert set(alarm["dimensions"]) == {"ReplicationConfigId"}, alarm["alarm_name"]
    subscriptions = resources(stack, "aws_dms_event_subscription").values()
    assert all(s["source_type"] != "replication-instance" for s in subscriptions)
    # The same example on an instance does raise them: the checks above can fail.
    _, instance_stack = stacks[SERVERLESS_VARIANTS[name]]
    prefix = config.project.prefix
    _named(instance_stack, "aws_cloudwatch_metric_alarm", alarm_name=f"{prefix}-{HEALTH_ALARM_INFIX}-dms-free-storage")


def test_serverless_cutover_watches_the_replication_config(stacks: Synthesized) -> None:
    config, stack = stacks[SERVERLESS_CUTOVER]
    assert config.dms.serverless and config.cutover is not None
    prefix = config.project.prefix
    replication, _ = _named(stack, "aws_dms_replication_config", replication_config_identifier=f"{prefix}-main")
    variables = only(stack, "aws_lambda_function")["environment"]["variables"]
    assert variables[CutoverEnv.DMS_REPLICATION_ARN] == _ref("aws_dms_replication_config", replication, "arn")
    # No instance: the Lambda would refuse an instance id beside a replication config.
    assert CutoverEnv.DMS_REPLICATION_INSTANCE_ID not in variables
    actions = _cutover_actions(stack)
    assert {"dms:DescribeReplications", "dms:DescribeReplicationTableStatistics", "cloudwatch:ListMetrics"} <= actions
    assert "dms:DescribeReplicationTasks" not in actions
    # The replication configs' state changes (forward and reverse) tick the Lambda at once, under their own
    # detail-type; the Lambda accepts exactly these two.
    reverse, _ = _named(stack, "aws_dms_replication_config", replication_config_identifier=f"{prefix}-main-reverse")
    _, trigger = _named(stack, "aws_cloudwatch_event_rule", name=f"{prefix}-cutover-dms-task")
    assert decode_jsonencode(trigger["event_pattern"]) == {
        "source": ["aws.dms"],
        "detail-type": ["DMS Replication State Change"],
        "resources": [_ref("aws_dms_replication_config", r, "arn") for r in (replication, reverse)],
    }
    assert variables[CutoverEnv.DMS_REVERSE_REPLICATION_ARN] == _ref("aws_dms_replication_config", reverse, "arn")
    # The instance-based stack is the other way round, so these checks can fail.
    _, instance_stack = stacks[BASE_STAGING]
    instance_actions = _cutover_actions(instance_stack)
    assert "dms:DescribeReplicationTasks" in instance_actions and "cloudwatch:ListMetrics" not in instance_actions
    instance_variables = only(instance_stack, "aws_lambda_function")["environment"]["variables"]
    assert CutoverEnv.DMS_REPLICATION_INSTANCE_ID in instance_variables


def test_serverless_lag_and_capacity_alarms_name_the_replication_config(stacks: Synthesized) -> None:
    config, stack = stacks[SERVERLESS_CUTOVER]
    prefix = config.project.prefix
    replication, _ = _named(stack, "aws_dms_replication_config", replication_config_identifier=f"{prefix}-main")
    account = "${data.aws_caller_identity.identity.account_id}"
    dims = {"ReplicationConfigId": f'{account}:${{regex("[^:]+$", aws_dms_replication_config.{replication}.arn)}}'}
    health = f"{prefix}-{HEALTH_ALARM_INFIX}-"
    for side in ("source", "target"):
        _, alarm = _named(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"{health}dms-main-cdc-latency-{side}")
        assert alarm["dimensions"] == dims and alarm["treat_missing_data"] == "breaching"
    _, capacity = _named(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"{health}dms-main-capacity")
    assert (capacity["metric_name"], capacity["dimensions"], capacity["threshold"]) == ("CapacityUtilization", dims, 90)
    # The Lambda reads a replication's validation from table statistics: no validation alarms.
    assert not any("validation" in a["alarm_name"] for a in resources(stack, "aws_cloudwatch_metric_alarm").values())
    # Failures arrive under the replication config's own detail-type.
    stopped = next(r for r in resources(stack, "aws_cloudwatch_event_rule").values() if r["name"].endswith("dms-task-stopped"))
    pattern = decode_jsonencode(stopped["event_pattern"])
    assert pattern["detail-type"] == ["DMS Replication State Change"]
    assert pattern["detail"] == {"eventType": ["REPLICATION_FAILED", "REPLICATION_STOPPED"]}
    # The reverse replication config too: stopped or failed after the writer flip, a rollback would lose writes.
    reverse, _ = _named(stack, "aws_dms_replication_config", replication_config_identifier=f"{prefix}-main-reverse")
    assert pattern["resources"] == [_ref("aws_dms_replication_config", r, "arn") for r in (replication, reverse)]
    # The dashboard's series carry the same composite value (a template the test decoder cannot parse).
    body = only(stack, "aws_cloudwatch_dashboard")["dashboard_body"]
    assert f'"CapacityUtilization", "ReplicationConfigId", "{dims["ReplicationConfigId"]}"' in body
    assert "DMS Serverless capacity (%), replication main" in body and "ReplicationTaskIdentifier" not in body


def _cutover_actions(stack: Stack) -> set[str]:
    _, policy = _named(stack, "aws_iam_role_policy", name="cutover")
    return {action for st in statements(stack, policy["policy"]).values() for action in st["Action"]}


# --------------------------------------------------------------------------------------
# 7. Engine pairs


@pytest.mark.parametrize(
    ("build", "task"),
    [
        (lambda: _postgres_to_aurora_mysql(""), "main"),
        (
            lambda: parse_config(
                {
                    **_example_raw(VENDOR_MYSQL),
                    "targets": {"aurora": {"kind": "aurora_postgresql"}},
                    "aurora": {"database_name": "basis"},
                },
                env={},
                config_file=_toml_path(VENDOR_MYSQL),
            ),
            "basis",
        ),
    ],
    ids=["postgres-to-aurora-mysql", "mysql-to-aurora-postgresql"],
)
def test_a_heterogeneous_pair_is_refused_without_a_schema_conversion_note(build: Callable[[], AppConfig], task: str) -> None:
    with pytest.raises(ConfigError) as raised:
        build()
    (problem,) = raised.value.problems
    assert problem.startswith(f"dms.tasks.{task}:")
    assert f"dms.tasks.{task}.schema_conversion_note" in problem


def test_a_heterogeneous_pair_with_a_note_is_built(stacks: Synthesized) -> None:
    config, stack = stacks[POSTGRES_TO_AURORA_MYSQL]
    prefix = config.project.prefix
    task = config.dms.tasks["main"]
    assert config.sources[task.source].engine == "postgres"
    assert config.targets[task.target].kind == "aurora_mysql"
    _, source = _named(stack, "aws_dms_endpoint", endpoint_id=f"{prefix}-source-{task.source}")
    _, target = _named(stack, "aws_dms_endpoint", endpoint_id=f"{prefix}-target-{task.target}")
    assert (source["engine_name"], target["engine_name"]) == ("postgres", "aurora")
    assert "postgres_settings" in source
    cluster = only(stack, "aws_rds_cluster")
    assert (cluster["engine"], cluster["port"]) == ("aurora-mysql", 3306)
    aurora_sg = _security_group(stack, f"{prefix}-aurora")
    ingress = _rules(stack, "aws_vpc_security_group_ingress_rule", aurora_sg)
    # From DMS and from the base config's application network, on the MySQL port only.
    assert {(rule["from_port"], rule["to_port"]) for rule in ingress} == {(3306, 3306)} and len(ingress) == 2
    egress = _rules(stack, "aws_vpc_security_group_egress_rule", _security_group(stack, f"{prefix}-dms"))
    assert {r["from_port"] for r in egress if "cidr_ipv4" in r} == {config.sources[task.source].port} == {5432}


def test_homogeneous_pairs_and_lake_targets_need_no_note() -> None:
    mariadb = _example_raw(VENDOR_MYSQL)
    mariadb["sources"]["vendor"]["engine"] = "mariadb"
    config = parse_config(mariadb, env={}, config_file=_toml_path(VENDOR_MYSQL))
    assert config.sources["vendor"].engine == "mariadb"
    assert config.targets["aurora"].kind == defaults.HOMOGENEOUS_TARGET["mariadb"]
    # A postgres source into S3 (000) carries no note either.
    lake: Mapping[str, Any] = _example_raw(LAKEHOUSE)["dms"]["tasks"]["main"]
    assert "schema_conversion_note" not in lake
    assert load_config(_toml_path(LAKEHOUSE), env={}).targets["bronze"].kind == "s3"


def test_zones_named_in_the_config_are_used_as_given(stacks: Synthesized) -> None:
    """Example 001 pins Tokyo's a, c, d: no lookup, the subnets name them."""
    config, stack = stacks[VENDOR_MYSQL]
    assert config.network.availability_zones == ("ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d")
    assert "aws_availability_zones" not in stack.get("data", {})
    subnets = resources(stack, "aws_subnet").values()
    assert sorted(s["availability_zone"] for s in subnets) == list(config.network.availability_zones)
    assert all("lifecycle" not in s for s in subnets)  # named zones stay under Terraform's control
