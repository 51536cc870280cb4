"""The (profile) defaults, applied to the raw TOML tables before validation.

A field whose default depends on `project.profile` is declared in schema.py with `_profile(...)`; its
value per profile is a `lib.defaults.Profile` attribute, and `PROFILE_FIELDS` says which attribute
fills which field. The file wins: only fields the file leaves out are filled.
"""

from __future__ import annotations

from typing import Any, Final

from lib.defaults import AURORA_DEFAULT_VERSIONS, AURORA_TARGET_ENGINES, PROFILES, Profile

# (section, field) -> the Profile attribute that is its default.
PROFILE_FIELDS: Final = {
    ("aurora", "min_acu"): "aurora_min_acu",
    ("aurora", "max_acu"): "aurora_max_acu",
    ("aurora", "reader_count"): "aurora_reader_count",
    ("aurora", "deletion_protection"): "deletion_protection",
    ("aurora", "backup_retention_days"): "backup_retention_days",
    ("network", "nat_gateways"): "nat_gateways",
    ("dms", "instance_class"): "dms_instance_class",
    ("dms", "multi_az"): "dms_multi_az",
    ("dms", "log_retention_days"): "log_retention_days",
    ("dms", "max_capacity_units"): "dms_serverless_max_dcu",
    ("observability", "cdc_latency_alarm_seconds"): "cdc_latency_alarm_seconds",
    ("backup", "daily_retention_days"): "backup_daily_retention_days",
    ("backup", "monthly_retention_days"): "backup_monthly_retention_days",
}
# Fields of every [targets.<key>] of a kind -> the Profile attribute.
TARGET_PROFILE_FIELDS: Final = {("kinesis", "stream_mode"): "kinesis_stream_mode"}


def profile_of(raw: Any) -> Profile:
    """The profile the raw file names (an unknown one is reported by validation; dev fills meanwhile)."""
    project = raw.get("project") if isinstance(raw, dict) else None
    name = project.get("profile") if isinstance(project, dict) else None
    return PROFILES.get(name if isinstance(name, str) else "dev", PROFILES["dev"])


def with_defaults(raw: Any) -> Any:
    """A copy of the raw file with the profile's defaults, a task's only source/target and Aurora's default
    version filled in.

    Anything of the wrong shape is left alone for validation to report.
    """
    if not isinstance(raw, dict):
        return raw
    profile = profile_of(raw)
    filled = dict(raw)
    for (section, field), attribute in PROFILE_FIELDS.items():
        table = filled.setdefault(section, {})
        if isinstance(table, dict) and field not in table:
            filled[section] = {**table, field: getattr(profile, attribute)}
    targets = filled.get("targets")
    if isinstance(targets, dict):
        filled["targets"] = {key: _target_defaults(body, profile) for key, body in targets.items()}
    _only_source_and_target(filled)
    _aurora_version(filled)
    return filled


def _aurora_version(filled: dict[str, Any]) -> None:
    """An empty aurora.engine_version is the default version of the Aurora target's engine."""
    aurora, targets = filled.get("aurora"), filled.get("targets")
    if not isinstance(aurora, dict) or not isinstance(targets, dict) or aurora.get("engine_version"):
        return
    kinds = [str(body.get("kind")) for body in targets.values() if isinstance(body, dict)]
    engine = next((AURORA_TARGET_ENGINES[kind] for kind in kinds if kind in AURORA_TARGET_ENGINES), None)
    if engine is not None:
        filled["aurora"] = {**aurora, "engine_version": AURORA_DEFAULT_VERSIONS[engine]}


def _target_defaults(body: Any, profile: Profile) -> Any:
    if not isinstance(body, dict):
        return body
    filled = dict(body)
    for (kind, field), attribute in TARGET_PROFILE_FIELDS.items():
        if filled.get("kind") == kind and field not in filled:
            filled[field] = getattr(profile, attribute)
    return filled


def _only_source_and_target(filled: dict[str, Any]) -> None:
    """A task may leave out its source (target) while the file has exactly one."""
    dms = filled.get("dms")
    tasks = dms.get("tasks") if isinstance(dms, dict) else None
    if not isinstance(dms, dict) or not isinstance(tasks, dict):
        return
    only: dict[str, str] = {}
    for field, section in (("source", "sources"), ("target", "targets")):
        choices = filled.get(section)
        if isinstance(choices, dict) and len(choices) == 1:
            only[field] = str(next(iter(choices)))
    tasks = {
        key: {**body, **{field: value for field, value in only.items() if not body.get(field)}}
        if isinstance(body, dict)
        else body
        for key, body in tasks.items()
    }
    filled["dms"] = {**dms, "tasks": tasks}
