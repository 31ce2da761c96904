"""A realistic job history for the analytics view: jobs of every type over several days.

Jobs are saved through the store's own API (``save_job``, ``record_prediction``,
``save_resource_samples``) into a real SQLite file, the way a JobManager and the
resource monitor fill it. Durations follow each processor sequence's rate and the
survey's size, with spread; failures and cancellations come in realistic shares (with a
bad day), a few jobs are still active today, and most completed jobs carry the duration
predicted before they ran. Inputs are sparse files of survey size, so "data processed"
is real without writing gigabytes.

The generated jobs are returned too, so tests compute the expected figures from them
independently of the store's SQL. Also used by ``scripts/screenshots/analytics.py``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from seisproc.history import JobHistoryStorage, Prediction, ResourceSample
from seisproc.jobs.model import Job, JobError, JobProgress, JobState, JobType, utcnow

__all__ = ["GeneratedHistory", "populate_history"]

SEQUENCES: dict[JobType, list[tuple[list[str], float]]] = {
    # (processors, traces/s on the test cluster)
    JobType.PROCESSING: [(["bandpass", "agc"], 5200.0),
                         (["top_mute", "bandpass", "agc", "normalize"], 3400.0),
                         (["spherical_divergence", "spiking_decon", "bandpass", "agc"], 900.0),
                         (["tpow", "butterworth"], 4100.0)],
    JobType.QC: [(["agc"], 9000.0), (["normalize"], 12000.0)],
    JobType.INDEX: [([], 60000.0)],
    JobType.EXPORT: [(["exp_gain"], 7000.0)],
}
TYPE_WEIGHTS = {JobType.PROCESSING: 0.6, JobType.QC: 0.2, JobType.INDEX: 0.12,
                JobType.EXPORT: 0.08}
SURVEYS = [("north_3d", 960_000), ("line_1042", 28_800), ("line_1043", 31_200),
           ("marine_2d", 144_000), ("ridge_3d", 410_000)]
"""Survey name and traces; each trace 240 header bytes + 1501 four-byte samples."""
TRACE_BYTES = 240 + 4 * 1501
FAILURES = [("ProcessingError", "gather ffid={n}: NaN in output of spiking_decon"),
            ("SegyError", "line_{n}.sgy: truncated trace {n}"),
            ("WorkerDied", "worker on node {n} exited unexpectedly")]


@dataclass
class GeneratedHistory:
    """What :func:`populate_history` saved."""

    jobs: list[Job] = field(default_factory=list)
    predicted: dict[str, float] = field(default_factory=dict)
    """Job id → predicted duration (s), for the jobs that had one recorded."""
    samples: int = 0

    def in_days(self, first: datetime, end: datetime) -> list[Job]:
        """Jobs created in ``[first, end)``."""
        return [job for job in self.jobs if first <= job.created_at < end]


def populate_history(store: JobHistoryStorage, folder: Path, *, days: int = 6,
                     jobs_per_day: int = 14, now: datetime | None = None, seed: int = 7,
                     sample_every_s: int = 900) -> GeneratedHistory:
    """Fill ``store`` with ``days`` days of jobs ending at ``now`` and resource samples."""
    rng = random.Random(seed)
    now = now or utcnow()
    inputs = _survey_files(folder)
    history = GeneratedHistory()
    start = now - timedelta(days=days)
    for day in range(days):
        bad_day = day == days // 2  # a day when a broken input failed many jobs
        count = max(1, round(jobs_per_day * rng.uniform(0.6, 1.4)))
        for _ in range(count):
            created = start + timedelta(days=day, seconds=rng.uniform(0, 86_400))
            if created >= now - timedelta(minutes=5):
                continue
            job = _job(rng, created, now, inputs, bad_day, len(history.jobs))
            store.save_job(job)
            history.jobs.append(job)
            if job.state is JobState.COMPLETED and rng.random() < 0.75:
                history.predicted[job.id] = _record_prediction(store, job, rng)
    for state in (JobState.RUNNING, JobState.QUEUED, JobState.PAUSED):
        job = _active_job(rng, now, inputs, state, len(history.jobs))
        store.save_job(job)
        history.jobs.append(job)
    history.samples = store.save_resource_samples(
        _samples(rng, start, now, sample_every_s))
    return history


def _survey_files(folder: Path) -> list[tuple[str, int]]:
    """Sparse files with each survey's size: real sizes, no disk used."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, traces in SURVEYS:
        path = folder / f"{name}.sgy"
        with path.open("wb") as handle:
            handle.truncate(3600 + traces * TRACE_BYTES)
        files.append((str(path), traces))
    return files


