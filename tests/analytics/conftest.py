"""A small history with every kind of figure in it, for the report and CLI tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seisproc.history import JobHistoryStorage, JobStatistics, ResourceSample
from seisproc.jobs.model import Job, JobError, JobProgress, JobState, JobType

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
FLOW = {"steps": [{"bandpass": {}}, {"agc": {}}]}


def history_jobs() -> list[Job]:
    """Ten jobs over three days: seven completed (two types), two failed, one cancelled."""
    jobs = []
    for i, (day, state, job_type, seconds) in enumerate([
            (8, JobState.COMPLETED, JobType.PROCESSING, 30), (8, JobState.FAILED,
                                                              JobType.PROCESSING, 5),
            (9, JobState.COMPLETED, JobType.PROCESSING, 50), (9, JobState.COMPLETED,
                                                              JobType.QC, 12),
            (9, JobState.CANCELLED, JobType.EXPORT, 3), (10, JobState.COMPLETED,
                                                         JobType.PROCESSING, 40),
            (10, JobState.COMPLETED, JobType.QC, 8), (10, JobState.FAILED, JobType.QC, 1),
            (10, JobState.COMPLETED, JobType.PROCESSING, 45),
            (10, JobState.COMPLETED, JobType.INDEX, 2)]):
        created = datetime(2026, 3, day, 8 + i, tzinfo=UTC)
        started = created + timedelta(seconds=1)
        error = (JobError("ProcessingError", f"line{i}.sgy: gather ffid={i}: NaN <bad>")
                 if state is JobState.FAILED else None)
        jobs.append(Job(
            id=f"job{i:03d}", name=f"line {i}", type=job_type, state=state,
            created_at=created, started_at=started,
            finished_at=started + timedelta(seconds=seconds), updated_at=created,
            progress=JobProgress(traces_done=100 * (i + 1), traces_total=100 * (i + 1)),
            error=error, message=error.message if error else "", flow=FLOW))
    return jobs


def history_samples() -> list[ResourceSample]:
    t0 = datetime(2026, 3, 10, 9, tzinfo=UTC)
    return [ResourceSample(t0 + timedelta(minutes=m), cpu_percent=20 + m % 50,
                           memory_percent=40 + m % 10, gpu_percent=None,
                           disk_read_mb_s=float(m % 7), disk_write_mb_s=float(m % 3),
                           running_jobs=m % 4) for m in range(0, 240, 2)]


@pytest.fixture
def history_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    store = JobHistoryStorage(url)
    for job in history_jobs():
        store.save_job(job)
    store.save_resource_samples(history_samples())
    store.close()
    yield url


@pytest.fixture
def statistics(history_url: str) -> JobStatistics:
    store = JobHistoryStorage(history_url)
    try:
        return store.get_statistics(7, now=NOW)
    finally:
        store.close()
