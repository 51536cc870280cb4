"""The moto patches (tools/moto_patches.py) against a real moto server, and the emulator launcher's lifecycle.

Each patch test asserts the AWS behaviour the patch promises, through boto3 against a
ThreadedMotoServer on a free loopback port (the same serving path the launcher uses); the DMS
timestamp tests read the raw JSON body, because boto3 parses ISO strings and numbers alike.
Patches are applied per test and reverted after, so moto is unchanged for the rest of the session.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.backup.responses import BackupResponse
from moto.dms.models import FakeReplicationInstance, FakeReplicationTask
from moto.dms.responses import DatabaseMigrationServiceResponse
from moto.rds.models import DBInstance
from moto.route53.responses import Route53

from tools import emulator, moto_patches

from .moto_server import serve

REGION = "us-east-1"
ACCOUNT = "123456789012"

ClientFactory = Callable[[str], Any]
# Service names come from the tests as plain strings; boto3's stubs only type literal ones.
boto3_client: Callable[..., Any] = boto3.client


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    yield from serve()


@pytest.fixture
def patched(server_url: str) -> Iterator[str]:
    assert loopback_request(server_url, "POST", "/moto-api/reset")[0] == 200
    with moto_patches.applied():
        yield server_url


@pytest.fixture
def client(patched: str) -> ClientFactory:
    def make(service: str) -> Any:
        return boto3_client(
            service,
            region_name=REGION,
            endpoint_url=patched,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


def loopback_request(url: str, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """A plain HTTP request straight to the loopback server (no proxy settings can divert it)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def raw_bodies(service_client: Any) -> list[dict[str, Any]]:
    """Every raw JSON response body the client receives from now on, before botocore parses it."""
    bodies: list[dict[str, Any]] = []

    def capture(response_dict: dict[str, Any], **_: Any) -> None:
        bodies.append(json.loads(response_dict["body"] or b"{}"))

    service_client.meta.events.register("before-parse.*.*", capture)
    return bodies


def is_epoch_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 1_500_000_000


@pytest.fixture
def subnets(client: ClientFactory) -> tuple[str, list[str]]:
    ec2 = client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{index}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
        for index, zone in enumerate("ab")
    ]
    return vpc_id, ids


@pytest.fixture
def dms_task(client: ClientFactory, subnets: tuple[str, list[str]]) -> dict[str, str]:
    dms = client("dms")
    dms.create_replication_subnet_group(
        ReplicationSubnetGroupIdentifier="sg", ReplicationSubnetGroupDescription="d", SubnetIds=subnets[1]
    )
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="ri", ReplicationInstanceClass="dms.t3.medium", ReplicationSubnetGroupIdentifier="sg"
    )["ReplicationInstance"]["ReplicationInstanceArn"]
    endpoints = [
        dms.create_endpoint(EndpointIdentifier=name, EndpointType=kind, EngineName="postgres")["Endpoint"]["EndpointArn"]
        for name, kind in (("src", "source"), ("dst", "target"))
    ]
    task = dms.create_replication_task(
        ReplicationTaskIdentifier="task",
        SourceEndpointArn=endpoints[0],
        TargetEndpointArn=endpoints[1],
        ReplicationInstanceArn=instance,
        MigrationType="full-load-and-cdc",
        TableMappings=json.dumps({"rules": []}),
    )["ReplicationTask"]["ReplicationTaskArn"]
    return {"instance": instance, "task": task}


# --- version pin and guards -------------------------------------------------------------------------


def test_patches_target_the_installed_moto() -> None:
    moto_patches.check_moto_version()
    with pytest.raises(moto_patches.MotoPatchError, match=r"targets moto 5\.2\.1, found 5\.3\.0"):
        moto_patches.check_moto_version("5.3.0")


def test_a_patch_fails_loudly_when_the_attribute_it_replaces_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(Route53, "create_hosted_zone")
    with pytest.raises(moto_patches.MotoPatchError, match=r"Route53\.create_hosted_zone is gone"):
        moto_patches.patch_route53_private_zone_from_vpc()
    assert not moto_patches.is_applied()


def test_an_added_action_fails_loudly_once_moto_implements_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BackupResponse, "create_backup_selection", lambda self: "{}", raising=False)
    with pytest.raises(moto_patches.MotoPatchError, match=r"create_backup_selection exists now"):
        moto_patches.patch_backup_selections()


