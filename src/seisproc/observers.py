"""A thread-safe list of callbacks: what every observable in seisproc keeps.

Job events, resource snapshots and alerts each keep one. How a callback's failure is
handled stays with the observable (logged each time, or at most once a minute), so this
only adds, removes and hands out a stable copy to call outside any lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Subscribers"]

T = TypeVar("T")


class Subscribers(Generic[T]):
    """Callbacks taking one ``T``; safe to change from any thread while others call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[T], object]] = []

    def add(self, callback: Callable[[T], object]) -> Callable[[], None]:
        """Add ``callback``; returns the function that removes it again."""
        with self._lock:
            self._callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    def current(self) -> list[Callable[[T], object]]:
        """A copy to iterate over without holding the lock."""
        with self._lock:
            return list(self._callbacks)
