"""Security-relevant properties of every construct, asserted on the synthesized JSON."""

from __future__ import annotations

import json
import re
from typing import Any

import cdktf
from cdktf_cdktf_provider_aws.dms_endpoint import DmsEndpoint
from cdktf_cdktf_provider_aws.dms_replication_instance import DmsReplicationInstance
from cdktf_cdktf_provider_aws.dms_replication_task import DmsReplicationTask
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import RdsClusterParameterGroup
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter

from lib.constants import (
    CORE_OUTPUTS,
    DMS_CLOUDWATCH_LOGS_ROLE_NAME,
    DMS_VPC_ROLE_NAME,
    INITIAL_CUTOVER_STATE,
    CutoverEnv,
    Output,
)
from tests.unit.conftest import DNS_SUFFIX, decode_jsonencode, only, resources, statements


def test_kms_key_rotates_and_names_the_services_that_use_it(synthesized: str, stack_json: dict[str, Any]) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(synthesized, KmsKey.TF_RESOURCE_TYPE, {"enable_key_rotation": True})
    policy = statements(stack_json, only(stack_json, "aws_kms_key")["policy"])
    via = policy["ServicesInThisAccountUseKey"]
    services = {entry.split(".")[0] for entry in via["Condition"]["StringLike"]["kms:ViaService"]}
    assert {"rds", "dms", "secretsmanager", "sns"} <= services
    assert policy["CloudWatchLogsUseKey"]["Principal"]["Service"] == [f"logs.us-east-1.{DNS_SUFFIX}"]
    assert policy["AccountAdministers"]["Principal"]["AWS"][0].endswith(":root")
    assert only(stack_json, "aws_kms_alias")["name"] == "alias/tap-migrate-dev"


def test_network_has_three_private_subnets_in_three_zones(stack_json: dict[str, Any]) -> None:
    subnets = resources(stack_json, "aws_subnet")
    assert len(subnets) == 3
    assert len({s["availability_zone"] for s in subnets.values()}) == 3
    # No zones in the config: the account's own first three (`<region>b` does not exist everywhere).
    ((name, zones),) = stack_json["data"]["aws_availability_zones"].items()
    # No state filter (an impaired zone must not shift the list), and the choice is made once.
    assert "state" not in zones
    assert zones["filter"] == [{"name": "zone-type", "values": ["availability-zone"]}]
    assert all(s["lifecycle"] == {"ignore_changes": ["availability_zone"]} for s in subnets.values())
    assert sorted(s["availability_zone"] for s in subnets.values()) == [
        f"${{element(data.aws_availability_zones.{name}.names, {index})}}" for index in range(3)
    ]
    assert all(s["map_public_ip_on_launch"] is False for s in subnets.values())
    assert "aws_internet_gateway" not in stack_json["resource"]
    assert "aws_nat_gateway" not in stack_json["resource"]


def test_no_security_group_opens_to_the_world(synthesized: str) -> None:
    assert "0.0.0.0/0" not in synthesized
    assert "::/0" not in synthesized


def test_aurora_ingress_is_only_dms_and_the_applications_on_the_engine_port(stack_json: dict[str, Any]) -> None:
    ingress = resources(stack_json, "aws_vpc_security_group_ingress_rule")
    aurora_rules = [r for r in ingress.values() if "aurora-sg" in r["security_group_id"]]
    assert {(r["from_port"], r["to_port"], r["ip_protocol"]) for r in aurora_rules} == {(5432, 5432, "tcp")}
    from_groups = [r["referenced_security_group_id"] for r in aurora_rules if "referenced_security_group_id" in r]
    assert len(from_groups) == 1 and "dms-sg" in from_groups[0]
    # CIDR ingress only for the configured application networks (Aurora) and DNS servers (the resolver).
    assert sorted(r["cidr_ipv4"] for r in aurora_rules if "cidr_ipv4" in r) == ["192.168.20.0/24"]
    other = {r["cidr_ipv4"] for r in ingress.values() if "cidr_ipv4" in r and "aurora-sg" not in r["security_group_id"]}
    assert other == {"192.168.10.0/24"}