def test_apply_all_is_all_or_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    original = vars(FakeReplicationInstance)["to_dict"]

    def broken() -> None:
        raise moto_patches.MotoPatchError("moto changed")

    monkeypatch.setattr(moto_patches, "PATCHES", (moto_patches.patch_dms_timestamps, broken))
    with pytest.raises(moto_patches.MotoPatchError, match="moto changed"):
        moto_patches.apply_all()
    assert not moto_patches.is_applied()
    assert vars(FakeReplicationInstance)["to_dict"] is original


def test_applied_restores_moto_exactly() -> None:
    before = {
        "instance": vars(FakeReplicationInstance)["to_dict"],
        "task": vars(FakeReplicationTask)["to_dict"],
        "route53": vars(Route53)["create_hosted_zone"],
    }
    with moto_patches.applied() as names:
        assert len(names) == len(moto_patches.PATCHES)
        assert moto_patches.apply_all() == names  # a second apply wraps nothing twice
        assert vars(FakeReplicationTask)["to_dict"] is not before["task"]
        assert hasattr(DatabaseMigrationServiceResponse, "create_event_subscription")
        assert hasattr(DatabaseMigrationServiceResponse, "import_certificate")
        assert hasattr(DatabaseMigrationServiceResponse, "create_replication_config")
    assert vars(FakeReplicationInstance)["to_dict"] is before["instance"]
    assert vars(FakeReplicationTask)["to_dict"] is before["task"]
    assert vars(Route53)["create_hosted_zone"] is before["route53"]
    assert not hasattr(DatabaseMigrationServiceResponse, "create_event_subscription")
    assert not hasattr(DatabaseMigrationServiceResponse, "import_certificate")
    assert not hasattr(DatabaseMigrationServiceResponse, "describe_replications")
    assert not hasattr(BackupResponse, "get_backup_selection")
    assert "performance_insights_enabled" not in vars(DBInstance)


# --- DMS --------------------------------------------------------------------------------------------


def test_dms_instance_create_time_is_an_epoch_number(client: ClientFactory, subnets: tuple[str, list[str]]) -> None:
    dms = client("dms")
    dms.create_replication_subnet_group(
        ReplicationSubnetGroupIdentifier="sg", ReplicationSubnetGroupDescription="d", SubnetIds=subnets[1]
    )
    bodies = raw_bodies(dms)
    dms.create_replication_instance(
        ReplicationInstanceIdentifier="ri", ReplicationInstanceClass="dms.t3.medium", ReplicationSubnetGroupIdentifier="sg"
    )
    dms.describe_replication_instances()
    created, described = bodies
    assert is_epoch_number(created["ReplicationInstance"]["InstanceCreateTime"])
    assert is_epoch_number(described["ReplicationInstances"][0]["InstanceCreateTime"])


def test_dms_task_dates_are_epoch_numbers_and_absent_until_set(client: ClientFactory, dms_task: dict[str, str]) -> None:
    dms = client("dms")
    bodies = raw_bodies(dms)
    dms.describe_replication_tasks()
    dms.start_replication_task(ReplicationTaskArn=dms_task["task"], StartReplicationTaskType="start-replication")
    not_started, started = (bodies[0]["ReplicationTasks"][0], bodies[1]["ReplicationTask"])
    assert is_epoch_number(not_started["ReplicationTaskCreationDate"])
    assert "ReplicationTaskStartDate" not in not_started
    assert "StopDate" not in not_started["ReplicationTaskStats"]
    assert is_epoch_number(started["ReplicationTaskStartDate"])
    assert is_epoch_number(started["ReplicationTaskStats"]["StartDate"])


def test_dms_task_is_ready_after_creation(client: ClientFactory, dms_task: dict[str, str]) -> None:
    task = client("dms").describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [dms_task["task"]]}])
    assert task["ReplicationTasks"][0]["Status"] == "ready"


