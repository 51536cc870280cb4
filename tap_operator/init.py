"""`./tap init [DIR]`: a config of one's own, valid from its folder.

Asks for (or takes flags for) the source engine, host, port, database, the tables to migrate and the
source's network, then writes into DIR:
- `tap-migrate.toml`, whose `#:schema` line points at the project's JSON Schema from DIR (editors
  complete and check the file there), with an Aurora target of the source's family and the cutover on;
- `table-mappings.json`, selecting the tables asked for plus the drain marker table, which the writer
  flip waits on (a mappings file without it fails synth once a cutover is enabled).
The written config is loaded with the project's own validator before anything is written: a bad answer
is reported with its field and fix, and no file is left half-written. Existing files are kept unless
`--force` is given. Exit 0 written, 1 refused (files exist, or the config does not validate), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from lib.config import PROJECT_ROOT, ConfigError, load_config
from lib.constants import MARKER_TABLE, marker_schema_for

SCHEMA_FILE = PROJECT_ROOT / "config" / "tap-migrate.schema.json"
CONFIG_NAME, MAPPINGS_NAME = "tap-migrate.toml", "table-mappings.json"
ENGINES = {
    "postgres": ("15", 5432, "aurora_postgresql"),
    "mysql": ("8.0", 3306, "aurora_mysql"),
    "mariadb": ("10.11", 3306, "aurora_mysql"),
}
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class InitError(Exception):
    """A refusal the user can fix; the message says how."""


@dataclass(frozen=True)
class Answers:
    name: str
    engine: str
    engine_version: str
    host: str
    port: int
    database: str
    tables: tuple[str, ...]  # "schema.table_pattern" (DMS wildcards: % and _)
    source_cidrs: tuple[str, ...]
    region: str


def _table_rule(rule_id: int, entry: str, default_schema: str) -> dict[str, Any]:
    schema, _, table = entry.rpartition(".")
    return {
        "rule-type": "selection",
        "rule-id": str(rule_id),
        "rule-name": f"include-{schema or default_schema}.{table or '%'}"[:255],
        "object-locator": {"schema-name": schema or default_schema, "table-name": table or "%"},
        "rule-action": "include",
    }


def mappings_document(answers: Answers) -> dict[str, Any]:
    """The DMS table mappings: each table asked for, then the drain marker table."""
    default_schema = answers.database if answers.engine != "postgres" else "public"
    rules = [_table_rule(index, entry, default_schema) for index, entry in enumerate(answers.tables, start=1)]
    marker_schema = marker_schema_for(answers.engine, answers.database)
    rules.append(
        {
            "rule-type": "selection",
            "rule-id": str(len(rules) + 1),
            "rule-name": "include-cutover-drain-marker",
            "object-locator": {"schema-name": marker_schema, "table-name": MARKER_TABLE},
            "rule-action": "include",
        }
    )
    return {"rules": rules}


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def config_text(answers: Answers, folder: Path) -> str:
    """The TOML, with the schema line relative to `folder` (where it is written)."""
    schema = Path(os.path.relpath(SCHEMA_FILE, folder.resolve())).as_posix()
    target = ENGINES[answers.engine][2]
    return f"""#:schema {schema}
# Written by ./tap init. Every field and its default: docs/configuration.md. Validate: TAP_CONFIG=<this file> ./tap synth

[project]
name = {json.dumps(answers.name)}
environment_suffix = "dev"
region = {json.dumps(answers.region)}
profile = "dev"                 # dev | staging | prod

[network]
# How DMS reaches the source: connectivity = "external" means routes to it are managed outside this stack.
# Instead, a site-to-site VPN ([network.vpn] customer_gateway_ip = "<your VPN device's public IP>") or
# transit_gateway_id = "tgw-…" let this stack build the route (docs/deploying.md, "Reaching the network").
connectivity = "external"

[sources.source]
engine = {json.dumps(answers.engine)}
engine_version = {json.dumps(answers.engine_version)}
host = {json.dumps(answers.host)}
port = {answers.port}
database = {json.dumps(answers.database)}
cidr_blocks = {_toml_list(answers.source_cidrs)}   # the source's network: DMS may reach only these
ssl_mode = "require"
secret_arn = ""                 # empty: the stack creates an empty secret; fill it with username/password/host/port

[targets.aurora]
kind = "{target}"

[aurora]
database_name = {json.dumps(answers.database)}

[dms.tasks.main]
source = "source"
target = "aurora"
migration_type = "full-load-and-cdc"
table_mappings_file = "{MAPPINGS_NAME}"   # relative to this file
settings_file = "dms/task-settings.json"  # the project's (relative to the project root)

