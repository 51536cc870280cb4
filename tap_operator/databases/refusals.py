"""Every reason `fence --confirm` refuses to move the writer once it started, and the preflight check that announces it.

The rule: a green preflight never leads to a fence that strands the source. The fence makes the source
read-only first, so anything it refuses afterwards leaves the application without a writer (held, or
reopened if the operator chose so). Each refusal kind below therefore names the preflight check(s) that
block on the same condition before the cutover starts. A kind without one says why it cannot be announced.

Every place that refuses writes its kind as `refusal_kind("...")` with a literal name, so a test can
read them all from the source and hold them equal to this registry (tests/db/test_fence_refusals.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Step = Literal["fence", "marker", "drain", "sequences", "schema", "data"]
POSTGRES = frozenset({"postgres"})
MYSQL = frozenset({"mysql"})
BOTH = POSTGRES | MYSQL


@dataclass(frozen=True)
class RefusalKind:
    kind: str
    step: Step
    engines: frozenset[str]  # endpoint families: "postgres", "mysql" (MySQL and MariaDB)
    what: str
    announced_by: tuple[str, ...]  # names of the preflight checks that block on it
    unannounced_because: str = ""  # only for a kind no preflight can foresee: why, and why nothing is stranded by it


FENCE_REFUSALS: dict[str, RefusalKind] = {
    kind.kind: kind
    for kind in (
        RefusalKind("read_only_override", "fence", BOTH,
                    "a role setting (PostgreSQL) or a privileged account (MySQL: READ_ONLY ADMIN, SUPER, CONNECTION_ADMIN) "
                    "writes through the read-only fence", ("read-only override",)),
        RefusalKind("proof_write_succeeded", "fence", BOTH,
                    "a fresh session of the proving user could write", ("read-only override",)),
        RefusalKind("prepared_transaction", "fence", BOTH,
                    "a prepared (two-phase / XA) transaction is pending: its COMMIT PREPARED / XA COMMIT succeeds on a "
                    "read-only source, after the drain marker", ("prepared transaction",)),
        RefusalKind("background_writer", "fence", POSTGRES,
                    "a background process already running on the database (a logical replication apply worker of a "
                    "subscription, pg_cron or pglogical workers) keeps the read-write default it started with",
                    ("background writers",)),
        RefusalKind("session_not_ended", "fence", BOTH,
                    "an application session could not be ended, or its kind is hidden from the fencing role (privilege)",
                    ("fence privileges",)),
        RefusalKind("still_connected", "fence", POSTGRES,
                    "--already-read-only: application sessions are still connected", (),
                    "only with --already-read-only, where the fence changes nothing: the source stays as the operator "
                    "made it, and preflight runs while the application is still (rightly) connected"),
        RefusalKind("not_read_only", "fence", MYSQL,
                    "--already-read-only: read_only is OFF", (),
                    "only with --already-read-only, where the fence changes nothing: the operator said the source was "
                    "read-only and it is not; it stays as it was"),
        RefusalKind("marker_table_missing", "fence", BOTH,
                    "the drain marker table is missing on the source (the proof and the marker need it)",
                    ("drain marker table",)),
        RefusalKind("proof_failed", "fence", BOTH,
                    "the proof write failed with an error other than read-only (shown verbatim)", (),
                    "an error the proof cannot classify (e.g. the proof URL's server refuses); the known causes "
                    "(missing marker table, role overrides) have their own kinds and checks"),
        RefusalKind("marker_not_writable", "marker", MYSQL,
                    "the fencing account cannot write the marker through read_only", ("fence privileges",)),
        RefusalKind("marker_missing_on_target", "drain", BOTH,
                    "the drain marker table is missing on the target", ("target table",)),
        RefusalKind("drain_timeout", "drain", BOTH,
                    "the marker did not reach the target in time (not selected by the mappings, or replication behind)",
                    ("drain marker table",)),
        RefusalKind("sequence_unreadable", "sequences", POSTGRES,
                    "a sequence the source or target user may not read (SELECT privilege)",
                    ("sequence sync", "target sequences")),
        RefusalKind("sequence_missing", "sequences", BOTH, "a source sequence has no counterpart on the target",
                    ("sequence sync",)),
        RefusalKind("sequence_mismatch", "sequences", POSTGRES,
                    "the target's sequence moves in the other direction", ("sequence sync",)),
        RefusalKind("sequence_no_room", "sequences", BOTH,
                    "not even the source's next value fits under the target's MAXVALUE (over its MINVALUE)",
                    ("sequence sync",)),
        RefusalKind("sequence_not_writable", "sequences", POSTGRES,
                    "the target user may not set the sequence (UPDATE privilege)", ("sequence sync",)),
        RefusalKind("data_unproven", "data", BOTH,
                    "DMS validation still had records pending after the fence and the drain timeout", (),
                    "the fence starts on pending validation only (writes in flight, validated once the fence stops them); "
                    "`./cutover compare --record` before the fence, or DMS validation complete, avoids this wait"),
        RefusalKind("schema_drift", "schema", BOTH,
                    "a mapped table is missing on the target or differs in columns, types, nullability or key (created "
                    "or altered on the source after the task started): its rows would not arrive",
                    ("schema drift", "target table")),
    )
}  # fmt: skip


def refusal_kind(name: str) -> str:
    """`name`, checked against the registry: every refusal in the code goes through here with a literal name."""
    if name not in FENCE_REFUSALS:
        raise ValueError(f"refusal kind {name!r} is not in the registry (tap_operator/databases/refusals.py)")
    return name
