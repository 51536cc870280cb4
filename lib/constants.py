"""Names and output keys shared by the stack, the scripts and the integration tests.

Integration tests read `cfn-outputs/flat-outputs.json` by these keys only, so a renamed
output breaks a test instead of silently skipping a check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

STACK_NAME: Final = "tap-migrate"
CONFIG_CONTEXT_KEY: Final = "tapConfigFile"
DEFAULT_CONFIG_FILE: Final = "config/tap-migrate.toml"
OUTPUTS_FILE: Final = "cfn-outputs/flat-outputs.json"

# Route 53 weighted-record set identifiers; the cutover Lambda uses the same literals.
SET_ID_SOURCE: Final = "source"
SET_ID_AURORA: Final = "aurora"
READER_RECORD_PREFIX: Final = "reader"
WRITER_RECORD_PREFIX: Final = "writer"

# The drain marker: the operator CLI writes a row into this table on the fenced source and the writer flips
# only once it has arrived through replication, so the cutover task's mappings must select it (checked at synth).
MARKER_TABLE: Final = "tap_migrate_cutover_marker"
MARKER_SCHEMA_POSTGRES: Final = "public"  # the CLI's default --marker-schema


def marker_schema_for(engine: str, database: str) -> str:
    """Where the marker table lives: PostgreSQL's `public` schema, or the source database on MySQL/MariaDB."""
    return MARKER_SCHEMA_POSTGRES if engine == "postgres" else database


# Account-wide DMS service roles: AWS looks them up by these exact names.
# IAM role names built from the prefix and a target's key (the config checks them against IAM's 64 characters).
IAM_ROLE_NAME_MAX: Final = 64
KINESIS_DMS_ROLE_SUFFIX: Final = "-dms-kinesis"
FIREHOSE_ROLE_SUFFIX: Final = "-firehose"


def s3_writer_role_name(prefix: str, target_key: str) -> str:
    """The DMS S3 endpoint's service access role of one lake target."""
    return f"{prefix}-dms-{target_key}"


def target_role_names(prefix: str, target_key: str, kind: str) -> tuple[str, ...]:
    """The IAM roles the stack names after one target: S3 writer role; Kinesis: DMS writer and Firehose roles."""
    if kind == "s3":
        return (s3_writer_role_name(prefix, target_key),)
    if kind == "kinesis":
        stream = f"{prefix}-{target_key}"
        return (stream + KINESIS_DMS_ROLE_SUFFIX, stream + FIREHOSE_ROLE_SUFFIX)
    return ()


# Tag on a DMS endpoint that connects without TLS because the config opted in explicitly
# (sources.<key>.allow_unencrypted, MySQL/MariaDB only); its value names that field. The policy gate's
# ssl rule accepts exactly these endpoints, so the opt-in stays visible in the synthesized JSON.
ALLOW_UNENCRYPTED_TAG: Final = "tap-migrate:allow-unencrypted"


def unencrypted_opt_in(source_key: str, allow_unencrypted: bool, ssl_mode: str) -> dict[str, str] | None:
    """The endpoint tags that record a config's explicit opt-out of TLS, or None."""
    if allow_unencrypted and ssl_mode == "none":
        return {ALLOW_UNENCRYPTED_TAG: f"sources.{source_key}.allow_unencrypted"}
    return None


DMS_VPC_ROLE_NAME: Final = "dms-vpc-role"
DMS_CLOUDWATCH_LOGS_ROLE_NAME: Final = "dms-cloudwatch-logs-role"

LAMBDA_HANDLER: Final = "tap_cutover.handler.handler"
LAMBDA_RUNTIME: Final = "python3.11"

# Alarms named <prefix>-health-* gate the cutover; <prefix>-ops-* (e.g. the cutover's own errors) do not.
HEALTH_ALARM_INFIX: Final = "health"
OPS_ALARM_INFIX: Final = "ops"

# EventBridge detail-types of DMS state changes: a task's, and a DMS Serverless replication config's.
DMS_TASK_STATE_CHANGE: Final = "DMS Replication Task State Change"
DMS_REPLICATION_STATE_CHANGE: Final = "DMS Replication State Change"


# The initial cutover state the stack writes; the Lambda owns the value afterwards.
def dms_state_change_pattern(
    resources: Sequence[str], *, serverless: bool, event_types: Sequence[str] | None = None
) -> dict[str, Any]:
    """The EventBridge pattern of DMS state changes of `resources` (tasks, or Serverless replication configs).

    DMS Serverless sends a replication config's changes under their own detail-type. One builder for the
    cutover's trigger rule and the operators' alert rule, so the two never watch different things.
    """
    pattern: dict[str, Any] = {
        "source": ["aws.dms"],
        "detail-type": [DMS_REPLICATION_STATE_CHANGE if serverless else DMS_TASK_STATE_CHANGE],
        "resources": list(resources),
    }
    if event_types is not None:
        pattern["detail"] = {"eventType": list(event_types)}
    return pattern