def test_dms_task_settings_come_back_as_aws_answers_them(client: ClientFactory, dms_task: dict[str, str]) -> None:
    dms = client("dms")
    sent = {
        "FullLoadSettings": {"MaxFullLoadSubTasks": 16, "ParallelLoadThreads": 4},  # the second is not DMS's (#45376)
        "Logging": {
            "EnableLogging": True,
            "LogComponents": [{"Id": "SOURCE_CAPTURE", "Severity": "LOGGER_SEVERITY_DEBUG"}],
        },
        "ValidationSettings": {"EnableValidation": True},
        "BeforeImageSettings": {"EnableBeforeImage": True, "FieldName": "before", "ColumnFilter": "pk-only"},
        "NotADmsSection": {"x": 1},
    }
    arn = dms.create_replication_task(
        ReplicationTaskIdentifier="shaped",
        SourceEndpointArn=dms.describe_endpoints()["Endpoints"][0]["EndpointArn"],
        TargetEndpointArn=dms.describe_endpoints()["Endpoints"][1]["EndpointArn"],
        ReplicationInstanceArn=dms_task["instance"],
        MigrationType="cdc",
        TableMappings=json.dumps({"rules": []}),
        ReplicationTaskSettings=json.dumps(sent),
    )["ReplicationTask"]["ReplicationTaskArn"]
    task = dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])["ReplicationTasks"][0]
    answered = json.loads(task["ReplicationTaskSettings"])
    defaults = moto_patches.default_task_settings()
    # Sent values win; every other documented setting is DMS's default; what DMS does not know is gone.
    assert answered["FullLoadSettings"] == {**defaults["FullLoadSettings"], "MaxFullLoadSubTasks": 16}
    assert answered["ValidationSettings"] == {**defaults["ValidationSettings"], "EnableValidation": True}
    assert answered["StreamBufferSettings"] == defaults["StreamBufferSettings"]
    assert answered["BeforeImageSettings"] == sent["BeforeImageSettings"]
    assert "NotADmsSection" not in answered
    # Every log component, with the severity sent; the log group and stream DMS writes to.
    components = {component["Id"]: component["Severity"] for component in answered["Logging"]["LogComponents"]}
    assert len(components) == len(defaults["Logging"]["LogComponents"])
    assert components["SOURCE_CAPTURE"] == "LOGGER_SEVERITY_DEBUG"
    assert components["TARGET_APPLY"] == "LOGGER_SEVERITY_DEFAULT"
    assert answered["Logging"]["CloudWatchLogGroup"] == "dms-tasks-ri"
    assert answered["Logging"]["CloudWatchLogStream"] == f"dms-task-{arn.rsplit(':', 1)[-1]}"
    assert answered["ControlTablesSettings"]["historyTimeslotInMinutes"] == 5


def test_dms_task_without_logging_names_no_log_group(dms_task: dict[str, str], client: ClientFactory) -> None:
    task = client("dms").describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [dms_task["task"]]}])
    answered = json.loads(task["ReplicationTasks"][0]["ReplicationTaskSettings"])
    # Created without settings: the whole default document, logging off, so no log destination.
    expected = moto_patches.default_task_settings()
    assert answered == expected
    assert answered["Logging"]["CloudWatchLogGroup"] is None


def test_aws_shaped_settings_ignore_sent_log_destinations() -> None:
    sent = {"Logging": {"EnableLogging": True, "CloudWatchLogGroup": "mine", "CloudWatchLogStream": "mine"}}
    shaped = moto_patches.aws_shaped_task_settings(sent, log_group="dms-tasks-ri", log_stream="dms-task-ABC")
    assert (shaped["Logging"]["CloudWatchLogGroup"], shaped["Logging"]["CloudWatchLogStream"]) == ("dms-tasks-ri", "dms-task-ABC")
    assert (
        moto_patches.aws_shaped_task_settings("not an object", log_group="g", log_stream="s")["Logging"]["EnableLogging"] is False
    )


def test_dms_task_settings_as_sent_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(moto_patches.DMS_SETTINGS_AS_SENT_ENV, "1")
    original = vars(FakeReplicationTask)["to_dict"]
    with moto_patches.applied():
        task = FakeReplicationTask(
            "t", "cdc", "arn:aws:dms:us-east-1:1:rep:ri", "s", "d", "{}", '{"Logging":{}}', ACCOUNT, REGION
        )
        assert task.to_dict()["ReplicationTaskSettings"] == '{"Logging":{}}'
        # The timestamp patch still wraps to_dict; only the settings shape is left out.
        assert vars(FakeReplicationTask)["to_dict"] is not original


def test_dms_subnet_group_answers_its_own_subnets_vpc_and_tags(client: ClientFactory, subnets: tuple[str, list[str]]) -> None:
    vpc_id, subnet_ids = subnets
    dms = client("dms")
    dms.create_replication_subnet_group(
        ReplicationSubnetGroupIdentifier="sg",
        ReplicationSubnetGroupDescription="d",
        SubnetIds=subnet_ids,
        Tags=[{"Key": "Project", "Value": "tap"}],
    )
    group = dms.describe_replication_subnet_groups()["ReplicationSubnetGroups"][0]
    assert group["VpcId"] == vpc_id
    assert {(s["SubnetIdentifier"], s["SubnetAvailabilityZone"]["Name"]) for s in group["Subnets"]} == {
        (subnet_ids[0], f"{REGION}a"),
        (subnet_ids[1], f"{REGION}b"),
    }
    arn = f"arn:aws:dms:{REGION}:{ACCOUNT}:subgrp:sg"
    assert dms.list_tags_for_resource(ResourceArn=arn)["TagList"] == [{"Key": "Project", "Value": "tap", "ResourceArn": arn}]
    dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier="sg")
    assert dms.list_tags_for_resource(ResourceArn=arn)["TagList"] == []


