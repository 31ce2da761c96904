"""Zero-phase frequency filters: Ormsby trapezoid and Butterworth.

Both multiply each trace's spectrum by a real, non-negative gain, so they shift no event
in time. The trace is zero-padded before the FFT so that the filter's impulse response
dies away (to 1e-3 of its peak) inside the padding instead of wrapping round from the end
of the trace onto its start; the padded length is rounded up to a fast FFT length.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pydantic

from seisproc.errors import ParameterError
from seisproc.processing._backend import Array, as_gather, fast_length, from_numpy, irfft, rfft
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register

__all__ = ["Bandpass", "BandpassParams", "Butterworth", "ButterworthParams"]

_RING_LEVEL = 1e-3
"""Impulse-response level, relative to its peak, below which wrap-around is ignored."""

Response = Callable[[np.ndarray], np.ndarray]
"""Gain as a function of frequency in Hz (float64 numpy in, float64 numpy out)."""


def _ring_samples(response: Response, n: int, dt_s: float) -> int:
    """Lag (samples, at most ``n``) after which the impulse response stays negligible."""
    n_design = fast_length(2 * n)
    # A real gain gives an impulse response symmetric about lag 0: one side is enough.
    impulse = np.abs(np.fft.irfft(response(np.fft.rfftfreq(n_design, dt_s)), n_design))
    loud = np.nonzero(impulse[: n + 1] > _RING_LEVEL * impulse.max())[0]
    return int(loud[-1]) if loud.size else 0


def _apply_zero_phase(gather: Array, response: Response, sample_interval_ms: float) -> Array:
    """Multiply each trace's spectrum by ``response`` (Hz -> gain) and return float32."""
    xp, x = as_gather(gather)
    n = x.shape[-1]
    dt_s = sample_interval_ms / 1000.0
    n_fft = fast_length(n + _ring_samples(response, n, dt_s))
    gain = from_numpy(response(np.fft.rfftfreq(n_fft, dt_s)), x)
    filtered = irfft(rfft(x, n_fft) * gain, n_fft)[..., :n]
    return xp.asarray(filtered, dtype=xp.float32)


class BandpassParams(ProcessorParams):
    """Corner frequencies of the Ormsby trapezoid, in Hz."""

    f1: float = pydantic.Field(ge=0, description="Low cut: gain 0 at and below, Hz.")
    f2: float = pydantic.Field(description="Low pass: gain reaches 1, Hz.")
    f3: float = pydantic.Field(description="High pass: gain starts to fall, Hz.")
    f4: float = pydantic.Field(description="High cut: gain 0 at and above, Hz.")

    @pydantic.model_validator(mode="after")
    def _corners_in_order(self) -> BandpassParams:
        if not self.f1 < self.f2 <= self.f3 < self.f4:
            raise ValueError(
                "corners must satisfy 0 <= f1 < f2 <= f3 < f4 (Hz); got "
                f"f1={self.f1}, f2={self.f2}, f3={self.f3}, f4={self.f4}"
            )
        return self


@register
class Bandpass(Processor):
    """Zero-phase Ormsby (trapezoid) bandpass filter.

    The gain is 0 below ``f1``, rises linearly to 1 at ``f2``, stays 1 up to ``f3`` and
    falls linearly to 0 at ``f4`` (all in Hz); phase is untouched. Applied by FFT along
    time, with zero padding so the filter's ringing does not wrap round the trace.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> bp = create_processor("bandpass", {"f1": 5, "f2": 10, "f3": 60, "f4": 80})
    >>> gather = np.random.default_rng(0).standard_normal((3, 1001)).astype(np.float32)
    >>> bp.apply(gather, GatherContext(sample_interval_ms=2.0)).shape
    (3, 1001)
    """

    name = "bandpass"
    Params = BandpassParams
    starting_params = {"f1": 5.0, "f2": 10.0, "f3": 60.0, "f4": 80.0}
    params: BandpassParams

    def check(self, sample_interval_ms: float, n_samples: int) -> None:
        nyquist_hz = GatherContext(sample_interval_ms).nyquist_hz
        if self.params.f4 > nyquist_hz:
            raise ParameterError(
                f"bandpass: f4 = {self.params.f4:g} Hz is above the Nyquist frequency "
                f"{nyquist_hz:g} Hz of {sample_interval_ms:g} ms sampling"
            )

    def response(self, freqs_hz: np.ndarray) -> np.ndarray:
        """The trapezoid's gain at ``freqs_hz``."""
        p = self.params
        gain: np.ndarray = np.interp(freqs_hz, [p.f1, p.f2, p.f3, p.f4], [0, 1, 1, 0], 0, 0)
        return gain

    def apply(self, gather: Array, context: GatherContext) -> Array:
        return _apply_zero_phase(gather, self.response, context.sample_interval_ms)


