"""Durable job history: the SQLAlchemy adapter of :class:`seisproc.jobs.ports.JobStore`.

SQLite under ``SEISPROC_HOME`` by default; ``SEISPROC_DATABASE_URL`` (or a URL argument)
switches to a shared PostgreSQL. The schema is migrated by the Alembic scripts shipped in
``seisproc/history/migrations`` when a database is first opened. Besides the JobStore
calls, the storage answers history queries, aggregate statistics, duration predictions
and resource samples, and cleans up old entries.
"""

from seisproc.history.changes import JobChanges
from seisproc.history.predictions import Prediction, PredictionPair
from seisproc.history.resources import ResourceSample
from seisproc.history.statistics import (
    DayStats,
    DurationStats,
    FailureReason,
    JobStatistics,
    PredictionAccuracy,
    ProcessorUsage,
    ResourceBucket,
)
from seisproc.history.storage import JobHistoryStorage

__all__ = [
    "DayStats",
    "DurationStats",
    "FailureReason",
    "JobChanges",
    "JobHistoryStorage",
    "JobStatistics",
    "Prediction",
    "PredictionAccuracy",
    "PredictionPair",
    "ProcessorUsage",
    "ResourceBucket",
    "ResourceSample",
]
