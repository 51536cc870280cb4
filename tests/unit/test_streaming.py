"""KinesisDelivery on its own: stream, Firehose and both roles, asserted on the synthesized JSON."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import lib  # noqa: F401  (fast provider import before cdktf loads anything)
from lib.config import KinesisTargetConfig
from tests.unit.conftest import decode_jsonencode, resources, statements

BUCKET_ARN = "arn:aws:s3:::tap-lake-123456789012"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
LOG_RETENTION = 14
REFERENCE = re.compile(r"^\$\{(?P<type>[a-z0-9_]+)\.(?P<name>[\w-]+)\.(?P<attr>[a-z_]+)\}$")

PROVISIONED = KinesisTargetConfig(
    kind="kinesis",
    stream_mode="PROVISIONED",
    shard_count=3,
    retention_hours=48,
    message_format="json",
    include_transaction_details=True,
    include_control_details=False,
    include_table_alter_operations=True,
    include_partition_value=True,
    partition_include_schema_table=True,
    delivery_prefix="bronze/orders",
    buffering_seconds=120,
    buffering_mb=64,
    dynamic_partitioning=True,
    crawler=True,
)
ON_DEMAND = PROVISIONED.model_copy(
    update={
        "stream_mode": "ON_DEMAND",
        "retention_hours": 72,
        "delivery_prefix": "raw/events",
        "buffering_seconds": 300,
        "buffering_mb": 5,
        "dynamic_partitioning": False,
    }
)
NAMES = {"orders": "tap-dev-orders", "events": "tap-dev-events"}


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    import cdktf
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from lib.constructs.context import StackContext
    from lib.constructs.streaming import KinesisDelivery

    scope = cdktf.TerraformStack(cdktf.Testing.app(), "streaming")
    AwsProvider(scope, "aws", region="us-east-1")
    context = StackContext("tap-migrate-dev", "aws", "amazonaws.com", "us-east-1", "123456789012", KEY_ARN, LOG_RETENTION)
    for key, config in (("orders", PROVISIONED), ("events", ON_DEMAND)):
        KinesisDelivery(scope, key, context=context, name=NAMES[key], config=config, bucket_arn=BUCKET_ARN)
    parsed: dict[str, Any] = json.loads(cdktf.Testing.synth(scope))
    return parsed


def _by_name(stack: dict[str, Any], resource_type: str, name: str) -> tuple[str, dict[str, Any]]:
    matches = [(address, body) for address, body in resources(stack, resource_type).items() if body.get("name") == name]
    assert len(matches) == 1, f"expected one {resource_type} named {name!r}, found {len(matches)}"
    return matches[0]


def _stream(stack: dict[str, Any], key: str) -> tuple[str, dict[str, Any]]:
    return _by_name(stack, "aws_kinesis_stream", NAMES[key])


def _firehose(stack: dict[str, Any], key: str) -> dict[str, Any]:
    return _by_name(stack, "aws_kinesis_firehose_delivery_stream", NAMES[key])[1]


def _s3(stack: dict[str, Any], key: str) -> dict[str, Any]:
    block: dict[str, Any] = _firehose(stack, key)["extended_s3_configuration"]
    return block


def _role_statements(stack: dict[str, Any], role_name: str) -> dict[str, dict[str, Any]]:
    role_address, _ = _by_name(stack, "aws_iam_role", role_name)
    policies = [
        p for p in resources(stack, "aws_iam_role_policy").values() if p["role"] == f"${{aws_iam_role.{role_address}.id}}"
    ]
    assert len(policies) == 1, f"expected one inline policy on {role_name}"
    return statements(stack, policies[0]["policy"])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _stream_arn(stack: dict[str, Any], key: str) -> str:
    return f"${{aws_kinesis_stream.{_stream(stack, key)[0]}.arn}}"


def test_streams_are_kms_encrypted_with_configured_mode_and_retention(stack: dict[str, Any]) -> None:
    _, provisioned = _stream(stack, "orders")
    _, on_demand = _stream(stack, "events")
    for body, config in ((provisioned, PROVISIONED), (on_demand, ON_DEMAND)):
        assert body["encryption_type"] == "KMS"
        assert body["kms_key_id"] == KEY_ARN
        assert body["retention_period"] == config.retention_hours
        assert body["stream_mode_details"] == {"stream_mode": config.stream_mode}
        assert set(body["shard_level_metrics"]) == {
            "IncomingBytes",
            "IncomingRecords",
            "WriteProvisionedThroughputExceeded",
            "IteratorAgeMilliseconds",
        }
    assert provisioned["shard_count"] == 3
    assert "shard_count" not in on_demand


def test_firehose_reads_its_own_stream_and_writes_gzip_with_the_key(stack: dict[str, Any]) -> None:
    for key, config in (("orders", PROVISIONED), ("events", ON_DEMAND)):
        firehose = _firehose(stack, key)
        assert firehose["destination"] == "extended_s3"
        source = firehose["kinesis_source_configuration"]
        assert source["kinesis_stream_arn"] == _stream_arn(stack, key)
        firehose_role, _ = _by_name(stack, "aws_iam_role", f"{NAMES[key]}-firehose")
        assert source["role_arn"] == f"${{aws_iam_role.{firehose_role}.arn}}"
        s3 = _s3(stack, key)
        assert s3["role_arn"] == source["role_arn"]
        assert s3["bucket_arn"] == BUCKET_ARN
        assert s3["kms_key_arn"] == KEY_ARN
        assert s3["compression_format"] == "GZIP"
        assert s3["buffering_size"] == config.buffering_mb
        assert s3["buffering_interval"] == config.buffering_seconds
        # Firehose rejects server-side encryption when a Kinesis stream is the source.
        assert "server_side_encryption" not in firehose


def test_prefixes_partition_by_table_or_by_date(stack: dict[str, Any]) -> None:
    dynamic, dated = _s3(stack, "orders"), _s3(stack, "events")
    assert dynamic["prefix"] == (
        "bronze/orders/!{partitionKeyFromQuery:schema}/!{partitionKeyFromQuery:table}/!{timestamp:yyyy/MM/dd}/"
    )
    assert dated["prefix"] == "raw/events/!{timestamp:yyyy/MM/dd}/"
    assert dynamic["error_output_prefix"] == "bronze/orders-errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
    assert dated["error_output_prefix"] == "raw/events-errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"


def test_dynamic_partitioning_extracts_schema_and_table_only_when_enabled(stack: dict[str, Any]) -> None:
    dynamic, dated = _s3(stack, "orders"), _s3(stack, "events")
    assert dynamic["dynamic_partitioning_configuration"]["enabled"] is True
    processing = dynamic["processing_configuration"]
    assert processing["enabled"] is True
    processors = {p["type"]: p for p in processing["processors"]}
    assert set(processors) == {"MetadataExtraction", "AppendDelimiterToRecord"}
    parameters = {p["parameter_name"]: p["parameter_value"] for p in processors["MetadataExtraction"]["parameters"]}
    assert parameters["JsonParsingEngine"] == "JQ-1.6"
    query = parameters["MetadataExtractionQuery"]
    assert 'schema: .metadata["schema-name"]' in query and 'table: .metadata["table-name"]' in query
    # Every partitionKeyFromQuery key in the prefix is produced by the query.
    for partition_key in re.findall(r"!\{partitionKeyFromQuery:(\w+)\}", dynamic["prefix"]):
        assert f"{partition_key}:" in query
    assert "dynamic_partitioning_configuration" not in dated
    assert "processing_configuration" not in dated


def test_delivery_logs_go_to_an_encrypted_expiring_group(stack: dict[str, Any]) -> None:
    for key, name in NAMES.items():
        group_address, group = _by_name(stack, "aws_cloudwatch_log_group", f"/aws/kinesisfirehose/{name}")
        assert group["kms_key_id"] == KEY_ARN
        assert group["retention_in_days"] == LOG_RETENTION
        streams = [s for s in resources(stack, "aws_cloudwatch_log_stream").values() if group_address in s["log_group_name"]]
        assert [s["name"] for s in streams] == ["S3Delivery"]
        logging = _s3(stack, key)["cloudwatch_logging_options"]
        assert logging["enabled"] is True
        assert logging["log_group_name"] == f"${{aws_cloudwatch_log_group.{group_address}.name}}"
        assert logging["log_stream_name"].endswith(".name}") and "aws_cloudwatch_log_stream." in logging["log_stream_name"]


def test_roles_have_no_wildcard_resources(stack: dict[str, Any]) -> None:
    roles = [f"{n}-{suffix}" for n in NAMES.values() for suffix in ("firehose", "dms-kinesis")]
    for role in roles:
        found = _role_statements(stack, role)
        assert found
        for sid, body in found.items():
            assert "*" not in _as_list(body["Resource"]), f"{role}: {sid} allows Resource *"
            assert all(not action.endswith("*") for action in _as_list(body["Action"])), f"{role}: {sid}"


def test_firehose_role_is_scoped_to_its_stream_prefixes_and_log_stream(stack: dict[str, Any]) -> None:
    for key, config in (("orders", PROVISIONED), ("events", ON_DEMAND)):
        found = _role_statements(stack, f"{NAMES[key]}-firehose")
        stream_arn = _stream_arn(stack, key)
        assert found["ReadThisStream"]["Resource"] == [stream_arn]
        assert set(found["ReadThisStream"]["Action"]) == {
            "kinesis:DescribeStream",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
        }
        object_statements = [s for s in found.values() if "s3:PutObject" in s["Action"]]
        assert len(object_statements) == 1
        object_resources = object_statements[0]["Resource"]
        assert sorted(object_resources) == sorted(
            [f"{BUCKET_ARN}/{config.delivery_prefix}/*", f"{BUCKET_ARN}/{config.delivery_prefix}-errors/*"]
        )
        s3_actions = {a for s in found.values() for a in s["Action"] if a.startswith("s3:")}
        assert s3_actions == {
            "s3:AbortMultipartUpload",
            "s3:GetBucketLocation",
            "s3:GetObject",
            "s3:ListBucket",
            "s3:ListBucketMultipartUploads",
            "s3:PutObject",
        }
        for body in found.values():
            if any(a.startswith("s3:") for a in body["Action"]):
                for resource in body["Resource"]:
                    assert resource == BUCKET_ARN or resource.endswith((f"/{config.delivery_prefix}/*", "-errors/*")), resource
        listing = next(s for s in found.values() if "s3:ListBucket" in s["Action"])
        assert listing["Resource"] == [BUCKET_ARN]
        assert set(listing["Condition"]["StringLike"]["s3:prefix"]) == {
            f"{config.delivery_prefix}/*",
            f"{config.delivery_prefix}-errors/*",
        }
        kms = [s for s in found.values() if any(a.startswith("kms:") for a in s["Action"])]
        assert kms and all(s["Resource"] == [KEY_ARN] for s in kms)
        assert {a for s in kms for a in s["Action"]} == {"kms:Decrypt", "kms:GenerateDataKey"}
        assert {v for s in kms for v in s["Condition"]["StringEquals"]["kms:ViaService"]} == {
            "s3.us-east-1.amazonaws.com",
            "kinesis.us-east-1.amazonaws.com",
        }
        logs = found["WriteDeliveryLogs"]
        assert logs["Action"] == ["logs:PutLogEvents"]
        assert logs["Resource"] == [
            f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/kinesisfirehose/{NAMES[key]}:log-stream:S3Delivery"
        ]


def test_dms_role_only_writes_to_its_own_stream(stack: dict[str, Any]) -> None:
    for key, name in NAMES.items():
        _, role = _by_name(stack, "aws_iam_role", f"{name}-dms-kinesis")
        assert decode_jsonencode(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": ["dms.amazonaws.com"]}
        found = _role_statements(stack, f"{name}-dms-kinesis")
        kinesis = [s for s in found.values() if any(a.startswith("kinesis:") for a in s["Action"])]
        assert len(kinesis) == 1
        assert set(kinesis[0]["Action"]) == {"kinesis:DescribeStream", "kinesis:PutRecord", "kinesis:PutRecords"}
        assert kinesis[0]["Resource"] == [_stream_arn(stack, key)]
        others = [s for s in found.values() if s is not kinesis[0]]
        assert [(s["Action"], s["Resource"]) for s in others] == [(["kms:GenerateDataKey"], [KEY_ARN])]


def test_firehose_trusts_firehose_and_waits_for_its_role_policy(stack: dict[str, Any]) -> None:
    for key, name in NAMES.items():
        role_address, role = _by_name(stack, "aws_iam_role", f"{name}-firehose")
        trust = decode_jsonencode(role["assume_role_policy"])["Statement"][0]
        assert trust["Principal"] == {"Service": ["firehose.amazonaws.com"]}
        policy_addresses = [
            address
            for address, p in resources(stack, "aws_iam_role_policy").items()
            if p["role"] == f"${{aws_iam_role.{role_address}.id}}"
        ]
        assert len(policy_addresses) == 1
        assert f"aws_iam_role_policy.{policy_addresses[0]}" in _firehose(stack, key).get("depends_on", [])
