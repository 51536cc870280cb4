"""The cutover gates for a DMS Serverless replication: the same gates, read from its own signals.

moto has no DMS replication configs, so the DMS adapter is checked with botocore's Stubber (which
validates every request and response against the service model); CloudWatch runs in moto.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from tap_cutover.aws import (
    CloudWatchMetrics,
    DmsServerlessReplication,
    DmsTask,
    build_adapters,
    failing_validation,
    parse_replication,
)
from tap_cutover.handler import parse_event
from tap_cutover.logic import GATE_DMS, Observation, TaskObservation, Tick, align, evaluate_gates
from tap_cutover.ports import AwsError
from tap_cutover.settings import Settings

from benchmarks.cutover_fixtures import CUTOVER_ENV, MotoStack, aligned_now, count_calls

ARN = "arn:aws:dms:us-east-1:123456789012:replication-config:tap-migrate-dev-main"
OTHER_ARN = "arn:aws:dms:us-east-1:123456789012:replication-config:someone-else"


def serverless(settings: Settings) -> Settings:
    return replace(settings, dms_replication_arn=ARN, dms_replication_instance_id=None)


# ---------------------------------------------------------------- CloudWatch: series found by value


def put_latency(stack: MotoStack, dims: list[dict[str, str]], at: datetime, source: float, target: float) -> None:
    stack.cloudwatch.put_metric_data(
        Namespace="AWS/DMS",
        MetricData=[
            {"MetricName": name, "Dimensions": dims, "Timestamp": at, "Value": value, "Unit": "Seconds"}
            for name, value in (("CDCLatencySource", source), ("CDCLatencyTarget", target))
        ],
    )


@pytest.mark.parametrize(
    "dims",
    [
        # The shape field reports show: ReplicationConfigId = "<account>:<resource id>".
        [{"Name": "ReplicationConfigId", "Value": "123456789012:tap-migrate-dev-main"}],
        [{"Name": "ReplicationConfigArn", "Value": ARN}],
        [{"Name": "ReplicationConfigIdentifier", "Value": "tap-migrate-dev-main"}],
        [{"Name": "AnyNameAtAll", "Value": "tap-migrate-dev-main"}, {"Name": "Extra", "Value": "x"}],
    ],
    ids=["account-and-resource-id", "arn", "resource-id", "other-dimension-name"],
)
def test_serverless_latency_finds_the_series_naming_this_replication(cutover_aws: MotoStack, dims: list[dict[str, str]]) -> None:
    settings = serverless(cutover_aws.settings)
    now = aligned_now()
    newest = align(now, 60) - timedelta(seconds=60)
    for minutes in range(5):
        put_latency(cutover_aws, dims, newest - timedelta(minutes=minutes), 2.0, 3.0)
    # Another replication's series, under every shape above: never ours.
    put_latency(cutover_aws, [{"Name": "ReplicationConfigArn", "Value": OTHER_ARN}], newest, 999.0, 999.0)
    put_latency(cutover_aws, [{"Name": "ReplicationConfigIdentifier", "Value": "someone-else"}], newest, 999.0, 999.0)
    put_latency(cutover_aws, [{"Name": "ReplicationConfigId", "Value": "123456789012:someone-else"}], newest, 999.0, 999.0)
    other_account = [{"Name": "ReplicationConfigId", "Value": "210987654321:tap-migrate-dev-main"}]
    put_latency(cutover_aws, other_account, newest, 999.0, 999.0)

    source, target = CloudWatchMetrics(cutover_aws.cloudwatch, settings).latency(now)
    assert [p.at for p in source] == [newest - timedelta(minutes=i) for i in range(5)]
    assert {p.value for p in source} == {2.0} and {p.value for p in target} == {3.0}


def test_serverless_latency_takes_the_worst_of_several_series(cutover_aws: MotoStack) -> None:
    settings = serverless(cutover_aws.settings)
    now = aligned_now()
    newest = align(now, 60) - timedelta(seconds=60)
    put_latency(cutover_aws, [{"Name": "ReplicationConfigArn", "Value": ARN}], newest, 1.0, 50.0)
    put_latency(cutover_aws, [{"Name": "ReplicationConfigIdentifier", "Value": "tap-migrate-dev-main"}], newest, 40.0, 2.0)
    source, target = CloudWatchMetrics(cutover_aws.cloudwatch, settings).latency(now)
    assert [(p.at, p.value) for p in source] == [(newest, 40.0)]
    assert [(p.at, p.value) for p in target] == [(newest, 50.0)]


def test_serverless_latency_ignores_task_series_and_is_empty_without_its_own(cutover_aws: MotoStack) -> None:
    """A task's series (the instance-based shape) say nothing about this replication: no data, red gates."""
    now = aligned_now()
    cutover_aws.publish_latency(now - timedelta(minutes=6), now, 0.0, 0.0)
    settings = serverless(cutover_aws.settings)
    assert CloudWatchMetrics(cutover_aws.cloudwatch, settings).latency(now) == ((), ())
    report = evaluate_gates(settings, Observation(TaskObservation(found=False, serverless=True), (), (), (), "available"), now)
    assert not report.green
    assert {r.name for r in report.red()} >= {"cdc_latency_source", "cdc_latency_target", GATE_DMS}


