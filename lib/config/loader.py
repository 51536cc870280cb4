"""Finding, reading and validating the TOML file a user edits.

`load_config` picks the file (argument, TAP_CONFIG, cdktf.json context, default), parses the TOML,
applies the environment overrides and validates the whole tree against `AppConfig` in one pass
*before* any construct is built. Every problem is reported at once in one `ConfigError`: pydantic's
errors become `<toml.path>: <bad value and fix>` lines, and a value that came from the environment
is reported under its variable's name.
"""

from __future__ import annotations

import copy
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from lib import defaults
from lib.config import rule_context, rules
from lib.config.schema import TARGET_MODELS, AppConfig
from lib.constants import DEFAULT_CONFIG_FILE

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def state_file(target: str, prefix: str) -> Path:
    """Local state, one file per target and prefix: an emulator deploy never touches a real account's state.

    Here, not beside the backend construct, so that the deploy tool finds it without loading the provider's
    bindings (about 20 s of jsii on a loaded machine, silent before the first line of `./tap up`).
    """
    return PROJECT_ROOT / ".state" / f"{target}-{prefix}.tfstate"


ENV_OVERRIDES: Mapping[str, tuple[str, str]] = {
    # environment variable -> (section, field); every one is a string field
    "ENVIRONMENT_SUFFIX": ("project", "environment_suffix"),
    "TAP_PROFILE": ("project", "profile"),
    "AWS_REGION": ("project", "region"),
    "TAP_TARGET": ("deployment", "target"),
    "TAP_EMULATOR_ENDPOINT": ("deployment", "emulator_endpoint"),
    "TAP_STATE_BACKEND": ("state", "backend"),
    "TAP_STATE_BUCKET": ("state", "bucket"),
    "TAP_STATE_KEY": ("state", "key"),
    "TAP_STATE_REGION": ("state", "region"),
    "TAP_STATE_KMS_KEY_ID": ("state", "kms_key_id"),
}

TYPE_NAMES = {
    "tuple_type": "a list",
    "int_type": "int",
    "string_type": "str",
    "bool_type": "bool",
    "float_type": "float",
    "list_type": "list",
    "dict_type": "table",
}
TABLE_ERRORS = frozenset({"model_type", "model_attributes_type"})
BOUND_ERRORS = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than"})


class ConfigError(ValueError):
    """Raised with every validation problem found, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid tap-migrate configuration ({len(problems)} problem(s)):\n{lines}")


def resolve_config_path(explicit: str | None, env: Mapping[str, str], context_value: str | None) -> Path:
    """Explicit argument, then TAP_CONFIG, then the cdktf.json context, then the default."""
    chosen = explicit or env.get("TAP_CONFIG") or context_value or DEFAULT_CONFIG_FILE
    path = Path(chosen)
    return path if path.is_absolute() else PROJECT_ROOT / path


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    context_value: str | None = None,
) -> AppConfig:
    """Read, override and validate; raise ConfigError listing every problem."""
    env = os.environ if env is None else env
    config_path = resolve_config_path(str(path) if path else None, env, context_value)
    if not config_path.is_file():
        raise ConfigError(
            [
                f"config file: {config_path} does not exist; set TAP_CONFIG or pass a path to an existing TOML file "
                f"(an annotated example is {DEFAULT_CONFIG_FILE})"
            ]
        )
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [f"config file: {config_path} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"config file: {config_path} is not valid TOML ({exc}); fix the syntax"]) from exc
    return parse_config(raw, env=env, config_file=config_path)


def parse_config(raw: Mapping[str, Any], env: Mapping[str, str], config_file: Path) -> AppConfig:
    """Validate parsed TOML; the files its fields name are read relative to `config_file`'s folder."""
    overridden, variables = _with_env_overrides(raw, env)
    problems = rules.check_file(raw)
    files = ConfigFiles(config_file.parent)
    try:
        config = AppConfig.model_validate(overridden, context=rule_context.Context(files=files))
    except ValidationError as exc:
        problems += problems_of(exc) + _whole_file_problems(overridden, exc, files)
    if problems:
        raise ConfigError(list(dict.fromkeys(_name_variable(problem, variables) for problem in problems)))
    return config


