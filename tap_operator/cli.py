"""Operator CLI: ``./cutover <command>`` (``PYTHONPATH=.:lambda/cutover python -m tap_operator.cli``).

It reads the deployed Lambda's environment (lambda:GetFunctionConfiguration) to get the
exact Settings the Lambda uses, then runs the same engine in-process with the caller's
credentials. AWS_REGION / AWS_PROFILE / AWS_ENDPOINT_URL select the account or emulator.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tap_cutover.gates import GateResult
from tap_cutover.logic import Action, Evidence, OperatorCommand, RecordEvidence, RecordNote
from tap_cutover.settings import Settings, SettingsError
from tap_cutover.state import Phase, State

from . import cdc_position, compare, dbcli
from .database_access import DatabaseAccess
from .databases import DEFAULT_GAP, DatabaseError, Endpoint

if TYPE_CHECKING:
    from boto3.session import Session
    from tap_cutover.engine import Engine, Result
    from tap_cutover.ports import LivePair

    from .writer_move import ReverseReplication

DEFAULT_OUTPUTS = Path("cfn-outputs/flat-outputs.json")
OUTPUT_KEY = "cutover_function_name"
REGION_KEY = "region"  # lib/constants.Output.REGION
BAR_WIDTH = 20
# A fresh lock usually belongs to a scheduled tick that finishes within a second or two.
_CONFLICT_RETRIES = 3
_CONFLICT_WAIT_SECONDS = 2.0


class CliError(Exception):
    """A usage or configuration problem; printed without a traceback."""


def _outputs(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{path} not found: pass --function-name (and set AWS_REGION), or deploy the stack first") from None
    except (OSError, UnicodeDecodeError) as err:
        raise CliError(f"{path} cannot be read ({err}); redeploy (./tap up) to rewrite it") from None
    if not text.strip():
        raise CliError(f"{path} is empty; redeploy (./tap up) to rewrite it, or pass --function-name and set AWS_REGION")
    try:
        outputs = json.loads(text)
    except ValueError as err:
        raise CliError(f"{path} is not valid JSON ({err}); redeploy (./tap up) to rewrite it") from None
    if not isinstance(outputs, dict):
        raise CliError(f"{path} must hold a JSON object of outputs; redeploy (./tap up) to rewrite it")
    return outputs


def region_from_outputs(path: Path) -> str:
    """The deployed stack's region (its `region` output), for when neither AWS_REGION nor AWS_DEFAULT_REGION is set."""
    region = _outputs(path).get(REGION_KEY)
    if not isinstance(region, str) or not region.strip():
        raise CliError(f"{path} names no region: set AWS_REGION (e.g. export AWS_REGION=us-east-1), or redeploy")
    return region.strip()


def function_name_from_outputs(path: Path) -> str:
    outputs = _outputs(path)
    if isinstance(outputs.get(OUTPUT_KEY), str):
        return str(outputs[OUTPUT_KEY])
    # Stacks sometimes prefix output names; accept exactly one key that ends with ours.
    matches = [v for k, v in outputs.items() if str(k).endswith(OUTPUT_KEY) and isinstance(v, str)]
    if len(matches) != 1:
        raise CliError(f"{path} has no single '{OUTPUT_KEY}' output: pass --function-name")
    return matches[0]


def settings_from_lambda(session: Session, function_name: str) -> Settings:
    from tap_cutover.ports import AwsError, aws_call  # noqa: PLC0415  (keeps --help free of the engine imports)

    client: Any = session.client("lambda")
    try:
        with aws_call("lambda", "GetFunctionConfiguration"):
            config = client.get_function_configuration(FunctionName=function_name)
    except AwsError as err:
        raise CliError(f"cannot read the Lambda configuration of {function_name}: {err}") from None
    env = (config.get("Environment") or {}).get("Variables") or {}
    try:
        return Settings.from_env(env)
    except SettingsError as err:
        raise CliError(f"the environment of {function_name} is invalid: {err}") from None


def bar(aurora_weight: int) -> str:
    filled = round(BAR_WIDTH * (100 - aurora_weight) / 100)
    return "source [" + "#" * filled + "." * (BAR_WIDTH - filled) + "] aurora"


