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
from lib.constants import OPS_ALARM_INFIX
from lib.dashboard import Metric, MetricWidget, TextWidget, dashboard_document

GIB = 1024**3
MIB = 1024**2
DMS_TASK_STOP_EVENTS = ["REPLICATION_TASK_FAILED", "REPLICATION_TASK_STOPPED"]
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


@dataclass(frozen=True)
class ObservedResources:
    dms_instance_id: str
    dms_task_ids: Mapping[str, str]  # task key -> replication_task_id (literal)
    dms_tasks: Sequence[ITerraformDependable]  # the task event subscription must wait for them
    dms_task_arns: Mapping[str, str]  # task key -> ARN
    cutover_task_key: str
    aurora_cluster_id: str
    cutover_function_name: str
    cutover_state_parameter: str
    topic_arn: str


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
        prefix: str,
        health_alarm_prefix: str,
        region: str,
        config: ObservabilityConfig,
        observed: ObservedResources,
    ) -> None:
        super().__init__(scope, id_)
        ops_alarm_prefix = f"{prefix}-{OPS_ALARM_INFIX}-"
        # CloudWatch names a task by the resource id at the end of its ARN, not by its identifier.
        # One function call per task (not split + element): each call is a jsii round trip at synth.
        self.task_resource_ids = {key: Fn.regex("[^:]+$", arn) for key, arn in observed.dms_task_arns.items()}
        task_dims = {
            key: {"ReplicationInstanceIdentifier": observed.dms_instance_id, "ReplicationTaskIdentifier": resource_id}
            for key, resource_id in self.task_resource_ids.items()
        }
        instance_dims = {"ReplicationInstanceIdentifier": observed.dms_instance_id}
        cluster_dims = {"DBClusterIdentifier": observed.aurora_cluster_id}
        function_dims = {"FunctionName": observed.cutover_function_name}

        self.alarm_specs = self._alarm_specs(config, task_dims, instance_dims, cluster_dims, function_dims)
        self.alarm_specs += self._validation_specs(observed.cutover_task_key, task_dims[observed.cutover_task_key])
        self.alarms = {
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

        # A task that fails or stops is an incident whatever CloudWatch says about lag.
        self.task_stopped_rule = CloudwatchEventRule(
            self,
            "task-stopped",
            name=f"{prefix}-dms-task-stopped",
            description="DMS replication task failed or stopped",
            event_pattern=Fn.jsonencode(
                {
                    "source": ["aws.dms"],
                    "detail-type": ["DMS Replication Task State Change"],
                    "resources": list(observed.dms_task_arns.values()),
                    "detail": {"eventType": DMS_TASK_STOP_EVENTS},
                }
            ),
        )
        CloudwatchEventTarget(
            self, "task-stopped-to-topic", rule=self.task_stopped_rule.name, arn=observed.topic_arn, target_id="alerts"
        )

        DmsEventSubscription(
            self,
            "instance-events",
            name=f"{prefix}-dms-instance",
            sns_topic_arn=observed.topic_arn,
            source_type="replication-instance",
            source_ids=[observed.dms_instance_id],
            event_categories=DMS_INSTANCE_EVENT_CATEGORIES,
            enabled=True,
        )
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

        # The document is kept as a typed attribute: tests check the flat metric arrays on it.
        self.dashboard_document = dashboard_document(
            self._widgets(
                config,
                observed=observed,
                task_dims=task_dims[observed.cutover_task_key],
                instance_dims=instance_dims,
                cluster_dims=cluster_dims,
                function_dims=function_dims,
            ),
            region,
        )
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=f"{prefix}-migration",
            dashboard_body=Fn.jsonencode(self.dashboard_document),
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
    def _alarm_specs(
        config: ObservabilityConfig,
        task_dims: Mapping[str, Mapping[str, str]],
        instance_dims: Mapping[str, str],
        cluster_dims: Mapping[str, str],
        function_dims: Mapping[str, str],
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
        specs += [
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
            ),
        ]
        return specs

    @staticmethod
    def _widgets(
        config: ObservabilityConfig,
        *,
        observed: ObservedResources,
        task_dims: Mapping[str, str],
        instance_dims: Mapping[str, str],
        cluster_dims: Mapping[str, str],
        function_dims: Mapping[str, str],
    ) -> list[MetricWidget | TextWidget]:
        return [
            MetricWidget(
                "DMS CDC latency (s)",
                [
                    Metric("AWS/DMS", "CDCLatencySource", task_dims, "Maximum"),
                    Metric("AWS/DMS", "CDCLatencyTarget", task_dims, "Maximum"),
                ],
                annotations=[("alarm", config.cdc_latency_alarm_seconds)],
            ),
            MetricWidget(
                "DMS changes and throughput",
                [
                    Metric("AWS/DMS", "CDCIncomingChanges", task_dims, "Maximum"),
                    Metric("AWS/DMS", "FullLoadThroughputRowsTarget", task_dims, "Average"),
                    Metric("AWS/DMS", "CDCThroughputRowsTarget", task_dims, "Average"),
                ],
            ),
            MetricWidget(
                "DMS row validation (cutover task)",
                [
                    Metric("AWS/DMS", f"Validation{kind}OverallCount", task_dims, "Maximum")
                    for kind in ("Failed", "Suspended", "Pending")
                ],
                period=300,
            ),
            MetricWidget(
                "DMS replication instance",
                [
                    Metric("AWS/DMS", "CPUUtilization", instance_dims, "Average"),
                    Metric("AWS/DMS", "FreeableMemory", instance_dims, "Minimum"),
                    Metric("AWS/DMS", "FreeStorageSpace", instance_dims, "Minimum"),
                ],
                period=300,
            ),
            MetricWidget(
                "Aurora",
                [
                    Metric("AWS/RDS", "CPUUtilization", cluster_dims, "Average"),
                    Metric("AWS/RDS", "DatabaseConnections", cluster_dims, "Maximum"),
                    Metric("AWS/RDS", "AuroraReplicaLag", cluster_dims, "Maximum"),
                    Metric("AWS/RDS", "ACUUtilization", cluster_dims, "Average"),
                ],
                period=300,
            ),
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
