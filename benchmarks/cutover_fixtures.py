"""Cutover fixtures shared by the tests and the benchmarks (so a benchmark needs nothing under tests/).

- ``CUTOVER_ENV``: a complete, valid cutover Lambda environment as the stack would set it.
- ``Clock``, ``T0``: an injectable clock for the engine.
- ``MotoStack``: the AWS resources the cutover Lambda uses, created inside moto's ``mock_aws``
  (with ``aligned_now``, ``count_calls`` and ``isolate_aws_env``).

Imports tap_cutover, so ``lambda/cutover`` must be on sys.path (pytest's pythonpath; the benchmarks add it).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from tap_cutover.logic import align
from tap_cutover.settings import Settings

CUTOVER_ENV: dict[str, str] = {
    "STATE_PARAMETER_NAME": "/tap-migrate/dev/cutover/state",
    "LOCK_PARAMETER_NAME": "/tap-migrate/dev/cutover/lock",
    "HOSTED_ZONE_ID": "Z0123456789ABCDEFGHIJ",
    "READER_RECORD_NAME": "reader.db.example.internal",
    "WRITER_RECORD_NAME": "writer.db.example.internal",
    "SOURCE_HOST": "onprem-pg.corp.example.com",
    "AURORA_READER_ENDPOINT": "tap.cluster-ro-abc123.us-east-1.rds.amazonaws.com",
    "AURORA_WRITER_ENDPOINT": "tap.cluster-abc123.us-east-1.rds.amazonaws.com",
    "RECORD_TTL": "60",
    "CUTOVER_TTL": "5",
    "DMS_REPLICATION_ARN": "arn:aws:dms:us-east-1:123456789012:task:ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "DMS_REPLICATION_INSTANCE_ID": "tap-migrate-dev",
    "AURORA_CLUSTER_ID": "tap-migrate-dev",
    "SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:tap-migrate-dev-cutover",
    "ALARM_NAME_PREFIX": "tap-migrate-dev-",
    "READ_STEPS": "10,25,50,100",
    "STEP_HOLD_SECONDS": "900",
    "LATENCY_THRESHOLD_SECONDS": "30",
    "LATENCY_PERIODS": "5",
    "METRIC_PERIOD_SECONDS": "60",
    "DRAIN_THRESHOLD_SECONDS": "1",
    "DRAIN_TIMEOUT_SECONDS": "600",
    "DRAIN_POLL_SECONDS": "5",
    "LOCK_TTL_SECONDS": "720",
    "PREFLIGHT_VALID_SECONDS": "900",
}

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


REGION = "us-east-1"
SEED_STATE = '{"version": 1, "phase": "replicating"}'


def isolate_aws_env(monkeypatch: Any) -> None:
    """Test credentials and region only: no real endpoint, profile or session token can leak into moto."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


