"""The stack's Terraform outputs, keyed by lib/constants.Output (the integration tests and the CLI read them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktf import TerraformOutput

from lib.constants import Output

if TYPE_CHECKING:
    from lib.tap_stack import TapStack


def declare_outputs(stack: TapStack) -> None:
    """Every output of the parts the stack built; none for a part it did not build."""
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
        TerraformOutput(stack, key, value=value)


def _connection_outputs(stack: TapStack) -> dict[str, object]:
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
    return values
