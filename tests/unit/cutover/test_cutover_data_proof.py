"""The writer flip requires proof that the data is the same (issue 25 item 2).

- The DMS validation verdict, judged on recorded DescribeTableStatistics answers: validated, pending, failed,
  suspended, not enabled, no tables, and paged over many tables (instance and Serverless adapters).
- The state machine: the flip is refused without a data proof; a compare is recorded only after the full load;
  a waiver needs a fence and a reason, is alerted, and belongs to one fence; a rollback voids the proof.
- The engine reads validation only when asked (the CLI's flip), never on a tick.
"""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import pytest
from tap_cutover.aws import DmsServerlessReplication, DmsTask
from tap_cutover.logic import Action, Evidence, FlipWriter, RecordEvidence, Rejected, TaskObservation, Tick, Transition, decide
from tap_cutover.settings import Settings
from tap_cutover.state import Phase, State, StateError
from tap_cutover.validation import judge_validation

from tap_operator import cli
from tap_operator.writer_move import Databases, fence_and_flip

from .fakes import DATA_COMPARED, World, fake_engine, run
from .test_cutover_engine import fence_state, put
from .test_cutover_logic import NOW, cmd, obs, proven, shifting

NO_PROOF = {"data_proof_at": None, "data_proof_kind": None, "data_proof": None}


def row(
    table: str, state: str = "Validated", *, pending: int = 0, failed: int = 0, suspended: int = 0, **more: Any
) -> dict[str, Any]:
    """One table's entry of a DescribeTableStatistics answer, as DMS reports it."""
    return {
        "SchemaName": "public",
        "TableName": table,
        "TableState": more.pop("TableState", "Table completed"),
        "FullLoadRows": 1000,
        "ValidationState": state,
        "ValidationPendingRecords": pending,
        "ValidationFailedRecords": failed,
        "ValidationSuspendedRecords": suspended,
        **more,
    }


# ---------------------------------------------------------------- the verdict on recorded answers


def test_every_table_validated_is_proof() -> None:
    verdict = judge_validation([row("orders"), row("customers"), row("order_lines")])
    assert verdict.proven and verdict.tables == 3
    assert "3 table(s) Validated" in verdict.reason


@pytest.mark.parametrize(
    ("table", "kind"),
    [
        (row("orders", "Pending records", pending=12), "pending"),
        (row("orders", "Validated", pending=3), "pending"),  # validated once, newer changes not yet
        (row("orders", "Pending validation"), "pending"),
        (row("orders", "Mismatched records", failed=4), "failed"),
        (row("orders", "Validated", failed=1), "failed"),
        (row("orders", "Error"), "failed"),
        (row("orders", "Suspended records", suspended=2), "suspended"),
        (row("orders", "Not enabled"), "not enabled"),
        ({"SchemaName": "public", "TableName": "orders", "TableState": "Table completed"}, "not enabled"),
        (row("orders", "No primary key"), "not validated"),
        (row("orders", "Table error", TableState="Table error"), "table error"),
    ],
)
def test_anything_but_a_complete_validation_is_not_proof(table: dict[str, Any], kind: str) -> None:
    verdict = judge_validation([row("customers"), table])
    assert not verdict.proven
    assert dict(verdict.problems) == {kind: ("public.orders",)}
    assert f"{kind}: public.orders" in verdict.reason and "1 of 2 table(s)" in verdict.reason
    assert verdict.only_pending == (kind == "pending")


def test_no_table_statistics_is_not_proof() -> None:
    verdict = judge_validation([])
    assert not verdict.proven and "missing data is not proof" in verdict.reason


def test_the_reason_names_the_tables_by_problem_and_bounds_the_list() -> None:
    rows = [row(f"t{i:03}", "Pending records", pending=1) for i in range(8)] + [row("bad", failed=2), row("ok")]
    verdict = judge_validation(rows)
    assert not verdict.proven and not verdict.only_pending
    assert verdict.reason.index("failed: public.bad") < verdict.reason.index("pending: public.t000")
    assert "public.t004 and 3 more" in verdict.reason and "9 of 10 table(s)" in verdict.reason


