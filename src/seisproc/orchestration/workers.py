"""Worker actors: long-lived processes that run units of any job.

A worker is stateless as far as the job is concerned (design principle 2): it keeps only
caches (one open :class:`~seisproc.jobs.units.UnitProcessor` per job, so the input and the
partial output are opened once) and one stop flag per job. Everything else (progress,
retries, checkpoints) is decided by the driver from unit completions.

Cancelling is cooperative (principle 3): ``ray.cancel`` does not interrupt a running
method of a threaded actor, so a unit checks its job's :class:`threading.Event` between
gathers. For the stop to arrive while a unit runs, control calls go to their own
concurrency group: units run in ``"work"``, and ``stop_job``, ``release_job``, ``ping``
and ``node`` run beside them in ``"control"``. A header range of a survey being indexed
runs in ``"scan"``, beside both.

A unit's work and its wait for the disk overlap: ``"work"`` takes the two units the
executor sends each worker, one computes at a time (``_compute``), and the other's
``fdatasync`` runs meanwhile, with the CPU free for the first. A unit still reports
only once its own traces are durable.

The classes here are plain Python: :func:`remote_class` turns one into a Ray actor class
when a pool is created, so tests (and a debugger) can also use them directly.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import ray

from seisproc.io.scan import read_header_range
from seisproc.jobs.ports import JobSpec
from seisproc.jobs.units import UnitProcessor, UnitResult, WorkUnit
from seisproc.orchestration.allocator import keep_freed_memory
from seisproc.orchestration.cluster import node_id
from seisproc.orchestration.priority import lower_this_thread

__all__ = [
    "BaseWorkerActor",
    "CpuWorkerActor",
    "CONCURRENCY_GROUPS",
    "remote_class",
]

WORK = "work"
CONTROL = "control"
SCAN = "scan"
CONCURRENCY_GROUPS: dict[str, int] = {WORK: 2, CONTROL: 1, SCAN: 1}
"""Two units per actor (one computing, one syncing); one control call, beside them; one
header range of a survey being indexed, which does not queue behind the units of other
jobs (with 20 jobs running, a plan waited seconds for its ranges, and a cancel for it)."""


class BaseWorkerActor:
    """Runs units of any job, one at a time; takes stop and release requests meanwhile.

    Subclasses set :attr:`ray_options` (the resources an actor holds) and may override
    :meth:`make_processor` (e.g. to put arrays on a device).
    """

    ray_options: ClassVar[dict[str, Any]] = {}
    """Options for ``ray.remote`` (``num_cpus``, ``num_gpus``, ...), set by subclasses."""

    def __init__(self) -> None:
        keep_freed_memory()  # gathers reuse freed memory instead of faulting in fresh pages
        self._lock = threading.Lock()
        self._compute = threading.Lock()
        """Held while a unit reads, processes and writes: one at a time per actor."""
        self._processors: dict[str, UnitProcessor] = {}
        self._stops: dict[str, threading.Event] = {}
        self._running: Counter[str] = Counter()
        """Units running now, by job: their processor must not be closed under them."""
        self._close_after_run: set[str] = set()
        self._last_used: dict[str, float] = {}
        """When each open job last had a unit here (``time.monotonic``)."""

    def make_processor(self, spec: JobSpec) -> UnitProcessor:
        """Open the job's input and partial output; called once per job per actor."""
        return UnitProcessor(spec.flow, Path(spec.partial_path), spec.output_layout)  # type: ignore[arg-type]

    @ray.method(concurrency_group=WORK)
    def run_unit(self, spec: JobSpec, unit: WorkUnit) -> tuple[UnitResult | None, str]:
        """Process ``unit``; ``(None, node)`` if its job was stopped before or during it.

        A processing error propagates: Ray carries it to the driver as the cause of a
        ``RayTaskError``.
        """
        lower_this_thread()  # computing waits behind the threads that answer people
        stop, processor = self._enter(spec)
        try:
            with self._compute:
                written = processor.write_unit(unit, stop.is_set)
            result = None if written is None else processor.make_durable(written)
            return result, node_id()
        finally:
            self._leave(spec.job_id)

    def _enter(self, spec: JobSpec) -> tuple[threading.Event, UnitProcessor]:
        with self._lock:
            stop = self._stops.setdefault(spec.job_id, threading.Event())
            processor = self._processors.get(spec.job_id)
            if processor is not None and processor.partial_path != Path(spec.partial_path) \
                    and not self._running[spec.job_id]:
                processor.close()  # the job's next stage: other files (its units are done)
                processor = None
            if processor is None:
                processor = self._processors[spec.job_id] = self.make_processor(spec)
            self._running[spec.job_id] += 1
            self._last_used[spec.job_id] = time.monotonic()
            return stop, processor

    def _leave(self, job_id: str) -> None:
        with self._lock:
            self._running[job_id] -= 1
            if self._running[job_id] <= 0:
                del self._running[job_id]
                if job_id in self._close_after_run:
                    self._close_after_run.discard(job_id)
                    self._close(job_id)

    @ray.method(concurrency_group=SCAN)
    def scan_headers(self, path: str, key: str, first: int, stop: int) -> np.ndarray:
        """Header ``key`` of traces ``[first, stop)`` of ``path``, int32: this worker's
        share of indexing a survey (:meth:`RayExecutor.scan_headers
        <seisproc.orchestration.executor.RayExecutor.scan_headers>`)."""
        lower_this_thread()
        return read_header_range(path, key, first, stop)

    @ray.method(concurrency_group=CONTROL)
    def stop_job(self, job_id: str) -> None:
        """Make this job's running unit return at its next gather, and later ones at once.

        The flag stays set until :meth:`release_job`, so units of a stopped job that were
        already queued on this actor are dropped too.
        """
        with self._lock:
            self._stops.setdefault(job_id, threading.Event()).set()

    @ray.method(concurrency_group=CONTROL)
    def release_job(self, job_id: str) -> None:
        """Close the job's files and forget its stop flag: the job is over.

        A unit of the job still running is stopped and the files are closed when it
        returns, never under it.
        """
        with self._lock:
            if self._running[job_id] > 0:
                self._stops.setdefault(job_id, threading.Event()).set()
                self._close_after_run.add(job_id)
            else:
                self._close(job_id)

    def _close(self, job_id: str) -> None:
        """Forget ``job_id``; the caller holds the lock."""
        self._stops.pop(job_id, None)
        self._last_used.pop(job_id, None)
        processor = self._processors.pop(job_id, None)
        if processor is not None:
            processor.close()

    @ray.method(concurrency_group=CONTROL)
    def open_jobs(self) -> list[str]:
        """Jobs whose files this actor holds open (for tests and monitoring)."""
        with self._lock:
            return sorted(self._processors)

    @ray.method(concurrency_group=CONTROL)
    def forget_idle_jobs(self, idle_s: float) -> list[str]:
        """Close the files of jobs that had no unit here for ``idle_s`` seconds.

        A warm actor outlives the commands that use it: this drops what a command killed
        before it could release its jobs left open. A job of a live command that is
        merely paused loses nothing: its next unit opens its files again.
        """
        with self._lock:
            now = time.monotonic()
            stale = [job for job, used in self._last_used.items()
                     if now - used >= idle_s and self._running[job] == 0]
            for job_id in stale:
                self._close(job_id)
            return stale

    @ray.method(concurrency_group=CONTROL)
    def pid(self) -> int:
        """The actor's process id: the same pid across commands means a warm worker."""
        return os.getpid()

    @ray.method(concurrency_group=CONTROL)
    def ping(self) -> bool:
        """Answer at once, even while a unit runs: the actor is up."""
        return True

    @ray.method(concurrency_group=CONTROL)
    def node(self) -> str:
        """The Ray node id of the node this actor runs on."""
        return node_id()


class CpuWorkerActor(BaseWorkerActor):
    """A worker holding one CPU: processors run on numpy."""

    ray_options: ClassVar[dict[str, Any]] = {"num_cpus": 1}


# GPU workers (GpuWorkerActor, MetalWorkerActor for Apple's MPS, TorchCpuWorkerActor) are
# in seisproc.orchestration.gpu: subclasses whose ray_options hold the device resources and
# whose make_processor puts arrays on that device. RayExecutor takes one as `actor_class`.


_remote_classes: dict[type[BaseWorkerActor], Any] = {}


def remote_class(cls: type[BaseWorkerActor]) -> Any:
    """``cls`` as a Ray actor class, with its resources and the concurrency groups.

    Cached, so each class is exported to the cluster once per process. ``max_restarts=0``:
    a dead worker is replaced by the executor (which knows what was in flight on it), not
    restarted by Ray behind its back.
    """
    if cls not in _remote_classes:
        decorate: Any = ray.remote  # its typed overloads do not know concurrency_groups
        _remote_classes[cls] = decorate(concurrency_groups=CONCURRENCY_GROUPS, max_restarts=0,
                                        **cls.ray_options)(cls)
    return _remote_classes[cls]
