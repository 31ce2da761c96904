"""``ResourceMonitor``: samples the machine, the GPUs, the cluster and the jobs on a thread.

Each interval (1 s by default) it builds a :class:`ResourceSnapshot`, keeps it in a
bounded ring buffer (the recent past a GUI chart or ``seisproc monitor`` draws), and hands
it to every subscriber on the monitor's thread: alert rules, the GUI bridge, a terminal
view. Subscribers must be quick; the alert manager runs its actions on threads of its own
for that reason. Anything optional failing (the cluster probe, the job source, a
subscriber) is logged and sampling goes on.

A ``sink`` receives a *downsampled* snapshot (every ``sink_interval_s``, the window's
average) for durable storage: the job history's resource samples table writes it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from seisproc.jobs.model import utcnow
from seisproc.monitoring.gpu import NvmlGpus
from seisproc.monitoring.snapshot import (
    ClusterProbe,
    ClusterStatus,
    GpuStats,
    JobMetrics,
    ResourceSnapshot,
)
from seisproc.monitoring.system import SystemSampler, WatchedFolder
from seisproc.observers import Subscribers
from seisproc.paths import seisproc_home

__all__ = ["ResourceMonitor", "SnapshotSubscriber", "JobMetricsSource"]

log = logging.getLogger(__name__)

SnapshotSubscriber = Callable[[ResourceSnapshot], object]
"""Anything taking a snapshot; a return value (``AlertManager.check``'s alerts) is ignored."""
JobMetricsSource = Callable[[], Sequence[JobMetrics]]
"""Metrics of the active jobs, e.g. a :class:`~seisproc.monitoring.jobs.JobTracker`."""
R = TypeVar("R")
_QUIET_S = 60.0
"""A failure that repeats every sample is logged once per this many seconds."""


class ResourceMonitor:
    """Samples resources every ``interval_s`` on a daemon thread (see the module docstring).

    Parameters
    ----------
    interval_s
        Seconds between snapshots.
    history_size
        Snapshots kept in the ring buffer (300 = five minutes at 1 Hz).
    jobs
        Active jobs' metrics; no job entries without it.
    cluster
        The cluster probe (``seisproc.orchestration.probe.RayClusterProbe``); no cluster
        entry without it.
    gpus
        Reads the GPUs; NVML by default. ``lambda: ()`` turns GPU readings off.
    home
        The seisproc home, whose file system is always watched; the default home by
        default. Running jobs' output folders are watched too.
    sink, sink_interval_s
        Receives the average snapshot of each ``sink_interval_s`` window.

    Examples
    --------
    >>> with ResourceMonitor(interval_s=0.5, gpus=lambda: ()) as monitor:  # doctest: +SKIP
    ...     unsubscribe = monitor.subscribe(lambda s: print(f"{s.cpu_percent:.0f}% CPU"))
    ...     time.sleep(2)
    """

    def __init__(self, *, interval_s: float = 1.0, history_size: int = 300,
                 jobs: JobMetricsSource | None = None, cluster: ClusterProbe | None = None,
                 gpus: Callable[[], tuple[GpuStats, ...]] | None = None,
                 home: Path | None = None, sink: SnapshotSubscriber | None = None,
                 sink_interval_s: float = 60.0) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, not {interval_s}")
        self.interval_s = interval_s
        self._jobs, self._cluster = jobs, cluster
        self._nvml = NvmlGpus() if gpus is None else None
        self._gpus = gpus or self._nvml.read  # type: ignore[union-attr]
        self._home = home or seisproc_home()
        self._sink, self._sink_interval_s = sink, sink_interval_s
        self._window: list[ResourceSnapshot] = []
        self._system = SystemSampler()
        self._ring: deque[ResourceSnapshot] = deque(maxlen=history_size)
        self._subscribers: Subscribers[ResourceSnapshot] = Subscribers()
        self._lock = threading.Lock()
        self._sample_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._complained: dict[str, float] = {}
        self._losses = _Losses() if cluster is not None else None

    # ------------------------------------------------------------------ public API
    def subscribe(self, subscriber: SnapshotSubscriber) -> Callable[[], None]:
        """Call ``subscriber(snapshot)`` for each new snapshot; returns the unsubscribe."""
        return self._subscribers.add(subscriber)

    @property
    def latest(self) -> ResourceSnapshot | None:
        with self._lock:
            return self._ring[-1] if self._ring else None

    def history(self) -> list[ResourceSnapshot]:
        """The ring buffer's snapshots, oldest first."""
        with self._lock:
            return list(self._ring)

    def start(self) -> ResourceMonitor:
        """Start the sampling thread (idempotent); the first snapshot comes one interval on."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="seisproc-monitor",
                                                daemon=True)
                self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop sampling and release NVML; subscribers get nothing more."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        self._thread = None
        if self._nvml is not None:
            self._nvml.close()

    def __enter__(self) -> ResourceMonitor:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def sample(self) -> ResourceSnapshot:
        """Take a snapshot now: record it, hand it to subscribers and the sink, return it."""
        with self._sample_lock:
            snapshot = self._take()
            with self._lock:
                self._ring.append(snapshot)
            for subscriber in self._subscribers.current():
                self._guarded(f"subscriber {subscriber!r}", subscriber, snapshot)
            self._feed_sink(snapshot)
        return snapshot

    # ------------------------------------------------------------------ sampling
    def _run(self) -> None:
        next_at = time.monotonic() + self.interval_s
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            self._guarded("sampling", self.sample)
            next_at += self.interval_s
            if next_at < time.monotonic():  # fell behind (a suspended laptop): no burst
                next_at = time.monotonic() + self.interval_s

    def _take(self) -> ResourceSnapshot:
        monotonic, at = time.monotonic(), utcnow()
        previous = self._ring[-1].monotonic_s if self._ring else None
        jobs = self._guarded("job metrics", self._jobs) if self._jobs else None
        jobs = tuple(jobs or ())
        reading = self._system.read(self._folders(jobs))
        cluster = self._probe_cluster()
        return ResourceSnapshot(
            at=at, monotonic_s=monotonic,
            interval_s=monotonic - previous if previous is not None else self.interval_s,
            **{f.name: getattr(reading, f.name) for f in dataclasses.fields(reading)},
            gpus=tuple(self._guarded("GPU readings", self._gpus) or ()),
            cluster=cluster, jobs=jobs,
            metrics={**_job_aggregates(jobs),
                     **(self._losses.update(cluster, monotonic) if self._losses else {})})

    def _probe_cluster(self) -> ClusterStatus | None:
        if self._cluster is None:
            return None
        return self._guarded("cluster probe", self._cluster)

    def _folders(self, jobs: Iterable[JobMetrics]) -> list[WatchedFolder]:
        """The home, then each running job's output folder, each folder once."""
        folders = {self._home: WatchedFolder(self._home, "home")}
        for job in jobs:
            if job.output:
                folder = Path(job.output).parent
                folders.setdefault(folder, WatchedFolder(folder, f"job {job.job_id}"))
        return list(folders.values())

    def _feed_sink(self, snapshot: ResourceSnapshot) -> None:
        if self._sink is None:
            return
        self._window.append(snapshot)
        if snapshot.monotonic_s - self._window[0].monotonic_s + snapshot.interval_s \
                >= self._sink_interval_s:
            window, self._window = self._window, []
            self._guarded("sink", self._sink, average(window))

    def _guarded(self, what: str, call: Callable[..., R], *args: object) -> R | None:
        """``call(*args)``, or ``None`` if it raised: logged, at most once a minute."""
        try:
            return call(*args)
        except Exception:
            now = time.monotonic()
            if now - self._complained.get(what, -_QUIET_S) >= _QUIET_S:
                self._complained[what] = now
                log.exception("resource monitor: %s failed (repeats are silenced for %.0f s)",
                              what, _QUIET_S)
            return None


def _job_aggregates(jobs: Sequence[JobMetrics]) -> dict[str, float]:
    """The flat job metrics the seed's rules read (``job_no_progress_seconds``)."""
    running = [j for j in jobs if j.state == "RUNNING"]
    out = {"job_no_progress_seconds": max((j.no_progress_seconds for j in running), default=0.0),
           "jobs_active": float(len(jobs))}
    ratios = [r for j in running if (r := j.rate_ratio) is not None]
    if ratios:
        out["job_min_rate_ratio"] = min(ratios)
    return out


class _Losses:
    """Turns cluster readings into *recent* losses: nodes this monitor saw alive that are
    now dead or gone, and increases of the probe's lost-worker count, over the last
    ``window_s``. A loss therefore raises an alert once and clears by itself, where
    ``ray.nodes()`` lists a dead node for the rest of the cluster's life.
    """

    def __init__(self, window_s: float = 600.0) -> None:
        self.window_s = window_s
        self._alive: set[str] = set()
        self._workers_lost: int | None = None
        self._events: deque[tuple[float, str]] = deque()

    def update(self, cluster: ClusterStatus | None, now: float) -> dict[str, float]:
        if cluster is not None:
            listed = {n.node_id: n.alive for n in cluster.nodes}
            lost = {i for i in self._alive if not listed.get(i, False)}
            self._events.extend((now, "node") for _ in lost)
            self._alive = (self._alive - lost) | {i for i, alive in listed.items() if alive}
            before, self._workers_lost = self._workers_lost, cluster.workers_lost
            if before is not None and cluster.workers_lost > before:
                self._events.extend((now, "worker") for _ in range(cluster.workers_lost - before))
        while self._events and now - self._events[0][0] > self.window_s:
            self._events.popleft()
        kinds = [kind for _, kind in self._events]
        return {"nodes_lost_recently": float(kinds.count("node")),
                "workers_lost_recently": float(kinds.count("worker"))}


_AVERAGED = ("cpu_percent", "memory_percent", "swap_percent", "net_sent_bytes_per_s",
             "net_recv_bytes_per_s", "disk_read_bytes_per_s", "disk_write_bytes_per_s")


def average(window: Sequence[ResourceSnapshot]) -> ResourceSnapshot:
    """One snapshot for a window: the latest, with the machine-wide figures averaged.

    Disks, GPUs, the cluster and jobs are the latest ones (states, not rates).
    ``interval_s`` becomes the window's span.
    """
    latest = window[-1]
    means: dict[str, float | None] = {}
    for name in _AVERAGED:
        values = [v for s in window if (v := getattr(s, name)) is not None]
        means[name] = sum(values) / len(values) if values else None
    cores = [s.cpu_per_core for s in window if len(s.cpu_per_core) == len(latest.cpu_per_core)]
    per_core = tuple(sum(c) / len(cores) for c in zip(*cores, strict=True))
    span = latest.monotonic_s - window[0].monotonic_s + window[0].interval_s
    return dataclasses.replace(latest, interval_s=span, cpu_per_core=per_core,
                               **means)  # type: ignore[arg-type]
