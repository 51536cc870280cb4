"""The validated configuration of one tap-migrate stack.

Everything the constructs need is a field of a frozen dataclass here. `load_config` reads
the TOML file a user edits, applies environment overrides, and validates the whole tree in
one pass *before* any construct is built: every problem is reported at once, each naming
the field, the bad value and the fix. Defaults live in `lib/defaults.py`, apart from this
loader and from the builders.
"""

from __future__ import annotations

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
from lib.constants import DEFAULT_CONFIG_FILE

PROJECT_ROOT = Path(__file__).resolve().parent.parent

T = TypeVar("T")


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
    availability_zones: tuple[str, ...]


@dataclass(frozen=True)
class SourceConfig:
    engine: str
    engine_version: int
    host: str
    port: int
    database: str
    cidr_blocks: tuple[str, ...]
    secret_arn: str  # empty: the stack creates an empty secret for the operator to fill
    ssl_mode: str
    ca_certificate_pem: str  # contents of ca_certificate_file; a public certificate, not a secret


@dataclass(frozen=True)
class AuroraConfig:
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


@dataclass(frozen=True)
class DmsTaskConfig:
    key: str
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
    tasks: Mapping[str, DmsTaskConfig]


@dataclass(frozen=True)
class CutoverConfig:
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
    source: SourceConfig
    aurora: AuroraConfig
    dms: DmsConfig
    cutover: CutoverConfig
    observability: ObservabilityConfig
    backup: BackupConfig

    @property
    def is_emulator(self) -> bool:
        return self.deployment.target == "emulator"


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
            reader.override(section, key, value)


