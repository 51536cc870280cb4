from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tap_cutover.state import STATE_MAX_BYTES, HistoryEntry, Phase, State, StateError, Weights

T = datetime(2030, 1, 1, tzinfo=UTC)


def test_accepts_the_terraform_seed_with_defaults() -> None:
    state = State.parse('{"version": 1, "phase": "replicating"}')
    assert state == State(version=1, phase=Phase.REPLICATING)
    assert state.weights == Weights(0, 0)
    assert state.history == ()
    assert state.ttl_lowered_at is None


def _full_state() -> State:
    entry = HistoryEntry.create(
        version=5,
        at=T,
        from_phase=Phase.READS_SHIFTING,
        to_phase=Phase.WRITE_FENCE,
        reason="reads held",
        trigger="schedule",
        operator=None,
        weights=Weights(100, 0),
    )
    return State(
        version=5,
        phase=Phase.PAUSED,
        paused_from=Phase.WRITE_FENCE,
        weights=Weights(100, 0),
        last_good_reader_weight=100,
        ttl_lowered_at=T,
        fence_confirmed_at=T + timedelta(minutes=1),
        fence_confirmed_by="alice",
        updated_at=T,
        history=(entry,),
    )


def test_round_trip() -> None:
    state = _full_state()
    assert State.parse(state.to_json()) == state


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("not json", "not valid JSON"),
        ("[1]", "JSON object"),
        ('{"phase": "replicating"}', "'version' and 'phase'"),
        ('{"version": 1}', "'version' and 'phase'"),
        ('{"version": 0, "phase": "replicating"}', "'version' must be >= 1"),
        ('{"version": true, "phase": "replicating"}', "'version' must be an integer"),
        ('{"version": "1", "phase": "replicating"}', "'version' must be an integer"),
        ('{"version": 1, "phase": "flying"}', "'phase' must be one of"),
        ('{"version": 1, "phase": "replicating", "extra": 1}', "unknown field(s): extra"),
        ('{"version": 1, "phase": "replicating", "weights": {"reader": 0}}', "exactly 'reader' and 'writer'"),
        (
            '{"version": 2, "phase": "reads_shifting", "weights": {"reader": 10, "writer": 50},'
            ' "step_started_at": "2030-01-01T00:00:00+00:00"}',
            "writer must be 0 or 100",
        ),
        ('{"version": 1, "phase": "replicating", "weights": {"reader": 101, "writer": 0}}', "between 0 and 100"),
        ('{"version": 1, "phase": "replicating", "weights": {"reader": 10, "writer": 0}}', "requires reader weight 0"),
        ('{"version": 1, "phase": "paused"}', "'paused_from' must be set"),
        ('{"version": 1, "phase": "replicating", "paused_from": "replicating"}', "'paused_from' must be set"),
        ('{"version": 1, "phase": "paused", "paused_from": "completed"}', "cannot be paused from"),
        ('{"version": 2, "phase": "reads_shifting", "weights": {"reader": 10, "writer": 0}}', "requires step_started_at"),
        ('{"version": 1, "phase": "replicating", "updated_at": "yesterday"}', "not an ISO-8601 timestamp"),
        ('{"version": 1, "phase": "replicating", "updated_at": "2030-01-01T00:00:00"}', "UTC offset"),
        (
            '{"version": 3, "phase": "writer_flipped", "weights": {"reader": 100, "writer": 100},'
            ' "ttl_lowered_at": "2030-01-01T00:00:00+00:00"}',
            "requires fence_confirmed_at and flipped_at",
        ),
        ('{"version": 3, "phase": "write_fence", "weights": {"reader": 100, "writer": 0}}', "ttl_lowered_at to be set"),
        ('{"version": 1, "phase": "replicating", "history": {}}', "'history' must be a list"),
        ('{"version": 1, "phase": "replicating", "history": [{"version": 1}]}', "history[0] must be an object"),
    ],
)
def test_rejects_malformed_state(text: str, fragment: str) -> None:
    with pytest.raises(StateError) as info:
        State.parse(text)
    assert fragment in str(info.value)


def test_rejects_history_gaps_and_future_history() -> None:
    entry = _full_state().history[0]
    gap = replace(_full_state(), history=(entry, replace(entry, version=7)), version=7)
    with pytest.raises(StateError, match="consecutive"):
        State.parse(gap.to_json())
    ahead = replace(_full_state(), history=(replace(entry, version=9),))
    with pytest.raises(StateError, match="ahead"):
        State.parse(ahead.to_json())


def test_serialised_state_fits_ssm_standard_tier_and_keeps_newest_history() -> None:
    base = _full_state()
    entries = tuple(
        HistoryEntry.create(
            version=v,
            at=T,
            from_phase=Phase.READS_SHIFTING,
            to_phase=Phase.READS_SHIFTING,
            reason="x" * 1000,  # truncated by create()
            trigger="schedule",
            operator="o" * 500,
            weights=Weights(10, 0),
        )
        for v in range(1, 41)
    )
    state = replace(base, version=40, history=entries)
    text = state.to_json()
    assert len(text.encode()) <= STATE_MAX_BYTES
    parsed = State.parse(text)
    assert parsed.history, "at least some history survives"
    assert parsed.history[-1].version == 40
    assert all(len(e.reason) <= 200 for e in parsed.history)
    assert json.loads(text)["version"] == 40


def test_an_html_error_page_becomes_a_message_an_operator_can_read() -> None:
    from botocore.exceptions import ClientError
    from tap_cutover.ports import AwsError, aws_call

    page = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>"
    with pytest.raises(AwsError) as raised, aws_call("dms", "DescribeTableStatistics"):
        raise ClientError({"Error": {"Code": "500", "Message": page}}, "DescribeTableStatistics")
    assert "<" not in str(raised.value) and "HTML error page" in str(raised.value)
    with pytest.raises(AwsError) as raised, aws_call("ssm", "GetParameter"):
        raise ClientError({"Error": {"Code": "ParameterNotFound", "Message": "no such parameter"}}, "GetParameter")
    assert "no such parameter" in str(raised.value)
