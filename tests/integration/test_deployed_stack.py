"""The deployed stack, checked through the AWS APIs (emulator or real account, same files)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

import pytest

from lib.constants import SET_ID_AURORA, SET_ID_SOURCE, CutoverEnv, Output

pytestmark = pytest.mark.integration
Client = Callable[[str], Any]


def test_network_is_one_vpc_with_three_private_subnets_in_three_zones(outputs: dict[str, Any], aws: Client) -> None:
    ec2 = aws("ec2")
    subnets = ec2.describe_subnets(SubnetIds=outputs[Output.PRIVATE_SUBNET_IDS])["Subnets"]
    assert len(subnets) == 3
    assert {s["VpcId"] for s in subnets} == {outputs[Output.VPC_ID]}
    assert len({s["AvailabilityZone"] for s in subnets}) == 3
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)
    gateways = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [outputs[Output.VPC_ID]]}])
    assert gateways["InternetGateways"] == []


def test_security_groups_admit_only_dms_and_on_premises_applications_into_aurora(outputs: dict[str, Any], aws: Client) -> None:
    ec2 = aws("ec2")
    (aurora_group,) = ec2.describe_security_groups(GroupIds=[outputs[Output.AURORA_SECURITY_GROUP_ID]])["SecurityGroups"]
    permissions = aurora_group["IpPermissions"]
    assert {(rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) for rule in permissions} == {("tcp", 5432, 5432)}
    groups = [pair["GroupId"] for rule in permissions for pair in rule["UserIdGroupPairs"]]
    assert groups == [outputs[Output.DMS_SECURITY_GROUP_ID]]
    # CIDR ingress only from application networks on-premises (each inside a routed on-premises block).
    on_premises = [ipaddress.ip_network(cidr) for cidr in outputs[Output.ON_PREMISES_CIDRS]]
    for cidr in (r["CidrIp"] for rule in permissions for r in rule["IpRanges"]):
        assert any(ipaddress.ip_network(cidr).subnet_of(block) for block in on_premises), cidr


def test_kms_key_rotates(outputs: dict[str, Any], aws: Client) -> None:
    kms = aws("kms")
    assert kms.get_key_rotation_status(KeyId=outputs[Output.KMS_KEY_ARN])["KeyRotationEnabled"] is True
    aliases = kms.list_aliases(KeyId=outputs[Output.KMS_KEY_ARN])["Aliases"]
    assert outputs[Output.KMS_KEY_ALIAS] in {a["AliasName"] for a in aliases}


def test_aurora_cluster_and_instances_are_encrypted_in_the_private_subnets(outputs: dict[str, Any], aws: Client) -> None:
    rds = aws("rds")
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=outputs[Output.AURORA_CLUSTER_ID])["DBClusters"]
    assert cluster["StorageEncrypted"] is True
    assert cluster["KmsKeyId"] == outputs[Output.KMS_KEY_ARN]
    assert cluster["Engine"] == "aurora-postgresql" and cluster["EngineVersion"].startswith("15.")
    assert cluster["IAMDatabaseAuthenticationEnabled"] is True
    assert (
        cluster["ServerlessV2ScalingConfiguration"]["MinCapacity"] <= cluster["ServerlessV2ScalingConfiguration"]["MaxCapacity"]
    )
    assert cluster["MasterUserSecret"]["SecretArn"] == outputs[Output.AURORA_MASTER_SECRET_ARN]
    members = {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in cluster["DBClusterMembers"]}
    assert set(members) == set(outputs[Output.AURORA_INSTANCE_IDS])
    assert sum(members.values()) == 1
    subnet_group = rds.describe_db_subnet_groups(DBSubnetGroupName=cluster["DBSubnetGroup"])["DBSubnetGroups"][0]
    assert {s["SubnetIdentifier"] for s in subnet_group["Subnets"]} == set(outputs[Output.PRIVATE_SUBNET_IDS])
    for instance_id in outputs[Output.AURORA_INSTANCE_IDS]:
        (instance,) = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"]
        assert instance["StorageEncrypted"] is True
        assert instance["PubliclyAccessible"] is False
        assert instance["DBInstanceClass"] == "db.serverless"


# DMS reports an endpoint's secret settings under its engine's settings block.
SETTINGS_BLOCK = {
    "postgres": "PostgreSQLSettings",
    "aurora-postgresql": "PostgreSQLSettings",
    "mysql": "MySQLSettings",
    "mariadb": "MySQLSettings",
    "aurora": "MySQLSettings",
}


def test_dms_endpoints_use_ssl_and_secrets(outputs: dict[str, Any], aws: Client) -> None:
    dms = aws("dms")
    sources = outputs[Output.DMS_SOURCE_ENDPOINT_ARNS]
    targets = outputs[Output.DMS_TARGET_ENDPOINT_ARNS]
    arns = [*sources.values(), *targets.values()]
    endpoints = {
        e["EndpointArn"]: e for e in dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": arns}])["Endpoints"]
    }
    assert set(endpoints) == set(arns)
    database_endpoints = {arn: e for arn, e in endpoints.items() if e["EngineName"] in SETTINGS_BLOCK}
    assert set(sources.values()) <= set(database_endpoints)
    for endpoint in database_endpoints.values():
        assert endpoint["SslMode"] in ("require", "verify-ca", "verify-full")
        assert endpoint["KmsKeyId"] == outputs[Output.KMS_KEY_ARN]
        settings = endpoint[SETTINGS_BLOCK[endpoint["EngineName"]]]
        assert settings["SecretsManagerAccessRoleArn"] == outputs[Output.DMS_SECRETS_ACCESS_ROLE_ARN]
        assert "Password" not in endpoint and "Password" not in settings
    for key, arn in sources.items():
        endpoint = endpoints[arn]
        assert endpoint["EndpointType"].lower() == "source"
        assert (
            endpoint[SETTINGS_BLOCK[endpoint["EngineName"]]]["SecretsManagerSecretId"] == outputs[Output.SOURCE_SECRET_ARNS][key]
        )
    assert {endpoints[arn]["EndpointType"].lower() for arn in targets.values()} == {"target"}


def test_dms_instance_is_private_and_encrypted(outputs: dict[str, Any], aws: Client) -> None:
    instances = aws("dms").describe_replication_instances(
        Filters=[{"Name": "replication-instance-arn", "Values": [outputs[Output.DMS_REPLICATION_INSTANCE_ARN]]}]
    )["ReplicationInstances"]
    (instance,) = instances
    assert instance["PubliclyAccessible"] is False
    assert instance["KmsKeyId"] == outputs[Output.KMS_KEY_ARN]


def test_dms_task_is_full_load_and_cdc_with_logging_and_validation(outputs: dict[str, Any], aws: Client) -> None:
    task_arn = outputs[Output.DMS_TASK_ARNS]["main"]
    (task,) = aws("dms").describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [task_arn]}])[
        "ReplicationTasks"
    ]
    assert task["MigrationType"] == "full-load-and-cdc"
    assert task["SourceEndpointArn"] in outputs[Output.DMS_SOURCE_ENDPOINT_ARNS].values()
    assert task["TargetEndpointArn"] in outputs[Output.DMS_TARGET_ENDPOINT_ARNS].values()
    settings = json.loads(task["ReplicationTaskSettings"])
    assert settings["Logging"]["EnableLogging"] is True
    assert settings["ValidationSettings"]["EnableValidation"] is True
    assert any(rule["rule-type"] == "selection" for rule in json.loads(task["TableMappings"])["rules"])


def test_reverse_task_is_stopped_cdc_from_aurora_into_the_source(outputs: dict[str, Any], aws: Client) -> None:
    dms = aws("dms")
    arns = [outputs[Output.REVERSE_TASK_ARN], outputs[Output.DMS_TASK_ARNS]["main"]]
    tasks = {
        t["ReplicationTaskArn"]: t
        for t in dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": arns}])["ReplicationTasks"]
    }
    reverse, forward = tasks[arns[0]], tasks[arns[1]]
    assert reverse["MigrationType"] == "cdc"
    # Created, never started: the operator CLI starts it at the writer flip with a CDC start position.
    assert reverse["Status"] in ("ready", "stopped")
    assert reverse["ReplicationInstanceArn"] == forward["ReplicationInstanceArn"]
    assert json.loads(reverse["TableMappings"]) == json.loads(forward["TableMappings"])
    settings = json.loads(reverse["ReplicationTaskSettings"])
    assert settings["FullLoadSettings"]["TargetTablePrepMode"] == "DO_NOTHING"
    assert settings["TargetMetadata"]["BatchApplyEnabled"] is False
    assert settings["Logging"]["EnableLogging"] is True

    endpoint_arns = [reverse["SourceEndpointArn"], reverse["TargetEndpointArn"]]
    endpoints = {
        e["EndpointArn"]: e
        for e in dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": endpoint_arns}])["Endpoints"]
    }
    aurora, source = endpoints[endpoint_arns[0]], endpoints[endpoint_arns[1]]
    assert (aurora["EndpointType"].lower(), aurora["EngineName"], aurora["SslMode"]) == ("source", "aurora-postgresql", "require")
    assert (source["EndpointType"].lower(), source["EngineName"]) == ("target", "postgres")
    assert source["SslMode"] in ("require", "verify-ca", "verify-full")
    # Aurora is read with the forward task's Aurora user; the source is written with a user of its own.
    assert aurora["PostgreSQLSettings"]["SecretsManagerSecretId"] == outputs[Output.TARGET_SECRET_ARN]
    assert aurora["PostgreSQLSettings"]["SlotName"] == outputs[Output.REVERSE_SLOT_NAME]
    assert source["PostgreSQLSettings"]["SecretsManagerSecretId"] == outputs[Output.REVERSE_TARGET_SECRET_ARN]
    assert outputs[Output.REVERSE_TARGET_SECRET_ARN] not in outputs[Output.SOURCE_SECRET_ARNS].values()
    for endpoint in (aurora, source):
        assert endpoint["KmsKeyId"] == outputs[Output.KMS_KEY_ARN]
        assert endpoint["PostgreSQLSettings"]["SecretsManagerAccessRoleArn"] == outputs[Output.DMS_SECRETS_ACCESS_ROLE_ARN]
    secret = aws("secretsmanager").describe_secret(SecretId=outputs[Output.REVERSE_TARGET_SECRET_ARN])
    assert secret["KmsKeyId"] == outputs[Output.KMS_KEY_ARN]


def _weighted(outputs: dict[str, Any], aws: Client) -> dict[tuple[str, str], dict[str, Any]]:
    records = aws("route53").list_resource_record_sets(HostedZoneId=outputs[Output.HOSTED_ZONE_ID])["ResourceRecordSets"]
    return {(r["Name"].rstrip("."), r["SetIdentifier"]): r for r in records if "SetIdentifier" in r}


def test_route53_weighted_pairs_exist_and_each_sums_to_100(outputs: dict[str, Any], aws: Client) -> None:
    records = _weighted(outputs, aws)
    for name in (outputs[Output.READER_RECORD_NAME], outputs[Output.WRITER_RECORD_NAME]):
        pair = [records[(name, SET_ID_SOURCE)], records[(name, SET_ID_AURORA)]]
        assert all(r["Type"] == "CNAME" for r in pair)
        assert sum(r["Weight"] for r in pair) == 100
    assert (
        records[(outputs[Output.WRITER_RECORD_NAME], SET_ID_AURORA)]["ResourceRecords"][0]["Value"]
        == outputs[Output.AURORA_WRITER_ENDPOINT]
    )
    assert (
        records[(outputs[Output.READER_RECORD_NAME], SET_ID_AURORA)]["ResourceRecords"][0]["Value"]
        == outputs[Output.AURORA_READER_ENDPOINT]
    )


def test_cutover_lambda_configuration_and_environment(outputs: dict[str, Any], aws: Client) -> None:
    function = aws("lambda").get_function_configuration(FunctionName=outputs[Output.CUTOVER_FUNCTION_NAME])
    assert function["Runtime"] == "python3.11"
    assert function["Handler"] == "tap_cutover.handler.handler"
    variables = function["Environment"]["Variables"]
    assert set(variables) == {v for k, v in vars(CutoverEnv).items() if not k.startswith("_")}
    assert variables[CutoverEnv.STATE_PARAMETER_NAME] == outputs[Output.CUTOVER_STATE_PARAMETER]
    assert variables[CutoverEnv.HOSTED_ZONE_ID] == outputs[Output.HOSTED_ZONE_ID]
    assert variables[CutoverEnv.DMS_REPLICATION_ARN] == outputs[Output.DMS_TASK_ARNS]["main"]
    assert variables[CutoverEnv.AURORA_WRITER_ENDPOINT] == outputs[Output.AURORA_WRITER_ENDPOINT]


def test_cutover_state_document_is_versioned_json(outputs: dict[str, Any], aws: Client) -> None:
    value = aws("ssm").get_parameter(Name=outputs[Output.CUTOVER_STATE_PARAMETER])["Parameter"]["Value"]
    document = json.loads(value)
    assert isinstance(document["version"], int) and document["version"] >= 1
    assert document["phase"] in {
        "replicating",
        "reads_shifting",
        "write_fence",
        "writer_flipped",
        "completed",
        "paused",
        "rolled_back",
    }


def test_alarms_notify_the_encrypted_topic_and_the_dashboard_exists(outputs: dict[str, Any], aws: Client) -> None:
    cloudwatch = aws("cloudwatch")
    alarms = cloudwatch.describe_alarms(AlarmNames=outputs[Output.ALARM_NAMES])["MetricAlarms"]
    assert len(alarms) == len(outputs[Output.ALARM_NAMES]) >= 9
    assert all(a["AlarmActions"] == [outputs[Output.NOTIFICATION_TOPIC_ARN]] for a in alarms)
    lag = [a for a in alarms if a["MetricName"].startswith("CDCLatency")]
    assert {a["MetricName"] for a in lag} == {"CDCLatencySource", "CDCLatencyTarget"}
    assert all(a["TreatMissingData"] == "breaching" for a in lag)
    body = json.loads(cloudwatch.get_dashboard(DashboardName=outputs[Output.DASHBOARD_NAME])["DashboardBody"])
    metrics = [m for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]
    assert any(m[1] == "CDCLatencySource" for m in metrics)
    attributes = aws("sns").get_topic_attributes(TopicArn=outputs[Output.NOTIFICATION_TOPIC_ARN])["Attributes"]
    assert attributes["KmsMasterKeyId"] == outputs[Output.KMS_KEY_ARN]


def test_backup_plan_targets_the_encrypted_vault(outputs: dict[str, Any], aws: Client) -> None:
    backup = aws("backup")
    plan = backup.get_backup_plan(BackupPlanId=outputs[Output.BACKUP_PLAN_ID])["BackupPlan"]
    rules = {r["RuleName"]: r for r in plan["Rules"]}
    assert rules["daily"]["TargetBackupVaultName"] == outputs[Output.BACKUP_VAULT_NAME]
    vault = backup.describe_backup_vault(BackupVaultName=outputs[Output.BACKUP_VAULT_NAME])
    assert vault["EncryptionKeyArn"] == outputs[Output.KMS_KEY_ARN]
