"""Shared pieces of the job-engine benchmarks (submission, cancellation, checkpoints,
progress, job throughput, Ray against ``multiprocessing.Pool``).

Every engine benchmark runs the real engine: a :class:`~seisproc.jobs.manager.JobManager`
on a SQLite :class:`~seisproc.history.JobHistoryStorage` in a throw-away
``SEISPROC_HOME``, with a :class:`~seisproc.orchestration.RayExecutor` of 2 CPU workers.
Ray is started once per script (:func:`start_ray`). The executor is wrapped in a
:class:`TimingExecutor` that timestamps what the engine dispatches and gets back, so
latencies can be taken from where a unit really finished (``UnitResult.finished_at``,
stamped by the worker) without changing the engine.

Figures are reported with their targets: :func:`target` puts the seed plan's target
(``seed_target``) and this project's (``our_target``) next to each figure, and
:func:`emit` prints the report as the one JSON document on stdout. Everything else
(progress notes, Ray's own output) goes to stderr: :func:`json_stdout` points file
descriptor 1 at stderr for the whole run, child processes included.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.jobs.events import JobEvent
from seisproc.jobs.model import JobState
from seisproc.processing import Flow

__all__ = [
    "BackgroundLoad",
    "Engine",
    "StateWatcher",
    "Stopwatch",
    "TimingExecutor",
    "DEFAULT_DIR",
    "LIGHT_STEPS",
    "SLOW_STEPS",
    "LOAD_GEOMETRY",
    "TINY_GEOMETRY",
    "emit",
    "engine",
    "ensure_survey",
    "json_stdout",
    "machine",
    "make_flow",
    "note",
    "start_ray",
    "stats_ms",
    "target",
]

DEFAULT_DIR = Path(tempfile.gettempdir()) / "seisproc-bench"

LIGHT_STEPS: list[dict[str, Any]] = [
    {"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}, {"agc": {"window_ms": 500}}]
SLOW_STEPS: list[dict[str, Any]] = [
    {"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}},
    {"spiking_decon": {"operator_ms": 400}}, {"agc": {"window_ms": 500}}]
"""About 8 ms per gather of :data:`LOAD_GEOMETRY` here: a 4-gather unit is ~30 ms."""

LOAD_GEOMETRY = SurveyGeometry(shots=600, channels=48, samples=501, dt_ms=4.0)
"""The input of background and cancelled jobs: 600 gathers, 65 MB; a job alone takes
~5 s on one worker, so 20 of them sharing 2 workers run for a minute or more."""
TINY_GEOMETRY = SurveyGeometry(shots=4, channels=24, samples=251, dt_ms=4.0)
"""The input of small jobs: one 4-gather unit, a few ms of processing."""

_stdout_fd: int | None = None


# ---------------------------------------------------------------------- output
def note(message: str) -> None:
    """A progress note on stderr (stdout carries only the JSON report)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def json_stdout() -> Iterator[None]:
    """Send fd 1 to stderr while the benchmark runs; :func:`emit` writes to the real one.

    At the file-descriptor level, so that Ray's processes (which inherit fd 1) and C
    extensions cannot put a line into the JSON either.
    """
    global _stdout_fd
    sys.stdout.flush()
    _stdout_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(_stdout_fd, 1)
        os.close(_stdout_fd)
        _stdout_fd = None


def emit(report: dict[str, Any]) -> None:
    """Print ``report`` as JSON on the real stdout, with a summary of the targets met."""
    checks = list(_targets(report))
    report["targets_met"] = {"ours": sum(c["met"] for c in checks),
                             "seed": sum(c["seed_met"] for c in checks
                                         if c["seed_met"] is not None),
                             "of": len(checks)}
    text = json.dumps(report, indent=2, default=str) + "\n"
    if _stdout_fd is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        os.write(_stdout_fd, text.encode())