def test_dms_subnet_group_rejects_unknown_subnets_and_a_single_zone(
    client: ClientFactory, subnets: tuple[str, list[str]]
) -> None:
    dms = client("dms")
    with pytest.raises(ClientError) as unknown:
        dms.create_replication_subnet_group(
            ReplicationSubnetGroupIdentifier="sg", ReplicationSubnetGroupDescription="d", SubnetIds=["subnet-0000000000"]
        )
    assert unknown.value.response["Error"]["Code"] == "InvalidSubnet"
    with pytest.raises(ClientError) as one_zone:
        dms.create_replication_subnet_group(
            ReplicationSubnetGroupIdentifier="sg", ReplicationSubnetGroupDescription="d", SubnetIds=subnets[1][:1]
        )
    assert one_zone.value.response["Error"]["Code"] == "ReplicationSubnetGroupDoesNotCoverEnoughAZs"


def test_dms_event_subscription_lifecycle(client: ClientFactory) -> None:
    topic = client("sns").create_topic(Name="events")["TopicArn"]
    dms = client("dms")
    created = dms.create_event_subscription(
        SubscriptionName="es",
        SnsTopicArn=topic,
        SourceType="replication-task",
        EventCategories=["failure", "state change"],
        Tags=[{"Key": "Project", "Value": "tap"}],
    )["EventSubscription"]
    assert created["Status"] == "creating"
    (found,) = dms.describe_event_subscriptions(SubscriptionName="es")["EventSubscriptionsList"]
    assert found["Status"] == "active"
    assert (found["CustSubscriptionId"], found["SnsTopicArn"], found["Enabled"]) == ("es", topic, True)
    assert sorted(found["EventCategoriesList"]) == ["failure", "state change"]
    arn = f"arn:aws:dms:{REGION}:{ACCOUNT}:es:es"
    assert [tag["Key"] for tag in dms.list_tags_for_resource(ResourceArn=arn)["TagList"]] == ["Project"]

    dms.modify_event_subscription(SubscriptionName="es", Enabled=False, EventCategories=["failure"])
    (modified,) = dms.describe_event_subscriptions(SubscriptionName="es")["EventSubscriptionsList"]
    assert (modified["Enabled"], modified["EventCategoriesList"]) == (False, ["failure"])

    dms.delete_event_subscription(SubscriptionName="es")
    with pytest.raises(ClientError) as gone:
        dms.describe_event_subscriptions(SubscriptionName="es")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundFault"
    assert dms.list_tags_for_resource(ResourceArn=arn)["TagList"] == []


def test_dms_event_subscription_needs_an_existing_topic(client: ClientFactory) -> None:
    with pytest.raises(ClientError) as error:
        client("dms").create_event_subscription(
            SubscriptionName="es", SnsTopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:missing", SourceType="replication-task"
        )
    assert error.value.response["Error"]["Code"] == "SNSInvalidTopicFault"


def test_dms_certificate_lifecycle(client: ClientFactory) -> None:
    pem = (Path(__file__).parent / "fixtures" / "source-ca.pem").read_text()
    dms = client("dms")
    bodies = raw_bodies(dms)
    imported = dms.import_certificate(
        CertificateIdentifier="source-ca", CertificatePem=pem, Tags=[{"Key": "Project", "Value": "tap"}]
    )
    arn = imported["Certificate"]["CertificateArn"]
    assert arn.startswith(f"arn:aws:dms:{REGION}:{ACCOUNT}:cert:")
    raw = bodies[0]["Certificate"]
    assert all(is_epoch_number(raw[key]) for key in ("CertificateCreationDate", "ValidFromDate", "ValidToDate"))
    (found,) = dms.describe_certificates(Filters=[{"Name": "certificate-id", "Values": ["source-ca"]}])["Certificates"]
    assert (found["CertificateArn"], found["CertificatePem"]) == (arn, pem)
    assert [tag["Key"] for tag in dms.list_tags_for_resource(ResourceArn=arn)["TagList"]] == ["Project"]
    with pytest.raises(ClientError) as taken:
        dms.import_certificate(CertificateIdentifier="source-ca", CertificatePem=pem)
    assert taken.value.response["Error"]["Code"] == "ResourceAlreadyExistsFault"

    dms.delete_certificate(CertificateArn=arn)
    with pytest.raises(ClientError) as gone:
        dms.describe_certificates(Filters=[{"Name": "certificate-id", "Values": ["source-ca"]}])
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundFault"
    assert dms.list_tags_for_resource(ResourceArn=arn)["TagList"] == []


