"""The databases behind the cutover, resolved once per CLI command: config, endpoints, preflight options.

Credentials come from --source-url / --target-url (or TAP_SOURCE_URL / TAP_TARGET_URL), else from the
stack's Secrets Manager secrets named in the outputs file; the configuration supplies the cutover task's
table mappings and settings. Nothing here prints or keeps a password beyond the Endpoint objects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tap_cutover.settings import Settings

from . import dbcli
from .databases import (
    DEFAULT_MARKER_SCHEMA,
    Check,
    Endpoint,
    PreflightOptions,
    TableName,
    TaskSettings,
    parse_url,
    run_preflight,
    selected_tables,
)
from .databases.checks import DEFAULT_LONG_TRANSACTION_SECONDS
from .writer_move import Databases, ReverseReplication

if TYPE_CHECKING:
    from boto3.session import Session

    from lib.config import AppConfig, DmsTaskConfig


@dataclass
class DatabaseAccess:
    config: AppConfig
    task: DmsTaskConfig
    source: Endpoint
    target: Endpoint
    outputs_path: Path
    session: Session | None = None
    _tables: list[TableName] | None = field(default=None, repr=False)

    @classmethod
    def resolve(
        cls,
        source_url: str | None,
        target_url: str | None,
        *,
        config_path: str | None,
        outputs_path: Path,
        session: Session | None,
        env: Mapping[str, str],
    ) -> DatabaseAccess:
        config = dbcli.load_app_config(config_path)
        task = dbcli.cutover_task(config, None)
        source, target = dbcli.resolve_endpoints(
            source_url or env.get("TAP_SOURCE_URL") or None,
            target_url or env.get("TAP_TARGET_URL") or None,
            config,
            outputs_path,
            (lambda: session) if session is not None else None,
            task_key=task.key,
        )
        if target is None:
            raise dbcli.UsageError(
                f"task {task.key} has no database target: the cutover needs one (pass --target-url or deploy an Aurora target)"
            )
        return cls(config, task, source, target, outputs_path, session)

    def tables(self) -> list[TableName]:
        """The tables the task's mappings select on the live source (read once)."""
        if self._tables is None:
            self._tables = selected_tables(self.source, self.task.table_mappings)
        return self._tables

    def pair(self, proof_url: str | None) -> Databases:
        proof = parse_url(proof_url, "proof") if proof_url else None
        # PostgreSQL syncs every sequence; MySQL/MariaDB AUTO_INCREMENT belongs to the mapped tables.
        tables = self.tables() if self.source.family != "postgres" else None
        return Databases(self.source, self.target, proof, tables, mapped=self.tables())

    def reverse_replication(self, settings: Settings, say: Callable[[str], None]) -> ReverseReplication | None:
        """The stack's reverse DMS replication, when the Lambda is configured with one (cutover.reverse_replication)."""
        reverse_arn = settings.dms_reverse_replication_arn
        if reverse_arn is None:
            return None
        from .reverse_dms import DmsReverseReplication, ReplicationIds  # noqa: PLC0415  (fence and writer rollback only)

        slot: str | None = None
        if self.target.family == "postgres":
            value = dbcli.read_outputs(self.outputs_path).get(dbcli.REVERSE_SLOT_OUTPUT)
            if not isinstance(value, str) or not value:
                raise dbcli.UsageError(
                    f"{self.outputs_path} has no {dbcli.REVERSE_SLOT_OUTPUT}: the PostgreSQL reverse task starts from that "
                    "slot; redeploy, or pass the outputs of the deployed stack with --outputs"
                )
            slot = value
        if self.session is None:
            import boto3  # noqa: PLC0415

            self.session = boto3.session.Session()
        ids = ReplicationIds(settings.dms_replication_arn, reverse_arn, slot)
        return DmsReverseReplication(self.session.client("dms"), ids, source=self.source, target=self.target, say=say)

    def preflight(self) -> list[Check]:
        source_config = self.config.sources[self.task.source]
        options = PreflightOptions(
            task=TaskSettings.from_json(self.task.settings),
            ssl_mode=source_config.ssl_mode,
            task_count=sum(1 for other in self.config.dms.tasks.values() if other.source == self.task.source),
            reverse_replication=self.config.cutover is not None and self.config.cutover.reverse_replication,
            rollback_window_hours=self.config.cutover_table.rollback_window_hours,
            long_transaction_seconds=DEFAULT_LONG_TRANSACTION_SECONDS,
            marker_schema=DEFAULT_MARKER_SCHEMA,
        )
        return run_preflight(self.source, self.target, self.task.table_mappings, options)