INITIAL_CUTOVER_STATE: Final = '{"version": 1, "phase": "replicating"}'


class Output:
    """Terraform output keys (flattened into cfn-outputs/flat-outputs.json)."""

    VPC_ID: Final = "vpc_id"
    PRIVATE_SUBNET_IDS: Final = "private_subnet_ids"
    # issue 16: the route to on-premises and the DNS way back in
    PRIVATE_ROUTE_TABLE_IDS: Final = "private_route_table_ids"  # empty for an existing VPC without route_table_ids
    NETWORK_CONNECTION: Final = "network_connection"  # transit_gateway | vpn | external | none
    ON_PREMISES_CIDRS: Final = "on_premises_cidrs"  # routed through the connection (new VPC)
    TRANSIT_GATEWAY_ATTACHMENT_ID: Final = "transit_gateway_attachment_id"
    VPN_CONNECTION_ID: Final = "vpn_connection_id"
    RESOLVER_ENDPOINT_ID: Final = "resolver_endpoint_id"
    RESOLVER_INBOUND_IPS: Final = "resolver_inbound_ips"  # forward the cutover domain to these
    # issue 28: network.source_access = "internet": the addresses the source sees DMS come from (allow them)
    NAT_PUBLIC_IPS: Final = "nat_public_ips"
    INTERNET_SOURCE_CIDRS: Final = "internet_source_cidrs"  # routed through the NAT gateways
    AURORA_SECURITY_GROUP_ID: Final = "aurora_security_group_id"
    DMS_SECURITY_GROUP_ID: Final = "dms_security_group_id"
    KMS_KEY_ARN: Final = "kms_key_arn"
    KMS_KEY_ALIAS: Final = "kms_key_alias"
    AURORA_CLUSTER_ARN: Final = "aurora_cluster_arn"
    AURORA_CLUSTER_ID: Final = "aurora_cluster_id"
    AURORA_WRITER_ENDPOINT: Final = "aurora_writer_endpoint"
    AURORA_READER_ENDPOINT: Final = "aurora_reader_endpoint"
    AURORA_INSTANCE_IDS: Final = "aurora_instance_ids"
    AURORA_MASTER_SECRET_ARN: Final = "aurora_master_secret_arn"  # noqa: S105  (an output key, not a secret)
    SOURCE_SECRET_ARNS: Final = "source_secret_arns"  # noqa: S105  (source key -> ARN)
    TARGET_SECRET_ARN: Final = "target_secret_arn"  # noqa: S105
    DMS_REPLICATION_INSTANCE_ARN: Final = "dms_replication_instance_arn"
    DMS_REPLICATION_INSTANCE_ID: Final = "dms_replication_instance_id"
    DMS_SOURCE_ENDPOINT_ARNS: Final = "dms_source_endpoint_arns"  # source key -> ARN
    DMS_TARGET_ENDPOINT_ARNS: Final = "dms_target_endpoint_arns"  # target key -> ARN
    DMS_TASK_ARNS: Final = "dms_replication_task_arns"
    DMS_SECRETS_ACCESS_ROLE_ARN: Final = "dms_secrets_access_role_arn"
    HOSTED_ZONE_ID: Final = "hosted_zone_id"
    READER_RECORD_NAME: Final = "reader_record_name"
    WRITER_RECORD_NAME: Final = "writer_record_name"
    CUTOVER_FUNCTION_NAME: Final = "cutover_function_name"
    CUTOVER_STATE_PARAMETER: Final = "cutover_state_parameter"
    CUTOVER_LOCK_PARAMETER: Final = "cutover_lock_parameter"
    NOTIFICATION_TOPIC_ARN: Final = "notification_topic_arn"
    ALARM_NAME_PREFIX: Final = "alarm_name_prefix"
    ALARM_NAMES: Final = "alarm_names"
    DASHBOARD_NAME: Final = "dashboard_name"
    BACKUP_VAULT_NAME: Final = "backup_vault_name"
    BACKUP_PLAN_ID: Final = "backup_plan_id"
    REGION: Final = "region"
    DEPLOYMENT_TARGET: Final = "deployment_target"
    DATA_LAKE_BUCKET: Final = "data_lake_bucket"
    GLUE_DATABASE: Final = "glue_database"
    GLUE_CRAWLERS: Final = "glue_crawlers"  # target key -> crawler name
    ATHENA_WORKGROUP: Final = "athena_workgroup"
    KINESIS_STREAM_ARNS: Final = "kinesis_stream_arns"  # target key -> ARN
    FIREHOSE_DELIVERY_STREAMS: Final = "firehose_delivery_streams"  # target key -> name
    # cutover.reverse_replication: the Aurora -> source task (or Serverless replication config), created stopped,
    # the secret of the user it writes into the source with, and (PostgreSQL) the slot it reads Aurora through.
    REVERSE_TASK_ARN: Final = "reverse_task_arn"
    REVERSE_TARGET_SECRET_ARN: Final = "reverse_target_secret_arn"  # noqa: S105
    REVERSE_SLOT_NAME: Final = "reverse_slot_name"


