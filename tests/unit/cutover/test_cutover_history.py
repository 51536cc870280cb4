"""'./cutover history': every stored state version from SSM's parameter history (all pages), with who and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from tap_cutover.aws import build_adapters
from tap_cutover.engine import Engine
from tap_cutover.logic import Action, Evidence, OperatorCommand, RecordEvidence, RecordNote

from benchmarks.cutover_fixtures import MotoStack, count_calls
from tap_operator.cli import main
from tap_operator.history import HistoryError, parse_since

from .test_cutover_cli import FUNCTION, deploy_function, make_green

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", NOW - timedelta(hours=2)),
        ("30m", NOW - timedelta(minutes=30)),
        (" 90s ", NOW - timedelta(seconds=90)),
        ("7d", NOW - timedelta(days=7)),
        ("1w", NOW - timedelta(weeks=1)),
        ("2029-12-31T23:00:00Z", datetime(2029, 12, 31, 23, tzinfo=UTC)),
        ("2029-12-31T23:00:00+02:00", datetime(2029, 12, 31, 21, tzinfo=UTC)),
        ("2029-12-31T23:00", datetime(2029, 12, 31, 23, tzinfo=UTC)),  # no offset: UTC
        ("2029-12-31", datetime(2029, 12, 31, tzinfo=UTC)),
    ],
)
def test_since_accepts_iso_times_and_durations_ago(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "2 hours", "-2h", "2y", "", "12:00"])
def test_since_refuses_anything_else_naming_both_forms(text: str) -> None:
    with pytest.raises(HistoryError, match=r"neither an ISO-8601 time .* or a duration ago \(90s, 30m, 2h, 7d, 1w\)"):
        parse_since(text, NOW)


def test_a_bad_since_is_refused_before_any_aws_call(capsys: pytest.CaptureFixture[str]) -> None:
    # No session, no function: had it reached AWS it would fail differently.
    assert main(["--function-name", "x", "history", "--since", "last week"]) == 2
    assert "error: --since 'last week' is neither an ISO-8601 time" in capsys.readouterr().err


def record(stack: MotoStack, notes: int) -> MotoStack:
    """A start, a pause and ``notes`` notes: with 57, 61 versions, which GetParameterHistory answers in two pages."""
    deploy_function(stack, stack.settings.to_env())
    make_green(stack)
    engine = Engine(stack.settings, build_adapters(stack.settings, stack.session), emit=lambda _: None)
    assert engine.run(RecordEvidence(Evidence.PREFLIGHT_PASSED, "alice", "preflight: 0 block")).status == "changed"
    assert engine.run(OperatorCommand(Action.ADVANCE, "alice")).status == "changed"
    assert engine.run(OperatorCommand(Action.PAUSE, "bob")).status == "changed"
    for index in range(notes):
        assert engine.run(RecordNote("carol", f"note {index}: allowed replacing x")).status == "changed"
    return stack


@pytest.fixture
def recorded(cutover_aws: MotoStack) -> MotoStack:
    return record(cutover_aws, 57)


@pytest.fixture
def few(cutover_aws: MotoStack) -> MotoStack:
    return record(cutover_aws, 2)


def test_history_lists_every_version_across_pages(recorded: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--function-name", FUNCTION, "history", "--json"], session=recorded.session) == 0
    document = json.loads(capsys.readouterr().out)
    versions = document["versions"]
    assert [v["version"] for v in versions] == list(range(1, 62))  # oldest first, none lost between pages
    assert [v["ssm_version"] for v in versions] == list(range(1, 62))
    seed, preflight, started, paused, last = versions[0], versions[1], versions[2], versions[3], versions[-1]
    assert seed["reason"] == "initial state" and seed["trigger"] is None and seed["who"] is None
    assert (preflight["trigger"], preflight["operator"], preflight["phase"]) == (
        "evidence:preflight_passed",
        "alice",
        "replicating",
    )
    assert (started["from"], started["phase"], started["weights"]) == (
        "replicating",
        "reads_shifting",
        {"reader": 10, "writer": 0},
    )
    assert started["reason"] == "cutover started by alice: reads 0% -> 10% on Aurora"
    assert (paused["phase"], paused["paused_from"], paused["operator"]) == ("paused", "reads_shifting", "bob")
    # Who wrote each version: the STS caller of the credentials the engine ran with (moto's identity here).
    caller = recorded.session.client("sts").get_caller_identity()["Arn"]
    assert {v["who"] for v in versions[1:]} == {caller} and all(v["updated_by"] == caller for v in versions[1:])
    # A later page: the last note is there, marked as a note.
    assert last["note"] is True and last["reason"] == "carol: note 56: allowed replacing x"
    assert sum(v["note"] for v in versions) == 57


def test_history_reads_every_page(recorded: MotoStack, monkeypatch: pytest.MonkeyPatch) -> None:
    from tap_operator import history

    client = recorded.session.client("ssm")
    calls = count_calls(client, "GetParameterHistory")
    versions = history.read_versions(client, recorded.settings.state_parameter_name)
    assert len(versions) == 61
    assert len(calls) == 2 and "NextToken" in calls[1]  # the second page was asked for by its token
    # A smaller page size: every page is followed, nothing repeated.
    monkeypatch.setattr(history, "PAGE_SIZE", 7)
    calls.clear()
    assert [v.ssm_version for v in history.read_versions(client, recorded.settings.state_parameter_name)] == list(range(1, 62))
    assert len(calls) == 9


def test_history_table_for_people(few: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--function-name", FUNCTION, "history"], session=few.session) == 0
    out = capsys.readouterr().out
    assert out.startswith("6 state version(s), 2 operator note(s); oldest first")
    assert "v3    " in out and "replicating -> reads_shifting  reader 10% writer 0%" in out
    assert "(operator alice, operator:advance)" in out
    assert "NOTE paused (from reads_shifting)" in out and "carol: note 1: allowed replacing x" in out
    assert "seeded by Terraform" in out


def test_since_filters_by_the_time_ssm_stored_each_version(few: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--function-name", FUNCTION, "--json", "history", "--since", "1h"], session=few.session) == 0
    assert len(json.loads(capsys.readouterr().out)["versions"]) == 6
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert main(["--function-name", FUNCTION, "history", "--since", future], session=few.session) == 0
    assert capsys.readouterr().out.startswith(f"no state versions since {datetime.fromisoformat(future).isoformat()}")


def test_an_unreadable_version_is_shown_not_fatal(few: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    few.ssm.put_parameter(Name=few.settings.state_parameter_name, Value='{"version": "x"}', Type="String", Overwrite=True)
    assert main(["--function-name", FUNCTION, "history"], session=few.session) == 0
    out = capsys.readouterr().out
    assert "ssm v7  " in out and "UNREADABLE: state must contain 'version' and 'phase'" in out
    assert "carol: note 1" in out  # the versions before it are all there


def test_a_missing_parameter_is_an_error_not_a_crash(few: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    few.ssm.delete_parameter(Name=few.settings.state_parameter_name)
    assert main(["--function-name", FUNCTION, "history"], session=few.session) == 1
    assert "cannot read the history of the state parameter: ssm GetParameterHistory failed: ParameterNotFound" in (
        capsys.readouterr().err
    )


def test_status_names_who_wrote_the_current_version(few: MotoStack, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--function-name", FUNCTION, "status"], session=few.session)
    caller = few.session.client("sts").get_caller_identity()["Arn"]
    out = capsys.readouterr().out
    assert f" by {caller} ('./cutover history' lists every version)" in out and "version 6 written 20" in out
