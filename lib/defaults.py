"""Defaults and allowed values, kept apart from the loader and the builders.

`SECTIONS` is the schema of the TOML file: every allowed field with its default
(`None` means required, or taken from the environment profile).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final


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


PROFILES: Final[dict[str, Profile]] = {
    "dev": Profile(False, True, 1, "dms.t3.medium", False, 14, 7, 0, 0.5, 4.0, 1, 300, "PROVISIONED", 4),
    "staging": Profile(False, False, 7, "dms.r6i.large", False, 30, 14, 0, 0.5, 8.0, 1, 120, "PROVISIONED", 16),
    "prod": Profile(True, False, 14, "dms.r6i.xlarge", True, 90, 35, 365, 2.0, 32.0, 2, 60, "ON_DEMAND", 64),
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

TASK_FIELDS: Final[dict[str, Any]] = {
    "source": "",  # empty: the only source
    "target": "",  # empty: the only target
    "migration_type": "full-load-and-cdc",
    "table_mappings_file": "dms/table-mappings.json",
    "settings_file": "dms/task-settings.json",
    # Required to pair engines DMS cannot map one to one (e.g. PostgreSQL -> Aurora MySQL): where the
    # schema conversion (AWS SCT / DMS Schema Conversion) is documented.
    "schema_conversion_note": "",
}

# [sources.<key>]: `None` is required.
SOURCE_FIELDS: Final[dict[str, Any]] = {
    "engine": "postgres",
    "engine_version": None,
    "host": None,
    "port": 0,  # 0: the engine's default port
    "database": "",  # PostgreSQL: required; MySQL/MariaDB endpoints take none (table mappings pick schemas)
    "cidr_blocks": None,
    "secret_arn": "",
    "ssl_mode": "require",
    "ca_certificate_file": "",
    "allow_unencrypted": False,  # MySQL/MariaDB only: the explicit opt-in for ssl_mode = "none"
    "events_poll_interval_seconds": 5,  # MySQL/MariaDB CDC: how often DMS polls the binary log
}

TARGET_FIELDS: Final[dict[str, dict[str, Any]]] = {
    # Aurora targets take their cluster settings from [aurora].
    "aurora_postgresql": {},
    # DMS full load into MySQL: threads loading each table in parallel (0: DMS default).
    "aurora_mysql": {"parallel_load_threads": 0},
    "s3": {
        "folder": None,  # the prefix in the data-lake bucket, e.g. "bronze/sales"
        "data_format": "parquet",
        "compression": "gzip",
        "parquet_version": "parquet-2-0",
        "enable_statistics": True,
        "date_partition_enabled": True,
        "cdc_path": "cdc",
        "include_op_for_full_load": True,
        "timestamp_column_name": "dms_commit_ts",
        "crawler": True,  # a Glue crawler catalogs this folder
    },
    "kinesis": {
        "stream_mode": None,  # (profile) PROVISIONED | ON_DEMAND
        "shard_count": 1,  # PROVISIONED only
        "retention_hours": 24,
        "message_format": "json",
        "include_transaction_details": True,
        "include_control_details": False,
        "include_table_alter_operations": True,
        "include_partition_value": True,
        "partition_include_schema_table": True,
        "delivery_prefix": None,  # Firehose writes the stream to this prefix of the data-lake bucket
        "buffering_seconds": 60,
        "buffering_mb": 64,
        "dynamic_partitioning": True,  # <prefix>/<schema>/<table>/ from DMS record metadata; else by date
        "crawler": True,
    },
}


SECTIONS: Final[dict[str, dict[str, Any]]] = {
    "project": {
        "name": "tap-migrate",
        "environment_suffix": "dev",
        "region": "us-east-1",
        "profile": "dev",
        "tags": {},
    },
    "deployment": {
        "target": "aws",
        "emulator_endpoint": "",
        "create_dms_service_roles": True,
    },
    "network": {
        "vpc_cidr": "10.20.0.0/16",
        "private_subnet_cidrs": ["10.20.0.0/20", "10.20.16.0/20", "10.20.32.0/20"],
        "availability_zones": [],
    },
    # Maps keyed by logical name; their fields are SOURCE_FIELDS and TARGET_FIELDS[kind].
    "sources": {},
    "targets": {},
    "aurora": {
        "engine_version": "",  # empty: the default of the engine the Aurora target kind names
        "min_acu": None,
        "max_acu": None,
        "reader_count": None,
        "deletion_protection": None,
        "backup_retention_days": None,
        "database_name": "appdb",
        "master_username": "tapadmin",
        "performance_insights_retention_days": 7,
        "preferred_backup_window": "03:00-04:00",
    },
    "dms": {
        "engine_version": "3.5.4",
        "instance_class": None,
        "allocated_storage_gb": 100,
        "multi_az": None,
        "log_retention_days": None,
        "serverless": False,  # DMS Serverless (aws_dms_replication_config) instead of instance + tasks
        "min_capacity_units": 1,
        "max_capacity_units": None,  # (profile)
        "tasks": {"main": dict(TASK_FIELDS)},
    },
    # Created when a target is s3 or kinesis: one bucket, its Glue catalog and an Athena workgroup.
    "data_lake": {
        "bucket_name": "",  # empty: <prefix>-lake-<account id>
        "transition_to_ia_days": 90,  # 0: no transition
        "transition_to_glacier_days": 180,  # 0: no transition
        "noncurrent_version_expiration_days": 90,
        "glue_database_name": "",  # empty: the prefix with '_' for '-'
        "crawler_schedule": "cron(0 2 * * ? *)",
        "athena_results_expiration_days": 30,
        "athena_bytes_scanned_cutoff_gb": 100,
    },
    "observability": {
        "alarm_email": "",
        "cdc_latency_alarm_seconds": None,  # (profile)
        "cdc_latency_alarm_periods": 5,
        "dms_free_storage_min_gb": 10,
        "dms_freeable_memory_min_mb": 512,
        "aurora_cpu_max_percent": 80,
        "aurora_connections_max": 800,
        "cutover_errors_max": 0,
    },
    "backup": {
        "schedule": "cron(0 5 * * ? *)",
        "daily_retention_days": None,
        "monthly_retention_days": None,
    },
    "cutover": {
        "enabled": True,  # false for data-lake-only stacks: no DNS records, no cutover Lambda
        "domain": "db.migration.internal",
        "hosted_zone_id": "",
        "task_key": "main",
        "record_ttl": 60,
        "cutover_ttl": 5,
        "read_steps": [10, 25, 50, 100],
        "step_hold_seconds": 900,
        "latency_threshold_seconds": 30,
        "latency_periods": 5,
        "metric_period_seconds": 60,
        "drain_threshold_seconds": 1,
        "drain_timeout_seconds": 600,
        "drain_poll_seconds": 5,
        "schedule_rate_minutes": 5,
        # An Aurora -> source CDC task, created stopped, that the operator CLI starts at the writer flip:
        # the only writer rollback that keeps the writes made on Aurora.
        "reverse_replication": False,
        "reverse_settings_file": "dms/reverse-task-settings.json",
        # Why an unusual value (long latency threshold, short hold, a single read step) is right here.
        "risk_accepted": "",
    },
}