# Field errors a second pass can step around: without the field, its default stands in.
REPAIRABLE_ERRORS = frozenset(TYPE_NAMES) | BOUND_ERRORS | {"extra_forbidden", "string_pattern_mismatch", "literal_error"}


def _whole_file_problems(raw: dict[str, Any], error: ValidationError, files: ConfigFiles) -> list[str]:
    """The whole-file checks (task references, the cutover's pair, …) run only once every field validated.
    So that a file's problems are still reported at once, validate again with the bad fields left out
    (their defaults stand in, as the zero values of the old reader did) and only the whole-file checks
    raising. Not when a required field, a table or a target's kind is missing: the checks would then
    report its absence again in other words."""
    repaired = copy.deepcopy(raw)
    for detail in error.errors(include_url=False):
        cause = detail.get("ctx", {}).get("error")
        if isinstance(cause, rule_context.RulesError):
            # A section's own checks: reported already, and skipped in the second pass; a value outside its
            # enum is left out there, so the whole-file checks judge the default, not the bad value again.
            for name in cause.out_of_enum:
                _drop(repaired, [*_locate(detail["loc"]).keys, name])
            continue
        if detail["type"] not in REPAIRABLE_ERRORS:
            return []
        _drop(repaired, _locate(detail["loc"]).keys)
    try:
        AppConfig.model_validate(repaired, context=rule_context.Context(files=files, whole_file_only=True))
    except ValidationError as second:
        return problems_of(second)
    return []


def _drop(raw: dict[str, Any], keys: list[str]) -> None:
    """Remove the value at `keys` (a whole list for an error on one of its items)."""
    table: Any = raw
    for key in keys[:-1]:
        table = table.get(key) if isinstance(table, dict) else None
    if isinstance(table, dict):
        table.pop(keys[-1], None)


class ConfigFiles:
    """The files fields name (CA certificate, table mappings, task settings): relative to the config file's
    folder, else to the project root."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir

    def text(self, relative: str) -> str:
        path = Path(relative)
        path = path if path.is_absolute() else self.base_dir / path
        if not path.is_file():
            path = PROJECT_ROOT / relative
        if not path.is_file():
            raise rule_context.FileReadError(f"file {relative!r} not found (relative to the config file or the project root)")
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise rule_context.FileReadError(
                f"{relative!r} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"
            ) from None


def _with_env_overrides(raw: Mapping[str, Any], env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The raw tables with the environment's values in place, and which variable set which field."""
    overridden = dict(raw)
    variables: dict[str, str] = {}  # "project.profile" -> "TAP_PROFILE"
    for variable, (section, key) in ENV_OVERRIDES.items():
        value = env.get(variable)
        table = overridden.get(section, {})
        if value and isinstance(table, dict):
            overridden[section] = {**table, key: value}
            variables[f"{section}.{key}"] = variable
    return overridden, variables


def _name_variable(problem: str, variables: Mapping[str, str]) -> str:
    """A problem with a value that came from the environment names the variable, not only the field."""
    field, sep, rest = problem.partition(": ")
    variable = variables.get(field)
    if not sep or variable is None:
        return problem
    return f"{variable} (environment, overrides {field}): {rest}; fix or unset {variable}"


# --------------------------------------------------------------------------------------
# pydantic's errors in the project's words


def problems_of(error: ValidationError) -> list[str]:
    """One line per problem, each `<toml.path>: <what is wrong and the fix>`."""
    problems: list[str] = []
    for detail in error.errors(include_url=False):
        problems += _problems_of_detail(detail)
    return list(dict.fromkeys(problems))


