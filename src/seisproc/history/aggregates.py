"""The SQL behind :class:`~seisproc.history.statistics.JobStatistics`.

Each figure comes from aggregate queries over the window's jobs, so a year of a million
jobs returns a few thousand grouped rows, never the jobs themselves:

* one scan of the ``ix_jobs_statistics`` covering index, grouped by (day, type, state,
  processor sequence) and rolled up in the same statement to (day, type, state) and to
  processor sequence, yields counts, totals, means and prediction errors (see
  :func:`_grouped_query`);
* percentiles are read at their ranks along ``ix_jobs_durations`` (see
  :func:`_durations`); failures are grouped from the failed jobs alone.

The same statements run on SQLite and PostgreSQL. SQLite aggregates a GROUP BY in one
pass only when an index delivers rows in the group's order (it has no hash aggregate), so
the index column order matters: it is what keeps a year under a second.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    and_,
    func,
    null,
    select,
    union_all,
)

from seisproc.history.models import PROCESSORS_SEPARATOR, Base, JobRow
from seisproc.history.resources import resource_buckets
from seisproc.history.statistics import (
    DayStats,
    DurationStats,
    FailureReason,
    JobStatistics,
    PredictionAccuracy,
    ProcessorUsage,
)
from seisproc.jobs.model import JobState, JobType

__all__ = ["compute_statistics", "window_start"]

TOP_REASONS = 10

_JOBS = Base.metadata.tables[JobRow.__tablename__]
_COMPLETED = JobState.COMPLETED.value


def window_start(days: int, now: datetime) -> datetime:
    """Midnight UTC at the start of the window of ``days`` days that ends today."""
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)


def compute_statistics(connection: Connection, days: int, now: datetime) -> JobStatistics:
    """Every figure of :class:`JobStatistics` for the ``days`` days ending at ``now``."""
    window = _Window(window_start(days, now), days)
    totals = _Totals()
    for row in connection.execute(_grouped_query(window)):
        totals.add(row)
    completed = totals.completed
    timed = sum(count for count, _ in completed.values())
    return JobStatistics(
        days=days, since=window.since, until=now, by_state=dict(totals.by_state),
        durations=_durations(connection, window, completed),
        per_day=_per_day(totals.per_day, window),
        failure_reasons=_failure_reasons(connection, window),
        processors=totals.processor_usage(),
        traces_processed=totals.traces, bytes_processed=round(totals.bytes),
        mean_duration_s=sum(s for _, s in completed.values()) / timed if timed else None,
        resources=resource_buckets(connection, window.since, now),
        predictions=totals.predictions(),
    )


@dataclass(frozen=True)
class _Window:
    """Whole UTC days: by the stored day (indexed for the grouped scans) or, equally, by
    creation time (for the indexes that have it)."""

    since: datetime
    days: int

    @property
    def by_day(self) -> ColumnElement[bool]:
        first = self.since.date()
        return _JOBS.c.created_day.between(first, first + timedelta(days=self.days - 1))

    @property
    def by_time(self) -> ColumnElement[bool]:
        end = self.since + timedelta(days=self.days)
        return and_(_JOBS.c.created_at >= self.since, _JOBS.c.created_at < end)


@dataclass
class _Totals:
    """Sums over the grouped rows: a few thousand (day, type, state) groups for a year."""

    by_state: Counter[JobState] = field(
        default_factory=lambda: Counter({state: 0 for state in JobState}))
    per_day: dict[date, Counter[JobState]] = field(default_factory=lambda: defaultdict(Counter))
    completed: dict[JobType, tuple[int, float]] = field(default_factory=dict)
    """Per type: completed jobs with a duration, and their summed seconds."""
    traces: int = 0
    bytes: float = 0.0
    predicted: tuple[float, ...] = (0, 0.0, 0.0, 0.0)
    """Completed jobs with a prediction; their predicted seconds; actual minus predicted
    seconds; absolute differences. (A completed job always has a duration: it ran.)"""

    sequences: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per processor sequence: jobs and traces."""

    def add(self, row: Row[Any]) -> None:
        # Sums of counts come back as numeric (Decimal) from PostgreSQL: convert first.
        jobs, traces = int(row.jobs), int(row.traces or 0)
        if row.state is None:  # a per-sequence row of the roll-up
            self.sequences[row.processors_key] = (jobs, traces)
            return
        state = JobState(row.state)
        self.by_state[state] += jobs
        self.per_day[row.created_day][state] += jobs
        self.traces += traces
        self.bytes += float(row.bytes or 0.0)
        if state is JobState.COMPLETED:
            count, seconds = self.completed.get(JobType(row.type), (0, 0.0))
            self.completed[JobType(row.type)] = (count + int(row.timed),
                                                 seconds + float(row.seconds or 0.0))
            self.predicted = tuple(total + float(value or 0) for total, value in zip(
                self.predicted, (row.predicted, row.predicted_s, row.over_s, row.error_s),
                strict=True))

    def processor_usage(self) -> tuple[ProcessorUsage, ...]:
        """Each processor of each sequence credited with the sequence's jobs and traces."""
        used: Counter[str] = Counter()
        traces: Counter[str] = Counter()
        for key, (jobs, sequence_traces) in self.sequences.items():
            for name in set(filter(None, key.split(PROCESSORS_SEPARATOR))):
                used[name] += jobs
                traces[name] += sequence_traces
        ranked = sorted(used, key=lambda name: (-used[name], name))
        return tuple(ProcessorUsage(name, used[name], traces[name]) for name in ranked)

    def predictions(self) -> PredictionAccuracy:
        jobs, predicted_s, over_s, error_s = self.predicted
        actual_s = predicted_s + over_s
        return PredictionAccuracy(
            int(jobs), 100.0 * error_s / actual_s if actual_s > 0 else None,
            actual_s / predicted_s if predicted_s > 0 else None)