def test_dms_modify_endpoint_merges_settings_and_replaces_members(client: ClientFactory) -> None:
    dms = client("dms")
    arn = dms.create_endpoint(
        EndpointIdentifier="lake",
        EndpointType="target",
        EngineName="s3",
        S3Settings={"BucketName": "lake", "BucketFolder": "raw", "DataFormat": "csv"},
    )["Endpoint"]["EndpointArn"]
    answered = dms.modify_endpoint(EndpointArn=arn, S3Settings={"DataFormat": "parquet"}, SslMode="none")["Endpoint"]
    assert answered["S3Settings"] == {"BucketName": "lake", "BucketFolder": "raw", "DataFormat": "parquet"}
    (described,) = dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [arn]}])["Endpoints"]
    assert (described["S3Settings"]["DataFormat"], described["SslMode"]) == ("parquet", "none")
    dms.modify_endpoint(EndpointArn=arn, S3Settings={"BucketName": "other"}, ExactSettings=True)
    (described,) = dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [arn]}])["Endpoints"]
    assert described["S3Settings"] == {"BucketName": "other"}
    with pytest.raises(ClientError, match="ResourceNotFoundFault"):
        dms.modify_endpoint(EndpointArn=arn.replace("endpoint:", "endpoint:NOPE"), SslMode="none")


def test_dms_replication_config_lifecycle(client: ClientFactory, dms_task: dict[str, str]) -> None:
    dms = client("dms")
    endpoints = [endpoint["EndpointArn"] for endpoint in dms.describe_endpoints()["Endpoints"]]
    sent = {"Logging": {"EnableLogging": True}, "FullLoadSettings": {"MaxFullLoadSubTasks": 16}}
    created = dms.create_replication_config(
        ReplicationConfigIdentifier="serverless",
        ResourceIdentifier="serverless-res",
        ReplicationType="cdc",
        SourceEndpointArn=endpoints[0],
        TargetEndpointArn=endpoints[1],
        ComputeConfig={"ReplicationSubnetGroupId": "sg", "MaxCapacityUnits": 4, "MinCapacityUnits": 1, "MultiAZ": False},
        TableMappings=json.dumps({"rules": []}),
        ReplicationSettings=json.dumps(sent),
        Tags=[{"Key": "Project", "Value": "tap"}],
    )["ReplicationConfig"]
    arn = created["ReplicationConfigArn"]
    assert arn == f"arn:aws:dms:{REGION}:{ACCOUNT}:replication-config:serverless-res"
    found = dms.describe_replication_configs(Filters=[{"Name": "replication-config-arn", "Values": [arn]}])["ReplicationConfigs"]
    assert [config["ReplicationConfigIdentifier"] for config in found] == ["serverless"]
    settings = json.loads(found[0]["ReplicationSettings"])
    assert settings["FullLoadSettings"]["MaxFullLoadSubTasks"] == 16
    assert settings["StreamBufferSettings"] == moto_patches.default_task_settings()["StreamBufferSettings"]
    assert settings["Logging"]["CloudWatchLogGroup"] == "dms-serverless-replication-serverless-res"
    assert settings["Logging"]["CloudWatchLogStream"].startswith("dms-serverless-serv-res-id-")
    assert found[0]["ComputeConfig"]["MaxCapacityUnits"] == 4
    assert dms.list_tags_for_resource(ResourceArn=arn)["TagList"] == [{"Key": "Project", "Value": "tap", "ResourceArn": arn}]
    replications = dms.describe_replications(Filters=[{"Name": "replication-config-arn", "Values": [arn]}])["Replications"]
    assert [replication["Status"] for replication in replications] == ["created"]
    assert dms.describe_replication_table_statistics(ReplicationConfigArn=arn)["ReplicationTableStatistics"] == []
    modified = dms.modify_replication_config(ReplicationConfigArn=arn, ComputeConfig={"MaxCapacityUnits": 8})["ReplicationConfig"]
    assert (modified["ComputeConfig"]["MaxCapacityUnits"], modified["ComputeConfig"]["MinCapacityUnits"]) == (8, 1)
    with pytest.raises(ClientError, match="ResourceAlreadyExistsFault"):
        dms.create_replication_config(
            ReplicationConfigIdentifier="serverless",
            ReplicationType="cdc",
            SourceEndpointArn=endpoints[0],
            TargetEndpointArn=endpoints[1],
            ComputeConfig={"ReplicationSubnetGroupId": "sg"},
            TableMappings="{}",
        )
    dms.delete_replication_config(ReplicationConfigArn=arn)
    assert dms.describe_replication_configs()["ReplicationConfigs"] == []
    assert dms.describe_replications()["Replications"] == []
    assert dms.list_tags_for_resource(ResourceArn=arn)["TagList"] == []
    with pytest.raises(ClientError, match="ResourceNotFoundFault"):
        dms.delete_replication_config(ReplicationConfigArn=arn)
    with pytest.raises(ClientError, match="ResourceNotFoundFault"):
        dms.describe_replication_table_statistics(ReplicationConfigArn=arn)


