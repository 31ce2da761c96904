"""``ResourceSample.from_snapshot``: a monitor snapshot as the history's utilisation row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from seisproc.history import ResourceSample
from seisproc.monitoring import GpuStats, JobMetrics, ResourceSnapshot

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def snapshot(**changes: object) -> ResourceSnapshot:
    base: dict[str, object] = dict(
        at=AT, monotonic_s=10.0, interval_s=60.0, cpu_percent=37.5, cpu_per_core=(37.5,),
        memory_percent=61.0, memory_used_bytes=61, memory_total_bytes=100, swap_percent=0.0)
    return ResourceSnapshot(**{**base, **changes})  # type: ignore[arg-type]


def test_rates_in_bytes_per_second_become_megabytes_per_second() -> None:
    sample = ResourceSample.from_snapshot(snapshot(disk_read_bytes_per_s=12_500_000.0,
                                                   disk_write_bytes_per_s=3_000_000.0))
    assert (sample.at, sample.cpu_percent, sample.memory_percent) == (AT, 37.5, 61.0)
    assert sample.disk_read_mb_s == pytest.approx(12.5)
    assert sample.disk_write_mb_s == pytest.approx(3.0)


def test_unreported_disk_rates_are_zero_and_no_gpu_is_none() -> None:
    sample = ResourceSample.from_snapshot(snapshot())
    assert (sample.disk_read_mb_s, sample.disk_write_mb_s, sample.gpu_percent) == (0.0, 0.0,
                                                                                   None)


def test_gpu_load_is_the_mean_over_the_gpus() -> None:
    gpus = (GpuStats(0, "A", 90.0, 1, 2), GpuStats(1, "B", 30.0, 1, 2),
            GpuStats(2, "C", 0.0, 1, 2))
    assert ResourceSample.from_snapshot(snapshot(gpus=gpus)).gpu_percent == pytest.approx(40.0)


def test_every_active_job_counts_as_running() -> None:
    jobs = (JobMetrics("a1", "line-1", "RUNNING"), JobMetrics("b2", "line-2", "PAUSED"))
    assert ResourceSample.from_snapshot(snapshot(jobs=jobs)).running_jobs == 2
