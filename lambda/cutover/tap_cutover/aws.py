"""The boto3 adapters: one small class per service, each taking its client in the constructor.

boto3/botocore are imported lazily (``build_adapters``, ``aws_call``) so that importing the handler stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .decision import Notification, PairChange
from .gates import Datapoint, TaskObservation, fetch_window
from .settings import Settings

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_cloudwatch.client import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef
    from mypy_boto3_dms.client import DatabaseMigrationServiceClient
    from mypy_boto3_rds.client import RDSClient
    from mypy_boto3_route53.client import Route53Client
    from mypy_boto3_route53.type_defs import ChangeTypeDef
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_ssm.client import SSMClient


from .ports import (
    AURORA_SET_ID,
    SOURCE_SET_ID,
    Adapters,
    AwsError,
    LivePair,
    LiveRecord,
    LockInfo,
    aws_call,
)


class Route53Records:
    """The two weighted CNAME pairs. Calls: route53:ChangeResourceRecordSets, route53:ListResourceRecordSets."""

    def __init__(self, client: Route53Client, settings: Settings) -> None:
        self._client = client
        self._s = settings

    def _names(self) -> dict[str, tuple[str, str]]:
        s = self._s
        return {
            "reader": (s.reader_record_name, s.aurora_reader_endpoint),
            "writer": (s.writer_record_name, s.aurora_writer_endpoint),
        }

    def apply(self, changes: Sequence[PairChange]) -> None:
        """UPSERT every changed pair in ONE change batch: Route 53 applies it all or nothing."""
        if not changes:
            return
        names = self._names()
        batch: list[ChangeTypeDef] = []
        for change in changes:
            name, endpoint = names[change.pair]
            for set_id, weight, target in (
                (SOURCE_SET_ID, 100 - change.aurora_weight, self._s.source_host),
                (AURORA_SET_ID, change.aurora_weight, endpoint),
            ):
                batch.append(
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": name,
                            "Type": "CNAME",
                            "SetIdentifier": set_id,
                            "Weight": weight,
                            "TTL": change.ttl,
                            "ResourceRecords": [{"Value": target}],
                        },
                    }
                )
        with aws_call("route53", "ChangeResourceRecordSets"):
            self._client.change_resource_record_sets(
                HostedZoneId=self._s.hosted_zone_id,
                ChangeBatch={"Comment": "tap-migrate cutover", "Changes": batch},
            )

    def read(self) -> dict[str, LivePair]:
        """Both pairs, normally from ONE ListResourceRecordSets page (a tick reads them on every run).

        Route 53 lists names in order of their reversed labels, so a page that starts at the pair
        that sorts first and is not truncated holds the other pair too, if it exists at all.
        """
        names = {pair: name for pair, (name, _) in self._names().items()}
        found: dict[str, dict[str, LiveRecord]] = {pair: {} for pair in names}
        by_name = {name: pair for pair, name in names.items()}
        pending = sorted(names.values(), key=_route53_order)
        while pending:
            start = pending[0]
            with aws_call("route53", "ListResourceRecordSets"):
                resp = self._client.list_resource_record_sets(
                    HostedZoneId=self._s.hosted_zone_id, StartRecordName=start, StartRecordType="CNAME", MaxItems=_RECORD_PAGE
                )
            seen = {start}
            for rrset in resp.get("ResourceRecordSets", []):
                name = rrset["Name"].rstrip(".").lower()
                pair = by_name.get(name)
                if pair is None or rrset["Type"] != "CNAME":
                    continue
                seen.add(name)
                set_id = rrset.get("SetIdentifier")
                if set_id in (SOURCE_SET_ID, AURORA_SET_ID):
                    values = rrset.get("ResourceRecords", [])
                    found[pair][set_id] = LiveRecord(
                        weight=int(rrset.get("Weight", -1)),
                        ttl=rrset.get("TTL"),
                        target=values[0]["Value"].rstrip(".") if values else "",
                    )
            # A name not on an untruncated page does not exist; one past a truncated page needs its own call.
            truncated = bool(resp.get("IsTruncated"))
            pending = [name for name in pending if name not in seen] if truncated else []
        return {pair: LivePair(name, found[pair]) for pair, name in names.items()}


# Enough for both pairs (four records) and a few unrelated names that sort between them.
_RECORD_PAGE = "20"


def _route53_order(name: str) -> tuple[str, ...]:
    return tuple(reversed(name.split(".")))


LATENCY_METRICS = (("source", "CDCLatencySource"), ("target", "CDCLatencyTarget"))
# Bounds on pagination: they guard against a misbehaving endpoint, not real volumes.
_MAX_METRIC_PAGES = 5
_MAX_LIST_PAGES = 20
_MAX_TABLE_PAGES = 50
_MAX_ALARM_PAGES = 10


def pages(client: Any, service: str, operation: str, max_pages: int, request: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """At most ``max_pages`` pages from botocore's paginator for ``operation``, each fetch inside ``aws_call``.

    Pages are fetched lazily, so a caller that stops early makes no further call (the tick's call budget).
    """
    method = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
    fetched = iter(client.get_paginator(method).paginate(**request))
    for _ in range(max_pages):
        with aws_call(service, operation):
            page = next(fetched, None)
        if page is None:
            return
        yield page


Dimensions = tuple[tuple[str, str], ...]
# How instance-based DMS names its series (documented); a Serverless series is never one of these.
INSTANCE_DIMENSIONS = frozenset({"ReplicationInstanceIdentifier", "ReplicationTaskIdentifier"})


class CloudWatchMetrics:
    """CDC latency of the replication. Calls: cloudwatch:GetMetricData (and cloudwatch:ListMetrics for Serverless).

    A task's series are named by its instance and task resource id. AWS documents DMS Serverless
    metrics only as "grouped by each serverless replication", without the dimension's name (field
    reports show ``ReplicationConfigId`` = ``<account>:<resource id>``), so for a Serverless
    replication the series are found by value: every AWS/DMS latency series recently published with
    a dimension whose value is this replication's ARN, resource id or ``<account>:<resource id>``,
    leaving out the instance-based shape (a task's resource id is random, but an instance may be
    named anything). Nothing found means no datapoints, which the gates read as red.
    """

    def __init__(self, client: CloudWatchClient, settings: Settings) -> None:
        self._client = client
        self._s = settings
        # Series found for a Serverless replication, kept for the container's life: they name this
        # replication, so they cannot change under one environment. An empty result is looked up again.
        self._found: dict[str, list[Dimensions]] = {}

    def _series(self, metric: str) -> list[Dimensions]:
        s = self._s
        if s.dms_replication_instance_id is not None:
            return [
                (
                    ("ReplicationInstanceIdentifier", s.dms_replication_instance_id),
                    ("ReplicationTaskIdentifier", s.dms_resource_id),
                )
            ]
        if metric not in self._found:
            found = self._find_series(metric)
            if not found:
                return []
            self._found[metric] = found
        return self._found[metric]

    def _find_series(self, metric: str) -> list[Dimensions]:
        s = self._s
        account = s.dms_replication_arn.split(":")[4]
        names_this_replication = {s.dms_replication_arn, s.dms_resource_id, f"{account}:{s.dms_resource_id}"}
        found: list[Dimensions] = []
        # Only series with data in the last 3 hours: a long-stopped series says nothing about now.
        listing = {"Namespace": "AWS/DMS", "MetricName": metric, "RecentlyActive": "PT3H"}
        for resp in pages(self._client, "cloudwatch", "ListMetrics", _MAX_LIST_PAGES, listing):
            for entry in resp.get("Metrics", []):
                dims = tuple((str(d.get("Name", "")), str(d.get("Value", ""))) for d in entry.get("Dimensions", []))
                names = {name for name, _ in dims}
                if names.isdisjoint(INSTANCE_DIMENSIONS) and any(value in names_this_replication for _, value in dims):
                    found.append(dims)
        return found

    def latency(self, now: datetime) -> tuple[tuple[Datapoint, ...], tuple[Datapoint, ...]]:
        s = self._s
        # Wider than the gates' window: the step that ends a hold judges every period since the last judged one.
        start, end = fetch_window(s, now)
        queries: list[MetricDataQueryTypeDef] = []
        series_of_query: dict[str, str] = {}
        for series, metric in LATENCY_METRICS:
            for index, dims in enumerate(self._series(metric)):
                query_id = f"{series}{index}"
                series_of_query[query_id] = series
                queries.append(
                    {
                        "Id": query_id,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/DMS",
                                "MetricName": metric,
                                "Dimensions": [{"Name": name, "Value": value} for name, value in dims],
                            },
                            "Period": s.metric_period_seconds,
                            # The worst second of a period decides: an average would hide a spike.
                            "Stat": "Maximum",
                        },
                        "ReturnData": True,
                    }
                )
        # Several series for one metric (possible only for Serverless): the worst value of a period counts.
        worst: dict[str, dict[datetime, float]] = {"source": {}, "target": {}}
        request = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end, "ScanBy": "TimestampDescending"}
        for resp in pages(self._client, "cloudwatch", "GetMetricData", _MAX_METRIC_PAGES if queries else 0, request):
            for result in resp.get("MetricDataResults", []):
                which = series_of_query.get(result.get("Id", ""))
                if which is None:
                    continue
                by_period = worst[which]
                for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    at = stamp.astimezone(UTC)
                    by_period[at] = max(by_period.get(at, float(value)), float(value))
        source, target = (
            tuple(Datapoint(at, value) for at, value in sorted(worst[series].items(), reverse=True))
            for series in ("source", "target")
        )
        return source, target


class CloudWatchAlarms:
    """Project alarms in ALARM. Calls: cloudwatch:DescribeAlarms."""

    def __init__(self, client: CloudWatchClient, settings: Settings) -> None:
        self._client = client
        self._prefix = settings.alarm_name_prefix

    def in_alarm(self) -> tuple[str, ...]:
        names: list[str] = []
        # Metric alarms only: the stack defines no composite alarms, and listing those needs DescribeAlarms on "*".
        request = {"AlarmNamePrefix": self._prefix, "StateValue": "ALARM", "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100}
        for resp in pages(self._client, "cloudwatch", "DescribeAlarms", _MAX_ALARM_PAGES, request):
            alarms: list[Mapping[str, Any]] = list(resp.get("MetricAlarms", []))
            # Filter again locally: one red alarm is enough, and not every endpoint honours both filters.
            names.extend(
                str(a["AlarmName"])
                for a in alarms
                if a.get("StateValue") == "ALARM" and str(a.get("AlarmName", "")).startswith(self._prefix)
            )
            if names:
                break  # one red alarm is enough: the next page is never fetched
        return tuple(sorted(names))


def _observed(status: Any, migration_type: Any, stats: Mapping[str, Any] | None, **extra: Any) -> TaskObservation:
    """A task's or a Serverless replication's state; both report the same ReplicationTaskStats fields."""
    stats = stats or {}
    percent = stats.get("FullLoadProgressPercent")
    errored = stats.get("TablesErrored")
    return TaskObservation(
        found=True,
        status=str(status or ""),
        migration_type=str(migration_type or ""),
        full_load_percent=int(percent) if isinstance(percent, int) else None,
        full_load_finished=stats.get("FullLoadFinishDate") is not None,
        tables_errored=int(errored) if isinstance(errored, int) else 0,
        **extra,
    )


def parse_task(task: Mapping[str, Any]) -> TaskObservation:
    """Read a DescribeReplicationTasks entry (``ElapsedTimeMillis`` is run time, not lag: ignored)."""
    return _observed(task.get("Status"), task.get("MigrationType"), task.get("ReplicationTaskStats"))


def _watched(forward_arn: str, reverse_arn: str | None) -> list[str]:
    """The forward replication and, when configured, the reverse one: both read in one describe call."""
    return [forward_arn] if reverse_arn is None else [forward_arn, reverse_arn]


def table_pages(call: Callable[..., Any], operation: str, key: str) -> list[Mapping[str, Any]]:
    """Every row of a DMS table-statistics answer, following ``Marker`` (at most ``_MAX_TABLE_PAGES`` pages)."""
    rows: list[Mapping[str, Any]] = []
    marker: str | None = None
    for _ in range(_MAX_TABLE_PAGES):
        with aws_call("dms", operation):
            resp = call(**({"Marker": marker} if marker else {}))
        rows.extend(resp.get(key, []))
        marker = resp.get("Marker")
        if not marker:
            return rows
    raise AwsError("dms", operation, "TooManyPages", "table statistics did not end")


class DmsTask:
    """The replication task (and the reverse one, in the same call). Calls: dms:DescribeReplicationTasks;
    dms:DescribeTableStatistics only for the data proof (not on a tick)."""

    def __init__(self, client: DatabaseMigrationServiceClient, settings: Settings) -> None:
        self._client = client
        self._arn = settings.dms_replication_arn
        self._reverse_arn = settings.dms_reverse_replication_arn

    def describe(self) -> TaskObservation:
        return self.describe_all()[0]

    def describe_all(self) -> tuple[TaskObservation, TaskObservation | None]:
        arns = _watched(self._arn, self._reverse_arn)
        found: dict[str, TaskObservation] = {}
        try:
            with aws_call("dms", "DescribeReplicationTasks"):
                resp = self._client.describe_replication_tasks(
                    Filters=[{"Name": "replication-task-arn", "Values": arns}], WithoutSettings=True
                )
        except AwsError as err:
            # A definite "no such task" is an observation (red gate), not a failed call.
            if err.code != "ResourceNotFoundFault":
                raise
        else:
            found = {str(task.get("ReplicationTaskArn")): parse_task(task) for task in resp.get("ReplicationTasks", [])}
        missing = TaskObservation(found=False)
        reverse = None if self._reverse_arn is None else found.get(self._reverse_arn, missing)
        return found.get(self._arn, missing), reverse

    def table_statistics(self) -> list[Mapping[str, Any]]:
        """Every table's row of dms:DescribeTableStatistics (its validation state and counts), all pages."""
        return table_pages(
            lambda **page: self._client.describe_table_statistics(ReplicationTaskArn=self._arn, MaxRecords=500, **page),
            "DescribeTableStatistics",
            "TableStatistics",
        )