def test_dms_egress_reaches_the_source_cidr_on_the_source_port_only(stack_json: dict[str, Any]) -> None:
    egress = resources(stack_json, "aws_vpc_security_group_egress_rule")
    to_source = [r for r in egress.values() if "cidr_ipv4" in r]
    assert [(r["cidr_ipv4"], r["from_port"], r["to_port"]) for r in to_source] == [("192.168.0.0/16", 5432, 5432)]


def test_aurora_cluster_is_encrypted_tls_only_and_serverless_v2(synthesized: str, stack_json: dict[str, Any]) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized,
        RdsCluster.TF_RESOURCE_TYPE,
        {
            "engine": "aurora-postgresql",
            "engine_version": "15.10",
            "storage_encrypted": True,
            "iam_database_authentication_enabled": True,
            "manage_master_user_password": True,
            "enabled_cloudwatch_logs_exports": ["postgresql"],
            "serverlessv2_scaling_configuration": {"min_capacity": 0.5, "max_capacity": 4},
            "deletion_protection": False,
            "skip_final_snapshot": True,
        },
    )
    cluster = only(stack_json, "aws_rds_cluster")
    assert "aws_kms_key" in cluster["kms_key_id"]
    assert "backtrack_window" not in cluster
    assert "master_password" not in cluster
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized, RdsClusterParameterGroup.TF_RESOURCE_TYPE, {"family": "aurora-postgresql15"}
    )
    parameters = {p["name"]: p["value"] for p in only(stack_json, RdsClusterParameterGroup.TF_RESOURCE_TYPE)["parameter"]}
    assert parameters["rds.force_ssl"] == "1"


def test_aurora_has_one_writer_and_the_configured_readers(stack_json: dict[str, Any], synthesized: str) -> None:
    instances = resources(stack_json, "aws_rds_cluster_instance")
    assert len(instances) == 3
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized,
        RdsClusterInstance.TF_RESOURCE_TYPE,
        {"instance_class": "db.serverless", "publicly_accessible": False, "performance_insights_enabled": True},
    )
    assert all("aws_kms_key" in i["performance_insights_kms_key_id"] for i in instances.values())


def test_prod_profile_protects_the_cluster(variant_json: dict[str, Any]) -> None:
    cluster = only(variant_json, "aws_rds_cluster")
    assert cluster["deletion_protection"] is True
    assert cluster["skip_final_snapshot"] is False
    assert cluster["final_snapshot_identifier"] == "tap-migrate-dev-aurora-final"
    assert cluster["backup_retention_period"] == 14


def test_dms_instance_is_private_and_encrypted(synthesized: str, stack_json: dict[str, Any]) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized, DmsReplicationInstance.TF_RESOURCE_TYPE, {"publicly_accessible": False}
    )
    instance = only(stack_json, "aws_dms_replication_instance")
    assert "aws_kms_key" in instance["kms_key_arn"]
    # Roles must exist before the first instance, or DMS fails to attach the VPC.
    assert any("dms-vpc-role" in dependency for dependency in instance["depends_on"])


def test_dms_service_roles_are_created_with_their_fixed_names(stack_json: dict[str, Any]) -> None:
    names = {role["name"] for role in resources(stack_json, "aws_iam_role").values()}
    assert {DMS_VPC_ROLE_NAME, DMS_CLOUDWATCH_LOGS_ROLE_NAME} <= names


def test_dms_service_roles_are_looked_up_when_another_stack_owns_them(variant_json: dict[str, Any]) -> None:
    names = {role["name"] for role in resources(variant_json, "aws_iam_role").values()}
    assert DMS_VPC_ROLE_NAME not in names
    looked_up = {d["name"] for d in variant_json["data"]["aws_iam_role"].values()}
    assert looked_up == {DMS_VPC_ROLE_NAME, DMS_CLOUDWATCH_LOGS_ROLE_NAME}


def test_source_endpoint_requires_ssl_and_reads_credentials_from_secrets_manager(
    synthesized: str, stack_json: dict[str, Any]
) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized,
        DmsEndpoint.TF_RESOURCE_TYPE,
        {"endpoint_type": "source", "engine_name": "postgres", "ssl_mode": "require"},
    )
    endpoints = {e["endpoint_id"]: e for e in resources(stack_json, "aws_dms_endpoint").values()}
    source = endpoints["tap-migrate-dev-source-onprem"]
    assert "aws_secretsmanager_secret" in source["secrets_manager_arn"]
    assert "dms-secrets-role" in source["secrets_manager_access_role_arn"]
    assert not {"password", "username"} & set(source)