def _job(rng: random.Random, created: datetime, now: datetime,
         inputs: list[tuple[str, int]], bad_day: bool, number: int) -> Job:
    job_type = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
    processors, rate = rng.choice(SEQUENCES[job_type])
    path, traces = rng.choice(inputs)
    roll = rng.random()
    failed_share = 0.35 if bad_day else 0.07
    state = (JobState.FAILED if roll < failed_share else
             JobState.CANCELLED if roll < failed_share + 0.06 else JobState.COMPLETED)
    seconds = traces / rate * rng.lognormvariate(0, 0.3) + rng.uniform(2, 6)
    fraction = 1.0 if state is JobState.COMPLETED else rng.uniform(0.05, 0.9)
    started = created + timedelta(seconds=rng.uniform(0.5, 120))
    finished = min(started + timedelta(seconds=seconds * fraction), now)
    error = None
    if state is JobState.FAILED:
        kind, message = rng.choice(FAILURES)
        error = JobError(kind, message.format(n=rng.randint(1, 900)))
    done = int(traces * fraction)
    return Job(
        id=f"{number:04d}{rng.getrandbits(32):08x}", name=f"{Path(path).stem} {job_type.value}",
        type=job_type, state=state, created_at=created, started_at=started,
        finished_at=finished, updated_at=finished,
        progress=JobProgress(units_done=done // 240, units_total=traces // 240,
                             traces_done=done, traces_total=traces,
                             traces_per_s=done / max(seconds * fraction, 1e-3)),
        message=error.message if error else ("cancelled by user" if
                                             state is JobState.CANCELLED else ""),
        error=error, flow={"steps": [{name: {}} for name in processors]}, input=path,
        output=path.replace(".sgy", "_out.sgy"), owner="workstation-7:4711")


def _active_job(rng: random.Random, now: datetime, inputs: list[tuple[str, int]],
                state: JobState, number: int) -> Job:
    processors, _ = SEQUENCES[JobType.PROCESSING][0]
    path, traces = rng.choice(inputs)
    created = now - timedelta(minutes=rng.uniform(1, 4))
    started = None if state is JobState.QUEUED else created + timedelta(seconds=5)
    done = 0 if started is None else traces // 3
    return Job(id=f"{number:04d}{rng.getrandbits(32):08x}", name=f"{Path(path).stem} live",
               state=state, created_at=created, started_at=started, updated_at=now,
               progress=JobProgress(traces_done=done, traces_total=traces),
               flow={"steps": [{name: {}} for name in processors]}, input=path,
               output=path.replace(".sgy", "_live.sgy"))


def _record_prediction(store: JobHistoryStorage, job: Job, rng: random.Random) -> float:
    """A prediction as the store would have made it: close to the truth, a little
    optimistic, sometimes far off."""
    actual = job.duration_s or 0.0
    predicted = actual * rng.lognormvariate(-0.08, 0.22 if rng.random() < 0.85 else 0.7)
    traces = job.progress.traces_total
    assert store.record_prediction(job.id, Prediction(traces / predicted, predicted, 12))
    return predicted


def _samples(rng: random.Random, start: datetime, now: datetime,
             every_s: int) -> list[ResourceSample]:
    """Busy working hours, quiet nights, and the monitor off for a day and a half of
    maintenance two thirds of the way in (a gap the charts must show as one)."""
    off_from = start + (now - start) * 2 / 3
    off_until = off_from + timedelta(hours=36)
    samples = []
    at = start
    while at < now:
        hour = at.hour + at.minute / 60
        busy = 7 <= hour < 19
        if not off_from <= at < off_until:
            load = (65 if busy else 12) + rng.gauss(0, 8)
            samples.append(ResourceSample(
                at, cpu_percent=min(max(load, 1.0), 100.0),
                memory_percent=min(max(35 + load / 3 + rng.gauss(0, 3), 5.0), 95.0),
                gpu_percent=min(max(load * 0.8 + rng.gauss(0, 10), 0.0), 100.0),
                disk_read_mb_s=max(load * 4 + rng.gauss(0, 20), 0.0),
                disk_write_mb_s=max(load * 2 + rng.gauss(0, 10), 0.0),
                running_jobs=max(int(load // 20), 0)))
        at += timedelta(seconds=every_s)
    return samples
