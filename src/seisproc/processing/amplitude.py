"""Amplitude corrections: AGC, time-variant gains and trace normalisation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pydantic

from seisproc.errors import ParameterError
from seisproc.processing._backend import (
    Array,
    as_gather,
    from_numpy,
    moving_mean,
    moving_rms,
    precise_dtype,
    sample_times_s,
    time_window,
)
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register

__all__ = [
    "AGC",
    "AGCParams",
    "TPow",
    "TPowParams",
    "ExpGain",
    "ExpGainParams",
    "SphericalDivergence",
    "SphericalDivergenceParams",
    "Normalize",
    "NormalizeParams",
]

_MAX_GAIN_DB = 600.0
"""Largest time-variant gain accepted; float32 overflows a little above 770 dB."""


def _divide_by_level(xp: Any, x: Array, level: Array) -> Array:
    """``x / level``: 0 wherever the level is 0 or below (never Inf), NaN wherever it is
    NaN. ``level`` is a temporary of the caller's, overwritten on numpy."""
    if isinstance(level, np.ndarray):  # in place: faster than np.where on this hot path
        level[level <= 0] = np.inf
        return x / level
    return x / xp.where(level <= 0, xp.inf, level)


def _apply_time_gain(
    gather: Array, context: GatherContext, gain: Callable[[np.ndarray], np.ndarray]
) -> Array:
    """Multiply every trace by ``gain(t)``, ``t`` each sample's time in seconds from time
    zero: the first sample is at the trace's recording delay (``delrt``), and a sample
    recorded before time zero (a negative delay) gets the gain of time zero."""
    _, x = as_gather(gather)
    times_s = sample_times_s(x.shape[-1], context.sample_interval_ms)
    delays_s = np.unique(context.trace_delays_ms(x.shape[0]) / 1000.0)
    if delays_s.size <= 1:  # one delay for the whole gather (the usual case): one gain
        shift = float(delays_s[0]) if delays_s.size else 0.0
        return x * from_numpy(gain(np.maximum(times_s + shift, 0.0)), x)
    per_trace = context.trace_delays_ms(x.shape[0])[:, None] / 1000.0 + times_s[None, :]
    return x * from_numpy(gain(np.maximum(per_trace, 0.0)), x)


class AGCParams(ProcessorParams):
    """Window and level measure of an automatic gain control."""

    window_ms: float = pydantic.Field(gt=0, description="Window length, ms, centred.")
    mode: Literal["rms", "mean_abs"] = pydantic.Field(
        "rms", description="Level measured as RMS or as mean absolute amplitude."
    )