# ---------------------------------------------------------------- DMS: DescribeReplications + table statistics


@pytest.fixture
def dms_stub() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("dms", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


REPLICATION: dict[str, Any] = {
    "ReplicationConfigIdentifier": "tap-migrate-dev-main",
    "ReplicationConfigArn": ARN,
    "ReplicationType": "full-load-and-cdc",
    "Status": "running",
    "ProvisionData": {"ProvisionState": "provisioned", "ProvisionedCapacityUnits": 4},
    "ReplicationStats": {
        "FullLoadProgressPercent": 100,
        "TablesLoaded": 12,
        "TablesErrored": 0,
        "FullLoadFinishDate": datetime(2030, 1, 1, 12, tzinfo=UTC),
    },
}
CLEAN_TABLE: dict[str, Any] = {
    "SchemaName": "public",
    "TableName": "orders",
    "TableState": "Table completed",
    "ValidationState": "Validated",
    "ValidationFailedRecords": 0,
    "ValidationSuspendedRecords": 0,
}
DESCRIBE_PARAMS = {"Filters": [{"Name": "replication-config-arn", "Values": [ARN]}]}


def expect_tables(stub: Stubber, pages: list[list[dict[str, Any]]]) -> None:
    for index, tables in enumerate(pages):
        params: dict[str, Any] = {"ReplicationConfigArn": ARN, "MaxRecords": 500}
        if index:
            params["Marker"] = f"page{index}"
        response: dict[str, Any] = {"ReplicationConfigArn": ARN, "ReplicationTableStatistics": tables}
        if index + 1 < len(pages):
            response["Marker"] = f"page{index + 1}"
        stub.add_response("describe_replication_table_statistics", response, params)


def test_running_replication_with_clean_tables_is_green(cutover_settings: Settings, dms_stub: tuple[Any, Stubber]) -> None:
    client, stub = dms_stub
    stub.add_response("describe_replications", {"Replications": [REPLICATION]}, DESCRIBE_PARAMS)
    expect_tables(stub, [[CLEAN_TABLE], [CLEAN_TABLE]])
    observed = DmsServerlessReplication(client, serverless(cutover_settings)).describe()
    assert observed == TaskObservation(
        found=True,
        status="running",
        migration_type="full-load-and-cdc",
        full_load_percent=100,
        full_load_finished=True,
        tables_errored=0,
        tables_failing_validation=0,
        serverless=True,
    )


def test_a_table_failing_validation_on_a_later_page_is_counted(cutover_settings: Settings, dms_stub: tuple[Any, Stubber]) -> None:
    client, stub = dms_stub
    stub.add_response("describe_replications", {"Replications": [REPLICATION]}, DESCRIBE_PARAMS)
    mismatched = {**CLEAN_TABLE, "TableName": "payments", "ValidationState": "Mismatched records", "ValidationFailedRecords": 3}
    expect_tables(stub, [[CLEAN_TABLE], [mismatched, CLEAN_TABLE]])
    observed = DmsServerlessReplication(client, serverless(cutover_settings)).describe()
    assert observed.tables_failing_validation == 1


def test_missing_replication_is_an_observation_not_an_error(cutover_settings: Settings, dms_stub: tuple[Any, Stubber]) -> None:
    client, stub = dms_stub
    stub.add_client_error("describe_replications", "ResourceNotFoundFault", "not found", expected_params=DESCRIBE_PARAMS)
    stub.add_response("describe_replications", {"Replications": [{**REPLICATION, "ReplicationConfigArn": OTHER_ARN}]})
    adapter = DmsServerlessReplication(client, serverless(cutover_settings))
    assert adapter.describe() == TaskObservation(found=False, serverless=True)
    assert adapter.describe() == TaskObservation(found=False, serverless=True)


def test_other_dms_errors_propagate_as_aws_errors(cutover_settings: Settings, dms_stub: tuple[Any, Stubber]) -> None:
    client, stub = dms_stub
    stub.add_client_error("describe_replications", "AccessDeniedFault", "no", expected_params=DESCRIBE_PARAMS)
    with pytest.raises(AwsError, match="dms DescribeReplications failed: AccessDeniedFault"):
        DmsServerlessReplication(client, serverless(cutover_settings)).describe()


@pytest.mark.parametrize(
    ("table", "failing"),
    [
        (CLEAN_TABLE, False),
        ({**CLEAN_TABLE, "ValidationState": "Pending records"}, False),
        ({**CLEAN_TABLE, "ValidationState": "Not enabled"}, False),
        ({**CLEAN_TABLE, "ValidationFailedRecords": 1}, True),
        ({**CLEAN_TABLE, "ValidationSuspendedRecords": 2}, True),
        ({**CLEAN_TABLE, "ValidationState": "Suspended records"}, True),
        ({**CLEAN_TABLE, "ValidationState": "Error"}, True),
    ],
)
def test_failing_validation(table: dict[str, Any], failing: bool) -> None:
    assert failing_validation(table) is failing


# ---------------------------------------------------------------- the DMS gate on a Serverless observation


def gate(observation: TaskObservation) -> tuple[bool, str]:
    settings = serverless(Settings.from_env(CUTOVER_ENV))
    report = evaluate_gates(settings, Observation(observation, (), (), (), "available"), datetime(2030, 1, 1, tzinfo=UTC))
    (result,) = (r for r in report.results if r.name == GATE_DMS)
    return result.green, result.value


def test_dms_gate_green_for_a_caught_up_serverless_replication() -> None:
    green, value = gate(parse_replication(REPLICATION, 0))
    assert green
    assert value == "Serverless replication running, full load 100%, 0 table(s) errored, 0 table(s) failing validation"


@pytest.mark.parametrize(
    ("change", "failing_tables"),
    [
        ({"Status": "stopped"}, 0),
        ({"Status": "failed"}, 0),
        ({"ReplicationStats": {"FullLoadProgressPercent": 60, "TablesErrored": 0}}, 0),
        ({"ReplicationStats": {**REPLICATION["ReplicationStats"], "TablesErrored": 1}}, 0),
        ({}, 2),
    ],
    ids=["stopped", "failed", "loading", "table-errored", "validation"],
)
def test_dms_gate_red_for_a_serverless_replication_not_ready(change: dict[str, Any], failing_tables: int) -> None:
    green, _ = gate(parse_replication({**REPLICATION, **change}, failing_tables))
    assert not green


def test_a_task_observation_does_not_claim_to_have_read_validation() -> None:
    green, value = gate(TaskObservation(found=True, status="running", migration_type="cdc"))
    assert green and "validation" not in value and value.startswith("replication task running")


def test_build_adapters_picks_the_serverless_adapter(cutover_aws: MotoStack) -> None:
    assert isinstance(build_adapters(serverless(cutover_aws.settings)).task, DmsServerlessReplication)
    assert isinstance(build_adapters(cutover_aws.settings).task, DmsTask)


def test_a_serverless_state_change_event_is_a_tick() -> None:
    """The shape DMS Serverless sends for a replication config (field-captured), here a failure."""
    event = {
        "version": "0",
        "id": "0b5f0c1e-0000-0000-0000-000000000000",
        "detail-type": "DMS Replication State Change",
        "source": "aws.dms",
        "account": "123456789012",
        "time": "2030-01-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [ARN],
        "detail": {
            "type": "REPLICATION_CONFIG",
            "category": "StateChange",
            "eventType": "REPLICATION_FAILED",
            "detailMessage": "Replication with resource id, 'tap-migrate-dev-main', failed.",
        },
    }
    tick = parse_event(event, ARN)
    assert tick == Tick(
        "dms_event",
        "DMS Replication State Change: REPLICATION_FAILED Replication with resource id, 'tap-migrate-dev-main', failed.",
    )


def test_found_series_are_kept_and_an_empty_search_is_repeated(cutover_aws: MotoStack) -> None:
    """A warm container lists metrics once; until the replication publishes, every tick looks again."""
    settings = serverless(cutover_aws.settings)
    metrics = CloudWatchMetrics(cutover_aws.cloudwatch, settings)
    lists = count_calls(cutover_aws.cloudwatch, "ListMetrics")
    now = aligned_now()
    assert metrics.latency(now) == ((), ())
    assert len(lists) == 2  # nothing found: not kept
    newest = align(now, 60) - timedelta(seconds=60)
    put_latency(cutover_aws, [{"Name": "ReplicationConfigId", "Value": "123456789012:tap-migrate-dev-main"}], newest, 1.0, 1.0)
    assert metrics.latency(now) != ((), ())
    assert metrics.latency(now) != ((), ())
    assert len(lists) == 4  # found on the second tick, reused on the third
