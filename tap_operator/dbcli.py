"""The operator CLI's database commands, and the database steps of the fence/drain flow.

    preflight [--source-url URL] [--target-url URL] [--config FILE] [--task KEY] [--outputs FILE] [--json]
              [--statement-timeout-ms MS] [--lock-timeout-ms MS] [--lob-sample-pages N] [--lob-sample-rows N]
    sequences [--check | --sync] [--gap N] [same credential options] [--json]

Credentials: --source-url / --target-url (or TAP_SOURCE_URL / TAP_TARGET_URL, which keep passwords out of
shell history and `ps`), else the Secrets Manager secrets the deployed stack names in the outputs file
(`source_secret_arns`, `target_secret_arn`), read with your AWS credentials. The configuration (default:
TAP_CONFIG or config/tap-migrate.toml) supplies the task's table mappings and settings, the source's
engine, database and ssl_mode.

Exit codes: 0 nothing blocks (sequences: all in step), 2 something blocks (sequences: out of step),
1 a usage, configuration or connection error (one line on stderr, no traceback, never a password).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO
from urllib.parse import unquote, urlsplit

from .databases import (
    DEFAULT_GAP,
    DEFAULT_MARKER_SCHEMA,
    Check,
    DatabaseError,
    DrainProof,
    Endpoint,
    EndpointError,
    FenceProof,
    Marker,
    PreflightOptions,
    SequenceReport,
    TaskSettings,
    compare_sequences,
    endpoint_from_secret,
    fence_source,
    marker_applied,
    parse_url,
    read_secret_string,
    run_preflight,
    selected_tables,
    sync_sequences,
    unfence_source,
    wait_for_marker,
    worst,
    write_marker,
)
from .databases.checks import (
    DEFAULT_LOB_SAMPLE_PAGES,
    DEFAULT_LOB_SAMPLE_ROWS,
    DEFAULT_LOCK_TIMEOUT_MS,
    DEFAULT_LONG_TRANSACTION_SECONDS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
)
from .databases.endpoints import CONFIG_SSL_MODES
from .databases.errors import scrub

if TYPE_CHECKING:
    from lib.config import AppConfig, DmsTaskConfig

__all__ = [
    "DrainProof",
    "Endpoint",
    "FenceProof",
    "Marker",
    "SequenceReport",
    "UsageError",
    "compare_sequences",
    "cutover_task",
    "fence_source",
    "load_app_config",
    "marker_applied",
    "preflight",
    "resolve_endpoints",
    "sequences",
    "sync_sequences",
    "unfence_source",
    "wait_for_marker",
    "write_marker",
]

DEFAULT_OUTPUTS = Path("cfn-outputs/flat-outputs.json")
SOURCE_SECRETS_OUTPUT = "source_secret_arns"
TARGET_SECRET_OUTPUT = "target_secret_arn"  # noqa: S105  (an output key, not a secret)
REVERSE_SLOT_OUTPUT = "reverse_slot_name"
TARGET_ENGINES = {"aurora_postgresql": "postgres", "aurora_mysql": "mysql"}
EXIT_OK, EXIT_ERROR, EXIT_BLOCKED = 0, 1, 2

SessionFactory = Callable[[], Any]  # returns a boto3 Session (anything with .client("secretsmanager"))


class UsageError(Exception):
    """Bad command-line arguments; printed as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse writing to our streams, and raising instead of exiting with argparse's status 2 (ours means 'blocked')."""

    def __init__(self, *args: Any, out: TextIO, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.out = out

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            self.out.write(message)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see --help)")


def load_app_config(path: str | None) -> AppConfig:
    """The validated configuration (path, else TAP_CONFIG, else config/tap-migrate.toml); ConfigError lists problems."""
    from lib.config import load_config  # noqa: PLC0415  (pydantic loads only for the commands that read the config)

    return load_config(path)