@register
class AGC(Processor):
    """Automatic gain control: divide each sample by the level of a window around it.

    The level is the RMS (``mode="rms"``) or the mean absolute amplitude
    (``mode="mean_abs"``) over a centred window of ``window_ms`` milliseconds, rounded
    to the nearest odd number of samples. Near the trace ends the window is cut short and
    the level taken over the samples that exist. Where the window holds no energy the
    output is 0. A NaN or Inf sample makes the output NaN over the window around it, for
    QC to count, and leaves every other sample as it would be were that sample 0.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> agc = create_processor("agc", {"window_ms": 500})
    >>> t = np.arange(1000) * 0.004
    >>> gather = (1e3 * np.sin(2 * np.pi * 25 * t))[None, :].astype(np.float32)
    >>> out = agc.apply(gather, GatherContext(sample_interval_ms=4.0))
    >>> round(float(np.sqrt(np.mean(out[0, 200:800] ** 2))), 2)
    1.0
    """

    name = "agc"
    Params = AGCParams
    starting_params = {"window_ms": 500.0}
    params: AGCParams

    def check(self, sample_interval_ms: float, n_samples: int) -> None:
        if self.params.window_ms < sample_interval_ms:
            raise ParameterError(
                f"agc: window_ms = {self.params.window_ms:g} is shorter than one sample "
                f"({sample_interval_ms:g} ms)"
            )

    def window_samples(self, sample_interval_ms: float) -> int:
        """The window in samples: the odd count nearest ``window_ms`` (at least 1)."""
        ratio = self.params.window_ms / sample_interval_ms
        return max(1, 2 * int(ratio // 2) + 1)

    def apply(self, gather: Array, context: GatherContext) -> Array:
        xp, x = as_gather(gather)
        width = self.window_samples(context.sample_interval_ms)
        if self.params.mode == "mean_abs":
            return _divide_by_level(xp, x, moving_mean(xp.abs(x), width))
        return _divide_by_level(xp, x, moving_rms(x, width))


class TPowParams(ProcessorParams):
    """Exponent of the ``t**n`` gain."""

    power: float = pydantic.Field(2.0, ge=0, le=10, description="Exponent n of t**n.")


@register
class TPow(Processor):
    """Time-power gain: multiply each sample by ``t**power``, ``t`` in seconds.

    ``t`` is the sample's time from time zero, ``delrt + i * dt`` (the recording delay
    of the trace header, 0 without headers), so a first sample at time zero gets
    ``0**power``: 0 for a positive power, 1 for power 0. ``power = 2`` is the usual
    correction for spherical spreading plus absorption.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> tpow = create_processor("tpow", {"power": 2})
    >>> tpow.apply(np.ones((1, 4), np.float32), GatherContext(sample_interval_ms=500.0))
    array([[0.  , 0.25, 1.  , 2.25]], dtype=float32)
    """

    name = "tpow"
    Params = TPowParams
    params: TPowParams

    def apply(self, gather: Array, context: GatherContext) -> Array:
        power = self.params.power
        return _apply_time_gain(gather, context, lambda t: t**power)


class ExpGainParams(ProcessorParams):
    """Rate of an exponential gain."""

    db_per_s: float = pydantic.Field(description="Gain rate, dB per second (may be < 0).")


@register
class ExpGain(Processor):
    """Exponential gain: multiply by ``10**(db_per_s * t / 20)``, ``t`` in seconds.

    A first-order correction for absorption: amplitude grows by ``db_per_s`` decibels
    every second of travel time (``t = delrt + i * dt``, as for :class:`TPow`).
    :meth:`check` refuses a gain above 600 dB at the last sample, which would overflow
    float32.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> gain = create_processor("exp_gain", {"db_per_s": 20})
    >>> gain.apply(np.ones((1, 3), np.float32), GatherContext(sample_interval_ms=1000.0))
    array([[  1.,  10., 100.]], dtype=float32)
    """

    name = "exp_gain"
    Params = ExpGainParams
    starting_params = {"db_per_s": 6.0}
    params: ExpGainParams

    def check(self, sample_interval_ms: float, n_samples: int) -> None:
        last_db = self.params.db_per_s * (n_samples - 1) * sample_interval_ms / 1000.0
        if last_db > _MAX_GAIN_DB:
            raise ParameterError(
                f"exp_gain: db_per_s = {self.params.db_per_s:g} gives {last_db:g} dB at the "
                f"last sample; more than {_MAX_GAIN_DB:g} dB overflows float32"
            )

    def apply(self, gather: Array, context: GatherContext) -> Array:
        rate = self.params.db_per_s
        return _apply_time_gain(gather, context, lambda t: 10 ** (rate * t / 20))


class SphericalDivergenceParams(ProcessorParams):
    """RMS velocity function (time, velocity pairs) of a spherical-divergence correction."""

    velocities_m_s: list[pydantic.PositiveFloat] = pydantic.Field(
        default_factory=lambda: [2000.0], min_length=1, description="Velocities, m/s."
    )
    times_ms: list[pydantic.NonNegativeFloat] = pydantic.Field(
        default_factory=lambda: [0.0], min_length=1, description="Their times, ms."
    )

    @pydantic.model_validator(mode="after")
    def _pairs_in_time_order(self) -> SphericalDivergenceParams:
        if len(self.velocities_m_s) != len(self.times_ms):
            raise ValueError(
                f"velocities_m_s has {len(self.velocities_m_s)} values but times_ms has "
                f"{len(self.times_ms)}; give one time per velocity"
            )
        if any(b <= a for a, b in zip(self.times_ms, self.times_ms[1:], strict=False)):
            raise ValueError(f"times_ms must increase strictly; got {self.times_ms}")
        return self


@register
class SphericalDivergence(Processor):
    """Spherical-divergence correction: gain ``t * v(t)**2 / v(0)**2``, ``t`` in seconds.

    ``v(t)`` interpolates the (``times_ms``, ``velocities_m_s``) pairs linearly and is
    constant before the first and after the last pair. A wavefront's amplitude falls as
    ``1 / (v**2 t)`` in a medium whose velocity grows with depth (Newman, 1973); this
    undoes it up to a constant.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> sd = create_processor("spherical_divergence", {})
    >>> sd.apply(np.ones((1, 3), np.float32), GatherContext(sample_interval_ms=500.0))
    array([[0. , 0.5, 1. ]], dtype=float32)
    """

    name = "spherical_divergence"
    Params = SphericalDivergenceParams
    params: SphericalDivergenceParams

    def gain(self, times_s: np.ndarray) -> np.ndarray:
        """The correction at ``times_s`` (seconds)."""
        knots_s = np.asarray(self.params.times_ms) / 1000.0
        velocities = np.asarray(self.params.velocities_m_s)
        v_t: np.ndarray = np.interp(times_s, knots_s, velocities)
        v_0 = float(np.interp(0.0, knots_s, velocities))
        return times_s * (v_t / v_0) ** 2

    def apply(self, gather: Array, context: GatherContext) -> Array:
        return _apply_time_gain(gather, context, self.gain)


class NormalizeParams(ProcessorParams):
    """Level measure and design window of a trace normalisation."""

    method: Literal["rms", "max", "mean_abs"] = pydantic.Field(
        "rms", description="Level: RMS, maximum absolute or mean absolute amplitude."
    )
    window_ms: tuple[pydantic.NonNegativeFloat, pydantic.NonNegativeFloat] | None = pydantic.Field(
        None, description="[start, end] ms the level is measured in."
    )

    @pydantic.model_validator(mode="after")
    def _window_forward(self) -> NormalizeParams:
        if self.window_ms is not None and self.window_ms[0] >= self.window_ms[1]:
            raise ValueError(
                f"window_ms must be [start, end] with start < end; got {self.window_ms}"
            )
        return self


@register
class Normalize(Processor):
    """Trace balance: divide each trace by its amplitude level.

    The level is the RMS, the maximum absolute or the mean absolute amplitude of the
    trace, measured over ``window_ms = [start, end]`` (ms, inclusive, to the nearest
    sample) or over the whole trace. A trace whose level is 0 (a dead trace, or silence
    in the window) is left as it is. A NaN or Inf sample inside
    the window leaves the trace without a level: the whole trace comes out NaN, for QC
    to count, rather than unscaled or zeroed; one outside it stays where it is.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> balance = create_processor("normalize", {"method": "max"})
    >>> gather = np.array([[0, -4, 2], [0, 0, 0]], dtype=np.float32)
    >>> balance.apply(gather, GatherContext(sample_interval_ms=4.0))
    array([[ 0. , -1. ,  0.5],
           [ 0. ,  0. ,  0. ]], dtype=float32)
    """

    name = "normalize"
    aliases = ("normalise", "trace_balance")
    Params = NormalizeParams
    params: NormalizeParams

    def check(self, sample_interval_ms: float, n_samples: int) -> None:
        self._design_window(sample_interval_ms, n_samples)

    def _design_window(self, sample_interval_ms: float, n_samples: int) -> slice:
        window = self.params.window_ms
        if window is None:
            return slice(0, n_samples)
        samples = time_window(window, sample_interval_ms, n_samples)
        if samples.start >= n_samples:
            raise ParameterError(
                f"normalize: window_ms starts at {window[0]:g} ms, after the trace ends "
                f"({(n_samples - 1) * sample_interval_ms:g} ms)"
            )
        return samples

    def apply(self, gather: Array, context: GatherContext) -> Array:
        xp, x = as_gather(gather)
        design = x[:, self._design_window(context.sample_interval_ms, x.shape[-1])]
        level = self._trace_level(xp, design)
        return x / xp.astype(xp.where(level == 0, 1.0, level), xp.float32)

    def _trace_level(self, xp: Any, design: Array) -> Array:
        """Each trace's level, ``(n_traces, 1)``; sums run in double precision, where
        squares of float32 amplitudes cannot overflow. NaN where a sample is NaN or Inf,
        which would otherwise leave the trace unscaled or zero it."""
        wide = precise_dtype(design)
        if self.params.method == "max":
            level = xp.max(xp.abs(design), axis=-1, keepdims=True)
        elif self.params.method == "mean_abs":
            total = xp.sum(xp.abs(design), axis=-1, keepdims=True, dtype=wide)
            level = total / design.shape[-1]
        else:
            squares = xp.astype(design, wide)
            squares *= squares  # in place: one double-precision copy of the window, not two
            level = xp.sqrt(xp.mean(squares, axis=-1, keepdims=True))
        return xp.where(xp.isfinite(level), level, xp.nan)
