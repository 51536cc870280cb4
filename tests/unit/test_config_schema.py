"""The pydantic schema of the TOML file (lib/config/schema.py), its committed JSON Schema and the README tables.

The schema is what editors check the TOML against, so it must accept every shipped config and agree
with the loader: a value outside a bound or an enum the schema declares is one the loader refuses too.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lib.config import PROJECT_ROOT, ConfigError, parse_config
from lib.config.schema import SCHEMA_FILE, Aurora, ConfigFile, Cutover, KinesisTarget, Source, main, readme_table

CONFIG_FILES = [PROJECT_ROOT / "config" / "tap-migrate.toml", *sorted((PROJECT_ROOT / "examples").glob("*/tap-migrate.toml"))]
BASE = PROJECT_ROOT / "config" / "tap-migrate.toml"
KINESIS_EXAMPLE = PROJECT_ROOT / "examples" / "003-postgres-kinesis-streaming-lake" / "tap-migrate.toml"
MYSQL_EXAMPLE = PROJECT_ROOT / "examples" / "001-vendor-mysql-to-aurora-mysql" / "tap-migrate.toml"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def test_the_committed_schema_and_the_readme_tables_are_fresh() -> None:
    assert main(["--check"]) == 0, "run: .venv/bin/python -m lib.config --write"


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.parent.name)
def test_every_shipped_config_validates_against_the_schema_and_names_it(path: Path) -> None:
    ConfigFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("#:schema "), f"{path}: the first line names the schema for editors (taplo)"
    assert (path.parent / first.removeprefix("#:schema ").strip()).resolve() == SCHEMA_FILE


def test_the_loader_validates_with_the_models_fields_and_defaults() -> None:
    sections = {field.alias or name for name, field in ConfigFile.model_fields.items()}
    assert sections == set(SCHEMA["properties"])
    assert Cutover.model_fields["latency_threshold_seconds"].default == 30
    assert Aurora.model_fields["reader_count"].default is None  # (profile)
    assert Source.model_fields["host"].is_required()
    assert KinesisTarget.model_fields["shard_count"].default == 1
    config = parse_config(tomllib.loads(BASE.read_text()), env={}, config_file=BASE)
    assert config.cutover is not None and config.cutover.latency_threshold_seconds == 30


def test_the_readme_table_lists_every_field_once() -> None:
    rows = [line.split("|")[1].strip().strip("`") for line in readme_table().splitlines()[2:]]
    assert len(rows) == len(set(rows))
    assert {"project.name", "sources.<key>.host", "targets.<key>.kind", "dms.tasks.<key>.source", "cutover.risk_accepted"} <= set(
        rows
    )


def test_an_unknown_field_is_refused_by_schema_and_loader() -> None:
    raw = tomllib.loads(BASE.read_text())
    raw["cutover"]["latency_treshold_seconds"] = 30
    with pytest.raises(ValueError, match="latency_treshold_seconds"):
        ConfigFile.model_validate(raw)
    with pytest.raises(ConfigError, match=r"cutover\.latency_treshold_seconds: unknown field"):
        parse_config(raw, env={}, config_file=BASE)


# --------------------------------------------------------------------------------------
# Every bound and enum the schema declares is one the loader enforces


def _definition(ref: str) -> dict[str, Any]:
    return SCHEMA["$defs"][ref.rsplit("/", 1)[1]]


def _constrained() -> Iterator[tuple[str, Path, tuple[str, ...], Any]]:
    """(id, config file, path of the field in the TOML, a value the schema refuses)."""
    places: list[tuple[Path, tuple[str, ...], str]] = [
        (BASE, (section,), spec["$ref"]) for section, spec in SCHEMA["properties"].items() if "$ref" in spec
    ]
    places += [
        (BASE, ("sources", "onprem"), "#/$defs/Source"),
        (BASE, ("dms", "tasks", "main"), "#/$defs/Task"),
        (KINESIS_EXAMPLE, ("targets", "stream"), "#/$defs/KinesisTarget"),
        (MYSQL_EXAMPLE, ("targets", "aurora"), "#/$defs/AuroraMysqlTarget"),
    ]
    for path, where, ref in places:
        for name, spec in _definition(ref)["properties"].items():
            options = [spec, *spec.get("anyOf", [])]
            for option in options:
                if "maximum" in option:
                    yield f"{'.'.join(where)}.{name}>max", path, (*where, name), option["maximum"] + 1
                if "minimum" in option:
                    yield f"{'.'.join(where)}.{name}<min", path, (*where, name), option["minimum"] - 1
            if "enum" in spec:
                yield f"{'.'.join(where)}.{name}-enum", path, (*where, name), "not-a-choice"


CONSTRAINED = list(_constrained())


@pytest.mark.parametrize(("case", "path", "field", "value"), CONSTRAINED, ids=[c[0] for c in CONSTRAINED])
def test_the_loader_refuses_what_the_schema_refuses(case: str, path: Path, field: tuple[str, ...], value: Any) -> None:
    raw = copy.deepcopy(tomllib.loads(path.read_text(encoding="utf-8")))
    table = raw
    for key in field[:-1]:
        table = table.setdefault(key, {})
    table[field[-1]] = value
    with pytest.raises(ValueError):
        ConfigFile.model_validate(raw)
    with pytest.raises(ConfigError) as raised:
        parse_config(raw, env={}, config_file=path)
    dotted = ".".join(field)
    assert any(dotted in problem for problem in raised.value.problems), (case, raised.value.problems)


def test_there_are_bounds_and_enums_to_check() -> None:
    assert len(CONSTRAINED) > 25


@pytest.mark.parametrize(
    ("section", "field", "value", "expected"),
    [
        ("project", "profile", "gold", "project.profile: 'gold' is not a profile; use one of ['dev', 'prod', 'staging']"),
        ("deployment", "target", "gcp", "deployment.target: 'gcp' must be 'aws' or 'emulator' (or set TAP_TARGET)"),
        ("sources", "engine", "oracle", "sources.onprem.engine: 'oracle' is not supported; use one of"),
    ],
)
def test_a_value_outside_its_enum_is_one_problem_in_its_fields_words(section: str, field: str, value: str, expected: str) -> None:
    """No follow-on problem: the whole-file checks judge the default, not the bad value in other words."""
    raw = tomllib.loads(BASE.read_text(encoding="utf-8"))
    table = raw["sources"]["onprem"] if section == "sources" else raw.setdefault(section, {})
    table[field] = value
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, {}, BASE)
    assert len(caught.value.problems) == 1, caught.value.problems
    assert caught.value.problems[0].startswith(expected)
