"""The DataLake construct on its own: two stacks (default names with every feature, explicit names with no crawler)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import lib  # noqa: F401  (fast provider import before cdktf loads anything)
from lib.config import DataLakeConfig, KinesisTargetConfig, S3TargetConfig, TargetConfig
from tests.unit.conftest import decode_jsonencode, only, resources, statements

PREFIX = "tap-migrate-dev"
KEY_ARN = "${aws_kms_key.key.arn}"
ACCOUNT_TOKEN = "${data.aws_caller_identity.me.account_id}"
ACCOUNT = re.escape(ACCOUNT_TOKEN)
BUCKET = "${aws_s3_bucket.lake_bucket_7B773D1A.bucket}"
BUCKET_ARN_PATTERN = re.compile(r"^\$\{aws_s3_bucket\.lake_bucket_\w+\.arn\}")
GIB = 1024**3


def _s3(folder: str, *, crawler: bool) -> S3TargetConfig:
    return S3TargetConfig(
        kind="s3",
        folder=folder,
        data_format="parquet",
        compression="gzip",
        parquet_version="parquet-2-0",
        enable_statistics=True,
        date_partition_enabled=True,
        cdc_path="cdc",
        include_op_for_full_load=True,
        timestamp_column_name="dms_commit_ts",
        crawler=crawler,
    )


def _kinesis(delivery_prefix: str, *, crawler: bool) -> KinesisTargetConfig:
    # shard_count keeps its default: ON_DEMAND streams refuse one.
    return KinesisTargetConfig(
        kind="kinesis",
        stream_mode="ON_DEMAND",
        retention_hours=24,
        message_format="json",
        include_transaction_details=True,
        include_control_details=False,
        include_table_alter_operations=True,
        include_partition_value=True,
        partition_include_schema_table=True,
        delivery_prefix=delivery_prefix,
        buffering_seconds=60,
        buffering_mb=64,
        dynamic_partitioning=True,
        crawler=crawler,
    )


FULL_CONFIG = DataLakeConfig(
    bucket_name="",
    transition_to_ia_days=90,
    transition_to_glacier_days=180,
    noncurrent_version_expiration_days=60,
    glue_database_name="",
    crawler_schedule="cron(0 3 * * ? *)",
    athena_results_expiration_days=14,
    athena_bytes_scanned_cutoff_gb=25,
)
FULL_TARGETS: dict[str, TargetConfig] = {
    "sales": _s3("bronze/sales", crawler=True).with_key("sales"),
    "events": _kinesis("stream/events", crawler=True).with_key("events"),
    "archive": _s3("raw/archive", crawler=False).with_key("archive"),
}
# Explicit names, no Standard-IA step, and nothing crawled.
BARE_CONFIG = DataLakeConfig(
    bucket_name="acme-lake",
    transition_to_ia_days=0,
    transition_to_glacier_days=365,
    noncurrent_version_expiration_days=30,
    glue_database_name="acme_catalog",
    crawler_schedule="cron(0 2 * * ? *)",
    athena_results_expiration_days=7,
    athena_bytes_scanned_cutoff_gb=1,
)
BARE_TARGETS: dict[str, TargetConfig] = {"archive": _s3("raw/archive", crawler=False).with_key("archive")}


def _synth(config: DataLakeConfig, targets: dict[str, TargetConfig], *, dms_folder: str | None) -> dict[str, Any]:
    import cdktf
    from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
    from cdktf_cdktf_provider_aws.kms_key import KmsKey
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from lib.constructs.context import StackContext
    from lib.constructs.data_lake import DataLake

    stack = cdktf.TerraformStack(cdktf.Testing.app(), "lake-under-test")
    AwsProvider(stack, "aws", region="us-east-1")
    me = DataAwsCallerIdentity(stack, "me")
    key = KmsKey(stack, "key")
    context = StackContext(PREFIX, "aws", "amazonaws.com", "us-east-1", me.account_id, key.arn, 14)
    lake = DataLake(stack, "lake", context=context, config=config, targets=targets)
    if dms_folder is not None:
        lake.dms_writer_role("dms-writer", name=f"{PREFIX}-dms-s3-sales", folder=dms_folder)
    assert set(lake.crawlers) == {k for k, t in targets.items() if t.crawled_prefix}
    parsed: dict[str, Any] = json.loads(cdktf.Testing.synth(stack))
    return parsed


@pytest.fixture(scope="module")
def full() -> dict[str, Any]:
    return _synth(FULL_CONFIG, FULL_TARGETS, dms_folder="/bronze/sales/")


@pytest.fixture(scope="module")
def bare() -> dict[str, Any]:
    return _synth(BARE_CONFIG, BARE_TARGETS, dms_folder=None)


def _named(stack: dict[str, Any], resource_type: str, construct_id: str) -> dict[str, Any]:
    found = {name: body for name, body in resources(stack, resource_type).items() if name.startswith(f"lake_{construct_id}_")}
    assert len(found) == 1, f"expected one {resource_type} {construct_id!r}, found {sorted(resources(stack, resource_type))}"
    return next(iter(found.values()))


def _rules(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["id"]: rule for rule in only(stack, "aws_s3_bucket_lifecycle_configuration")["rule"]}


# ---- bucket --------------------------------------------------------------------------


def test_default_bucket_name_carries_prefix_and_account_and_survives_destroy(full: dict[str, Any]) -> None:
    bucket = only(full, "aws_s3_bucket")
    assert re.fullmatch(rf"{PREFIX}-lake-{ACCOUNT}", bucket["bucket"]), bucket["bucket"]
    assert bucket["force_destroy"] is False


def test_explicit_bucket_and_database_names_are_used_verbatim(bare: dict[str, Any]) -> None:
    assert only(bare, "aws_s3_bucket")["bucket"] == "acme-lake"
    assert only(bare, "aws_glue_catalog_database")["name"] == "acme_catalog"


def test_default_database_name_swaps_dashes_for_underscores(full: dict[str, Any]) -> None:
    assert only(full, "aws_glue_catalog_database")["name"] == "tap_migrate_dev"


def test_bucket_is_versioned_kms_encrypted_with_bucket_key_private_and_owner_enforced(full: dict[str, Any]) -> None:
    assert only(full, "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    (rule,) = only(full, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "aws:kms", "kms_master_key_id": KEY_ARN}
    assert rule["bucket_key_enabled"] is True
    block = only(full, "aws_s3_bucket_public_access_block")
    flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    assert {flag: block.get(flag) for flag in flags} == dict.fromkeys(flags, True)
    assert only(full, "aws_s3_bucket_ownership_controls")["rule"] == {"object_ownership": "BucketOwnerEnforced"}


def test_bucket_policy_denies_plain_http_on_bucket_and_objects(full: dict[str, Any]) -> None:
    found = statements(full, only(full, "aws_s3_bucket_policy")["policy"])
    tls = found["DenyInsecureTransport"]
    assert tls["Effect"] == "Deny"
    assert tls["Principal"] == {"AWS": ["*"]}
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": ["false"]}}
    bucket_arn, objects = tls["Resource"]
    assert BUCKET_ARN_PATTERN.fullmatch(bucket_arn)
    assert objects == f"{bucket_arn}/*"


def test_bucket_policy_refuses_only_an_explicit_non_kms_encryption_header(full: dict[str, Any]) -> None:
    deny = statements(full, only(full, "aws_s3_bucket_policy")["policy"])["DenyEncryptionOtherThanKms"]
    assert deny["Effect"] == "Deny" and deny["Action"] == ["s3:PutObject"]
    # The Null test keeps uploads without the header (the bucket default encrypts them) allowed.
    assert deny["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption": ["false"]},
        "StringNotEquals": {"s3:x-amz-server-side-encryption": ["aws:kms"]},
    }


# ---- lifecycle -----------------------------------------------------------------------


def test_lifecycle_rules_carry_the_configured_days(full: dict[str, Any]) -> None:
    rules = _rules(full)
    assert set(rules) == {"tiering", "expire-noncurrent-versions", "abort-incomplete-multipart-uploads", "expire-athena-results"}
    assert rules["tiering"]["transition"] == [
        {"days": 90, "storage_class": "STANDARD_IA"},
        {"days": 180, "storage_class": "GLACIER"},
    ]
    assert rules["expire-noncurrent-versions"]["noncurrent_version_expiration"] == [{"noncurrent_days": 60}]
    assert rules["abort-incomplete-multipart-uploads"]["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
    assert rules["expire-athena-results"]["expiration"] == [{"days": 14}]
    assert rules["expire-athena-results"]["filter"] == [{"prefix": "athena-results/"}]


def test_every_lifecycle_rule_is_enabled_and_filtered(full: dict[str, Any]) -> None:
    for rule_id, rule in _rules(full).items():
        assert rule["status"] == "Enabled", rule_id
        assert len(rule.get("filter", [])) == 1, f"{rule_id}: provider 5.x wants an explicit filter"


def test_a_zero_day_transition_is_left_out(bare: dict[str, Any]) -> None:
    assert _rules(bare)["tiering"]["transition"] == [{"days": 365, "storage_class": "GLACIER"}]


def test_lifecycle_waits_for_versioning(full: dict[str, Any]) -> None:
    (versioning,) = resources(full, "aws_s3_bucket_versioning")
    assert only(full, "aws_s3_bucket_lifecycle_configuration")["depends_on"] == [f"aws_s3_bucket_versioning.{versioning}"]


# ---- Glue ----------------------------------------------------------------------------


def test_one_crawler_per_crawled_prefix_with_path_schedule_and_security_configuration(full: dict[str, Any]) -> None:
    crawlers = {body["name"]: body for body in resources(full, "aws_glue_crawler").values()}
    assert set(crawlers) == {f"{PREFIX}-sales", f"{PREFIX}-events"}  # archive has crawler = false
    assert crawlers[f"{PREFIX}-sales"]["s3_target"] == [{"path": f"s3://{BUCKET}/bronze/sales/"}]
    assert crawlers[f"{PREFIX}-events"]["s3_target"] == [{"path": f"s3://{BUCKET}/stream/events/"}]
    security = _named(full, "aws_glue_security_configuration", "security-configuration")
    for crawler in crawlers.values():
        assert crawler["schedule"] == "cron(0 3 * * ? *)"
        assert crawler["security_configuration"].startswith("${aws_glue_security_configuration.lake_security-configuration_")
        assert crawler["database_name"].startswith("${aws_glue_catalog_database.lake_database_")
        assert crawler["role"].startswith("${aws_iam_role.lake_crawler-role_")
    assert security["name"] == f"{PREFIX}-lake"


def test_crawler_policies_are_a_valid_pair(full: dict[str, Any]) -> None:
    for crawler in resources(full, "aws_glue_crawler").values():
        assert crawler["schema_change_policy"] == {"delete_behavior": "LOG", "update_behavior": "UPDATE_IN_DATABASE"}
        # Glue refuses CRAWL_NEW_FOLDERS_ONLY unless both schema change behaviours are LOG.
        assert crawler["recrawl_policy"]["recrawl_behavior"] != "CRAWL_NEW_FOLDERS_ONLY"


def test_glue_security_configuration_encrypts_everything_with_the_key(full: dict[str, Any]) -> None:
    encryption = only(full, "aws_glue_security_configuration")["encryption_configuration"]
    assert encryption["s3_encryption"] == {"s3_encryption_mode": "SSE-KMS", "kms_key_arn": KEY_ARN}
    assert encryption["cloudwatch_encryption"] == {"cloudwatch_encryption_mode": "SSE-KMS", "kms_key_arn": KEY_ARN}
    assert encryption["job_bookmarks_encryption"] == {"job_bookmarks_encryption_mode": "CSE-KMS", "kms_key_arn": KEY_ARN}


def test_crawler_role_is_assumed_by_glue_and_scoped_to_the_crawled_prefixes(full: dict[str, Any]) -> None:
    role = _named(full, "aws_iam_role", "crawler-role")
    assert decode_jsonencode(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": ["glue.amazonaws.com"]}
    found = statements(full, _named(full, "aws_iam_role_policy", "crawler-policy")["policy"])
    for sid, body in found.items():
        assert "*" not in body["Resource"], f"{sid} grants on every resource"
    reads = found["ReadCrawledPrefixes"]["Resource"]
    assert sorted(r.split("}", 1)[1] for r in reads) == ["/bronze/sales/*", "/stream/events/*"]
    assert all(BUCKET_ARN_PATTERN.match(r) for r in reads)
    listing = found["ListCrawledPrefixes"]
    assert listing["Action"] == ["s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["bronze/sales/*", "stream/events/*"]}}
    assert "raw/archive" not in json.dumps(found)
    glue = found["MaintainLakeTables"]["Resource"]
    assert glue[0] == f"arn:aws:glue:us-east-1:{ACCOUNT_TOKEN}:catalog"
    assert glue[1].endswith(":database/${aws_glue_catalog_database.lake_database_897CB6DE.name}")
    assert glue[2].endswith(":table/${aws_glue_catalog_database.lake_database_897CB6DE.name}/*")
    assert found["WriteCrawlerLogs"]["Resource"] == [f"arn:aws:logs:us-east-1:{ACCOUNT_TOKEN}:log-group:/aws-glue/crawlers*"]
    assert found["UseLakeKey"]["Resource"] == [KEY_ARN]


def test_no_crawled_prefix_means_no_crawler_and_no_crawler_role(bare: dict[str, Any]) -> None:
    assert resources(bare, "aws_glue_crawler") == {}
    assert resources(bare, "aws_iam_role") == {}
    assert resources(bare, "aws_iam_role_policy") == {}
    # The catalog and its encryption stay: Athena and later crawlers use them.
    assert only(bare, "aws_glue_catalog_database")
    assert only(bare, "aws_glue_security_configuration")


# ---- Athena --------------------------------------------------------------------------


def test_workgroup_is_enforced_encrypted_and_limited(full: dict[str, Any]) -> None:
    workgroup = only(full, "aws_athena_workgroup")
    assert workgroup["name"] == f"{PREFIX}-analytics"
    assert workgroup["state"] == "ENABLED"
    assert workgroup["force_destroy"] is False
    configuration = workgroup["configuration"]
    assert configuration["enforce_workgroup_configuration"] is True
    assert configuration["publish_cloudwatch_metrics_enabled"] is True
    assert configuration["bytes_scanned_cutoff_per_query"] == 25 * GIB
    assert configuration["engine_version"] == {"selected_engine_version": "AUTO"}
    results = configuration["result_configuration"]
    assert results["output_location"] == f"s3://{BUCKET}/athena-results/"
    assert results["encryption_configuration"] == {"encryption_option": "SSE_KMS", "kms_key_arn": KEY_ARN}


def test_workgroup_cutoff_follows_the_config(bare: dict[str, Any]) -> None:
    assert only(bare, "aws_athena_workgroup")["configuration"]["bytes_scanned_cutoff_per_query"] == GIB


# ---- DMS writer role -----------------------------------------------------------------


def test_dms_writer_role_is_assumed_by_dms_and_scoped_to_its_folder(full: dict[str, Any]) -> None:
    role = _named(full, "aws_iam_role", "dms-writer")
    assert role["name"] == f"{PREFIX}-dms-s3-sales"
    assert decode_jsonencode(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": ["dms.amazonaws.com"]}
    policy = _named(full, "aws_iam_role_policy", "dms-writer-policy")
    assert policy["role"].startswith("${aws_iam_role.lake_dms-writer_")
    found = statements(full, policy["policy"])
    assert set(found) == {"WriteFolder", "ListFolder", "LocateBucket", "UseLakeKey"}
    write = found["WriteFolder"]
    assert write["Action"] == ["s3:DeleteObject", "s3:PutObject", "s3:PutObjectTagging"]
    (objects,) = write["Resource"]
    assert BUCKET_ARN_PATTERN.match(objects) and objects.endswith("}/bronze/sales/*")  # slashes of "/bronze/sales/" trimmed
    assert found["ListFolder"]["Condition"] == {"StringLike": {"s3:prefix": ["bronze/sales/*"]}}
    for sid in ("ListFolder", "LocateBucket"):
        (bucket,) = found[sid]["Resource"]
        assert BUCKET_ARN_PATTERN.fullmatch(bucket), sid
    assert found["UseLakeKey"] == {
        "Sid": "UseLakeKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": [KEY_ARN],
    }
