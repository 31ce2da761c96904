"""Alert rules, the alerts they raise, and the built-in rules.

A rule looks at one of three things:

* a :class:`~seisproc.monitoring.snapshot.ResourceSnapshot` (``condition``), as in the
  seed's ``high_memory``;
* each active job of a snapshot (``job_condition``), so that a stuck or slow job is named
  and cooled down on its own, not lumped with the others;
* a :class:`~seisproc.jobs.events.JobEvent` (``event_condition``): a job failed, a worker
  died. Events are instants, so these rules raise alerts that never "resolve".

Messages are ``str.format`` templates over plain values (see :func:`snapshot_context`);
attribute and index lookups are refused when a rule file is read, so a template can only
print numbers and names.
"""

from __future__ import annotations

import fnmatch
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import JobState, utcnow
from seisproc.monitoring.snapshot import JobMetrics, ResourceSnapshot

__all__ = [
    "QC_COOLDOWN_S",
    "Alert",
    "AlertRule",
    "AlertStatus",
    "Severity",
    "default_rules",
    "event_context",
    "job_context",
    "render_message",
    "snapshot_context",
    "template_fields",
]


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    FIRING = "firing"
    """The condition holds (raised again after each cooldown while it does)."""
    RESOLVED = "resolved"
    """The condition of a firing alert cleared."""


@dataclass
class AlertRule:
    """Configurable alert rule (the seed's fields first, in the seed's order).

    ``condition=None`` with a ``job_condition`` checks every job; with an
    ``event_condition`` only job events raise the rule. Cooldown and ``for_seconds`` count
    per rule, and per job for job and event rules.
    """

    name: str
    condition: Callable[[ResourceSnapshot], bool] | None
    """On a snapshot; for a job rule, an optional gate checked before the jobs."""
    severity: str
    """``"info"``, ``"warning"`` or ``"critical"``."""
    message_template: str
    cooldown_seconds: float = 60
    """Least seconds between two alerts of this rule (for the same job)."""
    actions: list[str] = field(default_factory=lambda: ["toast", "log"])
    for_seconds: float = 0.0
    """The condition must hold this long, uninterrupted, before the rule fires."""
    job_condition: Callable[[JobMetrics], bool] | None = None
    event_condition: Callable[[JobEvent], bool] | None = None
    job_filter: str | None = None
    """Shell-style pattern on the job's name or id (``"nightly-*"``); all jobs if None."""
    metric: str | None = None
    """The figure a declarative rule compares, shown as ``{value}`` in its message."""
    threshold: float | None = None

    def __post_init__(self) -> None:
        self.severity = Severity(self.severity)
        if self.condition is None and self.job_condition is None \
                and self.event_condition is None:
            raise ValueError(f"alert rule {self.name!r} has no condition at all")
        if self.job_condition is not None and self.event_condition is not None:
            raise ValueError(f"alert rule {self.name!r}: a rule watches jobs or job events, "
                             "not both (make two rules)")

    def applies_to(self, job_id: str, job_name: str) -> bool:
        """Whether the job filter lets this job through."""
        if self.job_filter is None:
            return True
        return (fnmatch.fnmatchcase(job_name, self.job_filter)
                or fnmatch.fnmatchcase(job_id, self.job_filter))


@dataclass(frozen=True)
class Alert:
    """A rule that fired (or cleared), with its rendered message."""

    rule: str
    severity: Severity
    status: AlertStatus
    message: str
    at: datetime = field(default_factory=utcnow)
    job_id: str | None = None
    """The job it is about, for job and event rules."""
    value: float | None = None
    """The watched metric's value, for declarative rules."""
    actions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity.value,
                "status": self.status.value, "message": self.message,
                "at": self.at.isoformat(), "job_id": self.job_id, "value": self.value,
                "actions": list(self.actions)}


# ---------------------------------------------------------------------- message context
class _Unknown:
    """What a template shows for a value the snapshot does not have: ``?``, any format."""

    def __format__(self, spec: str) -> str:
        return "?"


class _Context(dict[str, Any]):
    def __missing__(self, key: str) -> _Unknown:
        return _Unknown()


def _template_name(metric: str) -> str:
    return metric.replace(".", "_")


def snapshot_context(snapshot: ResourceSnapshot) -> dict[str, Any]:
    """Template values: every snapshot figure (dots become ``_``) and the fullest disk."""
    context: dict[str, Any] = {_template_name(k): v for k, v in snapshot.values().items()}
    if snapshot.disks:
        fullest = max(snapshot.disks, key=lambda d: d.percent)
        context["disk_fullest"] = fullest.path
    return context