def _targets(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "our_target" in node and "met" in node:
            yield node
        for value in node.values():
            yield from _targets(value)
    elif isinstance(node, list):
        for value in node:
            yield from _targets(value)


def target(value: float, seed: float | None, ours: float, *,
           higher_is_better: bool = False, unit: str = "ms") -> dict[str, Any]:
    """A figure with the seed plan's target and ours, and whether each is met."""
    def ok(limit: float | None) -> bool | None:
        if limit is None:
            return None
        return bool(value >= limit) if higher_is_better else bool(value < limit)

    return {"value": round(value, 3), "unit": unit, "seed_target": seed, "our_target": ours,
            "seed_met": ok(seed), "met": ok(ours)}


def stats_ms(seconds: Sequence[float]) -> dict[str, Any]:
    """p50/p90/p99/max (and mean) in milliseconds of durations given in seconds."""
    if not seconds:
        return {"n": 0}
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {"n": int(ms.size), "p50_ms": round(float(p50), 3), "p90_ms": round(float(p90), 3),
            "p99_ms": round(float(p99), 3), "max_ms": round(float(ms.max()), 3),
            "mean_ms": round(float(ms.mean()), 3)}


def machine() -> dict[str, Any]:
    """Where the figures were measured; the load average shows a machine not at rest."""
    import ray

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "ray": ray.__version__,
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
                               1),
            "load_average_1m_at_start": round(os.getloadavg()[0], 2)}


# ---------------------------------------------------------------------- data
def ensure_survey(folder: Path, geometry: SurveyGeometry, fmt: str = "ibm") -> Path:
    """The synthetic survey of ``geometry`` in ``folder``, made on first use and reused."""
    g = geometry
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench_{g.shots}x{g.channels}x{g.samples}_{fmt}.sgy"
    if not path.exists():
        t0 = time.perf_counter()
        synthesize_survey(path, geometry, sample_format_name=fmt)
        note(f"made {path.name} ({path.stat().st_size / 1e6:.0f} MB) in "
             f"{time.perf_counter() - t0:.1f} s")
    return path


def make_flow(survey: Path, output: Path, steps: list[dict[str, Any]],
              name: str = "bench") -> Flow:
    return Flow.from_mapping({"name": name, "input": str(survey), "output": str(output),
                              "gather_by": "ffid", "steps": steps})


# ---------------------------------------------------------------------- Ray
def start_ray() -> float:
    """Start (or join) Ray once for this script; returns the seconds it took."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from seisproc.orchestration import connect

    t0 = time.perf_counter()
    connect()
    return time.perf_counter() - t0


def stop_ray() -> None:
    from seisproc.orchestration import ray_shutdown_if_started

    ray_shutdown_if_started()


class TimingExecutor:
    """An :class:`~seisproc.jobs.ports.Executor` proxy that timestamps the engine's traffic.

    For each processed unit it keeps ``(finished_at, returned_at)``: the worker's
    wall-clock time when the unit's last trace was written, and the time this proxy
    handed the completion to the engine. It also counts units in flight per job, calls
    ``on_submit(job_id, unit_number)`` on each dispatch, and keeps the CPU time of the
    engine's scheduler thread (the only caller of :meth:`wait`).
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.units: dict[tuple[str, int], tuple[float, float]] = {}
        self.in_flight_by_job: Counter[str] = Counter()
        self.on_submit: Callable[[str, int], None] | None = None
        self.scheduler_cpu_s = 0.0
        self.dispatched = 0

    def capacity(self) -> int:
        return int(self.inner.capacity())

    def in_flight(self) -> int:
        return int(self.inner.in_flight())

    def submit(self, spec: Any, unit: Any) -> None:
        self.inner.submit(spec, unit)
        self.in_flight_by_job[spec.job_id] += 1
        self.dispatched += 1
        if self.on_submit is not None:
            self.on_submit(spec.job_id, unit.number)

    def wait(self, timeout_s: float) -> list[Any]:
        completions = self.inner.wait(timeout_s)
        returned_at = time.time()
        for completion in completions:
            self.in_flight_by_job[completion.job_id] -= 1
            if completion.result is not None:
                key = (completion.job_id, completion.unit.number)
                self.units[key] = (completion.result.finished_at, returned_at)
        self.scheduler_cpu_s = time.thread_time()
        return list(completions)

    def stop_job(self, job_id: str) -> None:
        self.inner.stop_job(job_id)

    def release_job(self, job_id: str) -> None:
        self.inner.release_job(job_id)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def __getattr__(self, name: str) -> Any:
        """Anything else (``workers``, ``wait_ready``...) is the wrapped executor's."""
        return getattr(self.inner, name)


