"""Bootstrap the bucket an S3 state backend needs (`[state] backend = "s3"`); safe to rerun.

    python -m tools.state_bucket --bucket NAME [--region R] [--kms-alias alias/NAME] [--endpoint-url URL]

Creates (or finds) a KMS key under the alias, then the bucket: versioned (an older state can be
restored), default encryption with that key, all public access blocked, and a policy refusing any
request without TLS. Prints the `[state]` lines to put into the config. What already exists is
checked and left as it is; a bucket that exists without versioning or encryption gets them.

The state holds secrets in plain text (the VPN tunnels' pre-shared keys, among others): who can read
the bucket and use the key can read them. Grant both only to the people and pipelines that deploy.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError


@dataclass(frozen=True)
class Bootstrapped:
    bucket: str
    region: str
    kms_key_arn: str
    kms_alias: str
    created: tuple[str, ...]

    def config_lines(self) -> str:
        return f'[state]\nbackend = "s3"\nbucket = "{self.bucket}"\nregion = "{self.region}"\nkms_key_id = "{self.kms_alias}"\n'


def _key(kms: Any, alias: str, created: list[str]) -> str:
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NotFoundException":
            raise
    key = kms.create_key(Description="tap-migrate Terraform state", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    created.append(f"KMS key {alias} (rotation on)")
    return str(key["Arn"])


def _bucket(s3: Any, bucket: str, region: str, created: list[str]) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    arguments: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**arguments)
    created.append(f"bucket {bucket}")


def bootstrap(
    session: Any, bucket: str, region: str, kms_alias: str, endpoint_url: str | None = None, *, require_tls: bool = True
) -> Bootstrapped:
    """Make the state bucket and its key exist with the settings above; returns what it created.

    `require_tls=False` only for an endpoint that speaks plain HTTP (the emulator on loopback), where the
    TLS-only policy would refuse every request.
    """
    created: list[str] = []
    kms = session.client("kms", region_name=region, endpoint_url=endpoint_url)
    s3 = session.client("s3", region_name=region, endpoint_url=endpoint_url)
    key_arn = _key(kms, kms_alias, created)
    _bucket(s3, bucket, region, created)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    tls_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    if require_tls:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_only))
    return Bootstrapped(bucket, region, key_arn, kms_alias, tuple(created))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.state_bucket", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", required=True, help="the state bucket's name")
    parser.add_argument("--region", default="us-east-1", help="the bucket's region (default us-east-1)")
    parser.add_argument("--kms-alias", default="alias/tap-migrate-state", help="the key's alias (created if missing)")
    parser.add_argument("--endpoint-url", help="an S3/KMS endpoint other than AWS's (the emulator)")
    args = parser.parse_args(argv)
    if not args.kms_alias.startswith("alias/"):
        parser.error("--kms-alias must start with alias/")
    try:
        plain_http = (args.endpoint_url or "").startswith("http://")  # the emulator: no TLS to require
        session = boto3.session.Session()
        done = bootstrap(session, args.bucket, args.region, args.kms_alias, args.endpoint_url, require_tls=not plain_http)
    except (BotoCoreError, ClientError) as error:
        print(f"state bucket: {error}", file=sys.stderr)
        return 1
    print(f"created: {', '.join(done.created)}" if done.created else "everything existed already; settings re-applied")
    print("put these lines into the config (or set TAP_STATE_BACKEND/BUCKET/REGION/KMS_KEY_ID):\n")
    print(done.config_lines())
    return 0


if __name__ == "__main__":
    sys.exit(main())