class MotoStack:
    """Zone + four weighted records, SSM state, SNS topic (+ SQS to read it), DMS task, Aurora cluster."""

    def __init__(self, **env_overrides: str) -> None:
        self.session = boto3.session.Session(region_name=REGION)
        c = self.session.client
        self.route53, self.ssm, self.sns, self.sqs = c("route53"), c("ssm"), c("sns"), c("sqs")
        self.cloudwatch, self.dms, self.rds = c("cloudwatch"), c("dms"), c("rds")

        base = Settings.from_env({**CUTOVER_ENV, **env_overrides})
        zone = self.route53.create_hosted_zone(Name="db.example.internal", CallerReference="cutover-tests")
        zone_id = zone["HostedZone"]["Id"].split("/")[-1]
        topic_arn = self.sns.create_topic(Name="tap-migrate-dev-cutover")["TopicArn"]
        self.queue_url = self.sqs.create_queue(QueueName="cutover-notifications")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        task_arn = self._create_dms_task(base)
        self.rds.create_db_cluster(
            DBClusterIdentifier=base.aurora_cluster_id,
            Engine="aurora-postgresql",
            MasterUsername="tapadmin",
            MasterUserPassword="not-a-real-password-1",
        )
        self.settings = replace(base, hosted_zone_id=zone_id, sns_topic_arn=topic_arn, dms_replication_arn=task_arn)
        self.ssm.put_parameter(Name=self.settings.state_parameter_name, Value=SEED_STATE, Type="String")
        self._create_records()

    def _create_dms_task(self, base: Settings) -> str:
        instance = self.dms.create_replication_instance(
            ReplicationInstanceIdentifier=base.dms_replication_instance_id, ReplicationInstanceClass="dms.t3.medium"
        )["ReplicationInstance"]["ReplicationInstanceArn"]
        source = self.dms.create_endpoint(
            EndpointIdentifier="source", EndpointType="source", EngineName="postgres", ServerName="onprem", Port=5432
        )["Endpoint"]["EndpointArn"]
        target = self.dms.create_endpoint(
            EndpointIdentifier="target", EndpointType="target", EngineName="aurora-postgresql", ServerName="aurora", Port=5432
        )["Endpoint"]["EndpointArn"]
        task = self.dms.create_replication_task(
            ReplicationTaskIdentifier="tap-migrate-dev-main",
            SourceEndpointArn=source,
            TargetEndpointArn=target,
            ReplicationInstanceArn=instance,
            MigrationType="full-load-and-cdc",
            TableMappings=json.dumps({"rules": []}),
        )["ReplicationTask"]["ReplicationTaskArn"]
        return str(task)

    def add_reverse_task(self) -> str:
        """The reverse (Aurora -> source) CDC task beside the forward one; the settings then name it."""
        forward = self.dms.describe_replication_tasks(
            Filters=[{"Name": "replication-task-arn", "Values": [self.settings.dms_replication_arn]}]
        )["ReplicationTasks"][0]
        task = self.dms.create_replication_task(
            ReplicationTaskIdentifier="tap-migrate-dev-main-reverse",
            SourceEndpointArn=forward["TargetEndpointArn"],
            TargetEndpointArn=forward["SourceEndpointArn"],
            ReplicationInstanceArn=forward["ReplicationInstanceArn"],
            MigrationType="cdc",
            TableMappings=json.dumps({"rules": []}),
        )["ReplicationTask"]["ReplicationTaskArn"]
        self.settings = replace(self.settings, dms_reverse_replication_arn=str(task))
        return str(task)

    def _create_records(self) -> None:
        s = self.settings
        changes: list[Any] = []
        for name, endpoint in (
            (s.reader_record_name, s.aurora_reader_endpoint),
            (s.writer_record_name, s.aurora_writer_endpoint),
        ):
            for set_id, weight, target in (("source", 100, s.source_host), ("aurora", 0, endpoint)):
                changes.append(
                    {
                        "Action": "CREATE",
                        "ResourceRecordSet": {
                            "Name": name,
                            "Type": "CNAME",
                            "SetIdentifier": set_id,
                            "Weight": weight,
                            "TTL": s.record_ttl,
                            "ResourceRecords": [{"Value": target}],
                        },
                    }
                )
        self.route53.change_resource_record_sets(HostedZoneId=s.hosted_zone_id, ChangeBatch={"Changes": changes})

    # -- observation helpers

    def start_task(self) -> None:
        self.dms.start_replication_task(
            ReplicationTaskArn=self.settings.dms_replication_arn, StartReplicationTaskType="start-replication"
        )

    def publish_latency(
        self, start: datetime, end: datetime, source: float, target: float, *, dimensions: list[Any] | None = None
    ) -> None:
        """One datapoint per period starting in [start, end), as DMS would publish them (a task's by default)."""
        s = self.settings
        dims = dimensions or [
            {"Name": "ReplicationInstanceIdentifier", "Value": s.dms_replication_instance_id},
            {"Name": "ReplicationTaskIdentifier", "Value": s.dms_resource_id},
        ]
        data: list[Any] = []
        at = align(start, s.metric_period_seconds)
        if at < start:
            at += timedelta(seconds=s.metric_period_seconds)
        while at < end:
            for name, value in (("CDCLatencySource", source), ("CDCLatencyTarget", target)):
                data.append({"MetricName": name, "Dimensions": dims, "Timestamp": at, "Value": value, "Unit": "Seconds"})
            at += timedelta(seconds=s.metric_period_seconds)
        for i in range(0, len(data), 500):
            self.cloudwatch.put_metric_data(Namespace="AWS/DMS", MetricData=data[i : i + 500])

    def weights(self) -> dict[str, dict[str, tuple[int, int]]]:
        """pair -> set id -> (weight, ttl), read straight from Route 53."""
        s = self.settings
        out: dict[str, dict[str, tuple[int, int]]] = {}
        for pair, name in (("reader", s.reader_record_name), ("writer", s.writer_record_name)):
            rrsets = self.route53.list_resource_record_sets(HostedZoneId=s.hosted_zone_id)["ResourceRecordSets"]
            out[pair] = {
                r["SetIdentifier"]: (r["Weight"], r["TTL"])
                for r in rrsets
                if r["Name"].rstrip(".") == name and r["Type"] == "CNAME"
            }
        return out

    def state(self) -> dict[str, Any]:
        value = self.ssm.get_parameter(Name=self.settings.state_parameter_name)["Parameter"]["Value"]
        return dict(json.loads(value))

    def notifications(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def aligned_now() -> datetime:
    """Real wall-clock time at the middle of a minute (moto stores what we send; AWS would want recent data)."""
    now = datetime.now(UTC).replace(second=30, microsecond=0)
    return now


def count_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """The parameters of every later call of ``operation`` on ``client``, as they are made."""
    seen: list[dict[str, Any]] = []
    client.meta.events.register(f"provide-client-params.*.{operation}", lambda params, **_: seen.append(dict(params)))
    return seen
