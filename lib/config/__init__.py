"""The validated configuration of one tap-migrate stack.

The configuration is the pydantic models of `schema.py`: what the TOML file may hold, and, once
`load_config` (`loader.py`) has validated it, what the constructs consume. `profiles.py` fills the
profile's defaults before validation; `rules.py` holds the checks that span fields. Every problem is
reported at once in one `ConfigError`, each naming the TOML path, the bad value and the fix.

The names below are the ones the constructs import.
"""

from __future__ import annotations

from lib.config.loader import (
    ENV_OVERRIDES,
    PROJECT_ROOT,
    ConfigError,
    load_config,
    parse_config,
    resolve_config_path,
)
from lib.config.rules import bucket_name_problems, known_regions, normalize_json
from lib.config.schema import (
    AppConfig,
    Aurora,
    AuroraMysqlTarget,
    Backup,
    Cutover,
    DataLake,
    Deployment,
    Dms,
    KinesisTarget,
    Network,
    Observability,
    Project,
    S3Target,
    Source,
    TargetConfig,
    Task,
)

ProjectConfig = Project
DeploymentConfig = Deployment
NetworkConfig = Network
SourceConfig = Source
S3TargetConfig = S3Target
AuroraMysqlTargetConfig = AuroraMysqlTarget
KinesisTargetConfig = KinesisTarget
AuroraConfig = Aurora
DataLakeConfig = DataLake
DmsTaskConfig = Task
DmsConfig = Dms
CutoverConfig = Cutover
ObservabilityConfig = Observability
BackupConfig = Backup

__all__ = [
    "ENV_OVERRIDES",
    "PROJECT_ROOT",
    "AppConfig",
    "AuroraConfig",
    "AuroraMysqlTargetConfig",
    "BackupConfig",
    "ConfigError",
    "CutoverConfig",
    "DataLakeConfig",
    "DeploymentConfig",
    "DmsConfig",
    "DmsTaskConfig",
    "KinesisTargetConfig",
    "NetworkConfig",
    "ObservabilityConfig",
    "ProjectConfig",
    "S3TargetConfig",
    "SourceConfig",
    "TargetConfig",
    "bucket_name_problems",
    "known_regions",
    "load_config",
    "normalize_json",
    "parse_config",
    "resolve_config_path",
]
