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


PROFILES: Final[dict[str, Profile]] = {
    "dev": Profile(False, True, 1, "dms.t3.medium", False, 14, 7, 0),
    "staging": Profile(False, False, 7, "dms.r6i.large", False, 30, 14, 0),
    "prod": Profile(True, False, 14, "dms.r6i.xlarge", True, 90, 35, 365),
}

SOURCE_ENGINES: Final = ("postgres",)
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

TASK_FIELDS: Final[dict[str, Any]] = {
    "migration_type": "full-load-and-cdc",
    "table_mappings_file": "dms/table-mappings.json",
    "settings_file": "dms/task-settings.json",
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
    "source": {
        "engine": "postgres",
        "engine_version": 15,
        "host": None,
        "port": 5432,
        "database": None,
        "cidr_blocks": None,
        "secret_arn": "",
        "ssl_mode": "require",
        "ca_certificate_file": "",
    },
    "aurora": {
        "engine_version": "15.10",
        "min_acu": 0.5,
        "max_acu": 4.0,
        "reader_count": 2,
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
        "tasks": {"main": dict(TASK_FIELDS)},
    },
    "observability": {
        "alarm_email": "",
        "cdc_latency_alarm_seconds": 60,
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
    },
}
