"""The database layer of the operator CLI: preflight checks, the write fence, the drain marker, sequences.

Only the operator CLI imports this package (never the Lambda handler; it is not in the Lambda zip).
The drivers, psycopg 3 and PyMySQL, are imported by `postgres` and `mysql` only, on first use.
"""

from __future__ import annotations

from .checks import DEFAULT_MARKER_SCHEMA, MARKER_TABLE, Check, PreflightOptions, TaskSettings, Verdict, worst
from .counting import StatementCounter, count_statements
from .endpoints import Endpoint, endpoint_from_secret, parse_url, read_secret_string
from .errors import DatabaseError, EndpointError, MappingError, RefusedError
from .mappings import SelectionRule, TableName, parse_rules, select_tables
from .operations import (
    REVERSE_SLOT_PLUGIN,
    admit_reverse_writer,
    compare_sequences,
    fence_checks,
    fence_source,
    marker_applied,
    release_reverse_position,
    reverse_start_position,
    run_preflight,
    selected_tables,
    sequence_checks,
    sync_sequences,
    unfence_source,
    wait_for_marker,
    write_marker,
)
from .refusals import FENCE_REFUSALS, RefusalKind
from .results import DrainProof, FenceProof, Marker, PreparedTransaction, Refusal, SequenceReport, SequenceRow, Session
from .sequences import DEFAULT_GAP, SequenceKey, quote_pair

__all__ = [
    "DEFAULT_GAP",
    "DEFAULT_MARKER_SCHEMA",
    "FENCE_REFUSALS",
    "MARKER_TABLE",
    "REVERSE_SLOT_PLUGIN",
    "Check",
    "DatabaseError",
    "DrainProof",
    "Endpoint",
    "EndpointError",
    "FenceProof",
    "MappingError",
    "Marker",
    "PreflightOptions",
    "PreparedTransaction",
    "Refusal",
    "RefusalKind",
    "RefusedError",
    "SelectionRule",
    "SequenceKey",
    "SequenceReport",
    "SequenceRow",
    "Session",
    "StatementCounter",
    "TableName",
    "TaskSettings",
    "Verdict",
    "admit_reverse_writer",
    "compare_sequences",
    "count_statements",
    "endpoint_from_secret",
    "fence_checks",
    "fence_source",
    "marker_applied",
    "parse_rules",
    "parse_url",
    "quote_pair",
    "read_secret_string",
    "release_reverse_position",
    "reverse_start_position",
    "run_preflight",
    "select_tables",
    "selected_tables",
    "sequence_checks",
    "sync_sequences",
    "unfence_source",
    "wait_for_marker",
    "worst",
    "write_marker",
]
