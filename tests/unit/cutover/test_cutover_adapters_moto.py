"""Each boto3 adapter against moto's mock_aws."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from tap_cutover.aws import (
    CloudWatchAlarms,
    CloudWatchMetrics,
    DmsTask,
    RdsCluster,
    Route53Records,
    SnsNotifier,
    SsmParameters,
    build_adapters,
    parse_task,
)
from tap_cutover.logic import Notification, PairChange, TaskObservation, align
from tap_cutover.ports import AwsError

from benchmarks.cutover_fixtures import MotoStack, aligned_now, count_calls


def test_route53_weighted_upserts_in_one_batch(cutover_aws: MotoStack) -> None:
    records = Route53Records(cutover_aws.route53, cutover_aws.settings)
    before = records.read()
    assert before["reader"].records["source"].weight == 100 and before["reader"].records["aurora"].weight == 0
    assert before["reader"].records["aurora"].target == cutover_aws.settings.aurora_reader_endpoint

    batches = count_calls(cutover_aws.route53, "ChangeResourceRecordSets")
    records.apply([PairChange("reader", 25, 5), PairChange("writer", 0, 5)])
    assert len(batches) == 1, "every changed pair goes in one atomic change batch"
    assert len(batches[0]["ChangeBatch"]["Changes"]) == 4

    assert cutover_aws.weights() == {
        "reader": {"source": (75, 5), "aurora": (25, 5)},
        "writer": {"source": (100, 5), "aurora": (0, 5)},
    }
    after = records.read()
    assert after["writer"].records["source"].target == cutover_aws.settings.source_host
    records.apply([PairChange("writer", 100, 5)])
    assert cutover_aws.weights()["writer"] == {"source": (0, 5), "aurora": (100, 5)}
    assert cutover_aws.weights()["reader"] == {"source": (75, 5), "aurora": (25, 5)}


def test_route53_errors_become_aws_errors(cutover_aws: MotoStack) -> None:
    wrong_zone = replace(cutover_aws.settings, hosted_zone_id="ZNOSUCHZONE")
    with pytest.raises(AwsError) as info:
        Route53Records(cutover_aws.route53, wrong_zone).apply([PairChange("reader", 10, 60)])
    assert info.value.code == "NoSuchHostedZone"
    assert cutover_aws.weights()["reader"]["aurora"] == (0, 60)


def test_ssm_state_and_lock_compare_and_set(cutover_aws: MotoStack) -> None:
    first = SsmParameters(cutover_aws.session.client("ssm"), cutover_aws.settings)
    second = SsmParameters(cutover_aws.session.client("ssm"), cutover_aws.settings)
    assert first.read_state() == '{"version": 1, "phase": "replicating"}'
    first.write_state('{"version": 2, "phase": "replicating"}')
    assert second.read_state() == '{"version": 2, "phase": "replicating"}'

    assert first.read_lock() is None
    wins = [first.acquire_lock('{"holder": "a"}'), second.acquire_lock('{"holder": "b"}')]
    assert wins == [True, False], "exactly one contender takes the lock"
    info = second.read_lock()
    assert info is not None and json.loads(info.value) == {"holder": "a"} and info.modified is not None
    first.overwrite_lock('{"holder": "a", "kept": true}')
    assert second.read_lock() is not None and second.read_lock().kept  # type: ignore[union-attr]
    assert second.release_lock() is True
    assert first.release_lock() is False  # already gone
    assert second.acquire_lock('{"holder": "b"}') is True


def test_ssm_missing_state_is_a_clear_error(cutover_aws: MotoStack) -> None:
    cutover_aws.ssm.delete_parameter(Name=cutover_aws.settings.state_parameter_name)
    with pytest.raises(AwsError) as info:
        SsmParameters(cutover_aws.ssm, cutover_aws.settings).read_state()
    assert info.value.code == "ParameterNotFound"
    assert "ssm GetParameter failed" in str(info.value)


def test_sns_publish_reaches_subscribers(cutover_aws: MotoStack) -> None:
    SnsNotifier(cutover_aws.sns, cutover_aws.settings).publish(
        Notification("alert", "tap-migrate cutover v3: gate_rollback", "ALERT: reads back to 10%")
    )
    [message] = cutover_aws.notifications()
    assert message["Subject"] == "tap-migrate cutover v3: gate_rollback"
    assert message["Message"] == "ALERT: reads back to 10%"


def test_cloudwatch_latency_reads_both_dimensions(cutover_aws: MotoStack) -> None:
    s = cutover_aws.settings
    now = aligned_now()
    newest = align(now, 60) - timedelta(seconds=60)
    cutover_aws.publish_latency(newest - timedelta(minutes=4), newest + timedelta(seconds=60), 2.0, 3.0)
    # Same metric for another task: must not leak into ours.
    cutover_aws.cloudwatch.put_metric_data(
        Namespace="AWS/DMS",
        MetricData=[
            {
                "MetricName": "CDCLatencySource",
                "Dimensions": [
                    {"Name": "ReplicationInstanceIdentifier", "Value": s.dms_replication_instance_id},
                    {"Name": "ReplicationTaskIdentifier", "Value": "OTHERTASK"},
                ],
                "Timestamp": newest,
                "Value": 999.0,
            }
        ],
    )
    source, target = CloudWatchMetrics(cutover_aws.cloudwatch, s).latency(now)
    expected = [newest - timedelta(minutes=i) for i in range(5)]
    assert sorted((p.at for p in source), reverse=True) == expected
    assert {p.value for p in source} == {2.0} and {p.value for p in target} == {3.0}
    assert s.dms_resource_id == s.dms_replication_arn.rsplit(":", 1)[1]


def test_cloudwatch_latency_without_data_is_empty(cutover_aws: MotoStack) -> None:
    source, target = CloudWatchMetrics(cutover_aws.cloudwatch, cutover_aws.settings).latency(aligned_now())
    assert source == () and target == ()


def test_alarms_in_alarm_by_prefix(cutover_aws: MotoStack) -> None:
    cw = cutover_aws.cloudwatch
    for name in ("tap-migrate-dev-errors", "tap-migrate-dev-lag", "someone-else-errors"):
        cw.put_metric_alarm(
            AlarmName=name,
            MetricName="Errors",
            Namespace="AWS/Lambda",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    alarms = CloudWatchAlarms(cw, cutover_aws.settings)
    assert alarms.in_alarm() == ()
    cw.set_alarm_state(AlarmName="tap-migrate-dev-lag", StateValue="ALARM", StateReason="test")
    cw.set_alarm_state(AlarmName="someone-else-errors", StateValue="ALARM", StateReason="test")
    assert alarms.in_alarm() == ("tap-migrate-dev-lag",)


def test_dms_task_describe(cutover_aws: MotoStack) -> None:
    task = DmsTask(cutover_aws.dms, cutover_aws.settings)
    created = task.describe()
    assert created.found and created.status != "running"
    cutover_aws.start_task()
    running = task.describe()
    assert running.found and running.status == "running"
    assert running.full_load_percent == 100 and running.migration_type == "full-load-and-cdc"
    other_arn = cutover_aws.settings.dms_replication_arn + "X"
    missing = DmsTask(cutover_aws.dms, replace(cutover_aws.settings, dms_replication_arn=other_arn))
    assert missing.describe().found is False


def test_forward_and_reverse_tasks_are_read_in_one_call(cutover_aws: MotoStack) -> None:
    cutover_aws.start_task()
    reverse_arn = cutover_aws.add_reverse_task()
    task = DmsTask(cutover_aws.dms, cutover_aws.settings)
    calls = count_calls(cutover_aws.dms, "DescribeReplicationTasks")
    forward, reverse = task.describe_all()
    assert len(calls) == 1
    assert forward.status == "running" and reverse is not None and reverse.found and reverse.migration_type == "cdc"
    cutover_aws.dms.start_replication_task(ReplicationTaskArn=reverse_arn, StartReplicationTaskType="start-replication")
    assert task.describe_all()[1] == replace(reverse, status="running")
    gone = DmsTask(cutover_aws.dms, replace(cutover_aws.settings, dms_reverse_replication_arn=reverse_arn + "X"))
    assert gone.describe_all()[1] == TaskObservation(found=False)
    assert DmsTask(cutover_aws.dms, replace(cutover_aws.settings, dms_reverse_replication_arn=None)).describe_all()[1] is None


def test_parse_task_on_a_recorded_aws_response_shape() -> None:
    """Shape of a real DescribeReplicationTasks entry mid full load (moto always reports 100 %)."""
    entry = {
        "ReplicationTaskIdentifier": "tap-migrate-dev-main",
        "ReplicationTaskArn": "arn:aws:dms:us-east-1:123456789012:task:ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "MigrationType": "full-load-and-cdc",
        "Status": "running",
        "ReplicationTaskStats": {
            "FullLoadProgressPercent": 37,
            "ElapsedTimeMillis": 5623390,
            "TablesLoaded": 12,
            "TablesLoading": 4,
            "TablesQueued": 30,
            "TablesErrored": 0,
            "FreshStartDate": "2030-01-01T10:00:00+00:00",
            "StartDate": "2030-01-01T10:00:00+00:00",
            "FullLoadStartDate": "2030-01-01T10:00:05+00:00",
        },
    }
    observed = parse_task(entry)
    assert (observed.status, observed.full_load_percent, observed.full_load_finished) == ("running", 37, False)
    done = parse_task({**entry, "ReplicationTaskStats": {"FullLoadFinishDate": "2030-01-01T12:00:00+00:00", "TablesErrored": 2}})
    assert done.full_load_finished and done.full_load_percent is None and done.tables_errored == 2
    assert parse_task({"Status": "ready"}).full_load_percent is None


def test_rds_cluster_status(cutover_aws: MotoStack) -> None:
    assert RdsCluster(cutover_aws.rds, cutover_aws.settings).status() == "available"
    missing = replace(cutover_aws.settings, aurora_cluster_id="no-such-cluster")
    assert RdsCluster(cutover_aws.rds, missing).status() is None


def test_build_adapters_uses_the_ambient_session(cutover_aws: MotoStack) -> None:
    adapters = build_adapters(cutover_aws.settings)
    assert adapters.cluster.status() == "available"
    assert adapters.params.read_state().startswith('{"version": 1')
