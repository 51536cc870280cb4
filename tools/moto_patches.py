"""Patches that make moto 5.2.1 answer like AWS where the Terraform AWS provider (5.100.0) notices.

The emulator launcher (`tools.emulator`) runs moto in-process and calls `apply_all()` before the
server starts, so every request it serves goes through these. Each patch:
- fixes one place where moto differs from AWS so that `terraform apply` fails, hangs, or leaves
  `terraform plan` with changes right after an apply (the real stack is never weakened to suit moto);
- checks that the moto internals it replaces still exist (and that the two actions it adds are
  still missing), and `apply_all()` pins moto to `SUPPORTED_MOTO_VERSION`, so a moto upgrade
  fails loudly at start-up instead of silently serving different answers;
- is recorded, so `revert_all()` (or leaving `applied()`) puts moto back exactly as it was: tests
  that patch moto in-process do not change moto for the other tests of the session.

The checks and the record are in `tools.moto_patch_base`, which `tools.moto_network_patches` uses too.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import inspect
import json
import os
import string
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

import moto
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from moto.awslambda.models import LambdaFunction
from moto.backup.exceptions import InvalidRequestException, ResourceNotFoundException
from moto.backup.models import BackupBackend
from moto.backup.responses import BackupResponse
from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time, utcnow
from moto.dms.exceptions import ResourceAlreadyExistsFault, ResourceNotFoundFault
from moto.dms.models import (
    DatabaseMigrationServiceBackend,
    FakeReplicationInstance,
    FakeReplicationSubnetGroup,
    FakeReplicationTask,
    dms_backends,
)
from moto.dms.responses import DatabaseMigrationServiceResponse
from moto.ec2.exceptions import InvalidSubnetIdError
from moto.ec2.models import ec2_backends
from moto.ec2.models.security_groups import SecurityGroupRule
from moto.kinesis.responses import KinesisResponse
from moto.moto_api._internal import mock_random
from moto.rds.models import DBCluster, DBInstance
from moto.route53.responses import Route53
from moto.sns.models import sns_backends
from moto.utilities.utils import get_partition

from tools.moto_network_patches import NETWORK_PATCHES
from tools.moto_patch_base import MotoPatchError, is_applied, revert_all
from tools.moto_patch_base import absent as _absent
from tools.moto_patch_base import install as _install
from tools.moto_patch_base import original as _original
from tools.moto_patch_base import original_property as _original_property

SUPPORTED_MOTO_VERSION: Final = "5.2.1"
# AWS refuses a DMS subnet group that does not span at least this many Availability Zones.
DMS_SUBNET_GROUP_MIN_AZS: Final = 2
# AWS's default Performance Insights retention (days) when it is enabled without one.
PERFORMANCE_INSIGHTS_DEFAULT_RETENTION: Final = 7
DMS_EVENT_SOURCE_TYPES: Final = frozenset({"replication-instance", "replication-task"})
# The task settings document DMS answers when a task was created with none (tools/dms_aws_shape/README.md).
DMS_DEFAULT_TASK_SETTINGS_FILE: Final = Path(__file__).resolve().parent / "dms_aws_shape" / "default-task-settings.json"
# Set to 1 to have the emulator answer DMS task settings exactly as sent (plain moto), e.g. to compare plans.
DMS_SETTINGS_AS_SENT_ENV: Final = "TAP_EMULATOR_DMS_SETTINGS_AS_SENT"
# Logging members DMS fills in itself and refuses on create ("cannot be set on create").
DMS_LOG_DESTINATION_KEYS: Final = ("CloudWatchLogGroup", "CloudWatchLogStream")


def check_moto_version(version: str | None = None) -> None:
    found = moto.__version__ if version is None else version
    if found != SUPPORTED_MOTO_VERSION:
        raise MotoPatchError(
            f"tools/moto_patches.py targets moto {SUPPORTED_MOTO_VERSION}, found {found}: re-check every patch "
            "against the new moto (each docstring says what it changes) before moving the pin"
        )


def _epoch(moment: datetime) -> float:
    """AWS JSON protocols send timestamps as epoch seconds; moto keeps naive datetimes that mean UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return round(aware.timestamp(), 3)


def _set_timestamps(target: dict[str, Any], values: Iterable[tuple[str, datetime | None]]) -> None:
    # AWS omits a timestamp that has no value (a task never started has no start date) rather than sending null.
    for key, moment in values:
        if moment is None:
            target.pop(key, None)
        else:
            target[key] = _epoch(moment)


def patch_dms_timestamps() -> None:
    """DMS replication instance and task timestamps as epoch numbers.

    AWS: DMS speaks JSON 1.1, where timestamps (`InstanceCreateTime`, `ReplicationTaskCreationDate`,
    `ReplicationTaskStartDate`, the `ReplicationTaskStats` dates) are JSON numbers (epoch seconds).
    moto 5.2.1: `FakeReplicationInstance.to_dict` and `FakeReplicationTask.to_dict` put
    `datetime.isoformat()` strings there. boto3 parses either, but the Go SDK in the Terraform
    provider does not: "expected TStamp to be a JSON Number, got string", so both resources fail
    to create (moto has created them; the provider cannot read the answer).
    """
    instance_to_dict = _original(FakeReplicationInstance, "to_dict")
    task_to_dict = _original(FakeReplicationTask, "to_dict")

    @functools.wraps(instance_to_dict)
    def instance_dict(self: FakeReplicationInstance) -> dict[str, Any]:
        result: dict[str, Any] = instance_to_dict(self)
        _set_timestamps(result, [("InstanceCreateTime", self.creation_date)])
        return result

    @functools.wraps(task_to_dict)
    def task_dict(self: FakeReplicationTask) -> dict[str, Any]:
        result: dict[str, Any] = task_to_dict(self)
        _set_timestamps(
            result, [("ReplicationTaskCreationDate", self.creation_date), ("ReplicationTaskStartDate", self.start_date)]
        )
        stats = result.get("ReplicationTaskStats")
        if isinstance(stats, dict):
            _set_timestamps(
                stats,
                [
                    ("FreshStartDate", self.start_date),
                    ("StartDate", self.start_date),
                    ("StopDate", self.stop_date),
                    ("FullLoadStartDate", self.start_date),
                    ("FullLoadFinishDate", self.stop_date),
                ],
            )
        return result

    _install(FakeReplicationInstance, "to_dict", instance_dict)
    _install(FakeReplicationTask, "to_dict", task_dict)


def patch_dms_task_becomes_ready() -> None:
    """A new DMS replication task reaches `ready`.

    AWS: CreateReplicationTask answers `creating`; the task turns `ready` once DMS has validated it,
    and the provider waits for `ready` before it records the resource.
    moto 5.2.1: the task stays `creating` forever (nothing calls `FakeReplicationTask.ready()`), so
    `terraform apply` waits out the provider's create timeout. Here, as moto does for RDS clusters,
    the first describe after the create reports the task `ready`.
    """
    describe = _original(DatabaseMigrationServiceBackend, "describe_replication_tasks")
    _original(FakeReplicationTask, "ready")

    @functools.wraps(describe)
    def describe_replication_tasks(self: DatabaseMigrationServiceBackend, *args: Any, **kwargs: Any) -> Any:
        tasks = list(describe(self, *args, **kwargs))
        for task in tasks:
            if task.status == "creating":
                task.ready()
        return tasks

    _install(DatabaseMigrationServiceBackend, "describe_replication_tasks", describe_replication_tasks)


