"""tools/deploy_progress.py over Terraform `-json` streams recorded on the emulator, and the streaming in deploy.py.

Fixtures (tests/unit/fixtures/terraform_json/, Terraform 1.11.4, messages unchanged, trimmed to a few resources):
- init.jsonl: `terraform init -json` of the stack (with the non-JSON lines init prints among the JSON);
- apply-emulator.jsonl: `./tap up`'s apply, trimmed to five resources and two data sources;
- apply-fails.jsonl: an apply whose IAM attachment names a role that does not exist (NoSuchEntity);
- apply-emulator-stopped.jsonl: `./tap up`'s apply with the emulator stopped mid-apply (connection refused),
  trimmed to five resources; three were in flight and fail;
- apply-invalid-config.jsonl: an apply of a config with an unknown argument (error with a detail, no address);
- destroy-emulator.jsonl: `./tap down`'s destroy, trimmed the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tools import deploy
from tools.deploy_progress import Diagnostic, ProgressRenderer, elapsed

FIXTURES = Path(__file__).parent / "fixtures" / "terraform_json"
ROLE = "aws_iam_role.aurora_monitoring-role_DB848809"
KMS = "aws_kms_key.encryption_key_EEB70057"
AURORA = "aws_rds_cluster.aurora_cluster_059EF40F"
DMS_INSTANCE = "aws_dms_replication_instance.dms_instance_6D41EB62"
DMS_TASK = "aws_dms_replication_task.dms_task-main_BC63BC59"


def render(name: str, renderer: ProgressRenderer | None = None) -> tuple[ProgressRenderer, list[str]]:
    renderer = renderer or ProgressRenderer()
    lines: list[str] = []
    for raw in (FIXTURES / name).read_text(encoding="utf-8").splitlines(keepends=True):
        lines.extend(renderer.feed(raw))
    return renderer, lines


def test_apply_counts_each_resource_once_and_ends_with_terraforms_summary() -> None:
    renderer, lines = render("apply-emulator.jsonl")
    assert renderer.total == 5  # the five managed resources; data sources are reads, not counted
    assert renderer.done == 5
    assert not renderer.in_flight
    assert renderer.reads == 2  # one data source read while planning, one at apply time
    assert lines[0] == "Plan: 89 to add, 0 to change, 0 to destroy."  # Terraform's own line (of the untrimmed run)
    assert lines[1] == f"[0/5] {ROLE}: creating…"
    assert f"[1/5] {ROLE}: created (2s)" in lines
    assert f"[2/5] {KMS}: created (15s)" in lines
    assert lines[-2] == f"[5/5] {DMS_TASK}: created (30s)"
    assert lines[-1] == "Apply complete! Resources: 89 added, 0 changed, 0 destroyed."
    assert renderer.summary == lines[-1]
    assert not any("data." in line for line in lines)  # reads are not listed
    assert not any(line.startswith("{") for line in lines)  # no raw JSON reaches the screen


def test_apply_shows_still_creating_under_the_counter_for_every_in_flight_resource() -> None:
    _, lines = render("apply-emulator.jsonl")
    still = [line for line in lines if "still creating" in line]
    assert f"      {AURORA}: still creating (30s)" in still
    assert f"      {DMS_INSTANCE}: still creating (20s)" in still
    ticks = (FIXTURES / "apply-emulator.jsonl").read_text(encoding="utf-8").count('"type":"apply_progress"')
    assert len(still) == ticks == 10  # one line per apply_progress of the recording (Terraform's 10 s ticks)
    assert all(line.startswith(" " * len("[0/5] ")) for line in still)


def test_a_failing_apply_names_the_resource_and_shows_the_diagnostic_block() -> None:
    renderer, lines = render("apply-fails.jsonl")
    broken = "aws_iam_role_policy_attachment.broken"
    assert f"[1/2] {broken}: FAILED creating after 0s" in lines
    assert renderer.failed == [broken]
    assert renderer.done == 1
    report = renderer.failure_report()
    assert report[0].startswith("Error: attaching IAM Policy (arn:aws:iam::aws:policy/ReadOnlyAccess) to IAM Role")
    assert report[0].endswith("NoSuchEntity: Role no-such-role not found")
    assert report[1:] == [f"  with {broken}", "  on main.tf.json line 8"]
    assert report[0] in lines  # shown as it happened, too


def test_several_failures_are_each_shown_and_the_report_ends_with_the_last() -> None:
    renderer, lines = render("apply-emulator-stopped.jsonl")
    endpoint = "aws_vpc_endpoint.network_endpoint-kms_186D690E"
    assert renderer.failed == [endpoint, DMS_INSTANCE, AURORA]
    assert f"[2/5] {AURORA}: FAILED creating after 55s" in lines
    assert [line for line in lines if line.startswith("  with ")] == [f"  with {a}" for a in (AURORA, endpoint, DMS_INSTANCE)]
    report = renderer.failure_report()
    assert report[0] == "3 errors (all shown above and in the log); the last one:"
    assert report[1].startswith("Error: waiting for DMS Replication Instance (tap-migrate-dev-dms) create")
    assert "connection refused" in report[1]
    assert report[2:] == [f"  with {DMS_INSTANCE}", "  on cdk.tf.json line 1214"]


def test_an_error_detail_is_shown_and_an_error_without_address_has_no_with_line() -> None:
    renderer, lines = render("apply-invalid-config.jsonl")
    assert renderer.failure_report() == [
        "Error: Extraneous JSON object property",
        "  on main.tf.json line 7",
        "",
        '  No argument or block type is named "no_such_argument".',
    ]
    assert lines == ["", *renderer.failure_report(), ""]


def test_destroy_counts_down_with_destroy_verbs() -> None:
    renderer, lines = render("destroy-emulator.jsonl")
    assert renderer.total == renderer.done > 0
    assert any(line.endswith(f"{DMS_TASK}: destroying…") for line in lines)
    assert any(f"{AURORA}: destroyed (" in line for line in lines)
    assert not any("created" in line for line in lines)
    assert lines[-1].startswith("Destroy complete! Resources: ")


def test_init_prints_its_steps_and_keeps_the_non_json_lines_for_the_log_only() -> None:
    renderer, lines = render("init.jsonl")
    assert lines == [
        "init: Initializing the backend...",
        "init: Initializing provider plugins...",
        "init: Terraform has been successfully initialized!",
    ]
    assert any("Successfully configured the backend" in line for line in renderer.raw_tail)


def test_a_replace_is_one_resource_done_after_both_of_its_hooks() -> None:
    # Shaped like the recorded messages: a replace plans once and applies as a delete and a create.
    resource = '{"addr":"aws_dms_endpoint.source","resource_type":"aws_dms_endpoint"}'
    stream = [
        f'{{"type":"planned_change","change":{{"resource":{resource},"action":"replace"}}}}',
        f'{{"type":"apply_start","hook":{{"resource":{resource},"action":"delete"}}}}',
        f'{{"type":"apply_complete","hook":{{"resource":{resource},"action":"delete","elapsed_seconds":3}}}}',
        f'{{"type":"apply_start","hook":{{"resource":{resource},"action":"create"}}}}',
        f'{{"type":"apply_complete","hook":{{"resource":{resource},"action":"create","elapsed_seconds":65}}}}',
    ]
    renderer = ProgressRenderer()
    lines = [line for raw in stream for line in renderer.feed(raw)]
    assert lines == [
        "[0/1] aws_dms_endpoint.source: destroying…",
        "[0/1] aws_dms_endpoint.source: destroyed (3s)",
        "[0/1] aws_dms_endpoint.source: creating…",
        "[1/1] aws_dms_endpoint.source: created (1m5s)",
    ]


def test_heartbeat_names_the_step_the_phase_and_what_is_in_flight() -> None:
    assert ProgressRenderer().heartbeat(20, "synth") == ["      … synth: running [20s]"]
    renderer = ProgressRenderer()
    for raw in (FIXTURES / "apply-emulator.jsonl").read_text(encoding="utf-8").splitlines()[:23]:
        renderer.feed(raw)
    assert set(renderer.in_flight) == {AURORA, DMS_INSTANCE}
    (line,) = renderer.heartbeat(75, "apply")
    assert line == f"      … apply: 2 in flight ({AURORA} +1 more) [1m15s]"  # one short line, not a list


def test_without_a_diagnostic_the_failure_report_is_the_last_raw_output() -> None:
    renderer = ProgressRenderer()
    assert renderer.feed("panic: runtime error: index out of range\n") == []
    assert renderer.failure_report() == ["panic: runtime error: index out of range"]
    assert ProgressRenderer().failure_report() == ["(terraform printed no diagnostic)"]


def test_long_details_are_cut_and_point_to_the_log() -> None:
    block = Diagnostic("error", "boom", "\n".join(f"line {n}" for n in range(30))).block()
    assert block[-1] == "  (… 18 more lines in the log)"


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (41, "41s"), (70, "1m10s"), (3725, "1h2m5s")])
def test_elapsed(seconds: float, text: str) -> None:
    assert elapsed(seconds) == text


def test_stream_logs_every_line_prints_progress_and_heartbeats_while_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(deploy, "HEARTBEAT_S", 0.2)
    fixture = FIXTURES / "apply-fails.jsonl"
    script = (
        "import sys, time; print('raw stderr', file=sys.stderr, flush=True); time.sleep(0.7); "
        f"sys.stdout.write(open({str(fixture)!r}).read()); sys.exit(1)"
    )
    log_path = tmp_path / "up.log"
    with log_path.open("w", encoding="utf-8") as log:
        result = deploy.Timings().stream("apply", [sys.executable, "-c", script], {}, tmp_path, log, renderer=ProgressRenderer())
    assert result[0] == 1
    shown = capsys.readouterr().err.splitlines()
    assert sum("… apply: running [" in line for line in shown) >= 2  # the quiet 0.7 s got heartbeats
    assert "[1/2] aws_iam_role_policy_attachment.broken: FAILED creating after 0s" in shown
    logged = log_path.read_text(encoding="utf-8")
    assert "raw stderr" in logged and fixture.read_text(encoding="utf-8") in logged
    with pytest.raises(deploy.DeployError) as failure:
        deploy._streamed(result, "terraform apply", log_path)
    message = str(failure.value)
    assert "terraform apply failed (exit 1)" in message
    assert "  with aws_iam_role_policy_attachment.broken" in message
    assert message.endswith(f"full log: {log_path}")


def test_open_log_writes_under_deploy_logs_with_a_utc_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy, "PROJECT_ROOT", tmp_path)
    path, log = deploy.open_log("up")
    log.close()
    assert path.parent == tmp_path / ".deploy-logs"
    assert path.name.startswith("up-") and path.name.endswith("Z.log")


@pytest.mark.parametrize("keep", [False, True])
def test_down_removes_the_state_backup_unless_asked_to_keep_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    state = tmp_path / ".state" / "emulator-x.tfstate"
    backup = state.with_name(state.name + ".backup")
    backup.parent.mkdir()
    backup.write_text("{}")
    monkeypatch.setattr(deploy, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(deploy, "_state", lambda target, env: state)
    monkeypatch.setattr(deploy.emulator, "endpoint", lambda: None)  # nothing to destroy: no emulator runs
    monkeypatch.setattr(deploy.emulator, "stop", lambda: None)
    deploy.down({"TAP_TARGET": "emulator"}, keep_backup=keep)
    assert backup.is_file() is keep
