"""Live DNS against the stored state: the comparison every invocation makes, and 'unlock' that reconciles.

A difference is never "corrected" by a tick (it pauses, see ``logic.decide_dns_mismatch``); only an
operator's 'unlock --confirm --sync-dns' sets the records back to the state, and never the writer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from .decision import PairChange, desired_records
from .lock import LockKeeper
from .notify import Alerts
from .ports import AURORA_SET_ID, SOURCE_SET_ID, Adapters, AwsError, LivePair, LockInfo
from .result import Result, Status
from .settings import Settings
from .state import State, StateError


def pair_matches(want: PairChange, live: LivePair | None) -> tuple[bool, str]:
    expected = f"source {100 - want.aurora_weight} / aurora {want.aurora_weight}, ttl {want.ttl}"
    src = live.records.get(SOURCE_SET_ID) if live else None
    aur = live.records.get(AURORA_SET_ID) if live else None
    if src is None or aur is None:
        return False, f"{want.pair}: MISMATCH: record(s) missing in Route 53; state expects {expected}"
    same = src.weight == 100 - want.aurora_weight and aur.weight == want.aurora_weight and src.ttl == aur.ttl == want.ttl
    actual = f"source {src.weight} / aurora {aur.weight}, ttl {src.ttl}/{aur.ttl}"
    return same, f"{want.pair}: {'match' if same else 'MISMATCH'}: live {actual}; state expects {expected}"


def compare_live(settings: Settings, state: State, live: Mapping[str, LivePair]) -> list[str]:
    """Human lines comparing live Route 53 weights/TTL with what the state says they should be."""
    return [pair_matches(want, live.get(pair))[1] for pair, want in desired_records(settings, state).items()]


def live_differences(settings: Settings, state: State, live: Mapping[str, LivePair]) -> tuple[str, ...]:
    """The lines of ``compare_live`` that are mismatches (empty: live DNS is what the state says)."""
    checks = (pair_matches(want, live.get(want.pair)) for want in desired_records(settings, state).values())
    return tuple(text for same, text in checks if not same)


class Reconciler:
    """'unlock --confirm [--sync-dns]': remove a stale or kept lock, optionally setting Route 53 back to the state."""

    def __init__(
        self, settings: Settings, adapters: Adapters, locks: LockKeeper, alerts: Alerts, clock: Callable[[], datetime]
    ) -> None:
        self._settings = settings
        self._adapters = adapters
        self._locks = locks
        self._alerts = alerts
        self._clock = clock

    def unlock(self, *, confirm: bool, operator: str, sync_dns: bool = False) -> Result:
        """Remove a stale or deliberately kept lock after showing live weights against the state.

        With ``sync_dns`` the records are first set back to what the state says, but never when that
        would move the writer: a writer mismatch needs the manual procedure in docs/cutover.md. With
        no lock held, ``sync_dns`` takes the lock itself to reconcile a difference a tick reported.
        """
        if not confirm:
            return Result("rejected", "unlock requires confirm: check the live weights against the state first")
        now = self._clock()
        info = self._lock_to_remove(now)
        if info is None:
            if not sync_dns:
                return Result("no_change", "no lock is held")
            return self._sync_unlocked(operator, now)
        if isinstance(info, Result):
            return info
        return self._unlock_held(info, operator, sync_dns, now)

    def _unlock_held(self, info: LockInfo, operator: str, sync_dns: bool, now: datetime) -> Result:
        a = self._adapters
        lock = info.to_dict(now)
        try:
            state = State.parse(a.params.read_state())
            live = a.records.read()
        except (AwsError, StateError) as err:
            return Result("error", f"lock kept: cannot compare live weights with the state: {err}", lock=lock)
        comparison = compare_live(self._settings, state, live)
        stale = self._stale_pairs(state, live)
        synced = ""
        if stale and sync_dns:
            problem = self._sync_dns(state, live, stale)
            if problem is not None:
                return Result(problem[0], f"lock kept: {problem[1]}", comparison, state, live=live, lock=lock)
            synced, stale = "; Route 53 restored to the state", []
        try:
            a.params.release_lock()
        except AwsError as err:
            return Result("error", f"could not remove the lock: {err}", comparison, state, live=live, lock=lock)
        message = f"lock removed by {operator}{synced}" + (
            "; live Route 53 differs from the state: reconcile before the next transition (docs/cutover.md)"
            if stale
            else "; Route 53 matches the state"
        )
        details = {"kind": "unlock", "operator": operator, "lock": lock, "comparison": comparison, "synced": bool(synced)}
        result = Result("changed", message, comparison, state, live=live, lock=lock)
        self._alerts.alert(result, "lock removed", message, details)
        return result

    def _sync_unlocked(self, operator: str, now: datetime) -> Result:
        """No lock is held, but a tick reported live DNS differing from the state: reconcile under a fresh lock."""
        lock = self._locks.take("unlock --sync-dns", now)
        if isinstance(lock, Result):
            return lock
        a = self._adapters
        result: Result
        try:
            state = State.parse(a.params.read_state())
            live = a.records.read()
        except (AwsError, StateError) as err:
            result = Result("error", f"cannot compare live weights with the state; nothing changed: {err}")
        else:
            comparison = compare_live(self._settings, state, live)
            stale = self._stale_pairs(state, live)
            problem = self._sync_dns(state, live, stale) if stale else None
            if not stale:
                result = Result("no_change", "no lock is held and Route 53 matches the state", comparison, state, live=live)
            elif problem is not None:
                result = Result(problem[0], problem[1], comparison, state, live=live)
            else:
                message = f"Route 53 restored to the state by {operator}"
                result = Result("changed", message, comparison, state, live=live)
                details = {"kind": "sync_dns", "operator": operator, "comparison": comparison}
                self._alerts.alert(result, "Route 53 restored to the state", message, details)
        self._locks.release(lock, result)
        return result

    def _stale_pairs(self, state: State, live: Mapping[str, LivePair]) -> list[PairChange]:
        wanted = desired_records(self._settings, state)
        return [want for pair, want in wanted.items() if not pair_matches(want, live.get(pair))[0]]

    def _sync_dns(self, state: State, live: Mapping[str, LivePair], stale: list[PairChange]) -> tuple[Status, str] | None:
        live_writer = live["writer"].records.get(AURORA_SET_ID) if "writer" in live else None
        if live_writer is None or live_writer.weight != state.weights.writer:
            return (
                "rejected",
                "--sync-dns would move the writer; follow the writer-mismatch procedure in docs/cutover.md",
            )
        try:
            self._adapters.records.apply(stale)
        except AwsError as err:
            # The change may have applied with its answer lost: the next 'status' shows what is live.
            return "error", f"could not restore Route 53 (check 'status'; it may have applied): {err}"
        return None

    def _lock_to_remove(self, now: datetime) -> LockInfo | Result | None:
        try:
            info = self._adapters.params.read_lock()
        except AwsError as err:
            return Result("error", f"could not read the lock: {err}")
        if info is None:
            return None
        age = info.age_seconds(now)
        if not info.kept and age is not None and age <= self._settings.lock_ttl_seconds:
            return Result(
                "rejected",
                f"the lock is only {age:.0f}s old (LOCK_TTL {self._settings.lock_ttl_seconds}s): a running invocation "
                "may hold it; retry once it is older",
                lock=info.to_dict(now),
            )
        return info
