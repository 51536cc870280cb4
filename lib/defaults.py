"""Defaults and allowed values, kept apart from the loader and the builders.

`SECTIONS` (and the map sections' `SOURCE_FIELDS`, `TARGET_FIELDS`, `TASK_FIELDS`) are every allowed
field of the TOML file with its default, read from the committed JSON Schema of lib/config/schema.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
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

# The TOML file's fields and defaults come from the committed JSON Schema, generated from the pydantic
# models in lib/config/schema.py (a test keeps it fresh): synthesis reads JSON instead of importing pydantic.
# A default of None means required, or taken from the environment profile.
SCHEMA_FILE: Final = Path(__file__).resolve().parent.parent / "config" / "tap-migrate.schema.json"
_SCHEMA: Final[dict[str, Any]] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
_TARGET_DEFINITIONS: Final = {
    "aurora_postgresql": "AuroraPostgresqlTarget",
    "aurora_mysql": "AuroraMysqlTarget",
    "s3": "S3Target",
    "kinesis": "KinesisTarget",
}


def _fields(definition: str, *, without: tuple[str, ...] = ()) -> dict[str, Any]:
    properties: dict[str, Any] = _SCHEMA["$defs"][definition]["properties"]
    return {name: spec.get("default") for name, spec in properties.items() if name not in without}


TASK_FIELDS: Final[dict[str, Any]] = _fields("Task")
# [sources.<key>]
SOURCE_FIELDS: Final[dict[str, Any]] = _fields("Source")
# [targets.<key>] by kind (the kind itself is read first)
TARGET_FIELDS: Final[dict[str, dict[str, Any]]] = {
    kind: _fields(definition, without=("kind",)) for kind, definition in _TARGET_DEFINITIONS.items()
}
# Every section; "sources" and "targets" are maps keyed by logical name whose fields are above.
SECTIONS: Final[dict[str, dict[str, Any]]] = {
    name: _fields(spec["$ref"].rsplit("/", 1)[1]) if "$ref" in spec else {} for name, spec in _SCHEMA["properties"].items()
}