def test_dms_replication_config_needs_existing_endpoints(client: ClientFactory) -> None:
    with pytest.raises(ClientError, match="ResourceNotFoundFault"):
        client("dms").create_replication_config(
            ReplicationConfigIdentifier="serverless",
            ReplicationType="cdc",
            SourceEndpointArn=f"arn:aws:dms:{REGION}:{ACCOUNT}:endpoint:NOPE",
            TargetEndpointArn=f"arn:aws:dms:{REGION}:{ACCOUNT}:endpoint:NOPE2",
            ComputeConfig={"ReplicationSubnetGroupId": "sg"},
            TableMappings="{}",
        )


def test_dms_certificate_must_parse(client: ClientFactory) -> None:
    broken = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    with pytest.raises(ClientError) as error:
        client("dms").import_certificate(CertificateIdentifier="broken", CertificatePem=broken)
    assert error.value.response["Error"]["Code"] == "InvalidCertificateFault"


# --- RDS --------------------------------------------------------------------------------------------


def test_provisioned_cluster_has_no_serverless_v1_scaling_info(client: ClientFactory) -> None:
    rds = client("rds")
    common = {"Engine": "aurora-postgresql", "MasterUsername": "admin_user", "MasterUserPassword": "not-a-real-secret"}
    rds.create_db_cluster(
        DBClusterIdentifier="v2",
        EngineMode="provisioned",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4},
        **common,
    )
    rds.create_db_cluster(DBClusterIdentifier="v1", EngineMode="serverless", **common)
    clusters = {c["DBClusterIdentifier"]: c for c in rds.describe_db_clusters()["DBClusters"]}
    assert "ScalingConfigurationInfo" not in clusters["v2"]
    assert clusters["v2"]["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4}
    assert clusters["v1"]["ScalingConfigurationInfo"]["MaxCapacity"] == 16


def test_cluster_instance_keeps_performance_insights_and_monitoring(client: ClientFactory) -> None:
    rds = client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="c", Engine="aurora-postgresql", MasterUsername="admin_user", MasterUserPassword="not-a-real-secret"
    )
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/pi"
    role = f"arn:aws:iam::{ACCOUNT}:role/monitoring"
    common = {"DBClusterIdentifier": "c", "Engine": "aurora-postgresql", "DBInstanceClass": "db.serverless"}
    rds.create_db_instance(
        DBInstanceIdentifier="watched",
        EnablePerformanceInsights=True,
        PerformanceInsightsKMSKeyId=key,
        MonitoringInterval=60,
        MonitoringRoleArn=role,
        **common,
    )
    rds.create_db_instance(DBInstanceIdentifier="plain", **common)
    instances = {i["DBInstanceIdentifier"]: i for i in rds.describe_db_instances()["DBInstances"]}
    watched, plain = instances["watched"], instances["plain"]
    assert (watched["PerformanceInsightsEnabled"], watched["PerformanceInsightsKMSKeyId"]) == (True, key)
    assert watched["PerformanceInsightsRetentionPeriod"] == moto_patches.PERFORMANCE_INSIGHTS_DEFAULT_RETENTION
    assert (watched["MonitoringInterval"], watched["MonitoringRoleArn"]) == (60, role)
    assert (plain["PerformanceInsightsEnabled"], plain["MonitoringInterval"]) == (False, 0)
    assert "PerformanceInsightsKMSKeyId" not in plain

    rds.modify_db_instance(DBInstanceIdentifier="plain", EnablePerformanceInsights=True, ApplyImmediately=True)
    assert rds.describe_db_instances(DBInstanceIdentifier="plain")["DBInstances"][0]["PerformanceInsightsEnabled"] is True