def _render_pair(pair: str, live: LivePair | None) -> list[str]:
    if live is None:
        return [f"  {pair}: unavailable"]
    src = live.records.get("source")
    aur = live.records.get("aurora")
    if src is None or aur is None:
        return [f"  {pair:<6} {live.name}: record(s) missing (source={src}, aurora={aur})"]
    return [
        f"  {pair:<6} {live.name}",
        f"         {bar(aur.weight)}  source {src.weight}% | aurora {aur.weight}%  ttl {src.ttl}/{aur.ttl}s",
    ]


def render(result: Result, out: TextIO) -> None:
    state = result.state
    if state is not None:
        paused = f" (paused from {state.paused_from.value})" if state.paused_from else ""
        out.write(f"phase: {state.phase.value}{paused}   version: {state.version}\n")
        out.write(f"state weights on Aurora: reader {state.weights.reader}%, writer {state.weights.writer}%\n")
        out.write(_data_proof_line(state))
    out.write(f"result: {result.status}: {result.message}\n")
    if result.gates is not None:
        out.write("gates:\n" + "".join(_gate_lines(result.gates.results)))
    if result.live is not None:
        out.write("records (live from Route 53):\n")
        for pair in ("reader", "writer"):
            for line in _render_pair(pair, result.live.get(pair)):
                out.write(line + "\n")
    for reason in result.reasons:
        if reason != result.message:
            out.write(f"  - {reason}\n")
    if result.lock is not None:
        out.write(f"lock: {json.dumps(result.lock, default=str)}\n")
    _render_history(result, out)
    for name, detail in result.details.items():
        for line in _detail_lines(name, detail):
            out.write(line + "\n")
    for error in result.errors:
        out.write(f"ERROR: {error}\n")


def _gate_lines(gates: Sequence[GateResult]) -> list[str]:
    """Each gate with its reading; a red one also says why, on its own line."""
    lines = []
    for gate in gates:
        lines.append(f"  [{'GREEN' if gate.green else 'RED  '}] {gate.name:<20} {gate.value}\n")
        if not gate.green and gate.why:
            lines.append(f"          {'':<20} why: {gate.why}\n")
    return lines


def _data_proof_line(state: State) -> str:
    """The writer flip's data proof as recorded in the state (docs/cutover.md, "Proof that the data is the same")."""
    if state.data_proof_at is None:
        return "data proof: none recorded (the writer flip needs a clean compare, DMS validation complete, or a waiver)\n"
    return f"data proof: {state.data_proof_kind} at {state.data_proof_at.isoformat()}: {state.data_proof}\n"


def _render_history(result: Result, out: TextIO) -> None:
    """This command's transitions; with a status (live records read), the last five of the state's history."""
    for transition in result.transitions:
        out.write(f"transition v{transition.state.version} {transition.event}: {transition.reason}\n")
    state = result.state
    if state is None or not state.history or result.live is None:
        return
    out.write("recent transitions:\n")
    for entry in state.history[-5:]:
        who = f" by {entry.operator}" if entry.operator else ""
        out.write(
            f"  v{entry.version} {entry.at.isoformat()} {entry.from_phase.value} -> {entry.to_phase.value} "
            f"[{entry.trigger}{who}] reader {entry.weights.reader}% writer {entry.weights.writer}%: {entry.reason}\n"
        )


