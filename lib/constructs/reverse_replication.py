"""Reverse replication (`cutover.reverse_replication`): Aurora -> the cutover's source, CDC only, created stopped.

From the writer flip on, the application writes to Aurora; moving the writer back keeps those writes
only if they were replicated to the source since the flip. The operator CLI starts this task at the
flip with a CDC start position and stops it after a writer rollback; nothing here starts it (before
the flip the source is the writer, and a running reverse task would write into it). The forward task
must be stopped before this one starts, or each would replay the other's changes.

It runs where the forward task runs (the same replication instance, or a DMS Serverless replication
config of type cdc) and reads the same table mappings, whose exclusion of the DMS control schema keeps
each direction's control tables out of the other. DMS opens both connections, to Aurora's writer and to
the on-premises host, from the replication security group that already reaches both on their ports
(security groups are stateful): the reverse direction needs no further rule.

The settings (dms/reverse-task-settings.json, checked by the config loader) apply transactionally, never
prepare, drop or truncate the source's tables, and apply no DDL: the live source is changed by its own
DBAs. Row validation is off: it would re-read both live primaries, and the CLI proves the drain with a
marker row instead.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.dms_endpoint import DmsEndpoint, DmsEndpointPostgresSettings
from cdktf_cdktf_provider_aws.dms_replication_config import DmsReplicationConfig
from cdktf_cdktf_provider_aws.dms_replication_task import DmsReplicationTask
from constructs import Construct

from lib.config import AuroraConfig, SourceConfig, TargetConfig
from lib.constants import unencrypted_opt_in
from lib.constructs.context import StackContext
from lib.constructs.dms import AURORA_ENDPOINT_ENGINES, HEARTBEAT_MINUTES, Dms
from lib.defaults import REVERSE_TASK_SUFFIX

# test_decoding ships with PostgreSQL: it needs only rds.logical_replication, which the Aurora parameter group
# sets. pglogical would also need shared_preload_libraries (a cluster reboot) and the extension in the database.
POSTGRES_DECODING_PLUGIN = "test_decoding"
REVERSE_WRITER_SESSION_SETUP = "SET default_transaction_read_only = off"


class ReverseReplication(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        context: StackContext,
        forward_task_key: str,
        table_mappings: str,
        settings: str,
        source: SourceConfig,
        target: TargetConfig,
        aurora: AuroraConfig,
        dms: Dms,
        aurora_secret_arn: str,
        source_write_secret_arn: str,
        secrets_access_role_arn: str,
    ) -> None:
        """`aurora_secret_arn`: the forward task's Aurora user (host: the cluster writer endpoint, where slots live).

        `source_write_secret_arn`: the reverse task's own user on the source, allowed to write there.
        """
        super().__init__(scope, id_)
        prefix = context.prefix
        self.task_id = f"{prefix}-{forward_task_key}-{REVERSE_TASK_SUFFIX}"
        postgres = not aurora.is_mysql
        # PostgreSQL has no CDC start time: the CLI creates this slot at the fence (test_decoding) and starts
        # the task from the LSN it returns. DMS refuses to start while the slot is missing, instead of
        # creating its own slot at start and missing the writes made since the flip.
        self.slot_name = f"{prefix}_{REVERSE_TASK_SUFFIX}".replace("-", "_") if postgres else None
        self.aurora_source = self._build_aurora_source(
            context, source, target, aurora, secret_arn=aurora_secret_arn, access_role_arn=secrets_access_role_arn
        )
        self.source_target = self._build_source_target(
            context, source, dms, secret_arn=source_write_secret_arn, access_role_arn=secrets_access_role_arn
        )
        self.log_group: CloudwatchLogGroup | None = None
        self.task: DmsReplicationTask | DmsReplicationConfig = self._build_task(context, dms, table_mappings, settings)
        self.task_arn = self.task.replication_task_arn if isinstance(self.task, DmsReplicationTask) else self.task.arn

    def _build_aurora_source(
        self,
        context: StackContext,
        source: SourceConfig,
        target: TargetConfig,
        aurora: AuroraConfig,
        *,
        secret_arn: str,
        access_role_arn: str,
    ) -> DmsEndpoint:
        """Aurora's writer as the reverse task's source, reading the slot the CLI creates at the fence."""
        prefix, kms_key_arn = context.prefix, context.kms_key_arn
        postgres = not aurora.is_mysql
        return DmsEndpoint(
            self,
            "aurora-source",
            endpoint_id=f"{prefix}-{REVERSE_TASK_SUFFIX}-source-{target.key}",
            endpoint_type="source",
            engine_name=AURORA_ENDPOINT_ENGINES[target.kind],
            # As for the forward endpoints: host and port come from the secret; a MySQL endpoint names no database.
            database_name=aurora.database_name if postgres else None,
            # The cluster parameter group refuses anything but TLS.
            ssl_mode="require",
            secrets_manager_arn=secret_arn,
            secrets_manager_access_role_arn=access_role_arn,
            kms_key_arn=kms_key_arn,
            postgres_settings=(
                DmsEndpointPostgresSettings(
                    plugin_name=POSTGRES_DECODING_PLUGIN,
                    slot_name=self.slot_name,
                    # DDL is not replicated back (see the module docstring), so DMS needs no event trigger on Aurora.
                    capture_ddls=False,
                    # Keeps the slot advancing while the migrated tables are idle, so Aurora does not retain WAL.
                    heartbeat_enable=True,
                    heartbeat_frequency=HEARTBEAT_MINUTES,
                )
                if postgres
                else None
            ),
            extra_connection_attributes=None if postgres else f"eventsPollInterval={source.events_poll_interval_seconds}",
        )

    def _build_source_target(
        self, context: StackContext, source: SourceConfig, dms: Dms, *, secret_arn: str, access_role_arn: str
    ) -> DmsEndpoint:
        """The on-premises source as the reverse task's target, written by the reverse task's own user."""
        prefix, kms_key_arn = context.prefix, context.kms_key_arn
        return DmsEndpoint(
            self,
            "source-target",
            endpoint_id=f"{prefix}-{REVERSE_TASK_SUFFIX}-target-{source.key}",
            endpoint_type="target",
            engine_name=source.engine,
            database_name=source.database if source.engine == "postgres" else None,
            ssl_mode=source.ssl_mode,
            tags=unencrypted_opt_in(source.key, source.allow_unencrypted, source.ssl_mode),
            certificate_arn=dms.source_certificate_arns.get(source.key),
            secrets_manager_arn=secret_arn,
            secrets_manager_access_role_arn=access_role_arn,
            kms_key_arn=kms_key_arn,
            # The cutover fences the source with a database default (default_transaction_read_only = on); the reverse
            # task's own sessions opt out, so no role needs an override that the fence proof would flag.
            postgres_settings=(
                DmsEndpointPostgresSettings(after_connect_script=REVERSE_WRITER_SESSION_SETUP)
                if source.engine == "postgres"
                else None
            ),
        )

    def _build_task(
        self, context: StackContext, dms: Dms, table_mappings: str, settings: str
    ) -> DmsReplicationTask | DmsReplicationConfig:
        """CDC only and stopped, where the forward task runs: the replication instance, or DMS Serverless."""
        source_arn = self.aurora_source.endpoint_arn
        target_arn = self.source_target.endpoint_arn
        if dms.instance is not None:
            return DmsReplicationTask(
                self,
                "task",
                replication_task_id=self.task_id,
                migration_type="cdc",
                replication_instance_arn=dms.instance.replication_instance_arn,
                source_endpoint_arn=source_arn,
                target_endpoint_arn=target_arn,
                table_mappings=table_mappings,
                replication_task_settings=settings,
                # Started by the CLI at the writer flip, with a CDC start position.
                start_replication_task=False,
            )
        if dms.serverless_compute is not None:
            # As for the forward replication: DMS Serverless logs to this name once the replication runs.
            self.log_group = CloudwatchLogGroup(
                self,
                "logs",
                name=f"dms-serverless-replication-{self.task_id}",
                retention_in_days=context.log_retention_days,
                kms_key_id=context.kms_key_arn,
            )
            return DmsReplicationConfig(
                self,
                "replication",
                replication_config_identifier=self.task_id,
                resource_identifier=self.task_id,
                replication_type="cdc",
                compute_config=dms.serverless_compute,
                source_endpoint_arn=source_arn,
                target_endpoint_arn=target_arn,
                table_mappings=table_mappings,
                replication_settings=settings,
                start_replication=False,
                depends_on=list(dms.service_role_dependables),
            )
        raise ValueError("the DMS construct built neither a replication instance nor a Serverless compute config")
