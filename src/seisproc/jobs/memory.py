"""In-process adapters of the engine's ports, for tests of scheduling logic.

:class:`MemoryJobStore` keeps jobs in a dict; :class:`ThreadExecutor` runs units on
threads of this process with the same :class:`~seisproc.jobs.units.UnitProcessor` the Ray
workers use. Integration tests, the CLI and the GUI use the real adapters (SQLAlchemy
history, Ray executor).
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from seisproc.jobs.model import Job, JobState
from seisproc.jobs.owner import LEASE_TTL_S
from seisproc.jobs.ports import Completion, ControlRequest, JobSpec, StaleOwner
from seisproc.jobs.units import UnitProcessor, WorkUnit

__all__ = ["MemoryJobStore", "ThreadExecutor"]


class MemoryJobStore:
    """A :class:`~seisproc.jobs.ports.JobStore` in a dict; forgets everything on exit.

    Leases expire by :func:`time.time`, this process's clock: there is only one process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._expires: dict[str, float] = {}
        self._requests: list[ControlRequest] = []

    def save_job(self, job: Job) -> None:
        with self._lock:
            stored = self._jobs.get(job.id)
            if stored is None:
                self._expires[job.id] = time.time() + LEASE_TTL_S
            elif stored.lease > job.lease:
                raise StaleOwner(
                    f"job {job.id}: this process ({job.owner}) no longer owns it: "
                    f"{stored.owner} took it over; its writes are refused")
            self._jobs[job.id] = job

    def get_job(self, job_id: str) -> Job | None:
        with self._lock:
            if job_id in self._jobs:
                return self._jobs[job_id]
            matches = [j for i, j in self._jobs.items() if i.startswith(job_id)]
            return matches[0] if len(matches) == 1 else None

    def get_recent(self, limit: int = 50) -> list[Job]:
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)
        return jobs[:limit]

    def list_jobs(self, states: Sequence[JobState] | None = None) -> list[Job]:
        return [j for j in self.get_recent(len(self._jobs))
                if states is None or j.state in states]

    def request_control(self, job_id: str, action: str, message: str = "") -> None:
        with self._lock:
            self._requests.append(ControlRequest(job_id, action, message))

    def take_control_requests(self, job_ids: Sequence[str]) -> list[ControlRequest]:
        wanted = set(job_ids)
        with self._lock:
            taken = [r for r in self._requests if r.job_id in wanted]
            self._requests = [r for r in self._requests if r.job_id not in wanted]
        return taken

    def renew_leases(self, leases: Mapping[str, int], ttl_s: float) -> list[str]:
        with self._lock:
            expires = time.time() + ttl_s
            held = {i for i, token in leases.items()
                    if i in self._jobs and self._jobs[i].lease == token}
            for job_id in held:
                self._expires[job_id] = expires
        return [job_id for job_id in leases if job_id not in held]

    def take_over(self, job_id: str, owner: str, ttl_s: float, *, owner_dead: bool = False,
                  expected_lease: int | None = None) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            now = time.time()
            if job is None or job.state.is_terminal():
                return None
            if not owner_dead and self._expires.get(job_id, 0.0) >= now:
                return None
            if expected_lease is not None and job.lease != expected_lease:
                return None
            job = dataclasses.replace(job, owner=owner, lease=job.lease + 1)
            self._jobs[job_id] = job
            self._expires[job_id] = now + ttl_s
            return job

    def lease_expired(self, job_id: str) -> bool:
        with self._lock:
            return self._expires.get(job_id, 0.0) < time.time()


class ThreadExecutor:
    """An :class:`~seisproc.jobs.ports.Executor` on a thread pool of this process."""

    def __init__(self, workers: int = 2, units_per_worker: int = 2) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="seisproc-unit")
        self._capacity = workers * units_per_worker
        self._done: queue.Queue[Completion] = queue.Queue()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._stops: dict[str, threading.Event] = {}
        self._processors: dict[str, UnitProcessor] = {}

    def capacity(self) -> int:
        return self._capacity

    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def submit(self, spec: JobSpec, unit: WorkUnit) -> None:
        """Start ``unit``; raises (and counts nothing in flight) once shut down."""
        with self._lock:
            self._in_flight += 1
            stop = self._stops.setdefault(spec.job_id, threading.Event())
        try:
            self._pool.submit(self._run, spec, unit, stop)
        except BaseException:
            with self._lock:
                self._in_flight -= 1
            raise

    def _processor(self, spec: JobSpec) -> UnitProcessor:
        """One per job, shared by the threads: its reads and writes are positional."""
        with self._lock:
            known = self._processors.get(spec.job_id)
            if known is not None and known.partial_path != Path(spec.partial_path):
                known.close()  # the job's next stage: other files (its units are done)
                del self._processors[spec.job_id]
            if spec.job_id not in self._processors:
                self._processors[spec.job_id] = UnitProcessor(
                    spec.flow, Path(spec.partial_path), spec.output_layout)  # type: ignore[arg-type]
            return self._processors[spec.job_id]

    def _run(self, spec: JobSpec, unit: WorkUnit, stop: threading.Event) -> None:
        try:
            result = self._processor(spec).run(unit, stop.is_set)
            completion = Completion(spec.job_id, unit, result=result, node="local")
        except Exception as exc:
            completion = Completion(spec.job_id, unit, error=exc, node="local",
                                    traceback=traceback.format_exc())
        self._done.put(completion)

    def wait(self, timeout_s: float) -> list[Completion]:
        try:
            first = self._done.get(timeout=timeout_s)
        except queue.Empty:
            return []
        out = [first]
        while not self._done.empty():
            out.append(self._done.get_nowait())
        with self._lock:
            self._in_flight -= len(out)
        return out

    def stop_job(self, job_id: str) -> None:
        with self._lock:
            self._stops.setdefault(job_id, threading.Event()).set()

    def release_job(self, job_id: str) -> None:
        with self._lock:
            self._stops.pop(job_id, None)
            processor = self._processors.pop(job_id, None)
        if processor is not None:
            processor.close()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for job_id in list(self._processors):
            self.release_job(job_id)