def _problems_of_detail(detail: ErrorDetails) -> list[str]:
    location = _locate(detail["loc"])
    where, owner, name = location.path, location.owner, location.name
    ctx = detail.get("ctx", {})
    cause = ctx.get("error")
    if isinstance(cause, rule_context.RulesError):
        return [f"{_join(where, sub)}: {text.replace(rule_context.HERE, where)}" for sub, text in cause.problems]
    kind, value = detail["type"], detail.get("input")
    if kind == "extra_forbidden":
        line = _unknown_field(where, owner, name)
    elif kind == "missing":
        line = f"{where}: required; set it in the [{where.rpartition('.')[0]}] table"
    elif kind in TYPE_NAMES:
        line = f"{where}: expected {TYPE_NAMES[kind]}, got {value!r}"
    elif kind in TABLE_ERRORS:
        line = f"{where}: must be a table, got {value!r}"
    elif kind in BOUND_ERRORS:
        line = f"{where}: {value!r} must be {_bounds(owner, name)}"
    elif kind == "string_pattern_mismatch":
        line = f"{where}: {value!r} must match {ctx.get('pattern')!r}"
    elif kind == "literal_error":
        line = f"{where}: {value!r} must be one of {ctx.get('expected')}"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        kind_given = value.get("kind") if isinstance(value, dict) else None  # pydantic's ctx has it as text
        line = f"{where}.kind: {kind_given!r} must be one of {list(defaults.TARGET_KINDS)}"
    else:
        line = f"{where}: {detail['msg']} (got {value!r})"
    return [line]


def _join(where: str, sub: str) -> str:
    return f"{where}.{sub}" if where and sub else where or sub


def _unknown_field(where: str, owner: type[BaseModel] | None, name: str | None) -> str:
    allowed = sorted(field.alias or field_name for field_name, field in owner.model_fields.items()) if owner else []
    if owner is AppConfig:
        if name == "source":
            return (
                "[source]: sources are a map now; rename the table to [sources.<key>] (e.g. [sources.onprem]) and add "
                "engine_version as a string"
            )
        return f"[{name}]: unknown section; use one of {allowed}"
    return f"{where}: unknown field; allowed fields are {allowed}"


def _bounds(owner: type[BaseModel] | None, name: str | None) -> str:
    """`1..60`, `>= 1` or `<= 840`: the field's bounds as declared on the model."""
    field = owner.model_fields.get(name) if owner and name else None
    low = high = why = None
    for constraint in field.metadata if field else []:
        low = getattr(constraint, "ge", low)
        high = getattr(constraint, "le", high)
        why = constraint.text if isinstance(constraint, rule_context.Why) else why
    bounds = f"{low}..{high}" if low is not None and high is not None else f">= {low}" if low is not None else f"<= {high}"
    return f"{bounds} ({why})" if why else bounds


@dataclass(frozen=True)
class Location:
    path: str  # dotted TOML path, e.g. sources.onprem.cidr_blocks[0]
    keys: list[str]  # the TOML keys down to the field (list indexes and a target's kind left out)
    owner: type[BaseModel] | None  # the model holding the last field
    name: str | None  # that field's name


def _locate(loc: tuple[int | str, ...]) -> Location:
    """Where a pydantic error location is in the TOML file.

    A discriminated union puts the target's kind into the location (targets.<key>.<kind>.<field>): it is
    not part of the TOML path.
    """
    path = ""
    keys: list[str] = []
    model: type[BaseModel] | None = AppConfig
    owner: type[BaseModel] | None = None
    name: str | None = None
    map_values: Any = None  # the value type of the map whose key comes next
    kind_next = False
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif kind_next:
            kind_next, model = False, TARGET_MODELS.get(part)
        elif map_values is not None:
            path = _join(path, part)
            keys.append(part)
            model = _model_or_none(map_values)
            # Neither a model nor a plain value (project.tags): the targets' union of kinds.
            kind_next = model is None and typing.get_origin(map_values) is not None
            map_values = None
        else:
            path = _join(path, part)
            keys.append(part)
            owner, name, model, map_values = _step(model, part)
    return Location(path, keys, owner, name)


def _step(model: type[BaseModel] | None, part: str) -> tuple[type[BaseModel] | None, str, type[BaseModel] | None, Any]:
    """(owner, field name, the field's model if it is a table, the value type if it is a map) of one part."""
    if model is None:
        return None, part, None, None
    fields = {field.alias or field_name: (field_name, field) for field_name, field in model.model_fields.items()}
    if part not in fields:
        return model, part, None, None
    name, field = fields[part]
    annotation = field.annotation
    if typing.get_origin(annotation) is dict:
        return model, name, None, typing.get_args(annotation)[1]
    return model, name, _model_or_none(annotation), None


def _model_or_none(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
