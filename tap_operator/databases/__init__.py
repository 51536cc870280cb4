"""The database layer of the operator CLI: preflight checks, the write fence, the drain marker, sequences.

Only the operator CLI imports this package (never the Lambda handler; it is not in the Lambda zip).
The drivers, psycopg 3 and PyMySQL, are imported by `postgres` and `mysql` only, on first use.
"""

from __future__ import annotations

from .checks import DEFAULT_MARKER_SCHEMA, MARKER_TABLE, Check, PreflightOptions, TaskSettings, Verdict, worst
from .endpoints import Endpoint, endpoint_from_secret, parse_url, read_secret_string
from .errors import DatabaseError, EndpointError, MappingError
from .mappings import SelectionRule, TableName, parse_rules, select_tables
from .operations import (
    REVERSE_SLOT_PLUGIN,
    admit_reverse_writer,
    compare_sequences,
    fence_source,
    marker_applied,
    release_reverse_position,
    reverse_start_position,
    run_preflight,
    selected_tables,
    sync_sequences,
    unfence_source,
    wait_for_marker,
    write_marker,
)
from .results import DrainProof, FenceProof, Marker, SequenceReport, SequenceRow, Session
from .sequences import DEFAULT_GAP

__all__ = [
    "DEFAULT_GAP",
    "DEFAULT_MARKER_SCHEMA",
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
    "SelectionRule",
    "SequenceReport",
    "SequenceRow",
    "Session",
    "TableName",
    "TaskSettings",
    "Verdict",
    "admit_reverse_writer",
    "compare_sequences",
    "endpoint_from_secret",
    "fence_source",
    "marker_applied",
    "parse_rules",
    "parse_url",
    "read_secret_string",
    "release_reverse_position",
    "reverse_start_position",
    "run_preflight",
    "select_tables",
    "selected_tables",
    "sync_sequences",
    "unfence_source",
    "wait_for_marker",
    "worst",
    "write_marker",
]
