"""The engine: the only place that talks to AWS on behalf of the pure logic.

It observes the gates, takes the SSM lock, reads the state and the live records, asks
``logic.decide`` what to do and applies the answer so that Route 53 and the stored state move
together or not at all. It reaches AWS through the ports (``ports.Adapters``) only.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from .log import emit_json
from .logic import (
    Action,
    GateReport,
    NoChange,
    Notification,
    Observation,
    OperatorCommand,
    PairChange,
    Transition,
    Trigger,
    decide,
    decide_dns_mismatch,
    desired_records,
    evaluate_gates,
    needs_observation,
    trigger_label,
)
from .ports import (
    AURORA_SET_ID,
    SOURCE_SET_ID,
    Adapters,
    AwsError,
    LivePair,
    LockInfo,
)
from .settings import Settings
from .state import State, StateError

Status = Literal["changed", "no_change", "rejected", "conflict", "stale_lock", "drain_failed", "error"]
EVIDENCE_FIELDS = (
    "preflight_passed_at",
    "fence_confirmed_at",
    "fence_proven_at",
    "drain_reached_at",
    "sequences_synced_at",
    "reverse_started_at",
    "flipped_at",
)


@dataclass
class Result:
    status: Status
    message: str
    reasons: list[str] = field(default_factory=list)
    state: State | None = None
    gates: GateReport | None = None
    transitions: list[Transition] = field(default_factory=list)
    # Problems after a commit (SNS, lock release): reported, never undone.
    errors: list[str] = field(default_factory=list)
    live: dict[str, LivePair] | None = None
    lock: dict[str, Any] | None = None
    # What the operator CLI proved on the databases (fence, marker drain, sequences): JSON-able, no credential.
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("changed", "no_change") and not self.errors

    def to_dict(self) -> dict[str, Any]:
        state = self.state
        return {
            "ok": self.ok,
            "status": self.status,
            "message": self.message,
            "reasons": list(self.reasons),
            "phase": state.phase.value if state else None,
            "paused_from": state.paused_from.value if state and state.paused_from else None,
            "version": state.version if state else None,
            "weights": state.weights.to_dict() if state else None,
            "gates": self.gates.to_list() if self.gates else None,
            "transitions": [t.details() for t in self.transitions],
            "errors": list(self.errors),
            "live": {pair: live.to_dict() for pair, live in self.live.items()} if self.live is not None else None,
            "lock": self.lock,
            "history": [entry.to_dict() for entry in state.history] if state else None,
            "evidence": {name: state.to_dict()[name] for name in EVIDENCE_FIELDS} if state else None,
            "details": self.details,
        }


@dataclass
class _Outcome:
    result: Result
    keep_lock: bool = False


@dataclass(frozen=True)
class _Lock:
    """The lock this invocation took: its exact stored value (with a random holder token) and when."""

    value: str
    acquired_at: datetime


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _pair_matches(want: PairChange, live: LivePair | None) -> tuple[bool, str]:
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
    return [_pair_matches(want, live.get(pair))[1] for pair, want in desired_records(settings, state).items()]


class Engine:
    def __init__(
        self,
        settings: Settings,
        adapters: Adapters,
        *,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
        emit: Callable[[Mapping[str, Any]], None] = emit_json,
        lock_budget_seconds: float | None = None,
    ) -> None:
        self.settings = settings
        self.adapters = adapters
        # Past this, a holder re-checks the lock before writing or deleting it: 'unlock' may treat a lock
        # older than LOCK_TTL as stale, and the CLI runs without Lambda's timeout to stop it first.
        self._lock_budget = lock_budget_seconds if lock_budget_seconds is not None else settings.lock_ttl_seconds / 2
        self._clock = clock
        self._sleep = sleep
        self._emit = emit

    # -- public entry points

    def now(self) -> datetime:
        """The engine's clock (injected in tests), for callers that wait between invocations."""
        return self._clock()

    def wait(self, seconds: float) -> None:
        self._sleep(seconds)

    def observe(self, now: datetime) -> Observation:
        a = self.adapters
        task, reverse = a.task.describe_all()
        source, target = a.metrics.latency(now)
        alarms = a.alarms.in_alarm()
        cluster = a.cluster.status()
        return Observation(task, source, target, alarms, cluster, reverse)

    def run(self, trigger: Trigger) -> Result:
        if isinstance(trigger, OperatorCommand) and trigger.action is Action.STATUS:
            result = self.status()
        else:
            now = self._clock()
            obs: Observation | None = None
            try:
                obs = self.observe(now) if needs_observation(trigger) else None
            except AwsError as err:
                result = Result("error", f"could not read the gates; nothing changed: {err}")
            else:
                result = self._transact(trigger, now, obs, expected_version=None)
        self._emit(
            {
                "event": "cutover_invocation",
                "trigger": trigger_label(trigger),
                "status": result.status,
                "ok": result.ok,
                "message": result.message,
                "reasons": result.reasons,
                "phase": result.state.phase.value if result.state else None,
                "version": result.state.version if result.state else None,
                "transitions": [t.event for t in result.transitions],
                "errors": result.errors,
            }
        )
        return result

    def alert(self, title: str, message: str, details: Mapping[str, Any]) -> list[str]:
        """Log and publish an alert that is not a transition (the CLI's fence, drain or sequence failures)."""
        result = Result("error", message)
        self._alert(result, title, message, details)
        return result.errors

    def status(self) -> Result:
        now = self._clock()
        a = self.adapters
        errors: list[str] = []
        state: State | None = None
        gates: GateReport | None = None
        live: dict[str, LivePair] | None = None
        lock: dict[str, Any] | None = None
        try:
            state = State.parse(a.params.read_state())
        except (AwsError, StateError) as err:
            errors.append(f"state: {err}")
        try:
            gates = evaluate_gates(self.settings, self.observe(now), now, state)
        except AwsError as err:
            errors.append(f"gates: {err}")
        try:
            live = a.records.read()
        except AwsError as err:
            errors.append(f"records: {err}")
        try:
            info = a.params.read_lock()
            lock = info.to_dict(now) if info is not None else None
        except AwsError as err:
            errors.append(f"lock: {err}")
        reasons = compare_live(self.settings, state, live) if state is not None and live is not None else []
        message = f"phase {state.phase.value}, version {state.version}" if state else "state unavailable"
        return Result("no_change", message, reasons, state, gates, errors=errors, live=live, lock=lock)

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
        a = self.adapters
        lock = info.to_dict(now)
        try:
            state = State.parse(a.params.read_state())
            live = a.records.read()
        except (AwsError, StateError) as err:
            return Result("error", f"lock kept: cannot compare live weights with the state: {err}", lock=lock)
        comparison = compare_live(self.settings, state, live)
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
        self._alert(result, "lock removed", message, details)
        return result

    def _sync_unlocked(self, operator: str, now: datetime) -> Result:
        """No lock is held, but a tick reported live DNS differing from the state: reconcile under a fresh lock."""
        lock = self._take_lock("unlock --sync-dns", now)
        if isinstance(lock, Result):
            return lock
        a = self.adapters
        result: Result
        try:
            state = State.parse(a.params.read_state())
            live = a.records.read()
        except (AwsError, StateError) as err:
            result = Result("error", f"cannot compare live weights with the state; nothing changed: {err}")
        else:
            comparison = compare_live(self.settings, state, live)
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
                self._alert(result, "Route 53 restored to the state", message, details)
        self._release(lock, result)
        return result

    def _stale_pairs(self, state: State, live: Mapping[str, LivePair]) -> list[PairChange]:
        wanted = desired_records(self.settings, state)
        return [want for pair, want in wanted.items() if not _pair_matches(want, live.get(pair))[0]]

    def _sync_dns(self, state: State, live: Mapping[str, LivePair], stale: list[PairChange]) -> tuple[Status, str] | None:
        live_writer = live["writer"].records.get(AURORA_SET_ID) if "writer" in live else None
        if live_writer is None or live_writer.weight != state.weights.writer:
            return (
                "rejected",
                "--sync-dns would move the writer; follow the writer-mismatch procedure in docs/cutover.md",
            )
        try:
            self.adapters.records.apply(stale)
        except AwsError as err:
            # The change may have applied with its answer lost: the next 'status' shows what is live.
            return "error", f"could not restore Route 53 (check 'status'; it may have applied): {err}"
        return None

    def _lock_to_remove(self, now: datetime) -> LockInfo | Result | None:
        try:
            info = self.adapters.params.read_lock()
        except AwsError as err:
            return Result("error", f"could not read the lock: {err}")
        if info is None:
            return None
        age = info.age_seconds(now)
        if not info.kept and age is not None and age <= self.settings.lock_ttl_seconds:
            return Result(
                "rejected",
                f"the lock is only {age:.0f}s old (LOCK_TTL {self.settings.lock_ttl_seconds}s): a running invocation "
                "may hold it; retry once it is older",
                lock=info.to_dict(now),
            )
        return info

    # -- the lock

    def _take_lock(self, purpose: str, now: datetime) -> _Lock | Result:
        value = json.dumps({"holder": uuid.uuid4().hex, "purpose": purpose, "acquired_at": now.isoformat()})
        params = self.adapters.params
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
                return _Lock(value, now)
            if info is None:
                return Result("error", f"could not take the lock; nothing changed: {err}")
            return self._lock_busy(now)
        if not acquired:
            return self._lock_busy(now)
        return _Lock(value, now)

    def _over_budget(self, lock: _Lock) -> bool:
        """Held so long that 'unlock' might already treat the lock as stale (the budget is half of LOCK_TTL)."""
        return (self._clock() - lock.acquired_at).total_seconds() >= self._lock_budget

    def _still_ours(self, lock: _Lock) -> bool | None:
        """Whether the stored lock is still this holder's; None when it cannot be read."""
        try:
            info = self.adapters.params.read_lock()
        except AwsError:
            return None
        return info is not None and info.value == lock.value

    def _release(self, lock: _Lock, result: Result) -> None:
        """Delete the lock only while it is this invocation's own.

        Within the budget nobody else can have removed it ('unlock' refuses locks younger than
        LOCK_TTL), so it is deleted directly; past the budget it is read first, so a slow holder never
        deletes a later holder's lock. SSM has no conditional delete, which leaves a window of one
        round trip between that read and the delete, and only past the budget.
        """
        params = self.adapters.params
        if self._over_budget(lock):
            ours = self._still_ours(lock)
            if ours is not True:
                why = "could not be read" if ours is None else "now belongs to another invocation or was removed"
                result.errors.append(f"the lock was held past its budget and {why}: left in place")
                return
        try:
            if not params.release_lock():
                result.errors.append("the lock had already been removed by someone else while this invocation held it")
        except AwsError as err:
            # The delete may have landed with its answer lost: only a lock still holding our value is ours.
            if self._still_ours(lock) is False:
                return
            problem = (
                f"lock NOT released: {err}. Later invocations report a conflict; after LOCK_TTL remove it with 'unlock --confirm'"
            )
            result.errors.append(problem)
            self._alert(result, "lock not released", problem, {"kind": "lock_not_released"})

    # -- transaction

    def _transact(self, trigger: Trigger, now: datetime, obs: Observation | None, expected_version: int | None) -> Result:
        lock = self._take_lock(trigger_label(trigger), now)
        if isinstance(lock, Result):
            return lock
        outcome = self._locked(trigger, now, obs, expected_version, lock)
        result = outcome.result
        if not outcome.keep_lock:
            self._release(lock, result)
        for transition in result.transitions:
            self._announce(transition, result)
        return result

    def _locked(
        self, trigger: Trigger, now: datetime, obs: Observation | None, expected_version: int | None, lock: _Lock
    ) -> _Outcome:
        state = self._read_locked_state(expected_version)
        if isinstance(state, _Outcome):
            return state
        pausing = isinstance(trigger, OperatorCommand) and trigger.action is Action.PAUSE
        try:
            live = self.adapters.records.read()
        except AwsError as err:
            if not pausing:
                return _Outcome(Result("error", f"could not read the live records; nothing changed: {err}", state=state))
            live = None  # a pause moves no record: it must work even when Route 53 cannot be read
        differences = self._differences(state, live) if live is not None else ()
        if differences and not pausing:
            assert live is not None
            writer = live.get("writer")
            aurora_writer = writer.records.get(AURORA_SET_ID) if writer is not None else None
            decision = decide_dns_mismatch(
                self.settings,
                state,
                trigger,
                now,
                differences=differences,
                live_writer_on_aurora=aurora_writer is not None and aurora_writer.weight > 0,
            )
        else:
            decision = decide(self.settings, state, obs, trigger, now)
        if isinstance(decision, Transition):
            return self._commit(decision, lock)
        status: Status = "no_change" if isinstance(decision, NoChange) else "rejected"
        result = Result(status, "; ".join(decision.reasons), list(decision.reasons), state, decision.gates)
        if differences:
            result.live = live
            details = {"kind": "dns_mismatch", "differences": list(differences), "trigger": trigger_label(trigger)}
            self._alert(result, "live DNS differs from the state", result.message, details)
        return _Outcome(result)

    def _read_locked_state(self, expected_version: int | None) -> State | _Outcome:
        try:
            state = State.parse(self.adapters.params.read_state())
        except AwsError as err:
            return _Outcome(Result("error", f"could not read the state; nothing changed: {err}"))
        except StateError as err:
            return _Outcome(Result("error", f"the stored state is malformed; nothing changed: {err}"))
        if expected_version is not None and state.version != expected_version:
            return _Outcome(
                Result(
                    "conflict",
                    f"the state moved from version {expected_version} to {state.version} since the decision; nothing changed",
                    state=state,
                )
            )
        return state

    def _differences(self, state: State, live: Mapping[str, LivePair]) -> tuple[str, ...]:
        checks = (_pair_matches(want, live.get(want.pair)) for want in desired_records(self.settings, state).values())
        return tuple(text for same, text in checks if not same)

    def _records_now(self, t: Transition) -> Literal["after", "before", "unknown"]:
        """Which side of the transition live Route 53 is on, after a change whose outcome was not reported."""
        try:
            live = self.adapters.records.read()
        except AwsError:
            return "unknown"
        after = all(_pair_matches(want, live.get(want.pair))[0] for want in t.changes)
        before = all(_pair_matches(want, live.get(want.pair))[0] for want in t.revert)
        return "after" if after else "before" if before else "unknown"

    def _commit(self, t: Transition, lock: _Lock) -> _Outcome:
        a = self.adapters
        notes: list[str] = []
        if t.changes:
            if self._over_budget(lock):
                return _Outcome(
                    Result(
                        "error",
                        f"nothing changed: the lock was held past its budget ({self._lock_budget:.0f}s, half of LOCK_TTL) "
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
                    return _Outcome(
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
            if self._over_budget(lock) and self._still_ours(lock) is not True:
                return self._lock_lost(t, notes)
        new_text = t.state.to_json()
        try:
            a.params.write_state(new_text)
        except AwsError as err:
            outcome = self._write_failed(t, new_text, err)
            outcome.result.errors[:0] = notes
            return outcome
        return _Outcome(Result("changed", t.reason, [t.reason], t.state, t.gates, [t], errors=notes))

    def _lock_lost(self, t: Transition, notes: list[str]) -> _Outcome:
        """DNS moved, but past the budget the lock no longer proves this invocation may write the state."""
        message = (
            f"Route 53 was changed for '{t.event}' but the lock was held past its budget and is no longer this "
            "invocation's: the state was NOT written, so DNS is ahead of the state. Ticks will pause on the "
            "difference; compare with 'status' and reconcile (docs/cutover.md)"
        )
        result = Result("error", message, state=t.previous, errors=list(notes))
        self._alert(result, "DNS ahead of state (lock lost)", message, {"kind": "lock_lost", "transition": t.details()})
        return _Outcome(result, keep_lock=True)

    def _write_failed(self, t: Transition, new_text: str, err: AwsError) -> _Outcome:
        a = self.adapters
        # A timed-out write may still have landed: look before reverting DNS.
        stored: str | None
        try:
            stored = a.params.read_state()
            problem = ""
        except AwsError as read_err:
            stored, problem = None, str(read_err)
        if stored == new_text:
            result = Result("changed", t.reason, [t.reason], t.state, t.gates, [t])
            result.errors.append(f"the state write reported an error ({err}) but the new state is stored")
            return _Outcome(result)
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
            return _Outcome(
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
            self._alert(result, "state write outcome unknown", message, {"kind": "state_unknown", "transition": t.details()})
            return _Outcome(result)
        return self._keep_lock(
            t,
            f"state write failed ({err}) and the stored state could not be confirmed ({problem}): DNS may be ahead of the state",
        )

    def _keep_lock(self, t: Transition, problem: str) -> _Outcome:
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
            self.adapters.params.overwrite_lock(value)
        except AwsError as err:
            result.errors.append(f"could not mark the lock as kept ({err}); it expires for 'unlock' after LOCK_TTL")
        self._alert(result, "DNS may be ahead of state", message, {"kind": "lock_kept", "transition": t.details()})
        return _Outcome(result, keep_lock=True)

    def _lock_busy(self, now: datetime) -> Result:
        try:
            info = self.adapters.params.read_lock()
        except AwsError as err:
            return Result("error", f"the lock is held and could not be read; nothing changed: {err}")
        if info is None:
            return Result("conflict", "another invocation held the lock a moment ago; nothing changed, retry")
        age = info.age_seconds(now)
        lock = info.to_dict(now)
        purpose = lock.get("purpose", "unknown")
        if info.kept or age is None or age > self.settings.lock_ttl_seconds:
            held = f"{age:.0f}s" if age is not None else "an unknown time"
            message = (
                f"stale lock held for {held} (LOCK_TTL {self.settings.lock_ttl_seconds}s, purpose {purpose}"
                f"{', kept deliberately' if info.kept else ''}): an invocation died or stopped mid-transition and DNS "
                "may be ahead of the state. Nothing changed. Compare live weights with the state ('status') and "
                "remove the lock with 'unlock --confirm'"
            )
            result = Result("stale_lock", message, lock=lock)
            self._alert(result, "stale lock", message, {"kind": "stale_lock", "lock": lock})
            return result
        return Result("conflict", f"another invocation holds the lock ({purpose}, {age:.0f}s old); nothing changed", lock=lock)

    # -- notifications

    def _announce(self, t: Transition, result: Result) -> None:
        self._emit({"event": "cutover_transition", **t.details()})
        try:
            self.adapters.notifier.publish(t.notification())
        except AwsError as err:
            problem = f"SNS publish failed after the transition was committed (it stays committed): {err}"
            result.errors.append(problem)
            self._emit({"event": "cutover_notification_failed", "version": t.state.version, "error": str(err)})

    def _alert(self, result: Result, title: str, message: str, details: Mapping[str, Any]) -> None:
        self._emit({"event": "cutover_alert", "alert": title, "message": message, "details": dict(details)})
        subject = f"tap-migrate cutover ALERT: {title}"[:100]
        try:
            self.adapters.notifier.publish(
                Notification("alert", subject, f"ALERT: {message}\n\n{json.dumps(details, indent=2, default=str)}")
            )
        except AwsError as err:
            result.errors.append(f"SNS alert failed: {err}")
