"""``AlertManager``: checks rules against snapshots and job events, raises alerts.

Per rule (and per job, for job and event rules) it keeps a small state: since when the
condition holds (for ``for_seconds``), when the rule last fired (cooldown), and whether it
is firing (to announce "resolved" once the condition clears). A rule fires on the first
check where its condition has held ``for_seconds``, then at most once per cooldown while
it holds. A flapping metric therefore raises one alert and one "resolved" per cooldown,
never one per sample.

Raised alerts go to subscribers on the checking thread (cheap: the GUI bridge, a terminal
list) and to the :class:`~seisproc.alerts.actions.ActionDispatcher`, which runs the
rule's actions on threads of its own.

Wiring (composition roots)::

    alerts = AlertManager(get_default_rules())
    monitor.subscribe(alerts.check)          # snapshots
    manager.subscribe(alerts.handle_event)   # job events: failed, worker lost
    tracker.on_unit(alerts.check_job)        # job rules at each unit (QC: NaN found)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from seisproc.alerts.actions import ActionDispatcher
from seisproc.alerts.rules import (
    Alert,
    AlertRule,
    AlertStatus,
    Severity,
    default_rules,
    event_context,
    job_context,
    render_message,
    snapshot_context,
)
from seisproc.jobs.events import JobEvent
from seisproc.monitoring.snapshot import JobMetrics, ResourceSnapshot
from seisproc.observers import Subscribers

__all__ = ["AlertManager", "AlertSubscriber", "get_default_rules"]

log = logging.getLogger(__name__)

AlertSubscriber = Callable[[Alert], None]
_Key = tuple[str, str | None]
"""(rule name, job id or None)."""


@dataclass
class _RuleState:
    holding_since: float | None = None
    last_fired: float | None = None
    firing: bool = False
    job: JobMetrics | None = None
    """The job's latest metrics, to word the "resolved" alert once the job is gone."""


def get_default_rules() -> list[AlertRule]:
    """The built-in rules (see :func:`seisproc.alerts.rules.default_rules`)."""
    return default_rules()


