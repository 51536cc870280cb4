"""How the engine tells people: a JSON log line for every event, SNS for transitions and alerts.

A failed publish never undoes what was committed: it is added to the result's errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .decision import Notification, Transition
from .ports import AwsError, Notifier
from .result import Result

Emit = Callable[[Mapping[str, Any]], None]


class Alerts:
    def __init__(self, notifier: Notifier, emit: Emit) -> None:
        self._notifier = notifier
        self._emit = emit

    def announce(self, t: Transition, result: Result) -> None:
        self._emit({"event": "cutover_transition", **t.details()})
        try:
            self._notifier.publish(t.notification())
        except AwsError as err:
            problem = f"SNS publish failed after the transition was committed (it stays committed): {err}"
            result.errors.append(problem)
            self._emit({"event": "cutover_notification_failed", "version": t.state.version, "error": str(err)})

    def alert(self, result: Result, title: str, message: str, details: Mapping[str, Any]) -> None:
        self._emit({"event": "cutover_alert", "alert": title, "message": message, "details": dict(details)})
        subject = f"tap-migrate cutover ALERT: {title}"[:100]
        try:
            self._notifier.publish(
                Notification("alert", subject, f"ALERT: {message}\n\n{json.dumps(details, indent=2, default=str)}")
            )
        except AwsError as err:
            result.errors.append(f"SNS alert failed: {err}")