class Stopwatch:
    """Durations of calls, as ``(time.perf_counter() at the start, seconds)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, float]] = []

    def timed(self, fn: Callable[..., Any], *args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.calls.append((t0, time.perf_counter() - t0))

    def since(self, t0: float) -> list[float]:
        """Durations of the calls started at or after ``t0``."""
        return [seconds for start, seconds in list(self.calls) if start >= t0]


def timed_stores(home: Path) -> tuple[Any, Any, Stopwatch, Stopwatch]:
    """The engine's history and checkpoint store, each with a stopwatch on its writes.

    Subclasses, not changes to the engine: the JobManager takes any store. The engine's
    per-unit durable work (checkpoint append, throttled progress save) can then be told
    apart from the rest of a progress update's path.
    """
    from seisproc.history import JobHistoryStorage
    from seisproc.jobs.checkpoints import CheckpointStore

    saves, appends = Stopwatch(), Stopwatch()

    class TimedHistory(JobHistoryStorage):
        def save_job(self, job: Any) -> None:
            saves.timed(super().save_job, job)

    class TimedCheckpoints(CheckpointStore):
        # The engine appends a batch at a time; append() goes through append_many, so
        # timing only this one counts every durable write once.
        def append_many(self, job_id: str, unit_numbers: Sequence[int]) -> None:
            appends.timed(super().append_many, job_id, unit_numbers)

    return (TimedHistory(f"sqlite:///{home / 'job_history.db'}"),
            TimedCheckpoints(home / "checkpoints"), saves, appends)


class StateWatcher:
    """A subscriber that notes when (``time.perf_counter``) each job reached each state."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.reached: dict[str, dict[JobState, float]] = {}
        self.latest: dict[str, JobState] = {}

    def __call__(self, event: JobEvent) -> None:
        now = time.perf_counter()
        with self._changed:
            self.reached.setdefault(event.job.id, {}).setdefault(event.job.state, now)
            self.latest[event.job.id] = event.job.state
            self._changed.notify_all()

    def wait_for(self, job_id: str, states: Sequence[JobState], timeout_s: float = 60.0,
                 ) -> tuple[JobState, float]:
        """The first of ``states`` the job reached and when; raises after the timeout."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                seen = self.reached.get(job_id, {})
                for state in states:
                    if state in seen:
                        return state, seen[state]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"job {job_id} did not reach {list(states)} in "
                                       f"{timeout_s} s (it is {self.latest.get(job_id)})")
                self._changed.wait(min(left, 0.5))

    def count(self, job_ids: Sequence[str], state: JobState) -> int:
        with self._changed:
            return sum(1 for j in job_ids if self.latest.get(j) is state)


@dataclasses.dataclass
class Engine:
    """What :func:`engine` yields."""

    manager: Any
    executor: TimingExecutor
    watcher: StateWatcher
    home: Path
    out_dir: Path
    actors_seconds: float
    """Creating the pool's actors until each answered."""
    saves: Stopwatch
    """The engine's ``save_job`` calls."""
    appends: Stopwatch
    """The engine's checkpoint appends."""


