"""Configuration of the cutover Lambda, read once from its environment.

The stack sets exactly the variables in ``ENV_VARS``; every one is required so that a
typo in the stack fails loudly at the first invocation instead of silently using a default.
Two exceptions: a DMS Serverless replication has no replication instance, so
``DMS_REPLICATION_INSTANCE_ID`` must then be absent; and ``DMS_REVERSE_REPLICATION_ARN`` is set
only when the stack builds a reverse (Aurora -> source) replication of the same kind.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

# CloudWatch publishes a period's datapoint some time after the period ends; the newest
# datapoint may be this many periods behind the last complete period before it counts as
# missing (and therefore red).
LATENCY_GRACE_PERIODS = 2

# Route 53 TTL bounds (seconds).
_MAX_TTL = 2_147_483_647
# A Lambda invocation lasts at most 15 minutes, and the drain loop runs inside one.
_MAX_DRAIN_TIMEOUT = 900

_FQDN = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9_-]{1,63}$")
_ZONE_ID = re.compile(r"^[A-Z0-9]{1,32}$")
# A replication task (instance-based DMS) or a replication config (DMS Serverless).
_REPLICATION_ARN = re.compile(r"^arn:aws[a-z-]*:dms:[a-z0-9-]+:\d{12}:(task|replication-config):([A-Za-z0-9-]+)$")
SERVERLESS_RESOURCE_TYPE = "replication-config"
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$")
_SSM_NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]{1,1010}$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,254}$")


class SettingsError(ValueError):
    """The Lambda environment is missing a variable or holds a bad value."""


ENV_VARS: tuple[tuple[str, str], ...] = (
    ("state_parameter_name", "STATE_PARAMETER_NAME"),
    ("lock_parameter_name", "LOCK_PARAMETER_NAME"),
    ("hosted_zone_id", "HOSTED_ZONE_ID"),
    ("reader_record_name", "READER_RECORD_NAME"),
    ("writer_record_name", "WRITER_RECORD_NAME"),
    ("source_host", "SOURCE_HOST"),
    ("aurora_reader_endpoint", "AURORA_READER_ENDPOINT"),
    ("aurora_writer_endpoint", "AURORA_WRITER_ENDPOINT"),
    ("record_ttl", "RECORD_TTL"),
    ("cutover_ttl", "CUTOVER_TTL"),
    ("dms_replication_arn", "DMS_REPLICATION_ARN"),
    ("dms_replication_instance_id", "DMS_REPLICATION_INSTANCE_ID"),
    ("dms_reverse_replication_arn", "DMS_REVERSE_REPLICATION_ARN"),
    ("aurora_cluster_id", "AURORA_CLUSTER_ID"),
    ("sns_topic_arn", "SNS_TOPIC_ARN"),
    ("alarm_name_prefix", "ALARM_NAME_PREFIX"),
    ("read_steps", "READ_STEPS"),
    ("step_hold_seconds", "STEP_HOLD_SECONDS"),
    ("latency_threshold_seconds", "LATENCY_THRESHOLD_SECONDS"),
    ("latency_periods", "LATENCY_PERIODS"),
    ("metric_period_seconds", "METRIC_PERIOD_SECONDS"),
    ("drain_threshold_seconds", "DRAIN_THRESHOLD_SECONDS"),
    ("drain_timeout_seconds", "DRAIN_TIMEOUT_SECONDS"),
    ("drain_poll_seconds", "DRAIN_POLL_SECONDS"),
    ("lock_ttl_seconds", "LOCK_TTL_SECONDS"),
    ("preflight_valid_seconds", "PREFLIGHT_VALID_SECONDS"),
)


def _bad(var: str, value: str, why: str) -> SettingsError:
    return SettingsError(f"environment variable {var}={value!r} is invalid: {why}")


def _text(env: Mapping[str, str], var: str) -> str:
    value = env.get(var)
    if value is None:
        raise SettingsError(f"environment variable {var} is not set")
    if not isinstance(value, str) or not value.strip():
        raise _bad(var, str(value), "must be a non-empty string")
    return value.strip()


def _match(env: Mapping[str, str], var: str, pattern: re.Pattern[str], what: str) -> str:
    value = _text(env, var)
    if not pattern.match(value):
        raise _bad(var, value, f"expected {what}")
    return value


def _int(env: Mapping[str, str], var: str, low: int, high: int) -> int:
    raw = _text(env, var)
    try:
        value = int(raw, 10)
    except ValueError:
        raise _bad(var, raw, "expected a whole number") from None
    if not low <= value <= high:
        raise _bad(var, raw, f"must be between {low} and {high}")
    return value


def _seconds(env: Mapping[str, str], var: str) -> float:
    raw = _text(env, var)
    try:
        value = float(raw)
    except ValueError:
        raise _bad(var, raw, "expected a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise _bad(var, raw, "must be a finite number >= 0")
    return value


def _is_serverless(replication_arn: str) -> bool:
    """A replication config ARN (DMS Serverless) rather than a task ARN; the ARN is already validated."""
    return replication_arn.split(":")[5] == SERVERLESS_RESOURCE_TYPE


def _instance_id(env: Mapping[str, str], replication_arn: str) -> str | None:
    """Required beside a task ARN; refused beside a replication config ARN (Serverless has no instance)."""
    if not _is_serverless(replication_arn):
        return _match(env, "DMS_REPLICATION_INSTANCE_ID", _IDENTIFIER, "a replication instance identifier")
    if "DMS_REPLICATION_INSTANCE_ID" in env:
        raise _bad(
            "DMS_REPLICATION_INSTANCE_ID",
            str(env["DMS_REPLICATION_INSTANCE_ID"]),
            "must not be set when DMS_REPLICATION_ARN is a Serverless replication config (it has no instance)",
        )
    return None


def _reverse_arn(env: Mapping[str, str], replication_arn: str) -> str | None:
    """Optional; when set, a task beside a task or a replication config beside a replication config."""
    if "DMS_REVERSE_REPLICATION_ARN" not in env:
        return None
    value = _match(env, "DMS_REVERSE_REPLICATION_ARN", _REPLICATION_ARN, "a DMS task or Serverless replication config ARN")
    if value == replication_arn:
        raise _bad("DMS_REVERSE_REPLICATION_ARN", value, "must differ from DMS_REPLICATION_ARN")
    if _is_serverless(value) != _is_serverless(replication_arn):
        raise _bad(
            "DMS_REVERSE_REPLICATION_ARN",
            value,
            "must be of the same kind as DMS_REPLICATION_ARN (both tasks, or both Serverless replication configs)",
        )
    return value


def _fqdn(env: Mapping[str, str], var: str) -> str:
    raw = _text(env, var)
    # Route 53 answers with lower-case names and a trailing dot; compare in that form.
    value = raw.lower().rstrip(".")
    if not _FQDN.match(value):
        raise _bad(var, raw, "expected a DNS name such as reader.db.example.internal")
    return value


def _steps(env: Mapping[str, str], var: str) -> tuple[int, ...]:
    raw = _text(env, var)
    try:
        steps = tuple(int(part.strip(), 10) for part in raw.split(","))
    except ValueError:
        raise _bad(var, raw, "expected comma-separated whole numbers, e.g. 10,25,50,100") from None
    if any(step < 1 or step > 100 for step in steps):
        raise _bad(var, raw, "every step must be a percentage between 1 and 100")
    if any(b <= a for a, b in itertools.pairwise(steps)):
        raise _bad(var, raw, "steps must be strictly increasing")
    if steps[-1] != 100:
        raise _bad(var, raw, "the last step must be 100")
    return steps


@dataclass(frozen=True)
class Settings:
    state_parameter_name: str
    lock_parameter_name: str
    hosted_zone_id: str
    reader_record_name: str
    writer_record_name: str
    source_host: str
    aurora_reader_endpoint: str
    aurora_writer_endpoint: str
    record_ttl: int
    cutover_ttl: int
    dms_replication_arn: str
    dms_replication_instance_id: str | None  # None: DMS Serverless (no instance)
    dms_reverse_replication_arn: str | None  # None: no reverse replication (cutover.reverse_replication off)
    aurora_cluster_id: str
    sns_topic_arn: str
    alarm_name_prefix: str
    read_steps: tuple[int, ...]
    step_hold_seconds: int
    latency_threshold_seconds: float
    latency_periods: int
    metric_period_seconds: int
    drain_threshold_seconds: float
    drain_timeout_seconds: int
    drain_poll_seconds: int
    lock_ttl_seconds: int
    # A passed preflight starts the cutover only this long after it was recorded (cutover.preflight_valid_minutes).
    preflight_valid_seconds: int

    @property
    def dms_resource_id(self) -> str:
        """The ARN's resource id (CloudWatch's ReplicationTaskIdentifier for a task), not the user name."""
        return self.dms_replication_arn.rsplit(":", 1)[1]

    @property
    def dms_serverless(self) -> bool:
        """True when the gates watch a DMS Serverless replication config instead of a task."""
        return _is_serverless(self.dms_replication_arn)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        zone = _text(env, "HOSTED_ZONE_ID")
        zone_id = zone.removeprefix("/hostedzone/")
        if not _ZONE_ID.match(zone_id):
            raise _bad("HOSTED_ZONE_ID", zone, "expected a Route 53 hosted zone id such as Z0123ABC")
        replication_arn = _match(
            env,
            "DMS_REPLICATION_ARN",
            _REPLICATION_ARN,
            "a DMS task or Serverless replication config ARN (arn:aws:dms:<region>:<account>:task:<id> "
            "or ...:replication-config:<id>)",
        )
        settings = cls(
            state_parameter_name=_match(env, "STATE_PARAMETER_NAME", _SSM_NAME, "an SSM parameter name"),
            lock_parameter_name=_match(env, "LOCK_PARAMETER_NAME", _SSM_NAME, "an SSM parameter name"),
            hosted_zone_id=zone_id,
            reader_record_name=_fqdn(env, "READER_RECORD_NAME"),
            writer_record_name=_fqdn(env, "WRITER_RECORD_NAME"),
            source_host=_fqdn(env, "SOURCE_HOST"),
            aurora_reader_endpoint=_fqdn(env, "AURORA_READER_ENDPOINT"),
            aurora_writer_endpoint=_fqdn(env, "AURORA_WRITER_ENDPOINT"),
            record_ttl=_int(env, "RECORD_TTL", 0, _MAX_TTL),
            cutover_ttl=_int(env, "CUTOVER_TTL", 0, _MAX_TTL),
            dms_replication_arn=replication_arn,
            dms_replication_instance_id=_instance_id(env, replication_arn),
            dms_reverse_replication_arn=_reverse_arn(env, replication_arn),
            aurora_cluster_id=_match(env, "AURORA_CLUSTER_ID", _IDENTIFIER, "a DB cluster identifier"),
            sns_topic_arn=_match(env, "SNS_TOPIC_ARN", _TOPIC_ARN, "an SNS topic ARN"),
            alarm_name_prefix=_text(env, "ALARM_NAME_PREFIX"),
            read_steps=_steps(env, "READ_STEPS"),
            step_hold_seconds=_int(env, "STEP_HOLD_SECONDS", 0, 7 * 24 * 3600),
            latency_threshold_seconds=_seconds(env, "LATENCY_THRESHOLD_SECONDS"),
            latency_periods=_int(env, "LATENCY_PERIODS", 1, 100),
            metric_period_seconds=_int(env, "METRIC_PERIOD_SECONDS", 60, 86_400),
            drain_threshold_seconds=_seconds(env, "DRAIN_THRESHOLD_SECONDS"),
            drain_timeout_seconds=_int(env, "DRAIN_TIMEOUT_SECONDS", 1, _MAX_DRAIN_TIMEOUT),
            drain_poll_seconds=_int(env, "DRAIN_POLL_SECONDS", 1, _MAX_DRAIN_TIMEOUT),
            lock_ttl_seconds=_int(env, "LOCK_TTL_SECONDS", 1, 86_400),
            preflight_valid_seconds=_int(env, "PREFLIGHT_VALID_SECONDS", 60, 86_400),
        )
        settings._check_relations(env)
        return settings

    def _check_relations(self, env: Mapping[str, str]) -> None:
        def bad(var: str, why: str) -> SettingsError:
            return _bad(var, env[var], why)

        # AWS/DMS metrics are standard resolution: sub-minute or ragged periods never hold data.
        if self.metric_period_seconds % 60:
            raise bad("METRIC_PERIOD_SECONDS", "must be a multiple of 60 (AWS/DMS metrics are per minute)")
        if self.cutover_ttl > self.record_ttl:
            raise bad("CUTOVER_TTL", f"must not exceed RECORD_TTL ({self.record_ttl})")
        if self.drain_threshold_seconds > self.latency_threshold_seconds:
            raise bad(
                "DRAIN_THRESHOLD_SECONDS",
                f"must not exceed LATENCY_THRESHOLD_SECONDS ({self.latency_threshold_seconds:g})",
            )
        if self.drain_poll_seconds > self.drain_timeout_seconds:
            raise bad("DRAIN_POLL_SECONDS", f"must not exceed DRAIN_TIMEOUT_SECONDS ({self.drain_timeout_seconds})")
        if self.reader_record_name == self.writer_record_name:
            raise bad("WRITER_RECORD_NAME", "must differ from READER_RECORD_NAME")
        if self.state_parameter_name == self.lock_parameter_name:
            raise bad("LOCK_PARAMETER_NAME", "must differ from STATE_PARAMETER_NAME")

    def to_env(self) -> dict[str, str]:
        """The environment that ``from_env`` turns back into these settings."""
        out: dict[str, str] = {}
        for field_name, var in ENV_VARS:
            value = getattr(self, field_name)
            if value is None:
                continue  # the instance id of a Serverless replication, an absent reverse replication
            if isinstance(value, tuple):
                out[var] = ",".join(str(v) for v in value)
            elif isinstance(value, float):
                out[var] = repr(value)
            else:
                out[var] = str(value)
        return out


# Keep ENV_VARS and the dataclass in lock-step; a mismatch is a programming error.
assert tuple(name for name, _ in ENV_VARS) == tuple(f.name for f in fields(Settings))
