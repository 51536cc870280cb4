"""The CloudWatch reads follow botocore's paginators: later pages count, and a read stops as soon as it can.

botocore's Stubber checks every request (including the NextToken passed on) against the service model.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from tap_cutover.aws import CloudWatchAlarms, CloudWatchMetrics
from tap_cutover.ports import AwsError
from tap_cutover.settings import Settings


@pytest.fixture
def cloudwatch() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def alarm(name: str) -> dict[str, Any]:
    return {"AlarmName": name, "StateValue": "ALARM"}


def expect_alarm_pages(stub: Stubber, prefix: str, pages: list[list[dict[str, Any]]]) -> None:
    for index, alarms in enumerate(pages):
        params: dict[str, Any] = {
            "AlarmNamePrefix": prefix,
            "StateValue": "ALARM",
            "AlarmTypes": ["MetricAlarm"],
            "MaxRecords": 100,
        }
        if index:
            params["NextToken"] = f"t{index}"
        response: dict[str, Any] = {"MetricAlarms": alarms}
        if index + 1 < len(pages):
            response["NextToken"] = f"t{index + 1}"
        stub.add_response("describe_alarms", response, params)


def test_an_alarm_on_a_later_page_is_found(cutover_settings: Settings, cloudwatch: tuple[Any, Stubber]) -> None:
    client, stub = cloudwatch
    prefix = cutover_settings.alarm_name_prefix
    expect_alarm_pages(stub, prefix, [[], [], [alarm(f"{prefix}lag")]])
    assert CloudWatchAlarms(client, cutover_settings).in_alarm() == (f"{prefix}lag",)


def test_the_first_red_alarm_ends_the_read(cutover_settings: Settings, cloudwatch: tuple[Any, Stubber]) -> None:
    client, stub = cloudwatch
    prefix = cutover_settings.alarm_name_prefix
    # Only the first page is stubbed: a second DescribeAlarms call would fail the Stubber.
    stub.add_response(
        "describe_alarms",
        {"MetricAlarms": [alarm(f"{prefix}a"), {"AlarmName": "someone-else", "StateValue": "ALARM"}], "NextToken": "t1"},
        {"AlarmNamePrefix": prefix, "StateValue": "ALARM", "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100},
    )
    assert CloudWatchAlarms(client, cutover_settings).in_alarm() == (f"{prefix}a",)


def test_a_failing_page_is_an_aws_error(cutover_settings: Settings, cloudwatch: tuple[Any, Stubber]) -> None:
    client, stub = cloudwatch
    prefix = cutover_settings.alarm_name_prefix
    # The first page answers, the second is throttled: the read fails as a whole, never half-read.
    stub.add_response(
        "describe_alarms",
        {"MetricAlarms": [], "NextToken": "t1"},
        {"AlarmNamePrefix": prefix, "StateValue": "ALARM", "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100},
    )
    stub.add_client_error("describe_alarms", service_error_code="Throttling", http_status_code=400)
    with pytest.raises(AwsError) as caught:
        CloudWatchAlarms(client, cutover_settings).in_alarm()
    assert (caught.value.service, caught.value.operation, caught.value.code) == ("cloudwatch", "DescribeAlarms", "Throttling")


def test_latency_datapoints_on_every_page_are_merged(cutover_settings: Settings, cloudwatch: tuple[Any, Stubber]) -> None:
    client, stub = cloudwatch
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    first, second = now - timedelta(minutes=1), now - timedelta(minutes=2)
    page1 = {
        "MetricDataResults": [
            {"Id": "source0", "Timestamps": [first], "Values": [1.0]},
            {"Id": "target0", "Timestamps": [first], "Values": [2.0]},
        ],
        "NextToken": "more",
    }
    page2 = {
        "MetricDataResults": [
            {"Id": "source0", "Timestamps": [second], "Values": [3.0]},
            {"Id": "target0", "Timestamps": [second], "Values": [4.0]},
        ]
    }
    request = {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampDescending"}
    stub.add_response("get_metric_data", page1, request)
    stub.add_response("get_metric_data", page2, {**request, "NextToken": "more"})
    source, target = CloudWatchMetrics(client, cutover_settings).latency(now)
    assert [(p.at, p.value) for p in source] == [(first, 1.0), (second, 3.0)]
    assert [(p.at, p.value) for p in target] == [(first, 2.0), (second, 4.0)]
