"""Predicted duration: how long a job should take, judged from similar jobs that completed.

Similar means the same processor sequence and a size (``traces_total``) within a factor
of :data:`SIZE_FACTOR`; the rate is the traces-weighted mean of the most recent
:data:`RECENT_JOBS` of them (total traces / total seconds, so a tiny job's start-up cost
does not dominate). With no similar job, any size with the same processors is used; with
none at all, :data:`DEFAULT_TRACES_PER_S`. The prediction is recorded on the job's row
beside the actual duration, so analytics can report how good predictions are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select, update

from seisproc.history.models import Base, JobRow, processors_key
from seisproc.jobs.model import JobState, JobType

__all__ = [
    "DEFAULT_TRACES_PER_S",
    "Prediction",
    "PredictionPair",
    "RECENT_JOBS",
    "SIZE_FACTOR",
    "predict",
    "prediction_pairs",
    "record_prediction",
]

DEFAULT_TRACES_PER_S = 5_000.0
"""Rate assumed with no history: a bandpass + AGC flow on one local worker, 2 ms samples
(the demo survey), runs at a few thousand traces per second."""
SIZE_FACTOR = 4.0
RECENT_JOBS = 20

_JOBS = Base.metadata.tables[JobRow.__tablename__]


@dataclass(frozen=True)
class Prediction:
    """An estimate made before a job starts.

    >>> Prediction(traces_per_s=2000.0, duration_s=12.5, based_on=3).duration_s
    12.5
    """

    traces_per_s: float
    duration_s: float
    based_on: int
    """How many completed jobs the rate comes from; 0 means the default rate."""

    @property
    def from_history(self) -> bool:
        return self.based_on > 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def predict(connection: Connection, processors: list[str], traces_total: int) -> Prediction:
    """The expected rate and duration of a job running ``processors`` on ``traces_total``."""
    similar = _matching(processors).where(
        _JOBS.c.traces_total >= traces_total / SIZE_FACTOR,
        _JOBS.c.traces_total <= traces_total * SIZE_FACTOR)
    for candidates in (similar, _matching(processors)):
        recent = candidates.order_by(_JOBS.c.created_at.desc()).limit(RECENT_JOBS).subquery()
        jobs, traces, seconds = connection.execute(select(
            func.count(), func.sum(recent.c.traces_done), func.sum(recent.c.duration_s))).one()
        if jobs:
            traces_per_s = int(traces) / seconds  # PostgreSQL sums bigints as numeric
            return Prediction(traces_per_s, max(traces_total, 0) / traces_per_s, jobs)
    return Prediction(DEFAULT_TRACES_PER_S, max(traces_total, 0) / DEFAULT_TRACES_PER_S, 0)


def _matching(processors: list[str]) -> Select[Any]:
    jobs = _JOBS.c
    return select(jobs.traces_done, jobs.duration_s).where(
        jobs.processors_key == processors_key(processors),
        jobs.state == JobState.COMPLETED.value, jobs.duration_s > 0, jobs.traces_done > 0)


def record_prediction(connection: Connection, job_id: str, prediction: Prediction) -> bool:
    """Store the prediction on the job's row; ``False`` if there is no such job."""
    result = connection.execute(
        update(_JOBS).where(_JOBS.c.id == job_id).values(
            predicted_traces_per_s=prediction.traces_per_s,
            predicted_duration_s=prediction.duration_s))
    return bool(result.rowcount)


@dataclass(frozen=True)
class PredictionPair:
    """One completed job: the duration predicted before it ran and the one it took."""

    job_type: JobType
    predicted_s: float
    actual_s: float


def prediction_pairs(connection: Connection, since: datetime, until: datetime,
                     limit: int) -> list[PredictionPair]:
    """The most recent ``limit`` completed jobs created in ``[since, until]`` that had a
    prediction recorded: one bounded page of three columns, read along the state/created
    index, never the jobs themselves."""
    jobs = _JOBS.c
    query = (select(jobs.type, jobs.predicted_duration_s, jobs.duration_s)
             .where(jobs.state == JobState.COMPLETED.value,
                    jobs.created_at >= since, jobs.created_at <= until,
                    jobs.predicted_duration_s.is_not(None), jobs.duration_s.is_not(None))
             .order_by(jobs.created_at.desc()).limit(limit))
    return [PredictionPair(JobType(row.type), float(row.predicted_duration_s),
                           float(row.duration_s))
            for row in connection.execute(query)]
