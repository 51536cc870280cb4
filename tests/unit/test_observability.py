"""Dashboard JSON, alarms, DMS event routing and backups, asserted on the synthesized JSON."""

from __future__ import annotations

import json
import re
from typing import Any

import cdktf
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm

from lib.config import AppConfig
from lib.dashboard import Metric, MetricWidget, TextWidget, dashboard_document
from lib.defaults import PROFILES
from lib.jsonencode import escaped_for_jsonencode
from tests.unit.conftest import DNS_SUFFIX, decode_jsonencode, only, resources, statements

REFERENCE = re.compile(r"^\$\{(?P<type>[a-z0-9_]+)\.(?P<name>[\w-]+)\.(?P<attr>[a-z_]+)\}$")
TASK_RESOURCE_ID = re.compile(
    r'^\$\{regex\("\[\^:\]\+\$", (?P<type>aws_dms_replication_task)\.(?P<name>[\w-]+)\.replication_task_arn\)\}$'
)


def _dashboard(stack: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = decode_jsonencode(only(stack, "aws_cloudwatch_dashboard")["dashboard_body"])
    return body


def test_dashboard_metrics_are_flat_arrays_with_dimensions(stack_json: dict[str, Any]) -> None:
    widgets = _dashboard(stack_json)["widgets"]
    metric_widgets = [w for w in widgets if w["type"] == "metric"]
    assert metric_widgets
    for widget in metric_widgets:
        for metric in widget["properties"]["metrics"]:
            *flat, options = metric
            assert isinstance(options, dict) and "stat" in options
            assert all(isinstance(part, str) for part in flat), metric
            assert len(flat) >= 4 and len(flat) % 2 == 0, f"namespace, name, then name/value pairs: {metric}"
        assert {"x", "y", "width", "height"} <= set(widget)
        assert widget["properties"]["region"] == "us-east-1"


def test_dashboard_shows_the_metrics_operators_need(stack_json: dict[str, Any]) -> None:
    shown = {(m[0], m[1]) for w in _dashboard(stack_json)["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]}
    expected_dms = {
        "CDCLatencySource",
        "CDCLatencyTarget",
        "CDCIncomingChanges",
        "FullLoadThroughputRowsTarget",
        "CDCThroughputRowsTarget",
    }
    expected_dms |= {"CPUUtilization", "FreeableMemory", "FreeStorageSpace"}
    assert {("AWS/DMS", name) for name in expected_dms} <= shown
    expected_rds = {"CPUUtilization", "DatabaseConnections", "AuroraReplicaLag", "ACUUtilization"}
    assert {("AWS/RDS", name) for name in expected_rds} <= shown
    assert {("AWS/Lambda", "Errors"), ("AWS/Lambda", "Duration")} <= shown
    text = next(w for w in _dashboard(stack_json)["widgets"] if w["type"] == "text")
    assert "aws_ssm_parameter" in text["properties"]["markdown"]


def test_render_lays_out_and_flattens() -> None:
    body = dashboard_document(
        [MetricWidget("t", [Metric("AWS/RDS", "CPUUtilization", {"DBClusterIdentifier": "c"}, "Maximum")]), TextWidget("hi")],
        "eu-west-1",
    )
    first, second = body["widgets"]
    assert first["properties"]["metrics"] == [["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", "c", {"stat": "Maximum"}]]
    assert (first["x"], second["x"], second["type"]) == (0, 12, "text")


def _dimension_target(value: str, stack: dict[str, Any]) -> str:
    """Resolve a dimension value to the resource type it references (the task id is cut from its ARN)."""
    match = TASK_RESOURCE_ID.match(value) or REFERENCE.match(value)
    assert match, f"dimension {value!r} is not a reference to a stack resource"
    assert match["name"] in resources(stack, match["type"]), value
    return match["type"]


EXPECTED_DIMENSION_TARGETS = {
    "ReplicationInstanceIdentifier": "aws_dms_replication_instance",
    "ReplicationTaskIdentifier": "aws_dms_replication_task",
    "DBClusterIdentifier": "aws_rds_cluster",
    "FunctionName": "aws_lambda_function",
}
REQUIRED_DIMENSIONS = {
    "AWS/DMS": {"ReplicationInstanceIdentifier"},
    "AWS/RDS": {"DBClusterIdentifier"},
    "AWS/Lambda": {"FunctionName"},
}


def test_every_alarm_metric_matches_a_resource_in_the_stack(stack_json: dict[str, Any]) -> None:
    alarms = resources(stack_json, CloudwatchMetricAlarm.TF_RESOURCE_TYPE)
    assert len(alarms) == 9
    for name, alarm in alarms.items():
        assert REQUIRED_DIMENSIONS[alarm["namespace"]] <= set(alarm["dimensions"]), name
        for dimension, value in alarm["dimensions"].items():
            assert _dimension_target(value, stack_json) == EXPECTED_DIMENSION_TARGETS[dimension], (name, dimension)
        # Only migration-health alarms carry the prefix the cutover's alarm gate reads.
        expected_prefix = "tap-migrate-dev-ops-" if alarm["namespace"] == "AWS/Lambda" else "tap-migrate-dev-health-"
        assert alarm["alarm_name"].startswith(expected_prefix), alarm["alarm_name"]
        assert alarm["alarm_actions"] == alarm["ok_actions"] and "aws_sns_topic" in alarm["alarm_actions"][0]


def test_lag_alarms_use_cdc_latency_and_treat_missing_data_as_breaching(
    synthesized: str, stack_json: dict[str, Any], base_config: AppConfig
) -> None:
    threshold = base_config.observability.cdc_latency_alarm_seconds
    assert threshold == PROFILES["dev"].cdc_latency_alarm_seconds  # the base config leaves it to its profile
    lag = [a for a in resources(stack_json, "aws_cloudwatch_metric_alarm").values() if a["metric_name"].startswith("CDCLatency")]
    assert sorted(a["metric_name"] for a in lag) == ["CDCLatencySource", "CDCLatencyTarget"]
    for alarm in lag:
        assert alarm["namespace"] == "AWS/DMS"
        assert set(alarm["dimensions"]) == {"ReplicationInstanceIdentifier", "ReplicationTaskIdentifier"}
        assert (alarm["treat_missing_data"], alarm["threshold"], alarm["evaluation_periods"]) == ("breaching", threshold, 5)
    assert "ElapsedTimeMillis" not in synthesized
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized, CloudwatchMetricAlarm.TF_RESOURCE_TYPE, {"metric_name": "Errors", "treat_missing_data": "notBreaching"}
    )


def test_validation_failures_of_the_cutover_task_raise_health_alarms(stack_json: dict[str, Any]) -> None:
    alarms = {a["metric_name"]: a for a in resources(stack_json, "aws_cloudwatch_metric_alarm").values()}
    for metric in ("ValidationFailedOverallCount", "ValidationSuspendedOverallCount"):
        alarm = alarms[metric]
        # -health- alarms gate the cutover: it refuses to advance while validation reports bad rows.
        assert alarm["alarm_name"].startswith("tap-migrate-dev-health-dms-main-validation-")
        assert (alarm["comparison_operator"], alarm["threshold"], alarm["namespace"]) == ("GreaterThanThreshold", 0, "AWS/DMS")
        assert TASK_RESOURCE_ID.match(alarm["dimensions"]["ReplicationTaskIdentifier"])


def test_task_resource_id_is_taken_from_the_task_arn(stack_json: dict[str, Any]) -> None:
    lag = next(a for a in resources(stack_json, "aws_cloudwatch_metric_alarm").values() if a["metric_name"] == "CDCLatencySource")
    assert TASK_RESOURCE_ID.match(lag["dimensions"]["ReplicationTaskIdentifier"])


def test_task_failure_and_stop_events_reach_the_topic(stack_json: dict[str, Any]) -> None:
    rule = next(r for r in resources(stack_json, "aws_cloudwatch_event_rule").values() if r["name"].endswith("dms-task-stopped"))
    pattern = decode_jsonencode(rule["event_pattern"])
    assert pattern["detail"]["eventType"] == ["REPLICATION_TASK_FAILED", "REPLICATION_TASK_STOPPED"]
    targets = [t for t in resources(stack_json, "aws_cloudwatch_event_target").values() if "task-stopped" in t["rule"]]
    assert len(targets) == 1 and "aws_sns_topic" in targets[0]["arn"]


def test_topic_policy_lets_only_alerting_services_of_this_account_publish(stack_json: dict[str, Any]) -> None:
    (publish,) = statements(stack_json, only(stack_json, "aws_sns_topic_policy")["policy"]).values()
    assert publish["Action"] == ["sns:Publish"]
    assert sorted(publish["Principal"]["Service"]) == [f"{s}.{DNS_SUFFIX}" for s in ("cloudwatch", "dms", "events")]
    assert "aws_caller_identity" in publish["Condition"]["StringEquals"]["aws:SourceAccount"][0]


def test_dms_event_subscriptions_cover_instance_and_task(stack_json: dict[str, Any], variant_json: dict[str, Any]) -> None:
    subscriptions = {s["source_type"]: s for s in resources(stack_json, "aws_dms_event_subscription").values()}
    assert set(subscriptions) == {"replication-instance", "replication-task"}
    assert "failure" in subscriptions["replication-task"]["event_categories"]
    assert "low storage" in subscriptions["replication-instance"]["event_categories"]
    # Task ids are literals, so ordering comes from depends_on: DMS refuses a subscription to a missing task.
    assert subscriptions["replication-task"]["source_ids"] == ["tap-migrate-dev-main"]
    assert any(d.startswith("aws_dms_replication_task.") for d in subscriptions["replication-task"]["depends_on"])
    assert all("aws_sns_topic" in s["sns_topic_arn"] for s in subscriptions.values())
    # The emulator target deploys them too (moto is patched for them): the emulator stack equals the real one.
    assert len(resources(variant_json, "aws_dms_event_subscription")) == 2


def test_no_email_subscription_unless_configured(stack_json: dict[str, Any], make_config: Any) -> None:
    assert "aws_sns_topic_subscription" not in stack_json["resource"]
    from tests.unit.conftest import synthesize

    with_email = json.loads(synthesize(make_config({"observability": {"alarm_email": "dba@example.com"}})))
    subscription = only(with_email, "aws_sns_topic_subscription")
    assert (subscription["protocol"], subscription["endpoint"]) == ("email", "dba@example.com")


def test_backup_vault_plan_and_selection_protect_the_cluster(stack_json: dict[str, Any]) -> None:
    assert "aws_kms_key" in only(stack_json, "aws_backup_vault")["kms_key_arn"]
    plan = only(stack_json, "aws_backup_plan")
    assert [r["rule_name"] for r in plan["rule"]] == ["daily"]
    assert plan["rule"][0]["lifecycle"]["delete_after"] == 7
    selection = only(stack_json, "aws_backup_selection")
    assert (
        len(selection["resources"]) == 1
        and selection["resources"][0].endswith(".arn}")
        and "aws_rds_cluster" in selection["resources"][0]
    )
    assert "aws_iam_role" in selection["iam_role_arn"]


def test_prod_adds_a_monthly_backup_rule(variant_json: dict[str, Any]) -> None:
    plan = only(variant_json, "aws_backup_plan")
    rules = {r["rule_name"]: r for r in plan["rule"]}
    assert rules["daily"]["lifecycle"]["delete_after"] == 35
    assert rules["monthly"]["lifecycle"]["delete_after"] == 365
    assert len(resources(variant_json, "aws_backup_selection")) == 1


def test_dashboard_strings_are_escaped_for_jsonencode() -> None:
    """CDKTF 0.21's Fn.jsonencode writes strings into HCL unescaped: quotes must arrive escaped."""
    document = {"title": 'Lag of "main"', "path": "a\\b", "ref": "${TfToken[TOKEN.1]}", "n": 60, "list": ['"x"']}
    escaped = escaped_for_jsonencode(document)
    assert escaped == {
        "title": 'Lag of \\"main\\"',
        "path": "a\\\\b",
        "ref": "${TfToken[TOKEN.1]}",
        "n": 60,
        "list": ['\\"x\\"'],
    }
