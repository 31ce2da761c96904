"""The report's figures as plain data: labels, x values and series, for any renderer.

The HTML report draws them as SVG and the GUI's analytics view with pyqtgraph; both take
the numbers, names, colours and units from here, so a figure reads the same in the
report, the desktop and the CLI. Times are UTC: a day is the UTC day jobs were created
on, and x values are POSIX timestamps (seconds), which every plotting library accepts.

>>> from seisproc.engine import open_store                          # doctest: +SKIP
>>> stats = open_store().get_statistics(30)                         # doctest: +SKIP
>>> [s.name for s in jobs_per_day(stats)[1]]                        # doctest: +SKIP
['submitted', 'completed', 'failed', 'cancelled']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time

from seisproc.analytics.charts import PALETTE, STATE_COLORS, Series, Slice
from seisproc.analytics.format import human_bytes, human_duration, human_percent
from seisproc.history.statistics import DayStats, JobStatistics, ResourceBucket
from seisproc.jobs.model import JobState

__all__ = [
    "TOP_PROCESSORS",
    "day_timestamps",
    "disk_series",
    "duration_bars",
    "jobs_per_day",
    "outcomes_per_day",
    "rates_per_day",
    "resource_series",
    "status_slices",
    "summary_figures",
    "top_processors",
]

TOP_PROCESSORS = 10
"""The report's and the GUI's processor chart show this many, most used first."""


def summary_figures(stats: JobStatistics) -> list[tuple[str, str]]:
    """The summary cards, ``(label, formatted value)``, in display order.

    The first three are the headline: total jobs, success rate, average duration.
    """
    accuracy = stats.predictions
    return [
        ("Total jobs", f"{stats.total_jobs:,}"),
        ("Success rate", human_percent(stats.success_rate)),
        ("Average duration", human_duration(stats.mean_duration_s)),
        ("Traces processed", f"{stats.traces_processed:,}"),
        ("Data processed", human_bytes(stats.bytes_processed)),
        (f"Prediction error ({accuracy.jobs:,} jobs)",
         "-" if accuracy.error_pct is None else f"{accuracy.error_pct:.0f} %"),
    ]


def status_slices(stats: JobStatistics) -> list[Slice]:
    """Jobs per state, in the report's state order; states without jobs are left out."""
    return [Slice(state.value.lower(), stats.by_state.get(state, 0), color)
            for state, color in STATE_COLORS.items() if stats.by_state.get(state, 0) > 0]


def day_timestamps(stats: JobStatistics) -> list[float]:
    """Midnight UTC of each day of the window, as POSIX seconds."""
    return [datetime.combine(d.day, time(), UTC).timestamp() for d in stats.per_day]


def jobs_per_day(stats: JobStatistics) -> tuple[list[float], list[Series]]:
    """Jobs submitted per day, and how many of them completed, failed, were cancelled."""
    days = stats.per_day
    return day_timestamps(stats), [
        Series("submitted", [d.total for d in days], PALETTE[0]), *_ended_series(days)]


def outcomes_per_day(stats: JobStatistics) -> tuple[list[float], list[Series]]:
    """Jobs submitted per day split by how they turned out, for stacking: completed,
    failed, cancelled, and still active (queued, running, paused, interrupted) — the
    stack's height is the day's submitted jobs."""
    days = stats.per_day
    return day_timestamps(stats), [
        *_ended_series(days),
        Series("not ended", [d.total - d.ended for d in days], STATE_COLORS[JobState.QUEUED]),
    ]


def _ended_series(days: Sequence[DayStats]) -> list[Series]:
    """Completed, failed and cancelled jobs per day, each in its state's colour."""
    return [
        Series("completed", [d.completed for d in days], STATE_COLORS[JobState.COMPLETED]),
        Series("failed", [d.failed for d in days], STATE_COLORS[JobState.FAILED]),
        Series("cancelled", [d.cancelled for d in days], STATE_COLORS[JobState.CANCELLED]),
    ]


def rates_per_day(stats: JobStatistics) -> tuple[list[float], list[Series]]:
    """Daily success and failure rates of ended jobs, in percent; ``None`` on a day
    when no job ended (no outcome to divide)."""

    def percent(share: float | None) -> float | None:
        return None if share is None else 100 * share

    return day_timestamps(stats), [
        Series("success", [percent(d.success_rate) for d in stats.per_day],
               STATE_COLORS[JobState.COMPLETED]),
        Series("failure", [percent(d.failure_rate) for d in stats.per_day],
               STATE_COLORS[JobState.FAILED]),
    ]


def resource_series(stats: JobStatistics) -> tuple[list[float], list[Series]]:
    """CPU, memory (and GPU, when any bucket has it) utilisation in percent per bucket.

    Where the monitor was not sampling (a gap wider than 1.5 buckets), a ``None`` point
    is inserted half-way, so a line breaks there instead of bridging hours of nothing.
    """
    xs, column = _resource_columns(stats.resources)
    series = [Series("CPU", column("cpu_percent"), PALETTE[0]),
              Series("memory", column("memory_percent"), PALETTE[4])]
    if any(b.gpu_percent is not None for b in stats.resources):
        series.append(Series("GPU", column("gpu_percent"), PALETTE[1]))
    return xs, series


def disk_series(stats: JobStatistics) -> tuple[list[float], list[Series]]:
    """Disk read and write throughput in MB/s per bucket, with the gaps of
    :func:`resource_series`."""
    xs, column = _resource_columns(stats.resources)
    return xs, [Series("read", column("disk_read_mb_s"), PALETTE[5]),
                Series("write", column("disk_write_mb_s"), PALETTE[6])]


def _resource_columns(buckets: Sequence[ResourceBucket]
                      ) -> tuple[list[float], Callable[[str], list[float | None]]]:
    """Bucket start times with a gap point where the monitor was not sampling, and a
    function giving one bucket field's values on those times (``None`` at a gap)."""
    xs: list[float] = []
    rows: list[int] = []
    for i, bucket in enumerate(buckets):
        x = bucket.start.timestamp()
        if xs and x - xs[-1] > 1.5 * bucket.width_s:
            xs.append((xs[-1] + x) / 2)
            rows.append(-1)
        xs.append(x)
        rows.append(i)

    def column(name: str) -> list[float | None]:
        return [None if i < 0 else getattr(buckets[i], name) for i in rows]

    return xs, column


def duration_bars(stats: JobStatistics) -> list[tuple[str, float]]:
    """Mean duration in seconds of the completed jobs of each type, ``(type, mean_s)``."""
    return [(d.job_type.value.lower(), d.mean_s) for d in stats.durations]


def top_processors(stats: JobStatistics,
                   limit: int = TOP_PROCESSORS) -> list[tuple[str, int, int]]:
    """``(processor, jobs, traces)`` of the ``limit`` most used processors, most first."""
    return [(p.processor, p.jobs, p.traces) for p in stats.processors[:limit]]
