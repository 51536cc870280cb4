from __future__ import annotations

import dataclasses

import pytest
from tap_cutover.settings import ENV_VARS, Settings, SettingsError


def test_reads_every_variable(cutover_env: dict[str, str]) -> None:
    s = Settings.from_env(cutover_env)
    assert s.read_steps == (10, 25, 50, 100)
    assert s.record_ttl == 60 and s.cutover_ttl == 5
    assert s.latency_threshold_seconds == 30.0 and s.drain_threshold_seconds == 1.0
    assert s.reader_record_name == "reader.db.example.internal"
    assert s.lock_ttl_seconds == 720


def test_is_frozen(cutover_settings: Settings) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        cutover_settings.record_ttl = 1  # type: ignore[misc]


def test_task_resource_id_is_last_arn_part(cutover_settings: Settings) -> None:
    assert cutover_settings.dms_resource_id == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_round_trips_through_to_env(cutover_settings: Settings) -> None:
    assert Settings.from_env(cutover_settings.to_env()) == cutover_settings


SERVERLESS_ARN = "arn:aws:dms:us-east-1:123456789012:replication-config:tap-migrate-dev-main"


def _serverless_env(cutover_env: dict[str, str]) -> dict[str, str]:
    env = {**cutover_env, "DMS_REPLICATION_ARN": SERVERLESS_ARN}
    del env["DMS_REPLICATION_INSTANCE_ID"]
    return env


def test_a_task_arn_means_instance_based_dms(cutover_settings: Settings) -> None:
    assert not cutover_settings.dms_serverless
    assert cutover_settings.dms_replication_instance_id == "tap-migrate-dev"


def test_a_replication_config_arn_means_serverless_without_an_instance(cutover_env: dict[str, str]) -> None:
    s = Settings.from_env(_serverless_env(cutover_env))
    assert s.dms_serverless
    assert s.dms_replication_instance_id is None
    assert s.dms_resource_id == "tap-migrate-dev-main"
    # The instance id is left out of the environment, not written as an empty or "None" value.
    assert "DMS_REPLICATION_INSTANCE_ID" not in s.to_env()
    assert Settings.from_env(s.to_env()) == s


def test_serverless_refuses_an_instance_id(cutover_env: dict[str, str]) -> None:
    env = {**_serverless_env(cutover_env), "DMS_REPLICATION_INSTANCE_ID": "tap-migrate-dev"}
    with pytest.raises(SettingsError, match=r"DMS_REPLICATION_INSTANCE_ID.*must not be set.*Serverless"):
        Settings.from_env(env)


REVERSE_TASK_ARN = "arn:aws:dms:us-east-1:123456789012:task:REVERSE0123456789"


def test_a_reverse_replication_is_optional_and_round_trips(cutover_env: dict[str, str], cutover_settings: Settings) -> None:
    assert cutover_settings.dms_reverse_replication_arn is None
    assert "DMS_REVERSE_REPLICATION_ARN" not in cutover_settings.to_env()
    s = Settings.from_env({**cutover_env, "DMS_REVERSE_REPLICATION_ARN": REVERSE_TASK_ARN})
    assert s.dms_reverse_replication_arn == REVERSE_TASK_ARN
    assert Settings.from_env(s.to_env()) == s


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("reverse-task", "replication config ARN"),
        ("arn:aws:dms:us-east-1:123456789012:replication-config:REV", "same kind as DMS_REPLICATION_ARN"),
        (None, "must differ from DMS_REPLICATION_ARN"),
    ],
)
def test_a_bad_reverse_replication_arn_is_named(cutover_env: dict[str, str], value: str | None, fragment: str) -> None:
    cutover_env["DMS_REVERSE_REPLICATION_ARN"] = value if value is not None else cutover_env["DMS_REPLICATION_ARN"]
    with pytest.raises(SettingsError, match="DMS_REVERSE_REPLICATION_ARN") as info:
        Settings.from_env(cutover_env)
    assert fragment in str(info.value)