def _detail_lines(name: str, detail: Any) -> list[str]:
    """What the databases proved, one line each: the proofs' summaries, or a preflight check per line."""
    if name == "preflight" and isinstance(detail, list):
        return [f"  preflight [{c['verdict']:<5}] {c['name']} {c['subject']}: {c['value']}" for c in detail]
    if isinstance(detail, dict) and "summary" in detail:
        return [f"  {name}: {detail['summary']}"]
    return [f"  {name}: {detail}"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="./cutover", description="Operate the tap-migrate cutover.")
    parser.add_argument("--function-name", help=f"cutover Lambda name (default: '{OUTPUT_KEY}' in --outputs)")
    parser.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="flat stack outputs JSON file")
    parser.add_argument("--operator", default=None, help="who is acting (default: your login name)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="phase, gates, live weights, recent transitions")
    advance = commands.add_parser(
        "advance", help="start shifting reads (replicating: runs preflight on the databases first) or complete (writer_flipped)"
    )
    _database_arguments(advance)
    commands.add_parser("pause", help="freeze the cutover where it is")
    commands.add_parser("resume", help="continue a paused cutover (gates must be green)")
    rollback = commands.add_parser("rollback", help="move reads (and with --writer the writer) back to the source")
    rollback.add_argument("--writer", action="store_true", help="also move the writer back: LOSES Aurora's writes")
    rollback.add_argument("--confirm", action="store_true", help="required")
    rollback.add_argument(
        "--keep-writes",
        action="store_true",
        help="with --writer: fence Aurora, drain the reverse replication by marker and sync sequences back first "
        "(implied by database URLs); without --writer: make the fenced source writable again",
    )
    rollback.add_argument(
        "--proof-url",
        help="with --writer: credentials of a session on Aurora that must fail to write once it is fenced (the "
        "application's user); MySQL/MariaDB need it when the target's account writes through read_only",
    )
    _database_arguments(rollback)
    fence = commands.add_parser(
        "fence", help="fence the source and prove it, drain by marker, sync sequences, then flip the writer"
    )
    fence.add_argument("--confirm", action="store_true", help="required: the source stops taking writes")
    fence.add_argument("--already-read-only", action="store_true", help="you made the source read-only yourself: only prove it")
    fence.add_argument("--proof-url", help="credentials of the session that must fail to write (e.g. the application's user)")
    fence.add_argument("--sequence-gap", type=int, default=DEFAULT_GAP, help=f"target sequences >= source + this ({DEFAULT_GAP})")
    fence.add_argument(
        "--without-data-proof",
        metavar="REASON",
        help="flip even with no proof that the data is the same (no clean compare, DMS validation incomplete); "
        "the reason is recorded in the state and sent in an alert",
    )
    fence.add_argument(
        "--on-refusal",
        choices=("hold", "reopen"),
        default="hold",
        help="when a step after the fence refuses (writer not moved): keep the source read-only (hold, default) "
        "or make it writable again (reopen)",
    )
    _database_arguments(fence)
    note = commands.add_parser(
        "note", help="record an audited decision in the state's history (e.g. a replacement allowed by ./tap up)"
    )
    note.add_argument("text", help="what was decided and why")
    commands.add_parser("preflight", help="check source and target prerequisites (./cutover preflight --help)")
    commands.add_parser("sequences", help="compare or sync sequences (./cutover sequences --help)")
    commands.add_parser("compare", help="compare schema and data of the mapped tables (./cutover compare --help)")
    commands.add_parser("cdc-position", help="each DMS task's CDC checkpoint, to resume a replaced task (--help)")
    unlock = commands.add_parser(
        "unlock", help="remove a stale lock (or, with --sync-dns, a DNS difference) after comparing live weights with the state"
    )
    unlock.add_argument("--confirm", action="store_true", help="required")
    unlock.add_argument(
        "--sync-dns",
        action="store_true",
        help="first set Route 53 back to the state (refused if the writer would move); without a lock, reconcile a "
        "difference a tick reported",
    )
    return parser


def _database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source-url", help="postgresql://user:pass@host:port/db or mysql://... (or TAP_SOURCE_URL)")
    parser.add_argument("--target-url", help="the same for the target (or TAP_TARGET_URL); default: the stack's secrets")
    parser.add_argument("--config", help="tap-migrate TOML (default: TAP_CONFIG or config/tap-migrate.toml)")


def execute(
    engine: Engine,
    args: argparse.Namespace,
    operator: str,
    databases: Callable[[], DatabaseAccess] | None = None,
    reverse: ReverseReplication | None = None,
) -> Result:
    """Run one command; the database-aware ones (advance from the start, fence, rollback) use ``databases``,
    which resolves credentials and the configuration only when a command really needs them."""
    if args.command == "unlock":
        return engine.unlock(confirm=bool(args.confirm), operator=operator, sync_dns=bool(args.sync_dns))
    if args.command == "note":
        if not str(args.text).strip():
            raise CliError('note: give the text to record, e.g. ./cutover note "allowed replacing X: reason"')
        return engine.run(RecordNote(operator, str(args.text).strip()))
    if databases is not None and args.command in ("advance", "fence", "rollback"):
        return _with_databases(engine, args, operator, databases, reverse)
    command = OperatorCommand(
        action=Action(args.command),
        operator=operator,
        confirm=bool(getattr(args, "confirm", False)),
        writer=bool(getattr(args, "writer", False)),
    )
    result = engine.run(command)
    for _ in range(_CONFLICT_RETRIES):
        if result.status != "conflict" or not result.lock:
            break
        time.sleep(_CONFLICT_WAIT_SECONDS)
        result = engine.run(command)
    return result


def _with_databases(
    engine: Engine,
    args: argparse.Namespace,
    operator: str,
    databases: Callable[[], DatabaseAccess],
    reverse: ReverseReplication | None,
) -> Result:
    from .writer_move import MoveOptions, fence_and_flip, rollback_writer, unfence_after_rollback  # noqa: PLC0415

    def say(line: str) -> None:
        sys.stderr.write(f"[cutover] {line}\n")

    if args.command == "advance":
        return _advance_after_preflight(engine, args, operator, databases)
    if args.command == "fence":
        if not args.confirm:
            return execute(engine, args, operator)  # refused by the state machine, no database touched
        options = MoveOptions(
            already_read_only=args.already_read_only,
            sequence_gap=args.sequence_gap,
            without_data_proof=args.without_data_proof,
            on_refusal=args.on_refusal,
        )
        access = databases()
        reverse = reverse or access.reverse_replication(engine.settings, say)
        return fence_and_flip(engine, access.pair(args.proof_url), operator, options=options, reverse=reverse, say=say)
    if args.writer and args.confirm:
        access = databases()
        reverse = reverse or access.reverse_replication(engine.settings, say)
        return rollback_writer(engine, access.pair(args.proof_url), operator, reverse=reverse, say=say)
    before = engine.status().state
    result = execute(engine, args, operator)
    if result.status == "changed" and before is not None and before.fence_confirmed_at is not None:
        result.details["source"] = unfence_after_rollback(databases().pair(None))
    return result


def _advance_after_preflight(
    engine: Engine, args: argparse.Namespace, operator: str, lookup: Callable[[], DatabaseAccess]
) -> Result:
    """Starting (from replicating or rolled_back) needs a preflight with nothing that blocks; completing does not."""
    from tap_cutover.engine import Result  # noqa: PLC0415

    state = engine.status().state
    if state is None or state.phase not in (Phase.REPLICATING, Phase.ROLLED_BACK):
        return execute(engine, args, operator)
    databases = lookup()
    checks = databases.preflight()
    blocking = [check for check in checks if check.verdict == "block"]
    counts = {verdict: sum(1 for c in checks if c.verdict == verdict) for verdict in ("ok", "warn", "block")}
    if blocking:
        result = Result(
            "rejected",
            f"preflight blocks the start: {'; '.join(f'{c.name} ({c.subject}): {c.fix}' for c in blocking)}",
            [f"{c.verdict}: {c.name} {c.subject}: {c.value}" for c in checks],
            state,
        )
    else:
        summary = f"preflight on {databases.source.label} and {databases.target.label}: {counts['ok']} ok, {counts['warn']} warn"
        recorded = engine.run(RecordEvidence(Evidence.PREFLIGHT_PASSED, operator, summary))
        result = execute(engine, args, operator) if recorded.status == "changed" else recorded
        if result is not recorded:
            result.transitions[:0] = recorded.transitions
    result.details["preflight"] = [check.to_dict() for check in checks]
    return result


def _resolve_once(args: argparse.Namespace, session: Session | None) -> Callable[[], DatabaseAccess]:
    """Credentials and configuration are looked up on first use: completing a cutover needs no database."""
    resolved: list[DatabaseAccess] = []

    def databases() -> DatabaseAccess:
        if not resolved:
            resolved.append(
                DatabaseAccess.resolve(
                    args.source_url,
                    args.target_url,
                    config_path=args.config,
                    outputs_path=args.outputs,
                    session=session,
                    env=os.environ,
                )
            )
        return resolved[0]

    return databases


def _wants_databases(args: argparse.Namespace, env: Mapping[str, str]) -> bool:
    """fence always; advance to run preflight; rollback only when asked (--keep-writes) or given database URLs."""
    if args.command in ("fence", "advance"):
        return args.command == "advance" or bool(args.confirm)
    if args.command != "rollback":
        return False
    urls = args.source_url or args.target_url or env.get("TAP_SOURCE_URL") or env.get("TAP_TARGET_URL")
    return bool(args.confirm and (args.keep_writes or urls))


def main(
    argv: Sequence[str] | None = None,
    *,
    session: Session | None = None,
    engine: Engine | None = None,
    reverse: ReverseReplication | None = None,
) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # The database and position commands have their own options; they are only reachable as the first word.
    standalone: dict[str, Callable[[list[str]], int]] = {
        "preflight": dbcli.preflight,
        "sequences": dbcli.sequences,
        "compare": lambda rest: compare.main(rest, record=compare_recorder(session)),
        "cdc-position": lambda rest: cdc_position.main(rest, session=session),
    }
    if arguments[:1] and arguments[0] in standalone:
        return standalone[arguments[0]](arguments[1:])
    args = _parser().parse_args(arguments)
    if args.command in ("preflight", "sequences", "compare", "cdc-position"):
        sys.stderr.write(f"error: put '{args.command}' first: ./cutover {args.command} [options]\n")
        return 2
    operator = args.operator or getpass.getuser()
    try:
        if engine is None:
            import boto3  # noqa: PLC0415  (lazy: --help and tests with a prepared engine skip it)
            from tap_cutover.aws import build_adapters  # noqa: PLC0415
            from tap_cutover.engine import Engine  # noqa: PLC0415

            if session is None:
                region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                if not region and args.function_name and not args.outputs.exists():
                    raise CliError("no AWS region: set AWS_REGION (e.g. export AWS_REGION=us-east-1)")
                session = boto3.session.Session(region_name=region or region_from_outputs(args.outputs))
            name = args.function_name or function_name_from_outputs(args.outputs)
            settings = settings_from_lambda(session, name)
            # The engine's structured log lines are for machines: with --json on stderr, for a person the summary says it all.
            engine = Engine(settings, build_adapters(settings, session), emit=_emit_stderr if args.json else _discard)
        databases = _resolve_once(args, session) if _wants_databases(args, os.environ) else None
        result = execute(engine, args, operator, databases, reverse)
    except (CliError, dbcli.UsageError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    except DatabaseError as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    else:
        render(result, sys.stdout)
    return 0 if result.ok else 1


def compare_recorder(session: Session | None = None) -> compare.Recorder:
    """Records a clean compare against the deployed stack's Aurora through the cutover engine (the Lambda's settings)."""

    def record(report: compare.CompareReport, target: Endpoint, args: argparse.Namespace) -> str:
        import boto3  # noqa: PLC0415
        from tap_cutover.aws import build_adapters  # noqa: PLC0415
        from tap_cutover.engine import Engine  # noqa: PLC0415

        if target.host not in compare.stack_target_hosts(args.outputs):
            raise dbcli.UsageError(
                f"--record: the target {target.label} is not the deployed stack's Aurora ({args.outputs}); compare "
                "against the stack's target to record the data proof"
            )
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or region_from_outputs(args.outputs)
        aws = session or boto3.session.Session(region_name=region)
        settings = settings_from_lambda(aws, function_name_from_outputs(args.outputs))
        engine = Engine(settings, build_adapters(settings, aws), emit=_emit_stderr)
        result = compare.record_data_proof(engine, getpass.getuser(), report)
        return f"{result.status}: {result.message}"

    return record


def _discard(record: Mapping[str, Any]) -> None:
    """Human output: the rendered result carries what the engine's log line would say (the state keeps the history)."""


def _emit_stderr(record: Mapping[str, Any]) -> None:
    sys.stderr.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    sys.exit(main())