class ButterworthParams(ProcessorParams):
    """Corners (Hz, at half power of the one-way filter) and order of a Butterworth."""

    low_hz: float | None = pydantic.Field(None, gt=0, description="Low-cut corner, Hz.")
    high_hz: float | None = pydantic.Field(None, gt=0, description="High-cut corner, Hz.")
    order: int = pydantic.Field(4, ge=1, le=12, description="Order, as scipy.signal.butter N.")

    @pydantic.model_validator(mode="after")
    def _corners_make_sense(self) -> ButterworthParams:
        if self.low_hz is None and self.high_hz is None:
            raise ValueError("give at least one corner: low_hz, high_hz or both")
        if self.low_hz is not None and self.high_hz is not None and self.low_hz >= self.high_hz:
            raise ValueError(f"low_hz ({self.low_hz}) must be below high_hz ({self.high_hz})")
        return self


@register
class Butterworth(Processor):
    """Zero-phase Butterworth filter: bandpass, low-pass (``high_hz`` only) or high-pass.

    The gain is ``|H(f)|**2`` of the digital Butterworth that ``scipy.signal.butter``
    designs with the same order and corners (bilinear transform, pre-warped corners), i.e.
    what a forward-and-backward pass (``sosfiltfilt``) gives, without its edge transients.
    Corners are in Hz; at a corner the gain is 1/2 (-6 dB). ``order`` is scipy's ``N``,
    so a bandpass of order 4 has 8 poles.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> lowpass = create_processor("butterworth", {"high_hz": 40, "order": 6})
    >>> gather = np.ones((2, 500), dtype=np.float32)
    >>> out = lowpass.apply(gather, GatherContext(sample_interval_ms=4.0))
    >>> out.dtype, out.shape
    (dtype('float32'), (2, 500))
    """

    name = "butterworth"
    Params = ButterworthParams
    starting_params = {"low_hz": 8.0, "high_hz": 60.0}
    params: ButterworthParams

    def check(self, sample_interval_ms: float, n_samples: int) -> None:
        nyquist_hz = GatherContext(sample_interval_ms).nyquist_hz
        for field in ("low_hz", "high_hz"):
            corner = getattr(self.params, field)
            if corner is not None and corner >= nyquist_hz:
                raise ParameterError(
                    f"butterworth: {field} = {corner:g} Hz must be below the Nyquist "
                    f"frequency {nyquist_hz:g} Hz of {sample_interval_ms:g} ms sampling"
                )

    def response(self, freqs_hz: np.ndarray, sample_interval_ms: float) -> np.ndarray:
        """``|H(f)|**2`` at ``freqs_hz`` for data sampled every ``sample_interval_ms``."""
        p = self.params
        dt_s = sample_interval_ms / 1000.0
        warped = np.tan(np.pi * np.asarray(freqs_hz, dtype=np.float64) * dt_s)
        low = math.tan(math.pi * p.low_hz * dt_s) if p.low_hz is not None else None
        high = math.tan(math.pi * p.high_hz * dt_s) if p.high_hz is not None else None
        # 0 Hz and Nyquist give infinite ratios, i.e. gain 0, which is right.
        with np.errstate(divide="ignore", over="ignore"):
            ratio = _prototype_frequency(warped, low, high)
            return 1.0 / (1.0 + ratio ** (2 * p.order))

    def apply(self, gather: Array, context: GatherContext) -> Array:
        dt_ms = context.sample_interval_ms
        return _apply_zero_phase(gather, lambda f: self.response(f, dt_ms), dt_ms)


def _prototype_frequency(warped: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    """Map pre-warped frequencies onto the low-pass prototype's frequency axis."""
    if low is not None and high is not None:
        return (warped**2 - low * high) / (warped * (high - low))
    if high is not None:
        return warped / high
    assert low is not None
    return low / warped