def test_verify_full_uploads_the_ca_certificate(variant_json: dict[str, Any]) -> None:
    endpoints = {e["endpoint_id"]: e for e in resources(variant_json, "aws_dms_endpoint").values()}
    source = endpoints["tap-migrate-dev-source-onprem"]
    assert source["ssl_mode"] == "verify-full"
    assert "aws_dms_certificate" in source["certificate_arn"]
    assert source["secrets_manager_arn"].endswith(":secret:onprem-pg-AbCdEf")
    # An existing source secret is the forward task's reader; the reverse task writes with a secret of its own.
    created = {s["name"] for s in resources(variant_json, "aws_secretsmanager_secret").values()}
    assert created == {"tap-migrate-dev/dms-target", "tap-migrate-dev/dms-reverse-target-onprem"}


def test_target_endpoint_is_aurora_over_tls_with_its_own_dms_secret(stack_json: dict[str, Any]) -> None:
    endpoints = {e["endpoint_id"]: e for e in resources(stack_json, "aws_dms_endpoint").values()}
    target = endpoints["tap-migrate-dev-target-aurora"]
    assert target["engine_name"] == "aurora-postgresql"
    assert target["ssl_mode"] == "require"
    # Host and port come from the secret: DMS refuses them next to one, and the RDS master secret has neither.
    assert "server_name" not in target and "port" not in target and "password" not in target
    secrets = {name: body for name, body in resources(stack_json, "aws_secretsmanager_secret").items()}
    target_secret = next(name for name, body in secrets.items() if body["name"] == "tap-migrate-dev/dms-target")
    assert target["secrets_manager_arn"] == f"${{aws_secretsmanager_secret.{target_secret}.arn}}"
    assert "aws_kms_key" in secrets[target_secret]["kms_key_id"]


def test_secrets_role_reads_only_the_endpoint_secrets(stack_json: dict[str, Any]) -> None:
    policy = next(p for p in resources(stack_json, "aws_iam_role_policy").values() if p["name"] == "read-endpoint-secrets")
    read = statements(stack_json, policy["policy"])["ReadEndpointSecrets"]
    # The source's, Aurora's DMS user and the reverse task's user on the source.
    assert len(read["Resource"]) == 3 and "*" not in read["Resource"]
    assert all(re.fullmatch(r"\$\{aws_secretsmanager_secret\.[\w-]+\.arn\}", arn) for arn in read["Resource"])


def test_task_is_full_load_and_cdc_with_logging_and_validation(synthesized: str, stack_json: dict[str, Any]) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized,
        DmsReplicationTask.TF_RESOURCE_TYPE,
        {"migration_type": "full-load-and-cdc", "replication_task_id": "tap-migrate-dev-main"},
    )
    task = _forward_task(stack_json)
    settings = json.loads(task["replication_task_settings"])
    assert settings["Logging"]["EnableLogging"] is True
    assert settings["ValidationSettings"]["EnableValidation"] is True
    mappings = json.loads(task["table_mappings"])
    assert any(rule["rule-type"] == "selection" for rule in mappings["rules"])


def _forward_task(stack: dict[str, Any]) -> dict[str, Any]:
    tasks = {t["replication_task_id"]: t for t in resources(stack, "aws_dms_replication_task").values()}
    assert set(tasks) == {"tap-migrate-dev-main", "tap-migrate-dev-main-reverse"}
    return tasks["tap-migrate-dev-main"]


def test_task_settings_are_normalized_so_plans_do_not_drift(stack_json: dict[str, Any]) -> None:
    for task in resources(stack_json, "aws_dms_replication_task").values():
        settings_text = task["replication_task_settings"]
        assert settings_text == json.dumps(json.loads(settings_text), sort_keys=True, separators=(",", ":"))
        assert "CloudWatchLogGroup" not in settings_text


def test_dms_task_logs_have_retention_and_encryption(stack_json: dict[str, Any]) -> None:
    groups = {g["name"]: g for g in resources(stack_json, "aws_cloudwatch_log_group").values()}
    task_logs = groups["dms-tasks-tap-migrate-dev-dms"]
    assert task_logs["retention_in_days"] == 14
    assert "aws_kms_key" in task_logs["kms_key_id"]