# --- Route 53, EC2, Lambda, Backup ------------------------------------------------------------------


def test_zone_created_with_a_vpc_is_private(client: ClientFactory, subnets: tuple[str, list[str]]) -> None:
    vpc_id = subnets[0]
    route53 = client("route53")
    private = route53.create_hosted_zone(
        Name="db.migration.internal", CallerReference="private", VPC={"VPCRegion": REGION, "VPCId": vpc_id}
    )["HostedZone"]["Id"]
    public = route53.create_hosted_zone(Name="example.com", CallerReference="public")["HostedZone"]["Id"]
    zone = route53.get_hosted_zone(Id=private)
    assert zone["HostedZone"]["Config"]["PrivateZone"] is True
    assert zone["VPCs"] == [{"VPCRegion": REGION, "VPCId": vpc_id}]
    assert route53.get_hosted_zone(Id=public)["HostedZone"]["Config"]["PrivateZone"] is False


def test_rule_referencing_a_group_keeps_its_description(client: ClientFactory, subnets: tuple[str, list[str]]) -> None:
    ec2 = client("ec2")
    target, source = (ec2.create_security_group(GroupName=name, Description=name, VpcId=subnets[0])["GroupId"] for name in "ab")
    ec2.authorize_security_group_ingress(
        GroupId=target,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "UserIdGroupPairs": [{"GroupId": source, "Description": "DMS writes to Aurora"}],
            }
        ],
    )
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [target]}])["SecurityGroupRules"]
    (ingress,) = [rule for rule in rules if not rule["IsEgress"]]
    assert ingress["ReferencedGroupInfo"]["GroupId"] == source
    assert ingress["Description"] == "DMS writes to Aurora"


def test_rule_to_a_prefix_list_keeps_its_description(client: ClientFactory, subnets: tuple[str, list[str]]) -> None:
    ec2 = client("ec2")
    group = ec2.create_security_group(GroupName="dms", Description="dms", VpcId=subnets[0])["GroupId"]
    prefix_list = ec2.create_managed_prefix_list(PrefixListName="s3", MaxEntries=1, AddressFamily="IPv4")["PrefixList"]
    ec2.authorize_security_group_egress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "PrefixListIds": [{"PrefixListId": prefix_list["PrefixListId"], "Description": "DMS writes S3"}],
            }
        ],
    )
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    (egress,) = [rule for rule in rules if rule.get("PrefixListId")]
    assert egress["Description"] == "DMS writes S3"


def test_lambda_keeps_its_kms_key(client: ClientFactory) -> None:
    import io
    import zipfile

    role = client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/env"
    lam = client("lambda")
    lam.create_function(
        FunctionName="fn",
        Runtime="python3.11",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": buffer.getvalue()},
        KMSKeyArn=key,
    )
    assert lam.get_function(FunctionName="fn")["Configuration"]["KMSKeyArn"] == key
    lam.update_function_configuration(FunctionName="fn", KMSKeyArn="")
    assert "KMSKeyArn" not in lam.get_function_configuration(FunctionName="fn")


def test_kinesis_stream_keeps_its_creation_tags(client: ClientFactory) -> None:
    kinesis = client("kinesis")
    kinesis.create_stream(StreamName="tagged", ShardCount=1, Tags={"Project": "tap-migrate"})
    kinesis.create_stream(StreamName="untagged", ShardCount=1)
    assert kinesis.list_tags_for_stream(StreamName="tagged")["Tags"] == [{"Key": "Project", "Value": "tap-migrate"}]
    assert kinesis.list_tags_for_stream(StreamName="untagged")["Tags"] == []


def test_backup_tags_are_listed_with_or_without_a_trailing_slash(client: ClientFactory, patched: str) -> None:
    backup = client("backup")
    arn = backup.create_backup_vault(BackupVaultName="vault", BackupVaultTags={"Project": "tap"})["BackupVaultArn"]
    assert backup.list_tags(ResourceArn=arn)["Tags"] == {"Project": "tap"}  # boto3 sends the slash
    # The Go SDK (the Terraform provider) does not: what moto 5.2.1 answered with no tags.
    credential = f"Credential=testing/20260101/{REGION}/backup/aws4_request"
    status, body = loopback_request(
        patched, "GET", f"/tags/{arn}", {"Authorization": f"AWS4-HMAC-SHA256 {credential}, Signature=x"}
    )
    assert (status, json.loads(body)) == (200, {"Tags": {"Project": "tap"}})


