"""The validated configuration of one tap-migrate stack.

Everything the constructs need is a field of a frozen dataclass here. `load_config` reads
the TOML file a user edits, applies environment overrides, and validates the whole tree in
one pass *before* any construct is built: every problem is reported at once, each naming
the field, the bad value and the fix. Defaults live in `lib/defaults.py`, apart from this
loader and from the builders.
"""

from __future__ import annotations

import functools
import importlib.util
import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lib import defaults
from lib.constants import DEFAULT_CONFIG_FILE, IAM_ROLE_NAME_MAX, target_role_names

PROJECT_ROOT = Path(__file__).resolve().parents[2]

T = TypeVar("T")

# AWS limits the config checks before anything is created (AWS would refuse them at apply, halfway through).
VPC_PREFIX_RANGE = (16, 28)
# Cutover bounds (docs/cutover.md, "Bounds"): beyond MAX is refused, beyond USUAL needs cutover.risk_accepted.
LATENCY_THRESHOLD_USUAL, LATENCY_THRESHOLD_MAX = 300, 3600
# Alarm bounds: CPU never exceeds 100 %; Aurora's largest max_connections; the cutover error alarm's period.
CPU_ALARM_MAX, CONNECTIONS_ALARM_MAX, CUTOVER_ERRORS_PERIOD_SECONDS = 99, 16000, 300
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256


class ConfigError(ValueError):
    """Raised with every validation problem found, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid tap-migrate configuration ({len(problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class ProjectConfig:
    name: str
    environment_suffix: str
    region: str
    profile: str
    tags: Mapping[str, str]

    @property
    def prefix(self) -> str:
        """The name prefix of every resource, e.g. `tap-migrate-dev`."""
        return f"{self.name}-{self.environment_suffix}"


@dataclass(frozen=True)
class DeploymentConfig:
    target: str  # "aws" or "emulator"
    emulator_endpoint: str
    create_dms_service_roles: bool


@dataclass(frozen=True)
class NetworkConfig:
    vpc_cidr: str
    private_subnet_cidrs: tuple[str, ...]
    availability_zones: tuple[str, ...]  # empty: the account's first zones, looked up at plan time


@dataclass(frozen=True)
class SourceConfig:
    key: str
    engine: str  # postgres | mysql | mariadb (the DMS endpoint engine name)
    engine_version: str
    host: str
    port: int
    database: str
    cidr_blocks: tuple[str, ...]
    secret_arn: str  # empty: the stack creates an empty secret for the operator to fill
    ssl_mode: str
    ca_certificate_pem: str  # contents of ca_certificate_file; a public certificate, not a secret
    allow_unencrypted: bool
    events_poll_interval_seconds: int

    @property
    def is_mysql_family(self) -> bool:
        return self.engine in defaults.MYSQL_FAMILY


@dataclass(frozen=True)
class S3TargetConfig:
    folder: str
    data_format: str
    compression: str
    parquet_version: str
    enable_statistics: bool
    date_partition_enabled: bool
    cdc_path: str
    include_op_for_full_load: bool
    timestamp_column_name: str
    crawler: bool


@dataclass(frozen=True)
class KinesisTargetConfig:
    stream_mode: str
    shard_count: int
    retention_hours: int
    message_format: str
    include_transaction_details: bool
    include_control_details: bool
    include_table_alter_operations: bool
    include_partition_value: bool
    partition_include_schema_table: bool
    delivery_prefix: str
    buffering_seconds: int
    buffering_mb: int
    dynamic_partitioning: bool
    crawler: bool


@dataclass(frozen=True)
class TargetConfig:
    key: str
    kind: str  # one of defaults.TARGET_KINDS
    s3: S3TargetConfig | None = None
    kinesis: KinesisTargetConfig | None = None
    parallel_load_threads: int = 0  # aurora_mysql only

    @property
    def is_aurora(self) -> bool:
        return self.kind in defaults.AURORA_TARGET_ENGINES

    @property
    def crawled_prefix(self) -> str | None:
        """The data-lake prefix a Glue crawler catalogs for this target, if any."""
        if self.s3 is not None and self.s3.crawler:
            return self.s3.folder
        if self.kinesis is not None and self.kinesis.crawler:
            return self.kinesis.delivery_prefix
        return None


@dataclass(frozen=True)
class AuroraConfig:
    engine: str  # aurora-postgresql | aurora-mysql, from the Aurora target's kind
    engine_version: str
    min_acu: float
    max_acu: float
    reader_count: int
    deletion_protection: bool
    skip_final_snapshot: bool
    backup_retention_days: int
    database_name: str
    master_username: str
    performance_insights_retention_days: int
    preferred_backup_window: str

    @property
    def is_mysql(self) -> bool:
        return self.engine == "aurora-mysql"

    @property
    def port(self) -> int:
        return 3306 if self.is_mysql else 5432


@dataclass(frozen=True)
class DataLakeConfig:
    bucket_name: str  # empty: <prefix>-lake-<account id>
    transition_to_ia_days: int
    transition_to_glacier_days: int
    noncurrent_version_expiration_days: int
    glue_database_name: str
    crawler_schedule: str
    athena_results_expiration_days: int
    athena_bytes_scanned_cutoff_gb: int


@dataclass(frozen=True)
class DmsTaskConfig:
    key: str
    source: str  # key into AppConfig.sources
    target: str  # key into AppConfig.targets
    migration_type: str
    table_mappings: str  # normalized JSON text
    settings: str  # normalized JSON text


@dataclass(frozen=True)
class DmsConfig:
    engine_version: str
    instance_class: str
    allocated_storage_gb: int
    multi_az: bool
    log_retention_days: int
    serverless: bool
    min_capacity_units: int
    max_capacity_units: int
    tasks: Mapping[str, DmsTaskConfig]


@dataclass(frozen=True)
class CutoverConfig:
    """Present only when cutover.enabled: the cutover moves DNS between a source and an Aurora target."""

    domain: str
    hosted_zone_id: str  # empty: the stack creates a private hosted zone for `domain`
    task_key: str
    record_ttl: int
    cutover_ttl: int
    read_steps: tuple[int, ...]
    step_hold_seconds: int
    latency_threshold_seconds: int
    latency_periods: int
    metric_period_seconds: int
    drain_threshold_seconds: int
    drain_timeout_seconds: int
    drain_poll_seconds: int
    schedule_rate_minutes: int
    # Normalized settings JSON of the reverse (Aurora -> source) task; None: cutover.reverse_replication = false.
    reverse_task_settings: str | None = None

    @property
    def reverse_replication(self) -> bool:
        return self.reverse_task_settings is not None


@dataclass(frozen=True)
class ObservabilityConfig:
    alarm_email: str
    cdc_latency_alarm_seconds: int
    cdc_latency_alarm_periods: int
    dms_free_storage_min_gb: int
    dms_freeable_memory_min_mb: int
    aurora_cpu_max_percent: int
    aurora_connections_max: int
    cutover_errors_max: int


@dataclass(frozen=True)
class BackupConfig:
    schedule: str
    daily_retention_days: int
    monthly_retention_days: int  # 0: no monthly rule


@dataclass(frozen=True)
class AppConfig:
    project: ProjectConfig
    deployment: DeploymentConfig
    network: NetworkConfig
    sources: Mapping[str, SourceConfig]
    targets: Mapping[str, TargetConfig]
    aurora: AuroraConfig | None  # None: no Aurora target, no cluster
    data_lake: DataLakeConfig | None  # None: no s3/kinesis target, no lake bucket
    dms: DmsConfig
    cutover: CutoverConfig | None  # None: cutover.enabled = false
    observability: ObservabilityConfig
    backup: BackupConfig

    @property
    def is_emulator(self) -> bool:
        return self.deployment.target == "emulator"

    @property
    def cutover_source(self) -> SourceConfig | None:
        """The source database the cutover moves clients away from."""
        if self.cutover is None:
            return None
        return self.sources[self.dms.tasks[self.cutover.task_key].source]

    @property
    def reverse_replication_source(self) -> SourceConfig | None:
        """The source database the reverse task writes Aurora's changes back into (cutover.reverse_replication)."""
        if self.cutover is None or not self.cutover.reverse_replication:
            return None
        return self.cutover_source

    # Decisions derived from the config, made here once so that no construct works them out again.

    @property
    def target_kinds(self) -> frozenset[str]:
        return frozenset(target.kind for target in self.targets.values())

    @property
    def needs_s3_endpoint(self) -> bool:
        """An S3 gateway endpoint: for S3 targets, and for DMS Serverless (it reaches S3 for its own work)."""
        return "s3" in self.target_kinds or self.dms.serverless

    @property
    def needs_kinesis_endpoint(self) -> bool:
        return "kinesis" in self.target_kinds

    @property
    def primary_task_key(self) -> str:
        """The task the dashboard and the lag alarms center on: the cutover's, else the first."""
        return self.cutover.task_key if self.cutover else next(iter(self.dms.tasks))

    @property
    def validated_task_keys(self) -> list[str]:
        """Tasks whose row validation raises alarms: the cutover trusts one task's rows; without a cutover, every
        task into Aurora."""
        if self.cutover:
            return [self.cutover.task_key]
        return [key for key, task in self.dms.tasks.items() if self.targets[task.target].is_aurora]


