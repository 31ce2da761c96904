"""``RayExecutor``: the job engine's :class:`~seisproc.jobs.ports.Executor` on Ray actors.

A fixed pool of worker actors is created once and kept warm across jobs (an actor costs
1.2-1.7 s to start here; a unit tens of ms). Units go to the actor with the fewest in
flight, at most ``units_per_worker`` each when the caller respects :meth:`capacity`, so
one unit is always queued behind the running one and no actor idles between units.

Outcomes come back as :class:`~seisproc.jobs.ports.Completion` s with the semantics of
:class:`~seisproc.jobs.memory.ThreadExecutor`: a processing error is the original
exception, a dead actor gives ``worker_lost`` (and is replaced at once, so the pool keeps
its size), a stopped unit gives ``result=None``.

The header scan of an input not indexed yet runs on the same actors
(:meth:`RayExecutor.scan_headers`, the :class:`~seisproc.jobs.ports.HeaderScanner` port):
ranges of traces, two in flight per actor, so one machine's scan uses every core and a
cluster's every node, while the driver merges the columns as they come back.

On seisproc's local Ray service (:mod:`seisproc.orchestration.service`) the actors are
*warm*: detached, named ``seisproc-<class>-<version>-<i>`` in the ``seisproc`` namespace
and taken with ``get_if_exists``, so they outlive the command and the next command's pool
finds them running (no 1.2-1.7 s start each). Such a pool releases its jobs at shutdown
instead of killing its actors. On a cluster named by address the pool's actors are its
own, and shutdown kills them, as before.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import ray
from ray.exceptions import RayActorError, RayError, RayTaskError, WorkerCrashedError

from seisproc._version import __version__
from seisproc.identity import code_identity
from seisproc.io.scan import RANGE_TRACES, read_header_range, split_ranges
from seisproc.jobs.ports import Completion, JobSpec
from seisproc.jobs.units import WorkUnit
from seisproc.orchestration.cluster import cluster_cpus, connect
from seisproc.orchestration.service import NAMESPACE, on_service
from seisproc.orchestration.workers import BaseWorkerActor, CpuWorkerActor, remote_class

__all__ = ["RayExecutor", "WorkerStatus", "wait_ready"]

_LOST = (RayActorError, WorkerCrashedError)
"""The actor is gone (ActorDiedError, ActorUnavailableError are RayActorErrors)."""
STALE_JOB_S = 120.0
"""A warm actor's job without a unit for this long is closed when a new pool attaches:
its command was killed before it could release it."""
RELEASE_WAIT_S = 5.0
SCAN_TRIES = 3
"""Times a header range is sent to a worker before the scan gives up (its actor died)."""


@dataclass(frozen=True)
class WorkerStatus:
    """A snapshot of one pool actor, for monitoring and tests."""

    actor: Any
    """The Ray actor handle."""
    in_flight: int
    node: str
    """Ray node id, once the actor has answered; ``""`` before."""
    job_ids: tuple[str, ...] = ()
    """Jobs of its units in flight, oldest first: the first is the one it runs now."""
    kind: str = "cpu"
    """Where the actor runs units: ``"cpu"``, ``"cuda"`` or ``"mps"`` (its class's
    ``device_kind``)."""


@dataclass(eq=False)
class _Worker:
    actor: Any
    in_flight: int = 0
    node: str = ""


@dataclass(frozen=True)
class _Pending:
    job_id: str
    unit: WorkUnit
    worker: _Worker


class RayExecutor:
    """Runs units on a warm pool of Ray worker actors spread over the cluster.

    Parameters
    ----------
    address
        Ray address to connect to if this process is not connected yet (see
        :func:`~seisproc.orchestration.cluster.connect`).
    workers
        Pool size; all of the cluster's CPUs by default (one CPU per CPU worker).
    units_per_worker
        Units in flight per actor at full :meth:`capacity`: 2 keeps the next unit queued
        on the actor while one runs.
    actor_class
        The worker class; GPU workers plug in here.
    warm
        Use the warm named actors that outlive this process; by default when this
        process runs on seisproc's local Ray service.
    scan_min_traces
        Inputs with fewer traces are indexed by this process (:meth:`scan_headers`): up
        to a range of headers reads in well under a second, less than a round trip to
        actors busy with other jobs' units, or still starting (a plan waiting on them
        held a cancel past 2 s with 20 jobs submitted at once).

    Raises
    ------
    ~seisproc.orchestration.cluster.ClusterUnreachable
        ``address`` names no cluster that answers within ``SEISPROC_RAY_CONNECT_TIMEOUT_S``
        (a one-line message that names the address and what to do).
    """

    def __init__(self, address: str | None = None, workers: int | None = None,
                 units_per_worker: int = 2,
                 actor_class: type[BaseWorkerActor] = CpuWorkerActor,
                 warm: bool | None = None, scan_min_traces: int = RANGE_TRACES) -> None:
        connect(address)
        self._scan_min_traces = scan_min_traces
        self._warm = on_service() if warm is None else warm
        self._jobs: set[str] = set()
        """Jobs this pool ran units of: a warm pool releases them at shutdown."""
        self._actor_class = actor_class
        self._size = workers or cluster_cpus()
        self._units_per_worker = units_per_worker
        self._lock = threading.RLock()
        self._pending: dict[Any, _Pending] = {}
        self._stopped: set[str] = set()
        self._control: list[Any] = []
        self._pool = [self._start_worker(i) for i in range(self._size)]
        if self._warm:
            self._control += [w.actor.forget_idle_jobs.remote(STALE_JOB_S) for w in self._pool]

    # ------------------------------------------------------------------ the port
    def capacity(self) -> int:
        """Units in flight at once: ``workers * units_per_worker``."""
        return self._size * self._units_per_worker

    def in_flight(self) -> int:
        with self._lock:
            return len(self._pending)

    def submit(self, spec: JobSpec, unit: WorkUnit) -> None:
        """Queue ``unit`` on the least busy actor; never blocks.

        The spec travels by value with every unit: it pickles to about 1 KB in 15 us,
        while a ``ray.put`` of it cost 0.8-2 ms on the driver and made each unit's
        worker resolve the reference first (0.3 ms more per unit round trip here).
        """
        with self._lock:
            worker = min(self._pool, key=lambda w: w.in_flight)
            self._jobs.add(spec.job_id)
            ref = worker.actor.run_unit.remote(spec, unit)
            worker.in_flight += 1
            self._pending[ref] = _Pending(spec.job_id, unit, worker)

    def wait(self, timeout_s: float) -> list[Completion]:
        """Completions that arrived, waiting up to ``timeout_s`` for the first one."""
        refs = self.pending()
        if not refs:
            self._reap_control()
            time.sleep(timeout_s)
            return []
        return self.collect(wait_ready(refs, timeout_s))

    def pending(self) -> list[Any]:
        """Object refs of the units in flight: an executor routing between several pools
        waits on all of theirs at once (:func:`wait_ready`), then :meth:`collect` s."""
        with self._lock:
            return list(self._pending)

    def collect(self, ready: Sequence[Any]) -> list[Completion]:
        """Completions of the refs in ``ready`` that are this pool's; others are ignored."""
        self._reap_control()
        with self._lock:  # shutdown() may have forgotten them meanwhile
            taken = [(ref, self._pending.pop(ref)) for ref in ready if ref in self._pending]
            for _, pending in taken:
                pending.worker.in_flight -= 1
        return [self._completion(ref, pending) for ref, pending in taken]

    def _completion(self, ref: Any, pending: _Pending) -> Completion:
        """Turn one finished call into a :class:`Completion`."""
        job_id, unit, worker = pending.job_id, pending.unit, pending.worker
        try:
            result, node = ray.get(ref)
        except RayTaskError as err:
            cause = err.cause if isinstance(err.cause, Exception) else err
            return Completion(job_id, unit, error=cause, node=worker.node,
                              traceback=getattr(err, "traceback_str", "") or str(err))
        except _LOST:
            self._replace(worker)
            return Completion(job_id, unit, worker_lost=True, node=worker.node)
        except RayError:  # the call was lost by the system (object lost, OOM kill...)
            return Completion(job_id, unit, worker_lost=True, node=worker.node)
        worker.node = node
        return Completion(job_id, unit, result=result, node=node)

    def stop_job(self, job_id: str) -> None:
        """Tell every actor to drop this job's units between gathers (fire and forget)."""
        with self._lock:
            self._stopped.add(job_id)
            self._control += [w.actor.stop_job.remote(job_id) for w in self._pool]

    def release_job(self, job_id: str) -> None:
        """Tell every actor to close this job's files."""
        with self._lock:
            self._stopped.discard(job_id)
            self._control += [w.actor.release_job.remote(job_id) for w in self._pool]

    def shutdown(self) -> None:
        """Kill the pool's actors (a warm pool: release its jobs on them and leave them
        running); Ray itself is left running, as it was found."""
        with self._lock:
            pool, self._pool = self._pool, []
            self._pending.clear()
            self._control.clear()
            jobs, self._jobs = sorted(self._jobs), set()
        if self._warm:
            _release_all(pool, jobs)
            return
        _wait_created([worker.actor for worker in pool], CREATION_GRACE_S)
        for worker in pool:
            _kill(worker.actor)

    def scan_headers(self, path: Path, key: str, n_traces: int
                     ) -> Iterator[tuple[int, np.ndarray]]:
        """Header ``key`` of every trace of ``path``, read on the actors a range each (see
        :func:`~seisproc.io.scan.split_ranges`), two ranges in flight per actor; yields
        ``(first trace, int32 column)`` as each range comes back.

        A range whose actor died goes to its replacement (up to :data:`SCAN_TRIES` times);
        a range that raises (the file vanished) raises here, the original exception.
        Fewer than ``scan_min_traces`` traces are read here, in one range.
        """
        if n_traces < self._scan_min_traces:
            yield 0, read_header_range(path, key, 0, n_traces)
            return
        with self._lock:
            pool = list(self._pool)
        todo = [(first, stop, 0) for first, stop in split_ranges(n_traces, len(pool))]
        todo.reverse()
        flying: dict[Any, tuple[int, int, int, _Worker]] = {}
        load = {id(worker): 0 for worker in pool}
        while todo or flying:
            while todo and min(load.values(), default=2) < 2:
                worker = min(pool, key=lambda w: load[id(w)])
                first, stop, tries = todo.pop()
                ref = worker.actor.scan_headers.remote(str(path), key, first, stop)
                flying[ref] = (first, stop, tries, worker)
                load[id(worker)] += 1
            ready, _ = ray.wait(list(flying), num_returns=1)
            first, stop, tries, worker = flying.pop(ready[0])
            if id(worker) in load:  # not if it died and was replaced meanwhile
                load[id(worker)] -= 1
            try:
                yield first, ray.get(ready[0])
            except RayTaskError as err:
                raise (err.cause if isinstance(err.cause, Exception) else err) from None
            except (*_LOST, RayError):
                if tries + 1 >= SCAN_TRIES:
                    raise
                self._replace(worker)
                pool, load = self._scan_pool(load)
                todo.append((first, stop, tries + 1))

    def _scan_pool(self, load: dict[int, int]) -> tuple[list[_Worker], dict[int, int]]:
        """The pool after a replacement, with the ranges in flight on each actor."""
        with self._lock:
            pool = list(self._pool)
        return pool, {id(w): load.get(id(w), 0) for w in pool}

    # ------------------------------------------------------------------ the pool
    def workers(self) -> list[WorkerStatus]:
        """The pool now, one entry per live actor."""
        kind = str(getattr(self._actor_class, "device_kind", "cpu"))
        with self._lock:
            jobs: dict[int, list[str]] = {}
            for pending in self._pending.values():  # in submission order
                jobs.setdefault(id(pending.worker), []).append(pending.job_id)
            return [WorkerStatus(w.actor, w.in_flight, w.node, tuple(jobs.get(id(w), ())), kind)
                    for w in self._pool]

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Block until every actor of the pool answers, learning the node of each.

        Actors start in the background; call this to pay their start-up before the
        first unit rather than during it, or to learn early that they cannot be placed.
        Raises ``ray.exceptions.GetTimeoutError`` after ``timeout_s``.
        """
        with self._lock:
            pool = list(self._pool)
        nodes = ray.get([w.actor.node.remote() for w in pool], timeout=timeout_s)
        for worker, node in zip(pool, nodes, strict=True):
            worker.node = node

    @property
    def warm(self) -> bool:
        """Whether the pool's actors are the service's warm ones."""
        return self._warm

    def _start_worker(self, index: int) -> _Worker:
        """A new actor, placed by SPREAD so a multi-node pool uses every node; on the
        service, the warm actor of this ``index`` (started if it is not running)."""
        options: dict[str, Any] = {"scheduling_strategy": "SPREAD"}
        if self._warm:
            options.update(name=warm_name(self._actor_class, index), namespace=NAMESPACE,
                           lifetime="detached", get_if_exists=True)
        actor = remote_class(self._actor_class).options(**options).remote()
        for job_id in self._stopped:  # a replacement must know which jobs are stopped
            self._control.append(actor.stop_job.remote(job_id))
        return _Worker(actor)

    def _replace(self, dead: _Worker) -> None:
        """Swap a dead actor for a fresh one (once, however many of its units come back)."""
        with self._lock:
            if dead not in self._pool:
                return
            index = self._pool.index(dead)
            _kill(dead.actor)  # frees a warm actor's name for its replacement
            self._pool[index] = self._start_worker(index)

    def _reap_control(self) -> None:
        """Collect finished control calls, so that errors from dead actors are consumed
        rather than reported by Ray as unhandled."""
        with self._lock:
            control, self._control = self._control, []
        if not control:
            return
        done, waiting = ray.wait(control, num_returns=len(control), timeout=0)
        for ref in done:
            with contextlib.suppress(RayError):
                ray.get(ref)
        with self._lock:
            self._control += waiting


def wait_ready(refs: Sequence[Any], timeout_s: float) -> list[Any]:
    """Those of ``refs`` that are done, waiting up to ``timeout_s`` for the first one.

    ``ray.wait`` is woken by the reply itself (the core worker is notified, it does not
    poll), so the timeout only bounds a wait in which nothing finishes.
    """
    ready, rest = ray.wait(list(refs), num_returns=1, timeout=timeout_s)
    if ready and rest:
        more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
        ready += more
    return list(ready)


def warm_name(actor_class: type[BaseWorkerActor], index: int) -> str:
    """Name of the ``index``-th warm actor of ``actor_class``. The version and the code's
    identity are in it, so that units never go to actors that run other code: an older
    seisproc's, or the same version's before a source file changed (an editable install,
    a patched site-packages). Actors of other code idle until the service stops."""
    return f"seisproc-{actor_class.__name__}-{__version__}-{code_identity()}-{index}"


def _release_all(pool: Sequence[_Worker], jobs: Sequence[str]) -> None:
    """Release ``jobs`` on every warm actor of ``pool`` and wait (briefly) until they
    have: a call still queued when this process disconnects would be lost."""
    refs = [w.actor.release_job.remote(job) for w in pool for job in jobs]
    if not refs:
        return
    with contextlib.suppress(RayError):
        ray.wait(refs, num_returns=len(refs), timeout=RELEASE_WAIT_S)


CREATION_GRACE_S = 3.0
"""How long :meth:`RayExecutor.shutdown` lets actors still being created finish first."""


def _wait_created(actors: list[Any], timeout_s: float) -> None:
    """Wait up to ``timeout_s`` for ``actors`` to be created (or to fail).

    Ray 2.60 leaks the CPU of an actor killed after its worker was leased and before the
    actor reached it ("Mismatched ActorID: ignoring KillActor", then the worker idles
    holding the lease): a pool closed just after it was made left the cluster a CPU
    short for good, and every later pool that wanted it waited forever. An actor that
    cannot be placed at all holds no lease: after the grace it is killed as before.
    """
    refs = []
    for actor in actors:
        with contextlib.suppress(RayError, ValueError):
            refs.append(actor.__ray_ready__.remote())
    if refs:
        with contextlib.suppress(RayError):
            ray.wait(refs, num_returns=len(refs), timeout=timeout_s)


def _kill(actor: Any) -> None:
    """Kill an actor that may already be dead."""
    with contextlib.suppress(RayError, ValueError):
        ray.kill(actor, no_restart=True)
