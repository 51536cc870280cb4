"""The AWS provider: the real account, or the embedded emulator on loopback.

The emulator settings (fixed test credentials come from the environment, per-service
endpoints, skipped account checks) exist only in the `emulator` target; the `aws` target
is a plain provider that takes standard credentials.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktf import LocalBackend, S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints
from constructs import Construct

from lib.config import AppConfig
from lib.config.loader import state_file

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


def configure_backend(stack: TerraformStack, config: AppConfig) -> LocalBackend | S3Backend:
    """`[state]` (or TAP_STATE_*): a local file by default, or S3 shared by a team: locked, encrypted with a KMS key.

    Terraform >= 1.10 locks S3 state with a lock object beside it (`use_lockfile`); CDKTF 0.21's S3Backend
    predates that argument, so it is set as an override. On the emulator target the backend talks to the
    emulator's S3 with its test credentials (what the tests use to prove the lock object appears).
    """
    state = config.state
    if state.backend != "s3":
        return LocalBackend(stack, path=str(state_file(config.deployment.target, config.project.prefix)))
    backend = S3Backend(
        stack,
        bucket=state.bucket,
        key=state.key_for(config.project.prefix),
        region=state.region or config.project.region,
        encrypt=True,
        kms_key_id=state.kms_key_id,
    )
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    if config.is_emulator:
        for name, value in {
            "endpoints": {"s3": config.deployment.emulator_endpoint},
            "use_path_style": True,
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
        }.items():
            stack.add_override(f"terraform.backend.s3.{name}", value)
    return backend


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