# --------------------------------------------------------------------------------------
# Loading


def resolve_config_path(explicit: str | None, env: Mapping[str, str], context_value: str | None) -> Path:
    """Explicit argument, then TAP_CONFIG, then the cdktf.json context, then the default."""
    chosen = explicit or env.get("TAP_CONFIG") or context_value or DEFAULT_CONFIG_FILE
    path = Path(chosen)
    return path if path.is_absolute() else PROJECT_ROOT / path


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    context_value: str | None = None,
) -> AppConfig:
    """Read, override and validate; raise ConfigError listing every problem."""
    env = os.environ if env is None else env
    config_path = resolve_config_path(str(path) if path else None, env, context_value)
    if not config_path.is_file():
        raise ConfigError(
            [
                f"config file: {config_path} does not exist; set TAP_CONFIG or pass a path to an existing TOML file "
                f"(an annotated example is {DEFAULT_CONFIG_FILE})"
            ]
        )
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [f"config file: {config_path} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"config file: {config_path} is not valid TOML ({exc}); fix the syntax"]) from exc
    return parse_config(raw, env=env, config_file=config_path)


def parse_config(raw: Mapping[str, Any], env: Mapping[str, str], config_file: Path) -> AppConfig:
    reader = _Reader(raw, config_file.parent)
    _apply_env_overrides(reader, env)
    config = reader.build()
    reader.raise_if_problems()
    return config


ENV_OVERRIDES: Mapping[str, tuple[str, str]] = {
    # environment variable -> (section, field)
    "ENVIRONMENT_SUFFIX": ("project", "environment_suffix"),
    "TAP_PROFILE": ("project", "profile"),
    "AWS_REGION": ("project", "region"),
    "TAP_TARGET": ("deployment", "target"),
    "TAP_EMULATOR_ENDPOINT": ("deployment", "emulator_endpoint"),
}


def _apply_env_overrides(reader: _Reader, env: Mapping[str, str]) -> None:
    for variable, (section, key) in ENV_OVERRIDES.items():
        value = env.get(variable)
        if value:
            reader.override(section, key, value, variable)


# DMS table-mapping rule types (object-mapping: e.g. Kinesis partition keys).
MAPPING_RULE_TYPES = ("selection", "transformation", "table-settings", "object-mapping")

# Sections whose keys are logical names chosen by the user ([sources.<key>], [targets.<key>]).
MAP_SECTIONS = frozenset({"sources", "targets"})


class _Reader:
    """Typed access to the raw TOML that records problems instead of raising on the first."""

    def __init__(self, raw: Mapping[str, Any], base_dir: Path) -> None:
        self.raw = {k: dict(v) if isinstance(v, Mapping) else v for k, v in raw.items()}
        self.base_dir = base_dir
        self.problems: list[str] = []
        self._overrides: dict[tuple[str, str], str] = {}
        self._override_variables: dict[str, str] = {}  # "project.profile" -> "TAP_PROFILE"
        known = set(defaults.SECTIONS)
        for section in self.raw:
            if section == "source":
                self.problems.append(
                    "[source]: sources are a map now; rename the table to [sources.<key>] (e.g. [sources.onprem]) "
                    "and add engine_version as a string"
                )
            elif section not in known:
                self.problems.append(f"[{section}]: unknown section; use one of {sorted(known)}")

    def override(self, section: str, key: str, value: str, variable: str) -> None:
        self._overrides[(section, key)] = value
        self._override_variables[f"{section}.{key}"] = variable

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ConfigError([self._name_variable(problem) for problem in self.problems])

    def _name_variable(self, problem: str) -> str:
        """A problem with a value that came from the environment names the variable, not only the field."""
        field, sep, rest = problem.partition(": ")
        variable = self._override_variables.get(field)
        if not sep or variable is None:
            return problem
        return f"{variable} (environment, overrides {field}): {rest}; fix or unset {variable}"

    def section(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            self.problems.append(f"[{name}]: must be a table, got {value!r}")
            return {}
        if name in MAP_SECTIONS:
            return value
        allowed = set(defaults.SECTIONS[name])
        for key in value:
            if key not in allowed:
                self.problems.append(f"{name}.{key}: unknown field; allowed fields are {sorted(allowed)}")
        return value

    def get(self, section: str, key: str, kind: type[T], default: T | None = None) -> T:
        table = self.section(section)
        where = f"{section}.{key}"
        if (section, key) in self._overrides:
            return self._coerce(where, self._overrides[(section, key)], kind)
        if key in table:
            value = table[key]
        elif default is not None:
            return default
        else:
            value = defaults.SECTIONS[section].get(key)
        if value is None:
            self.problems.append(f"{where}: required; set it in the [{section}] table")
            return _zero(kind)
        return self.typed(where, value, kind)

    def typed(self, where: str, value: Any, kind: type[T]) -> T:
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problems.append(f"{where}: expected {kind.__name__}, got {value!r}")
            return _zero(kind)
        return value

    def entry(self, where: str, body: Any, schema: Mapping[str, Any]) -> _Entry:
        """One table of a map section ([sources.<key>], [targets.<key>], [dms.tasks.<key>])."""
        if not isinstance(body, dict):
            self.problems.append(f"{where}: must be a table of fields {sorted(schema)}")
            body = {}
        for name in sorted(set(body) - set(schema)):
            self.problems.append(f"{where}.{name}: unknown field; allowed fields are {sorted(schema)}")
        return _Entry(self, where, body, schema)

    def _coerce(self, where: str, text: str, kind: type[T]) -> T:
        try:
            if kind is bool:
                if text.lower() not in ("true", "false"):
                    raise ValueError(text)
                return text.lower() == "true"  # type: ignore[return-value]
            return kind(text)  # type: ignore[call-arg]
        except ValueError:
            self.problems.append(f"{where}: environment override {text!r} is not a {kind.__name__}")
            return _zero(kind)

    def strings(self, section: str, key: str) -> tuple[str, ...]:
        value = self.get(section, key, list)
        if not all(isinstance(v, str) for v in value):
            self.problems.append(f"{section}.{key}: expected a list of strings, got {value!r}")
            return ()
        return tuple(value)

    def ints(self, section: str, key: str) -> tuple[int, ...]:
        value = self.get(section, key, list)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            self.problems.append(f"{section}.{key}: expected a list of integers, got {value!r}")
            return ()
        return tuple(value)

    def ipv4_block(self, where: str, cidr: str, *, example: str) -> ipaddress.IPv4Network | None:
        """An IPv4 CIDR block, or None after recording why not (the VPC and every rule the stack writes are IPv4)."""
        net = _network_or_none(cidr)
        if isinstance(net, ipaddress.IPv4Network):
            return net
        if net is None:
            self.problems.append(f"{where}: {cidr!r} is not a CIDR block; use e.g. {example!r}")
        else:
            self.problems.append(
                f"{where}: {cidr} is an IPv6 block; the stack's VPC, routes and security group rules are IPv4, so give "
                f"an IPv4 block, e.g. {example!r}"
            )
        return None

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)

    def read_file(self, where: str, relative: str) -> str | None:
        path = Path(relative)
        path = path if path.is_absolute() else self.base_dir / path
        if not path.is_file():
            path = PROJECT_ROOT / relative
        if not path.is_file():
            self.problems.append(f"{where}: file {relative!r} not found (relative to the config file or the project root)")
            return None
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            self.problems.append(f"{where}: {relative!r} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8")
            return None

    def build(self) -> AppConfig:
        project = self._project()
        deployment = self._deployment()
        network = self._network(project.region)
        sources = self._sources()
        targets = self._targets(project.profile)
        aurora = self._aurora(project.profile, targets)
        data_lake = self._data_lake(targets)
        dms = self._dms(project.profile, sources, targets)
        cutover = self._cutover(dms, sources, targets)
        observability = self._observability(project.profile, dms, cutover)
        backup = self._backup(project.profile)
        self._cross_checks(network, sources)
        self._derived_names(project, targets)
        return AppConfig(project, deployment, network, sources, targets, aurora, data_lake, dms, cutover, observability, backup)

    # ---- sections ------------------------------------------------------------------

    def _project(self) -> ProjectConfig:
        name = self.get("project", "name", str)
        suffix = self.get("project", "environment_suffix", str)
        region = self.get("project", "region", str)
        profile = self.get("project", "profile", str)
        tags_raw = self.get("project", "tags", dict)
        self.check(
            bool(re.fullmatch(r"[a-z][a-z0-9-]{1,20}", name)) and _clean_hyphens(name),
            f"project.name: {name!r} must be 2-21 chars of lowercase letters, digits and single '-', starting with a "
            "letter and not ending with '-' (it prefixes every resource name; AWS refuses '--' and a trailing '-' in "
            "several of them)",
        )
        self.check(
            bool(re.fullmatch(r"[a-z0-9]{1,12}", suffix)),
            f"project.environment_suffix: {suffix!r} must be 1-12 lowercase letters or digits, e.g. 'dev' or 'pr123'",
        )
        known = known_regions()
        self.check(
            region in known if known else bool(re.fullmatch(r"[a-z]{2,4}(-[a-z]+)+-\d", region)),
            f"project.region: {region!r} is not an AWS region; use one of the regions your AWS SDK knows, e.g. "
            "'us-east-1' or 'eu-west-1'",
        )
        self.check(
            profile in defaults.PROFILES,
            f"project.profile: {profile!r} is not a profile; use one of {sorted(defaults.PROFILES)}",
        )
        tags: dict[str, str] = {}
        for key, value in tags_raw.items():
            if not isinstance(value, str):
                self.problems.append(f"project.tags.{key}: tag values must be strings, got {value!r}")
            elif str(key).lower().startswith("aws:"):
                self.problems.append(f"project.tags.{key}: the 'aws:' prefix is reserved for AWS; rename the tag")
            elif not 1 <= len(str(key)) <= TAG_KEY_MAX or len(value) > TAG_VALUE_MAX:
                self.problems.append(
                    f"project.tags.{key}: tag keys are 1-{TAG_KEY_MAX} characters and values at most {TAG_VALUE_MAX}"
                )
            else:
                tags[str(key)] = value
        return ProjectConfig(name, suffix, region, profile, tags)

    def _deployment(self) -> DeploymentConfig:
        target = self.get("deployment", "target", str)
        endpoint = self.get("deployment", "emulator_endpoint", str)
        create_roles = self.get("deployment", "create_dms_service_roles", bool)
        self.check(
            target in ("aws", "emulator"),
            f"deployment.target: {target!r} must be 'aws' or 'emulator' (or set TAP_TARGET)",
        )
        if target == "emulator":
            self.check(
                bool(re.fullmatch(r"http://(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d{1,5}", endpoint)),
                f"deployment.emulator_endpoint: {endpoint!r} must be a loopback URL like http://127.0.0.1:5000 "
                "(scripts/emulator.py sets TAP_EMULATOR_ENDPOINT when it starts the emulator)",
            )
        return DeploymentConfig(target, endpoint, create_roles)

    def _network(self, region: str) -> NetworkConfig:
        vpc_cidr = self.get("network", "vpc_cidr", str)
        subnets = self.strings("network", "private_subnet_cidrs")
        zones = self.strings("network", "availability_zones")
        vpc_net = self.ipv4_block("network.vpc_cidr", vpc_cidr, example="10.20.0.0/16")
        if vpc_net is not None and not VPC_PREFIX_RANGE[0] <= vpc_net.prefixlen <= VPC_PREFIX_RANGE[1]:
            self.problems.append(
                f"network.vpc_cidr: {vpc_cidr} is a /{vpc_net.prefixlen}; a VPC block must be /{VPC_PREFIX_RANGE[0]} to "
                f"/{VPC_PREFIX_RANGE[1]} (AWS refuses it at apply), e.g. '10.20.0.0/16'"
            )
            vpc_net = None
        self.check(
            len(subnets) == 3,
            f"network.private_subnet_cidrs: {len(subnets)} given; give exactly 3 (one per availability zone)",
        )
        self.check(
            not zones or len(zones) == len(set(zones)) == 3,
            f"network.availability_zones: {list(zones)!r} must be 3 distinct zones "
            "(or leave it empty to use the account's first three in the region)",
        )
        for zone in zones:
            self.check(
                zone.startswith(region) and len(zone) > len(region),
                f"network.availability_zones: {zone!r} is not a zone of region {region!r}; use names such as "
                f"'{region}a', or leave the list empty",
            )
        parsed: list[ipaddress.IPv4Network] = []
        for index, cidr in enumerate(subnets):
            where = f"network.private_subnet_cidrs[{index}]"
            net = self.ipv4_block(where, cidr, example="10.20.0.0/20")
            if net is None:
                continue
            if net.prefixlen > VPC_PREFIX_RANGE[1]:
                self.problems.append(
                    f"{where}: {cidr} is a /{net.prefixlen}; a subnet must be /{VPC_PREFIX_RANGE[1]} or larger (AWS refuses "
                    "smaller ones, and DMS and Aurora need room for their interfaces)"
                )
            if vpc_net is not None and not net.subnet_of(vpc_net):
                self.problems.append(f"{where}: {cidr} is outside network.vpc_cidr {vpc_cidr}; pick a block inside it")
            for other_index, other in enumerate(parsed):
                if net.overlaps(other):
                    self.problems.append(
                        f"{where}: {cidr} overlaps private_subnet_cidrs[{other_index}]; subnets must not overlap"
                    )
            parsed.append(net)
        return NetworkConfig(vpc_cidr, subnets, zones)

    def _sources(self) -> dict[str, SourceConfig]:
        table = self.section("sources")
        if not table:
            self.problems.append(
                "sources: define at least one source database, e.g. [sources.onprem] with engine, host, database, "
                "cidr_blocks (see config/tap-migrate.toml)"
            )
        sources: dict[str, SourceConfig] = {}
        for key, body in table.items():
            self._check_key("sources", str(key))
            sources[str(key)] = self._source(str(key), self.entry(f"sources.{key}", body, defaults.SOURCE_FIELDS))
        return sources

    def _source(self, key: str, entry: _Entry) -> SourceConfig:
        where = f"sources.{key}"
        engine = entry.get("engine", str)
        version = entry.get("engine_version", str)
        host = entry.get("host", str)
        port = entry.get("port", int) or defaults.SOURCE_DEFAULT_PORTS.get(engine, 0)
        database = entry.get("database", str)
        cidrs = entry.strings("cidr_blocks")
        secret_arn = entry.get("secret_arn", str)
        ssl_mode = entry.get("ssl_mode", str)
        ca_file = entry.get("ca_certificate_file", str)
        allow_unencrypted = entry.get("allow_unencrypted", bool)
        poll_interval = entry.get("events_poll_interval_seconds", int)
        self.check(
            engine in defaults.SOURCE_ENGINES,
            f"{where}.engine: {engine!r} is not supported; use one of {list(defaults.SOURCE_ENGINES)}",
        )
        version_pattern = r"\d{1,2}(\.\d+)?" if engine == "postgres" else r"\d{1,2}\.\d+(\.\d+)?"
        self.check(
            bool(re.fullmatch(version_pattern, version)),
            f"{where}.engine_version: {version!r} must be the source's version, e.g. '15' for PostgreSQL or '8.0' "
            "for MySQL/MariaDB (a string)",
        )
        self.check(
            bool(re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host)) and "." in host,
            f"{where}.host: {host!r} must be the DNS name or IP address DMS connects to",
        )
        self.check(1 <= port <= 65535, f"{where}.port: {port} must be 1..65535")
        self.check(
            bool(database) or engine in defaults.MYSQL_FAMILY,
            f"{where}.database: required for PostgreSQL; the database DMS reads from",
        )
        self.check(bool(cidrs), f"{where}.cidr_blocks: give the on-premises CIDR(s) DMS must reach, e.g. ['192.168.0.0/16']")
        for index, cidr in enumerate(cidrs):
            net = self.ipv4_block(f"{where}.cidr_blocks[{index}]", cidr, example="192.168.0.0/16")
            if net is not None and net.prefixlen == 0:
                self.problems.append(
                    f"{where}.cidr_blocks[{index}]: {cidr} opens egress to everything; give the on-premises network only"
                )
        self.check(
            secret_arn == "" or bool(re.fullmatch(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+", secret_arn)),
            f"{where}.secret_arn: {secret_arn!r} is not a Secrets Manager secret ARN; leave it empty to have the stack "
            "create an empty secret you fill with `aws secretsmanager put-secret-value`",
        )
        self.check(
            ssl_mode in defaults.SSL_MODES,
            f"{where}.ssl_mode: {ssl_mode!r} must be one of {list(defaults.SSL_MODES)}",
        )
        major = _major(version)
        if engine == "postgres" and ssl_mode == "none" and major >= 15:
            self.problems.append(
                f"{where}.ssl_mode: 'none' is refused for PostgreSQL {version} (15+ rejects non-SSL replication "
                "connections); use 'require' or 'verify-full'"
            )
        if engine in defaults.MYSQL_FAMILY and ssl_mode == "none" and not allow_unencrypted:
            self.problems.append(
                f"{where}.ssl_mode: 'none' sends {engine} credentials and binlog rows in clear text; use 'require' "
                f"or 'verify-full', or set {where}.allow_unencrypted = true to accept that explicitly"
            )
        if allow_unencrypted and engine not in defaults.MYSQL_FAMILY:
            self.problems.append(
                f"{where}.allow_unencrypted: only MySQL/MariaDB sources may opt out of SSL; remove it for {engine!r}"
            )
        if engine not in defaults.MYSQL_FAMILY and "events_poll_interval_seconds" in entry.body:
            self.problems.append(
                f"{where}.events_poll_interval_seconds: applies to MySQL/MariaDB binlog polling only; remove it for {engine!r}"
            )
        self.check(1 <= poll_interval <= 60, f"{where}.events_poll_interval_seconds: {poll_interval} must be 1..60")
        ca_pem = ""
        if ssl_mode in ("verify-ca", "verify-full"):
            if not ca_file:
                self.problems.append(
                    f"{where}.ca_certificate_file: required when {where}.ssl_mode is {ssl_mode!r}; "
                    "point it at the PEM of the CA that signed the source's server certificate"
                )
            else:
                ca_pem = self.read_file(f"{where}.ca_certificate_file", ca_file) or ""
                if ca_pem and "-----BEGIN CERTIFICATE-----" not in ca_pem:
                    self.problems.append(f"{where}.ca_certificate_file: {ca_file!r} is not a PEM certificate")
                if "PRIVATE KEY" in ca_pem:
                    self.problems.append(
                        f"{where}.ca_certificate_file: {ca_file!r} contains a private key; give the CA certificate only"
                    )
        return SourceConfig(
            key,
            engine,
            version,
            host,
            port,
            database,
            cidrs,
            secret_arn,
            ssl_mode,
            ca_pem,
            allow_unencrypted,
            poll_interval,
        )

    def _check_key(self, section: str, key: str) -> None:
        self.check(
            bool(re.fullmatch(r"[a-z][a-z0-9-]{0,30}", key)) and _clean_hyphens(key),
            f"{section}.{key}: key {key!r} must be 1-31 lowercase letters, digits and single '-' starting with a letter "
            "and not ending with '-' (it names AWS resources)",
        )

    def _targets(self, profile: str) -> dict[str, TargetConfig]:
        table = self.section("targets")
        if not table:
            self.problems.append(
                "targets: define at least one target, e.g. [targets.aurora] kind = 'aurora_postgresql' "
                "or [targets.lake] kind = 's3'"
            )
        targets: dict[str, TargetConfig] = {}
        for raw_key, body in table.items():
            key = str(raw_key)
            where = f"targets.{key}"
            self._check_key("targets", key)
            kind = body.get("kind") if isinstance(body, dict) else None
            if kind not in defaults.TARGET_KINDS:
                self.problems.append(f"{where}.kind: {kind!r} must be one of {list(defaults.TARGET_KINDS)}")
                continue
            schema = {"kind": kind, **defaults.TARGET_FIELDS[kind]}
            entry = self.entry(where, body, schema)
            if kind == "s3":
                targets[key] = TargetConfig(key, kind, s3=self._s3_target(where, entry))
            elif kind == "kinesis":
                targets[key] = TargetConfig(key, kind, kinesis=self._kinesis_target(where, entry, profile))
            elif kind == "aurora_mysql":
                threads = entry.get("parallel_load_threads", int)
                self.check(0 <= threads <= 32, f"{where}.parallel_load_threads: {threads} must be 0..32")
                targets[key] = TargetConfig(key, kind, parallel_load_threads=threads)
            else:
                targets[key] = TargetConfig(key, kind)
        aurora_keys = [key for key, target in targets.items() if target.is_aurora]
        self.check(
            len(aurora_keys) <= 1,
            f"targets: {aurora_keys} are all Aurora targets; a stack builds one Aurora cluster, keep one of them",
        )
        return targets

    def _s3_target(self, where: str, entry: _Entry) -> S3TargetConfig:
        folder = entry.get("folder", str)
        data_format = entry.get("data_format", str)
        compression = entry.get("compression", str)
        parquet_version = entry.get("parquet_version", str)
        statistics = entry.get("enable_statistics", bool)
        date_partition = entry.get("date_partition_enabled", bool)
        cdc_path = entry.get("cdc_path", str)
        op_for_full_load = entry.get("include_op_for_full_load", bool)
        timestamp_column = entry.get("timestamp_column_name", str)
        crawler = entry.get("crawler", bool)
        self._check_prefix(f"{where}.folder", folder)
        self.check(
            data_format in defaults.S3_DATA_FORMATS,
            f"{where}.data_format: {data_format!r} must be one of {list(defaults.S3_DATA_FORMATS)}",
        )
        self.check(
            compression in defaults.S3_COMPRESSIONS,
            f"{where}.compression: {compression!r} must be one of {list(defaults.S3_COMPRESSIONS)}",
        )
        if data_format == "csv":
            for parquet_only in ("parquet_version", "enable_statistics"):
                if parquet_only in entry.body:
                    self.problems.append(
                        f"{where}.{parquet_only}: applies to data_format = 'parquet' only; remove it for CSV output"
                    )
        self.check(
            parquet_version in defaults.PARQUET_VERSIONS,
            f"{where}.parquet_version: {parquet_version!r} must be one of {list(defaults.PARQUET_VERSIONS)}",
        )
        self.check(
            cdc_path == "" or bool(re.fullmatch(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*", cdc_path)),
            f"{where}.cdc_path: {cdc_path!r} must be a relative folder like 'cdc' (or empty for none)",
        )
        self.check(
            timestamp_column == "" or bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", timestamp_column)),
            f"{where}.timestamp_column_name: {timestamp_column!r} must be a column name (or empty for none)",
        )
        return S3TargetConfig(
            folder,
            data_format,
            compression,
            parquet_version,
            statistics,
            date_partition,
            cdc_path,
            op_for_full_load,
            timestamp_column,
            crawler,
        )

    def _kinesis_target(self, where: str, entry: _Entry, profile: str) -> KinesisTargetConfig:
        preset = defaults.PROFILES.get(profile, defaults.PROFILES["dev"])
        mode = entry.get("stream_mode", str, preset.kinesis_stream_mode)
        shards = entry.get("shard_count", int)
        retention = entry.get("retention_hours", int)
        message_format = entry.get("message_format", str)
        transaction = entry.get("include_transaction_details", bool)
        control = entry.get("include_control_details", bool)
        alter = entry.get("include_table_alter_operations", bool)
        partition_value = entry.get("include_partition_value", bool)
        schema_table = entry.get("partition_include_schema_table", bool)
        prefix = entry.get("delivery_prefix", str)
        buffer_seconds = entry.get("buffering_seconds", int)
        buffer_mb = entry.get("buffering_mb", int)
        dynamic = entry.get("dynamic_partitioning", bool)
        crawler = entry.get("crawler", bool)
        self.check(
            mode in defaults.KINESIS_STREAM_MODES,
            f"{where}.stream_mode: {mode!r} must be one of {list(defaults.KINESIS_STREAM_MODES)}",
        )
        if mode == "ON_DEMAND" and "shard_count" in entry.body:
            self.problems.append(f"{where}.shard_count: ON_DEMAND streams size themselves; remove shard_count")
        self.check(1 <= shards <= 500, f"{where}.shard_count: {shards} must be 1..500")
        self.check(24 <= retention <= 8760, f"{where}.retention_hours: {retention} must be 24..8760")
        self.check(
            message_format in defaults.KINESIS_MESSAGE_FORMATS,
            f"{where}.message_format: {message_format!r} must be one of {list(defaults.KINESIS_MESSAGE_FORMATS)}",
        )
        self._check_prefix(f"{where}.delivery_prefix", prefix)
        self.check(0 <= buffer_seconds <= 900, f"{where}.buffering_seconds: {buffer_seconds} must be 0..900")
        # Firehose requires at least 64 MiB buffers once dynamic partitioning is on.
        low = 64 if dynamic else 1
        self.check(
            low <= buffer_mb <= 128,
            f"{where}.buffering_mb: {buffer_mb} must be {low}..128"
            + (" (Firehose dynamic partitioning needs at least 64)" if dynamic else ""),
        )
        return KinesisTargetConfig(
            mode,
            shards,
            retention,
            message_format,
            transaction,
            control,
            alter,
            partition_value,
            schema_table,
            prefix,
            buffer_seconds,
            buffer_mb,
            dynamic,
            crawler,
        )

    def _check_prefix(self, where: str, prefix: str) -> None:
        self.check(
            bool(re.fullmatch(r"[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*", prefix)),
            f"{where}: {prefix!r} must be a lowercase S3 prefix without leading or trailing '/', e.g. 'bronze/sales'",
        )

    def _data_lake(self, targets: Mapping[str, TargetConfig]) -> DataLakeConfig | None:
        if not any(t.kind in defaults.LAKE_TARGET_KINDS for t in targets.values()):
            self.check(
                not self.section("data_lake"),
                "[data_lake]: no target is s3 or kinesis, so there is no data lake; remove the section or add such a target",
            )
            return None
        bucket = self.get("data_lake", "bucket_name", str)
        to_ia = self.get("data_lake", "transition_to_ia_days", int)
        to_glacier = self.get("data_lake", "transition_to_glacier_days", int)
        noncurrent = self.get("data_lake", "noncurrent_version_expiration_days", int)
        database = self.get("data_lake", "glue_database_name", str)
        schedule = self.get("data_lake", "crawler_schedule", str)
        results_days = self.get("data_lake", "athena_results_expiration_days", int)
        cutoff = self.get("data_lake", "athena_bytes_scanned_cutoff_gb", int)
        if bucket:
            for problem in bucket_name_problems(bucket):
                self.problems.append(f"data_lake.bucket_name: {bucket!r} {problem}")
        self.check(
            to_ia == 0 or to_ia >= 30,
            f"data_lake.transition_to_ia_days: {to_ia} must be 0 (off) or >= 30 (S3 Standard-IA minimum)",
        )
        self.check(
            to_glacier == 0 or to_glacier > to_ia,
            f"data_lake.transition_to_glacier_days: {to_glacier} must be 0 (off) or later than transition_to_ia_days ({to_ia})",
        )
        self.check(noncurrent >= 1, f"data_lake.noncurrent_version_expiration_days: {noncurrent} must be >= 1")
        self.check(
            database == "" or bool(re.fullmatch(r"[a-z0-9_]{1,255}", database)),
            f"data_lake.glue_database_name: {database!r} must be lowercase letters, digits and '_' (Athena's rule)",
        )
        self.check(
            bool(re.fullmatch(r"cron\(\S+ \S+ \S+ \S+ \S+ \S+\)", schedule)),
            f"data_lake.crawler_schedule: {schedule!r} must be an AWS cron expression with 6 fields, e.g. 'cron(0 2 * * ? *)'",
        )
        self.check(results_days >= 1, f"data_lake.athena_results_expiration_days: {results_days} must be >= 1")
        self.check(cutoff >= 1, f"data_lake.athena_bytes_scanned_cutoff_gb: {cutoff} must be >= 1")
        prefixes: dict[str, str] = {}
        for key, target in targets.items():
            prefix = target.s3.folder if target.s3 else target.kinesis.delivery_prefix if target.kinesis else None
            if prefix is None:
                continue
            for other_key, other in prefixes.items():
                if prefix == other or prefix.startswith(other + "/") or other.startswith(prefix + "/"):
                    self.problems.append(
                        f"targets.{key}: prefix {prefix!r} overlaps targets.{other_key} ({other!r}); "
                        "give each target its own folder so crawlers and lifecycle rules stay apart"
                    )
            prefixes[key] = prefix
        return DataLakeConfig(bucket, to_ia, to_glacier, noncurrent, database, schedule, results_days, cutoff)

    def _aurora(self, profile: str, targets: Mapping[str, TargetConfig]) -> AuroraConfig | None:
        kinds = [t.kind for t in targets.values() if t.is_aurora]
        if not kinds:
            self.check(
                not self.section("aurora"),
                "[aurora]: no target has kind aurora_postgresql or aurora_mysql, so no cluster is built; remove the "
                "section or add such a target",
            )
            return None
        engine = defaults.AURORA_TARGET_ENGINES[kinds[0]]
        preset = defaults.PROFILES.get(profile, defaults.PROFILES["dev"])
        engine_version = self.get("aurora", "engine_version", str) or defaults.AURORA_DEFAULT_VERSIONS[engine]
        min_acu = self.get("aurora", "min_acu", float, preset.aurora_min_acu)
        max_acu = self.get("aurora", "max_acu", float, preset.aurora_max_acu)
        readers = self.get("aurora", "reader_count", int, preset.aurora_reader_count)
        deletion_protection = self.get("aurora", "deletion_protection", bool, preset.deletion_protection)
        retention = self.get("aurora", "backup_retention_days", int, preset.backup_retention_days)
        database_name = self.get("aurora", "database_name", str)
        username = self.get("aurora", "master_username", str)
        pi_retention = self.get("aurora", "performance_insights_retention_days", int)
        window = self.get("aurora", "preferred_backup_window", str)
        if engine == "aurora-postgresql":
            self.check(
                bool(re.fullmatch(r"1[4-7]\.\d+", engine_version)),
                f"aurora.engine_version: {engine_version!r} must be an Aurora PostgreSQL 14-17 version, e.g. '15.10'",
            )
        else:
            self.check(
                bool(re.fullmatch(r"8\.0\.mysql_aurora\.3\.\d{2}\.\d+", engine_version)),
                f"aurora.engine_version: {engine_version!r} must be an Aurora MySQL 8.0 version, "
                "e.g. '8.0.mysql_aurora.3.08.0' (Serverless v2 needs 3.x)",
            )
        self.check(
            0.5 <= min_acu <= 256 and (min_acu * 2).is_integer(),
            f"aurora.min_acu: {min_acu} must be 0.5..256 in steps of 0.5",
        )
        self.check(
            1 <= max_acu <= 256 and (max_acu * 2).is_integer(),
            f"aurora.max_acu: {max_acu} must be 1..256 in steps of 0.5",
        )
        self.check(min_acu <= max_acu, f"aurora.min_acu: {min_acu} is above aurora.max_acu {max_acu}; make min <= max")
        self.check(0 <= readers <= 15, f"aurora.reader_count: {readers} must be 0..15 (Aurora allows 15 replicas)")
        self.check(1 <= retention <= 35, f"aurora.backup_retention_days: {retention} must be 1..35")
        self.check(
            bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", database_name)),
            f"aurora.database_name: {database_name!r} must start with a letter and hold letters, digits, '_'",
        )
        # MySQL user names are at most 16 characters.
        username_pattern = r"[A-Za-z][A-Za-z0-9_]{0,15}" if engine == "aurora-mysql" else r"[A-Za-z][A-Za-z0-9_]{0,62}"
        self.check(
            bool(re.fullmatch(username_pattern, username)) and username.lower() not in ("postgres", "admin", "rdsadmin", "root"),
            f"aurora.master_username: {username!r} must be a valid identifier and not a reserved name",
        )
        self.check(
            pi_retention in (7, 731) or (pi_retention % 31 == 0 and 31 <= pi_retention <= 713),
            f"aurora.performance_insights_retention_days: {pi_retention} must be 7, 731 or a multiple of 31 up to 713",
        )
        self.check(
            bool(re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", window)),
            f"aurora.preferred_backup_window: {window!r} must look like '03:00-04:00' (UTC)",
        )
        if profile == "prod" and not deletion_protection:
            self.problems.append("aurora.deletion_protection: false is refused in the prod profile; remove the override")
        return AuroraConfig(
            engine,
            engine_version,
            min_acu,
            max_acu,
            readers,
            deletion_protection,
            preset.skip_final_snapshot,
            retention,
            database_name,
            username,
            pi_retention,
            window,
        )

    def _dms(self, profile: str, sources: Mapping[str, SourceConfig], targets: Mapping[str, TargetConfig]) -> DmsConfig:
        preset = defaults.PROFILES.get(profile, defaults.PROFILES["dev"])
        version = self.get("dms", "engine_version", str)
        instance_class = self.get("dms", "instance_class", str, preset.dms_instance_class)
        storage = self.get("dms", "allocated_storage_gb", int)
        multi_az = self.get("dms", "multi_az", bool, preset.dms_multi_az)
        log_retention = self.get("dms", "log_retention_days", int, preset.log_retention_days)
        serverless = self.get("dms", "serverless", bool)
        min_dcu = self.get("dms", "min_capacity_units", int)
        max_dcu = self.get("dms", "max_capacity_units", int, preset.dms_serverless_max_dcu)
        tasks_raw = self.get("dms", "tasks", dict)
        self.check(bool(re.fullmatch(r"3\.\d+\.\d+", version)), f"dms.engine_version: {version!r} must look like '3.5.4'")
        self.check(
            bool(re.fullmatch(r"dms\.[a-z0-9]+\.[a-z0-9]+", instance_class)),
            f"dms.instance_class: {instance_class!r} must look like 'dms.r6i.large'",
        )
        self.check(5 <= storage <= 6144, f"dms.allocated_storage_gb: {storage} must be 5..6144")
        self.check(
            log_retention in defaults.LOG_RETENTION_DAYS,
            f"dms.log_retention_days: {log_retention} is not a CloudWatch retention; use one of {defaults.LOG_RETENTION_DAYS}",
        )
        capacity_units = (1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384)
        self.check(
            min_dcu in capacity_units and max_dcu in capacity_units and min_dcu <= max_dcu,
            f"dms.min_capacity_units/max_capacity_units: {min_dcu}..{max_dcu} must be DMS capacity units from "
            f"{list(capacity_units)} with min <= max",
        )
        self.check(bool(tasks_raw), "dms.tasks: define at least one task, e.g. [dms.tasks.main]")
        tasks: dict[str, DmsTaskConfig] = {}
        for key, body in tasks_raw.items():
            task = self._task(str(key), body, sources, targets)
            if task is not None:
                tasks[task.key] = task
        used_targets = {task.target for task in tasks.values()}
        for key in sorted(set(targets) - used_targets):
            self.problems.append(f"targets.{key}: no task in [dms.tasks] writes to it; remove it or name it in a task")
        return DmsConfig(version, instance_class, storage, multi_az, log_retention, serverless, min_dcu, max_dcu, tasks)

    def _task(
        self, key: str, body: Any, sources: Mapping[str, SourceConfig], targets: Mapping[str, TargetConfig]
    ) -> DmsTaskConfig | None:
        where = f"dms.tasks.{key}"
        self.check(
            bool(re.fullmatch(r"[a-z][a-z0-9-]{0,30}", key)) and _clean_hyphens(key),
            f"{where}: task key {key!r} must be 1-31 lowercase letters, digits and single '-', starting with a letter "
            "and not ending with '-' (it names the DMS task)",
        )
        entry = self.entry(where, body, defaults.TASK_FIELDS)
        source_key = self._reference(where, "source", entry.get("source", str), sources)
        target_key = self._reference(where, "target", entry.get("target", str), targets)
        migration_type = entry.get("migration_type", str)
        note = entry.get("schema_conversion_note", str)
        self.check(
            migration_type in defaults.MIGRATION_TYPES,
            f"{where}.migration_type: {migration_type!r} must be one of {list(defaults.MIGRATION_TYPES)}",
        )
        source = sources.get(source_key or "")
        target = targets.get(target_key or "")
        if source is not None and target is not None and target.is_aurora:
            homogeneous = defaults.HOMOGENEOUS_TARGET.get(source.engine)
            if target.kind != homogeneous and not note:
                self.problems.append(
                    f"{where}: {source.engine} -> {target.kind} is a heterogeneous migration DMS does not convert "
                    f"(schemas, types, procedures); point {where}.schema_conversion_note at your AWS SCT / DMS "
                    f"Schema Conversion plan, or target kind {homogeneous!r}"
                )
        mappings = self._json_file(f"{where}.table_mappings_file", entry.get("table_mappings_file", str))
        settings = self._json_file(f"{where}.settings_file", entry.get("settings_file", str))
        if mappings is not None:
            self._check_table_mappings(where, mappings)
        if settings is not None:
            self._check_task_settings(f"{where}.settings_file", settings, database_target=target is not None and target.is_aurora)
        if mappings is None or settings is None or source_key is None or target_key is None:
            return None
        return DmsTaskConfig(
            key,
            source_key,
            target_key,
            migration_type,
            normalize_json(mappings),
            normalize_json(_strip_managed_settings(settings)),
        )

    def _reference(self, where: str, field: str, value: str, choices: Mapping[str, Any]) -> str | None:
        """A task's source/target key: must name an entry; may be omitted when there is exactly one."""
        plural = f"{field}s"
        if not value:
            if len(choices) == 1:
                return next(iter(choices))
            if choices:
                self.problems.append(f"{where}.{field}: required when there are several {plural}; use one of {sorted(choices)}")
            return None
        if value not in choices:
            self.problems.append(f"{where}.{field}: {value!r} names no entry in [{plural}]; use one of {sorted(choices)}")
            return None
        return value

    def _check_table_mappings(self, where: str, mappings: Any) -> None:
        rules = mappings.get("rules") if isinstance(mappings, dict) else None
        if not isinstance(rules, list) or not any(isinstance(r, dict) and r.get("rule-type") == "selection" for r in rules):
            self.problems.append(f"{where}.table_mappings_file: needs a 'rules' list with at least one 'selection' rule")
            return
        seen: set[str] = set()
        for index, rule in enumerate(rules):
            rule_id = str(rule.get("rule-id", "")) if isinstance(rule, dict) else ""
            if not isinstance(rule, dict) or rule.get("rule-type") not in MAPPING_RULE_TYPES:
                self.problems.append(
                    f"{where}.table_mappings_file: rules[{index}] needs a rule-type of {list(MAPPING_RULE_TYPES)}"
                )
                continue
            if not rule_id or rule_id in seen:
                self.problems.append(f"{where}.table_mappings_file: rules[{index}] needs a unique 'rule-id'")
            seen.add(rule_id)
            locator = rule.get("object-locator")
            if not isinstance(locator, dict) or not isinstance(locator.get("schema-name"), str) or not locator["schema-name"]:
                self.problems.append(
                    f"{where}.table_mappings_file: rules[{index}] ({rule.get('rule-type')}) needs an 'object-locator' "
                    "with a 'schema-name' (and 'table-name' for tables), e.g. {\"schema-name\": \"public\", "
                    '"table-name": "%"}'
                )
        selecting = [
            r
            for r in rules
            if isinstance(r, dict) and r.get("rule-type") == "selection" and r.get("rule-action") in ("include", "explicit")
        ]
        if not selecting:
            self.problems.append(
                f"{where}.table_mappings_file: no selection rule includes a table (every one excludes), so the task "
                'would migrate nothing; add a selection rule with "rule-action": "include"'
            )

    def _check_task_settings(self, where: str, settings: Any, *, database_target: bool) -> None:
        """`where`: the settings file's field, e.g. `dms.tasks.main.settings_file`."""
        if not isinstance(settings, dict):
            self.problems.append(f"{where}: must hold a JSON object of DMS task settings")
            return
        logging = settings.get("Logging", {})
        self.check(
            isinstance(logging, dict) and logging.get("EnableLogging") is True,
            f"{where}: Logging.EnableLogging must be true (task logs are how failures are diagnosed)",
        )
        validation = settings.get("ValidationSettings", {})
        if database_target:
            self.check(
                isinstance(validation, dict) and validation.get("EnableValidation") is True,
                f"{where}: ValidationSettings.EnableValidation must be true for an Aurora target "
                "(row validation gates the cutover)",
            )
        target = settings.get("TargetMetadata", {})
        if isinstance(target, dict) and target.get("SupportLobs") and target.get("LimitedSizeLobMode"):
            errors = settings.get("ErrorBehavior", {})
            self.check(
                isinstance(errors, dict) and errors.get("DataTruncationErrorPolicy") in ("STOP_TASK", "SUSPEND_TABLE"),
                f"{where}: limited-size LOB mode truncates silently; set "
                "ErrorBehavior.DataTruncationErrorPolicy to 'STOP_TASK' or 'SUSPEND_TABLE'",
            )

    def _check_reverse_settings(self, where: str, settings: dict[str, Any]) -> None:
        """What the reverse task must never do: it writes into the live source database."""
        full_load = settings.get("FullLoadSettings", {})
        prep = full_load.get("TargetTablePrepMode") if isinstance(full_load, dict) else None
        self.check(
            prep == "DO_NOTHING",
            f"{where}: FullLoadSettings.TargetTablePrepMode is {prep!r}; set it to 'DO_NOTHING' — the reverse task "
            f"writes into the live source database, and {' or '.join(defaults.REVERSE_REFUSED_PREP_MODES)} "
            "(DMS's default is DROP_AND_CREATE when unset) would drop or empty its tables",
        )
        metadata = settings.get("TargetMetadata", {})
        batch = metadata.get("BatchApplyEnabled") if isinstance(metadata, dict) else None
        self.check(
            batch is not True,
            f"{where}: TargetMetadata.BatchApplyEnabled is true; set it to false — the reverse task writes into the "
            "live source database, and batch apply commits net changes per table instead of the source "
            "transactions, so a rollback could hand the application half-applied transactions",
        )
        ddl = settings.get("ChangeProcessingDdlHandlingPolicy", {})
        for key in ("HandleSourceTableDropped", "HandleSourceTableTruncated"):
            value = ddl.get(key) if isinstance(ddl, dict) else None
            self.check(
                value is False,
                f"{where}: ChangeProcessingDdlHandlingPolicy.{key} is {value!r}; set it to false — the reverse task "
                "writes into the live source database, and a DROP or TRUNCATE on Aurora (applied when unset) must "
                "never reach its tables",
            )

    def _json_file(self, where: str, relative: Any) -> Any:
        if not isinstance(relative, str) or not relative:
            self.problems.append(f"{where}: expected a path to a JSON file, got {relative!r}")
            return None
        text = self.read_file(where, relative)
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            self.problems.append(f"{where}: {relative!r} is not valid JSON (line {exc.lineno}: {exc.msg}); fix the file")
            return None

    def _cutover(
        self, dms: DmsConfig, sources: Mapping[str, SourceConfig], targets: Mapping[str, TargetConfig]
    ) -> CutoverConfig | None:
        enabled = self.get("cutover", "enabled", bool)
        task_key = self.get("cutover", "task_key", str)
        reverse = self.get("cutover", "reverse_replication", bool)
        aurora_tasks = sorted(k for k, t in dms.tasks.items() if t.target in targets and targets[t.target].is_aurora)
        if not enabled:
            self.check(
                not reverse,
                "cutover.reverse_replication: true, but cutover.enabled is false; the reverse task replicates Aurora "
                "back to the source after the writer flip, so there is nothing to reverse without a cutover to an "
                "Aurora target — set reverse_replication = false (or enable the cutover)",
            )
            return None
        if task_key in dms.tasks and not targets[dms.tasks[task_key].target].is_aurora:
            self.problems.append(
                f"cutover.task_key: task {task_key!r} writes to a {targets[dms.tasks[task_key].target].kind} target; "
                f"the cutover moves clients to Aurora, so name a task with an Aurora target ({aurora_tasks}) "
                "or set cutover.enabled = false for a data-lake-only stack"
            )
        if not aurora_tasks and dms.tasks:
            self.problems.append(
                "cutover.enabled: no task writes to an Aurora target, so there is nothing to cut over to; "
                "set cutover.enabled = false"
            )
        domain = self.get("cutover", "domain", str)
        zone_id = self.get("cutover", "hosted_zone_id", str)
        ttl = self.get("cutover", "record_ttl", int)
        cutover_ttl = self.get("cutover", "cutover_ttl", int)
        steps = self.ints("cutover", "read_steps")
        hold = self.get("cutover", "step_hold_seconds", int)
        threshold = self.get("cutover", "latency_threshold_seconds", int)
        periods = self.get("cutover", "latency_periods", int)
        period = self.get("cutover", "metric_period_seconds", int)
        drain_threshold = self.get("cutover", "drain_threshold_seconds", int)
        drain_timeout = self.get("cutover", "drain_timeout_seconds", int)
        drain_poll = self.get("cutover", "drain_poll_seconds", int)
        rate = self.get("cutover", "schedule_rate_minutes", int)
        self.check(
            bool(re.fullmatch(r"([a-z0-9-]{1,63}\.)+[a-z]{2,63}", domain)),
            f"cutover.domain: {domain!r} must be a lowercase DNS domain, e.g. 'db.migration.internal'",
        )
        self.check(
            zone_id == "" or bool(re.fullmatch(r"Z[A-Z0-9]{1,31}", zone_id)),
            f"cutover.hosted_zone_id: {zone_id!r} must look like 'Z0123456789ABC' or be empty to create a private zone",
        )
        self.check(
            task_key in dms.tasks or not dms.tasks,
            f"cutover.task_key: {task_key!r} names no task in [dms.tasks]; use one of {sorted(dms.tasks)}",
        )
        self.check(1 <= cutover_ttl <= ttl <= 86400, f"cutover.cutover_ttl: {cutover_ttl} must be 1..record_ttl ({ttl})")
        self.check(
            bool(steps) and list(steps) == sorted(set(steps)) and steps[0] > 0 and steps[-1] == 100,
            f"cutover.read_steps: {list(steps)} must be strictly increasing percentages ending at 100, e.g. [10, 25, 50, 100]",
        )
        self.check(hold >= 0, f"cutover.step_hold_seconds: {hold} must be >= 0")
        self.check(threshold >= 1, f"cutover.latency_threshold_seconds: {threshold} must be >= 1")
        self.check(1 <= periods <= 60, f"cutover.latency_periods: {periods} must be 1..60")
        self.check(
            period in (60, 300) or (period % 60 == 0 and period > 0),
            f"cutover.metric_period_seconds: {period} must be a multiple of 60",
        )
        self.check(
            0 <= drain_threshold < threshold,
            f"cutover.drain_threshold_seconds: {drain_threshold} must be below latency_threshold_seconds ({threshold})",
        )
        self.check(drain_poll >= 1, f"cutover.drain_poll_seconds: {drain_poll} must be >= 1")
        self.check(
            drain_poll <= drain_timeout <= 840,
            f"cutover.drain_timeout_seconds: {drain_timeout} must be >= drain_poll_seconds ({drain_poll}) and <= 840 "
            "(it runs inside one Lambda invocation of at most 900 s)",
        )
        self.check(1 <= rate <= 60, f"cutover.schedule_rate_minutes: {rate} must be 1..60")
        self._cutover_safety(steps, hold, threshold, periods, period)
        if task_key in dms.tasks and dms.tasks[task_key].source in sources:
            self._cutover_pair(domain, sources[dms.tasks[task_key].source], targets[dms.tasks[task_key].target], task_key)
        reverse_settings = self._reverse_settings(dms, sources, targets, task_key) if reverse else None
        return CutoverConfig(
            domain,
            zone_id,
            task_key,
            ttl,
            cutover_ttl,
            steps,
            hold,
            threshold,
            periods,
            period,
            drain_threshold,
            drain_timeout,
            drain_poll,
            rate,
            reverse_settings,
        )

    def _cutover_safety(self, steps: tuple[int, ...], hold: int, threshold: int, periods: int, period: int) -> None:
        """Refuse what is unsafe; what is merely unusual needs cutover.risk_accepted (the reason, in the file)."""
        self.check(
            threshold <= LATENCY_THRESHOLD_MAX,
            f"cutover.latency_threshold_seconds: {threshold} lets reads move while replication is more than "
            f"{LATENCY_THRESHOLD_MAX // 60} minutes behind; readers would see data that old. Use at most "
            f"{LATENCY_THRESHOLD_MAX} (the default is 30)",
        )
        self.check(
            not (periods == 1 and hold == 0),
            "cutover.step_hold_seconds: 0 with latency_periods = 1 moves reads on a single metric datapoint and holds "
            "no step; hold each step at least one metric period (e.g. step_hold_seconds = 900)",
        )
        unusual: list[str] = []
        if LATENCY_THRESHOLD_USUAL < threshold <= LATENCY_THRESHOLD_MAX:
            unusual.append(
                f"cutover.latency_threshold_seconds: {threshold} is above {LATENCY_THRESHOLD_USUAL} s: reads may move "
                "to a target minutes behind"
            )
        if hold < periods * period and not (periods == 1 and hold == 0):
            unusual.append(
                f"cutover.step_hold_seconds: {hold} is shorter than the gate's window (latency_periods x "
                f"metric_period_seconds = {periods * period} s): a step is judged partly on data from before it"
            )
        if tuple(steps) == (100,):
            unusual.append("cutover.read_steps: [100] moves every read at once, with no smaller step to roll back to")
        risk = self.get("cutover", "risk_accepted", str)
        if not risk.strip():
            for text in unusual:
                self.problems.append(
                    f'{text}. If you mean it, write why in cutover.risk_accepted = "<your reason>" (docs/cutover.md, Bounds)'
                )

    def _cutover_pair(self, domain: str, source: SourceConfig, target: TargetConfig, task_key: str) -> None:
        """The cutover points clients' DNS names at the source, then at Aurora: both must be reachable that way."""
        family_target = defaults.HOMOGENEOUS_TARGET.get(source.engine)
        self.check(
            not target.is_aurora or target.kind == family_target,
            f"cutover.task_key: the cutover moves the clients of a {source.engine} database ({source.key}) to a "
            f"{target.kind} target; they would connect with the wrong protocol whatever the schema conversion. Cut "
            f"over to a {family_target} target, or set cutover.enabled = false and move the clients yourself",
        )
        self.check(
            _network_or_none(source.host) is None,
            f"sources.{source.key}.host: {source.host!r} is an IP address, but the cutover's weighted records are "
            "CNAMEs, which must point at a DNS name; give the source's DNS name (an A record on-premises)",
        )
        self.check(
            not (source.host == domain or source.host.endswith("." + domain)),
            f"cutover.domain: {domain!r} contains the source host {source.host!r}; the private zone would answer for "
            f"it inside the VPC and hide the real source from DMS. Use a domain of its own, e.g. 'db.migration.internal' "
            f"(cutover task {task_key!r})",
        )

    def _reverse_settings(
        self, dms: DmsConfig, sources: Mapping[str, SourceConfig], targets: Mapping[str, TargetConfig], task_key: str
    ) -> str | None:
        """The reverse task's normalized settings, once its pair and its settings file are known to be safe."""
        where = "cutover.reverse_replication"
        task = dms.tasks.get(task_key)
        if task is None:
            return None  # cutover.task_key is reported already
        source, target = sources[task.source], targets[task.target]
        if not target.is_aurora:
            self.problems.append(
                f"{where}: true, but the cutover task {task_key!r} writes to a {target.kind} target; the reverse "
                "task replicates Aurora back to the source, so it needs an Aurora target — set it to false"
            )
            return None
        if target.kind != defaults.HOMOGENEOUS_TARGET.get(source.engine):
            self.problems.append(
                f"{where}: true, but the cutover task {task_key!r} migrates {source.engine} -> {target.kind}; DMS "
                "replays Aurora's changes into the source only within one engine family (postgres -> "
                "aurora_postgresql, mysql/mariadb -> aurora_mysql) — set it to false and plan the rollback of "
                "this converted schema separately"
            )
            return None
        reverse_key = f"{task_key}-{defaults.REVERSE_TASK_SUFFIX}"
        self.check(
            reverse_key not in dms.tasks,
            f"dms.tasks.{reverse_key}: the reverse task of {task_key!r} takes this name; rename the task "
            f"(or set {where} = false)",
        )
        settings_where = "cutover.reverse_settings_file"
        settings = self._json_file(settings_where, self.get("cutover", "reverse_settings_file", str))
        if settings is None:
            return None
        self._check_task_settings(settings_where, settings, database_target=False)
        if not isinstance(settings, dict):
            return None
        self._check_reverse_settings(settings_where, settings)
        return normalize_json(_strip_managed_settings(settings))

    def _observability(self, profile: str, dms: DmsConfig, cutover: CutoverConfig | None) -> ObservabilityConfig:
        preset = defaults.PROFILES.get(profile, defaults.PROFILES["dev"])
        email = self.get("observability", "alarm_email", str)
        latency = self.get("observability", "cdc_latency_alarm_seconds", int, preset.cdc_latency_alarm_seconds)
        periods = self.get("observability", "cdc_latency_alarm_periods", int)
        storage = self.get("observability", "dms_free_storage_min_gb", int)
        memory = self.get("observability", "dms_freeable_memory_min_mb", int)
        cpu = self.get("observability", "aurora_cpu_max_percent", int)
        connections = self.get("observability", "aurora_connections_max", int)
        errors = self.get("observability", "cutover_errors_max", int)
        self.check(
            email == "" or bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", email)),
            f"observability.alarm_email: {email!r} is not an email address; leave it empty for no subscription",
        )
        self.check(latency >= 1, f"observability.cdc_latency_alarm_seconds: {latency} must be >= 1")
        self.check(1 <= periods <= 60, f"observability.cdc_latency_alarm_periods: {periods} must be 1..60")
        self.check(storage >= 1, f"observability.dms_free_storage_min_gb: {storage} must be >= 1")
        self.check(memory >= 1, f"observability.dms_freeable_memory_min_mb: {memory} must be >= 1")
        # Alarms that can never fire (or always fire) are refused: an operator would trust their silence.
        self.check(
            1 <= cpu <= CPU_ALARM_MAX,
            f"observability.aurora_cpu_max_percent: {cpu} must be 1..{CPU_ALARM_MAX} (the alarm fires above it; CPU "
            "never exceeds 100)",
        )
        self.check(
            1 <= connections <= CONNECTIONS_ALARM_MAX,
            f"observability.aurora_connections_max: {connections} must be 1..{CONNECTIONS_ALARM_MAX} (Aurora's highest "
            "max_connections; above it the alarm never fires)",
        )
        rate = cutover.schedule_rate_minutes if cutover else 0
        ticks = max(1, CUTOVER_ERRORS_PERIOD_SECONDS // (60 * rate)) if rate >= 1 else None
        self.check(
            errors >= 0 and (ticks is None or errors < ticks),
            f"observability.cutover_errors_max: {errors} must be 0.."
            f"{(ticks - 1) if ticks else 'n'}: the alarm counts failed invocations per {CUTOVER_ERRORS_PERIOD_SECONDS} s "
            f"and the schedule runs {ticks} in that time, so a cutover Lambda failing on every tick would never alarm",
        )
        if not dms.serverless:
            self.check(
                storage < dms.allocated_storage_gb,
                f"observability.dms_free_storage_min_gb: {storage} must be below dms.allocated_storage_gb "
                f"({dms.allocated_storage_gb}); otherwise the alarm is always on",
            )
        return ObservabilityConfig(email, latency, periods, storage, memory, cpu, connections, errors)

    def _backup(self, profile: str) -> BackupConfig:
        preset = defaults.PROFILES.get(profile, defaults.PROFILES["dev"])
        schedule = self.get("backup", "schedule", str)
        daily = self.get("backup", "daily_retention_days", int, preset.backup_daily_retention_days)
        monthly = self.get("backup", "monthly_retention_days", int, preset.backup_monthly_retention_days)
        self.check(
            bool(re.fullmatch(r"cron\(\S+ \S+ \S+ \S+ \S+ \S+\)", schedule)),
            f"backup.schedule: {schedule!r} must be an AWS cron expression with 6 fields, e.g. 'cron(0 5 * * ? *)'",
        )
        self.check(1 <= daily <= 36500, f"backup.daily_retention_days: {daily} must be 1..36500")
        self.check(
            monthly == 0 or daily < monthly <= 36500,
            f"backup.monthly_retention_days: {monthly} must be 0 (no monthly rule) or longer than daily_retention_days ({daily})",
        )
        return BackupConfig(schedule, daily, monthly)

    def _derived_names(self, project: ProjectConfig, targets: Mapping[str, TargetConfig]) -> None:
        """Names built from the prefix and a key must fit AWS's limits, or the apply fails halfway."""
        for key, target in targets.items():
            for role in target_role_names(project.prefix, key, target.kind):
                self.check(
                    len(role) <= IAM_ROLE_NAME_MAX,
                    f"targets.{key}: the IAM role name {role!r} built from the prefix {project.prefix!r} and this key is "
                    f"{len(role)} characters; IAM allows {IAM_ROLE_NAME_MAX}: shorten the key, project.name or "
                    "project.environment_suffix",
                )

    def _cross_checks(self, network: NetworkConfig, sources: Mapping[str, SourceConfig]) -> None:
        vpc = _network_or_none(network.vpc_cidr)
        if vpc is None:
            return
        for source in sources.values():
            for index, cidr in enumerate(source.cidr_blocks):
                net = _network_or_none(cidr)
                if isinstance(net, ipaddress.IPv4Network) and isinstance(vpc, ipaddress.IPv4Network) and net.overlaps(vpc):
                    self.problems.append(
                        f"sources.{source.key}.cidr_blocks[{index}]: {cidr} overlaps network.vpc_cidr {network.vpc_cidr}; "
                        "routing to the source would break — pick a VPC CIDR that does not overlap on-premises"
                    )


class _Entry:
    """Typed reads from one table of a map section, with the schema's defaults (None: required)."""

    def __init__(self, reader: _Reader, where: str, body: dict[str, Any], schema: Mapping[str, Any]) -> None:
        self.reader, self.where, self.body, self.schema = reader, where, body, schema

    def get(self, key: str, kind: type[T], default: T | None = None) -> T:
        where = f"{self.where}.{key}"
        if key in self.body:
            value = self.body[key]
        elif default is not None:
            return default
        else:
            value = self.schema.get(key)
        if value is None:
            self.reader.problems.append(f"{where}: required; set it in the [{self.where}] table")
            return _zero(kind)
        return self.reader.typed(where, value, kind)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list)
        if not all(isinstance(v, str) for v in value):
            self.reader.problems.append(f"{self.where}.{key}: expected a list of strings, got {value!r}")
            return ()
        return tuple(value)


def bucket_name_problems(name: str) -> list[str]:
    """S3 general-purpose bucket naming rules, each broken rule as the fix to make."""
    problems = []
    if not 3 <= len(name) <= 63:
        problems.append(f"is {len(name)} characters; bucket names are 3..63 characters")
    if not re.fullmatch(r"[a-z0-9.-]*", name):
        problems.append("may hold only lowercase letters, digits, '.' and '-'")
    if not re.fullmatch(r"[a-z0-9].*[a-z0-9]|[a-z0-9]", name):
        problems.append("must begin and end with a letter or digit")
    if ".." in name or ".-" in name or "-." in name:
        problems.append("must not hold '..', '.-' or '-.'")
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        problems.append("must not look like an IP address")
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3")):
        problems.append("uses a prefix or suffix S3 reserves (xn--, sthree-, -s3alias, --ol-s3, ...)")
    if "." in name:
        problems.append("should not contain '.': virtual-hosted TLS certificates do not cover dotted names")
    return problems


def _major(version: str) -> int:
    head = version.split(".", maxsplit=1)[0]
    return int(head) if head.isdigit() else 0


def normalize_json(value: Any) -> str:
    """Sorted keys and compact separators, so `terraform plan` compares like with like."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _strip_managed_settings(settings: Any) -> Any:
    """Drop task settings that AWS owns (it fills them in), which otherwise diff on every plan."""
    if not isinstance(settings, dict):
        return settings
    cleaned = {k: v for k, v in settings.items() if k not in defaults.AWS_MANAGED_SETTING_KEYS}
    logging = cleaned.get("Logging")
    if isinstance(logging, dict):
        cleaned["Logging"] = {k: v for k, v in logging.items() if k not in defaults.AWS_MANAGED_SETTING_KEYS}
    return cleaned


def _clean_hyphens(name: str) -> bool:
    return not name.endswith("-") and "--" not in name


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in the installed botocore's endpoint data (empty if it cannot be read)."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        return frozenset()
    try:
        data = json.loads((Path(spec.origin).parent / "data" / "endpoints.json").read_text(encoding="utf-8"))
        return frozenset(region for partition in data["partitions"] for region in partition["regions"])
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()


def _network_or_none(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        return None


_ZEROS: dict[type, Callable[[], Any]] = {str: str, int: int, float: float, bool: bool, list: list, dict: dict}


def _zero(kind: type[T]) -> T:
    return _ZEROS[kind]()  # type: ignore[no-any-return]
