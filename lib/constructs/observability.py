"""Dashboard, alarms and DMS event routing — all alerts go to the one encrypted topic.

Lag is CloudWatch's `CDCLatencySource` / `CDCLatencyTarget` (AWS/DMS), never a task's
elapsed time. `treat_missing_data` is chosen per alarm: missing lag data is *breaching*
(a task that stopped reporting is not "caught up"); missing resource gauges keep their
state; missing Lambda errors are not breaching (no invocations, no errors).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import Fn, ITerraformDependable
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.dms_event_subscription import DmsEventSubscription
from constructs import Construct

from lib.config import ObservabilityConfig
from lib.constants import OPS_ALARM_INFIX, dms_state_change_pattern
from lib.constructs.context import StackContext
from lib.dashboard import Metric, MetricWidget, TextWidget, dashboard_document
from lib.jsonencode import jsonencode

GIB = 1024**3
MIB = 1024**2
DMS_TASK_STOP_EVENTS = ["REPLICATION_TASK_FAILED", "REPLICATION_TASK_STOPPED"]
# A Serverless replication config's failure and stop (REPLICATION_FAILED is field-observed).
DMS_REPLICATION_STOP_EVENTS = ["REPLICATION_FAILED", "REPLICATION_STOPPED"]
# AWS documents DMS Serverless metrics only as "grouped by each serverless replication". Field reports
# (2026) show them under this dimension, valued "<account id>:<config resource id>". The cutover Lambda
# does not rely on it (it finds its lag series by value); these alarms and the dashboard do.
DMS_SERVERLESS_METRIC_DIMENSION = "ReplicationConfigId"
DMS_INSTANCE_EVENT_CATEGORIES = [
    "configuration change",
    "creation",
    "deletion",
    "failover",
    "failure",
    "low storage",
    "maintenance",
]
DMS_TASK_EVENT_CATEGORIES = ["configuration change", "creation", "deletion", "failure", "state change"]
# DMS Serverless docs: a CapacityUtilization consistently at its maximum can make the replication fail.
SERVERLESS_CAPACITY_ALARM_PERCENT = 90


@dataclass(frozen=True)
class KinesisDeliveryNames:
    stream_name: str
    delivery_stream_name: str


@dataclass(frozen=True)
class ObservedResources:
    dms_instance_id: str | None  # None with DMS Serverless (no instance, no instance metrics)
    account_id: str  # DMS Serverless series carry it in their dimension value
    dms_task_ids: Mapping[str, str]  # task key -> replication_task_id (literal)
    dms_tasks: Sequence[ITerraformDependable]  # the task event subscription must wait for them
    dms_task_arns: Mapping[str, str]  # task key -> ARN
    primary_task_key: str  # the task the dashboard's lag widgets show: the cutover task, else the first
    validated_task_keys: Sequence[str]  # tasks into Aurora, whose row validation raises health alarms
    aurora_cluster_id: str | None
    cutover_function_name: str | None  # None: cutover disabled
    cutover_state_parameter: str | None
    kinesis: Mapping[str, KinesisDeliveryNames]  # target key -> its stream and Firehose
    topic_arn: str
    # The reverse (Aurora -> source) task, None without cutover.reverse_replication. Only its stop or failure is
    # reported: it is stopped until the writer flip, so it raises no health alarm and never gates the cutover.
    reverse_task_arn: str | None = None


@dataclass(frozen=True)
class _Dimensions:
    task: Mapping[str, Mapping[str, str]]  # task key -> its series
    instance: Mapping[str, str] | None  # None: DMS Serverless
    cluster: Mapping[str, str] | None  # None: no Aurora target
    function: Mapping[str, str] | None  # None: no cutover


@dataclass(frozen=True)
class AlarmSpec:
    suffix: str
    description: str
    metric: Metric
    comparison: str
    threshold: float
    evaluation_periods: int
    period: int
    treat_missing_data: str
    operational: bool = False  # true: about the tooling, not the migration; does not gate the cutover


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        health_alarm_prefix: str,
        config: ObservabilityConfig,
        observed: ObservedResources,
    ) -> None:
        super().__init__(scope, id_)
        prefix = context.prefix
        # CloudWatch names a task by the resource id at the end of its ARN, not by its identifier.
        # One function call per task (not split + element): each call is a jsii round trip at synth.
        self.task_resource_ids = {key: Fn.regex("[^:]+$", arn) for key, arn in observed.dms_task_arns.items()}
        serverless = observed.dms_instance_id is None
        dims = self._dimensions(observed)
        self.alarm_specs = self._all_alarm_specs(config, observed, dims)
        self.alarms = self._build_alarms(prefix, health_alarm_prefix, observed)
        self.task_stopped_rule = self._build_task_stopped_rule(prefix, observed, serverless=serverless)
        if observed.dms_instance_id is not None:
            self._instance_event_subscription(prefix, observed, observed.dms_instance_id)
            self._task_event_subscription(prefix, observed)
        # The document is kept as a typed attribute: tests check the flat metric arrays on it.
        self.dashboard_document = dashboard_document(
            self._widgets(
                config,
                observed=observed,
                task_dims=dims.task.get(observed.primary_task_key),
                instance_dims=dims.instance,
                cluster_dims=dims.cluster,
                function_dims=dims.function,
            ),
            context.region,
        )
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=f"{prefix}-migration",
            dashboard_body=jsonencode(self.dashboard_document),
        )

    def _dimensions(self, observed: ObservedResources) -> _Dimensions:
        """The CloudWatch dimensions of each observed resource (None: the stack has no such resource)."""
        instance_id = observed.dms_instance_id
        if instance_id is None:
            # One series per replication config, named "<account>:<resource id>".
            task_dims = {
                key: {DMS_SERVERLESS_METRIC_DIMENSION: f"{observed.account_id}:{resource_id}"}
                for key, resource_id in self.task_resource_ids.items()
            }
        else:
            task_dims = {
                key: {"ReplicationInstanceIdentifier": instance_id, "ReplicationTaskIdentifier": resource_id}
                for key, resource_id in self.task_resource_ids.items()
            }
        instance_dims = {"ReplicationInstanceIdentifier": instance_id} if instance_id is not None else None
        cluster_dims = {"DBClusterIdentifier": observed.aurora_cluster_id} if observed.aurora_cluster_id else None
        function_dims = {"FunctionName": observed.cutover_function_name} if observed.cutover_function_name else None
        return _Dimensions(task_dims, instance_dims, cluster_dims, function_dims)

    def _all_alarm_specs(self, config: ObservabilityConfig, observed: ObservedResources, dims: _Dimensions) -> list[AlarmSpec]:
        specs = self._alarm_specs(config, dims.task, dims.instance, dims.cluster, dims.function)
        if observed.dms_instance_id is None:
            specs += [self._capacity_spec(key, task_dims) for key, task_dims in dims.task.items()]
        else:
            # A Serverless replication's validation is read by the cutover Lambda (table statistics).
            for key in observed.validated_task_keys:
                specs += self._validation_specs(key, dims.task[key])
        for key, names in observed.kinesis.items():
            specs += self._delivery_specs(key, names)
        return specs

    def _build_alarms(
        self, prefix: str, health_alarm_prefix: str, observed: ObservedResources
    ) -> dict[str, CloudwatchMetricAlarm]:
        """One alarm per spec: health alarms gate the cutover, operational ones (`ops_alarm_prefix`) do not."""
        ops_alarm_prefix = f"{prefix}-{OPS_ALARM_INFIX}-"
        return {
            spec.suffix: CloudwatchMetricAlarm(
                self,
                f"alarm-{spec.suffix}",
                alarm_name=f"{ops_alarm_prefix if spec.operational else health_alarm_prefix}{spec.suffix}",
                alarm_description=spec.description,
                namespace=spec.metric.namespace,
                metric_name=spec.metric.name,
                dimensions=dict(spec.metric.dimensions),
                statistic=spec.metric.stat,
                period=spec.period,
                evaluation_periods=spec.evaluation_periods,
                threshold=spec.threshold,
                comparison_operator=spec.comparison,
                treat_missing_data=spec.treat_missing_data,
                alarm_actions=[observed.topic_arn],
                ok_actions=[observed.topic_arn],
            )
            for spec in self.alarm_specs
        }

    def _build_task_stopped_rule(self, prefix: str, observed: ObservedResources, *, serverless: bool) -> CloudwatchEventRule:
        # A task that fails or stops is an incident whatever CloudWatch says about lag (after the writer flip,
        # a stopped reverse task means a writer rollback would lose writes). DMS Serverless sends its
        # replication config's failures under their own detail-type and event types.
        reverse_arns = [observed.reverse_task_arn] if observed.reverse_task_arn is not None else []
        task_stopped_rule = CloudwatchEventRule(
            self,
            "task-stopped",
            name=f"{prefix}-dms-task-stopped",
            description="DMS replication task (or Serverless replication) failed or stopped",
            event_pattern=jsonencode(
                dms_state_change_pattern(
                    [*observed.dms_task_arns.values(), *reverse_arns],
                    serverless=serverless,
                    event_types=DMS_REPLICATION_STOP_EVENTS if serverless else DMS_TASK_STOP_EVENTS,
                )
            ),
        )
        CloudwatchEventTarget(
            self, "task-stopped-to-topic", rule=task_stopped_rule.name, arn=observed.topic_arn, target_id="alerts"
        )
        return task_stopped_rule

    def _instance_event_subscription(self, prefix: str, observed: ObservedResources, instance_id: str) -> None:
        DmsEventSubscription(
            self,
            "instance-events",
            name=f"{prefix}-dms-instance",
            sns_topic_arn=observed.topic_arn,
            source_type="replication-instance",
            source_ids=[instance_id],
            event_categories=DMS_INSTANCE_EVENT_CATEGORIES,
            enabled=True,
        )

    def _task_event_subscription(self, prefix: str, observed: ObservedResources) -> None:
        DmsEventSubscription(
            self,
            "task-events",
            name=f"{prefix}-dms-task",
            sns_topic_arn=observed.topic_arn,
            source_type="replication-task",
            source_ids=list(observed.dms_task_ids.values()),
            depends_on=list(observed.dms_tasks),
            event_categories=DMS_TASK_EVENT_CATEGORIES,
            enabled=True,
        )

    @staticmethod
    def _capacity_spec(key: str, dims: Mapping[str, str]) -> AlarmSpec:
        return AlarmSpec(
            f"dms-{key}-capacity",
            f"DMS Serverless replication {key}: CapacityUtilization at or above {SERVERLESS_CAPACITY_ALARM_PERCENT}% "
            "for 15 minutes; raise dms.max_capacity_units (or min_capacity_units for spikes) before it fails",
            Metric("AWS/DMS", "CapacityUtilization", dims, "Maximum"),
            "GreaterThanOrEqualToThreshold",
            SERVERLESS_CAPACITY_ALARM_PERCENT,
            3,
            300,
            # Missing capacity data is the lag alarms' business (they treat it as breaching).
            "notBreaching",
        )

    @staticmethod
    def _validation_specs(key: str, dims: Mapping[str, str]) -> list[AlarmSpec]:
        """DMS row validation of the cutover task: any failed or suspended record is a health alarm.

        Health alarms gate the cutover, so it refuses to advance while validation reports
        mismatched rows (tables in "Mismatched records") or rows it could not validate; a table in
        error already turns the dms_task gate red (TablesErrored). DMS publishes these counts only
        while validation runs, so missing data keeps the alarm's state instead of deciding.
        """
        return [
            AlarmSpec(
                f"dms-{key}-validation-{kind.lower()}",
                f"DMS task {key}: {kind.lower()} row validation records; see awsdms_validation_failures_v1 on the target",
                Metric("AWS/DMS", f"Validation{kind}OverallCount", dims, "Maximum"),
                "GreaterThanThreshold",
                0,
                1,
                300,
                "missing",
            )
            for kind in ("Failed", "Suspended")
        ]

    @staticmethod
    def _delivery_specs(key: str, names: KinesisDeliveryNames) -> list[AlarmSpec]:
        """A Kinesis target is healthy when DMS is not throttled and Firehose keeps S3 fresh."""
        stream_dims = {"StreamName": names.stream_name}
        delivery_dims = {"DeliveryStreamName": names.delivery_stream_name}
        return [
            AlarmSpec(
                f"kinesis-{key}-write-throttled",
                f"Kinesis target {key}: DMS writes throttled (add shards or use ON_DEMAND)",
                Metric("AWS/Kinesis", "WriteProvisionedThroughputExceeded", stream_dims, "Sum"),
                "GreaterThanThreshold",
                0,
                3,
                300,
                "notBreaching",
            ),
            AlarmSpec(
                f"firehose-{key}-freshness",
                f"Firehose for target {key}: oldest record not yet in S3 is older than 15 minutes",
                Metric("AWS/Firehose", "DeliveryToS3.DataFreshness", delivery_dims, "Maximum"),
                "GreaterThanThreshold",
                900,
                3,
                300,
                "notBreaching",
            ),
        ]

    @staticmethod
    def _alarm_specs(
        config: ObservabilityConfig,
        task_dims: Mapping[str, Mapping[str, str]],
        instance_dims: Mapping[str, str] | None,
        cluster_dims: Mapping[str, str] | None,
        function_dims: Mapping[str, str] | None,
    ) -> list[AlarmSpec]:
        specs: list[AlarmSpec] = []
        for key, dims in task_dims.items():
            for side in ("Source", "Target"):
                specs.append(
                    AlarmSpec(
                        f"dms-{key}-cdc-latency-{side.lower()}",
                        f"DMS task {key}: CDCLatency{side} above {config.cdc_latency_alarm_seconds}s "
                        f"for {config.cdc_latency_alarm_periods} minutes (missing data counts as breaching)",
                        Metric("AWS/DMS", f"CDCLatency{side}", dims, "Maximum"),
                        "GreaterThanThreshold",
                        config.cdc_latency_alarm_seconds,
                        config.cdc_latency_alarm_periods,
                        60,
                        "breaching",
                    )
                )
        if instance_dims is not None:
            specs += Observability._instance_specs(config, instance_dims)
        if cluster_dims is not None:
            specs += Observability._aurora_specs(config, cluster_dims)
        if function_dims is not None:
            specs.append(
                AlarmSpec(
                    "cutover-errors",
                    "The cutover Lambda failed: weights and state are unchanged, see its log",
                    Metric("AWS/Lambda", "Errors", function_dims, "Sum"),
                    "GreaterThanThreshold",
                    config.cutover_errors_max,
                    1,
                    300,
                    "notBreaching",
                    operational=True,
                )
            )
        return specs

    @staticmethod
    def _instance_specs(config: ObservabilityConfig, instance_dims: Mapping[str, str]) -> list[AlarmSpec]:
        return [
            AlarmSpec(
                "dms-free-storage",
                f"DMS replication instance free storage below {config.dms_free_storage_min_gb} GiB (CDC spills to disk)",
                Metric("AWS/DMS", "FreeStorageSpace", instance_dims, "Minimum"),
                "LessThanThreshold",
                config.dms_free_storage_min_gb * GIB,
                3,
                300,
                "missing",
            ),
            AlarmSpec(
                "dms-freeable-memory",
                f"DMS replication instance freeable memory below {config.dms_freeable_memory_min_mb} MiB",
                Metric("AWS/DMS", "FreeableMemory", instance_dims, "Minimum"),
                "LessThanThreshold",
                config.dms_freeable_memory_min_mb * MIB,
                3,
                300,
                "missing",
            ),
        ]

    @staticmethod
    def _aurora_specs(config: ObservabilityConfig, cluster_dims: Mapping[str, str]) -> list[AlarmSpec]:
        return [
            AlarmSpec(
                "aurora-cpu",
                f"Aurora cluster CPU above {config.aurora_cpu_max_percent}%",
                Metric("AWS/RDS", "CPUUtilization", cluster_dims, "Average"),
                "GreaterThanThreshold",
                config.aurora_cpu_max_percent,
                3,
                300,
                "missing",
            ),
            AlarmSpec(
                "aurora-connections",
                f"Aurora cluster connections above {config.aurora_connections_max}",
                Metric("AWS/RDS", "DatabaseConnections", cluster_dims, "Maximum"),
                "GreaterThanThreshold",
                config.aurora_connections_max,
                3,
                300,
                "missing",
            ),
        ]

    @staticmethod
    def _task_widgets(
        config: ObservabilityConfig, observed: ObservedResources, task_dims: Mapping[str, str]
    ) -> list[MetricWidget | TextWidget]:
        """The primary task's lag and throughput, and its validation (instance) or capacity (Serverless)."""
        key = observed.primary_task_key
        widgets: list[MetricWidget | TextWidget] = [
            MetricWidget(
                f"DMS CDC latency (s), task {key}",
                [
                    Metric("AWS/DMS", "CDCLatencySource", task_dims, "Maximum"),
                    Metric("AWS/DMS", "CDCLatencyTarget", task_dims, "Maximum"),
                ],
                annotations=[("alarm", config.cdc_latency_alarm_seconds)],
            ),
            MetricWidget(
                f"DMS changes and throughput, task {key}",
                [
                    Metric("AWS/DMS", "CDCIncomingChanges", task_dims, "Maximum"),
                    Metric("AWS/DMS", "FullLoadThroughputRowsTarget", task_dims, "Average"),
                    Metric("AWS/DMS", "CDCThroughputRowsTarget", task_dims, "Average"),
                ],
            ),
        ]
        if observed.dms_instance_id is not None and key in observed.validated_task_keys:
            widgets.append(
                MetricWidget(
                    f"DMS row validation, task {key}",
                    [
                        Metric("AWS/DMS", f"Validation{kind}OverallCount", task_dims, "Maximum")
                        for kind in ("Failed", "Suspended", "Pending")
                    ],
                    period=300,
                )
            )
        if observed.dms_instance_id is None:
            widgets.append(
                MetricWidget(
                    f"DMS Serverless capacity (%), replication {key}",
                    [Metric("AWS/DMS", "CapacityUtilization", task_dims, "Maximum")],
                    annotations=[("alarm", SERVERLESS_CAPACITY_ALARM_PERCENT)],
                )
            )
        return widgets

    @staticmethod
    def _widgets(
        config: ObservabilityConfig,
        *,
        observed: ObservedResources,
        task_dims: Mapping[str, str] | None,
        instance_dims: Mapping[str, str] | None,
        cluster_dims: Mapping[str, str] | None,
        function_dims: Mapping[str, str] | None,
    ) -> list[MetricWidget | TextWidget]:
        widgets: list[MetricWidget | TextWidget] = []
        if task_dims is not None:
            widgets += Observability._task_widgets(config, observed, task_dims)
        if instance_dims is not None:
            widgets.append(
                MetricWidget(
                    "DMS replication instance",
                    [
                        Metric("AWS/DMS", "CPUUtilization", instance_dims, "Average"),
                        Metric("AWS/DMS", "FreeableMemory", instance_dims, "Minimum"),
                        Metric("AWS/DMS", "FreeStorageSpace", instance_dims, "Minimum"),
                    ],
                    period=300,
                )
            )
        if cluster_dims is not None:
            widgets.append(
                MetricWidget(
                    "Aurora",
                    [
                        Metric("AWS/RDS", "CPUUtilization", cluster_dims, "Average"),
                        Metric("AWS/RDS", "DatabaseConnections", cluster_dims, "Maximum"),
                        Metric("AWS/RDS", "AuroraReplicaLag", cluster_dims, "Maximum"),
                        Metric("AWS/RDS", "ACUUtilization", cluster_dims, "Average"),
                    ],
                    period=300,
                )
            )
        for target_key, names in observed.kinesis.items():
            widgets.append(
                MetricWidget(
                    f"Kinesis -> Firehose -> S3, target {target_key}",
                    [
                        Metric("AWS/Kinesis", "IncomingRecords", {"StreamName": names.stream_name}, "Sum"),
                        Metric("AWS/Kinesis", "WriteProvisionedThroughputExceeded", {"StreamName": names.stream_name}, "Sum"),
                        Metric(
                            "AWS/Firehose",
                            "DeliveryToS3.DataFreshness",
                            {"DeliveryStreamName": names.delivery_stream_name},
                            "Maximum",
                        ),
                    ],
                    period=300,
                )
            )
        if function_dims is not None:
            widgets += [
                MetricWidget(
                    "Cutover Lambda",
                    [
                        Metric("AWS/Lambda", "Errors", function_dims, "Sum"),
                        Metric("AWS/Lambda", "Duration", function_dims, "Maximum"),
                    ],
                    period=300,
                ),
                TextWidget(
                    "## Cutover\n"
                    f"State document: SSM parameter `{observed.cutover_state_parameter}`.\n"
                    "Operate with `./cutover status` (see docs/cutover.md). Lag is CDCLatencySource/CDCLatencyTarget."
                ),
            ]
        return widgets
