"""Route 53 weighted pairs in front of source and Aurora, and the Lambda that moves them.

Reads and writes get separate names (`reader.<domain>`, `writer.<domain>`): reads may shift
in steps, the writer moves once, after the write fence (see docs/cutover.md). Terraform
creates the records at source=100 / aurora=0 and then never touches weight or TTL again:
the Lambda owns them, and a later `terraform apply` must not undo a cutover.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, TerraformAsset, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction, LambdaFunctionEnvironment
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordWeightedRoutingPolicy
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone, Route53ZoneVpc
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from lib.config import CutoverConfig
from lib.constants import (
    INITIAL_CUTOVER_STATE,
    LAMBDA_HANDLER,
    LAMBDA_RUNTIME,
    READER_RECORD_PREFIX,
    SET_ID_AURORA,
    SET_ID_SOURCE,
    WRITER_RECORD_PREFIX,
    CutoverEnv,
    dms_state_change_pattern,
)
from lib.constructs.context import StackContext
from lib.constructs.policy_documents import RoleIds, service_role, statement
from lib.jsonencode import jsonencode
from lib.lambda_package import build_zip

LAMBDA_SOURCE_DIR = Path(__file__).resolve().parents[2] / "lambda" / "cutover"
LAMBDA_ZIP = Path(__file__).resolve().parents[2] / "build" / "cutover.zip"
FULL_WEIGHT = 100
# Time beyond the drain poll for the reads, the flip and the state write.
INVOCATION_MARGIN_SECONDS = 60
# The Lambda owns these after creation; Terraform resetting them would undo a cutover.
LAMBDA_OWNED_RECORD_ATTRIBUTES = ["weighted_routing_policy", "ttl"]


@dataclass(frozen=True)
class CutoverTargets:
    """What the cutover watches and moves, from the other constructs."""

    vpc_id: str
    source_host: str
    aurora_writer_endpoint: str
    aurora_reader_endpoint: str
    aurora_cluster_id: str
    aurora_cluster_arn: str
    dms_replication_arn: str  # the cutover task, or its DMS Serverless replication config
    dms_instance_id: str | None  # None: DMS Serverless (no instance)
    topic_arn: str
    kms_key_arn: str
    alarm_name_prefix: str
    # cutover.reverse_replication: the Aurora -> source task (or replication config) the gates watch once the CLI
    # started it at the fence; its describe calls are already allowed (DescribeReplicationTasks on "*").
    dms_reverse_replication_arn: str | None = None


class Cutover(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        parameter_path: str,
        config: CutoverConfig,
        targets: CutoverTargets,
    ) -> None:
        super().__init__(scope, id_)
        self.zone_id = self._zone_id(context, config, targets)
        self.reader_name = f"{READER_RECORD_PREFIX}.{config.domain}"
        self.writer_name = f"{WRITER_RECORD_PREFIX}.{config.domain}"
        self.records = self._build_records(config, targets)
        self.state_parameter = self._build_state_parameter(parameter_path)
        # Created and deleted by the Lambda as its mutex; Terraform only names it (and scopes IAM to it).
        self.lock_parameter_name = f"{parameter_path}/cutover/lock"
        self.function_name = f"{context.prefix}-cutover"
        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/aws/lambda/{self.function_name}",
            retention_in_days=context.log_retention_days,
            kms_key_id=targets.kms_key_arn,
        )
        serverless = targets.dms_instance_id is None
        self.role = self._build_role(context, targets, serverless=serverless)
        timeout = config.drain_timeout_seconds + INVOCATION_MARGIN_SECONDS
        self.environment = self._environment(config, targets, timeout)
        self.function = self._build_lambda(targets, timeout)
        self._build_event_rules(context, config, targets, serverless=serverless)

    def _zone_id(self, context: StackContext, config: CutoverConfig, targets: CutoverTargets) -> str:
        """The given private zone, or a new one for the stack's VPC and the application VPCs."""
        if config.hosted_zone_id:
            return config.hosted_zone_id
        zone = Route53Zone(
            self,
            "zone",
            name=config.domain,
            comment=f"{context.prefix}: cutover names (private)",
            # The stack's VPC and the application VPCs that must resolve reader./writer. (cutover.associated_vpc_ids).
            vpc=[Route53ZoneVpc(vpc_id=vpc_id) for vpc_id in (targets.vpc_id, *config.associated_vpc_ids)],
        )
        return zone.zone_id

    def _build_records(self, config: CutoverConfig, targets: CutoverTargets) -> dict[tuple[str, str], Route53Record]:
        """The reader and writer pairs, all weight on the source; the Lambda owns weight and TTL from then on."""
        records: dict[tuple[str, str], Route53Record] = {}
        for name, aurora_host in (
            (self.reader_name, targets.aurora_reader_endpoint),
            (self.writer_name, targets.aurora_writer_endpoint),
        ):
            for set_id, host, weight in ((SET_ID_SOURCE, targets.source_host, FULL_WEIGHT), (SET_ID_AURORA, aurora_host, 0)):
                label = f"{name.split('.')[0]}-{set_id}"
                records[(name, set_id)] = Route53Record(
                    self,
                    label,
                    zone_id=self.zone_id,
                    name=name,
                    type="CNAME",
                    ttl=config.record_ttl,
                    records=[host],
                    set_identifier=set_id,
                    weighted_routing_policy=Route53RecordWeightedRoutingPolicy(weight=weight),
                    lifecycle=TerraformResourceLifecycle(ignore_changes=LAMBDA_OWNED_RECORD_ATTRIBUTES),
                )
        return records

    def _build_state_parameter(self, parameter_path: str) -> SsmParameter:
        return SsmParameter(
            self,
            "state",
            name=f"{parameter_path}/cutover/state",
            type="String",
            description="Cutover state machine document (owned by the cutover Lambda; versioned compare-and-set)",
            value=INITIAL_CUTOVER_STATE,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["value"]),
        )

    def _build_role(self, context: StackContext, targets: CutoverTargets, *, serverless: bool) -> IamRole:
        """The Lambda's least-privilege role: this zone, its two parameters, the topic, the gates' reads."""
        lock_parameter_arn = f"{context.arn('ssm', 'parameter')}{self.lock_parameter_name}"
        role, _ = service_role(
            self,
            RoleIds("role", "least-privilege", "cutover-policy"),
            name=f"{context.prefix}-cutover",
            service=context.service_principal("lambda"),
            policy_name="cutover",
            statements=[
                statement(
                    "MoveWeightedRecordsInThisZone",
                    ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
                    [context.arn("route53", f"hostedzone/{self.zone_id}", regional=False, in_account=False)],
                ),
                statement(
                    "StateAndLockParameters",
                    ["ssm:DeleteParameter", "ssm:GetParameter", "ssm:PutParameter"],
                    [self.state_parameter.arn, lock_parameter_arn],
                ),
                statement("PublishTransitions", ["sns:Publish"], [targets.topic_arn]),
                statement(
                    "EncryptForTopicAndLogs",
                    ["kms:Decrypt", "kms:GenerateDataKey*"],
                    [targets.kms_key_arn],
                ),
                # GetMetricData has no resource-level permissions in IAM: "*" is the only form AWS accepts.
                statement("ReadLatencyMetrics", ["cloudwatch:GetMetricData"], "*"),
                statement(
                    "ReadProjectAlarms",
                    ["cloudwatch:DescribeAlarms"],
                    [context.arn("cloudwatch", f"alarm:{targets.alarm_name_prefix}*")],
                ),
                *self._dms_read_statements(targets.dms_replication_arn, serverless=serverless),
                statement("DescribeTargetCluster", ["rds:DescribeDBClusters"], [targets.aurora_cluster_arn]),
                statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{self.log_group.arn}:*"]),
            ],
        )
        return role

    def _environment(self, config: CutoverConfig, targets: CutoverTargets, timeout: int) -> dict[str, str]:
        """The Lambda's settings: what it moves, what it watches, and the gates' bounds."""
        return {
            CutoverEnv.STATE_PARAMETER_NAME: self.state_parameter.name,
            CutoverEnv.LOCK_PARAMETER_NAME: self.lock_parameter_name,
            CutoverEnv.HOSTED_ZONE_ID: self.zone_id,
            CutoverEnv.READER_RECORD_NAME: self.reader_name,
            CutoverEnv.WRITER_RECORD_NAME: self.writer_name,
            CutoverEnv.SOURCE_HOST: targets.source_host,
            CutoverEnv.AURORA_READER_ENDPOINT: targets.aurora_reader_endpoint,
            CutoverEnv.AURORA_WRITER_ENDPOINT: targets.aurora_writer_endpoint,
            CutoverEnv.RECORD_TTL: str(config.record_ttl),
            CutoverEnv.CUTOVER_TTL: str(config.cutover_ttl),
            CutoverEnv.DMS_REPLICATION_ARN: targets.dms_replication_arn,
            # Absent for DMS Serverless: the Lambda refuses an instance id beside a replication config.
            **({CutoverEnv.DMS_REPLICATION_INSTANCE_ID: targets.dms_instance_id} if targets.dms_instance_id else {}),
            **(
                {CutoverEnv.DMS_REVERSE_REPLICATION_ARN: targets.dms_reverse_replication_arn}
                if targets.dms_reverse_replication_arn
                else {}
            ),
            CutoverEnv.AURORA_CLUSTER_ID: targets.aurora_cluster_id,
            CutoverEnv.SNS_TOPIC_ARN: targets.topic_arn,
            CutoverEnv.ALARM_NAME_PREFIX: targets.alarm_name_prefix,
            CutoverEnv.READ_STEPS: ",".join(str(step) for step in config.read_steps),
            CutoverEnv.STEP_HOLD_SECONDS: str(config.step_hold_seconds),
            CutoverEnv.LATENCY_THRESHOLD_SECONDS: str(config.latency_threshold_seconds),
            CutoverEnv.LATENCY_PERIODS: str(config.latency_periods),
            CutoverEnv.METRIC_PERIOD_SECONDS: str(config.metric_period_seconds),
            CutoverEnv.DRAIN_THRESHOLD_SECONDS: str(config.drain_threshold_seconds),
            CutoverEnv.DRAIN_TIMEOUT_SECONDS: str(config.drain_timeout_seconds),
            CutoverEnv.DRAIN_POLL_SECONDS: str(config.drain_poll_seconds),
            # A lock older than one full invocation can only belong to an invocation that died.
            CutoverEnv.LOCK_TTL_SECONDS: str(timeout + INVOCATION_MARGIN_SECONDS),
            CutoverEnv.PREFLIGHT_VALID_SECONDS: str(config.preflight_valid_minutes * 60),
        }

    def _build_lambda(self, targets: CutoverTargets, timeout: int) -> LambdaFunction:
        # build/ is gitignored; the zip is deterministic, so rebuilding it on every synth is harmless.
        zip_path = build_zip(LAMBDA_SOURCE_DIR, LAMBDA_ZIP)
        asset = TerraformAsset(self, "code", path=str(zip_path), type=AssetType.FILE)
        return LambdaFunction(
            self,
            "function",
            function_name=self.function_name,
            description="Moves the reader/writer weighted records when DMS replication has really caught up",
            role=self.role.arn,
            runtime=LAMBDA_RUNTIME,
            handler=LAMBDA_HANDLER,
            filename=asset.path,
            source_code_hash=asset.asset_hash,
            timeout=timeout,
            memory_size=256,
            # One transition at a time is also enforced by the SSM lock; this keeps ticks from piling up.
            reserved_concurrent_executions=2,
            kms_key_arn=targets.kms_key_arn,
            environment=LambdaFunctionEnvironment(variables=self.environment),
            depends_on=[self.log_group],
        )

    def _build_event_rules(
        self, context: StackContext, config: CutoverConfig, targets: CutoverTargets, *, serverless: bool
    ) -> None:
        """What invokes the Lambda: the replication's state changes and a periodic tick."""
        prefix = context.prefix
        # A state change of the replication (stopped, failed, resumed) re-evaluates the gates at once, the
        # reverse one's too: after the fence it is the gate, and a failure there pauses on the event, not at
        # the next tick. DMS Serverless sends a replication config's changes under their own detail-type.
        watched = [targets.dms_replication_arn]
        if targets.dms_reverse_replication_arn is not None:
            watched.append(targets.dms_reverse_replication_arn)
        task_events = CloudwatchEventRule(
            self,
            "dms-task-events",
            name=f"{prefix}-cutover-dms-task",
            description="DMS state changes of the cutover task and its reverse task (or their Serverless replications)",
            event_pattern=jsonencode(dms_state_change_pattern(watched, serverless=serverless)),
        )
        minutes = config.schedule_rate_minutes
        schedule = CloudwatchEventRule(
            self,
            "schedule",
            name=f"{prefix}-cutover-tick",
            description="Periodic cutover tick: re-evaluates the gates",
            schedule_expression=f"rate({minutes} minute{'s' if minutes > 1 else ''})",
        )
        for label, rule in (("dms-task-events", task_events), ("schedule", schedule)):
            CloudwatchEventTarget(self, f"{label}-target", rule=rule.name, arn=self.function.arn, target_id="cutover")
            LambdaPermission(
                self,
                f"{label}-invoke",
                statement_id=f"allow-{label}",
                action="lambda:InvokeFunction",
                function_name=self.function.function_name,
                principal=context.service_principal("events"),
                source_arn=rule.arn,
            )

    @staticmethod
    def _dms_read_statements(replication_arn: str, *, serverless: bool) -> list[dict[str, object]]:
        if not serverless:
            # A list-level action without resource-level permissions; the Lambda filters on its task ARN.
            return [statement("DescribeReplicationTasks", ["dms:DescribeReplicationTasks"], "*")]
        return [
            statement("ReadReplicationTableStatistics", ["dms:DescribeReplicationTableStatistics"], [replication_arn]),
            # A list-level action; the Lambda filters on its replication config ARN.
            statement("DescribeReplications", ["dms:DescribeReplications"], "*"),
            # The Serverless series are found by the replication's name (see the Lambda's CloudWatchMetrics);
            # ListMetrics, like GetMetricData, accepts no resource but "*".
            statement("FindServerlessLatencySeries", ["cloudwatch:ListMetrics"], "*"),
        ]
