"""Nothing is reachable from the internet: RDS instances, the DMS instance, S3 buckets."""

from __future__ import annotations

from lib.policy.model import Finding, SynthesizedStack, references

RULE = "no-public-access"
PUBLIC_ACCESS_BLOCK_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def check(stack: SynthesizedStack) -> list[Finding]:
    findings: list[Finding] = []
    for address, body in stack.resources("aws_db_instance", "aws_rds_cluster_instance", "aws_dms_replication_instance"):
        if body.get("publicly_accessible") is not False:
            findings.append(Finding(RULE, address, "publicly_accessible must be set to false"))
    blocks = [body for _, body in stack.resources("aws_s3_bucket_public_access_block")]
    for address, _ in stack.resources("aws_s3_bucket"):
        block = next((b for b in blocks if references(address) in str(b.get("bucket", ""))), None)
        if block is None or not all(block.get(flag) is True for flag in PUBLIC_ACCESS_BLOCK_FLAGS):
            findings.append(Finding(RULE, address, "needs an aws_s3_bucket_public_access_block with all four flags true"))
    return findings