def test_normalises_record_names(cutover_env: dict[str, str]) -> None:
    cutover_env["READER_RECORD_NAME"] = "Reader.DB.example.internal."
    cutover_env["HOSTED_ZONE_ID"] = "/hostedzone/Z0123456789ABCDEFGHIJ"
    s = Settings.from_env(cutover_env)
    assert s.reader_record_name == "reader.db.example.internal"
    assert s.hosted_zone_id == "Z0123456789ABCDEFGHIJ"


@pytest.mark.parametrize(
    ("var", "value", "fragment"),
    [
        ("READ_STEPS", "10,25,50", "last step must be 100"),
        ("READ_STEPS", "10,10,100", "strictly increasing"),
        ("READ_STEPS", "50,25,100", "strictly increasing"),
        ("READ_STEPS", "0,100", "between 1 and 100"),
        ("READ_STEPS", "10,x,100", "comma-separated whole numbers"),
        ("READ_STEPS", "", "non-empty"),
        ("RECORD_TTL", "sixty", "whole number"),
        ("RECORD_TTL", "-1", "between 0"),
        ("CUTOVER_TTL", "120", "must not exceed RECORD_TTL"),
        ("LATENCY_PERIODS", "0", "between 1 and 100"),
        ("LATENCY_THRESHOLD_SECONDS", "nan", "finite"),
        ("LATENCY_THRESHOLD_SECONDS", "-3", "finite number >= 0"),
        ("DRAIN_THRESHOLD_SECONDS", "31", "must not exceed LATENCY_THRESHOLD_SECONDS"),
        ("METRIC_PERIOD_SECONDS", "90", "multiple of 60"),
        ("METRIC_PERIOD_SECONDS", "30", "between 60"),
        ("DRAIN_POLL_SECONDS", "0", "between 1 and 900"),
        ("DRAIN_POLL_SECONDS", "601", "must not exceed DRAIN_TIMEOUT_SECONDS"),
        ("DRAIN_TIMEOUT_SECONDS", "901", "between 1 and 900"),
        ("PREFLIGHT_VALID_SECONDS", "30", "between 60 and 86400"),
        ("PREFLIGHT_VALID_SECONDS", "15m", "expected a whole number"),
        ("DMS_REPLICATION_ARN", "task-id", "replication config ARN"),
        ("SNS_TOPIC_ARN", "arn:aws:sqs:us-east-1:123456789012:q", "SNS topic ARN"),
        ("HOSTED_ZONE_ID", "zone", "hosted zone id"),
        ("WRITER_RECORD_NAME", "reader.db.example.internal", "must differ from READER_RECORD_NAME"),
        ("LOCK_PARAMETER_NAME", "/tap-migrate/dev/cutover/state", "must differ from STATE_PARAMETER_NAME"),
        ("SOURCE_HOST", "not a host", "DNS name"),
        ("AURORA_CLUSTER_ID", "1bad", "DB cluster identifier"),
    ],
)
def test_rejects_bad_values_naming_variable_and_value(cutover_env: dict[str, str], var: str, value: str, fragment: str) -> None:
    cutover_env[var] = value
    with pytest.raises(SettingsError) as info:
        Settings.from_env(cutover_env)
    message = str(info.value)
    assert var in message
    assert fragment in message
    if value:
        assert repr(value) in message


OPTIONAL_VARS = frozenset({"DMS_REVERSE_REPLICATION_ARN"})


@pytest.mark.parametrize("var", [var for _, var in ENV_VARS if var not in OPTIONAL_VARS])
def test_every_variable_is_required(cutover_env: dict[str, str], var: str) -> None:
    del cutover_env[var]
    with pytest.raises(SettingsError, match=f"{var} is not set"):
        Settings.from_env(cutover_env)


def test_env_names_match_the_stack_contract() -> None:
    """The stack writes lib.constants.CutoverEnv; the Lambda must read exactly those names."""
    from lib.constants import CutoverEnv

    stack_names = {value for key, value in vars(CutoverEnv).items() if key.isupper()}
    assert stack_names == {var for _, var in ENV_VARS}