def job_context(job: JobMetrics) -> dict[str, Any]:
    """Template values of one job: ``job_id``, ``job_name``, ``job_<metric>``..."""
    context: dict[str, Any] = {f"job_{k}": v for k, v in job.values().items()}
    ratio = job.rate_ratio
    context.update(job_id=job.job_id, job_name=job.name, job_state=job.state,
                   job_rate_percent=100.0 * ratio if ratio is not None else _Unknown())
    return context


def event_context(event: JobEvent) -> dict[str, Any]:
    """Template values of a job event: the job, its error, the event's detail figures."""
    job = event.job
    context: dict[str, Any] = {k: v for k, v in event.detail.items()
                               if isinstance(v, str | int | float)}
    context.update(job_id=job.id, job_name=job.name, job_state=job.state.value,
                   error=job.error.message if job.error else job.message,
                   event=event.kind.value)
    return context


def template_fields(template: str) -> list[str]:
    """Field names of a ``str.format`` template; raises ``ValueError`` if malformed."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def render_message(template: str, context: Mapping[str, Any]) -> str:
    """``template`` filled from ``context``; unknown names show ``?``, never raise."""
    try:
        return template.format_map(_Context(context))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return template


# ---------------------------------------------------------------------- built-in rules
def _stuck(job: JobMetrics) -> bool:
    return job.no_progress_seconds > 300


def _slow(job: JobMetrics) -> bool:
    """Running a minute or more at under half the rate history predicts."""
    ratio = job.rate_ratio
    return ratio is not None and job.running_seconds >= 60 and ratio < 0.5


def _non_finite(job: JobMetrics) -> bool:
    return job.qc_non_finite > 0


QC_COOLDOWN_S = 24 * 3600.0
"""A NaN count never goes back to zero: one alert per job, and a job the user resumed
after a QC pause is not paused again by the same rule."""


def _failed(event: JobEvent) -> bool:
    return event.kind is JobEventKind.STATE_CHANGED and event.job.state is JobState.FAILED


def _worker_lost(event: JobEvent) -> bool:
    return event.kind is JobEventKind.WORKER_LOST


def default_rules() -> list[AlertRule]:
    """The seed's three rules, then disk, cluster, failure, slowness and data QC rules.

    ``qc_non_finite`` pauses a job whose output holds NaN or Inf samples (the
    ``pause_job`` action does that where the process registered it: see
    :func:`~seisproc.alerts.actions.job_control_actions`).
    """
    return [
        AlertRule("high_memory", lambda s: s.memory_percent > 85, "warning",
                  "Memory usage at {memory_percent:.0f}%"),
        AlertRule("critical_memory", lambda s: s.memory_percent > 95, "critical",
                  "CRITICAL: Memory at {memory_percent:.0f}%"),
        AlertRule("job_stuck", lambda s: s.metrics.get("job_no_progress_seconds", 0) > 300,
                  "warning", "Job {job_name} ({job_id}) appears stuck - no progress for "
                  "{job_no_progress_seconds:.0f} s", job_condition=_stuck),
        AlertRule("disk_nearly_full", lambda s: s.values().get("disk.max_percent", 0) > 90,
                  "warning", "Disk nearly full: {disk_fullest} at {disk_max_percent:.0f}%",
                  cooldown_seconds=600),
        AlertRule("node_lost", lambda s: s.metrics.get("nodes_lost_recently", 0) > 0,
                  "critical", "Ray node lost: {nodes_lost_recently:.0f} in the last 10 "
                  "minutes, {cluster_nodes_alive:.0f} alive", cooldown_seconds=600),
        AlertRule("worker_lost", None, "warning", "Worker lost on node {node} running job "
                  "{job_name} ({job_id}); unit {unit} is retried", event_condition=_worker_lost),
        AlertRule("job_failed", None, "critical", "Job {job_name} ({job_id}) failed: {error}",
                  cooldown_seconds=0, event_condition=_failed),
        AlertRule("job_slow", None, "warning", "Job {job_name} ({job_id}) runs at "
                  "{job_traces_per_s:,.0f} traces/s, {job_rate_percent:.0f}% of the "
                  "{job_predicted_traces_per_s:,.0f} predicted", cooldown_seconds=900,
                  for_seconds=60, job_condition=_slow),
        AlertRule("qc_non_finite", None, "critical", "Job {job_name} ({job_id}) wrote "
                  "{job_qc_non_finite:,.0f} NaN/Inf samples", cooldown_seconds=QC_COOLDOWN_S,
                  actions=["log", "toast", "pause_job"], job_condition=_non_finite,
                  metric="job.qc_non_finite", threshold=0.0),
    ]
