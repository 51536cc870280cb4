"""The engine: the only place that talks to AWS on behalf of the pure logic.

It observes the gates, takes the SSM lock, reads the state and the live records, asks
``logic.decide`` what to do and applies the answer so that Route 53 and the stored state move
together or not at all. It reaches AWS through the ports (``ports.Adapters``) only.

Its seams live in their own modules: ``lock`` (the SSM lock), ``commit`` (Route 53 then the
state, and what a failed write means), ``reconcile`` (live DNS against the state; 'unlock'),
``notify`` (log lines and SNS), ``result`` (what an invocation reports).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from .commit import Committer
from .decision import NoChange, Transition
from .gates import GateReport, Observation, evaluate_gates
from .lock import HeldLock, LockKeeper
from .log import emit_json
from .logic import decide, decide_dns_mismatch
from .notify import Alerts
from .ports import AURORA_SET_ID, Adapters, AwsError, LivePair
from .reconcile import Reconciler, compare_live, live_differences
from .result import EVIDENCE_FIELDS, Outcome, Result, Status
from .settings import Settings
from .state import State, StateError
from .triggers import Action, Evidence, OperatorCommand, RecordEvidence, Trigger, needs_observation, trigger_label
from .validation import judge_validation

__all__ = ["EVIDENCE_FIELDS", "Engine", "Result", "Status", "compare_live"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
        self._clock = clock
        self._sleep = sleep
        self._emit = emit
        self._alerts = Alerts(adapters.notifier, emit)
        # Past the budget a holder re-checks the lock before writing or deleting it (see LockKeeper).
        budget = lock_budget_seconds if lock_budget_seconds is not None else settings.lock_ttl_seconds / 2
        self._locks = LockKeeper(settings, adapters.params, self._alerts, clock, budget)
        self._committer = Committer(adapters, self._locks, self._alerts, clock)
        self._reconciler = Reconciler(settings, adapters, self._locks, self._alerts, clock)

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
        self._alerts.alert(result, title, message, details)
        return result.errors

    def prove_data(self, operator: str) -> Result:
        """Read DMS validation for every selected table and record it as the data proof when it is complete.

        The operator CLI calls this when it moves the writer (never a tick: the table statistics are paged,
        one call per 500 tables). The verdict is in ``details["data_validation"]`` either way; when it is
        not proof, nothing is recorded and the result is "rejected".
        """
        try:
            rows = self.adapters.task.table_statistics()
        except AwsError as err:
            return Result("error", f"could not read DMS validation; no data proof recorded: {err}")
        verdict = judge_validation(rows)
        if not verdict.proven:
            message = f"no data proof from DMS validation: {verdict.reason}"
            return Result("rejected", message, [message], details={"data_validation": verdict.to_dict()})
        result = self.run(RecordEvidence(Evidence.DATA_VALIDATED, operator, verdict.reason))
        result.details["data_validation"] = verdict.to_dict()
        return result

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
        """Remove a stale or deliberately kept lock after showing live weights against the state (``reconcile``)."""
        return self._reconciler.unlock(confirm=confirm, operator=operator, sync_dns=sync_dns)

    # -- transaction

    def caller(self) -> str:
        """Who this engine acts as, recorded in every version it writes (asked once; not cached when STS fails).

        An unidentified caller does not block a transition (a red gate must still pause): the version says so,
        and SSM's own LastModifiedUser of that version still names the principal.
        """
        try:
            return self.adapters.identity.caller_arn()
        except AwsError as err:
            return f"unidentified ({err})"

    def _transact(self, trigger: Trigger, now: datetime, obs: Observation | None, expected_version: int | None) -> Result:
        caller = self.caller()
        lock = self._locks.take(trigger_label(trigger), now)
        if isinstance(lock, Result):
            return lock
        outcome = self._locked(trigger, now, obs, expected_version, lock, caller=caller)
        result = outcome.result
        if not outcome.keep_lock:
            self._locks.release(lock, result)
        for transition in result.transitions:
            self._alerts.announce(transition, result)
        return result

    def _locked(
        self,
        trigger: Trigger,
        now: datetime,
        obs: Observation | None,
        expected_version: int | None,
        lock: HeldLock,
        *,
        caller: str,
    ) -> Outcome:
        state = self._read_locked_state(expected_version)
        if isinstance(state, Outcome):
            return state
        pausing = isinstance(trigger, OperatorCommand) and trigger.action is Action.PAUSE
        try:
            live = self.adapters.records.read()
        except AwsError as err:
            if not pausing:
                return Outcome(Result("error", f"could not read the live records; nothing changed: {err}", state=state))
            live = None  # a pause moves no record: it must work even when Route 53 cannot be read
        differences = live_differences(self.settings, state, live) if live is not None else ()
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
                caller=caller,
            )
        else:
            decision = decide(self.settings, state, obs, trigger, now, caller=caller)
        if isinstance(decision, Transition):
            return self._committer.commit(decision, lock)
        status: Status = "no_change" if isinstance(decision, NoChange) else "rejected"
        result = Result(status, "; ".join(decision.reasons), list(decision.reasons), state, decision.gates)
        if differences:
            result.live = live
            details = {"kind": "dns_mismatch", "differences": list(differences), "trigger": trigger_label(trigger)}
            self._alerts.alert(result, "live DNS differs from the state", result.message, details)
        return Outcome(result)

    def _read_locked_state(self, expected_version: int | None) -> State | Outcome:
        try:
            state = State.parse(self.adapters.params.read_state())
        except AwsError as err:
            return Outcome(Result("error", f"could not read the state; nothing changed: {err}"))
        except StateError as err:
            return Outcome(Result("error", f"the stored state is malformed; nothing changed: {err}"))
        if expected_version is not None and state.version != expected_version:
            return Outcome(
                Result(
                    "conflict",
                    f"the state moved from version {expected_version} to {state.version} since the decision; nothing changed",
                    state=state,
                )
            )
        return state
