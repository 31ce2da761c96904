"""Keep this process's job leases alive from a thread that does nothing else.

A job's owner renews its lease in the store every ``LEASE_RENEW_S``, or another process
may take the job over once ``LEASE_TTL_S`` has passed (see :mod:`seisproc.jobs.owner`).
Renewing from the JobManager's scheduler thread would tie the lease to how busy that
thread is; :class:`LeaseKeeper` renews from its own thread, one store call per period
for every job held, and tells its owner which leases are lost so it stops writing those
jobs.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from seisproc.jobs.owner import LEASE_RENEW_S, LEASE_TTL_S
from seisproc.jobs.ports import JobStore

__all__ = ["LeaseKeeper"]

log = logging.getLogger(__name__)

ERROR_LOG_INTERVAL_S = 60.0
"""A store that keeps failing (locked, down) is logged at most this often."""


class LeaseKeeper:
    """Renews the leases of the jobs this process owns, on a daemon thread.

    Parameters
    ----------
    store
        The job store holding the leases (:meth:`~seisproc.jobs.ports.JobStore.renew_leases`).
    renew_s
        Seconds between renewals.
    ttl_s
        Seconds each renewal extends a lease by, from the store's clock at renewal.
    on_lost
        Called on the keeper's thread with the ids of jobs this process must stop writing
        (their saves would be refused): another process took them over or they are gone,
        or no renewal has succeeded for ``ttl_s - renew_s`` seconds (the store was
        unreachable, so the lease may have run out by now). Those ids are no longer
        held. Exceptions it raises are logged, never propagated.

    Examples
    --------
    >>> from seisproc.jobs.memory import MemoryJobStore
    >>> from seisproc.jobs.model import Job
    >>> store = MemoryJobStore()
    >>> store.save_job(Job(id="a1b2c3d4e5f6", name="demo"))
    >>> keeper = LeaseKeeper(store, renew_s=0.1, ttl_s=1.0, on_lost=print)
    >>> keeper.hold("a1b2c3d4e5f6", 0)
    >>> keeper.start()
    >>> keeper.close()
    """

    def __init__(self, store: JobStore, *, renew_s: float = LEASE_RENEW_S,
                 ttl_s: float = LEASE_TTL_S, on_lost: Callable[[list[str]], None]) -> None:
        if not 0 < renew_s < ttl_s:
            raise ValueError(f"renew_s ({renew_s}) must be positive and below ttl_s ({ttl_s})")
        self._store = store
        self._renew_s = renew_s
        self._ttl_s = ttl_s
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}
        self._renewed_at: dict[str, float] = {}
        """Monotonic time each lease was last known good (held, or a renewal began)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="seisproc-lease", daemon=True)
        self._last_error_log = -math.inf

    def hold(self, job_id: str, token: int) -> None:
        """Renew the lease of ``job_id`` with fencing ``token`` from now on (call it right
        after the store granted the lease: a first save or ``take_over``)."""
        with self._lock:
            self._held[job_id] = token
            self._renewed_at[job_id] = time.monotonic()

    def drop(self, job_id: str) -> None:
        """Stop renewing ``job_id`` (it ended or was handed back); unknown ids are fine."""
        with self._lock:
            self._held.pop(job_id, None)
            self._renewed_at.pop(job_id, None)

    def held(self) -> dict[str, int]:
        """The leases renewed now, ``{job_id: token}``."""
        with self._lock:
            return dict(self._held)

    def start(self) -> None:
        """Start the renewing thread (once)."""
        if not self._thread.is_alive() and not self._stop.is_set():
            self._thread.start()

    def close(self) -> None:
        """Stop renewing and wait for the thread (leases then run out by themselves)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            self._held.clear()
            self._renewed_at.clear()

    def _run(self) -> None:
        while not self._stop.wait(self._renew_s):
            lost = self._renew()
            if lost:
                self._report(lost)

    def _renew(self) -> list[str]:
        """One renewal of every lease held; the ids lost since the last one."""
        started = time.monotonic()
        held = self.held()
        try:
            refused = set(self._store.renew_leases(held, self._ttl_s)) if held else set()
        except Exception as exc:
            self._log_store_error(exc)
            renewed: set[str] = set()
            refused = set()
        else:
            renewed = set(held) - refused
        overdue = time.monotonic() - (self._ttl_s - self._renew_s)
        with self._lock:
            for job_id in renewed:
                if self._held.get(job_id) == held[job_id]:
                    self._renewed_at[job_id] = started
            lost = [job_id for job_id, token in held.items()
                    if self._held.get(job_id) == token
                    and (job_id in refused or self._renewed_at[job_id] < overdue)]
            for job_id in lost:
                del self._held[job_id], self._renewed_at[job_id]
        return lost

    def _report(self, lost: list[str]) -> None:
        try:
            self._on_lost(lost)
        except Exception:
            log.exception("the handler of lost job leases %s failed", lost)

    def _log_store_error(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error_log >= ERROR_LOG_INTERVAL_S:
            self._last_error_log = now
            log.warning("cannot renew job leases (retrying every %g s; logged at most once "
                        "a minute): %s: %s", self._renew_s, type(exc).__name__, exc)
