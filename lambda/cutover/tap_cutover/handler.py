"""Lambda entry point ``tap_cutover.handler.handler``: parse the event, build the engine once, run.

Accepted events:
  * EventBridge schedule: source ``aws.events``, detail-type ``Scheduled Event``  -> tick
  * EventBridge DMS event: source ``aws.dms`` (e.g. "DMS Replication Task State Change") naming the
    forward task (or replication config) or the reverse one in ``resources`` -> tick. A reverse failure
    after the fence is judged on that tick (the reverse gate), so the cutover pauses on the event.
  * direct operator invocation: {"action": ..., "confirm": bool, "writer": bool, "operator": str}
Anything else returns an error result and changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .log import emit_json
from .logic import Action, OperatorCommand, Tick
from .settings import Settings
from .state import OPERATOR_MAX

if TYPE_CHECKING:
    from .engine import Engine

_OPERATOR_KEYS = frozenset({"action", "confirm", "writer", "operator"})
# These actions change or may change what clients see; they must say so explicitly.
_CONFIRM_REQUIRED = frozenset({Action.ROLLBACK, Action.FENCE})


class _Cache:
    """Per-container engine: clients and settings are built on the first invocation only."""

    engine: Engine | None = None
    settings: Settings | None = None


class EventError(ValueError):
    """The event is not one this function accepts."""


class CutoverError(RuntimeError):
    """An AWS call failed: nothing changed (or the lock was kept); raised so Lambda counts an error."""


def parse_event(event: Any, replication_arn: str, reverse_arn: str | None = None) -> Tick | OperatorCommand:
    """The trigger an event asks for.

    ``replication_arn`` is the forward task or replication config this cutover watches, ``reverse_arn`` the
    reverse (Aurora -> source) one when the stack has it: a DMS event must name one of exactly these.
    """
    if not isinstance(event, Mapping):
        raise EventError(f"the event must be a JSON object, got {type(event).__name__}")
    if "action" in event:
        return _parse_operator(event)
    source = event.get("source")
    detail_type = event.get("detail-type")
    if source == "aws.events":
        if detail_type != "Scheduled Event":
            raise EventError(f"aws.events event with detail-type {detail_type!r}; expected 'Scheduled Event'")
        return Tick("schedule", str(event.get("time", "")))
    if source == "aws.dms":
        return _parse_dms(event, replication_arn, reverse_arn)
    if source is None:
        raise EventError("unrecognised event: expected an EventBridge event ('source') or an operator 'action'")
    raise EventError(f"unknown event source {source!r}; expected 'aws.events' or 'aws.dms'")


def _parse_dms(event: Mapping[str, Any], replication_arn: str, reverse_arn: str | None) -> Tick:
    detail_type = event.get("detail-type")
    detail = event.get("detail")
    if not isinstance(detail_type, str) or not detail_type.startswith("DMS "):
        raise EventError(f"aws.dms event with detail-type {detail_type!r}; expected a DMS state-change event")
    if not isinstance(detail, Mapping):
        raise EventError("aws.dms event without a 'detail' object")
    # The EventBridge rule filters on the ARNs already; a second check here costs nothing and keeps
    # another task's events (a misconfigured rule, a hand-sent event) from ticking this cutover.
    resources = event.get("resources")
    named = [arn for arn in resources if isinstance(arn, str)] if isinstance(resources, list) else []
    watched = {replication_arn: "", **({reverse_arn: "reverse replication "} if reverse_arn is not None else {})}
    which = next((watched[arn] for arn in named if arn in watched), None)
    if which is None:
        accepted = f"the replication {replication_arn}" + (f" and the reverse replication {reverse_arn}" if reverse_arn else "")
        raise EventError(f"aws.dms event for {resources!r}, not for this cutover's replication: it accepts {accepted} only")
    what = " ".join(str(detail.get(k, "")) for k in ("eventType", "detailMessage")).strip()
    return Tick("dms_event", f"{which}{detail_type}: {what}" if what else f"{which}{detail_type}")


def _parse_operator(event: Mapping[str, Any]) -> OperatorCommand:
    unknown = sorted(set(event) - _OPERATOR_KEYS)
    if unknown:
        raise EventError(f"unknown field(s) in operator event: {', '.join(map(str, unknown))}")
    raw_action = event["action"]
    try:
        action = Action(raw_action)
    except ValueError:
        allowed = ", ".join(a.value for a in Action)
        raise EventError(f"unknown action {raw_action!r}; expected one of {allowed}") from None
    for flag in ("confirm", "writer"):
        if flag in event and not isinstance(event[flag], bool):
            raise EventError(f"{flag!r} must be true or false, got {event[flag]!r}")
    if action in _CONFIRM_REQUIRED and "confirm" not in event:
        raise EventError(f'action {action.value!r} requires "confirm": true')
    operator = event.get("operator")
    if operator is None and action is Action.STATUS:
        operator = "status"
    if not isinstance(operator, str) or not operator.strip() or len(operator) > OPERATOR_MAX:
        raise EventError(f"'operator' must be a non-empty string of at most {OPERATOR_MAX} characters (who is acting)")
    return OperatorCommand(
        action=action,
        operator=operator.strip(),
        confirm=bool(event.get("confirm", False)),
        writer=bool(event.get("writer", False)),
    )


def get_engine() -> Engine:
    """Build settings, clients and adapters on the first invocation of this container only."""
    if _Cache.engine is None:
        # Deferred so that importing the handler does not pay for boto3.
        from .aws import build_adapters  # noqa: PLC0415
        from .engine import Engine  # noqa: PLC0415

        settings = get_settings()
        _Cache.engine = Engine(settings, build_adapters(settings))
    return _Cache.engine


def get_settings() -> Settings:
    """The settings, read from the environment once (cheap: no boto3), or the installed engine's."""
    if _Cache.engine is not None:
        return _Cache.engine.settings
    if _Cache.settings is None:
        _Cache.settings = Settings.from_env(os.environ)
    return _Cache.settings


def set_engine(engine: Engine | None) -> None:
    """Install a prepared engine (tests with an injected clock); None rebuilds from the environment."""
    _Cache.engine = engine
    _Cache.settings = None


def handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        settings = get_settings()
        trigger = parse_event(event, settings.dms_replication_arn, settings.dms_reverse_replication_arn)
    except EventError as err:
        emit_json({"event": "cutover_invalid_event", "error": str(err)})
        return {"ok": False, "status": "rejected", "message": f"invalid event; nothing changed: {err}"}
    result = get_engine().run(trigger)
    if result.status == "error":
        raise CutoverError(result.message)
    return result.to_dict()