@functools.cache
def _default_task_settings_text() -> str:
    return DMS_DEFAULT_TASK_SETTINGS_FILE.read_text(encoding="utf-8")


def default_task_settings() -> dict[str, Any]:
    """A fresh copy of the documented default task settings (callers may change it)."""
    settings: dict[str, Any] = json.loads(_default_task_settings_text())
    return settings


def _merge_log_components(defaults: list[dict[str, Any]], sent: Any) -> list[dict[str, Any]]:
    """Every component DMS knows, in its order, with the severity sent for it; components it lacks are added."""
    if not isinstance(sent, list):
        return defaults
    severities = {c["Id"]: c.get("Severity") for c in sent if isinstance(c, dict) and "Id" in c}
    merged = [{**component, "Severity": severities.pop(component["Id"], component["Severity"])} for component in defaults]
    merged.extend({"Id": component_id, "Severity": severity} for component_id, severity in severities.items())
    return merged


def aws_shaped_task_settings(sent: Any, *, log_group: str, log_stream: str) -> dict[str, Any]:
    """The settings document DMS answers for a task (or replication config) created with `sent` (parsed JSON).

    - every documented setting is there: what was sent wins, the rest is DMS's default;
    - a member DMS does not know is not answered (terraform-provider-aws #43974, #45376: a sent
      `TTSettings.FailTaskOnTTFailure` and `FullLoadSettings.ParallelLoadThreads` came back missing);
      a section whose default is null (`BeforeImageSettings`, `TTSettings`, ...) comes back as sent;
    - `Logging.LogComponents` lists every component, with the severities sent;
    - `ControlTablesSettings` carries `historyTimeslotInMinutes` as well as `HistoryTimeslotInMinutes`;
    - with `Logging.EnableLogging`, DMS names the CloudWatch log group and stream it writes to
      (`null` without logging); sent values for those two are never kept (AWS refuses them on create).
    """
    shaped = default_task_settings()
    defaults = default_task_settings()
    for section, value in sent.items() if isinstance(sent, dict) else ():
        if section not in defaults:
            continue
        known = defaults[section]
        if not isinstance(known, dict):
            shaped[section] = copy.deepcopy(value)
            continue
        if not isinstance(value, dict):
            continue
        for key, item in value.items():
            if key not in known or (section == "Logging" and key in DMS_LOG_DESTINATION_KEYS):
                continue
            if section == "Logging" and key == "LogComponents":
                shaped[section][key] = _merge_log_components(known[key], item)
            else:
                shaped[section][key] = copy.deepcopy(item)
    controls = shaped["ControlTablesSettings"]
    controls["historyTimeslotInMinutes"] = controls["HistoryTimeslotInMinutes"]
    logging = shaped["Logging"]
    enabled = bool(logging.get("EnableLogging"))
    logging["CloudWatchLogGroup"] = log_group if enabled else None
    logging["CloudWatchLogStream"] = log_stream if enabled else None
    return shaped