def test_weighted_records_start_on_the_source_and_terraform_never_resets_them(
    synthesized: str, stack_json: dict[str, Any]
) -> None:
    records = resources(stack_json, "aws_route53_record")
    assert len(records) == 4
    weights = {(r["name"], r["set_identifier"]): r["weighted_routing_policy"]["weight"] for r in records.values()}
    assert weights == {
        ("reader.db.migration.internal", "source"): 100,
        ("reader.db.migration.internal", "aurora"): 0,
        ("writer.db.migration.internal", "source"): 100,
        ("writer.db.migration.internal", "aurora"): 0,
    }
    for record in records.values():
        assert {"weighted_routing_policy", "ttl"} <= set(record["lifecycle"]["ignore_changes"])
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized, Route53Record.TF_RESOURCE_TYPE, {"type": "CNAME", "ttl": 60}
    )


def test_reader_aurora_record_points_at_the_reader_endpoint(stack_json: dict[str, Any]) -> None:
    records = {(r["name"], r["set_identifier"]): r for r in resources(stack_json, "aws_route53_record").values()}
    assert records[("reader.db.migration.internal", "aurora")]["records"][0].endswith(".reader_endpoint}")
    assert records[("writer.db.migration.internal", "aurora")]["records"][0].endswith(".endpoint}")
    assert records[("writer.db.migration.internal", "source")]["records"] == ["onprem-pg.corp.example.com"]


def test_private_zone_is_attached_to_the_vpc_unless_an_existing_zone_is_given(
    stack_json: dict[str, Any], variant_json: dict[str, Any]
) -> None:
    zone = only(stack_json, "aws_route53_zone")
    assert "aws_vpc" in zone["vpc"][0]["vpc_id"]
    assert "aws_route53_zone" not in variant_json["resource"]
    assert {r["zone_id"] for r in resources(variant_json, "aws_route53_record").values()} == {"Z0123456789ABCDEFGHIJ"}


def test_cutover_state_parameter_starts_replicating_and_belongs_to_the_lambda(
    synthesized: str, stack_json: dict[str, Any]
) -> None:
    assert cdktf.Testing.to_have_resource_with_properties(
        synthesized,
        SsmParameter.TF_RESOURCE_TYPE,
        {"name": "/tap-migrate/dev/cutover/state", "type": "String", "value": INITIAL_CUTOVER_STATE},
    )
    assert only(stack_json, "aws_ssm_parameter")["lifecycle"]["ignore_changes"] == ["value"]


