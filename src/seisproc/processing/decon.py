"""Deconvolution: compress the source wavelet back towards a spike."""

from __future__ import annotations

from typing import Any

import pydantic

from seisproc.errors import ParameterError, ProcessingError
from seisproc.processing._backend import (
    Array,
    as_gather,
    fast_length,
    irfft,
    namespace,
    precise_dtype,
    rfft,
    time_window,
)
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register

__all__ = ["SpikingDecon", "SpikingDeconParams"]


class SpikingDeconParams(ProcessorParams):
    """Operator length, stabilisation and design window of a spiking deconvolution."""

    operator_ms: float = pydantic.Field(gt=0, description="Length of the inverse filter, ms.")
    prewhitening_percent: float = pydantic.Field(
        0.1, ge=0, description="White noise added to the zero lag, % of it."
    )
    design_window_ms: tuple[pydantic.NonNegativeFloat, pydantic.NonNegativeFloat] | None = (
        pydantic.Field(None, description="[start, end] ms the operator is designed on.")
    )

    @pydantic.model_validator(mode="after")
    def _window_forward(self) -> SpikingDeconParams:
        window = self.design_window_ms
        if window is not None and window[0] >= window[1]:
            raise ValueError(
                f"design_window_ms must be [start, end] with start < end; got {window}"
            )
        return self


@register
class SpikingDecon(Processor):
    """Wiener-Levinson spiking (minimum-phase) deconvolution, one operator per trace.

    For each trace the autocorrelation ``r`` of the design window (``design_window_ms``,
    ms, or the whole trace) is taken for lags ``0 .. L-1``, ``L`` the operator length
    ``operator_ms`` in samples; ``r[0]`` is raised by ``prewhitening_percent`` percent
    to keep the problem stable. The Toeplitz normal equations ``R f = e0`` (desired
    output: a spike at zero lag) are solved by Levinson recursion, and ``f`` is scaled so
    that ``f[0] = 1``: the prediction-error filter, which leaves the amplitude of a
    wavelet's first sample unchanged. The operator is applied to the whole trace by
    causal convolution, cut to the trace length. Dead traces stay zero.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> decon = create_processor("spiking_decon", {"operator_ms": 40})
    >>> reflectivity = np.zeros((1, 500), np.float32)
    >>> reflectivity[0, [50, 200, 330]] = [1.0, -0.7, 0.5]
    >>> trace = np.convolve(reflectivity[0], [1.0, -0.6])[:500][None, :]
    >>> out = decon.apply(trace, GatherContext(sample_interval_ms=4.0))
    >>> np.round(out[0, [50, 200, 330]], 1)
    array([ 1. , -0.7,  0.5], dtype=float32)
    """

    name = "spiking_decon"
    Params = SpikingDeconParams
    params: SpikingDeconParams

    def check(self, sample_interval_ms: float, n_samples: int) -> None:
        self._design(sample_interval_ms, n_samples)

    def _design(self, sample_interval_ms: float, n_samples: int) -> tuple[int, slice]:
        """Operator length in samples and the design window, refused if unusable."""
        lags = round(self.params.operator_ms / sample_interval_ms)
        if lags < 2:
            raise ParameterError(
                f"spiking_decon: operator_ms = {self.params.operator_ms:g} is under two "
                f"samples of {sample_interval_ms:g} ms"
            )
        window = self.params.design_window_ms or (0.0, (n_samples - 1) * sample_interval_ms)
        samples = time_window(window, sample_interval_ms, n_samples)
        if samples.stop - samples.start <= lags:
            raise ParameterError(
                f"spiking_decon: the design window ({samples.stop - samples.start} samples "
                f"inside the trace) must be longer than the operator ({lags} samples)"
            )
        return lags, samples

    def operators(self, gather: Array, context: GatherContext) -> Array:
        """Each trace's operator, shape ``(n_traces, L)``, first coefficient 1."""
        xp, x = as_gather(gather)
        lags, window = self._design(context.sample_interval_ms, x.shape[-1])
        r = _autocorrelation(xp.astype(x[:, window], precise_dtype(x)), lags)
        zero_lag = r[:, :1] * (1.0 + self.params.prewhitening_percent / 100.0)
        zero_lag = xp.where(zero_lag > 0, zero_lag, 1.0)  # dead trace: identity operator
        return _levinson(xp, xp.concat([zero_lag, r[:, 1:]], axis=-1))

    def apply(self, gather: Array, context: GatherContext) -> Array:
        xp, x = as_gather(gather)
        operators = xp.astype(self.operators(x, context), xp.float32)
        n = x.shape[-1]
        n_fft = fast_length(n + operators.shape[-1] - 1)
        convolved = irfft(rfft(x, n_fft) * rfft(operators, n_fft), n_fft)[:, :n]
        return xp.asarray(convolved, dtype=xp.float32)


def _autocorrelation(design: Array, lags: int) -> Array:
    """Lags ``0 .. lags-1`` of each row's autocorrelation, by FFT without wrap-around."""
    n_fft = fast_length(design.shape[-1] + lags - 1)
    spectrum = rfft(design, n_fft)
    power = spectrum * namespace(design).conj(spectrum)
    return irfft(power, n_fft)[:, :lags]


def _levinson(xp: Any, r: Array) -> Array:
    """Solve ``toeplitz(r) a = [E, 0, ..., 0]`` for ``a`` with ``a[0] = 1``, row by row.

    Levinson-Durbin recursion, vectorised over rows: the loop runs over lags only.
    """
    a = xp.zeros_like(r)
    a[:, 0] = 1.0
    error = r[:, 0]
    degenerate = error <= 0
    for k in range(1, r.shape[-1]):
        acc = xp.sum(a[:, :k] * xp.flip(r[:, 1 : k + 1], axis=-1), axis=-1)
        reflection = -acc / xp.where(error > 0, error, 1.0)
        a[:, 1 : k + 1] = a[:, 1 : k + 1] + reflection[:, None] * xp.flip(a[:, :k], axis=-1)
        error = error * (1.0 - reflection * reflection)
        degenerate = degenerate | (error <= 0)
    if bool(xp.any(degenerate)):
        raise ProcessingError(
            "spiking_decon: the autocorrelation of some traces is not positive definite "
            "(a purely periodic or numerically degenerate design window); raise "
            "prewhitening_percent"
        )
    return a
