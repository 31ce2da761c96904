"""Core callbacks into Qt: collect on any thread, deliver in batches on the GUI thread.

The `JobManager`, the `ResourceMonitor` and the alert actions call their subscribers on
their own threads; Qt widgets may only be touched on the GUI thread. A bridge is the one
crossing point. It also coalesces: items posted while a delivery is pending go out
together once per interval, so 1,000 jobs reporting progress at once cost the window one
update per interval instead of thousands of repaints.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

__all__ = ["CoalescingBridge"]

T = TypeVar("T")


class CoalescingBridge(QObject, Generic[T]):
    """Thread-safe `post()`; `delivered(list)` fires on the bridge's thread in post order.

    With ``key``, an item replaces a pending one with the same key (keeping the first
    one's place): right for "latest state wins" feeds such as resource snapshots. Without
    it every item is delivered, as an event log needs.
    """

    delivered = Signal(list)
    _wake = Signal()

    def __init__(self, interval_ms: int = 50, key: Callable[[T], Hashable] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._key = key
        self._lock = threading.Lock()
        self._pending: dict[Hashable, T] = {}
        self._sequence = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)
        # Queued even when posting from the GUI thread: a post never re-enters a slot.
        self._wake.connect(self._arm, Qt.ConnectionType.QueuedConnection)

    def post(self, item: T) -> None:
        """Queue ``item``; safe from any thread, never blocks on the GUI."""
        with self._lock:
            first = not self._pending
            if self._key is None:
                self._sequence += 1
                self._pending[self._sequence] = item
            else:
                self._pending[self._key(item)] = item
        if first:
            self._wake.emit()

    def __call__(self, item: T) -> None:
        """A bridge is itself a subscriber: ``manager.subscribe(bridge)``."""
        self.post(item)

    @Slot()
    def _arm(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def flush(self) -> None:
        """Deliver what is pending now (also called by the timer)."""
        with self._lock:
            batch: list[Any] = list(self._pending.values())
            self._pending = {}
        if batch:
            self.delivered.emit(batch)
