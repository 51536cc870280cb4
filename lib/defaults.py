"""Defaults and allowed values, kept apart from the config models and the builders.

The TOML fields' own defaults are declared once, on the models in lib/config/schema.py; here are the
environment profiles (applied by lib/config/profiles.py) and the value sets the models and builders share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Profile:
    """What an environment profile sets when the config file does not."""

    deletion_protection: bool
    skip_final_snapshot: bool
    backup_retention_days: int
    dms_instance_class: str
    dms_multi_az: bool
    log_retention_days: int
    backup_daily_retention_days: int
    backup_monthly_retention_days: int  # 0: no monthly rule
    aurora_min_acu: float
    aurora_max_acu: float
    aurora_reader_count: int
    cdc_latency_alarm_seconds: int
    kinesis_stream_mode: str  # PROVISIONED (one cheap shard) or ON_DEMAND (no capacity planning)
    dms_serverless_max_dcu: int
    nat_gateways: str  # network.source_access = "internet": one NAT gateway (`single`) or one per zone (`per_zone`)


PROFILES: Final[dict[str, Profile]] = {
    "dev": Profile(
        deletion_protection=False,
        skip_final_snapshot=True,
        backup_retention_days=1,
        dms_instance_class="dms.t3.medium",
        dms_multi_az=False,
        log_retention_days=14,
        backup_daily_retention_days=7,
        backup_monthly_retention_days=0,
        aurora_min_acu=0.5,
        aurora_max_acu=4.0,
        aurora_reader_count=1,
        cdc_latency_alarm_seconds=300,
        kinesis_stream_mode="PROVISIONED",
        dms_serverless_max_dcu=4,
        nat_gateways="single",
    ),
    "staging": Profile(
        deletion_protection=False,
        skip_final_snapshot=False,
        backup_retention_days=7,
        dms_instance_class="dms.r6i.large",
        dms_multi_az=False,
        log_retention_days=30,
        backup_daily_retention_days=14,
        backup_monthly_retention_days=0,
        aurora_min_acu=0.5,
        aurora_max_acu=8.0,
        aurora_reader_count=1,
        cdc_latency_alarm_seconds=120,
        kinesis_stream_mode="PROVISIONED",
        dms_serverless_max_dcu=16,
        nat_gateways="single",
    ),
    "prod": Profile(
        deletion_protection=True,
        skip_final_snapshot=False,
        backup_retention_days=14,
        dms_instance_class="dms.r6i.xlarge",
        dms_multi_az=True,
        log_retention_days=90,
        backup_daily_retention_days=35,
        backup_monthly_retention_days=365,
        aurora_min_acu=2.0,
        aurora_max_acu=32.0,
        aurora_reader_count=2,
        cdc_latency_alarm_seconds=60,
        kinesis_stream_mode="ON_DEMAND",
        dms_serverless_max_dcu=64,
        nat_gateways="per_zone",
    ),
}

# DMS endpoint engine names of the supported sources, and their default ports.
SOURCE_ENGINES: Final = ("postgres", "mysql", "mariadb")
SOURCE_DEFAULT_PORTS: Final = {"postgres": 5432, "mysql": 3306, "mariadb": 3306}
MYSQL_FAMILY: Final = frozenset({"mysql", "mariadb"})

# Target kinds: the two Aurora engines (one cluster per stack) and the data-lake kinds.
AURORA_TARGET_ENGINES: Final = {"aurora_postgresql": "aurora-postgresql", "aurora_mysql": "aurora-mysql"}
LAKE_TARGET_KINDS: Final = ("s3", "kinesis")
TARGET_KINDS: Final = (*AURORA_TARGET_ENGINES, *LAKE_TARGET_KINDS)
AURORA_DEFAULT_VERSIONS: Final = {"aurora-postgresql": "15.10", "aurora-mysql": "8.0.mysql_aurora.3.08.0"}
# Source engine -> the Aurora target kind DMS migrates it to without schema conversion.
HOMOGENEOUS_TARGET: Final = {"postgres": "aurora_postgresql", "mysql": "aurora_mysql", "mariadb": "aurora_mysql"}

S3_DATA_FORMATS: Final = ("parquet", "csv")
S3_COMPRESSIONS: Final = ("none", "gzip")
PARQUET_VERSIONS: Final = ("parquet-1-0", "parquet-2-0")
KINESIS_MESSAGE_FORMATS: Final = ("json", "json-unformatted")
KINESIS_STREAM_MODES: Final = ("PROVISIONED", "ON_DEMAND")
SSL_MODES: Final = ("none", "require", "verify-ca", "verify-full")
MIGRATION_TYPES: Final = ("full-load", "cdc", "full-load-and-cdc")
LOG_RETENTION_DAYS: Final = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# Keys AWS fills in on the task, at the top level or under Logging (log group/stream names):
# sending them causes perpetual diffs.
AWS_MANAGED_SETTING_KEYS: Final = frozenset({"CloudWatchLogGroup", "CloudWatchLogStream"})

# Target table preparations a reverse task must never use: it writes into the live source database.
REVERSE_REFUSED_PREP_MODES: Final = ("DROP_AND_CREATE", "TRUNCATE_BEFORE_LOAD")
# The reverse task's identifier is the cutover task's with this suffix.
REVERSE_TASK_SUFFIX: Final = "reverse"

# network.mode and network.connectivity (issue 16).
NETWORK_MODES: Final = ("new", "existing")
CONNECTIVITY_CHOICES: Final = ("stack", "external")
# network.source_access (issue 28): the sources over private paths only, or over the internet through NAT.
SOURCE_ACCESS_CHOICES: Final = ("private", "internet")
NAT_GATEWAY_CHOICES: Final = ("single", "per_zone")
