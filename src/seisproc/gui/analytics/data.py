"""What the analytics view shows, read from the history store in one go.

:func:`load_snapshot` runs on a worker thread (the widget never queries on the GUI
thread): the aggregate statistics come from
:meth:`~seisproc.history.JobHistoryStorage.get_statistics`, exactly as ``seisproc
report`` computes them, plus the predicted and actual durations of recent completed jobs
for the prediction chart. The result is immutable, so handing it to the GUI thread needs
no lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from seisproc.history import JobHistoryStorage, JobStatistics
from seisproc.history import PredictionPair as PredictionPoint
from seisproc.jobs.model import utcnow

__all__ = [
    "PREDICTION_POINTS",
    "AnalyticsSnapshot",
    "DateRange",
    "PredictionPoint",
    "load_snapshot",
    "prediction_points",
]

PREDICTION_POINTS = 500
"""The prediction chart plots at most this many jobs, the most recent: enough to see a
bias, few enough to draw and query instantly."""

@dataclass(frozen=True)
class DateRange:
    """Whole UTC days, ``first`` to ``last`` included, as the statistics count them.

    ``last`` is today for the "last N days" presets: then the window ends now, as
    ``seisproc report --days N`` does, so the GUI and the CLI report the same figures.

    >>> DateRange.last_days(7, today=date(2026, 3, 10))
    DateRange(first=datetime.date(2026, 3, 4), last=datetime.date(2026, 3, 10))
    """

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"date range ends ({self.last}) before it starts ({self.first})")

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> DateRange:
        """The ``days`` UTC days ending today, today included."""
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        end = today or utcnow().date()
        return cls(end - timedelta(days=days - 1), end)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def end(self, now: datetime) -> datetime:
        """When the window closes: ``now`` if it ends today (or later), else the last
        instant of ``last`` (statistics are taken "as of" that moment)."""
        end_of_last = datetime.combine(self.last + timedelta(days=1), time(), UTC)
        return min(now, end_of_last - timedelta(microseconds=1))


@dataclass(frozen=True)
class AnalyticsSnapshot:
    """Everything the analytics view draws, for one date range."""

    date_range: DateRange
    statistics: JobStatistics
    predictions: tuple[PredictionPoint, ...]
    """Most recent first; at most :data:`PREDICTION_POINTS`."""
    read_at: datetime
    """When the history was read (UTC): the figures are the jobs as they were then."""


def load_snapshot(store: JobHistoryStorage, date_range: DateRange,
                  now: datetime | None = None) -> AnalyticsSnapshot:
    """Query the store for ``date_range`` (blocking: call it off the GUI thread)."""
    read_at = now or utcnow()
    end = date_range.end(read_at)
    statistics = store.get_statistics(date_range.days, now=end)
    points = prediction_points(store, statistics.since, end)
    return AnalyticsSnapshot(date_range, statistics, points, read_at)


def prediction_points(store: JobHistoryStorage, since: datetime, until: datetime,
                      limit: int = PREDICTION_POINTS) -> tuple[PredictionPoint, ...]:
    """Predicted and actual durations of the most recent ``limit`` completed jobs created
    in ``[since, until]`` that had a prediction recorded."""
    return tuple(store.prediction_pairs(since, until, limit))
