"""The stack's Terraform outputs, keyed by lib/constants.Output (the integration tests and the CLI read them).

The outputs are declared from the stack's parts (`StackParts`, which `TapStack` is), not from the stack's
module: the stack imports this module, and nothing here imports the stack back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from cdktf import TerraformOutput
from constructs import Construct

from lib.constants import Output

if TYPE_CHECKING:
    from lib.config import AppConfig
    from lib.constructs.aurora import Aurora
    from lib.constructs.backup import Backup
    from lib.constructs.cutover import Cutover
    from lib.constructs.data_lake import DataLake
    from lib.constructs.dms import Dms
    from lib.constructs.encryption import Encryption
    from lib.constructs.internet_egress import InternetEgress
    from lib.constructs.network import Network
    from lib.constructs.notifications import Notifications
    from lib.constructs.observability import Observability
    from lib.constructs.on_premises import OnPremisesConnectivity
    from lib.constructs.resolver import ResolverInbound
    from lib.constructs.reverse_replication import ReverseReplication
    from lib.constructs.secrets import Secrets
    from lib.constructs.streaming import KinesisDelivery


class StackParts(Protocol):
    """What the outputs read: the config and the constructs the stack built (None or empty: not built)."""

    @property
    def config(self) -> AppConfig: ...
    @property
    def network(self) -> Network: ...
    @property
    def encryption(self) -> Encryption: ...
    @property
    def secrets(self) -> Secrets: ...
    @property
    def dms(self) -> Dms: ...
    @property
    def notifications(self) -> Notifications: ...
    @property
    def observability(self) -> Observability: ...
    @property
    def alarm_name_prefix(self) -> str: ...
    @property
    def aurora(self) -> Aurora | None: ...
    @property
    def cutover(self) -> Cutover | None: ...
    @property
    def reverse(self) -> ReverseReplication | None: ...
    @property
    def on_premises(self) -> OnPremisesConnectivity | None: ...
    @property
    def resolver(self) -> ResolverInbound | None: ...
    @property
    def internet_egress(self) -> InternetEgress | None: ...
    @property
    def backup(self) -> Backup | None: ...
    @property
    def data_lake(self) -> DataLake | None: ...
    @property
    def streams(self) -> dict[str, KinesisDelivery]: ...


def declare_outputs(scope: Construct, stack: StackParts) -> None:
    """Every output of the parts the stack built, in `scope` (the stack); none for a part it did not build."""
    values: dict[str, object] = {
        Output.VPC_ID: stack.network.vpc_id,
        Output.PRIVATE_ROUTE_TABLE_IDS: stack.network.route_table_ids,
        Output.NETWORK_CONNECTION: stack.config.network.connection,
        Output.ON_PREMISES_CIDRS: list(stack.config.on_premises_cidrs),
        Output.PRIVATE_SUBNET_IDS: stack.network.private_subnet_ids,
        Output.DMS_SECURITY_GROUP_ID: stack.network.dms_security_group.id,
        Output.KMS_KEY_ARN: stack.encryption.key_arn,
        Output.KMS_KEY_ALIAS: stack.encryption.alias.name,
        Output.SOURCE_SECRET_ARNS: stack.secrets.source_secret_arns,
        Output.DMS_SOURCE_ENDPOINT_ARNS: {k: e.endpoint_arn for k, e in stack.dms.source_endpoints.items()},
        Output.DMS_TARGET_ENDPOINT_ARNS: {k: e.endpoint_arn for k, e in stack.dms.target_endpoints.items()},
        Output.DMS_TASK_ARNS: stack.dms.task_arns,
        Output.DMS_SECRETS_ACCESS_ROLE_ARN: stack.secrets.dms_access_role.arn,
        Output.NOTIFICATION_TOPIC_ARN: stack.notifications.topic.arn,
        Output.ALARM_NAME_PREFIX: stack.alarm_name_prefix,
        Output.DASHBOARD_NAME: stack.observability.dashboard.dashboard_name,
        Output.ALARM_NAMES: [alarm.alarm_name for alarm in stack.observability.alarms.values()],
        Output.REGION: stack.config.project.region,
        Output.DEPLOYMENT_TARGET: stack.config.deployment.target,
    }
    if stack.dms.instance is not None:
        values[Output.DMS_REPLICATION_INSTANCE_ARN] = stack.dms.instance.replication_instance_arn
        values[Output.DMS_REPLICATION_INSTANCE_ID] = stack.dms.instance.replication_instance_id
    if stack.aurora is not None and stack.network.aurora_security_group is not None:
        values |= {
            Output.AURORA_SECURITY_GROUP_ID: stack.network.aurora_security_group.id,
            Output.AURORA_CLUSTER_ARN: stack.aurora.cluster.arn,
            Output.AURORA_CLUSTER_ID: stack.aurora.cluster.cluster_identifier,
            Output.AURORA_WRITER_ENDPOINT: stack.aurora.cluster.endpoint,
            Output.AURORA_READER_ENDPOINT: stack.aurora.cluster.reader_endpoint,
            Output.AURORA_INSTANCE_IDS: [instance.identifier for instance in stack.aurora.instances],
            Output.AURORA_MASTER_SECRET_ARN: stack.aurora.master_secret_arn,
        }
    if stack.secrets.target_secret is not None:
        values[Output.TARGET_SECRET_ARN] = stack.secrets.target_secret.arn
    if stack.cutover is not None:
        values |= {
            Output.HOSTED_ZONE_ID: stack.cutover.zone_id,
            Output.READER_RECORD_NAME: stack.cutover.reader_name,
            Output.WRITER_RECORD_NAME: stack.cutover.writer_name,
            Output.CUTOVER_FUNCTION_NAME: stack.cutover.function.function_name,
            Output.CUTOVER_STATE_PARAMETER: stack.cutover.state_parameter.name,
            Output.CUTOVER_LOCK_PARAMETER: stack.cutover.lock_parameter_name,
        }
    if stack.reverse is not None and stack.secrets.reverse_target_secret is not None:
        values[Output.REVERSE_TASK_ARN] = stack.reverse.task_arn
        values[Output.REVERSE_TARGET_SECRET_ARN] = stack.secrets.reverse_target_secret.arn
        if stack.reverse.slot_name is not None:
            values[Output.REVERSE_SLOT_NAME] = stack.reverse.slot_name
    values |= _connection_outputs(stack)
    if stack.backup is not None:
        values[Output.BACKUP_VAULT_NAME] = stack.backup.vault.name
        values[Output.BACKUP_PLAN_ID] = stack.backup.plan.id
    if stack.data_lake is not None:
        values |= {
            Output.DATA_LAKE_BUCKET: stack.data_lake.bucket_name,
            Output.GLUE_DATABASE: stack.data_lake.database.name,
            Output.GLUE_CRAWLERS: {key: crawler.name for key, crawler in stack.data_lake.crawlers.items()},
            Output.ATHENA_WORKGROUP: stack.data_lake.workgroup.name,
        }
    if stack.streams:
        values[Output.KINESIS_STREAM_ARNS] = {key: stream.stream_arn for key, stream in stack.streams.items()}
        values[Output.FIREHOSE_DELIVERY_STREAMS] = {key: stream.delivery_stream.name for key, stream in stack.streams.items()}
    for key, value in values.items():
        TerraformOutput(scope, key, value=value)


def _connection_outputs(stack: StackParts) -> dict[str, object]:
    """The transit gateway attachment or VPN connection, and the resolver's endpoint and IPs (issue 16)."""
    values: dict[str, object] = {}
    on_premises = stack.on_premises
    if on_premises is not None and on_premises.transit_gateway_attachment is not None:
        values[Output.TRANSIT_GATEWAY_ATTACHMENT_ID] = on_premises.transit_gateway_attachment.id
    if on_premises is not None and on_premises.vpn_connection is not None:
        values[Output.VPN_CONNECTION_ID] = on_premises.vpn_connection.id
    if stack.resolver is not None:
        values[Output.RESOLVER_ENDPOINT_ID] = stack.resolver.endpoint.id
        values[Output.RESOLVER_INBOUND_IPS] = stack.resolver.ip_addresses
    if stack.internet_egress is not None:
        values[Output.NAT_PUBLIC_IPS] = stack.internet_egress.public_ips
        values[Output.INTERNET_SOURCE_CIDRS] = list(stack.config.internet_source_cidrs)
    return values