class _Reader:
    """Typed access to the raw TOML that records problems instead of raising on the first."""

    def __init__(self, raw: Mapping[str, Any], base_dir: Path) -> None:
        self.raw = {k: dict(v) if isinstance(v, Mapping) else v for k, v in raw.items()}
        self.base_dir = base_dir
        self.problems: list[str] = []
        self._overrides: dict[tuple[str, str], str] = {}
        known = set(defaults.SECTIONS)
        for section in self.raw:
            if section not in known:
                self.problems.append(f"[{section}]: unknown section; use one of {sorted(known)}")

    def override(self, section: str, key: str, value: str) -> None:
        self._overrides[(section, key)] = value

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    def section(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            self.problems.append(f"[{name}]: must be a table, got {value!r}")
            return {}
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
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problems.append(f"{where}: expected {kind.__name__}, got {value!r}")
            return _zero(kind)
        return value

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
        return path.read_text(encoding="utf-8")

    def build(self) -> AppConfig:
        project = self._project()
        deployment = self._deployment()
        network = self._network(project.region)
        source = self._source()
        aurora = self._aurora(project.profile)
        dms = self._dms(project.profile)
        cutover = self._cutover(dms)
        observability = self._observability()
        backup = self._backup(project.profile)
        self._cross_checks(network, source, aurora)
        return AppConfig(project, deployment, network, source, aurora, dms, cutover, observability, backup)

    # ---- sections ------------------------------------------------------------------

    def _project(self) -> ProjectConfig:
        name = self.get("project", "name", str)
        suffix = self.get("project", "environment_suffix", str)
        region = self.get("project", "region", str)
        profile = self.get("project", "profile", str)
        tags_raw = self.get("project", "tags", dict)
        self.check(
            bool(re.fullmatch(r"[a-z][a-z0-9-]{1,20}", name)),
            f"project.name: {name!r} must be 2-21 chars of lowercase letters, digits and '-', starting with a letter "
            "(it prefixes every resource name)",
        )
        self.check(
            bool(re.fullmatch(r"[a-z0-9]{1,12}", suffix)),
            f"project.environment_suffix: {suffix!r} must be 1-12 lowercase letters or digits, e.g. 'dev' or 'pr123'",
        )
        self.check(
            bool(re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region)),
            f"project.region: {region!r} is not an AWS region name; use e.g. 'us-east-1'",
        )
        self.check(
            profile in defaults.PROFILES,
            f"project.profile: {profile!r} is not a profile; use one of {sorted(defaults.PROFILES)}",
        )
        tags: dict[str, str] = {}
        for key, value in tags_raw.items():
            if not isinstance(value, str):
                self.problems.append(f"project.tags.{key}: tag values must be strings, got {value!r}")
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
        zones = self.strings("network", "availability_zones") or tuple(f"{region}{z}" for z in "abc")
        vpc_net = _network_or_none(vpc_cidr)
        self.check(vpc_net is not None, f"network.vpc_cidr: {vpc_cidr!r} is not a CIDR block; use e.g. '10.20.0.0/16'")
        self.check(
            len(subnets) == 3,
            f"network.private_subnet_cidrs: {len(subnets)} given; give exactly 3 (one per availability zone)",
        )
        self.check(
            len(zones) == len(set(zones)) == 3,
            f"network.availability_zones: {list(zones)!r} must be 3 distinct zones (or leave empty for a, b, c)",
        )
        parsed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for index, cidr in enumerate(subnets):
            net = _network_or_none(cidr)
            where = f"network.private_subnet_cidrs[{index}]"
            if net is None:
                self.problems.append(f"{where}: {cidr!r} is not a CIDR block")
                continue
            if vpc_net is not None and not net.subnet_of(vpc_net):  # type: ignore[arg-type]
                self.problems.append(f"{where}: {cidr} is outside network.vpc_cidr {vpc_cidr}; pick a block inside it")
            for other_index, other in enumerate(parsed):
                if net.overlaps(other):
                    self.problems.append(
                        f"{where}: {cidr} overlaps private_subnet_cidrs[{other_index}]; subnets must not overlap"
                    )
            parsed.append(net)
        return NetworkConfig(vpc_cidr, subnets, zones)

    def _source(self) -> SourceConfig:
        engine = self.get("source", "engine", str)
        version = self.get("source", "engine_version", int)
        host = self.get("source", "host", str)
        port = self.get("source", "port", int)
        database = self.get("source", "database", str)
        cidrs = self.strings("source", "cidr_blocks")
        secret_arn = self.get("source", "secret_arn", str)
        ssl_mode = self.get("source", "ssl_mode", str)
        ca_file = self.get("source", "ca_certificate_file", str)
        self.check(
            engine in defaults.SOURCE_ENGINES,
            f"source.engine: {engine!r} is not supported; use one of {sorted(defaults.SOURCE_ENGINES)}",
        )
        self.check(
            bool(re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host)) and "." in host,
            f"source.host: {host!r} must be the DNS name or IP address DMS connects to",
        )
        self.check(1 <= port <= 65535, f"source.port: {port} must be 1..65535")
        self.check(bool(database), "source.database: required; the database DMS reads from")
        self.check(bool(cidrs), "source.cidr_blocks: give the on-premises CIDR(s) DMS must reach, e.g. ['192.168.0.0/16']")
        for index, cidr in enumerate(cidrs):
            net = _network_or_none(cidr)
            if net is None:
                self.problems.append(f"source.cidr_blocks[{index}]: {cidr!r} is not a CIDR block")
            elif net.prefixlen == 0:
                self.problems.append(
                    f"source.cidr_blocks[{index}]: {cidr} opens egress to everything; give the on-premises network only"
                )
        self.check(
            secret_arn == "" or bool(re.fullmatch(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+", secret_arn)),
            f"source.secret_arn: {secret_arn!r} is not a Secrets Manager secret ARN; leave it empty to have the stack "
            "create an empty secret you fill with `aws secretsmanager put-secret-value`",
        )
        self.check(
            ssl_mode in defaults.SSL_MODES,
            f"source.ssl_mode: {ssl_mode!r} must be one of {list(defaults.SSL_MODES)}",
        )
        if engine == "postgres" and ssl_mode == "none" and version >= 15:
            self.problems.append(
                f"source.ssl_mode: 'none' is refused for PostgreSQL {version} (15+ rejects non-SSL replication "
                "connections); use 'require' or 'verify-full'"
            )
        ca_pem = ""
        if ssl_mode in ("verify-ca", "verify-full"):
            if not ca_file:
                self.problems.append(
                    f"source.ca_certificate_file: required when source.ssl_mode is {ssl_mode!r}; "
                    "point it at the PEM of the CA that signed the source's server certificate"
                )
            else:
                ca_pem = self.read_file("source.ca_certificate_file", ca_file) or ""
                if ca_pem and "-----BEGIN CERTIFICATE-----" not in ca_pem:
                    self.problems.append(f"source.ca_certificate_file: {ca_file!r} is not a PEM certificate")
                if "PRIVATE KEY" in ca_pem:
                    self.problems.append(
                        f"source.ca_certificate_file: {ca_file!r} contains a private key; give the CA certificate only"
                    )
        return SourceConfig(engine, version, host, port, database, cidrs, secret_arn, ssl_mode, ca_pem)

    def _aurora(self, profile: str) -> AuroraConfig:
        preset = defaults.PROFILES.get(profile, defaults.PROFILES["dev"])
        engine_version = self.get("aurora", "engine_version", str)
        min_acu = self.get("aurora", "min_acu", float)
        max_acu = self.get("aurora", "max_acu", float)
        readers = self.get("aurora", "reader_count", int)
        deletion_protection = self.get("aurora", "deletion_protection", bool, preset.deletion_protection)
        retention = self.get("aurora", "backup_retention_days", int, preset.backup_retention_days)
        database_name = self.get("aurora", "database_name", str)
        username = self.get("aurora", "master_username", str)
        pi_retention = self.get("aurora", "performance_insights_retention_days", int)
        window = self.get("aurora", "preferred_backup_window", str)
        self.check(
            bool(re.fullmatch(r"15\.\d+", engine_version)),
            f"aurora.engine_version: {engine_version!r} must be an Aurora PostgreSQL 15.x version, e.g. '15.10'",
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
        self.check(
            bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", username))
            and username.lower() not in ("postgres", "admin", "rdsadmin"),
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

    def _dms(self, profile: str) -> DmsConfig:
        preset = defaults.PROFILES.get(profile, defaults.PROFILES["dev"])
        version = self.get("dms", "engine_version", str)
        instance_class = self.get("dms", "instance_class", str, preset.dms_instance_class)
        storage = self.get("dms", "allocated_storage_gb", int)
        multi_az = self.get("dms", "multi_az", bool, preset.dms_multi_az)
        log_retention = self.get("dms", "log_retention_days", int, preset.log_retention_days)
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
        self.check(bool(tasks_raw), "dms.tasks: define at least one task, e.g. [dms.tasks.main]")
        tasks: dict[str, DmsTaskConfig] = {}
        for key, body in tasks_raw.items():
            task = self._task(str(key), body)
            if task is not None:
                tasks[task.key] = task
        return DmsConfig(version, instance_class, storage, multi_az, log_retention, tasks)

    def _task(self, key: str, body: Any) -> DmsTaskConfig | None:
        where = f"dms.tasks.{key}"
        if not isinstance(body, dict):
            self.problems.append(f"{where}: must be a table with migration_type, table_mappings_file, settings_file")
            return None
        self.check(
            bool(re.fullmatch(r"[a-z][a-z0-9-]{0,30}", key)),
            f"{where}: task key {key!r} must be lowercase letters, digits and '-' (it names the DMS task)",
        )
        unknown = set(body) - set(defaults.TASK_FIELDS)
        for name in sorted(unknown):
            self.problems.append(f"{where}.{name}: unknown field; allowed fields are {sorted(defaults.TASK_FIELDS)}")
        migration_type = body.get("migration_type", defaults.TASK_FIELDS["migration_type"])
        self.check(
            migration_type in defaults.MIGRATION_TYPES,
            f"{where}.migration_type: {migration_type!r} must be one of {list(defaults.MIGRATION_TYPES)}",
        )
        mappings = self._json_file(
            f"{where}.table_mappings_file", body.get("table_mappings_file", defaults.TASK_FIELDS["table_mappings_file"])
        )
        settings = self._json_file(f"{where}.settings_file", body.get("settings_file", defaults.TASK_FIELDS["settings_file"]))
        if mappings is not None:
            rules = mappings.get("rules") if isinstance(mappings, dict) else None
            self.check(
                isinstance(rules, list) and any(isinstance(r, dict) and r.get("rule-type") == "selection" for r in rules),
                f"{where}.table_mappings_file: needs a 'rules' list with at least one 'selection' rule",
            )
        if settings is not None:
            self._check_task_settings(where, settings)
        if mappings is None or settings is None:
            return None
        return DmsTaskConfig(
            key, str(migration_type), normalize_json(mappings), normalize_json(_strip_managed_settings(settings))
        )

    def _check_task_settings(self, where: str, settings: Any) -> None:
        if not isinstance(settings, dict):
            self.problems.append(f"{where}.settings_file: must hold a JSON object of DMS task settings")
            return
        logging = settings.get("Logging", {})
        self.check(
            isinstance(logging, dict) and logging.get("EnableLogging") is True,
            f"{where}.settings_file: Logging.EnableLogging must be true (task logs are how failures are diagnosed)",
        )
        validation = settings.get("ValidationSettings", {})
        self.check(
            isinstance(validation, dict) and validation.get("EnableValidation") is True,
            f"{where}.settings_file: ValidationSettings.EnableValidation must be true (row validation gates the cutover)",
        )
        target = settings.get("TargetMetadata", {})
        if isinstance(target, dict) and target.get("SupportLobs") and target.get("LimitedSizeLobMode"):
            errors = settings.get("ErrorBehavior", {})
            self.check(
                isinstance(errors, dict) and errors.get("DataTruncationErrorPolicy") in ("STOP_TASK", "SUSPEND_TABLE"),
                f"{where}.settings_file: limited-size LOB mode truncates silently; set "
                "ErrorBehavior.DataTruncationErrorPolicy to 'STOP_TASK' or 'SUSPEND_TABLE'",
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

    def _cutover(self, dms: DmsConfig) -> CutoverConfig:
        domain = self.get("cutover", "domain", str)
        zone_id = self.get("cutover", "hosted_zone_id", str)
        task_key = self.get("cutover", "task_key", str)
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
        self.check(
            1 <= drain_poll <= drain_timeout <= 840,
            f"cutover.drain_timeout_seconds: {drain_timeout} must be >= drain_poll_seconds ({drain_poll}) and <= 840 "
            "(it runs inside one Lambda invocation of at most 900 s)",
        )
        self.check(1 <= rate <= 60, f"cutover.schedule_rate_minutes: {rate} must be 1..60")
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
        )

    def _observability(self) -> ObservabilityConfig:
        email = self.get("observability", "alarm_email", str)
        latency = self.get("observability", "cdc_latency_alarm_seconds", int)
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
        self.check(1 <= cpu <= 100, f"observability.aurora_cpu_max_percent: {cpu} must be 1..100")
        self.check(connections >= 1, f"observability.aurora_connections_max: {connections} must be >= 1")
        self.check(errors >= 0, f"observability.cutover_errors_max: {errors} must be >= 0")
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

    def _cross_checks(self, network: NetworkConfig, source: SourceConfig, aurora: AuroraConfig) -> None:
        vpc = _network_or_none(network.vpc_cidr)
        if vpc is None:
            return
        for index, cidr in enumerate(source.cidr_blocks):
            net = _network_or_none(cidr)
            if net is not None and net.overlaps(vpc):
                self.problems.append(
                    f"source.cidr_blocks[{index}]: {cidr} overlaps network.vpc_cidr {network.vpc_cidr}; "
                    "routing to the source would break — pick a VPC CIDR that does not overlap on-premises"
                )


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


def _network_or_none(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        return None


_ZEROS: dict[type, Callable[[], Any]] = {str: str, int: int, float: float, bool: bool, list: list, dict: dict}


def _zero(kind: type[T]) -> T:
    return _ZEROS[kind]()  # type: ignore[no-any-return]
