"""Resource samples: what the machine was doing while jobs ran, kept beside the jobs.

The resource monitor hands over samples in batches (one insert per batch, not per
sample); analytics reads them back averaged over time buckets whose width adapts to the
span of the samples, so a ten-minute run and a year of history both chart as ~100 points.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, func, insert, select

from seisproc.history.models import Base, ResourceSampleRow
from seisproc.history.sql import time_bucket
from seisproc.history.statistics import ResourceBucket

if TYPE_CHECKING:  # only read at run time: importing the history starts no NVML or psutil
    from seisproc.monitoring.snapshot import ResourceSnapshot

__all__ = [
    "MAX_BUCKETS",
    "ResourceSample",
    "bucket_width_s",
    "insert_samples",
    "resource_buckets",
    "select_samples",
]

MAX_BUCKETS = 120
"""At most this many points per chart: enough for a smooth line, few enough to draw."""
_NICE_WIDTHS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
                  21600, 43200, 86400, 172800, 604800)
_SAMPLES = Base.metadata.tables[ResourceSampleRow.__tablename__]


@dataclass(frozen=True)
class ResourceSample:
    """Utilisation at one instant. Percentages are 0-100, rates in MB/s (10**6 bytes)."""

    at: datetime
    cpu_percent: float
    memory_percent: float
    gpu_percent: float | None = None
    """``None`` on a machine without a GPU."""
    disk_read_mb_s: float = 0.0
    disk_write_mb_s: float = 0.0
    running_jobs: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceSample:
        """From a mapping with these field names (extra keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})

    @classmethod
    def from_snapshot(cls, snapshot: ResourceSnapshot) -> ResourceSample:
        """The history's row for a resource monitor's snapshot (usually the downsampled
        one its ``sink`` receives): the GPUs' mean load, disk rates in MB/s, and every
        active job (queued and paused too) counted in ``running_jobs``.

        >>> from seisproc.monitoring import GpuStats, ResourceSnapshot
        >>> snapshot = ResourceSnapshot(
        ...     at=datetime(2026, 3, 1, tzinfo=UTC), monotonic_s=0.0, interval_s=60.0,
        ...     cpu_percent=40.0, cpu_per_core=(40.0,), memory_percent=55.0,
        ...     memory_used_bytes=55, memory_total_bytes=100, swap_percent=0.0,
        ...     disk_read_bytes_per_s=2.5e6,
        ...     gpus=(GpuStats(0, "A", 80.0, 0, 1), GpuStats(1, "B", 20.0, 0, 1)))
        >>> sample = ResourceSample.from_snapshot(snapshot)
        >>> sample.gpu_percent, sample.disk_read_mb_s, sample.disk_write_mb_s
        (50.0, 2.5, 0.0)
        """
        return cls(at=snapshot.at, cpu_percent=snapshot.cpu_percent,
                   memory_percent=snapshot.memory_percent, gpu_percent=snapshot.gpu_percent,
                   disk_read_mb_s=(snapshot.disk_read_bytes_per_s or 0.0) / 1e6,
                   disk_write_mb_s=(snapshot.disk_write_bytes_per_s or 0.0) / 1e6,
                   running_jobs=len(snapshot.jobs))


def insert_samples(connection: Connection,
                   samples: Iterable[ResourceSample | Mapping[str, Any]]) -> int:
    """Insert the samples with one executemany; returns how many."""
    rows = [(s if isinstance(s, ResourceSample) else ResourceSample.from_dict(s)).to_dict()
            for s in samples]
    if rows:
        connection.execute(insert(_SAMPLES), rows)
    return len(rows)


def select_samples(connection: Connection, date_from: datetime | None,
                   date_to: datetime | None) -> list[ResourceSample]:
    """Samples with ``date_from <= at < date_to`` (either bound optional), oldest first."""
    query = select(*(_SAMPLES.c[f.name] for f in dataclasses.fields(ResourceSample)))
    if date_from is not None:
        query = query.where(_SAMPLES.c.at >= date_from)
    if date_to is not None:
        query = query.where(_SAMPLES.c.at < date_to)
    rows = connection.execute(query.order_by(_SAMPLES.c.at, _SAMPLES.c.id)).all()
    return [ResourceSample(**row._mapping) for row in rows]


def bucket_width_s(span_s: float, max_buckets: int = MAX_BUCKETS) -> int:
    """The narrowest round width (1 s, 5 s, … 1 h, 1 d, 1 week) giving at most
    ``max_buckets`` buckets over ``span_s`` seconds.

    >>> bucket_width_s(600), bucket_width_s(30 * 86400)
    (10, 43200)
    """
    for width in _NICE_WIDTHS_S:
        if span_s / width < max_buckets:
            return width
    return _NICE_WIDTHS_S[-1]


def resource_buckets(connection: Connection, since: datetime,
                     until: datetime) -> tuple[ResourceBucket, ...]:
    """Mean of each measure per time bucket over the samples in ``[since, until]``."""
    samples = _SAMPLES.c
    window = and_(samples.at >= since, samples.at <= until)
    first, last = connection.execute(
        select(func.min(samples.at), func.max(samples.at)).where(window)).one()
    if first is None:
        return ()
    width = bucket_width_s((last - first).total_seconds())
    bucket = time_bucket(samples.at, width).label("bucket")
    query = (select(bucket, func.count().label("n"),
                    *(func.avg(samples[name]).label(name) for name in _MEASURES))
             .where(window).group_by(bucket).order_by(bucket))
    return tuple(_bucket(row, width) for row in connection.execute(query))


def _bucket(row: Any, width: int) -> ResourceBucket:
    return ResourceBucket(
        start=datetime.fromtimestamp(row.bucket * width, UTC), width_s=width, samples=row.n,
        cpu_percent=float(row.cpu_percent), memory_percent=float(row.memory_percent),
        gpu_percent=None if row.gpu_percent is None else float(row.gpu_percent),
        disk_read_mb_s=float(row.disk_read_mb_s), disk_write_mb_s=float(row.disk_write_mb_s),
        running_jobs=float(row.running_jobs))


_MEASURES = ("cpu_percent", "memory_percent", "gpu_percent", "disk_read_mb_s",
             "disk_write_mb_s", "running_jobs")
