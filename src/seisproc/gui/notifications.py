"""What deserves a toast: jobs that finished or failed, and alerts; few at a time.

A batch from the bridge may hold hundreds of finished jobs (a big run of small jobs) or
as many ``job_failed`` alerts; one toast each would bury the window. Up to
:data:`MAX_SINGLE` items get a toast each, more are summed up in one toast per outcome.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from seisproc.alerts.rules import Alert, AlertStatus
from seisproc.gui.dashboard.model import format_clock
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import Job, JobState

__all__ = ["MAX_SINGLE", "Toast", "alert_summary", "ended_toasts", "job_toasts"]

MAX_SINGLE = 3
Toast = tuple[str, str]
"""(message, severity): severity is ``info``, ``success``, ``warning``, ``error`` or
``critical``, as :meth:`~seisproc.gui.toast.ToastNotification.show_toast` takes it."""
_SHORT = 160


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _SHORT else line[: _SHORT - 1] + "…"


def _names(jobs: list[Job]) -> str:
    shown = ", ".join(f"“{job.name}”" for job in jobs[:MAX_SINGLE])
    return shown + (f" and {len(jobs) - MAX_SINGLE} more" if len(jobs) > MAX_SINGLE else "")


def job_toasts(events: Iterable[JobEvent], *, failures: bool = True) -> list[Toast]:
    """Toasts for the jobs that completed (or, with ``failures``, failed) in ``events``.

    Pass ``failures=False`` where the alert manager's ``job_failed`` rule toasts
    failures already, so none is announced twice.

    >>> from seisproc.jobs.model import Job, JobState
    >>> done = JobEvent(JobEventKind.STATE_CHANGED, Job(id="a1", name="line 12",
    ...                                                 state=JobState.COMPLETED))
    >>> job_toasts([done])
    [('Job “line 12” completed', 'success')]
    """
    return ended_toasts([event.job for event in events
                         if event.kind is JobEventKind.STATE_CHANGED], failures=failures)


def ended_toasts(jobs: Iterable[Job], *, failures: bool = True) -> list[Toast]:
    """Toasts for the completed (and, with ``failures``, failed) jobs among ``jobs``: the
    records a bridge batch announced, or those the history feed shows ended in another
    process (a ``seisproc run`` in a terminal).

    >>> from seisproc.jobs.model import Job, JobState
    >>> ended_toasts([Job(id="a1", name="x", state=JobState.FAILED, message="disk full")])
    [('Job “x” failed: disk full', 'error')]
    """
    wanted = (JobState.COMPLETED, JobState.FAILED) if failures else (JobState.COMPLETED,)
    ended = {job.id: job for job in jobs if job.state in wanted}
    completed = [job for job in ended.values() if job.state is JobState.COMPLETED]
    failed = [job for job in ended.values() if job.state is JobState.FAILED]
    if len(completed) + len(failed) <= MAX_SINGLE:
        return [_job_toast(job) for job in ended.values()]
    toasts = []
    if completed:
        toasts.append((f"{len(completed)} jobs completed: {_names(completed)}", "success"))
    if failed:
        toasts.append((f"{len(failed)} jobs failed: {_names(failed)}", "error"))
    return toasts


def _job_toast(job: Job) -> Toast:
    if job.state is JobState.FAILED:
        return f"Job “{job.name}” failed: {_short(job.message)}", "error"
    took = format_clock(job.duration_s)
    return f"Job “{job.name}” completed" + (f" in {took}" if took else ""), "success"


def alert_summary(alerts: Sequence[Alert]) -> Toast | None:
    """One toast for a batch of more than :data:`MAX_SINGLE` alerts (``None`` for fewer:
    those get a toast each), at the batch's highest severity.

    >>> from seisproc.alerts.rules import Severity
    >>> alert_summary([Alert("job_failed", Severity.CRITICAL, AlertStatus.FIRING, "x")])
    """
    if len(alerts) <= MAX_SINGLE:
        return None
    firing = [a for a in alerts if a.status is AlertStatus.FIRING]
    order = ("info", "warning", "critical")
    worst = max((a.severity.value for a in firing), key=order.index, default="info")
    counts = Counter(a.rule for a in firing)
    rules = ", ".join(f"{rule} ×{n}" if n > 1 else rule for rule, n in sorted(counts.items()))
    resolved = len(alerts) - len(firing)
    return (f"{len(firing)} alerts ({rules})" + (f", {resolved} resolved" if resolved else "")
            + "; see the Resource Monitor", worst)
