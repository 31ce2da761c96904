"""The one thread that writes job records to the history and announces job events.

The scheduler decides in memory and hands each new record here; this thread saves it,
retrying a store that fails for a while (a database locked by another process, a full
disk being cleaned), and announces the event only once the record is saved, in the order
the scheduler decided them. So no scheduler turn, API call or GUI click ever waits for
the database: the first engine held its lock across saves, and a database locked for
4 s froze ``manager.get()`` for 3.8 s.

When a save still fails after ``retry_s`` the record is given up and ``on_failure`` is
told, so the scheduler can end the job in a state that matches its files. A save the
store refuses because another process has taken the job over (:class:`StaleOwner`) is
never retried: ``on_stale`` hands the job off.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from seisproc.jobs.events import EventBus, JobEvent
from seisproc.jobs.model import Job
from seisproc.jobs.ports import JobStore, StaleOwner

__all__ = ["HistoryWriter", "RetryPolicy", "Write"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a failing store is retried before a record is given up."""

    retry_s: float = 60.0
    """Total time a record is retried; a SQLite attempt itself waits up to its busy
    timeout (10 s) for a lock."""
    first_backoff_s: float = 0.05
    max_backoff_s: float = 2.0

    def backoffs(self) -> list[float]:
        """Pauses between attempts, doubling up to ``max_backoff_s``."""
        pauses: list[float] = []
        pause = self.first_backoff_s
        while sum(pauses) < self.retry_s:
            pauses.append(pause)
            pause = min(pause * 2, self.max_backoff_s)
        return pauses


@dataclass
class Write:
    """One item for the writer: a record to save (or ``None``), then an event to announce."""

    job: Job | None
    event: JobEvent | None = None
    retry: bool = True
    """``False``: one attempt (a record that follows a failure of the store)."""
    announce_unsaved: bool = False
    """Announce the event even if the save failed: the final record after a store
    failure, so that waiters learn the job's end."""
    report_failure: bool = True
    """Tell ``on_failure`` when the save is given up (the commit asks for itself)."""
    settle: bool = True
    """Count the record as the job's latest for waiters; ``False`` for the commit's save,
    which the scheduler announces once it has moved the job itself."""
    call: Callable[[], object] | None = None
    """Other history work to do in turn, best effort (a duration prediction)."""
    done: Future[bool] = field(default_factory=Future)
    """Resolves to whether the record was saved."""


_NUDGE = Write(None)
"""Wakes the writer for progress records waiting for an idle moment."""


