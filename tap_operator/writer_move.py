"""The database half of moving the writer, run by the operator CLI (the Lambda has no database access).

``fence --confirm [--without-data-proof REASON]``:
    record the fence -> the data proof (a recorded compare, DMS validation complete, or the waiver; judged again
    after the sequences when only records pending validation stood in the way) -> make the source refuse writes
    and prove it with a fresh session -> write a marker row on the source -> wait until the target shows it ->
    sync every sequence past the source's ->
    [stop the forward replication, start the reverse one from a position taken now] -> flip the writer
    (after the old record TTL has expired). A failed start or flip gives the forward replication back.
``rollback --writer --confirm`` with databases:
    fence and prove the target -> marker on the target -> wait until the reverse replication brings it to
    the source -> sync sequences back -> make the source writable -> writer back -> [stop the reverse replication].

Each proof is recorded in the cutover state as it is made (``logic.Evidence``); the state machine
refuses the flip without all three and a data proof, so no tick can move the writer on metrics alone. Nothing here
prints or stores a credential: endpoints appear by label.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tap_cutover.data_proof import DATA_PROOF_HELP
from tap_cutover.engine import Engine, Result, Status, compare_live
from tap_cutover.logic import Action, Evidence, FlipWriter, OperatorCommand, RecordEvidence
from tap_cutover.ports import AURORA_SET_ID

from .databases import (
    DEFAULT_GAP,
    DEFAULT_MARKER_SCHEMA,
    DatabaseError,
    DrainProof,
    Endpoint,
    Marker,
    RefusedError,
    TableName,
    fence_source,
    sync_sequences,
    unfence_source,
    wait_for_marker,
    write_marker,
)
from .databases.drift import check_schema_drift
from .databases.refusals import refusal_kind

# The drain polls the database this often at most (a marker is small: a poll is a primary-key lookup on an open
# connection), so the fence window ends within a fifth of a second of the marker's arrival.
MAX_DRAIN_POLL_SECONDS = 0.2
_FENCE_STARTED = "the fence started and did not finish"
# Bound on waiting out the old record TTL before the flip, beyond the TTL itself.
_FLIP_WAIT_SLACK_SECONDS = 5.0


class ReverseReplication(Protocol):
    """Target -> source replication that keeps the writes made after the flip (a DMS task or a rehearsal's)."""

    def start(self, marker: Marker) -> str:
        """Start capturing the target's changes; called after the drain and the sequence sync, before the flip."""
        ...

    def stop(self) -> str:
        """Stop it after the writer moved back (the forward replication stays off: the source holds its writes)."""
        ...

    def abandon(self) -> str:
        """The flip did not happen: stop it, drop what its start created and give the forward replication back."""
        ...


@dataclass(frozen=True)
class Databases:
    source: Endpoint
    target: Endpoint
    # Credentials of the session that proves the fence of the database being fenced (the application's user: on the
    # source for `fence`, on Aurora for `rollback --writer`); default: the fenced database's own. MySQL/MariaDB need
    # it whenever that account writes through read_only (READ_ONLY ADMIN, CONNECTION_ADMIN, SUPER).
    proof: Endpoint | None = None
    # The tables the task maps: MySQL/MariaDB AUTO_INCREMENT is synced for these (PostgreSQL syncs every sequence).
    tables: Sequence[TableName] | None = None
    # The tables the task's mappings select (both engines): the fence re-checks their schema on the target.
    mapped: Sequence[TableName] | None = None


OnRefusal = Literal["hold", "reopen"]


@dataclass(frozen=True)
class MoveOptions:
    already_read_only: bool = False
    sequence_gap: int = DEFAULT_GAP
    marker_schema: str = DEFAULT_MARKER_SCHEMA
    # 'fence --confirm --without-data-proof REASON': flip without proof that the data is the same (recorded, alerted).
    without_data_proof: str | None = None
    # When a step after the fence refuses (the writer does not move): keep the source read-only ("hold", the
    # application stays without a writer until someone decides) or make it writable again ("reopen").
    on_refusal: OnRefusal = "hold"


class _MoveStoppedError(Exception):
    """A step was not proven: the move ends with this result (already alerted)."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.message)
        self.result = result


@dataclass
class _Progress:
    """What the move has done so far, for the final result: transitions, errors and the proofs."""

    engine: Engine
    operator: str
    say: Callable[[str], None]
    results: list[Result] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, result: Result) -> Result:
        self.results.append(result)
        return result

    def finish(self, status: Status, message: str, final: Result | None = None) -> Result:
        last = final or (self.results[-1] if self.results else None)
        return Result(
            status,
            message,
            [message],
            last.state if last else None,
            last.gates if last else None,
            [t for r in self.results for t in r.transitions],
            [e for r in self.results for e in r.errors],
            live=last.live if last else None,
            details=self.details,
        )

    def stop(self, status: Status, message: str, final: Result | None = None) -> _MoveStoppedError:
        return _MoveStoppedError(self.finish(status, message, final))

    def fail(self, title: str, message: str, status: Status = "error") -> _MoveStoppedError:
        errors = self.engine.alert(title, message, {"kind": title.replace(" ", "_"), **self.details})
        result = self.finish(status, message)
        result.errors.extend(errors)
        return _MoveStoppedError(result)

    def record(self, kind: Evidence, summary: str) -> None:
        """Store one proof in the state; a refusal ends the move."""
        recorded = self.add(self.engine.run(RecordEvidence(kind, self.operator, summary)))
        if recorded.status != "changed":
            raise self.stop(recorded.status, f"could not record {kind.value}; writer NOT flipped: {recorded.message}")
        self.say(f"recorded {kind.value}: {summary}")

    def drain(self, towards: Endpoint, marker: Marker) -> DrainProof:
        settings = self.engine.settings
        poll = min(MAX_DRAIN_POLL_SECONDS, float(settings.drain_poll_seconds))
        drain = wait_for_marker(towards, marker, float(settings.drain_timeout_seconds), poll)
        self.details["drain"] = drain.to_dict()
        return drain


def fence_and_flip(
    engine: Engine,
    databases: Databases,
    operator: str,
    *,
    options: MoveOptions = MoveOptions(),
    reverse: ReverseReplication | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> Result:
    """Fence, prove, drain by marker, sync sequences, then flip; stop at the first thing not proven."""
    progress = _Progress(engine, operator, say)
    try:
        marker = _fence_and_prove(progress, databases, options)
    except _MoveStoppedError as stopped:
        return _fail_safe(progress, stopped.result, databases, options)
    except DatabaseError as err:
        if isinstance(err, RefusedError):
            progress.details["refusals"] = [{"kind": err.kind, "detail": str(err)}]
        failed = progress.fail("database error during the fence", f"writer NOT flipped: {err}").result
        return _fail_safe(progress, failed, databases, options)
    try:
        if reverse is not None:
            _start_reverse(progress, reverse, marker)
        return _flip(progress)
    except _MoveStoppedError as not_flipped:
        outcome = not_flipped.result
    except DatabaseError as err:
        outcome = progress.fail("reverse replication not started", f"writer NOT flipped: {err}").result
    if reverse is not None:
        outcome.details["reverse_replication_abandoned"] = _abandon(reverse)
    return _fail_safe(progress, outcome, databases, options)


def _fail_safe(progress: _Progress, outcome: Result, databases: Databases, options: MoveOptions) -> Result:
    """The writer did not move: leave the source as the operator chose (held read-only, or reopened) and say which."""
    if "fence" not in progress.details:
        return outcome  # refused before any database was touched, or the fence itself could not run
    source = databases.source
    if options.on_refusal == "reopen":
        try:
            unfence_source(source)
        except DatabaseError as err:
            after = f"could NOT reopen {source.label}, make it writable by hand: {err}"
        else:
            after = f"{source.label} reopened (writable again, --on-refusal reopen); run the fence again to move the writer"
    elif progress.details["fence"].get("summary") == _FENCE_STARTED:
        after = f"{source.label} left as the interrupted fence left it (--on-refusal hold): check whether it is read-only"
    else:
        after = (
            f"{source.label} held read-only (--on-refusal hold): the application has no writer until you fix the cause "
            "and run the fence again, or roll back"
        )
    outcome.details["source_after_refusal"] = after
    outcome.message = f"{outcome.message}; {after}"
    outcome.reasons.append(after)
    progress.say(after)
    return outcome


def _start_reverse(progress: _Progress, reverse: ReverseReplication, marker: Marker) -> None:
    """Start it before the flip (no application write has reached the target yet) and record that it runs."""
    started = reverse.start(marker)
    progress.details["reverse_replication"] = started
    progress.say(f"reverse replication: {started}")
    progress.record(Evidence.REVERSE_STARTED, started)


def _abandon(reverse: ReverseReplication) -> str:
    try:
        return reverse.abandon()
    except DatabaseError as err:
        return f"could not give the forward replication back, do it by hand: {err}"


def _fence_and_prove(progress: _Progress, databases: Databases, options: MoveOptions) -> Marker:
    engine = progress.engine
    fenced = progress.add(engine.run(OperatorCommand(Action.FENCE, progress.operator, confirm=True)))
    if fenced.status != "changed":
        # Refused by the state machine (wrong phase, DNS differs from the state, a lock): no database was touched.
        raise progress.stop(fenced.status, f"fence refused before any database was touched: {fenced.message}", fenced)
    recheck = _data_proof_before_fence(progress, fenced, options.without_data_proof)
    progress.details["fence"] = {"ok": False, "summary": _FENCE_STARTED}  # the source may change from here on
    proof = fence_source(databases.source, databases.proof, options.already_read_only, options.marker_schema)
    progress.details["fence"] = proof.to_dict()
    if not proof.ok:
        progress.details["refusals"] = [refusal.to_dict() for refusal in proof.refusals]
        raise progress.fail("fence not proven", f"writer NOT flipped: {proof.summary}")
    progress.say(proof.summary)
    progress.record(Evidence.FENCE_PROVEN, proof.summary)
    marker = write_marker(databases.source, options.marker_schema)
    progress.details["marker"] = marker.to_dict()
    progress.say(marker.summary)
    drain = progress.drain(databases.target, marker)
    if not drain.ok:
        progress.details["refusals"] = [{"kind": drain.refusal, "detail": drain.summary}]
        raise progress.fail("drain not reached", f"writer NOT flipped: {drain.summary}", "drain_failed")
    progress.record(Evidence.DRAIN_REACHED, drain.summary)
    sequences = sync_sequences(databases.source, databases.target, options.sequence_gap, databases.tables)
    progress.details["sequences"] = sequences.to_dict()
    if not sequences.ok:
        progress.details["refusals"] = [
            {"kind": row.refusal, "detail": f"{row.name}: {row.note}"} for row in sequences.rows if not row.ok
        ]
        raise progress.fail("sequences not synced", f"writer NOT flipped: {sequences.summary}")
    progress.record(Evidence.SEQUENCES_SYNCED, sequences.summary)
    _no_schema_drift(progress, databases)
    if recheck:
        _data_proof_after_drain(progress, options.without_data_proof)
    return marker


def _no_schema_drift(progress: _Progress, databases: Databases) -> None:
    """Just before the flip, the catalog once more: a mapped table missing on the target or differing in columns,
    types or key (created or altered on the source after the task started) would not arrive; the flip stops.

    A fixed number of catalog queries per side whatever the number of tables. Preflight runs the same check
    ("schema drift", "target table"), so a green preflight only meets this refusal after a late DDL change.
    """
    if databases.mapped is None:
        return  # the caller did not read the mappings (tests of the other steps)
    checks = check_schema_drift(databases.source, databases.target, databases.mapped, prep_mode=None)
    progress.details["schema_drift"] = [check.to_dict() for check in checks if check.verdict != "ok"]
    blocking = [check for check in checks if check.verdict == "block"]
    if blocking:
        kind = refusal_kind("schema_drift")
        progress.details["refusals"] = [{"kind": kind, "detail": f"{c.subject}: {c.value}"} for c in blocking]
        listed = "; ".join(f"{check.subject}: {check.value} ({check.fix})" for check in blocking[:5])
        raise progress.fail("schema drift", f"writer NOT flipped: the target's schema differs: {listed}")
    progress.say(f"schema re-checked on {len(databases.mapped)} mapped table(s): the target matches the source")


def _data_proof_before_fence(progress: _Progress, fenced: Result, waiver: str | None) -> bool:
    """Before the source is fenced: a recorded proof, DMS validation complete, or the waiver; else stop untouched.

    Returns True when only records still pending validation stood in the way: writes in flight, which DMS
    validates once the fence stops them, so the verdict is read again after the drain.
    """
    state = fenced.state
    if state is not None and state.data_proof_at is not None:
        progress.say(f"data proof: {state.data_proof_kind} recorded {state.data_proof_at.isoformat()}: {state.data_proof}")
        return False
    proven = progress.engine.prove_data(progress.operator)
    progress.details["data_validation"] = proven.details.get("data_validation")
    if proven.status == "changed":
        progress.add(proven)
        progress.say(f"recorded data_validated: {proven.message}")
        return False
    if (progress.details["data_validation"] or {}).get("problems", {}).keys() == {"pending"}:
        progress.say(f"{proven.message}; judged again once the source is fenced and drained")
        return True
    if waiver is not None:
        progress.record(Evidence.DATA_PROOF_WAIVED, waiver)
        return False
    raise progress.stop(
        "rejected" if proven.status == "rejected" else "error",
        f"source NOT fenced, writer NOT flipped: no proof that the data is the same ({proven.message}); {DATA_PROOF_HELP}",
    )


def _data_proof_after_drain(progress: _Progress, waiver: str | None) -> None:
    """The source is fenced and drained: DMS validates what was pending; wait for it up to the drain timeout."""
    engine = progress.engine
    settings = engine.settings
    deadline = engine.now().timestamp() + settings.drain_timeout_seconds
    while True:
        proven = engine.prove_data(progress.operator)
        progress.details["data_validation"] = proven.details.get("data_validation")
        if proven.status == "changed":
            progress.add(proven)
            progress.say(f"recorded data_validated: {proven.message}")
            return
        if engine.now().timestamp() >= deadline:
            break
        engine.wait(float(settings.drain_poll_seconds))
    if waiver is not None:
        progress.record(Evidence.DATA_PROOF_WAIVED, waiver)
        return
    progress.details["refusals"] = [{"kind": refusal_kind("data_unproven"), "detail": proven.message}]
    raise progress.fail(
        "data not proven",
        f"writer NOT flipped, the source stays fenced: no proof that the data is the same ({proven.message}); {DATA_PROOF_HELP}",
    )


def _flip(progress: _Progress) -> Result:
    engine = progress.engine
    settings = engine.settings
    deadline = time.monotonic() + settings.record_ttl + _FLIP_WAIT_SLACK_SECONDS
    while True:
        result = progress.add(engine.run(FlipWriter(progress.operator)))
        state = result.state
        if result.status != "no_change" or state is None or state.ttl_lowered_at is None or time.monotonic() >= deadline:
            break
        left = (state.ttl_lowered_at - engine.now()).total_seconds() + settings.record_ttl
        progress.say(f"waiting {max(left, 0):.0f}s for the old record TTL to expire before the flip")
        engine.wait(min(max(left, 0.05), 5.0))
    if result.status != "changed":
        raise progress.fail("writer not flipped", f"writer NOT flipped: {result.message}")
    return progress.finish("changed", f"writer flipped to Aurora: {result.message}", result)


def rollback_writer(
    engine: Engine,
    databases: Databases,
    operator: str,
    *,
    options: MoveOptions = MoveOptions(),
    reverse: ReverseReplication | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> Result:
    """Move the writer back keeping Aurora's writes: the forward move mirrored, drained by the reverse replication."""
    progress = _Progress(engine, operator, say)
    try:
        _check_writer_on_aurora(progress)
        drain = _drain_back(progress, databases, options)
    except _MoveStoppedError as stopped:
        return stopped.result
    except DatabaseError as err:
        # The writer record still points at Aurora: it must take writes again, whatever failed.
        reopened = _reopen(databases.target)
        return progress.fail("database error during the writer rollback", f"writer NOT moved back ({reopened}): {err}").result
    moved = progress.add(engine.run(OperatorCommand(Action.ROLLBACK, operator, confirm=True, writer=True)))
    if moved.status != "changed":
        return progress.fail("writer not moved back", f"writer NOT moved back (Aurora stays fenced): {moved.message}").result
    if reverse is not None:
        progress.details["reverse_replication"] = reverse.stop()
    return progress.finish(
        "changed",
        f"writer moved back to the source keeping Aurora's writes ({drain.summary}); Aurora stays read-only",
        moved,
    )


def _check_writer_on_aurora(progress: _Progress) -> None:
    engine = progress.engine
    before = progress.add(engine.status())
    state, live = before.state, before.live
    if state is None or live is None:
        raise progress.stop("error", f"cannot read the state and live records; nothing changed: {before.errors}")
    if state.weights.writer != 100:
        raise progress.stop("rejected", "the writer is not on Aurora: use 'rollback --confirm' without --writer")
    differences = [line for line in compare_live(engine.settings, state, live) if "MISMATCH" in line]
    aurora_writer = live["writer"].records.get(AURORA_SET_ID) if "writer" in live else None
    if differences or aurora_writer is None or aurora_writer.weight != 100:
        raise progress.stop("rejected", f"live Route 53 differs from the state; nothing changed: {'; '.join(differences)}")


def _drain_back(progress: _Progress, databases: Databases, options: MoveOptions) -> DrainProof:
    """Fence Aurora, bring its last write back to the source by marker, sync sequences back, open the source."""
    target, source = databases.target, databases.source
    proof = fence_source(target, databases.proof, False, options.marker_schema)
    progress.details["fence_target"] = proof.to_dict()
    if not proof.ok:
        unfence_source(target)
        raise progress.fail("target fence not proven", f"writer stays on Aurora (made writable again): {proof.summary}")
    marker = write_marker(target, options.marker_schema)
    progress.details["marker"] = marker.to_dict()
    drain = progress.drain(source, marker)
    if not drain.ok:
        unfence_source(target)
        raise progress.fail(
            "reverse drain not reached",
            "writer stays on Aurora (made writable again); the reverse replication did not bring the marker back: "
            f"{drain.summary}",
            "drain_failed",
        )
    sequences = sync_sequences(target, source, options.sequence_gap, databases.tables)
    progress.details["sequences"] = sequences.to_dict()
    if not sequences.ok:
        unfence_source(target)
        raise progress.fail("sequences not synced back", f"writer stays on Aurora (writable again): {sequences.summary}")
    unfence_source(source)
    return drain


def _reopen(target: Endpoint) -> str:
    try:
        unfence_source(target)
    except DatabaseError as err:
        return f"Aurora may still be read-only, make it writable by hand: {err}"
    return "Aurora made writable again"


def unfence_after_rollback(databases: Databases) -> str:
    """After a reads-only rollback of a fenced cutover: the source takes writes again."""
    unfence_source(databases.source)
    return f"{databases.source.label} is writable again"
