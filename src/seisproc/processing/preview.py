"""One gather through a flow's processors, outside any job: what a viewer shows.

A job applies its flow gather by gather on workers; a person tuning that flow wants the
same chain on the gather in front of them, recomputed every time a parameter changes.
:func:`run_steps` is that chain (the one a work unit runs, errors naming the step), and
:func:`preview_gather` wraps it with the before/after/difference a viewer displays.
:func:`amplitude_spectrum` gives the average spectrum shown beside them.

>>> import numpy as np
>>> from seisproc.processing import GatherContext, create_processor
>>> gather = np.random.default_rng(0).normal(size=(4, 500)).astype(np.float32)
>>> preview = preview_gather([create_processor("agc", {"window_ms": 200})], gather,
...                          GatherContext(sample_interval_ms=4.0))
>>> preview.after.shape == preview.difference.shape == gather.shape
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seisproc.errors import ParameterError, ProcessingError, SeisprocError
from seisproc.processing.base import GatherContext, Processor, Reduced

__all__ = [
    "GatherPreview",
    "check_steps",
    "run_steps",
    "reduce_steps",
    "preview_gather",
    "amplitude_spectrum",
    "SPECTRUM_FLOOR_DB",
]

SPECTRUM_FLOOR_DB = -120.0
"""Lowest level an amplitude spectrum reports: silence is this, not minus infinity."""

_TAPER_FRACTION = 0.05
"""Length of the cosine taper at each end of a trace before its FFT, as a fraction of the
trace: it keeps the jump from the last sample back to the first out of the spectrum."""


@dataclass(frozen=True, eq=False)
class GatherPreview:
    """One gather before and after a flow, float32 ``(n_traces, n_samples)`` each."""

    before: np.ndarray
    """The samples as read."""
    after: np.ndarray
    """The samples after every step of the flow."""

    @property
    def difference(self) -> np.ndarray:
        """``after - before``: what the flow added (positive) or took away."""
        return np.asarray(self.after - self.before, dtype=np.float32)


def check_steps(processors: Sequence[Processor], sample_interval_ms: float,
                n_samples: int) -> None:
    """Refuse parameters that cannot apply to this data (a corner above Nyquist, a window
    shorter than a sample), naming the step as a flow file numbers it (from 1)."""
    for number, processor in enumerate(processors, start=1):
        try:
            processor.check(sample_interval_ms, n_samples)
        except ParameterError as exc:
            raise ParameterError(f"step {number} ({processor.name}): {exc}") from None


def run_steps(processors: Sequence[Processor], data: Any, context: GatherContext,
              where: str = "", lap: Callable[[str], None] | None = None) -> Any:
    """Every processor in turn on ``data`` (numpy or a device array), in its namespace.

    An error becomes a :class:`ProcessingError` that starts with ``where`` (e.g. the file
    and gather) and names the step; an unexpected one keeps the original as its
    ``__cause__`` (a GPU worker looks there for out-of-memory errors). ``lap`` is called
    with each processor's name as it finishes (a job's stage clock).
    """
    for step, processor in enumerate(processors, start=1):
        with _naming_the_step(where, step, processor):
            data = processor.apply(data, context)
        if lap is not None:
            lap(processor.name)
    return data


def reduce_steps(processors: Sequence[Processor], data: Any, context: GatherContext,
                 where: str = "", lap: Callable[[str], None] | None = None) -> Reduced:
    """:func:`run_steps` for a stage whose last step changes the trace count: every step
    but the last applied, then the last's :meth:`~Processor.reduce` (traces and headers)."""
    data = run_steps(processors[:-1], data, context, where, lap)
    step, last = len(processors), processors[-1]
    with _naming_the_step(where, step, last):
        reduced = last.reduce(data, context)
    if lap is not None:
        lap(last.name)
    return reduced


@contextlib.contextmanager
def _naming_the_step(where: str, step: int, processor: Processor) -> Iterator[None]:
    """An error of the step becomes a :class:`ProcessingError` starting with ``where``
    and the step; an unexpected one keeps the original as its ``__cause__``."""
    try:
        yield
    except SeisprocError as exc:
        raise ProcessingError(_step_prefix(where, step, processor) + str(exc)) from None
    except Exception as exc:
        raise ProcessingError(_step_prefix(where, step, processor)
                              + f"{type(exc).__name__}: {exc}") from exc


def _step_prefix(where: str, step: int, processor: Processor) -> str:
    return f"{where}step {step} ({processor.name}): "


def preview_gather(processors: Sequence[Processor], samples: np.ndarray,
                   context: GatherContext, where: str = "") -> GatherPreview:
    """``samples`` (numpy, ``(n_traces, n_samples)``) before and after ``processors``.

    The parameters are checked against the data first (:func:`check_steps`), as a job
    does at submission, so a preview fails with the same message the job would.
    """
    before = np.asarray(samples, dtype=np.float32)
    check_steps(processors, context.sample_interval_ms, before.shape[-1])
    after = np.asarray(run_steps(processors, before, context, where), dtype=np.float32)
    return GatherPreview(before, after)


def amplitude_spectrum(gather: np.ndarray, sample_interval_ms: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Average amplitude spectrum of a gather: frequencies (Hz) and level (dB re its peak).

    Each trace is tapered at both ends, its amplitude spectrum taken, and the spectra
    averaged over the traces; the average is put in decibels relative to its own maximum,
    so spectra of data at different overall levels (before and after a gain) compare by
    shape. Levels are floored at :data:`SPECTRUM_FLOOR_DB`.

    >>> t = np.arange(1000) * 0.004
    >>> freqs, level = amplitude_spectrum(np.sin(2 * np.pi * 25 * t)[None, :], 4.0)
    >>> float(freqs[np.argmax(level)])
    25.0
    """
    data = np.atleast_2d(np.asarray(gather, dtype=np.float64))
    n = data.shape[-1]
    import scipy.fft  # on first use: half a second a command need not pay

    freqs = scipy.fft.rfftfreq(n, sample_interval_ms / 1000.0)
    amplitude = np.abs(scipy.fft.rfft(data * _taper(n), axis=-1)).mean(axis=0)
    peak = float(amplitude.max()) if amplitude.size else 0.0
    if peak <= 0.0 or not np.isfinite(peak):
        return freqs, np.full(freqs.shape, SPECTRUM_FLOOR_DB)
    with np.errstate(divide="ignore"):
        level = 20.0 * np.log10(amplitude / peak)
    return freqs, np.maximum(level, SPECTRUM_FLOOR_DB)


def _taper(n: int) -> np.ndarray:
    """1 in the middle, a half cosine down to 0 over the first and last few samples."""
    width = int(n * _TAPER_FRACTION)
    taper = np.ones(n)
    if width > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(width) / width)
        taper[:width] = ramp
        taper[n - width :] = ramp[::-1]
    return taper