def test_backup_selection_lifecycle(client: ClientFactory) -> None:
    backup = client("backup")
    backup.create_backup_vault(BackupVaultName="vault")
    plan = backup.create_backup_plan(
        BackupPlan={"BackupPlanName": "plan", "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "vault"}]}
    )["BackupPlanId"]
    role = f"arn:aws:iam::{ACCOUNT}:role/backup"
    cluster = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:aurora"
    selection = backup.create_backup_selection(
        BackupPlanId=plan, BackupSelection={"SelectionName": "aurora", "IamRoleArn": role, "Resources": [cluster]}
    )["SelectionId"]

    found = backup.get_backup_selection(BackupPlanId=plan, SelectionId=selection)
    assert found["BackupSelection"]["Resources"] == [cluster]
    assert found["BackupSelection"]["IamRoleArn"] == role
    assert found["BackupSelection"]["Conditions"] == {
        "StringEquals": [],
        "StringNotEquals": [],
        "StringLike": [],
        "StringNotLike": [],
    }
    assert [s["SelectionName"] for s in backup.list_backup_selections(BackupPlanId=plan)["BackupSelectionsList"]] == ["aurora"]
    with pytest.raises(ClientError) as in_use:
        backup.delete_backup_plan(BackupPlanId=plan)
    assert in_use.value.response["Error"]["Code"] == "InvalidRequestException"

    backup.delete_backup_selection(BackupPlanId=plan, SelectionId=selection)
    with pytest.raises(ClientError) as gone:
        backup.get_backup_selection(BackupPlanId=plan, SelectionId=selection)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    backup.delete_backup_plan(BackupPlanId=plan)


# --- launcher ---------------------------------------------------------------------------------------


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] != "Z"


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TAP_EMULATOR_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("TAP_EMULATOR_PORT", raising=False)
    yield tmp_path
    emulator.stop(tmp_path)  # whatever a failing test left running


def test_up_down_leaves_no_process_and_down_is_idempotent(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = emulator.start()
    pid = int((state_dir / "pid").read_text())
    assert url.startswith("http://127.0.0.1:")
    assert (state_dir / "endpoint").read_text().strip() == url
    assert emulator.endpoint() == url
    assert emulator.start() == url  # already running and healthy: the same server
    assert int((state_dir / "pid").read_text()) == pid
    assert emulator.main(["status"]) == 0
    assert f"running {url} (pid {pid})" in capsys.readouterr().out

    # The served moto is the patched one: a zone created with a VPC comes back private.
    aws = {"region_name": REGION, "endpoint_url": url, "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    vpc_id = boto3_client("ec2", **aws).create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    route53 = boto3_client("route53", **aws)
    zone = route53.create_hosted_zone(Name="x.internal", CallerReference="x", VPC={"VPCRegion": REGION, "VPCId": vpc_id})
    assert zone["HostedZone"]["Config"]["PrivateZone"] is True

    emulator.stop()
    assert not alive(pid)
    assert not (state_dir / "pid").exists()
    assert not (state_dir / "endpoint").exists()
    assert emulator.endpoint() is None
    emulator.stop()  # idempotent
    assert emulator.main(["down"]) == 0
    assert emulator.main(["status"]) == emulator.EXIT_NOT_RUNNING
    assert emulator.main(["url"]) == 1


def test_start_failure_points_at_the_log_and_leaves_nothing(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("TAP_EMULATOR_PORT", str(taken.getsockname()[1]))
        with pytest.raises(emulator.EmulatorError, match=r"exited during start-up .*emulator\.log"):
            emulator.start()
    assert not (state_dir / "pid").exists()
    assert "Address already in use" in (state_dir / "emulator.log").read_text()


def test_stale_pid_file_of_another_program_is_never_signalled(state_dir: Path) -> None:
    (state_dir / "pid").write_text(f"{os.getpid()}\n")
    (state_dir / "endpoint").write_text("http://127.0.0.1:9\n")
    assert emulator.endpoint() is None
    emulator.stop()  # must not SIGTERM this pytest process
    assert not (state_dir / "pid").exists()


def test_bad_port_setting_is_reported(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_EMULATOR_PORT", "http")
    with pytest.raises(emulator.EmulatorError, match="TAP_EMULATOR_PORT"):
        emulator.start()