def _grouped_query(window: _Window) -> Any:
    """(day, type, state) rows, then one row per processor sequence (``state`` NULL).

    The fine groups are computed once, in index order, into a materialized CTE; both
    roll-ups read that (tens of thousands of rows at most), not the jobs again.
    """
    jobs = _JOBS.c
    actual, predicted = jobs.duration_s, jobs.predicted_duration_s
    # Per-row arithmetic is what this scan spends its time on: bytes are summed from a
    # stored column, and the prediction figures need two differences, no division.
    difference = actual - predicted
    keys = (jobs.created_day, jobs.type, jobs.state, jobs.processors_key)
    fine = (select(*keys, func.count().label("jobs"), func.count(actual).label("timed"),
                   func.sum(actual).label("seconds"), func.sum(jobs.traces_done).label("traces"),
                   func.sum(jobs.bytes_done).label("bytes"),
                   func.count(predicted).label("predicted"),
                   func.sum(predicted).label("predicted_s"),
                   func.sum(difference).label("over_s"),
                   func.sum(func.abs(difference)).label("error_s"))
            .where(window.by_day).group_by(*keys).cte("fine").prefix_with("MATERIALIZED"))
    g = fine.c
    by_day = select(g.created_day, g.type, g.state, null().label("processors_key"),
                    *(func.sum(g[name]).label(name) for name in _SUMMED)
                    ).group_by(g.created_day, g.type, g.state)
    by_sequence = select(null(), null(), null(), g.processors_key, func.sum(g.jobs),
                         *(null() for _ in _SUMMED[1:3]), func.sum(g.traces),
                         *(null() for _ in _SUMMED[4:])).group_by(g.processors_key)
    return union_all(by_day, by_sequence)


_SUMMED = ("jobs", "timed", "seconds", "traces", "bytes", "predicted", "predicted_s",
           "over_s", "error_s")


def _per_day(counts: dict[date, Counter[JobState]], window: _Window) -> tuple[DayStats, ...]:
    out = []
    for offset in range(window.days):
        day = window.since.date() + timedelta(days=offset)
        states = counts.get(day, Counter())
        out.append(DayStats(day, sum(states.values()), states[JobState.COMPLETED],
                            states[JobState.FAILED], states[JobState.CANCELLED]))
    return tuple(out)


def _durations(connection: Connection, window: _Window,
               completed: dict[JobType, tuple[int, float]]) -> tuple[DurationStats, ...]:
    """Mean from the grouped scan; median and p95 read at their ranks.

    Ranks, with ``n`` completed jobs of the type: the median is the mean of ranks
    ``(n+1)//2`` and ``(n+2)//2`` (one rank when ``n`` is odd); p95 is nearest-rank,
    ``ceil(0.95 n) = (95n + 99)//100``. Each is read with ``ORDER BY duration_s LIMIT …
    OFFSET rank-1`` along the ``ix_jobs_durations`` index, already in that order: a
    ``ROW_NUMBER() OVER (PARTITION BY type ORDER BY duration_s)`` query gives the same
    answer, but SQLite buffers every partition for it (1.1 s for 800,000 jobs here,
    against 0.1 s for the index walk), so this is the one path for both databases.
    """
    out = []
    for job_type, (n, seconds) in sorted(completed.items()):
        if n == 0:
            continue
        middle = _ranked(connection, window, job_type, (n + 1) // 2, (n + 2) // 2)
        p95 = _ranked(connection, window, job_type, (95 * n + 99) // 100)
        if middle and p95:  # empty only if jobs ended between two statements
            out.append(DurationStats(job_type, n, seconds / n, sum(middle) / len(middle),
                                     p95[0]))
    return tuple(out)


def _ranked(connection: Connection, window: _Window, job_type: JobType, first: int,
            last: int | None = None) -> list[float]:
    """Durations of the type's completed jobs at ranks ``first..last`` (1-based)."""
    query = _ranked_query(window, job_type, first, last or first)
    return [float(value) for value in connection.execute(query).scalars()]


def _ranked_query(window: _Window, job_type: JobType, first: int, last: int) -> Any:
    jobs = _JOBS.c
    return (select(jobs.duration_s)
            .where(jobs.state == _COMPLETED, jobs.type == job_type.value,
                   jobs.duration_s.is_not(None), window.by_day)
            .order_by(jobs.duration_s).limit(last - first + 1).offset(first - 1))


def _failure_reasons(connection: Connection, window: _Window) -> tuple[FailureReason, ...]:
    return tuple(FailureReason(row.error_type, row.reason, row.n, row.last_at)
                 for row in connection.execute(_failures_query(window)))


def _failures_query(window: _Window) -> Any:
    """The most frequent (error type, reason) pairs, from ``ix_jobs_failures`` alone."""
    jobs = _JOBS.c
    error_type = func.coalesce(jobs.error_type, "").label("error_type")
    reason = func.coalesce(jobs.error_reason, "").label("reason")
    count = func.count().label("n")
    return (select(error_type, reason, count, func.max(jobs.created_at).label("last_at"))
            .where(jobs.state == JobState.FAILED.value, window.by_time)
            .group_by(jobs.error_type, jobs.error_reason)
            .order_by(count.desc(), error_type, reason).limit(TOP_REASONS))
