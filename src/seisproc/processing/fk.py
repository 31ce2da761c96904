"""Frequency-wavenumber filtering: remove events by their apparent velocity."""

from __future__ import annotations

import math

import numpy as np
import pydantic

from seisproc.errors import ProcessingError
from seisproc.processing._backend import (
    Array,
    as_gather,
    device,
    fast_length,
    irfft,
    namespace,
    precise_dtype,
    rfft,
)
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register

__all__ = ["FKFilter", "FKFilterParams", "fan_weights"]


class FKFilterParams(ProcessorParams):
    """The fan of apparent velocities rejected, its taper, and the trace spacing."""

    v_min_m_s: float = pydantic.Field(200.0, gt=0, description="Slowest velocity rejected, m/s.")
    v_max_m_s: float = pydantic.Field(1200.0, gt=0, description="Fastest velocity rejected, m/s.")
    taper_percent: float = pydantic.Field(
        10.0, ge=0, lt=100, description="Cosine taper outside each bound, % of it."
    )
    trace_spacing_m: float | None = pydantic.Field(
        None, gt=0, description="Distance between traces, m; from the offsets if null."
    )

    @pydantic.model_validator(mode="after")
    def _fan_ordered(self) -> FKFilterParams:
        if self.v_min_m_s >= self.v_max_m_s:
            raise ValueError(
                f"v_min_m_s ({self.v_min_m_s:g}) must be below v_max_m_s ({self.v_max_m_s:g})"
            )
        return self


def fan_weights(
    frequencies_hz: np.ndarray,
    wavenumbers_per_m: np.ndarray,
    v_min: float,
    v_max: float,
    taper: float,
) -> np.ndarray:
    """Gain ``(n_k, n_f)``: 0 where ``v_min <= |f / k| <= v_max``, a half-Hann rising to 1
    over ``v_min (1 - taper)`` .. ``v_min`` and ``v_max`` .. ``v_max (1 + taper)``, 1
    elsewhere (``k = 0``, infinite apparent velocity, always passes)."""
    f = np.abs(frequencies_hz)[None, :]
    k = np.abs(wavenumbers_per_m)[:, None]
    with np.errstate(divide="ignore"):
        velocity = np.where(k > 0, f / np.where(k > 0, k, 1.0), np.inf)
    below = _ramp((v_min - velocity) / (taper * v_min)) if taper > 0 else velocity < v_min
    above = _ramp((velocity - v_max) / (taper * v_max)) if taper > 0 else velocity > v_max
    return np.asarray(np.maximum(below, above), dtype=np.float64)


def _ramp(position: np.ndarray) -> np.ndarray:
    """0 at or below 0, 1 at or above 1, a half-Hann between."""
    out: np.ndarray = 0.5 - 0.5 * np.cos(math.pi * np.clip(position, 0.0, 1.0))
    return out


@register
class FKFilter(Processor):
    """Reject a fan of apparent velocities in the frequency-wavenumber domain.

    The gather (traces in the order they come, at a constant spacing) is transformed in
    time and across traces, each ``(f, k)`` multiplied by :func:`fan_weights`, and
    transformed back. The rejected fan holds events whose apparent velocity ``|f / k|``
    (m/s) lies between ``v_min_m_s`` and ``v_max_m_s``, in either direction: ground roll
    and other slow linear noise. The trace spacing is ``trace_spacing_m`` or, by default,
    the median step between neighbouring offsets (the ``offset`` header: a shot gather
    or a CMP gather sorted by offset). The gather is zero-padded by half in time and
    across traces, so that rejected energy does not wrap round.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> fk = create_processor("fk_filter", {"v_min_m_s": 200, "v_max_m_s": 800})
    >>> flat = np.zeros((48, 256), np.float32); flat[:, 100] = 1.0
    >>> context = GatherContext(sample_interval_ms=4.0, offsets_m=np.arange(48) * 25.0)
    >>> bool(np.abs(fk.apply(flat, context)[24, 100] - 1.0) < 0.01)
    True
    """

    name = "fk_filter"
    Params = FKFilterParams
    params: FKFilterParams

    def trace_spacing(self, n_traces: int, context: GatherContext) -> float:
        """Distance between neighbouring traces, m."""
        if self.params.trace_spacing_m is not None:
            return self.params.trace_spacing_m
        offsets = np.asarray([] if context.offsets_m is None else context.offsets_m, float)
        steps = np.abs(np.diff(offsets))
        spacing = float(np.median(steps)) if steps.size else 0.0
        if not spacing > 0 or offsets.shape != (n_traces,):
            raise ProcessingError(
                "fk_filter needs the trace spacing: set trace_spacing_m, or give traces "
                "whose `offset` headers step by it (these offsets do not)"
            )
        return spacing

    def apply(self, gather: Array, context: GatherContext) -> Array:
        xp, x = as_gather(gather)
        n_traces, n_samples = x.shape
        spacing = self.trace_spacing(n_traces, context)
        n_t = fast_length(n_samples + n_samples // 2)
        n_k = fast_length(n_traces + n_traces // 2)
        p = self.params
        weights = fan_weights(
            np.fft.rfftfreq(n_t, context.sample_interval_ms / 1000.0),
            np.fft.fftfreq(n_k, spacing),
            p.v_min_m_s,
            p.v_max_m_s,
            p.taper_percent / 100.0,
        )
        wide = xp.zeros((n_k, n_samples), dtype=precise_dtype(x), device=device(x))
        wide[:n_traces, :] = xp.astype(x, precise_dtype(x))
        spectrum = namespace(wide).fft.fft(rfft(wide, n_t), axis=0)
        gain = xp.asarray(weights, dtype=precise_dtype(x), device=device(x))
        filtered = irfft(xp.fft.ifft(spectrum * gain, axis=0), n_t)
        return xp.astype(filtered[:n_traces, :n_samples], xp.float32)