def _parse_settings(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _dms_instance_identifier(instance_arn: str) -> str:
    """The replication instance's identifier, looked up by ARN (its ARN's last part if it is gone)."""
    # arn:<partition>:dms:<region>:<account>:rep:<id>
    _, _, _, region, account, *_ = [*instance_arn.split(":"), "", "", "", "", ""]
    instance = dms_backends[account][region].replication_instances.get(instance_arn) if account and region else None
    return str(instance.id) if instance is not None else instance_arn.rsplit(":", 1)[-1]


def patch_dms_task_settings_aws_shape() -> None:
    """DMS task settings come back as AWS answers them: every default filled in, plus the log group and stream.

    AWS: DescribeReplicationTasks answers the whole settings document, not the part that was sent:
    the documented defaults fill every setting the request left out, members DMS does not know are
    dropped, all log components are listed, `ControlTablesSettings.historyTimeslotInMinutes`
    repeats `HistoryTimeslotInMinutes`, and with logging on `Logging.CloudWatchLogGroup` /
    `CloudWatchLogStream` name `dms-tasks-<replication instance identifier>` /
    `dms-task-<task resource id>` (the last part of the task ARN). The provider (5.100.0) stores
    that answer and compares it with the configuration through `suppressEquivalentTaskSettings`,
    so a plan after apply is clean only if that comparison holds against this shape
    (tools/dms_aws_shape/README.md has the sources and the provider's rules).
    moto 5.2.1: hands the settings back exactly as sent, so a clean plan on moto proved nothing.
    `TAP_EMULATOR_DMS_SETTINGS_AS_SENT=1` keeps moto's answer (to compare plans).
    """
    to_dict = _original(FakeReplicationTask, "to_dict")
    default_task_settings()  # the documented shape must be readable before the emulator serves anything
    if os.environ.get(DMS_SETTINGS_AS_SENT_ENV) == "1":
        return

    @functools.wraps(to_dict)
    def task_dict(self: FakeReplicationTask) -> dict[str, Any]:
        result: dict[str, Any] = to_dict(self)
        settings = aws_shaped_task_settings(
            _parse_settings(self.replication_task_settings),
            log_group=f"dms-tasks-{_dms_instance_identifier(self.replication_instance_arn)}",
            log_stream=f"dms-task-{self.arn.rsplit(':', 1)[-1]}",
        )
        result["ReplicationTaskSettings"] = json.dumps(settings)
        return result

    _install(FakeReplicationTask, "to_dict", task_dict)


class InvalidSubnetError(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidSubnet", message)


class SubnetGroupZoneCoverageError(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ReplicationSubnetGroupDoesNotCoverEnoughAZs", message)


def _dms_arn(backend: DatabaseMigrationServiceBackend, kind: str, identifier: str) -> str:
    return f"arn:{get_partition(backend.region_name)}:dms:{backend.region_name}:{backend.account_id}:{kind}:{identifier}"


def patch_dms_subnet_group() -> None:
    """DMS replication subnet groups keep their subnets, VPC and tags.

    AWS: a replication subnet group answers with the subnets it was given (each with its
    Availability Zone), their VPC, and the tags given at creation under the group's ARN
    (`arn:<partition>:dms:<region>:<account>:subgrp:<id>`, which is what the provider lists tags
    with); a subnet that does not exist is `InvalidSubnet`, a group in one AZ only is
    `ReplicationSubnetGroupDoesNotCoverEnoughAZs`.
    moto 5.2.1: drops `SubnetIds` at creation and always answers `subnet-12345` in `vpc-12345`
    (so `terraform plan` wants to replace the group), and files the tags under the bare identifier
    (so the provider reads no tags and plans to re-add `default_tags`).
    """
    create = _original(DatabaseMigrationServiceBackend, "create_replication_subnet_group")
    delete = _original(DatabaseMigrationServiceBackend, "delete_replication_subnet_group")
    to_dict = _original(FakeReplicationSubnetGroup, "to_dict")

    @functools.wraps(create)
    def create_replication_subnet_group(
        self: DatabaseMigrationServiceBackend,
        replication_subnet_group_identifier: str,
        replication_subnet_group_description: str,
        subnet_ids: list[str],
        tags: list[dict[str, str]] | None = None,
    ) -> FakeReplicationSubnetGroup:
        ec2 = ec2_backends[self.account_id][self.region_name]
        subnets = []
        for subnet_id in subnet_ids or []:
            try:
                subnets.append(ec2.get_subnet(subnet_id))
            except InvalidSubnetIdError:
                raise InvalidSubnetError(f"The subnet ID '{subnet_id}' does not exist") from None
        zones = {subnet.availability_zone for subnet in subnets}
        if len(zones) < DMS_SUBNET_GROUP_MIN_AZS:
            raise SubnetGroupZoneCoverageError(
                "The replication subnet group does not cover enough Availability Zones (AZs). "
                f"Current AZ coverage: {', '.join(sorted(zones)) or 'none'}. "
                f"Add subnets to cover at least {DMS_SUBNET_GROUP_MIN_AZS} AZs."
            )
        group: FakeReplicationSubnetGroup = create(
            self, replication_subnet_group_identifier, replication_subnet_group_description, subnet_ids, tags=None
        )
        group.subnetIds = list(subnet_ids)
        # Captured now, as AWS records each subnet's AZ and the VPC when the group is created.
        group.tap_subnets = [  # type: ignore[attr-defined]
            {
                "SubnetIdentifier": subnet.id,
                "SubnetAvailabilityZone": {"Name": subnet.availability_zone},
                "SubnetStatus": "Active",
            }
            for subnet in subnets
        ]
        group.tap_vpc_id = subnets[0].vpc_id  # type: ignore[attr-defined]
        if tags:
            self.tagger.tag_resource(_dms_arn(self, "subgrp", replication_subnet_group_identifier), tags)
        return group

    @functools.wraps(delete)
    def delete_replication_subnet_group(
        self: DatabaseMigrationServiceBackend, replication_subnet_group_identifier: str
    ) -> FakeReplicationSubnetGroup:
        group: FakeReplicationSubnetGroup = delete(self, replication_subnet_group_identifier)
        # A group re-created under the same name must not inherit the old tags.
        self.tagger.delete_all_tags_for_resource(_dms_arn(self, "subgrp", replication_subnet_group_identifier))
        return group

    @functools.wraps(to_dict)
    def group_dict(self: FakeReplicationSubnetGroup) -> dict[str, Any]:
        result: dict[str, Any] = to_dict(self)
        subnets = getattr(self, "tap_subnets", None)
        if subnets is not None:
            result["Subnets"] = [dict(subnet) for subnet in subnets]
            result["VpcId"] = self.tap_vpc_id  # type: ignore[attr-defined]
        return result

    _install(DatabaseMigrationServiceBackend, "create_replication_subnet_group", create_replication_subnet_group)
    _install(DatabaseMigrationServiceBackend, "delete_replication_subnet_group", delete_replication_subnet_group)
    _install(FakeReplicationSubnetGroup, "to_dict", group_dict)


class SnsInvalidTopicError(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("SNSInvalidTopicFault", message)


def _dms_event_subscriptions(backend: DatabaseMigrationServiceBackend) -> dict[str, dict[str, Any]]:
    # Kept on the backend, so moto's reset (which replaces backends) clears them too.
    store: dict[str, dict[str, Any]] | None = getattr(backend, "tap_event_subscriptions", None)
    if store is None:
        store = {}
        backend.tap_event_subscriptions = store  # type: ignore[attr-defined]
    return store


def _find_event_subscription(backend: DatabaseMigrationServiceBackend, name: str) -> dict[str, Any]:
    found = _dms_event_subscriptions(backend).get(name)
    if found is None:
        raise ResourceNotFoundFault(f"Event subscription {name} not found.")
    return found


def _check_sns_topic(backend: DatabaseMigrationServiceBackend, topic_arn: str) -> None:
    if topic_arn not in sns_backends[backend.account_id][backend.region_name].topics:
        raise SnsInvalidTopicError(f"SNS topic {topic_arn} does not exist")


def _check_event_source_type(source_type: str | None) -> None:
    if source_type is not None and source_type not in DMS_EVENT_SOURCE_TYPES:
        raise JsonRESTError("InvalidParameterValueException", f"Invalid source type: {source_type}")


def _event_subscription_answer(subscription: dict[str, Any], status: str | None = None) -> str:
    return json.dumps({"EventSubscription": {**subscription, "Status": status or subscription["Status"]}})


def _create_event_subscription(self: DatabaseMigrationServiceResponse) -> str:
    params = json.loads(self.body)
    backend = self.dms_backend
    name = params["SubscriptionName"]
    if name in _dms_event_subscriptions(backend):
        raise ResourceAlreadyExistsFault(f"Event subscription {name} already exists.")
    _check_sns_topic(backend, params["SnsTopicArn"])
    _check_event_source_type(params.get("SourceType"))
    subscription = {
        "CustomerAwsId": backend.account_id,
        "CustSubscriptionId": name,
        "SnsTopicArn": params["SnsTopicArn"],
        "Status": "active",
        # A string in the DMS API (not a timestamp), in the format AWS uses.
        "SubscriptionCreationTime": utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        "SourceType": params.get("SourceType", ""),
        "SourceIdsList": list(params.get("SourceIds") or []),
        "EventCategoriesList": list(params.get("EventCategories") or []),
        "Enabled": params.get("Enabled", True),
    }
    _dms_event_subscriptions(backend)[name] = subscription
    if params.get("Tags"):
        backend.tagger.tag_resource(_dms_arn(backend, "es", name), params["Tags"])
    # AWS answers `creating`; the next describe finds it `active`.
    return _event_subscription_answer(subscription, "creating")


def _describe_event_subscriptions(self: DatabaseMigrationServiceResponse) -> str:
    params = json.loads(self.body or "{}")
    name = params.get("SubscriptionName")
    backend = self.dms_backend
    found = [_find_event_subscription(backend, name)] if name else list(_dms_event_subscriptions(backend).values())
    return json.dumps({"EventSubscriptionsList": found})


def _modify_event_subscription(self: DatabaseMigrationServiceResponse) -> str:
    params = json.loads(self.body)
    backend = self.dms_backend
    subscription = _find_event_subscription(backend, params["SubscriptionName"])
    if "SnsTopicArn" in params:
        _check_sns_topic(backend, params["SnsTopicArn"])
        subscription["SnsTopicArn"] = params["SnsTopicArn"]
    if "SourceType" in params:
        _check_event_source_type(params["SourceType"])
        subscription["SourceType"] = params["SourceType"]
    if "EventCategories" in params:
        subscription["EventCategoriesList"] = list(params["EventCategories"])
    if "Enabled" in params:
        subscription["Enabled"] = params["Enabled"]
    return _event_subscription_answer(subscription, "modifying")


def _delete_event_subscription(self: DatabaseMigrationServiceResponse) -> str:
    params = json.loads(self.body)
    backend = self.dms_backend
    name = params["SubscriptionName"]
    subscription = _find_event_subscription(backend, name)
    del _dms_event_subscriptions(backend)[name]
    backend.tagger.delete_all_tags_for_resource(_dms_arn(backend, "es", name))
    return _event_subscription_answer(subscription, "deleting")


def patch_dms_event_subscriptions() -> None:
    """DMS event subscriptions (CreateEventSubscription and friends), which moto 5.2.1 lacks.

    AWS: Create/Describe/Modify/DeleteEventSubscription keep a subscription per name that sends
    DMS events of the given categories and source type to an SNS topic (`SNSInvalidTopicFault` if
    the topic does not exist); it is `creating`, then `active`; its tags live under
    `arn:<partition>:dms:<region>:<account>:es:<name>`; describing an unknown name is
    `ResourceNotFoundFault`.
    moto 5.2.1: none of these actions exist (HTTP 500 "not implemented"), so the provider retries
    `aws_dms_event_subscription` until its create timeout. Here they store and answer the
    subscription; no events are ever sent (moto's DMS emits none).
    """
    for action in (
        "create_event_subscription",
        "describe_event_subscriptions",
        "modify_event_subscription",
        "delete_event_subscription",
    ):
        _absent(DatabaseMigrationServiceResponse, action)
    # The handlers (above) keep the subscriptions on the backend and answer as AWS does.
    _install(DatabaseMigrationServiceResponse, "create_event_subscription", _create_event_subscription)
    _install(DatabaseMigrationServiceResponse, "describe_event_subscriptions", _describe_event_subscriptions)
    _install(DatabaseMigrationServiceResponse, "modify_event_subscription", _modify_event_subscription)
    _install(DatabaseMigrationServiceResponse, "delete_event_subscription", _delete_event_subscription)


# ModifyEndpoint request members -> moto `Endpoint` attributes (settings blocks merge, the rest replace).
DMS_ENDPOINT_SCALARS: Final = {
    "EndpointIdentifier": "endpoint_identifier",
    "EndpointType": "endpoint_type",
    "EngineName": "engine_name",
    "Username": "username",
    "Password": "password",
    "ServerName": "server_name",
    "Port": "port",
    "DatabaseName": "database_name",
    "ExtraConnectionAttributes": "extra_connection_attributes",
    "CertificateArn": "certificate_arn",
    "SslMode": "ssl_mode",
    "ServiceAccessRoleArn": "service_access_role_arn",
    "ExternalTableDefinition": "external_table_definition",
    "KmsKeyId": "kms_key_id",
}
DMS_ENDPOINT_SETTINGS: Final = {
    "DynamoDbSettings": "dynamo_db_settings",
    "S3Settings": "s3_settings",
    "DmsTransferSettings": "dms_transfer_settings",
    "MongoDbSettings": "mongo_db_settings",
    "KinesisSettings": "kinesis_settings",
    "KafkaSettings": "kafka_settings",
    "ElasticsearchSettings": "elasticsearch_settings",
    "NeptuneSettings": "neptune_settings",
    "RedshiftSettings": "redshift_settings",
    "PostgreSQLSettings": "postgre_sql_settings",
    "MySQLSettings": "my_sql_settings",
    "OracleSettings": "oracle_settings",
    "SybaseSettings": "sybase_settings",
    "MicrosoftSQLServerSettings": "microsoft_sql_server_settings",
    "IBMDb2Settings": "ibm_db2_settings",
    "DocDbSettings": "doc_db_settings",
    "RedisSettings": "redis_settings",
    "GcpMySQLSettings": "gcp_my_sql_settings",
    "TimestreamSettings": "timestream_settings",
}


def patch_dms_modify_endpoint() -> None:
    """DMS ModifyEndpoint, which moto 5.2.1 lacks.

    AWS: ModifyEndpoint changes the given members of an endpoint; a settings block (`S3Settings`,
    ...) is merged into the current one unless `ExactSettings` is true, and the answer is the
    endpoint; an unknown ARN is `ResourceNotFoundFault`.
    moto 5.2.1: the action does not exist (HTTP 500), and the provider calls it while creating an
    `aws_dms_s3_endpoint` (and for any endpoint change), so it retries until its create timeout.
    """
    _absent(DatabaseMigrationServiceResponse, "modify_endpoint")

    def modify_endpoint(self: DatabaseMigrationServiceResponse) -> str:
        params = json.loads(self.body)
        arn = params["EndpointArn"]
        found = self.dms_backend.describe_endpoints(
            filters=[{"Name": "endpoint-arn", "Values": [arn]}], max_records=None, marker=None
        )
        if not found:
            raise ResourceNotFoundFault(f"Endpoint {arn} not found")
        endpoint = found[0]
        for member, attribute in DMS_ENDPOINT_SCALARS.items():
            if member in params:
                setattr(endpoint, attribute, params[member])
        for member, attribute in DMS_ENDPOINT_SETTINGS.items():
            if member in params:
                current = getattr(endpoint, attribute) or {}
                exact = bool(params.get("ExactSettings"))
                setattr(endpoint, attribute, dict(params[member]) if exact else {**current, **params[member]})
        return json.dumps({"Endpoint": endpoint.to_dict()})

    _install(DatabaseMigrationServiceResponse, "modify_endpoint", modify_endpoint)


class InvalidCertificateError(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidCertificateFault", message)


def _dms_certificates(backend: DatabaseMigrationServiceBackend) -> dict[str, dict[str, Any]]:
    # Keyed by identifier; kept on the backend, so moto's reset (which replaces backends) clears them too.
    store: dict[str, dict[str, Any]] = backend.__dict__.setdefault("tap_certificates", {})
    return store


def _describe_certificate_pem(pem: str) -> dict[str, Any]:
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError as error:
        raise InvalidCertificateError(f"The certificate is not valid: {error}") from None
    public_key = certificate.public_key()
    algorithm = certificate.signature_hash_algorithm
    key_kind = {rsa.RSAPublicKey: "RSA", ec.EllipticCurvePublicKey: "ECDSA"}
    kind = next((name for key_type, name in key_kind.items() if isinstance(public_key, key_type)), None)
    return {
        "ValidFromDate": _epoch(certificate.not_valid_before_utc),
        "ValidToDate": _epoch(certificate.not_valid_after_utc),
        "KeyLength": getattr(public_key, "key_size", None),
        # AWS's spelling, e.g. SHA256withRSA.
        "SigningAlgorithm": f"{algorithm.name.upper()}with{kind}" if algorithm is not None and kind else None,
    }


def _import_certificate(self: DatabaseMigrationServiceResponse) -> str:
    params = json.loads(self.body)
    backend = self.dms_backend
    identifier = params["CertificateIdentifier"]
    if identifier in _dms_certificates(backend):
        raise ResourceAlreadyExistsFault(f"Certificate with identifier {identifier} already exists.")
    pem, wallet = params.get("CertificatePem"), params.get("CertificateWallet")
    if bool(pem) == bool(wallet):
        raise JsonRESTError("InvalidParameterValueException", "Give exactly one of CertificatePem and CertificateWallet")
    random_id = "".join(mock_random.choice(string.ascii_uppercase + string.digits) for _ in range(26))
    arn = _dms_arn(backend, "cert", random_id)
    record: dict[str, Any] = {
        "CertificateIdentifier": identifier,
        "CertificateCreationDate": _epoch(utcnow()),
        "CertificateArn": arn,
        "CertificateOwner": backend.account_id,
    }
    if pem:
        record.update({"CertificatePem": pem, **_describe_certificate_pem(pem)})
    else:
        base64.b64decode(wallet, validate=True)  # JSON carries the blob base64-encoded; AWS rejects anything else
        record["CertificateWallet"] = wallet
    _dms_certificates(backend)[identifier] = {key: value for key, value in record.items() if value is not None}
    if params.get("Tags"):
        backend.tagger.tag_resource(arn, params["Tags"])
    return json.dumps({"Certificate": _dms_certificates(backend)[identifier]})


def _describe_certificates(self: DatabaseMigrationServiceResponse) -> str:
    params = json.loads(self.body or "{}")
    found = list(_dms_certificates(self.dms_backend).values())
    for entry in params.get("Filters") or []:
        field = {"certificate-id": "CertificateIdentifier", "certificate-arn": "CertificateArn"}.get(entry.get("Name"))
        if field is None:
            raise JsonRESTError("InvalidParameterValueException", f"Invalid filter name: {entry.get('Name')}")
        found = [certificate for certificate in found if certificate[field] in entry.get("Values", [])]
    if params.get("Filters") and not found:
        raise ResourceNotFoundFault("No certificates found matching the filters.")
    return json.dumps({"Certificates": found})


def _delete_certificate(self: DatabaseMigrationServiceResponse) -> str:
    arn = json.loads(self.body)["CertificateArn"]
    backend = self.dms_backend
    store = _dms_certificates(backend)
    identifier = next((key for key, value in store.items() if value["CertificateArn"] == arn), None)
    if identifier is None:
        raise ResourceNotFoundFault(f"Certificate {arn} not found.")
    backend.tagger.delete_all_tags_for_resource(arn)
    return json.dumps({"Certificate": store.pop(identifier)})


def patch_dms_certificates() -> None:
    """DMS certificates (ImportCertificate, DescribeCertificates, DeleteCertificate), which moto 5.2.1 lacks.

    AWS: ImportCertificate stores a PEM (or an Oracle wallet) under an identifier and a generated ARN
    (`arn:<partition>:dms:<region>:<account>:cert:<ID>`), rejects a PEM that does not parse
    (`InvalidCertificateFault`) or a taken identifier (`ResourceAlreadyExistsFault`), and answers the
    certificate's validity dates (epoch numbers), key length and signing algorithm; its tags live under
    the ARN; DescribeCertificates filters by `certificate-id` or `certificate-arn`.
    moto 5.2.1: none of these actions exist (HTTP 500 "not implemented"), so `aws_dms_certificate`, which
    the stack creates when `source.ca_certificate_file` is set (verify-ca / verify-full), never applies.
    """
    for action in ("import_certificate", "describe_certificates", "delete_certificate"):
        _absent(DatabaseMigrationServiceResponse, action)
    # The handlers (above) keep the certificates on the backend and answer as AWS does.
    _install(DatabaseMigrationServiceResponse, "import_certificate", _import_certificate)
    _install(DatabaseMigrationServiceResponse, "describe_certificates", _describe_certificates)
    _install(DatabaseMigrationServiceResponse, "delete_certificate", _delete_certificate)


def patch_rds_cluster_scaling_configuration() -> None:
    """No Serverless v1 `ScalingConfigurationInfo` on clusters that are not Serverless v1.

    AWS: DescribeDBClusters includes `ScalingConfigurationInfo` only for `engine_mode = serverless`
    (Aurora Serverless v1); a provisioned cluster (Serverless v2 included) has none.
    moto 5.2.1: `DBCluster.scaling_configuration_info` always returns a dict of `None`s, serialized as
    an empty element, which the provider reads as a `scaling_configuration` block with zero values:
    `terraform plan` then wants to remove it, after every apply.
    """
    original_getter = _original_property(DBCluster, "scaling_configuration_info")

    @functools.wraps(original_getter)
    def scaling_configuration_info(self: DBCluster) -> dict[str, Any] | None:
        if not self.scaling_configuration:
            return None
        info: dict[str, Any] = original_getter(self)
        return info

    _install(DBCluster, "scaling_configuration_info", property(scaling_configuration_info))


def patch_rds_instance_insights_and_monitoring() -> None:
    """DB instances keep the Performance Insights and Enhanced Monitoring settings they were created with.

    AWS: CreateDBInstance with `EnablePerformanceInsights`, `PerformanceInsightsKMSKeyId` and
    `PerformanceInsightsRetentionPeriod` (7 days when enabled without one) answers them back as
    `PerformanceInsightsEnabled`, `PerformanceInsightsKMSKeyId`, `PerformanceInsightsRetentionPeriod`;
    `MonitoringInterval` (0 when off) and `MonitoringRoleArn` come back as given.
    moto 5.2.1: `DBInstance.__init__` drops all five (they land in `**kwargs`), and ModifyDBInstance
    stores `enable_performance_insights` under a name nothing reads, so `aws_rds_cluster_instance`
    plans `performance_insights_enabled = false -> true` and `monitoring_interval = 0 -> 60` forever.
    """
    init = _original(DBInstance, "__init__")
    _original(DBInstance, "update")  # ModifyDBInstance sets attributes by request parameter name through it
    _absent(DBInstance, "performance_insights_enabled")

    @functools.wraps(init)
    def __init__(self: DBInstance, *args: Any, **kwargs: Any) -> None:  # noqa: N807  (replaces __init__)
        init(self, *args, **kwargs)
        enabled = bool(kwargs.get("enable_performance_insights"))
        retention = kwargs.get("performance_insights_retention_period") or PERFORMANCE_INSIGHTS_DEFAULT_RETENTION
        self.enable_performance_insights = enabled  # type: ignore[attr-defined]
        self.performance_insights_kms_key_id = kwargs.get("performance_insights_kms_key_id") if enabled else None  # type: ignore[attr-defined]
        self.performance_insights_retention_period = retention if enabled else None  # type: ignore[attr-defined]
        # ModifyDBInstance already sets these two by parameter name, which is also the name the response reads.
        self.monitoring_interval = kwargs.get("monitoring_interval") or 0  # type: ignore[attr-defined]
        self.monitoring_role_arn = kwargs.get("monitoring_role_arn")  # type: ignore[attr-defined]

    def performance_insights_enabled(self: DBInstance) -> bool:
        # Read through the request parameter's name, which is what ModifyDBInstance sets.
        return bool(getattr(self, "enable_performance_insights", False))

    _install(DBInstance, "__init__", __init__)
    _install(DBInstance, "performance_insights_enabled", property(performance_insights_enabled))


def patch_route53_private_zone_from_vpc() -> None:
    """A hosted zone created with a VPC is private.

    AWS: CreateHostedZone makes a private zone whenever the request carries a `VPC` element;
    `HostedZoneConfig.PrivateZone` is optional, and the Terraform provider does not send it.
    moto 5.2.1: makes the zone private only when `HostedZoneConfig.PrivateZone` is true, and ignores
    the VPC otherwise, so `aws_route53_zone` with a `vpc` block is stored public with no VPC and
    `terraform plan` wants to replace it.
    """
    create = _original(Route53, "create_hosted_zone")

    @functools.wraps(create)
    def create_hosted_zone(self: Route53) -> Any:
        # Route53 parses requests with `automated_parameter_parsing`: `self.params` is the parsed body.
        params: dict[str, Any] = self.params
        vpc = params.get("VPC") or {}
        if vpc.get("VPCId"):
            config = params.setdefault("HostedZoneConfig", {})
            config.setdefault("PrivateZone", True)
        return create(self)

    _install(Route53, "create_hosted_zone", create_hosted_zone)


def patch_ec2_referenced_group_rule_description() -> None:
    """Security group rules that reference another group or a prefix list keep their description.

    AWS: DescribeSecurityGroupRules returns the `Description` given in `UserIdGroupPairs` or
    `PrefixListIds` when the rule was authorized.
    moto 5.2.1: `SecurityGroupRule.description` reads only the CIDR range's description (and drops a
    prefix list's description when it stores the rule), so a rule created by
    `aws_vpc_security_group_ingress_rule`/`_egress_rule` with `referenced_security_group_id` or
    `prefix_list_id` (the S3 gateway endpoint) comes back without one and `terraform plan` wants to
    set it right after the first apply.
    """
    original_getter = _original_property(SecurityGroupRule, "description")
    init = _original(SecurityGroupRule, "__init__")
    signature = inspect.signature(init)
    if "prefix_list_id" not in signature.parameters:
        raise MotoPatchError("SecurityGroupRule.__init__ takes no prefix_list_id any more: re-check this patch")

    @functools.wraps(init)
    def __init__(self: SecurityGroupRule, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        init(self, *args, **kwargs)
        # moto passes it positionally or by name: bind to find it either way.
        prefix_list = signature.bind(self, *args, **kwargs).arguments.get("prefix_list_id") or {}
        self.tap_prefix_list_description = prefix_list.get("Description")  # type: ignore[attr-defined]

    @functools.wraps(original_getter)
    def description(self: SecurityGroupRule) -> str | None:
        found: str | None = original_getter(self)
        if found is None and self.source_group:
            found = self.source_group.get("Description")
        if found is None:
            found = getattr(self, "tap_prefix_list_description", None)
        return found

    _install(SecurityGroupRule, "__init__", __init__)
    _install(SecurityGroupRule, "description", property(description))


def patch_lambda_kms_key_arn() -> None:
    """Lambda functions keep the customer managed KMS key for their environment variables.

    AWS: CreateFunction/UpdateFunctionConfiguration with `KMSKeyArn` answer it back in the function
    configuration (GetFunction, GetFunctionConfiguration); an empty string removes it.
    moto 5.2.1: `LambdaFunction` ignores `KMSKeyArn`, so `aws_lambda_function.kms_key_arn` drifts
    after every apply.
    """
    init = _original(LambdaFunction, "__init__")
    get_configuration = _original(LambdaFunction, "get_configuration")
    update_configuration = _original(LambdaFunction, "update_configuration")

    @functools.wraps(init)
    def __init__(self: LambdaFunction, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:  # noqa: N807
        init(self, account_id, spec, *args, **kwargs)
        self.tap_kms_key_arn = spec.get("KMSKeyArn") or None  # type: ignore[attr-defined]

    @functools.wraps(get_configuration)
    def configuration(self: LambdaFunction, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config: dict[str, Any] = get_configuration(self, *args, **kwargs)
        key_arn = getattr(self, "tap_kms_key_arn", None)
        if key_arn:
            config["KMSKeyArn"] = key_arn
        return config

    @functools.wraps(update_configuration)
    def update(self: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "KMSKeyArn" in config_updates:
            self.tap_kms_key_arn = config_updates["KMSKeyArn"] or None  # type: ignore[attr-defined]
        result: dict[str, Any] = update_configuration(self, config_updates)
        return result

    _install(LambdaFunction, "__init__", __init__)
    _install(LambdaFunction, "get_configuration", configuration)
    _install(LambdaFunction, "update_configuration", update)


def patch_kinesis_create_stream_tags() -> None:
    """A Kinesis stream keeps the tags it was created with.

    AWS: CreateStream takes `Tags` (the provider sends `default_tags` there) and ListTagsForStream
    answers them.
    moto 5.2.1: `create_stream` ignores `Tags`, so `aws_kinesis_stream.tags_all` drifts right after
    apply, and every policy document that reads the stream's ARN is re-read and shown as a change.
    """
    create = _original(KinesisResponse, "create_stream")

    @functools.wraps(create)
    def create_stream(self: KinesisResponse) -> Any:
        result = create(self)
        tags = self._get_param("Tags")
        if tags:
            self.kinesis_backend.add_tags_to_stream(None, self._get_param("StreamName"), dict(tags))
        return result

    _install(KinesisResponse, "create_stream", create_stream)


def patch_backup_list_tags_path() -> None:
    """AWS Backup ListTags finds the resource whether or not the path ends in a slash.

    AWS: ListTags is `GET /tags/{resourceArn}/`; SDKs differ on the trailing slash (boto3 sends it,
    the Go SDK v2 in the Terraform provider does not) and AWS answers both.
    moto 5.2.1: takes the ARN as the second-to-last path segment, which is only right with the
    slash; without it, it lists the tags of a resource called `tags` (none), so every tagged
    `aws_backup_vault`/`aws_backup_plan` (provider `default_tags` included) drifts on `tags_all`.
    """
    list_tags = _original(BackupResponse, "list_tags")

    @functools.wraps(list_tags)
    def list_tags_any_path(self: BackupResponse) -> str:
        # Everything after the first "/tags/": the ARNs Backup tags hold colons, never slashes.
        _, _, tail = self.path.partition("/tags/")
        resource_arn = unquote(tail.rstrip("/"))
        return json.dumps({"Tags": self.backup_backend.list_tags(resource_arn=resource_arn)})

    _install(BackupResponse, "list_tags", list_tags_any_path)


def _backup_selection_path_ids(path: str) -> tuple[str, str]:
    # /backup/plans/{plan}/selections/{selection}: the selection part is empty for create and list.
    plan_part, _, selection_part = path.partition("/selections")
    return unquote(plan_part.rsplit("/", 1)[-1]), unquote(selection_part.strip("/"))


def _backup_selection_record(params: dict[str, Any], plan_id: str) -> dict[str, Any]:
    """What CreateBackupSelection stores: the selection as AWS answers it, every condition list included."""
    selection = params["BackupSelection"]
    return {
        "SelectionId": str(mock_random.uuid4()),
        "BackupPlanId": plan_id,
        "CreationDate": unix_time(),
        "CreatorRequestId": params.get("CreatorRequestId"),
        "BackupSelection": {
            "SelectionName": selection["SelectionName"],
            "IamRoleArn": selection["IamRoleArn"],
            "Resources": list(selection.get("Resources") or []),
            "NotResources": list(selection.get("NotResources") or []),
            "ListOfTags": list(selection.get("ListOfTags") or []),
            # AWS answers every condition list, empty ones included.
            "Conditions": {
                key: list((selection.get("Conditions") or {}).get(key) or [])
                for key in ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")
            },
        },
    }


def patch_backup_selections() -> None:
    """AWS Backup selections (CreateBackupSelection and friends), which moto 5.2.1 lacks.

    AWS: `PUT /backup/plans/{plan}/selections/` stores a selection (name, IAM role, resources,
    not-resources, tag conditions) in an existing plan and answers its `SelectionId`; GET/DELETE
    `.../selections/{id}` read and remove it, GET `.../selections/` lists them; a plan that still has
    selections cannot be deleted (`InvalidRequestException`).
    moto 5.2.1: none of the selection actions exist (HTTP 500 "not implemented"), so the provider
    retries `aws_backup_selection` until its create timeout. Here they store and answer the
    selection; no backup job ever runs (moto's Backup runs none).
    """
    for action in ("create_backup_selection", "get_backup_selection", "delete_backup_selection", "list_backup_selections"):
        _absent(BackupResponse, action)
    delete_plan = _original(BackupBackend, "delete_backup_plan")
    get_plan = _original(BackupBackend, "get_backup_plan")

    def selections(backend: BackupBackend, plan_id: str) -> dict[str, dict[str, Any]]:
        plan = get_plan(backend, plan_id, None)
        if plan.deletion_date is not None:
            raise ResourceNotFoundException(msg=f"Cannot find Backup plan with ID {plan_id}")
        # Kept on the backend, so moto's reset (which replaces backends) clears them too.
        store: dict[str, dict[str, dict[str, Any]]] = backend.__dict__.setdefault("tap_backup_selections", {})
        return store.setdefault(plan_id, {})

    def find(backend: BackupBackend, plan_id: str, selection_id: str) -> dict[str, Any]:
        found = selections(backend, plan_id).get(selection_id)
        if found is None:
            raise ResourceNotFoundException(msg=f"Cannot find Backup selection with ID {selection_id}")
        return found

    def create_backup_selection(self: BackupResponse) -> str:
        params = json.loads(self.body)
        plan_id, _ = _backup_selection_path_ids(self.path)
        record = _backup_selection_record(params, plan_id)
        selections(self.backup_backend, plan_id)[record["SelectionId"]] = record
        return json.dumps({key: record[key] for key in ("SelectionId", "BackupPlanId", "CreationDate")})

    def get_backup_selection(self: BackupResponse) -> str:
        plan_id, selection_id = _backup_selection_path_ids(self.path)
        record = find(self.backup_backend, plan_id, selection_id)
        return json.dumps({key: value for key, value in record.items() if value is not None})

    def delete_backup_selection(self: BackupResponse) -> str:
        plan_id, selection_id = _backup_selection_path_ids(self.path)
        find(self.backup_backend, plan_id, selection_id)
        del selections(self.backup_backend, plan_id)[selection_id]
        return "{}"

    def list_backup_selections(self: BackupResponse) -> str:
        plan_id, _ = _backup_selection_path_ids(self.path)
        listed = [
            {
                "SelectionId": record["SelectionId"],
                "SelectionName": record["BackupSelection"]["SelectionName"],
                "BackupPlanId": plan_id,
                "CreationDate": record["CreationDate"],
                "IamRoleArn": record["BackupSelection"]["IamRoleArn"],
            }
            for record in selections(self.backup_backend, plan_id).values()
        ]
        return json.dumps({"BackupSelectionsList": listed})

    @functools.wraps(delete_plan)
    def delete_backup_plan(self: BackupBackend, backup_plan_id: str) -> Any:
        if backup_plan_id in self.plans and self.__dict__.get("tap_backup_selections", {}).get(backup_plan_id):
            raise InvalidRequestException(msg="Related backup plan selections must be deleted prior to backup plan deletion")
        return delete_plan(self, backup_plan_id)

    _install(BackupResponse, "create_backup_selection", create_backup_selection)
    _install(BackupResponse, "get_backup_selection", get_backup_selection)
    _install(BackupResponse, "delete_backup_selection", delete_backup_selection)
    _install(BackupResponse, "list_backup_selections", list_backup_selections)
    _install(BackupBackend, "delete_backup_plan", delete_backup_plan)


def _dms_replication_configs(backend: DatabaseMigrationServiceBackend) -> dict[str, dict[str, Any]]:
    # Keyed by ARN; kept on the backend, so moto's reset (which replaces backends) clears them too.
    store: dict[str, dict[str, Any]] = backend.__dict__.setdefault("tap_replication_configs", {})
    return store


def _find_replication_config(backend: DatabaseMigrationServiceBackend, arn: str) -> dict[str, Any]:
    found = _dms_replication_configs(backend).get(arn)
    if found is None:
        raise ResourceNotFoundFault(f"Replication config {arn} not found.")
    return found


def _check_dms_endpoint(backend: DatabaseMigrationServiceBackend, arn: str) -> None:
    if all(endpoint.endpoint_arn != arn for endpoint in backend.endpoints.values()):
        raise ResourceNotFoundFault(f"Endpoint {arn} not found.")


def _matching_replication_configs(records: Iterable[dict[str, Any]], filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    fields = {"replication-config-arn": "ReplicationConfigArn", "replication-config-id": "ReplicationConfigIdentifier"}
    found = list(records)
    for entry in filters:
        field = fields.get(entry.get("Name", ""))
        if field is None:
            raise JsonRESTError("InvalidParameterValueException", f"Invalid filter name: {entry.get('Name')}")
        found = [record for record in found if record[field] in entry.get("Values", [])]
    return found


def _dms_random_id() -> str:
    return "".join(mock_random.choice(string.ascii_uppercase + string.digits) for _ in range(26))


def _replication_config_answer(record: dict[str, Any], *, as_sent: bool) -> dict[str, Any]:
    """A stored replication config as AWS answers it: settings shaped like a task's unless `as_sent`."""
    sent = record["ReplicationSettings"]
    settings = (
        sent
        if as_sent
        else json.dumps(
            aws_shaped_task_settings(
                _parse_settings(sent),
                log_group=f"dms-serverless-replication-{record['tap_resource_id']}",
                log_stream=f"dms-serverless-serv-res-id-{record['tap_stream_id']}",
            )
        )
    )
    shown = {key: value for key, value in record.items() if not key.startswith("tap_")}
    return {key: value for key, value in {**shown, "ReplicationSettings": settings}.items() if value is not None}


def _describe_replications(self: DatabaseMigrationServiceResponse) -> str:
    params = json.loads(self.body or "{}")
    found = _matching_replication_configs(_dms_replication_configs(self.dms_backend).values(), params.get("Filters") or [])
    replications = [
        {
            "ReplicationConfigIdentifier": record["ReplicationConfigIdentifier"],
            "ReplicationConfigArn": record["ReplicationConfigArn"],
            "SourceEndpointArn": record["SourceEndpointArn"],
            "TargetEndpointArn": record["TargetEndpointArn"],
            "ReplicationType": record["ReplicationType"],
            "Status": "created",
        }
        for record in found
    ]
    return json.dumps({"Replications": replications})


def _describe_replication_table_statistics(self: DatabaseMigrationServiceResponse) -> str:
    arn = json.loads(self.body)["ReplicationConfigArn"]
    _find_replication_config(self.dms_backend, arn)
    # Nothing ever runs on the emulator, so no table has been loaded or validated.
    return json.dumps({"ReplicationConfigArn": arn, "ReplicationTableStatistics": []})


def _modify_replication_config_record(record: dict[str, Any], params: dict[str, Any]) -> None:
    """ModifyReplicationConfig: the given members replace the stored ones; a compute config merges."""
    for member in (
        "ReplicationConfigIdentifier",
        "ReplicationType",
        "TableMappings",
        "ReplicationSettings",
        "SupplementalSettings",
        "SourceEndpointArn",
        "TargetEndpointArn",
    ):
        if member in params:
            record[member] = params[member]
    if "ComputeConfig" in params:
        record["ComputeConfig"] = {**record["ComputeConfig"], **params["ComputeConfig"]}
    record["ReplicationConfigUpdateTime"] = _epoch(utcnow())


def _new_replication_config(params: dict[str, Any], arn: str, resource_id: str) -> dict[str, Any]:
    """What CreateReplicationConfig stores (`tap_` members: ours, never answered)."""
    now = _epoch(utcnow())
    return {
        "ReplicationConfigIdentifier": params["ReplicationConfigIdentifier"],
        "ReplicationConfigArn": arn,
        "SourceEndpointArn": params["SourceEndpointArn"],
        "TargetEndpointArn": params["TargetEndpointArn"],
        "ReplicationType": params["ReplicationType"],
        "ComputeConfig": dict(params.get("ComputeConfig") or {}),
        "ReplicationSettings": params.get("ReplicationSettings"),
        "SupplementalSettings": params.get("SupplementalSettings"),
        "TableMappings": params["TableMappings"],
        "ReplicationConfigCreateTime": now,
        "ReplicationConfigUpdateTime": now,
        "tap_resource_id": resource_id,
        "tap_stream_id": _dms_random_id(),
    }


def patch_dms_replication_configs() -> None:
    """DMS Serverless replication configs (Create/Describe/Modify/DeleteReplicationConfig, DescribeReplications and
    DescribeReplicationTableStatistics).

    AWS: CreateReplicationConfig stores a Serverless replication under its identifier and ARN
    (`arn:<partition>:dms:<region>:<account>:replication-config:<resource id>`; the resource id is
    `ResourceIdentifier` when given), checks that both endpoints exist (`ResourceNotFoundFault`) and
    that the identifier is free (`ResourceAlreadyExistsFault`), and keeps its tags under the ARN;
    DescribeReplicationConfigs answers it with `ReplicationSettings` shaped like a task's
    (`aws_shaped_task_settings`: defaults filled in, `Logging.CloudWatchLogGroup` =
    `dms-serverless-replication-<resource id>`, stream `dms-serverless-serv-res-id-<unique id>`);
    ModifyReplicationConfig changes the given members; DescribeReplications answers one replication
    per config, `created` until it is started; DescribeReplicationTableStatistics answers the tables a
    replication has loaded (`ResourceNotFoundFault` for an unknown config).
    moto 5.2.1: none of these actions exist (HTTP 500 "not implemented"), so a `dms.serverless = true`
    stack could not deploy to the emulator at all. No replication ever runs here (Start/StopReplication
    are not added: the stack never starts one on apply).
    """
    for action in (
        "create_replication_config",
        "describe_replication_configs",
        "modify_replication_config",
        "delete_replication_config",
        "describe_replications",
        "describe_replication_table_statistics",
    ):
        _absent(DatabaseMigrationServiceResponse, action)
    as_sent = os.environ.get(DMS_SETTINGS_AS_SENT_ENV) == "1"

    def answer(record: dict[str, Any]) -> dict[str, Any]:
        return _replication_config_answer(record, as_sent=as_sent)

    def create_replication_config(self: DatabaseMigrationServiceResponse) -> str:
        params = json.loads(self.body)
        backend = self.dms_backend
        identifier = params["ReplicationConfigIdentifier"]
        if any(record["ReplicationConfigIdentifier"] == identifier for record in _dms_replication_configs(backend).values()):
            raise ResourceAlreadyExistsFault(f"Replication config {identifier} already exists.")
        _check_dms_endpoint(backend, params["SourceEndpointArn"])
        _check_dms_endpoint(backend, params["TargetEndpointArn"])
        resource_id = params.get("ResourceIdentifier") or _dms_random_id()
        arn = _dms_arn(backend, "replication-config", resource_id)
        _dms_replication_configs(backend)[arn] = _new_replication_config(params, arn, resource_id)
        if params.get("Tags"):
            backend.tagger.tag_resource(arn, params["Tags"])
        return json.dumps({"ReplicationConfig": answer(_dms_replication_configs(backend)[arn])})

    def describe_replication_configs(self: DatabaseMigrationServiceResponse) -> str:
        params = json.loads(self.body or "{}")
        found = _matching_replication_configs(_dms_replication_configs(self.dms_backend).values(), params.get("Filters") or [])
        return json.dumps({"ReplicationConfigs": [answer(record) for record in found]})

    def modify_replication_config(self: DatabaseMigrationServiceResponse) -> str:
        params = json.loads(self.body)
        backend = self.dms_backend
        record = _find_replication_config(backend, params["ReplicationConfigArn"])
        for member in ("SourceEndpointArn", "TargetEndpointArn"):
            if member in params:
                _check_dms_endpoint(backend, params[member])
        _modify_replication_config_record(record, params)
        return json.dumps({"ReplicationConfig": answer(record)})

    def delete_replication_config(self: DatabaseMigrationServiceResponse) -> str:
        arn = json.loads(self.body)["ReplicationConfigArn"]
        backend = self.dms_backend
        record = _find_replication_config(backend, arn)
        del _dms_replication_configs(backend)[arn]
        backend.tagger.delete_all_tags_for_resource(arn)
        return json.dumps({"ReplicationConfig": answer(record)})

    _install(DatabaseMigrationServiceResponse, "create_replication_config", create_replication_config)
    _install(DatabaseMigrationServiceResponse, "describe_replication_configs", describe_replication_configs)
    _install(DatabaseMigrationServiceResponse, "modify_replication_config", modify_replication_config)
    _install(DatabaseMigrationServiceResponse, "delete_replication_config", delete_replication_config)
    _install(DatabaseMigrationServiceResponse, "describe_replications", _describe_replications)
    _install(DatabaseMigrationServiceResponse, "describe_replication_table_statistics", _describe_replication_table_statistics)


PATCHES: Final[tuple[Callable[[], None], ...]] = (
    patch_dms_timestamps,
    patch_dms_task_becomes_ready,
    patch_dms_task_settings_aws_shape,
    patch_dms_subnet_group,
    patch_dms_event_subscriptions,
    patch_dms_certificates,
    patch_dms_modify_endpoint,
    patch_dms_replication_configs,
    patch_rds_cluster_scaling_configuration,
    patch_rds_instance_insights_and_monitoring,
    patch_route53_private_zone_from_vpc,
    patch_ec2_referenced_group_rule_description,
    patch_lambda_kms_key_arn,
    patch_kinesis_create_stream_tags,
    patch_backup_list_tags_path,
    patch_backup_selections,
    # issue 16: transit gateway attachments, VPN, route propagation, Resolver, customer IDs (own module)
    *NETWORK_PATCHES,
)


def apply_all() -> list[str]:
    """Check the moto version and apply every patch once; return their names (for the launcher's log).

    All or nothing: if one patch finds moto changed, the ones already applied are reverted before the error.
    """
    names = [patch.__name__ for patch in PATCHES]
    if is_applied():
        return names
    check_moto_version()
    try:
        for patch in PATCHES:
            patch()
    except BaseException:
        revert_all()
        raise
    return names


@contextlib.contextmanager
def applied() -> Iterator[list[str]]:
    """The patches for the duration of a `with` block (tests): moto is restored on the way out."""
    already = is_applied()
    names = apply_all()
    try:
        yield names
    finally:
        if not already:
            revert_all()