def cutover_task(config: AppConfig, task_key: str | None) -> DmsTaskConfig:
    """`task_key`, else the cutover's task, else the only task; UsageError otherwise."""
    key = task_key or (config.cutover.task_key if config.cutover else None)
    if key is None:
        if len(config.dms.tasks) != 1:
            raise UsageError(f"the configuration has no cutover task; pass --task (one of {sorted(config.dms.tasks)})")
        key = next(iter(config.dms.tasks))
    if key not in config.dms.tasks:
        raise UsageError(f"task {key!r} is not in the configuration; use one of {sorted(config.dms.tasks)}")
    return config.dms.tasks[key]


def read_outputs(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EndpointError(
            f"{path} not found: pass --source-url/--target-url (or TAP_SOURCE_URL/TAP_TARGET_URL), or deploy the stack first"
        ) from None
    except ValueError as error:
        raise EndpointError(f"{path} is not valid JSON ({error}); redeploy to rewrite it") from None
    if not isinstance(loaded, dict):
        raise EndpointError(f"{path} must hold a JSON object; redeploy to rewrite it")
    return loaded


def _source_secret_arn(outputs: Mapping[str, Any], source_key: str, path: Path) -> str:
    arns: Any = outputs.get(SOURCE_SECRETS_OUTPUT)
    if isinstance(arns, str):  # some flatteners keep maps as JSON text
        try:
            arns = json.loads(arns)
        except ValueError:
            arns = None
    arn = arns.get(source_key) if isinstance(arns, dict) else None
    if not isinstance(arn, str) or not arn:
        raise EndpointError(f"{path} has no {SOURCE_SECRETS_OUTPUT}[{source_key!r}]: pass --source-url, or redeploy")
    return arn


def resolve_endpoints(
    source_url: str | None,
    target_url: str | None,
    config: AppConfig | None,
    outputs_path: Path = DEFAULT_OUTPUTS,
    session_factory: SessionFactory | None = None,
    *,
    task_key: str | None = None,
) -> tuple[Endpoint, Endpoint | None]:
    """The source and target endpoints: from URLs when given, else from the stack's Secrets Manager secrets.

    The target is None when there is neither a URL nor a database target in the configuration (a data-lake task).
    """
    task = cutover_task(config, task_key) if config is not None else None
    source_config = config.sources[task.source] if config is not None and task is not None else None
    target_config = config.targets[task.target] if config is not None and task is not None else None
    outputs: dict[str, Any] | None = None
    client: Any = None

    def secret(arn: str, role: str) -> str:
        nonlocal client
        if client is None:
            import boto3  # noqa: PLC0415  (only the secret path needs AWS)
            from botocore.exceptions import BotoCoreError  # noqa: PLC0415

            try:
                client = (session_factory or boto3.session.Session)().client("secretsmanager")
            except BotoCoreError as error:
                raise EndpointError(
                    f"{role} secret {arn}: cannot create a Secrets Manager client ({type(error).__name__}); set AWS_REGION "
                    "and your AWS credentials, or pass the URLs"
                ) from None
        return read_secret_string(client, arn, role)

    if source_url:
        source = parse_url(source_url, "source")
        if source_config is not None and source.family != _family(source_config.engine):
            raise EndpointError(
                f"source URL is {source.engine} but the configuration's source {source_config.key} is "
                f"{source_config.engine}; fix the URL or pass --config / --task"
            )
    elif source_config is not None:
        outputs = read_outputs(outputs_path)
        arn = _source_secret_arn(outputs, source_config.key, outputs_path)
        source = endpoint_from_secret(
            secret(arn, "source"),
            engine=source_config.engine,
            default_database=source_config.database,
            ssl_mode=CONFIG_SSL_MODES.get(source_config.ssl_mode, "require"),
            ssl_ca_pem=source_config.ca_certificate_pem,
            role="source",
        )
    else:
        raise UsageError("no source: pass --source-url (or TAP_SOURCE_URL), or a configuration with a deployed stack")
    target: Endpoint | None = None
    if target_url:
        target = parse_url(target_url, "target")
    elif target_config is not None and target_config.kind in TARGET_ENGINES:
        outputs = outputs if outputs is not None else read_outputs(outputs_path)
        arn_value = outputs.get(TARGET_SECRET_OUTPUT)
        if not isinstance(arn_value, str) or not arn_value:
            raise EndpointError(f"{outputs_path} has no {TARGET_SECRET_OUTPUT}: pass --target-url, or redeploy")
        default_database = config.aurora.database_name if config is not None and config.aurora is not None else ""
        target = endpoint_from_secret(
            secret(arn_value, "target"),
            engine=TARGET_ENGINES[target_config.kind],
            default_database=default_database,
            ssl_mode="require",  # Aurora always offers TLS
            role="target",
        )
    return source, target


def _family(engine: str) -> str:
    return "postgres" if engine == "postgres" else "mysql"


def _parser(prog: str, description: str, out: TextIO) -> _Parser:
    """A command's parser with the credential and output options every database command takes."""
    parser = _Parser(prog=prog, description=description, out=out)
    parser.add_argument("--source-url", help="postgresql://user:password@host:5432/db or mysql://… (or TAP_SOURCE_URL)")
    parser.add_argument("--target-url", help="same form, for the target (or TAP_TARGET_URL)")
    parser.add_argument("--config", help="tap-migrate TOML (default: TAP_CONFIG or config/tap-migrate.toml)")
    parser.add_argument("--task", help="the [dms.tasks.<key>] to check (default: the cutover's task)")
    parser.add_argument("--outputs", type=Path, default=DEFAULT_OUTPUTS, help="flat stack outputs (for the secrets' ARNs)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _urls(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    return args.source_url or env.get("TAP_SOURCE_URL") or None, args.target_url or env.get("TAP_TARGET_URL") or None


def _url_passwords(*urls: str | None) -> list[str]:
    found: list[str] = []
    for url in urls:
        if url:
            try:
                password = urlsplit(url).password
            except ValueError:
                password = None
            if password:
                found += [password, unquote(password)]
    return found


def _task_endpoints(
    args: argparse.Namespace, env: Mapping[str, str], session_factory: SessionFactory | None
) -> tuple[AppConfig, DmsTaskConfig, Endpoint, Endpoint | None]:
    """The configuration, the task (--task, else the cutover's) and its source and target endpoints."""
    config = load_app_config(args.config)
    task = cutover_task(config, args.task)
    source_url, target_url = _urls(args, env)
    source, target = resolve_endpoints(source_url, target_url, config, args.outputs, session_factory, task_key=task.key)
    return config, task, source, target


def _run(
    command: Callable[[argparse.Namespace, Mapping[str, str]], int],
    parser: _Parser,
    argv: Sequence[str],
    err: TextIO,
    env: Mapping[str, str] | None,
) -> int:
    environment = os.environ if env is None else env
    secrets: list[str] = []
    try:
        args = parser.parse_args(list(argv))
        secrets = _url_passwords(*_urls(args, environment))
        return command(args, environment)
    except SystemExit as exit_request:  # --help
        return int(exit_request.code or 0)
    except (UsageError, DatabaseError, ValueError, OSError) as error:
        err.write(f"error: {scrub(str(error), secrets)}\n")
        return EXIT_ERROR


# --------------------------------------------------------------------------------------
# preflight


def _render_check(check: Check) -> str:
    line = f"[{check.verdict.upper():>5}] {check.name} ({check.subject}): {check.value}"
    return line + (f"  -> fix: {check.fix}" if check.fix else "")


def preflight(
    argv: Sequence[str],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    *,
    session_factory: SessionFactory | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Check the source (and target) against what the DMS task and the cutover need; 0 ok/warn, 2 blocked, 1 error."""
    parser = _parser("preflight", "Check source and target before starting the DMS task.", out)
    parser.add_argument(
        "--long-transaction-seconds",
        type=int,
        default=DEFAULT_LONG_TRANSACTION_SECONDS,
        help=f"report transactions open longer than this (default {DEFAULT_LONG_TRANSACTION_SECONDS})",
    )
    parser.add_argument("--marker-schema", default=DEFAULT_MARKER_SCHEMA, help="PostgreSQL schema of the drain marker table")
    budgets = (
        ("--statement-timeout-ms", DEFAULT_STATEMENT_TIMEOUT_MS, "budget of each preflight query"),
        ("--lock-timeout-ms", DEFAULT_LOCK_TIMEOUT_MS, "how long a preflight query may wait for a lock (MySQL: whole seconds)"),
        ("--lob-sample-pages", DEFAULT_LOB_SAMPLE_PAGES, "PostgreSQL: heap pages the LOB size check reads per table"),
        ("--lob-sample-rows", DEFAULT_LOB_SAMPLE_ROWS, "MySQL/MariaDB: rows the LOB size check reads per table"),
    )
    for flag, default, text in budgets:
        parser.add_argument(flag, type=int, default=default, help=f"{text} (default {default})")

    def command(args: argparse.Namespace, environment: Mapping[str, str]) -> int:
        config, task, source, target = _task_endpoints(args, environment, session_factory)
        source_config = config.sources[task.source]
        options = PreflightOptions(
            task=TaskSettings.from_json(task.settings),
            ssl_mode=source_config.ssl_mode,
            task_count=sum(1 for other in config.dms.tasks.values() if other.source == task.source),
            reverse_replication=config.cutover is not None and config.cutover.reverse_replication,
            rollback_window_hours=config.cutover_table.rollback_window_hours,
            long_transaction_seconds=args.long_transaction_seconds,
            marker_schema=args.marker_schema,
            statement_timeout_ms=args.statement_timeout_ms,
            lock_timeout_ms=args.lock_timeout_ms,
            lob_sample_pages=args.lob_sample_pages,
            lob_sample_rows=args.lob_sample_rows,
        )
        checks = run_preflight(source, target, task.table_mappings, options)
        if args.json:
            out.write(json.dumps({"checks": [check.to_dict() for check in checks]}, indent=2) + "\n")
        else:
            for check in checks:
                out.write(_render_check(check) + "\n")
            counts = {verdict: sum(1 for check in checks if check.verdict == verdict) for verdict in ("block", "warn", "ok")}
            out.write(f"preflight: {counts['block']} block, {counts['warn']} warn, {counts['ok']} ok\n")
        return EXIT_BLOCKED if worst(checks) == "block" else EXIT_OK

    return _run(command, parser, argv, err, env)


# --------------------------------------------------------------------------------------
# sequences


def _render_sequences(report: SequenceReport, out: TextIO) -> None:
    def shown(value: int | None) -> str:
        return "-" if value is None else str(value)

    for row in report.rows:
        target = shown(row.target_before) + (f" -> {shown(row.target_after)}" if report.synced else "")
        out.write(f"[{'OK' if row.ok else 'DIFF':>4}] {row.name}: source next {shown(row.source)}, target next {target}")
        out.write(f"  ({row.note})\n" if row.note else "\n")
    out.write(report.summary + "\n")


def sequences(
    argv: Sequence[str],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    *,
    session_factory: SessionFactory | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Compare (--check, the default) or raise (--sync) the target's sequences to the source's + gap."""
    parser = _parser("sequences", "Compare or sync sequences between source and target.", out)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare only (default)")
    mode.add_argument("--sync", action="store_true", help="raise target sequences to source + gap, then read back")
    parser.add_argument("--gap", type=int, default=DEFAULT_GAP, help=f"headroom above the source's value (default {DEFAULT_GAP})")

    def command(args: argparse.Namespace, environment: Mapping[str, str]) -> int:
        if args.gap < 0:
            raise UsageError(f"--gap must be 0 or more, got {args.gap}")
        _, task, source, target = _task_endpoints(args, environment, session_factory)
        if target is None:
            raise UsageError(f"task {task.key} has no database target; pass --target-url")
        # MySQL/MariaDB: the AUTO_INCREMENT counters of the tables the task migrates.
        tables = None if source.family == "postgres" else selected_tables(source, task.table_mappings)
        run = sync_sequences if args.sync else compare_sequences
        report = run(source, target, args.gap, tables)
        if args.json:
            out.write(json.dumps(report.to_dict(), indent=2) + "\n")
        else:
            _render_sequences(report, out)
        return EXIT_OK if report.ok else EXIT_BLOCKED

    return _run(command, parser, argv, err, env)