# DescribeReplicationTableStatistics reports these when row validation found a difference.
FAILING_VALIDATION_STATES = frozenset({"Mismatched records", "Suspended records", "Error"})


def parse_replication(replication: Mapping[str, Any], tables_failing_validation: int) -> TaskObservation:
    """Read a DescribeReplications entry: a Serverless replication's counterpart of ``parse_task``."""
    return _observed(
        replication.get("Status"),
        replication.get("ReplicationType"),
        replication.get("ReplicationStats"),
        tables_failing_validation=tables_failing_validation,
        serverless=True,
    )


def failing_validation(table: Mapping[str, Any]) -> bool:
    failed = table.get("ValidationFailedRecords")
    suspended = table.get("ValidationSuspendedRecords")
    return (
        (isinstance(failed, int) and failed > 0)
        or (isinstance(suspended, int) and suspended > 0)
        or table.get("ValidationState") in FAILING_VALIDATION_STATES
    )


class DmsServerlessReplication:
    """A DMS Serverless replication. Calls: dms:DescribeReplications, dms:DescribeReplicationTableStatistics.

    A task's row validation raises CloudWatch alarms the alarms gate reads; AWS documents no validation
    metrics for a Serverless replication, so its table statistics are read here.
    """

    def __init__(self, client: DatabaseMigrationServiceClient, settings: Settings) -> None:
        self._client = client
        self._arn = settings.dms_replication_arn
        self._reverse_arn = settings.dms_reverse_replication_arn

    def describe(self) -> TaskObservation:
        return self.describe_all()[0]

    def describe_all(self) -> tuple[TaskObservation, TaskObservation | None]:
        arns = _watched(self._arn, self._reverse_arn)
        replications: dict[str, Mapping[str, Any]] = {}
        try:
            with aws_call("dms", "DescribeReplications"):
                resp = self._client.describe_replications(Filters=[{"Name": "replication-config-arn", "Values": arns}])
        except AwsError as err:
            # No replication yet (never started) or no such config: a red gate, not a failed call.
            if err.code != "ResourceNotFoundFault":
                raise
        else:
            replications = {str(r.get("ReplicationConfigArn")): r for r in resp.get("Replications", [])}
        missing = TaskObservation(found=False, serverless=True)
        forward = replications.get(self._arn)
        observed = parse_replication(forward, self._tables_failing_validation()) if forward is not None else missing
        if self._reverse_arn is None:
            return observed, None
        reverse = replications.get(self._reverse_arn)
        # The reverse replication writes into the source, which has no validation to read: its state is enough.
        return observed, (parse_replication(reverse, 0) if reverse is not None else missing)

    def table_statistics(self) -> list[Mapping[str, Any]]:
        """Every table's row of dms:DescribeReplicationTableStatistics (validation state and counts), all pages."""
        return table_pages(
            lambda **page: self._client.describe_replication_table_statistics(
                ReplicationConfigArn=self._arn, MaxRecords=500, **page
            ),
            "DescribeReplicationTableStatistics",
            "ReplicationTableStatistics",
        )

    def _tables_failing_validation(self) -> int:
        count = 0
        marker: str | None = None
        for _ in range(_MAX_TABLE_PAGES):
            with aws_call("dms", "DescribeReplicationTableStatistics"):
                if marker is None:
                    resp = self._client.describe_replication_table_statistics(ReplicationConfigArn=self._arn, MaxRecords=500)
                else:
                    resp = self._client.describe_replication_table_statistics(
                        ReplicationConfigArn=self._arn, MaxRecords=500, Marker=marker
                    )
            count += sum(1 for table in resp.get("ReplicationTableStatistics", []) if failing_validation(table))
            marker = resp.get("Marker")
            if not marker:
                return count
        raise AwsError("dms", "DescribeReplicationTableStatistics", "TooManyPages", "table statistics did not end")


