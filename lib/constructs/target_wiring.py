"""What each DMS target endpoint needs from the rest of the stack, built per target kind.

Aurora targets get the stack's target secret; S3 targets a writer role scoped to their lake folder;
Kinesis targets their own stream and Firehose delivery (created here, in the stack's scope, so the
Terraform addresses stay `stream-<key>`).
"""

from __future__ import annotations

from constructs import Construct

from lib.config import AppConfig
from lib.constants import s3_writer_role_name
from lib.constructs.context import StackContext
from lib.constructs.data_lake import DataLake
from lib.constructs.dms import TargetWiring
from lib.constructs.secrets import Secrets
from lib.constructs.streaming import KinesisDelivery


def wire_targets(
    scope: Construct, context: StackContext, config: AppConfig, secrets: Secrets, data_lake: DataLake | None
) -> tuple[dict[str, TargetWiring], dict[str, KinesisDelivery]]:
    """(wiring per target key, Kinesis deliveries per target key)."""
    wiring: dict[str, TargetWiring] = {}
    streams: dict[str, KinesisDelivery] = {}
    for key, target in config.targets.items():
        if target.is_aurora and config.aurora is not None and secrets.target_secret is not None:
            wiring[key] = TargetWiring(secret_arn=secrets.target_secret.arn, database_name=config.aurora.database_name)
        elif target.s3 is not None and data_lake is not None:
            writer_id = f"dms-writer-{key}"
            role = data_lake.dms_writer_role(writer_id, name=s3_writer_role_name(context.prefix, key), folder=target.s3.folder)
            wiring[key] = TargetWiring(
                bucket_name=data_lake.bucket_name,
                service_access_role_arn=role.arn,
                depends_on=(data_lake.writer_policies[writer_id],),
            )
        elif target.kinesis is not None and data_lake is not None:
            stream = KinesisDelivery(
                scope,
                f"stream-{key}",
                context=context,
                name=f"{context.prefix}-{key}",
                config=target.kinesis,
                bucket_arn=data_lake.bucket_arn,
            )
            streams[key] = stream
            wiring[key] = TargetWiring(
                stream_arn=stream.stream_arn,
                service_access_role_arn=stream.dms_access_role.arn,
                depends_on=(stream.dms_access_policy,),
            )
    return wiring, streams