[cutover]
enabled = true
domain = "db.migration.internal"
task_key = "main"
"""


def write(answers: Answers, folder: Path, *, force: bool = False) -> list[Path]:
    """Validate the config these answers make, then write both files; InitError names what to fix."""
    config_path, mappings_path = folder / CONFIG_NAME, folder / MAPPINGS_NAME
    existing = [path for path in (config_path, mappings_path) if path.exists()]
    if existing and not force:
        raise InitError(f"{', '.join(map(str, existing))} already exist(s); choose another folder or pass --force")
    texts = {config_path: config_text(answers, folder), mappings_path: json.dumps(mappings_document(answers), indent=2) + "\n"}
    # Validate the pair in a scratch folder first, so a refused config leaves nothing behind.
    with tempfile.TemporaryDirectory(prefix="tap-init-") as scratch:
        for path, text in texts.items():
            (Path(scratch) / path.name).write_text(text, encoding="utf-8")
        try:
            load_config(Path(scratch) / CONFIG_NAME, env={})
        except ConfigError as error:
            raise InitError(f"these answers do not make a valid config:\n{error}") from None
    folder.mkdir(parents=True, exist_ok=True)
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
    return list(texts)


def project_name_from(folder: Path) -> str:
    """The folder's name as a project name (lowercase, single hyphens, 2-21 chars), else `tap-migrate`."""
    name = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", folder.resolve().name.lower()))[:21].strip("-")
    return name if re.fullmatch(r"[a-z][a-z0-9-]{1,20}", name) else "tap-migrate"


def _ask(ask: Callable[[str], str], prompt: str, default: str | None) -> str:
    shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
    return ask(shown).strip() or (default or "")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="./tap init", description="Write a config and table mappings of your own into DIR.")
    parser.add_argument("dir", nargs="?", default="my-migration", help="folder to write into (default: my-migration)")
    parser.add_argument("--name", help="project name: prefixes every resource (2-21 lowercase letters, digits, -)")
    parser.add_argument("--engine", choices=sorted(ENGINES), help="the source engine")
    parser.add_argument("--engine-version", help="the source's version (default: 15, 8.0 or 10.11)")
    parser.add_argument("--host", help="the source's DNS name (what DMS connects to)")
    parser.add_argument("--port", type=int, help="the source's port (default: the engine's)")
    parser.add_argument("--database", help="the source database")
    parser.add_argument("--tables", help="comma-separated schema.table patterns to migrate (DMS wildcards %% and _)")
    parser.add_argument("--source-cidr", action="append", help="the source's network, e.g. 10.1.0.0/16 (repeatable)")
    parser.add_argument("--region", default="us-east-1", help="AWS region (default: us-east-1)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    return parser


def gather(args: argparse.Namespace, ask: Callable[[str], str] | None) -> Answers:
    """Answers from the flags, asking for what is missing when `ask` is given (a terminal), else naming it."""
    # engine (postgres) and tables (every table of the schema) have defaults; these do not
    missing = [name for name in ("host", "database", "source_cidr") if getattr(args, name) in (None, [])]
    if missing and ask is None:
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in missing)
        raise InitError(f"not a terminal, so nothing can be asked: give {flags}")
    asked = ask or (lambda prompt: "")
    engine = args.engine or (_ask(asked, f"source engine ({', '.join(sorted(ENGINES))})", "postgres") if ask else "postgres")
    if engine not in ENGINES:
        raise InitError(f"engine {engine!r} is not supported; use one of {', '.join(sorted(ENGINES))}")
    version, port, _ = ENGINES[engine]
    host = args.host or _ask(asked, "source host (DNS name DMS connects to)", None)
    database = args.database or _ask(asked, "source database", None)
    tables = args.tables or _ask(
        asked,
        "tables to migrate (schema.table patterns, comma-separated)",
        "public.%" if engine == "postgres" else f"{database}.%",
    )
    cidrs = args.source_cidr or [_ask(asked, "the source's network (CIDR)", None)]
    answers = Answers(
        name=args.name or project_name_from(Path(args.dir)),
        engine=engine,
        engine_version=args.engine_version or version,
        host=host,
        port=args.port or port,
        database=database,
        tables=tuple(entry.strip() for entry in tables.split(",") if entry.strip()),
        source_cidrs=tuple(cidr for cidr in cidrs if cidr),
        region=args.region,
    )
    empty = [
        label
        for label, value in (
            ("host", host),
            ("database", database),
            ("tables", answers.tables),
            ("source CIDR", answers.source_cidrs),
        )
        if not value
    ]
    if empty:
        raise InitError(f"{', '.join(empty)} cannot be empty")
    return answers


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    stdin, out = stdin or sys.stdin, out or sys.stdout
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:
        return EXIT_OK if stop.code == 0 else EXIT_USAGE
    ask: Callable[[str], str] | None = None
    if stdin.isatty():

        def ask(prompt: str) -> str:
            out.write(prompt)
            out.flush()
            return stdin.readline()

    try:
        answers = gather(args, ask)
        written = write(answers, Path(args.dir), force=args.force)
    except InitError as error:
        print(f"./tap init: {error}", file=sys.stderr)
        return EXIT_REFUSED
    config = written[0]
    out.write(
        f"wrote {', '.join(map(str, written))}\n"
        f"next: TAP_CONFIG={config} ./tap synth   (validate and synthesize)\n"
        f"      TAP_CONFIG={config} ./tap up      (deploy to the emulator)\n"
        "      then fill the source secret, set how AWS reaches the source ([network]) and see docs/configuration.md\n"
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