class RdsCluster:
    """The Aurora cluster. Calls: rds:DescribeDBClusters."""

    def __init__(self, client: RDSClient, settings: Settings) -> None:
        self._client = client
        self._id = settings.aurora_cluster_id

    def status(self) -> str | None:
        try:
            with aws_call("rds", "DescribeDBClusters"):
                resp = self._client.describe_db_clusters(DBClusterIdentifier=self._id)
        except AwsError as err:
            if err.code == "DBClusterNotFoundFault":
                return None
            raise
        clusters = resp.get("DBClusters", [])
        return clusters[0].get("Status") if clusters else None


class SsmParameters:
    """State and lock parameters. Calls: ssm:GetParameter, ssm:PutParameter, ssm:DeleteParameter."""

    def __init__(self, client: SSMClient, settings: Settings) -> None:
        self._client = client
        self._state = settings.state_parameter_name
        self._lock = settings.lock_parameter_name

    def read_state(self) -> str:
        with aws_call("ssm", "GetParameter"):
            resp = self._client.get_parameter(Name=self._state)
        return resp["Parameter"].get("Value", "")

    def write_state(self, text: str) -> None:
        with aws_call("ssm", "PutParameter"):
            self._client.put_parameter(Name=self._state, Value=text, Type="String", Overwrite=True)

    def acquire_lock(self, value: str) -> bool:
        """Create the lock parameter; SSM refuses atomically if it already exists."""
        try:
            with aws_call("ssm", "PutParameter"):
                self._client.put_parameter(
                    Name=self._lock,
                    Value=value,
                    Type="String",
                    Overwrite=False,
                    Description="tap-migrate cutover mutex (deleted after each transition)",
                )
        except AwsError as err:
            if err.code == "ParameterAlreadyExists":
                return False
            raise
        return True

    def read_lock(self) -> LockInfo | None:
        try:
            with aws_call("ssm", "GetParameter"):
                resp = self._client.get_parameter(Name=self._lock)
        except AwsError as err:
            if err.code == "ParameterNotFound":
                return None
            raise
        param = resp["Parameter"]
        modified = param.get("LastModifiedDate")
        return LockInfo(param.get("Value", ""), modified.astimezone(UTC) if modified else None)

    def overwrite_lock(self, value: str) -> None:
        with aws_call("ssm", "PutParameter"):
            self._client.put_parameter(Name=self._lock, Value=value, Type="String", Overwrite=True)

    def release_lock(self) -> bool:
        try:
            with aws_call("ssm", "DeleteParameter"):
                self._client.delete_parameter(Name=self._lock)
        except AwsError as err:
            if err.code == "ParameterNotFound":
                return False
            raise
        return True


