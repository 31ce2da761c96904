"""Compute off the GUI thread, one request at a time, and deliver only the newest result.

Dragging the gather slider or a parameter spin box asks for a new frame many times a
second. Queueing every request would leave the display seconds behind the hand; running
them all at once would fight over the CPU. Here at most one computation runs and at most
one waits: a new request replaces the waiting one, and a result that is no longer the
newest request's is dropped, so the display always converges on the last thing asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from seisproc.gui.bridge import CoalescingBridge

__all__ = ["LatestRequestRunner"]

_Done = tuple[int, "Future[Any]"]


class LatestRequestRunner(QObject):
    """Runs callables on one worker thread; ``finished``/``failed`` fire on the GUI thread
    for the newest request only, ``idle`` once nothing runs or waits.

    >>> runner = LatestRequestRunner()                 # doctest: +SKIP
    >>> runner.finished.connect(show)                  # doctest: +SKIP
    >>> runner.submit(lambda: load_frame(segy, index, 3))  # doctest: +SKIP
    """

    finished = Signal(object)
    """The newest request's result."""
    failed = Signal(object)
    """The exception the newest request raised."""
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seisproc-view")
        self._bridge: CoalescingBridge[_Done] = CoalescingBridge(interval_ms=0, parent=self)
        self._bridge.delivered.connect(self._on_delivered)
        self._latest = 0
        self._running = False
        self._waiting: tuple[int, Callable[[], Any]] | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        """Whether a computation runs or waits."""
        return self._running or self._waiting is not None

    def submit(self, compute: Callable[[], Any]) -> None:
        """Ask for ``compute()``; it supersedes every earlier request."""
        if self._closed:
            return
        self._latest += 1
        if self._running:
            self._waiting = (self._latest, compute)
        else:
            self._start(self._latest, compute)

    def shutdown(self) -> None:
        """Drop the waiting request and wait for the running one: call before closing
        anything the computations read."""
        self._closed = True
        self._waiting = None
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _start(self, generation: int, compute: Callable[[], Any]) -> None:
        self._running = True
        future = self._executor.submit(compute)
        future.add_done_callback(lambda done: self._bridge.post((generation, done)))

    @Slot(list)
    def _on_delivered(self, batch: list[_Done]) -> None:
        for generation, future in batch:
            self._running = False
            if generation == self._latest and not self._closed:
                error = future.exception()
                if error is None:
                    self.finished.emit(future.result())
                else:
                    self.failed.emit(error)
        if self._waiting is not None and not self._running:
            generation, compute = self._waiting
            self._waiting = None
            self._start(generation, compute)
        elif not self.busy:
            self.idle.emit()