@contextlib.contextmanager
def engine(bench_dir: Path, *, max_running: int, workers: int = 2,
           gathers_per_unit: int = 4) -> Iterator[Engine]:
    """A JobManager on SQLite history in a fresh SEISPROC_HOME and a warm Ray pool.

    The pool is created and waited for here (its start-up is reported apart), then
    handed to the manager through its executor factory. On exit every active job is
    cancelled, the actors are killed and the home (history, checkpoints, outputs) removed.
    """
    from seisproc.jobs.manager import JobManager
    from seisproc.orchestration import RayExecutor

    bench_dir.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="home-", dir=bench_dir))
    os.environ["SEISPROC_HOME"] = str(home)
    out_dir = home / "out"
    out_dir.mkdir()
    t0 = time.perf_counter()
    pool = RayExecutor(workers=workers)
    pool.wait_ready(timeout_s=120)
    executor = TimingExecutor(pool)
    actors_seconds = time.perf_counter() - t0
    store, checkpoints, saves, appends = timed_stores(home)
    manager = JobManager(store, lambda: executor, checkpoints,
                         max_running=max_running, gathers_per_unit=gathers_per_unit)
    watcher = StateWatcher()
    manager.subscribe(watcher)
    try:
        yield Engine(manager, executor, watcher, home, out_dir, actors_seconds, saves, appends)
    finally:
        manager.close(active="cancel")
        store.close()
        shutil.rmtree(home, ignore_errors=True)


class BackgroundLoad:
    """Keeps ``n`` long jobs RUNNING on the engine: the "under load" condition.

    A job that finishes is replaced at once. Jobs have the benchmark's own priority (0):
    the engine dispatches strictly by priority, so load jobs of a higher priority would
    starve the measured job. ``min_running`` reports the fewest that were RUNNING at any
    check, so a report can say the load really held. Use it as a context manager, so the
    load is cancelled before the engine closes even when the benchmark fails.
    """

    def __init__(self, eng: Engine, survey: Path, n: int = 20,
                 steps: list[dict[str, Any]] | None = None) -> None:
        self.eng, self.survey, self.n = eng, survey, n
        self.steps = steps or SLOW_STEPS
        self.jobs: list[str] = []
        self.replaced = 0
        self.min_running: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep_up, name="bench-load", daemon=True)
        self._serial = 0
        self.summary: dict[str, Any] | None = None
        """What the load was, once stopped: jobs, fewest seen running, replacements."""

    def _submit(self) -> str:
        self._serial += 1
        output = self.eng.out_dir / f"load-{self._serial:04d}.sgy"
        flow = make_flow(self.survey, output, self.steps, name=f"load-{self._serial}")
        # overwrite: an earlier load of this process may have finished a job of the same
        # name (a phase's load starts its numbering afresh)
        job = self.eng.manager.submit(flow, tags=("bench-load",), overwrite=True)
        self.jobs.append(job.id)
        return str(job.id)

    def start(self, timeout_s: float = 120.0) -> None:
        """Submit the jobs and return once each has a unit done (really running)."""
        ids = [self._submit() for _ in range(self.n)]
        deadline = time.monotonic() + timeout_s
        for job_id in ids:
            while (job_id, 0) not in self.eng.executor.units and not self._finished(job_id):
                if time.monotonic() > deadline:
                    raise TimeoutError("background jobs did not start")
                time.sleep(0.05)
        self._thread.start()

    def _finished(self, job_id: str) -> bool:
        state = self.eng.watcher.latest.get(job_id)
        return state is not None and state.is_terminal()

    def __enter__(self) -> BackgroundLoad:
        self.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self.summary is None:
            with contextlib.suppress(Exception if exc_type is not None else ()):
                self.stop()

    def _keep_up(self) -> None:
        while not self._stop.wait(0.1):
            self._check()

    def _check(self) -> None:
        for job_id in list(self.jobs):
            if self._finished(job_id):
                self.jobs.remove(job_id)
                Path(self.eng.manager.get(job_id).output).unlink(missing_ok=True)
                self._submit()
                self.replaced += 1
        running = self.eng.watcher.count(self.jobs, JobState.RUNNING)
        self.min_running = running if self.min_running is None else min(self.min_running,
                                                                         running)

    def stop(self) -> dict[str, Any]:
        """Cancel the load; returns what it was."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        for job_id in list(self.jobs):
            with contextlib.suppress(Exception):
                self.eng.manager.cancel(job_id)
        for job_id in self.jobs:
            self.eng.watcher.wait_for(job_id, [JobState.CANCELLED, JobState.COMPLETED,
                                               JobState.FAILED], timeout_s=60)
        self.summary = {"jobs": self.n, "min_running_seen": self.min_running,
                        "replaced_when_done": self.replaced}
        return self.summary
