"""What :meth:`JobHistoryStorage.get_statistics` returns: aggregate figures over a window.

Plain frozen dataclasses, so the CLI, the HTML report and the GUI's analytics widget read
the same fields, and ``to_dict`` gives the JSON export. Every figure is computed in SQL
(see :mod:`seisproc.history.aggregates`); these records only hold the results.

Definitions, in the user's words:

* The window is the last ``days`` UTC calendar days, today included; a job belongs to the
  day it was **created** (submitted).
* Success rate = COMPLETED / ended jobs, failure rate = FAILED / ended jobs, where ended
  means COMPLETED, FAILED or CANCELLED (still-running jobs have no outcome yet).
* Durations are wall-clock start-to-finish times of COMPLETED jobs, pauses included.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from seisproc.jobs.model import JobState, JobType

__all__ = [
    "DayStats",
    "DurationStats",
    "FailureReason",
    "JobStatistics",
    "PredictionAccuracy",
    "ProcessorUsage",
    "ResourceBucket",
    "rate",
]

ENDED_STATES = (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)


def rate(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` when there is nothing to divide (no ended jobs).

    >>> rate(3, 4), rate(0, 0)
    (0.75, None)
    """
    return part / whole if whole else None


@dataclass(frozen=True)
class DurationStats:
    """How long COMPLETED jobs of one type took, in seconds."""

    job_type: JobType
    jobs: int
    """Completed jobs of this type in the window."""
    mean_s: float
    median_s: float
    """The middle duration (mean of the two middle ones for an even count)."""
    p95_s: float
    """Nearest-rank 95th percentile: 95 % of the jobs took this long or less."""


@dataclass(frozen=True)
class DayStats:
    """Jobs created on one UTC day, and how those that ended turned out."""

    day: date
    total: int
    completed: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def ended(self) -> int:
        return self.completed + self.failed + self.cancelled

    @property
    def success_rate(self) -> float | None:
        return rate(self.completed, self.ended)

    @property
    def failure_rate(self) -> float | None:
        return rate(self.failed, self.ended)

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "total": self.total,
                "completed": self.completed, "failed": self.failed,
                "cancelled": self.cancelled, "success_rate": self.success_rate,
                "failure_rate": self.failure_rate}


@dataclass(frozen=True)
class FailureReason:
    """One kind of failure: the error's type and the start of its message."""

    error_type: str
    message: str
    """The first :data:`~seisproc.history.models.REASON_CHARS` characters of the error
    message with every number shown as ``#`` (:func:`~seisproc.history.models.failure_reason`),
    so failures that differ only in the gather, trace or unit they name group together."""
    count: int
    last_at: datetime
    """Creation time of the most recent job that failed this way."""


@dataclass(frozen=True)
class ProcessorUsage:
    """How much one processor was used: jobs whose flow has it, and their traces."""

    processor: str
    jobs: int
    traces: int
    """Traces those jobs processed (a trace through a two-step flow counts once per step)."""


@dataclass(frozen=True)
class ResourceBucket:
    """Mean utilisation over one time bucket of resource samples."""

    start: datetime
    width_s: int
    samples: int
    cpu_percent: float
    memory_percent: float
    gpu_percent: float | None
    """``None`` when no sample in the bucket had a GPU reading."""
    disk_read_mb_s: float
    disk_write_mb_s: float
    running_jobs: float


@dataclass(frozen=True)
class PredictionAccuracy:
    """How predicted durations compared with actual ones, over completed jobs that had a
    prediction. Both figures weigh jobs by their duration (sums, not means of per-job
    ratios), so a few-second job that took twice its prediction does not swamp them."""

    jobs: int
    """Completed jobs in the window that had a prediction recorded."""
    error_pct: float | None
    """``sum |actual - predicted| / sum actual``, in percent."""
    actual_over_predicted: float | None
    """``sum actual / sum predicted``: above 1, jobs ran longer than predicted."""


@dataclass(frozen=True)
class JobStatistics:
    """Aggregate figures over the last ``days`` days; see the module docstring."""

    days: int
    since: datetime
    """Start of the window: midnight UTC, ``days - 1`` days before today."""
    until: datetime
    """End of the window (when the statistics were computed)."""
    by_state: dict[JobState, int]
    """Jobs per state, every state present (zero when none)."""
    durations: tuple[DurationStats, ...] = ()
    per_day: tuple[DayStats, ...] = ()
    """Every day of the window, oldest first, days without jobs included."""
    failure_reasons: tuple[FailureReason, ...] = ()
    """Most frequent first."""
    processors: tuple[ProcessorUsage, ...] = ()
    """Most used first."""
    traces_processed: int = 0
    bytes_processed: int = 0
    """Estimated from each job's input size and the fraction of its traces processed."""
    mean_duration_s: float | None = None
    """Mean duration of all completed jobs in the window."""
    resources: tuple[ResourceBucket, ...] = ()
    predictions: PredictionAccuracy = field(
        default_factory=lambda: PredictionAccuracy(0, None, None))

    @property
    def total_jobs(self) -> int:
        return sum(self.by_state.values())

    @property
    def ended_jobs(self) -> int:
        return sum(self.by_state.get(state, 0) for state in ENDED_STATES)

    @property
    def success_rate(self) -> float | None:
        return rate(self.by_state.get(JobState.COMPLETED, 0), self.ended_jobs)

    @property
    def failure_rate(self) -> float | None:
        return rate(self.by_state.get(JobState.FAILED, 0), self.ended_jobs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: enums as names, times in ISO 8601, derived rates included."""
        return {
            "days": self.days, "since": self.since.isoformat(),
            "until": self.until.isoformat(), "total_jobs": self.total_jobs,
            "success_rate": self.success_rate, "failure_rate": self.failure_rate,
            "mean_duration_s": self.mean_duration_s,
            "by_state": {state.value: n for state, n in self.by_state.items()},
            "durations": [{**asdict(d), "job_type": d.job_type.value} for d in self.durations],
            "per_day": [d.to_dict() for d in self.per_day],
            "failure_reasons": [{**asdict(r), "last_at": r.last_at.isoformat()}
                                for r in self.failure_reasons],
            "processors": [asdict(p) for p in self.processors],
            "traces_processed": self.traces_processed, "bytes_processed": self.bytes_processed,
            "resources": [{**asdict(b), "start": b.start.isoformat()} for b in self.resources],
            "predictions": asdict(self.predictions),
        }
