"""The AWS provider: the real account, or the embedded emulator on loopback.

The emulator settings (fixed test credentials come from the environment, per-service
endpoints, skipped account checks) exist only in the `emulator` target; the `aws` target
is a plain provider that takes standard credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cdktf import LocalBackend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints
from constructs import Construct

from lib.config import PROJECT_ROOT, AppConfig

# Every service the stack (and the Terraform provider's reads) talks to; `lambda_` is the binding's name for lambda.
EMULATED_SERVICES = (
    "backup",
    "cloudwatch",
    "cloudwatchlogs",
    "dms",
    "ec2",
    "eventbridge",
    "iam",
    "kms",
    "lambda_",
    "rds",
    "route53",
    "route53_resolver",
    "s3",
    "secretsmanager",
    "sns",
    "ssm",
    "sts",
)


def default_tags(config: AppConfig) -> Mapping[str, str]:
    return {
        "Project": config.project.name,
        "Environment": config.project.environment_suffix,
        "Profile": config.project.profile,
        "ManagedBy": "tap-migrate",
        **config.project.tags,
    }


def state_file(target: str, prefix: str) -> Path:
    """Local state, one file per target and prefix: an emulator deploy never touches a real account's state."""
    return PROJECT_ROOT / ".state" / f"{target}-{prefix}.tfstate"


def configure_backend(stack: TerraformStack, config: AppConfig) -> LocalBackend:
    # A team deploying to a shared account should swap this for an S3 backend with locking.
    return LocalBackend(stack, path=str(state_file(config.deployment.target, config.project.prefix)))


def build_provider(scope: Construct, config: AppConfig) -> AwsProvider:
    tags = [AwsProviderDefaultTags(tags=dict(default_tags(config)))]
    if not config.is_emulator:
        return AwsProvider(scope, "aws", region=config.project.region, default_tags=tags)
    url = config.deployment.emulator_endpoint
    return AwsProvider(
        scope,
        "aws",
        region=config.project.region,
        default_tags=tags,
        skip_credentials_validation=True,
        skip_metadata_api_check="true",
        skip_region_validation=True,
        s3_use_path_style=True,
        endpoints=[AwsProviderEndpoints(**{service: url for service in EMULATED_SERVICES})],
    )
