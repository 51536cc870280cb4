"""The SSM lock: one invocation at a time moves records and writes the state.

Taken with a create that fails when the parameter exists (``Overwrite=False``), holding a random
token, so a holder deletes only its own. A lock older than LOCK_TTL is reported as stale and never
broken automatically ('unlock --confirm' does that, in ``reconcile``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .notify import Alerts
from .ports import AwsError, ParameterStore
from .result import Result
from .settings import Settings


@dataclass(frozen=True)
class HeldLock:
    """The lock this invocation took: its exact stored value (with a random holder token) and when."""

    value: str
    acquired_at: datetime


class LockKeeper:
    def __init__(
        self, settings: Settings, params: ParameterStore, alerts: Alerts, clock: Callable[[], datetime], budget: float
    ) -> None:
        self._settings = settings
        self._params = params
        self._alerts = alerts
        self._clock = clock
        # Past this, a holder re-checks the lock before writing or deleting it: 'unlock' may treat a lock
        # older than LOCK_TTL as stale, and the CLI runs without Lambda's timeout to stop it first.
        self.budget = budget

    def take(self, purpose: str, now: datetime) -> HeldLock | Result:
        value = json.dumps({"holder": uuid.uuid4().hex, "purpose": purpose, "acquired_at": now.isoformat()})
        params = self._params
        try:
            acquired = params.acquire_lock(value)
        except AwsError as err:
            # The create may have landed with its answer lost: the lock's value says whose it is.
            try:
                info = params.read_lock()
            except AwsError as read_err:
                return Result(
                    "error",
                    f"could not take the lock ({err}) nor read it back ({read_err}); nothing changed. If this attempt "
                    "created it, it blocks later invocations until 'unlock --confirm' after LOCK_TTL",
                )
            if info is not None and info.value == value:
                return HeldLock(value, now)
            if info is None:
                return Result("error", f"could not take the lock; nothing changed: {err}")
            return self._busy(now)
        if not acquired:
            return self._busy(now)
        return HeldLock(value, now)

    def over_budget(self, lock: HeldLock) -> bool:
        """Held so long that 'unlock' might already treat the lock as stale (the budget is half of LOCK_TTL)."""
        return (self._clock() - lock.acquired_at).total_seconds() >= self.budget

    def still_ours(self, lock: HeldLock) -> bool | None:
        """Whether the stored lock is still this holder's; None when it cannot be read."""
        try:
            info = self._params.read_lock()
        except AwsError:
            return None
        return info is not None and info.value == lock.value

    def release(self, lock: HeldLock, result: Result) -> None:
        """Delete the lock only while it is this invocation's own.

        Within the budget nobody else can have removed it ('unlock' refuses locks younger than
        LOCK_TTL), so it is deleted directly; past the budget it is read first, so a slow holder never
        deletes a later holder's lock. SSM has no conditional delete, which leaves a window of one
        round trip between that read and the delete, and only past the budget.
        """
        params = self._params
        if self.over_budget(lock):
            ours = self.still_ours(lock)
            if ours is not True:
                why = "could not be read" if ours is None else "now belongs to another invocation or was removed"
                result.errors.append(f"the lock was held past its budget and {why}: left in place")
                return
        try:
            if not params.release_lock():
                result.errors.append("the lock had already been removed by someone else while this invocation held it")
        except AwsError as err:
            # The delete may have landed with its answer lost: only a lock still holding our value is ours.
            if self.still_ours(lock) is False:
                return
            problem = (
                f"lock NOT released: {err}. Later invocations report a conflict; after LOCK_TTL remove it with 'unlock --confirm'"
            )
            result.errors.append(problem)
            self._alerts.alert(result, "lock not released", problem, {"kind": "lock_not_released"})

    def _busy(self, now: datetime) -> Result:
        try:
            info = self._params.read_lock()
        except AwsError as err:
            return Result("error", f"the lock is held and could not be read; nothing changed: {err}")
        if info is None:
            return Result("conflict", "another invocation held the lock a moment ago; nothing changed, retry")
        age = info.age_seconds(now)
        lock = info.to_dict(now)
        purpose = lock.get("purpose", "unknown")
        if info.kept or age is None or age > self._settings.lock_ttl_seconds:
            held = f"{age:.0f}s" if age is not None else "an unknown time"
            message = (
                f"stale lock held for {held} (LOCK_TTL {self._settings.lock_ttl_seconds}s, purpose {purpose}"
                f"{', kept deliberately' if info.kept else ''}): an invocation died or stopped mid-transition and DNS "
                "may be ahead of the state. Nothing changed. Compare live weights with the state ('status') and "
                "remove the lock with 'unlock --confirm'"
            )
            result = Result("stale_lock", message, lock=lock)
            self._alerts.alert(result, "stale lock", message, {"kind": "stale_lock", "lock": lock})
            return result
        return Result("conflict", f"another invocation holds the lock ({purpose}, {age:.0f}s old); nothing changed", lock=lock)
