"""Every store of data is encrypted with a customer key (RDS, S3, SNS, logs, Kinesis, DMS, Backup, secrets)."""

from __future__ import annotations

from typing import Any

from lib.policy.model import Finding, SynthesizedStack, is_reference, references

RULE = "encryption-at-rest"

# resource type -> the attribute that must name a KMS key
KMS_ATTRIBUTES = {
    "aws_rds_cluster": "kms_key_id",
    "aws_db_instance": "kms_key_id",
    "aws_sns_topic": "kms_master_key_id",
    "aws_cloudwatch_log_group": "kms_key_id",
    "aws_kinesis_stream": "kms_key_id",
    "aws_dms_replication_instance": "kms_key_arn",
    "aws_backup_vault": "kms_key_arn",
    "aws_secretsmanager_secret": "kms_key_id",
    "aws_lambda_function": "kms_key_arn",
}
DATABASE_ENDPOINT_ENGINES = {"postgres", "aurora-postgresql", "mysql", "aurora", "mariadb"}


def check(stack: SynthesizedStack) -> list[Finding]:
    findings: list[Finding] = []
    for resource_type, attribute in KMS_ATTRIBUTES.items():
        for address, body in stack.resources(resource_type):
            if not body.get(attribute):
                findings.append(Finding(RULE, address, f"{attribute} is not set: encrypt with the project KMS key"))
    for address, body in stack.resources("aws_rds_cluster", "aws_db_instance"):
        if body.get("storage_encrypted") is not True:
            findings.append(Finding(RULE, address, "storage_encrypted must be true"))
    for address, body in stack.resources("aws_kinesis_stream"):
        if body.get("encryption_type") != "KMS":
            findings.append(Finding(RULE, address, "encryption_type must be KMS"))
    for address, body in stack.resources("aws_dms_endpoint"):
        if body.get("engine_name") in DATABASE_ENDPOINT_ENGINES and not body.get("kms_key_arn"):
            findings.append(Finding(RULE, address, "kms_key_arn is not set: DMS encrypts connection settings with it"))
    for address, body in stack.resources("aws_kinesis_firehose_delivery_stream"):
        findings += _firehose_findings(address, body)
    encrypted_buckets = _buckets_with_kms(stack)
    for address, _ in stack.resources("aws_s3_bucket"):
        if address not in encrypted_buckets:
            findings.append(Finding(RULE, address, "no aws_s3_bucket_server_side_encryption_configuration with aws:kms"))
    return findings


def _firehose_findings(address: str, body: dict[str, Any]) -> list[Finding]:
    """Firehose must encrypt what it buffers and what it writes.

    AWS refuses server_side_encryption on a Firehose that reads a Kinesis stream: there the buffer is
    the stream (checked above as a Kinesis stream) and the S3 objects must name the key instead.
    """
    findings = []
    destination = body.get("extended_s3_configuration", {})
    if isinstance(destination, dict) and "extended_s3_configuration" in body and not destination.get("kms_key_arn"):
        findings.append(
            Finding(RULE, address, "extended_s3_configuration.kms_key_arn is not set: encrypt objects with the project key")
        )
    if "kinesis_source_configuration" in body:
        return findings
    sse = body.get("server_side_encryption", {})
    if not (isinstance(sse, dict) and sse.get("enabled") is True):
        findings.append(Finding(RULE, address, "server_side_encryption.enabled must be true"))
    return findings


def _buckets_with_kms(stack: SynthesizedStack) -> set[str]:
    covered: set[str] = set()
    bucket_addresses = [address for address, _ in stack.resources("aws_s3_bucket")]
    for _, body in stack.resources("aws_s3_bucket_server_side_encryption_configuration"):
        rules = body.get("rule", [])
        uses_kms = any(
            r.get("apply_server_side_encryption_by_default", {}).get("sse_algorithm") == "aws:kms"
            for r in rules
            if isinstance(r, dict)
        )
        bucket = body.get("bucket", "")
        if uses_kms and is_reference(bucket):
            covered.update(a for a in bucket_addresses if references(a) in bucket)
    return covered
