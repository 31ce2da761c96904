"""Workers compute at a lower CPU priority than the threads that answer people.

On a machine where the workers use every core (a workstation running a survey, the
2-core CI), the driver's scheduler, Ray's own threads, the desktop window and a second
terminal's ``seisproc pause`` all wait for a core behind the kernels: progress reached
the window 12-14 ms after a unit ended (p99, 20 jobs), of which the engine's own work
was 6 ms. A worker's computing threads therefore run niced (``SEISPROC_WORKER_NICE``,
5 by default, 0 to turn it off), and only they: the actor's control thread, which takes
stop requests, and Ray's threads, which carry results back, keep their priority. Nothing
is slower when the machine is otherwise idle; a nice value only orders who runs first.
(Measured: it did not move progress delivery p99 beyond run-to-run noise, 12.1 → 10.9 ms
for one job and 16.2 → 17.6 ms for 20; it is kept for the window and terminals.)

Linux sets priorities per thread (``setpriority`` on a thread id); elsewhere this does
nothing.
"""

from __future__ import annotations

import contextlib
import os
import threading

__all__ = ["DEFAULT_WORKER_NICE", "WORKER_NICE_ENV", "lower_this_thread", "worker_nice"]

WORKER_NICE_ENV = "SEISPROC_WORKER_NICE"
DEFAULT_WORKER_NICE = 5
_MAX_NICE = 19

_done = threading.local()


def worker_nice() -> int:
    """How much a worker's computing threads are niced: ``SEISPROC_WORKER_NICE`` (0-19),
    else 5; a value that is not a number counts as the default."""
    raw = os.environ.get(WORKER_NICE_ENV, "").strip()
    try:
        value = int(raw) if raw else DEFAULT_WORKER_NICE
    except ValueError:
        value = DEFAULT_WORKER_NICE
    return max(0, min(_MAX_NICE, value))


def lower_this_thread() -> None:
    """Nice the calling thread by :func:`worker_nice`, once per thread (a thread of a
    worker's pool runs many units)."""
    if getattr(_done, "lowered", False):
        return
    _done.lowered = True
    increment = worker_nice()
    if increment == 0 or not hasattr(os, "setpriority"):
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):  # not Linux, or not allowed: run as it is
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(_MAX_NICE, current + increment))