# Present in every stack; the others only when their part exists (Aurora, cutover, reverse task, DMS instance,
# data lake).
CORE_OUTPUTS: Final = frozenset(
    {
        Output.VPC_ID,
        Output.PRIVATE_SUBNET_IDS,
        Output.PRIVATE_ROUTE_TABLE_IDS,
        Output.NETWORK_CONNECTION,
        Output.ON_PREMISES_CIDRS,
        Output.DMS_SECURITY_GROUP_ID,
        Output.KMS_KEY_ARN,
        Output.KMS_KEY_ALIAS,
        Output.SOURCE_SECRET_ARNS,
        Output.DMS_SOURCE_ENDPOINT_ARNS,
        Output.DMS_TARGET_ENDPOINT_ARNS,
        Output.DMS_TASK_ARNS,
        Output.DMS_SECRETS_ACCESS_ROLE_ARN,
        Output.NOTIFICATION_TOPIC_ARN,
        Output.ALARM_NAME_PREFIX,
        Output.ALARM_NAMES,
        Output.DASHBOARD_NAME,
        Output.REGION,
        Output.DEPLOYMENT_TARGET,
    }
)


class CutoverEnv:
    """Environment variable names of the cutover Lambda (read by tap_cutover.settings)."""

    STATE_PARAMETER_NAME: Final = "STATE_PARAMETER_NAME"
    LOCK_PARAMETER_NAME: Final = "LOCK_PARAMETER_NAME"
    HOSTED_ZONE_ID: Final = "HOSTED_ZONE_ID"
    READER_RECORD_NAME: Final = "READER_RECORD_NAME"
    WRITER_RECORD_NAME: Final = "WRITER_RECORD_NAME"
    SOURCE_HOST: Final = "SOURCE_HOST"
    AURORA_READER_ENDPOINT: Final = "AURORA_READER_ENDPOINT"
    AURORA_WRITER_ENDPOINT: Final = "AURORA_WRITER_ENDPOINT"
    RECORD_TTL: Final = "RECORD_TTL"
    CUTOVER_TTL: Final = "CUTOVER_TTL"
    DMS_REPLICATION_ARN: Final = "DMS_REPLICATION_ARN"
    DMS_REPLICATION_INSTANCE_ID: Final = "DMS_REPLICATION_INSTANCE_ID"
    DMS_REVERSE_REPLICATION_ARN: Final = "DMS_REVERSE_REPLICATION_ARN"
    AURORA_CLUSTER_ID: Final = "AURORA_CLUSTER_ID"
    SNS_TOPIC_ARN: Final = "SNS_TOPIC_ARN"
    ALARM_NAME_PREFIX: Final = "ALARM_NAME_PREFIX"
    READ_STEPS: Final = "READ_STEPS"
    STEP_HOLD_SECONDS: Final = "STEP_HOLD_SECONDS"
    LATENCY_THRESHOLD_SECONDS: Final = "LATENCY_THRESHOLD_SECONDS"
    LATENCY_PERIODS: Final = "LATENCY_PERIODS"
    METRIC_PERIOD_SECONDS: Final = "METRIC_PERIOD_SECONDS"
    DRAIN_THRESHOLD_SECONDS: Final = "DRAIN_THRESHOLD_SECONDS"
    DRAIN_TIMEOUT_SECONDS: Final = "DRAIN_TIMEOUT_SECONDS"
    DRAIN_POLL_SECONDS: Final = "DRAIN_POLL_SECONDS"
    LOCK_TTL_SECONDS: Final = "LOCK_TTL_SECONDS"
    PREFLIGHT_VALID_SECONDS: Final = "PREFLIGHT_VALID_SECONDS"