class AlertManager:
    """Manages alert rules and notifications.

    Parameters
    ----------
    rules
        Initial rules (none by default, as in the seed: add :meth:`get_default_rules`).
    dispatcher
        Runs the actions; one with the default registry when ``None``.
    clock
        Monotonic seconds for cooldowns and ``for_seconds``; tests pass a fake one.
    recent_size
        Alerts kept for :meth:`recent`.

    Examples
    --------
    >>> from seisproc.alerts.rules import AlertRule
    >>> alerts = AlertManager()
    >>> alerts.add_rule(AlertRule("busy", lambda s: s.cpu_percent > 90, "info",
    ...                           "CPU at {cpu_percent:.0f}%", actions=[]))
    >>> [r.name for r in alerts.rules]
    ['busy']
    """

    def __init__(self, rules: Iterable[AlertRule] = (), *,
                 dispatcher: ActionDispatcher | None = None,
                 clock: Callable[[], float] = time.monotonic, recent_size: int = 200) -> None:
        self._rules: dict[str, AlertRule] = {}
        self._states: dict[_Key, _RuleState] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._dispatcher = dispatcher
        self._subscribers: Subscribers[Alert] = Subscribers()
        self._recent: deque[Alert] = deque(maxlen=recent_size)
        self._complained: set[str] = set()
        for rule in rules:
            self.add_rule(rule)

    # ------------------------------------------------------------------ rules
    def add_rule(self, rule: AlertRule) -> None:
        """Add ``rule``, replacing (and forgetting the state of) one of the same name."""
        with self._lock:
            self._rules[rule.name] = rule
            self._forget(rule.name)

    def remove_rule(self, name: str) -> None:
        with self._lock:
            self._rules.pop(name, None)
            self._forget(name)

    @property
    def rules(self) -> list[AlertRule]:
        with self._lock:
            return list(self._rules.values())

    def get_default_rules(self) -> list[AlertRule]:
        """Get built-in alert rules (the seed's method; they are not added by it)."""
        return get_default_rules()

    def _forget(self, name: str) -> None:
        for key in [k for k in self._states if k[0] == name]:
            del self._states[key]

    # ------------------------------------------------------------------ observers
    def subscribe(self, subscriber: AlertSubscriber) -> Callable[[], None]:
        """Call ``subscriber(alert)`` for every alert raised or resolved."""
        return self._subscribers.add(subscriber)

    def recent(self, limit: int | None = None) -> list[Alert]:
        """The latest alerts, newest last."""
        with self._lock:
            alerts = list(self._recent)
        return alerts if limit is None else alerts[-limit:]

    @property
    def dispatcher(self) -> ActionDispatcher:
        if self._dispatcher is None:
            self._dispatcher = ActionDispatcher()
        return self._dispatcher

    def close(self, timeout_s: float = 2.0) -> None:
        """Let queued actions finish, then stop the action threads."""
        if self._dispatcher is not None:
            self._dispatcher.close(timeout_s)

    # ------------------------------------------------------------------ checking
    def check(self, snapshot: ResourceSnapshot) -> list[Alert]:
        """Check all rules against snapshot; returns the alerts raised or resolved."""
        now = self._clock()
        raised: list[Alert] = []
        with self._lock:
            for rule in self._rules.values():
                if rule.job_condition is not None:
                    raised += self._check_jobs(rule, snapshot, now)
                elif rule.condition is not None:
                    holds = self._holds(rule, rule.condition, snapshot)
                    alert = self._step(rule, None, holds, now, _context(rule, snapshot))
                    raised += [alert] if alert else []
        self._announce(raised)
        return raised

    def _check_jobs(self, rule: AlertRule, snapshot: ResourceSnapshot,
                    now: float) -> list[Alert]:
        assert rule.job_condition is not None
        gate = rule.condition is None or self._holds(rule, rule.condition, snapshot)
        raised, seen = [], set()
        for job in snapshot.jobs:
            if not rule.applies_to(job.job_id, job.name):
                continue
            seen.add(job.job_id)
            holds = gate and self._holds(rule, rule.job_condition, job)
            alert = self._step(rule, job.job_id, holds, now, _context(rule, snapshot, job))
            raised += [alert] if alert else []
            self._states[(rule.name, job.job_id)].job = job
        for key in [k for k in self._states if k[0] == rule.name and k[1] not in seen]:
            last = self._states[key].job  # the job ended: resolve what it had raised
            alert = self._step(rule, key[1], False, now, _context(rule, snapshot, last))
            raised += [alert] if alert else []
            del self._states[key]
        return raised

    def check_job(self, job: JobMetrics) -> list[Alert]:
        """Check the job rules that need no snapshot against one job's fresh metrics.

        Called as a job completes a unit (:meth:`~seisproc.monitoring.jobs.JobTracker.
        on_unit`), so a rule on ``job.qc_non_finite`` acts within a unit rather than at
        the next snapshot; cooldowns and ``for_seconds`` are shared with :meth:`check`.
        Rules gated by a snapshot condition wait for :meth:`check`. Where :meth:`check`
        runs too, its snapshots must list the same jobs (a ``ResourceMonitor`` built with
        the same tracker): a job missing from a snapshot counts as ended, and its rule
        state (the cooldown that keeps a resumed job from a second QC pause) is dropped.
        """
        now = self._clock()
        raised: list[Alert] = []
        with self._lock:
            for rule in self._rules.values():
                if rule.job_condition is None or rule.condition is not None \
                        or not rule.applies_to(job.job_id, job.name):
                    continue
                holds = self._holds(rule, rule.job_condition, job)
                alert = self._step(rule, job.job_id, holds, now, _job_only_context(rule, job))
                raised += [alert] if alert else []
                self._states[(rule.name, job.job_id)].job = job
        self._announce(raised)
        return raised

    def handle_event(self, event: JobEvent) -> list[Alert]:
        """Check the event rules against a job event (a JobManager subscriber)."""
        now = self._clock()
        raised: list[Alert] = []
        with self._lock:
            for rule in self._rules.values():
                if rule.event_condition is None \
                        or not rule.applies_to(event.job.id, event.job.name) \
                        or not self._holds(rule, rule.event_condition, event):
                    continue
                state = self._states.setdefault((rule.name, event.job.id), _RuleState())
                if self._cooling(rule, state, now):
                    continue
                state.last_fired = now
                raised.append(self._alert(rule, AlertStatus.FIRING, event_context(event),
                                          event.job.id))
        self._announce(raised)
        return raised

    def _holds(self, rule: AlertRule, condition: Callable[[Any], bool], subject: Any) -> bool:
        """The condition's verdict; a condition that raises counts as false (logged once)."""
        try:
            return bool(condition(subject))
        except Exception:
            if rule.name not in self._complained:
                self._complained.add(rule.name)
                log.exception("alert rule %r: condition failed (counted as false)", rule.name)
            return False

    def _step(self, rule: AlertRule, job_id: str | None, holds: bool, now: float,
              context: Callable[[], Mapping[str, Any]]) -> Alert | None:
        """Advance one (rule, job) state by one check; the alert it raises, if any."""
        state = self._states.setdefault((rule.name, job_id), _RuleState())
        if not holds:
            state.holding_since = None
            if not state.firing:
                return None
            state.firing = False
            return self._alert(rule, AlertStatus.RESOLVED, context(), job_id)
        if state.holding_since is None:
            state.holding_since = now
        if now - state.holding_since < rule.for_seconds or self._cooling(rule, state, now):
            return None
        state.last_fired, state.firing = now, True
        return self._alert(rule, AlertStatus.FIRING, context(), job_id)

    @staticmethod
    def _cooling(rule: AlertRule, state: _RuleState, now: float) -> bool:
        return state.last_fired is not None and now - state.last_fired < rule.cooldown_seconds

    @staticmethod
    def _alert(rule: AlertRule, status: AlertStatus, context: Mapping[str, Any],
               job_id: str | None) -> Alert:
        value = context.get("value")
        message = render_message(rule.message_template,
                                 {**context, "rule": rule.name, "threshold": rule.threshold,
                                  "metric": rule.metric})
        if status is AlertStatus.RESOLVED:
            message = f"resolved: {message}"
        return Alert(rule=rule.name, severity=Severity(rule.severity), status=status,
                     message=message, job_id=job_id,
                     value=value if isinstance(value, int | float) else None,
                     actions=tuple(rule.actions))

    def _announce(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        with self._lock:
            self._recent.extend(alerts)
        subscribers = self._subscribers.current()
        for alert in alerts:
            self.dispatcher.dispatch(alert)
            for subscriber in subscribers:
                try:
                    subscriber(alert)
                except Exception:
                    log.exception("alert subscriber %r failed", subscriber)


def _job_only_context(rule: AlertRule, job: JobMetrics) -> Callable[[], Mapping[str, Any]]:
    """The message's values for a job checked without a snapshot."""

    def build() -> dict[str, Any]:
        context = job_context(job)
        if rule.metric and rule.metric.startswith("job."):
            context["value"] = job.values().get(rule.metric.removeprefix("job."))
        return context

    return build


def _context(rule: AlertRule, snapshot: ResourceSnapshot,
             job: JobMetrics | None = None) -> Callable[[], Mapping[str, Any]]:
    """The message's values, built only if the rule raises an alert.

    ``value`` is the rule's metric: ``job.<name>`` from the job, any other from the
    snapshot.
    """

    def build() -> dict[str, Any]:
        context = snapshot_context(snapshot)
        if job is not None:
            context.update(job_context(job))
        if rule.metric and rule.metric.startswith("job.") and job is not None:
            context["value"] = job.values().get(rule.metric.removeprefix("job."))
        elif rule.metric:
            context["value"] = snapshot.values().get(rule.metric)
        return context

    return build