class HistoryWriter:
    """Saves job records and announces job events, in order, on a thread of its own."""

    def __init__(self, store: JobStore, events: EventBus, *,
                 retry: RetryPolicy | None = None,
                 on_failure: Callable[[Job, Exception], None] = lambda job, exc: None,
                 on_stale: Callable[[Job, Exception], None] = lambda job, exc: None) -> None:
        self.store = store
        self.events = events
        self.retry = retry or RetryPolicy()
        self._on_failure = on_failure
        self._on_stale = on_stale
        self._queue: queue.Queue[Write | None] = queue.Queue()
        self._changed = threading.Condition()
        self._progress: dict[str, Job] = {}
        """Progress records waiting for an idle moment, the latest per job."""
        self._settled: dict[str, Job] = {}
        """Each job's last record this thread has dealt with: saved, or given up."""
        self._pending = 0
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="seisproc-history")
        self._thread.start()

    def put(self, item: Write) -> Future[bool]:
        """Queue ``item``; returns the future of its save."""
        with self._changed:
            self._pending += 1
        self._queue.put(item)
        return item.done

    def save(self, job: Job, event: JobEvent | None = None, *, retry: bool = True,
             announce_unsaved: bool = False, report_failure: bool = True,
             settle: bool = True) -> Future[bool]:
        """Queue ``job``'s record, then ``event``; see :class:`Write` for the options."""
        return self.put(Write(job, event, retry=retry, announce_unsaved=announce_unsaved,
                              report_failure=report_failure, settle=settle))

    def save_progress(self, job: Job) -> None:
        """Save ``job``'s progress when nothing else waits: a record nobody is told about,
        so events never queue behind it (under 20 jobs they did: 40 saves a second, some
        of them a SQLite checkpoint of 10-30 ms). Only the latest per job is kept, and a
        later record of the job, saved in turn, supersedes it."""
        with self._changed:
            if job.id not in self._progress:
                self._pending += 1
            self._progress[job.id] = job
        self._queue.put(_NUDGE)

    def call(self, work: Callable[[], object], what: str) -> None:
        """Do ``work`` on this thread, in turn; a failure is logged (``what`` failed) and
        changes no job."""

        def guarded() -> None:
            try:
                work()
            except Exception:
                log.warning("%s failed", what, exc_info=True)

        self.put(Write(None, call=guarded))

    def announce(self, event: JobEvent) -> None:
        """Announce an event that changes nothing in the history (progress, a unit)."""
        self.put(Write(None, event))

    def settled(self, job_id: str) -> Job | None:
        """The job's last record this thread saved or gave up; ``None`` if none yet."""
        return self._settled.get(job_id)

    def forget(self, job_id: str) -> None:
        self._settled.pop(job_id, None)

    def wait_changed(self, timeout_s: float) -> None:
        """Block until the next record is dealt with, or ``timeout_s``."""
        with self._changed:
            self._changed.wait(timeout_s)

    def flush(self, timeout_s: float) -> bool:
        """Wait until every queued item is dealt with; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.1))
        return True

    def close(self, timeout_s: float) -> bool:
        """Flush, then stop the thread; False when records were still unsaved."""
        flushed = self.flush(timeout_s)
        self._queue.put(None)
        self._thread.join(timeout=1.0 if flushed else 0.1)
        if not flushed:
            log.warning("closing with job records the history has not taken yet: the next "
                        "seisproc command recovers those jobs")
        return flushed

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if item is not _NUDGE:
                self._deal_with(item)
            while self._queue.empty() and self._save_some_progress():
                pass

    def _deal_with(self, item: Write) -> None:
        try:
            if item.job is not None:
                self._supersede_progress(item.job)
            if item.call is not None:
                item.call()
            saved = self._save(item) if item.job is not None else True
            if item.job is not None and item.settle and (saved or item.announce_unsaved):
                self._settled[item.job.id] = item.job
            if item.event is not None and (saved or item.announce_unsaved):
                self.events.emit(item.event)
            item.done.set_result(saved)
        except Exception as exc:  # never lose the thread: resolve and go on
            log.exception("the history writer failed on an item")
            if not item.done.done():
                item.done.set_exception(exc)
        finally:
            self._dealt_with(1)

    def _supersede_progress(self, job: Job) -> None:
        """A record of the job is being saved: its waiting progress goes unless it is
        further along (progress only grows; states change only through this lane)."""
        with self._changed:
            waiting = self._progress.get(job.id)
            if waiting is None or waiting.progress.units_done > job.progress.units_done:
                return
            del self._progress[job.id]
        self._dealt_with(1)

    def _save_some_progress(self) -> bool:
        """Save one waiting progress record; False when none waits."""
        with self._changed:
            if not self._progress:
                return False
            job = self._progress.pop(next(iter(self._progress)))
        try:
            self._save(Write(job))
        except Exception:
            log.exception("the history writer failed on a progress record")
        finally:
            self._dealt_with(1)
        return True

    def _dealt_with(self, count: int) -> None:
        with self._changed:
            self._pending -= count
            self._changed.notify_all()

    def _save(self, item: Write) -> bool:
        """Save ``item.job``, retrying the store; False when it was given up."""
        assert item.job is not None
        pauses = self.retry.backoffs() if item.retry else []
        deadline = time.monotonic() + self.retry.retry_s
        for attempt in range(len(pauses) + 1):
            try:
                self.store.save_job(item.job)
                return True
            except StaleOwner as exc:
                self._on_stale(item.job, exc)
                return False
            except Exception as exc:
                if attempt == len(pauses) or time.monotonic() >= deadline:
                    log.error("job %s: the history could not record it (%s) after %d "
                              "attempt(s)", item.job.id, _one_line(exc), attempt + 1)
                    if item.report_failure:
                        self._on_failure(item.job, exc)
                    return False
                if attempt == 0:
                    log.warning("job %s: the history is failing (%s); retrying for up to "
                                "%.0f s", item.job.id, _one_line(exc), self.retry.retry_s)
                time.sleep(pauses[attempt])
        return False


def _one_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    return " ".join(f"{type(cause).__name__}: {cause}".split())