class SnsNotifier:
    """Operator notifications. Calls: sns:Publish."""

    def __init__(self, client: SNSClient, settings: Settings) -> None:
        self._client = client
        self._topic = settings.sns_topic_arn

    def publish(self, notification: Notification) -> None:
        with aws_call("sns", "Publish"):
            self._client.publish(TopicArn=self._topic, Subject=notification.subject, Message=notification.message)


class StsIdentity:
    """Who the engine acts as. Calls: sts:GetCallerIdentity (allowed to every principal), once per container or CLI run.

    A Lambda is not told who invoked it (neither EventBridge nor a direct Invoke passes the caller), so a tick
    or a direct invocation records the function's own role; CloudTrail's lambda:Invoke data events say who invoked.
    """

    def __init__(self, client: Any) -> None:  # an STS client (no type stubs installed for it)
        self._client = client
        self._arn: str | None = None

    def caller_arn(self) -> str:
        if self._arn is None:
            with aws_call("sts", "GetCallerIdentity"):
                arn = self._client.get_caller_identity()["Arn"]
            self._arn = str(arn)
        return self._arn


def build_adapters(settings: Settings, session: Session | None = None) -> Adapters:
    """Create the boto3 clients; region and endpoint come from the environment (AWS_REGION, AWS_ENDPOINT_URL)."""
    # boto3 costs ~250 ms to import: only on the first invocation, never at handler import.
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=15)
    session = session or boto3.session.Session()
    cloudwatch = session.client("cloudwatch", config=config)
    return Adapters(
        records=Route53Records(session.client("route53", config=config), settings),
        metrics=CloudWatchMetrics(cloudwatch, settings),
        alarms=CloudWatchAlarms(cloudwatch, settings),
        task=(DmsServerlessReplication if settings.dms_serverless else DmsTask)(session.client("dms", config=config), settings),
        cluster=RdsCluster(session.client("rds", config=config), settings),
        params=SsmParameters(session.client("ssm", config=config), settings),
        notifier=SnsNotifier(session.client("sns", config=config), settings),
        identity=StsIdentity(session.client("sts", config=config)),
    )
