"""A DMS Kinesis target: an encrypted stream DMS writes to, and a Firehose that lands it in the data lake.

One `KinesisDelivery` per target of kind "kinesis". DMS writes one JSON record per change to
the stream (through `dms_access_role`, the endpoint's service access role); Firehose reads the
stream and writes GZIP'd, newline-delimited JSON under the target's prefix of the lake bucket,
either by source table (dynamic partitioning) or by date. The endpoint itself lives in dms.py.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_stream import CloudwatchLogStream
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kinesis_firehose_delivery_stream import (
    KinesisFirehoseDeliveryStream,
    KinesisFirehoseDeliveryStreamExtendedS3Configuration,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptions,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationDynamicPartitioningConfiguration,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfiguration,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessors,
    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorsParameters,
    KinesisFirehoseDeliveryStreamKinesisSourceConfiguration,
)
from cdktf_cdktf_provider_aws.kinesis_stream import KinesisStream, KinesisStreamStreamModeDetails
from constructs import Construct

from lib.config import KinesisTargetConfig
from lib.constants import FIREHOSE_ROLE_SUFFIX, KINESIS_DMS_ROLE_SUFFIX
from lib.constructs.context import StackContext
from lib.constructs.policy_documents import RoleIds, service_role, statement

# What an operator needs to see a stalled or throttled stream (per-shard, on top of the stream-level set).
SHARD_LEVEL_METRICS = ("IncomingBytes", "IncomingRecords", "WriteProvisionedThroughputExceeded", "IteratorAgeMilliseconds")
DELIVERY_LOG_STREAM = "S3Delivery"
# DMS's JSON record is {"data": {...}, "metadata": {"schema-name": ..., "table-name": ..., ...}}.
PARTITION_QUERY = '{schema: .metadata["schema-name"], table: .metadata["table-name"]}'
JQ_ENGINE = "JQ-1.6"
DATE_PATH = "!{timestamp:yyyy/MM/dd}/"
# Firehose rejects an expression-bearing error prefix without the error-output-type.
ERROR_PATH = "!{firehose:error-output-type}/" + DATE_PATH


def delivery_prefix(config: KinesisTargetConfig) -> str:
    """The S3 key prefix Firehose writes records to (by source table, or by date only)."""
    if config.dynamic_partitioning:
        return f"{config.delivery_prefix}/!{{partitionKeyFromQuery:schema}}/!{{partitionKeyFromQuery:table}}/{DATE_PATH}"
    return f"{config.delivery_prefix}/{DATE_PATH}"


def error_prefix(config: KinesisTargetConfig) -> str:
    """Failed records go beside the data (never under it, so crawlers do not catalog them)."""
    return f"{config.delivery_prefix}-errors/{ERROR_PATH}"


class KinesisDelivery(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        name: str,
        config: KinesisTargetConfig,
        bucket_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        self.stream = self._build_stream(context, name, config)
        self.stream_arn: str = self.stream.arn
        # The policy is exposed so the DMS endpoint can depend on it: DMS tests the role when the endpoint is created.
        self.dms_access_role, self.dms_access_policy = self._build_dms_access_role(context, name)
        self.log_group, self.log_stream = self._build_delivery_logs(context, name)
        self.firehose_role, self.firehose_policy = self._build_firehose_role(context, name, config, bucket_arn)
        self.delivery_stream = self._build_delivery_stream(context, name, config, bucket_arn)

    def _build_stream(self, context: StackContext, name: str, config: KinesisTargetConfig) -> KinesisStream:
        kms_key_arn = context.kms_key_arn
        provisioned = config.stream_mode == "PROVISIONED"
        return KinesisStream(
            self,
            "stream",
            name=name,
            encryption_type="KMS",
            kms_key_id=kms_key_arn,
            retention_period=config.retention_hours,
            stream_mode_details=KinesisStreamStreamModeDetails(stream_mode=config.stream_mode),
            # ON_DEMAND streams size themselves; the API rejects a shard count for them.
            shard_count=config.shard_count if provisioned else None,
            shard_level_metrics=list(SHARD_LEVEL_METRICS),
        )

    def _build_dms_access_role(self, context: StackContext, name: str) -> tuple[IamRole, IamRolePolicy]:
        """The role DMS writes the stream with."""
        kms_key_arn = context.kms_key_arn
        return service_role(
            self,
            RoleIds("dms-role", "dms-role-policy", "dms-role-document"),
            name=f"{name}{KINESIS_DMS_ROLE_SUFFIX}",
            service=context.service_principal("dms"),
            policy_name="write-stream",
            statements=[
                statement(
                    "WriteThisStream", ["kinesis:DescribeStream", "kinesis:PutRecord", "kinesis:PutRecords"], [self.stream_arn]
                ),
                # Writing to a KMS-encrypted stream needs a data key; only through Kinesis.
                statement(
                    "EncryptForStream",
                    ["kms:GenerateDataKey"],
                    [kms_key_arn],
                    condition={"StringEquals": {"kms:ViaService": context.via_service("kinesis")}},
                ),
            ],
        )

    def _build_delivery_logs(self, context: StackContext, name: str) -> tuple[CloudwatchLogGroup, CloudwatchLogStream]:
        kms_key_arn = context.kms_key_arn
        log_retention_days = context.log_retention_days
        log_group_name = _delivery_log_group_name(name)
        log_group = CloudwatchLogGroup(
            self, "delivery-logs", name=log_group_name, retention_in_days=log_retention_days, kms_key_id=kms_key_arn
        )
        log_stream = CloudwatchLogStream(self, "delivery-log-stream", name=DELIVERY_LOG_STREAM, log_group_name=log_group.name)
        return log_group, log_stream

    def _build_firehose_role(
        self, context: StackContext, name: str, config: KinesisTargetConfig, bucket_arn: str
    ) -> tuple[IamRole, IamRolePolicy]:
        """The role Firehose reads the stream and writes the lake's prefix with."""
        kms_key_arn = context.kms_key_arn
        log_stream_arn = context.arn("logs", f"log-group:{_delivery_log_group_name(name)}:log-stream:{DELIVERY_LOG_STREAM}")
        data_objects = f"{bucket_arn}/{config.delivery_prefix}/*"
        error_objects = f"{bucket_arn}/{config.delivery_prefix}-errors/*"
        return service_role(
            self,
            RoleIds("firehose-role", "firehose-role-policy", "firehose-role-document"),
            name=f"{name}{FIREHOSE_ROLE_SUFFIX}",
            service=context.service_principal("firehose"),
            policy_name="stream-to-lake",
            statements=[
                statement(
                    "ReadThisStream",
                    ["kinesis:DescribeStream", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
                    [self.stream_arn],
                ),
                statement(
                    "DecryptThisStream",
                    ["kms:Decrypt"],
                    [kms_key_arn],
                    condition={
                        "StringEquals": {"kms:ViaService": context.via_service("kinesis")},
                        "StringLike": {"kms:EncryptionContext:aws:kinesis:arn": self.stream_arn},
                    },
                ),
                statement(
                    "WriteDeliveryObjects",
                    ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                    [data_objects, error_objects],
                ),
                # Bucket-level actions have no object ARN; ListBucket at least is held to the two prefixes.
                statement(
                    "ListDeliveryPrefixes",
                    ["s3:ListBucket"],
                    [bucket_arn],
                    condition={
                        "StringLike": {"s3:prefix": [f"{config.delivery_prefix}/*", f"{config.delivery_prefix}-errors/*"]}
                    },
                ),
                statement("LocateBucket", ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], [bucket_arn]),
                # The bucket ARN is the context when the bucket uses S3 Bucket Keys; object ARNs otherwise.
                statement(
                    "EncryptDeliveryObjects",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    [kms_key_arn],
                    condition={
                        "StringEquals": {"kms:ViaService": context.via_service("s3")},
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, data_objects, error_objects]},
                    },
                ),
                statement("WriteDeliveryLogs", ["logs:PutLogEvents"], [log_stream_arn]),
            ],
        )

    def _build_delivery_stream(
        self, context: StackContext, name: str, config: KinesisTargetConfig, bucket_arn: str
    ) -> KinesisFirehoseDeliveryStream:
        kms_key_arn = context.kms_key_arn
        processing = None
        dynamic_partitioning = None
        if config.dynamic_partitioning:
            dynamic_partitioning = KinesisFirehoseDeliveryStreamExtendedS3ConfigurationDynamicPartitioningConfiguration(
                enabled=True
            )
            processing = KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfiguration(
                enabled=True,
                processors=[
                    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessors(
                        type="MetadataExtraction",
                        parameters=[
                            _parameter("JsonParsingEngine", JQ_ENGINE),
                            _parameter("MetadataExtractionQuery", PARTITION_QUERY),
                        ],
                    ),
                    # DMS records carry no trailing newline: one JSON document per line is what Glue and Athena read.
                    KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessors(
                        type="AppendDelimiterToRecord"
                    ),
                ],
            )

        # No server_side_encryption block: Firehose refuses it when the source is a Kinesis stream. The records
        # rest encrypted in the stream (KMS) and in S3 (kms_key_arn below).
        return KinesisFirehoseDeliveryStream(
            self,
            "delivery",
            name=name,
            destination="extended_s3",
            kinesis_source_configuration=KinesisFirehoseDeliveryStreamKinesisSourceConfiguration(
                kinesis_stream_arn=self.stream_arn, role_arn=self.firehose_role.arn
            ),
            extended_s3_configuration=KinesisFirehoseDeliveryStreamExtendedS3Configuration(
                bucket_arn=bucket_arn,
                role_arn=self.firehose_role.arn,
                kms_key_arn=kms_key_arn,
                compression_format="GZIP",
                buffering_size=config.buffering_mb,
                buffering_interval=config.buffering_seconds,
                prefix=delivery_prefix(config),
                error_output_prefix=error_prefix(config),
                dynamic_partitioning_configuration=dynamic_partitioning,
                processing_configuration=processing,
                cloudwatch_logging_options=KinesisFirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptions(
                    enabled=True, log_group_name=self.log_group.name, log_stream_name=self.log_stream.name
                ),
            ),
            # Firehose checks its role on create and reads at once; the policy must exist (and propagate) first.
            depends_on=[self.firehose_policy],
        )


def _delivery_log_group_name(name: str) -> str:
    return f"/aws/kinesisfirehose/{name}"


def _parameter(
    name: str, value: str
) -> KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorsParameters:
    return KinesisFirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorsParameters(
        parameter_name=name, parameter_value=value
    )
