"""Jobs of every process, from the history's change feed, polled off the GUI thread.

A ``seisproc run`` in a terminal, a script, another window: their jobs send this window
no events, but each change they make to a job raises the history's revision
(:mod:`seisproc.history.changes`). :class:`HistoryFeed` asks for the jobs changed after
the revision it last saw, every :data:`POLL_INTERVAL_S`, on a thread of its own, and
hands them to the GUI thread as :attr:`HistoryFeed.changed`. A poll that finds nothing is
one index seek, a fraction of a millisecond with a million jobs in the history
(``benchmarks/history_scale.py``).

A locked or unreachable database costs beats, never the window: the thread waits for it
(the next poll starts only when this one has ended), the failure is logged once, and the
jobs changed meanwhile come with the first poll that succeeds.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QObject, Signal

from seisproc.history import JobChanges
from seisproc.jobs.model import Job

__all__ = ["ChangeFeed", "HistoryFeed", "POLL_INTERVAL_S"]

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.25
"""Seconds between polls: a change is shown within about a quarter of a second."""


@runtime_checkable
class ChangeFeed(Protocol):
    """A job store that tells which jobs changed after a revision
    (:class:`~seisproc.history.JobHistoryStorage`; an in-memory store has no other
    process to hear of)."""

    def latest_revision(self) -> int: ...

    def changes_since(self, revision: int, limit: int = 500) -> JobChanges: ...


class HistoryFeed(QObject):
    """Polls ``source`` for jobs changed after ``revision`` until :meth:`stop`.

    Examples
    --------
    >>> feed = HistoryFeed(store, store.latest_revision())       # doctest: +SKIP
    >>> feed.changed.connect(model.apply_jobs)                   # doctest: +SKIP
    >>> feed.start()                                             # doctest: +SKIP
    """

    changed = Signal(object)
    """A list of :class:`Job` records, each changed since the last delivery, on the GUI
    thread (the signal is queued from the polling thread)."""

    def __init__(self, source: ChangeFeed, revision: int, *,
                 interval_s: float = POLL_INTERVAL_S) -> None:
        super().__init__()
        self._source = source
        self._revision = revision
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="seisproc-history-feed",
                                        daemon=True)

    @property
    def revision(self) -> int:
        """The revision of the last change delivered."""
        return self._revision

    @property
    def native_thread_id(self) -> int | None:
        """The polling thread's id in the OS (``None`` before :meth:`start`): what a
        benchmark reads the thread's CPU time by."""
        return self._thread.native_id

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Poll no more (a poll under way ends on its own; nothing more is delivered)."""
        self._stopping.set()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval_s):
            jobs = self.poll()
            if jobs and not self._stopping.is_set():
                try:
                    self.changed.emit(jobs)
                except RuntimeError:  # the window is gone while this poll ran
                    return

    def poll(self) -> list[Job]:
        """Read every job changed since the last poll (on the calling thread); a failure
        is logged once and leaves the revision where it was, for the next poll."""
        jobs: list[Job] = []
        try:
            while True:
                changes = self._source.changes_since(self._revision)
                jobs.extend(changes.jobs)
                self._revision = changes.revision
                if not changes.more or self._stopping.is_set():
                    break
        except Exception as exc:  # a locked or lost database: skip this beat
            if not self._failing:
                log.warning("the job history cannot be read (%s: %s); the dashboard "
                            "keeps trying", type(exc).__name__, exc)
            self._failing = True
            return jobs
        if self._failing:
            log.info("the job history can be read again")
            self._failing = False
        return jobs