class RecordedDms:
    """Answers the table-statistics calls from recorded pages, following Marker, and keeps each request."""

    def __init__(self, rows: list[dict[str, Any]], page_size: int = 500) -> None:
        self.pages = [rows[i : i + page_size] for i in range(0, len(rows), page_size)] or [[]]
        self.requests: list[dict[str, Any]] = []

    def _page(self, key: str, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        index = int(request.get("Marker", 0))
        answer: dict[str, Any] = {key: self.pages[index]}
        if index + 1 < len(self.pages):
            answer["Marker"] = str(index + 1)
        return answer

    def describe_table_statistics(self, **request: Any) -> dict[str, Any]:
        return self._page("TableStatistics", request)

    def describe_replication_table_statistics(self, **request: Any) -> dict[str, Any]:
        return self._page("ReplicationTableStatistics", request)


def test_the_task_adapter_pages_over_many_tables(cutover_settings: Settings) -> None:
    rows = [row(f"t{i:04}") for i in range(1234)]
    rows[1100] = row("t1100", "Mismatched records", failed=1)
    client = RecordedDms(rows)
    read = DmsTask(client, cutover_settings).table_statistics()  # type: ignore[arg-type]
    assert len(read) == 1234 and len(client.requests) == 3
    assert all(r["ReplicationTaskArn"] == cutover_settings.dms_replication_arn for r in client.requests)
    assert [r.get("Marker") for r in client.requests] == [None, "1", "2"]
    verdict = judge_validation(read)
    assert not verdict.proven and dict(verdict.problems) == {"failed": ("public.t1100",)}


def test_the_serverless_adapter_pages_its_replication_table_statistics(cutover_settings: Settings) -> None:
    arn = f"arn:aws:dms:us-east-1:123456789012:replication-config:{cutover_settings.dms_resource_id}"
    settings = replace(cutover_settings, dms_replication_arn=arn, dms_replication_instance_id=None)
    client = RecordedDms([row(f"t{i}") for i in range(700)])
    read = DmsServerlessReplication(client, settings).table_statistics()  # type: ignore[arg-type]
    assert len(read) == 700 and [r["ReplicationConfigArn"] for r in client.requests] == [arn, arn]
    assert judge_validation(read).proven


# ---------------------------------------------------------------- the state machine


def test_the_flip_is_refused_without_a_data_proof(cutover_settings: Settings) -> None:
    decision = decide(cutover_settings, proven(**NO_PROOF), obs(cutover_settings), FlipWriter("alice"), NOW)
    assert isinstance(decision, Rejected) and "proof that the data is the same" in decision.reasons[0]
    assert "--without-data-proof" in decision.reasons[0]


def test_a_compare_is_recorded_after_the_full_load_only_and_survives_the_fence(cutover_settings: Settings) -> None:
    compare = RecordEvidence(Evidence.DATA_COMPARED, "alice", "12 table(s) compared: no difference")
    loading = obs(cutover_settings, task=TaskObservation(True, "running", "full-load-and-cdc", 60, False, 0))
    refused = decide(cutover_settings, shifting(50, 25), loading, compare, NOW)
    assert isinstance(refused, Rejected) and "full load has not finished" in refused.reasons[0]
    recorded = decide(cutover_settings, shifting(50, 25), obs(cutover_settings), compare, NOW)
    assert isinstance(recorded, Transition) and recorded.changes == ()
    state = recorded.state
    assert (state.phase, state.data_proof_kind, state.data_proof_at) == (Phase.READS_SHIFTING, "data_compared", NOW)
    assert state.data_proof is not None and cutover_settings.dms_resource_id in state.data_proof
    fenced = replace(proven(**NO_PROOF), data_proof_at=NOW, data_proof_kind="data_compared", data_proof="x")
    again = decide(cutover_settings, fenced, None, cmd(Action.FENCE, confirm=True), NOW)
    assert isinstance(again, Transition) and again.state.data_proof_kind == "data_compared"


def test_a_waiver_needs_the_fence_and_a_reason_is_alerted_and_belongs_to_one_fence(cutover_settings: Settings) -> None:
    waive = RecordEvidence(Evidence.DATA_PROOF_WAIVED, "alice", "validation disabled for LOB tables; spot-checked")
    before_fence = decide(cutover_settings, shifting(50, 25), None, waive, NOW)
    assert isinstance(before_fence, Rejected)
    blank = decide(cutover_settings, proven(**NO_PROOF), None, replace(waive, detail="  "), NOW)
    assert isinstance(blank, Rejected) and "needs a reason" in blank.reasons[0]
    waived = decide(cutover_settings, proven(**NO_PROOF), None, waive, NOW)
    assert isinstance(waived, Transition) and waived.severity == "alert" and "WITHOUT proof" in waived.reason
    flip = decide(cutover_settings, waived.state, obs(cutover_settings), FlipWriter("alice"), NOW)
    assert isinstance(flip, Transition) and flip.severity == "alert"
    assert "WITHOUT a data proof" in flip.reason and "spot-checked" in flip.reason
    refenced = decide(cutover_settings, waived.state, None, cmd(Action.FENCE, confirm=True), NOW)
    assert isinstance(refenced, Transition) and refenced.state.data_proof_at is None


def test_a_rollback_voids_the_data_proof(cutover_settings: Settings) -> None:
    compared = replace(shifting(50, 25), **DATA_COMPARED)
    rolled = decide(cutover_settings, compared, None, cmd(Action.ROLLBACK, confirm=True), NOW)
    assert isinstance(rolled, Transition) and rolled.state.data_proof_at is None


def test_no_data_proof_is_recorded_after_the_flip(cutover_settings: Settings) -> None:
    flipped = decide(cutover_settings, proven(), obs(cutover_settings), FlipWriter("alice"), NOW)
    assert isinstance(flipped, Transition)
    late = decide(cutover_settings, flipped.state, obs(cutover_settings), RecordEvidence(Evidence.DATA_VALIDATED, "a", "x"), NOW)
    assert isinstance(late, Rejected) and "already moved" in late.reasons[0]


def test_the_state_keeps_the_data_proof_and_checks_it() -> None:
    state = replace(fence_state(), **DATA_COMPARED)
    assert State.parse(state.to_json()) == state
    with pytest.raises(StateError, match="data_proof_kind"):
        State.parse(replace(state, data_proof_kind="trust_me").to_json())
    with pytest.raises(StateError, match="belongs to a fence"):
        State.parse(replace(state, data_proof_kind="data_proof_waived").to_json())


# ---------------------------------------------------------------- the engine


def test_prove_data_records_a_complete_validation(cutover_world: World) -> None:
    put(cutover_world, replace(fence_state(), **NO_PROOF))
    cutover_world.calls.clear()
    result = fake_engine(cutover_world).prove_data("alice")
    assert result.status == "changed" and result.details["data_validation"]["proven"]
    assert cutover_world.calls[0] == "dms.DescribeTableStatistics"
    state = cutover_world.state()
    assert state.data_proof_kind == "data_validated" and state.data_proof and "Validated" in state.data_proof
    assert result.to_dict()["evidence"]["data_proof_kind"] == "data_validated"


def test_prove_data_records_nothing_while_validation_is_incomplete(cutover_world: World) -> None:
    put(cutover_world, replace(fence_state(), **NO_PROOF))
    cutover_world.table_statistics = [row("orders"), row("customers", "Pending records", pending=7)]
    before = cutover_world.snapshot()
    result = fake_engine(cutover_world).prove_data("alice")
    assert result.status == "rejected" and "pending: public.customers" in result.message
    assert result.details["data_validation"]["problems"] == {"pending": ["public.customers"]}
    assert cutover_world.snapshot() == before
    cutover_world.calls.clear()
    cutover_world.fail_at = {0: "error"}
    assert fake_engine(cutover_world).prove_data("alice").status == "error"


def test_a_tick_never_reads_the_table_statistics(cutover_world: World) -> None:
    put(cutover_world, shifting(25, 10))
    run(cutover_world, Tick("schedule"))
    assert "dms.DescribeTableStatistics" not in cutover_world.calls and len(cutover_world.calls) == 8


# ---------------------------------------------------------------- the operator CLI


def test_fence_without_a_data_proof_stops_before_any_database_is_touched(cutover_world: World) -> None:
    put(cutover_world, replace(fence_state(), **NO_PROOF))
    cutover_world.table_statistics = [row("orders", "Mismatched records", failed=2), row("customers")]
    # No database at all: fencing one would fail on these.
    nowhere = Databases(source=None, target=None)  # type: ignore[arg-type]
    result = fence_and_flip(fake_engine(cutover_world), nowhere, "alice")
    assert result.status == "rejected" and "source NOT fenced" in result.message, result.message
    assert "failed: public.orders" in result.message and "--without-data-proof" in result.message
    assert result.details["data_validation"]["proven"] is False
    assert cutover_world.aurora_weights()["writer"] == 0 and cutover_world.state().data_proof_at is None


def test_status_shows_the_data_proof_and_fence_takes_the_waiver(cutover_world: World) -> None:
    put(cutover_world, fence_state())
    out = io.StringIO()
    cli.render(fake_engine(cutover_world).status(), out)
    assert "data proof: data_compared at " in out.getvalue() and "no difference" in out.getvalue()
    put(cutover_world, replace(fence_state(), **NO_PROOF))
    out = io.StringIO()
    cli.render(fake_engine(cutover_world).status(), out)
    assert "data proof: none recorded" in out.getvalue()
    args = cli._parser().parse_args(["fence", "--confirm", "--without-data-proof", "validation off: spot-checked"])
    assert args.without_data_proof == "validation off: spot-checked"
