"""The rehearsal's output (no servers): the CLI's lines logged as they come, the report and the picture written by default."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tools.rehearsal import __main__ as main_module
from tools.rehearsal import cutover


def test_the_operator_cli_lines_reach_the_log_as_they_are_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """`fence --confirm` takes seconds: each of its lines must be logged when written, not all at the end."""
    seen: list[tuple[float, str]] = []

    def slow_cli(argv: list[str], **_: Any) -> int:
        sys.stderr.write("[cutover] fence: source read-only\n[cutover] marker written")
        sys.stderr.write("\n")
        time.sleep(0.3)
        sys.stderr.write("[cutover] drain reached\n")
        sys.stdout.write('{"status": "changed", "message": "flipped"}')
        return 0

    monkeypatch.setattr(cutover.cli, "main", slow_cli)
    started = time.monotonic()
    outcome = cutover.run_cli(
        None,  # type: ignore[arg-type]
        ["fence", "--confirm"],
        source_url="postgresql://s",
        target_url="postgresql://t",
        reverse=None,
        echo=lambda line: seen.append((time.monotonic() - started, line)),
    )
    assert [line for _, line in seen] == [
        "  cli: [cutover] fence: source read-only",
        "  cli: [cutover] marker written",
        "  cli: [cutover] drain reached",
    ]
    assert seen[1][0] < 0.25 <= seen[2][0]  # the first lines were logged before the command went on
    assert (outcome.status, outcome.message) == ("changed", "flipped")
    assert outcome.stderr.count("\n") == 3


def test_a_last_line_without_newline_is_still_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def cli_main(argv: list[str], **_: Any) -> int:
        sys.stderr.write("error: no newline at the end")
        return 2

    monkeypatch.setattr(cutover.cli, "main", cli_main)
    outcome = cutover.run_cli(None, ["status"], source_url="s", target_url="t", reverse=None, echo=seen.append)  # type: ignore[arg-type]
    assert seen == ["  cli: error: no newline at the end"]
    assert (outcome.exit_code, outcome.message) == (2, "error: no newline at the end")


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """main() with the rehearsal replaced by one that only records its options and returns a small report."""
    calls: list[Any] = []

    def fake_rehearse(options: Any) -> dict[str, Any]:
        calls.append(options)
        report: dict[str, Any] = {"passed": True, "writes_lost": 0}
        if options.png is not None:
            report["png"] = str(options.png)
        return report

    monkeypatch.setattr(main_module, "rehearse", fake_rehearse)
    monkeypatch.setattr(main_module, "summary", lambda report: f"summary of {sorted(report)}")
    monkeypatch.setattr(main_module.signal, "signal", lambda *_: None)
    return calls


def test_the_report_and_the_picture_are_written_beside_each_other_by_default(
    ran: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_module.main(["--out", str(tmp_path / "run")]) == 0
    assert ran[0].png == tmp_path / "run" / "timeline.png"
    written = json.loads((tmp_path / "run" / "report.json").read_text())
    assert written == {"passed": True, "writes_lost": 0, "png": str(tmp_path / "run" / "timeline.png")}
    err = capsys.readouterr().err
    assert f"report: {tmp_path / 'run' / 'report.json'}; timeline: {tmp_path / 'run' / 'timeline.png'}" in err


def test_json_still_goes_to_stdout_and_no_png_draws_nothing(
    ran: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_module.main(["--out", str(tmp_path), "--no-png", "--json"]) == 0
    assert ran[0].png is None
    assert json.loads(capsys.readouterr().out) == {"passed": True, "writes_lost": 0}
    assert (tmp_path / "report.json").is_file()


def test_png_puts_the_picture_elsewhere_and_dns_clients_reach_the_options(ran: list[Any], tmp_path: Path) -> None:
    assert main_module.main(["--out", str(tmp_path), "--png", str(tmp_path / "pic.png"), "--dns-clients", "7"]) == 0
    assert (ran[0].png, ran[0].dns_clients) == (tmp_path / "pic.png", 7)


def test_the_default_folder_is_per_run_and_names_the_mode() -> None:
    folder = main_module._run_folder(main_module.parser().parse_args(["--rollback"]))
    assert folder.parent == Path(".rehearsal")
    assert folder.name.endswith("Z-rollback") and len(folder.name) == len("20261208T010000Z-rollback")


@pytest.mark.parametrize("argv", [["--png", "x.png", "--no-png"], ["--dns-clients", "0"]])
def test_contradicting_or_empty_picture_and_client_options_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        main_module.parser().parse_args(argv)
