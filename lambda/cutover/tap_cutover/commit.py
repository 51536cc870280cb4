"""Applying a transition: the Route 53 change, then the state write, so that both move or neither does.

A failed write is resolved by reading what is live, never assumed: a Route 53 change whose answer
was lost is committed if it applied; a failed state write reverts the DNS change; when the outcome
cannot be told, the lock is kept (marked) and an alert sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from .decision import Transition
from .lock import HeldLock, LockKeeper
from .notify import Alerts
from .ports import Adapters, AwsError
from .reconcile import pair_matches
from .result import Outcome, Result
from .state import State, StateError


def _status(t: Transition) -> Literal["changed", "rejected"]:
    """A stored refusal (a refused start voiding its preflight) is still a refusal for the caller."""
    return "rejected" if t.refused else "changed"


class Committer:
    def __init__(self, adapters: Adapters, locks: LockKeeper, alerts: Alerts, clock: Callable[[], datetime]) -> None:
        self._adapters = adapters
        self._locks = locks
        self._alerts = alerts
        self._clock = clock

    def _records_now(self, t: Transition) -> Literal["after", "before", "unknown"]:
        """Which side of the transition live Route 53 is on, after a change whose outcome was not reported."""
        try:
            live = self._adapters.records.read()
        except AwsError:
            return "unknown"
        after = all(pair_matches(want, live.get(want.pair))[0] for want in t.changes)
        before = all(pair_matches(want, live.get(want.pair))[0] for want in t.revert)
        return "after" if after else "before" if before else "unknown"

    def commit(self, t: Transition, lock: HeldLock) -> Outcome:
        a = self._adapters
        notes: list[str] = []
        if t.changes:
            if self._locks.over_budget(lock):
                return Outcome(
                    Result(
                        "error",
                        f"nothing changed: the lock was held past its budget ({self._locks.budget:.0f}s, half of LOCK_TTL) "
                        "before the Route 53 change; retry",
                        state=t.previous,
                    )
                )
            try:
                a.records.apply(t.changes)
            except AwsError as err:
                # A timeout or a lost answer does not mean the change did not apply: look at what is live.
                side = self._records_now(t)
                if side == "before":
                    return Outcome(
                        Result(
                            "error",
                            f"Route 53 change failed and the live records confirm nothing changed: {err}",
                            state=t.previous,
                            gates=t.gates,
                        )
                    )
                if side == "unknown":
                    return self._keep_lock(
                        t,
                        f"the Route 53 change reported an error ({err}) and the live records could not be matched to "
                        "either side of the transition: DNS may be ahead of the state",
                    )
                notes.append(f"Route 53 reported an error ({err}) but the live records show the change applied")
            if self._locks.over_budget(lock) and self._locks.still_ours(lock) is not True:
                return self._lock_lost(t, notes)
        new_text = t.state.to_json()
        try:
            a.params.write_state(new_text)
        except AwsError as err:
            outcome = self._write_failed(t, new_text, err)
            outcome.result.errors[:0] = notes
            return outcome
        return Outcome(Result(_status(t), t.reason, [t.reason], t.state, t.gates, [t], errors=notes))

    def _lock_lost(self, t: Transition, notes: list[str]) -> Outcome:
        """DNS moved, but past the budget the lock no longer proves this invocation may write the state."""
        message = (
            f"Route 53 was changed for '{t.event}' but the lock was held past its budget and is no longer this "
            "invocation's: the state was NOT written, so DNS is ahead of the state. Ticks will pause on the "
            "difference; compare with 'status' and reconcile (docs/cutover.md)"
        )
        result = Result("error", message, state=t.previous, errors=list(notes))
        self._alerts.alert(result, "DNS ahead of state (lock lost)", message, {"kind": "lock_lost", "transition": t.details()})
        return Outcome(result, keep_lock=True)

    def _write_failed(self, t: Transition, new_text: str, err: AwsError) -> Outcome:
        a = self._adapters
        # A timed-out write may still have landed: look before reverting DNS.
        stored: str | None
        try:
            stored = a.params.read_state()
            problem = ""
        except AwsError as read_err:
            stored, problem = None, str(read_err)
        if stored == new_text:
            result = Result(_status(t), t.reason, [t.reason], t.state, t.gates, [t])
            result.errors.append(f"the state write reported an error ({err}) but the new state is stored")
            return Outcome(result)
        try:
            stored_version = State.parse(stored).version if stored is not None else None
        except StateError as parse_err:
            stored_version, problem = None, str(parse_err)
        if stored_version == t.previous.version:
            if t.changes:
                try:
                    a.records.apply(t.revert)
                except AwsError as revert_err:
                    # The revert too may have applied with its answer lost.
                    if self._records_now(t) != "before":
                        return self._keep_lock(
                            t,
                            f"state write failed ({err}) and reverting Route 53 failed ({revert_err}): DNS is AHEAD of the state",
                        )
            return Outcome(
                Result("error", f"state write failed; Route 53 left as before; nothing changed: {err}", state=t.previous)
            )
        if not t.changes:
            # DNS agrees with either version, so nothing needs holding off; but the transition may
            # have been stored without its notification: say so loudly.
            message = (
                f"state write failed ({err}) and the stored state could not be confirmed ({problem}); DNS unchanged. "
                f"The transition to version {t.state.version} may or may not be stored: check 'status'"
            )
            result = Result("error", message)
            self._alerts.alert(
                result, "state write outcome unknown", message, {"kind": "state_unknown", "transition": t.details()}
            )
            return Outcome(result)
        return self._keep_lock(
            t,
            f"state write failed ({err}) and the stored state could not be confirmed ({problem}): DNS may be ahead of the state",
        )

    def _keep_lock(self, t: Transition, problem: str) -> Outcome:
        """DNS may be ahead of the state: hold every later invocation off until an operator looks."""
        now = self._clock()
        value = json.dumps(
            {
                "kept": True,
                "reason": problem[:1000],
                "acquired_at": now.isoformat(),
                "state_version": t.previous.version,
                "intended_version": t.state.version,
                "intended_changes": [c.to_dict() for c in t.changes],
            }
        )
        message = f"{problem}. The lock is kept; compare with 'status' and clear with 'unlock --confirm'"
        result = Result("error", message, state=t.previous)
        try:
            self._adapters.params.overwrite_lock(value)
        except AwsError as err:
            result.errors.append(f"could not mark the lock as kept ({err}); it expires for 'unlock' after LOCK_TTL")
        self._alerts.alert(result, "DNS may be ahead of state", message, {"kind": "lock_kept", "transition": t.details()})
        return Outcome(result, keep_lock=True)
