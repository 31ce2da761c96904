"""SIGTERM and SIGHUP end a command as Ctrl-C does: the job is cancelled or paused.

A scheduler's ``kill``, a cluster's pre-emption (SIGTERM) and a closed terminal (SIGHUP)
must leave a job in a true state, as Ctrl-C does; by default Python dies on them at once,
and the first engine left the job QUEUED or RUNNING for a process that no longer existed.
The first of these signals raises :class:`KeyboardInterrupt` in the main thread, where
``seisproc run`` already turns it into a clean cancel (or pause); later ones are ignored,
so a second signal cannot cut the clean-up short (every wait in it is bounded).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

__all__ = ["TERMINATING_SIGNALS", "interrupt_on_termination"]

TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def interrupt_on_termination() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`KeyboardInterrupt` (once)."""
    received: list[int] = []

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        if received:
            return  # already cleaning up: let it finish
        received.append(signum)
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in TERMINATING_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