def _cutover_statements(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    policy = next(p for p in resources(stack, "aws_iam_role_policy").values() if p["name"] == "cutover")
    return statements(stack, policy["policy"])


def test_cutover_lambda_policy_is_least_privilege(stack_json: dict[str, Any]) -> None:
    statements = _cutover_statements(stack_json)
    wildcard = {sid for sid, s in statements.items() if s["Resource"] == "*" or "*" in s["Resource"]}
    # GetMetricData and DescribeReplicationTasks have no resource-level permissions; nothing else may be "*".
    assert wildcard == {"ReadLatencyMetrics", "DescribeReplicationTasks"}
    assert statements["ReadLatencyMetrics"]["Action"] == ["cloudwatch:GetMetricData"]
    assert statements["DescribeReplicationTasks"]["Action"] == ["dms:DescribeReplicationTasks"]
    assert statements["ReadProjectAlarms"]["Resource"][0].endswith(":alarm:tap-migrate-dev-health-*")
    route53 = statements["MoveWeightedRecordsInThisZone"]
    assert len(route53["Resource"]) == 1
    assert re.fullmatch(
        r"arn:\$\{data\.aws_partition\.\w+\.partition\}:route53:::hostedzone/\$\{aws_route53_zone\.\w+\.zone_id\}",
        route53["Resource"][0],
    )
    ssm = statements["StateAndLockParameters"]
    assert len(ssm["Resource"]) == 2 and ssm["Resource"][1].endswith("/tap-migrate/dev/cutover/lock")
    assert re.fullmatch(r"\$\{aws_sns_topic\.[\w-]+\.arn\}", statements["PublishTransitions"]["Resource"][0])
    assert re.fullmatch(r"\$\{aws_rds_cluster\.[\w-]+\.arn\}", statements["DescribeTargetCluster"]["Resource"][0])
    assert all(not any(a.endswith(":*") or a == "*" for a in s["Action"]) for s in statements.values())


def test_cutover_lambda_environment_matches_the_lambda_settings(stack_json: dict[str, Any]) -> None:
    function = only(stack_json, "aws_lambda_function")
    variables = function["environment"]["variables"]
    expected = {value for key, value in vars(CutoverEnv).items() if not key.startswith("_")}
    assert set(variables) == expected
    # The Lambda reads exactly what the stack sets, and accepts the synthesized values (tokens aside).
    from tap_cutover.settings import ENV_VARS

    assert {var for _, var in ENV_VARS} == expected
    assert function["handler"] == "tap_cutover.handler.handler"
    assert function["runtime"] == "python3.11"
    assert variables[CutoverEnv.READ_STEPS] == "10,25,50,100"
    assert int(variables[CutoverEnv.LOCK_TTL_SECONDS]) > function["timeout"]
    assert "aws_kms_key" in function["kms_key_arn"]


def test_cutover_is_triggered_by_task_events_and_a_schedule(stack_json: dict[str, Any]) -> None:
    rules = {r["name"]: r for r in resources(stack_json, "aws_cloudwatch_event_rule").values()}
    pattern = decode_jsonencode(rules["tap-migrate-dev-cutover-dms-task"]["event_pattern"])
    assert pattern["source"] == ["aws.dms"]
    # The forward task and the reverse one (the default config has it): a reverse failure ticks at once.
    tasks = {task["replication_task_id"]: key for key, task in resources(stack_json, "aws_dms_replication_task").items()}
    assert pattern["resources"] == [
        f"${{aws_dms_replication_task.{tasks[name]}.replication_task_arn}}"
        for name in ("tap-migrate-dev-main", "tap-migrate-dev-main-reverse")
    ]
    assert rules["tap-migrate-dev-cutover-tick"]["schedule_expression"] == "rate(5 minutes)"
    permissions = resources(stack_json, "aws_lambda_permission")
    assert {p["principal"] for p in permissions.values()} == {f"events.{DNS_SUFFIX}"}
    assert all("source_arn" in p for p in permissions.values())


def test_topic_is_encrypted_with_the_project_key(stack_json: dict[str, Any]) -> None:
    assert "aws_kms_key" in only(stack_json, "aws_sns_topic")["kms_master_key_id"]


# Emitted only by stacks with a transit gateway (example 004).
TRANSIT_GATEWAY_OUTPUTS = {Output.TRANSIT_GATEWAY_ATTACHMENT_ID}
# Emitted only by stacks with s3/kinesis targets (tested with the examples).
DATA_LAKE_OUTPUTS = {
    Output.DATA_LAKE_BUCKET,
    Output.GLUE_DATABASE,
    Output.GLUE_CRAWLERS,
    Output.ATHENA_WORKGROUP,
    Output.KINESIS_STREAM_ARNS,
    Output.FIREHOSE_DELIVERY_STREAMS,
}

# Emitted only with network.source_access = "internet" (tests/unit/test_internet_source.py, example 000).
INTERNET_SOURCE_OUTPUTS = {Output.NAT_PUBLIC_IPS, Output.INTERNET_SOURCE_CIDRS}


def test_every_output_key_is_emitted(stack_json: dict[str, Any]) -> None:
    every = {value for key, value in vars(Output).items() if not key.startswith("_")}
    expected = every - DATA_LAKE_OUTPUTS - TRANSIT_GATEWAY_OUTPUTS - INTERNET_SOURCE_OUTPUTS
    assert set(stack_json["output"]) == expected
    assert expected >= CORE_OUTPUTS


def test_no_password_or_secret_value_is_synthesized(synthesized: str, stack_json: dict[str, Any]) -> None:
    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if re.search(r"password|secret_string|secret_key|access_key|token", key, re.IGNORECASE):
                    assert not isinstance(value, str) or value == "" or key in ALLOWED_SECRETISH_KEYS, f"{path}.{key}"
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")

    walk(stack_json, "$")
    assert "aws_secretsmanager_secret_version" not in stack_json["resource"]
    assert "BEGIN RSA PRIVATE KEY" not in synthesized and "PRIVATE KEY-----" not in synthesized


ALLOWED_SECRETISH_KEYS = {"manage_master_user_password"}


def test_aws_target_provider_has_no_emulator_settings(stack_json: dict[str, Any], variant_json: dict[str, Any]) -> None:
    provider = stack_json["provider"]["aws"][0]
    assert provider["region"] == "us-east-1"
    assert "endpoints" not in provider and "skip_credentials_validation" not in provider
    assert provider["default_tags"][0]["tags"]["Owner"] == "platform-team"
    emulated = variant_json["provider"]["aws"][0]
    assert emulated["skip_credentials_validation"] is True
    assert set(emulated["endpoints"][0].values()) == {"http://127.0.0.1:4599"}
    assert "access_key" not in emulated and "secret_key" not in emulated


def test_vpc_flow_logs_go_to_an_encrypted_group_and_the_default_group_is_closed(stack_json: dict[str, Any]) -> None:
    flow_log = only(stack_json, "aws_flow_log")
    assert (flow_log["traffic_type"], flow_log["log_destination_type"]) == ("ALL", "cloud-watch-logs")
    groups = {g["name"]: g for g in resources(stack_json, "aws_cloudwatch_log_group").values()}
    assert "aws_kms_key" in groups["/tap-migrate-dev/vpc-flow-logs"]["kms_key_id"]
    default_group = only(stack_json, "aws_default_security_group")
    assert "ingress" not in default_group and "egress" not in default_group


def test_aurora_instances_have_enhanced_monitoring_and_ddl_logging(stack_json: dict[str, Any]) -> None:
    for instance in resources(stack_json, "aws_rds_cluster_instance").values():
        assert instance["monitoring_interval"] == 60
        assert "aws_iam_role" in instance["monitoring_role_arn"]
    parameters = {p["name"]: p["value"] for p in only(stack_json, "aws_rds_cluster_parameter_group")["parameter"]}
    assert parameters["log_statement"] == "ddl"
    assert parameters["rds.logical_replication"] == "1"


def test_the_emulator_provider_covers_every_service_the_stack_uses(variant_json: dict[str, Any]) -> None:
    """A resource whose service has no emulator endpoint would make the provider call real AWS (and hang offline)."""
    from lib.constructs.provider import EMULATED_SERVICES

    service_of = [
        (
            (
                "aws_vpc",
                "aws_subnet",
                "aws_route",
                "aws_security_group",
                "aws_default_security_group",
                "aws_flow_log",
                "aws_customer_gateway",
                "aws_vpn_",
                "aws_ec2_transit_gateway",
            ),
            "ec2",
        ),
        (("aws_route53_resolver_",), "route53_resolver"),
        (("aws_availability_zones",), "ec2"),
        (("aws_kms_",), "kms"),
        (("aws_iam_role",), "iam"),
        (("aws_rds_", "aws_db_"), "rds"),
        (("aws_dms_",), "dms"),
        (("aws_secretsmanager_",), "secretsmanager"),
        (("aws_sns_",), "sns"),
        (("aws_ssm_",), "ssm"),
        (("aws_cloudwatch_log_group",), "cloudwatchlogs"),
        (("aws_cloudwatch_metric_alarm", "aws_cloudwatch_dashboard"), "cloudwatch"),
        (("aws_cloudwatch_event_",), "eventbridge"),
        (("aws_lambda_",), "lambda_"),
        (("aws_route53_",), "route53"),
        (("aws_backup_",), "backup"),
        (("aws_caller_identity",), "sts"),
    ]
    local_only = {"aws_partition", "aws_iam_policy_document"}
    used = set(variant_json["resource"]) | (set(variant_json["data"]) - local_only)
    for resource_type in sorted(used):
        service = next((svc for prefixes, svc in service_of if resource_type.startswith(prefixes)), None)
        assert service is not None, f"{resource_type}: map it to its service here and in EMULATED_SERVICES"
        assert service in EMULATED_SERVICES, f"{resource_type} needs the {service} endpoint in the emulator provider"
