"""Where a job's time goes: each worker times the stages of its units, the job adds them.

A worker keeps a :class:`StageClock` per unit and calls :meth:`StageClock.lap` at each
stage boundary (one ``perf_counter`` call, about 50 ns: cheap enough to leave on in every
job). The stages, in the order a gather meets them:

``read``
    the system calls that bring the gather's trace records in;
``decode``
    sample conversion to float32 (IBM floats are the expensive case);
one per processor, by its name
    ``bandpass``, ``agc``, … (a processor used twice adds up under one name; on a GPU
    the kernels run asynchronously, so their time lands where the worker next waits);
``device``
    on a GPU worker: moving batches to and from the device, and waiting for kernels;
``qc``
    the gather's quality figures (RMS, non-finite samples, dominant frequency);
``encode``
    float32 back to the output's sample format;
``write``
    the system calls that write the records, and starting their write-back;
``sync``
    the per-unit ``fdatasync`` that makes the unit durable before it is reported (on a
    worker actor it overlaps the next unit's work, so shares may add up to more than
    the worker's wall time).

The unit's result carries its stages; the driver adds them up per job
(:func:`add_stages`), and :func:`breakdown` turns totals into shares for people.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

__all__ = ["StageClock", "Stages", "add_stages", "breakdown"]

Stages = tuple[tuple[str, float], ...]
"""Seconds per stage, in the order the stages first ran."""


class StageClock:
    """Seconds spent per named stage, measured as laps between boundaries.

    >>> clock = StageClock()
    >>> clock.lap("read"); clock.lap("decode"); clock.lap("read")
    >>> [name for name, _ in clock.stages()]
    ['read', 'decode']
    """

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        """Charge the time since the last boundary to ``stage``."""
        now = time.perf_counter()
        self._seconds[stage] = self._seconds.get(stage, 0.0) + (now - self._last)
        self._last = now

    def stages(self) -> Stages:
        return tuple(self._seconds.items())


def add_stages(totals: dict[str, float], stages: Iterable[tuple[str, float]]) -> None:
    """Add a unit's ``stages`` into a job's running ``totals`` (in place)."""
    for name, seconds in stages:
        totals[name] = totals.get(name, 0.0) + seconds


def breakdown(totals: Mapping[str, float], *, least_share: float = 0.005) -> str:
    """One line of shares, largest first, e.g. ``decode 31% · bandpass 28% · …``.

    Shares are of the workers' summed stage time (not the job's wall time: several
    workers run at once). Stages under ``least_share`` of it are left out.

    >>> breakdown({"read": 1.0, "decode": 3.0, "sync": 0.001})
    'decode 75% · read 25%'
    """
    whole = sum(totals.values())
    if whole <= 0:
        return ""
    shares = sorted(((seconds / whole, name) for name, seconds in totals.items()),
                    reverse=True)
    return " · ".join(f"{name} {share:.0%}" for share, name in shares if share >= least_share)
