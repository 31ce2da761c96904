"""Deconvolution: compress the source wavelet back towards a spike."""

from __future__ import annotations

from typing import Any, Self

import pydantic

from seisproc.errors import ParameterError, ProcessingError
from seisproc.processing._backend import (
    Array,
    as_gather,
    device,
    fast_length,
    irfft,
    namespace,
    precise_dtype,
    rfft,
    time_window,
)
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register

__all__ = ["SpikingDecon", "SpikingDeconParams", "PredictiveDecon", "PredictiveDeconParams"]


_PREWHITENING = pydantic.Field(0.1, ge=0, description="White noise added to the zero lag, % "
                                                   "of it.")
_DESIGN_WINDOW = pydantic.Field(None, description="[start, end] ms the operator is designed on.")
DesignWindow = tuple[pydantic.NonNegativeFloat, pydantic.NonNegativeFloat] | None


class _DesignedOperatorParams(ProcessorParams):
    """A Wiener deconvolution's parameters: its design window must run forward. (Fields
    are declared by each subclass, in the order a flow file and the editor show them.)"""

    @pydantic.model_validator(mode="after")
    def _window_forward(self) -> Self:
        window = getattr(self, "design_window_ms", None)
        if window is not None and window[0] >= window[1]:
            raise ValueError(
                f"design_window_ms must be [start, end] with start < end; got {window}"
            )
        return self


class SpikingDeconParams(_DesignedOperatorParams):
    """Operator length, stabilisation and design window of a spiking deconvolution."""

    operator_ms: float = pydantic.Field(gt=0, description="Length of the inverse filter, ms.")
    prewhitening_percent: float = _PREWHITENING
    design_window_ms: DesignWindow = _DESIGN_WINDOW


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
    starting_params = {"operator_ms": 80.0}
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
        return _filter_traces(xp, x, self.operators(x, context))


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


class PredictiveDeconParams(_DesignedOperatorParams):
    """Operator length, prediction gap, stabilisation and design window."""

    operator_ms: float = pydantic.Field(
        120.0, gt=0, description="Length of the prediction filter, ms.")
    gap_ms: float = pydantic.Field(
        24.0, gt=0, description="Prediction gap (lag of the first predicted sample), ms.")
    prewhitening_percent: float = _PREWHITENING
    design_window_ms: DesignWindow = _DESIGN_WINDOW


@register
class PredictiveDecon(Processor):
    """Wiener predictive (gapped) deconvolution, one operator per trace.

    With ``n`` the operator length and ``a`` the gap (``operator_ms``, ``gap_ms``, in
    samples), each trace's autocorrelation ``r`` over the design window gives the normal
    equations ``toeplitz(r[0:n]) f = r[a:a+n]`` (``r[0]`` raised by
    ``prewhitening_percent`` %), solved by Levinson recursion: ``f`` predicts the
    sample ``a`` ahead from the ``n`` before it. The trace is convolved with the
    prediction-error filter ``[1, 0 (a-1 times), -f]`` and cut to its length, which
    removes what is predictable at that lag, the reverberations and short-period
    multiples, and leaves the first ``a`` samples of the wavelet. A gap of one sample is
    spiking deconvolution. Dead traces stay zero.

    Examples
    --------
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> decon = create_processor("predictive_decon", {"operator_ms": 60, "gap_ms": 20})
    >>> trace = np.zeros((1, 500), np.float32)
    >>> trace[0, 100:300:10] = 0.6 ** np.arange(20)  # a primary, multiples every 40 ms
    >>> out = decon.apply(trace, GatherContext(sample_interval_ms=4.0))
    >>> np.round(out[0, 100:141:10], 2) + 0.0
    array([1., 0., 0., 0., 0.], dtype=float32)
    """

    name = "predictive_decon"
    Params = PredictiveDeconParams
    params: PredictiveDeconParams

    def check(self, sample_interval_ms: float, n_samples: int) -> None:
        self._design(sample_interval_ms, n_samples)

    def _design(self, sample_interval_ms: float, n_samples: int) -> tuple[int, int, slice]:
        """Operator length and gap in samples and the design window, refused if unusable."""
        lags = round(self.params.operator_ms / sample_interval_ms)
        gap = round(self.params.gap_ms / sample_interval_ms)
        if lags < 1 or gap < 1:
            raise ParameterError(
                f"predictive_decon: operator_ms = {self.params.operator_ms:g} and gap_ms = "
                f"{self.params.gap_ms:g} must each be at least one sample of "
                f"{sample_interval_ms:g} ms"
            )
        window = self.params.design_window_ms or (0.0, (n_samples - 1) * sample_interval_ms)
        samples = time_window(window, sample_interval_ms, n_samples)
        if samples.stop - samples.start <= lags + gap:
            raise ParameterError(
                f"predictive_decon: the design window ({samples.stop - samples.start} samples "
                f"inside the trace) must be longer than operator plus gap ({lags + gap} "
                "samples)"
            )
        return lags, gap, samples

    def operators(self, gather: Array, context: GatherContext) -> Array:
        """Each trace's prediction-error filter, ``(n_traces, gap + n)``, first value 1."""
        xp, x = as_gather(gather)
        lags, gap, window = self._design(context.sample_interval_ms, x.shape[-1])
        r = _autocorrelation(xp.astype(x[:, window], precise_dtype(x)), lags + gap)
        zero_lag = r[:, :1] * (1.0 + self.params.prewhitening_percent / 100.0)
        zero_lag = xp.where(zero_lag > 0, zero_lag, 1.0)  # dead trace: identity operator
        f = _levinson_solve(xp, xp.concat([zero_lag, r[:, 1:lags]], axis=-1),
                            r[:, gap : gap + lags])
        lead = xp.zeros((x.shape[0], gap), dtype=f.dtype, device=device(f))
        lead[:, 0] = 1.0
        return xp.concat([lead, -f], axis=-1)

    def apply(self, gather: Array, context: GatherContext) -> Array:
        xp, x = as_gather(gather)
        return _filter_traces(xp, x, self.operators(x, context))


def _levinson_solve(xp: Any, r: Array, g: Array) -> Array:
    """Solve ``toeplitz(r) f = g`` row by row (Levinson's recursion for any right-hand
    side): the prediction-error filter of each order gives the backward solution that
    extends ``f`` by one equation. Vectorised over rows; the loop runs over lags."""
    n = r.shape[-1]
    a = xp.zeros_like(r)
    a[:, 0] = 1.0
    f = xp.zeros_like(r)
    error = r[:, 0]
    f[:, 0] = g[:, 0] / error
    for k in range(1, n):
        acc = xp.sum(a[:, :k] * xp.flip(r[:, 1 : k + 1], axis=-1), axis=-1)
        reflection = -acc / xp.where(error > 0, error, 1.0)
        a[:, 1 : k + 1] = a[:, 1 : k + 1] + reflection[:, None] * xp.flip(a[:, :k], axis=-1)
        error = error * (1.0 - reflection * reflection)
        if bool(xp.any(error <= 0)):
            raise ProcessingError(
                "predictive_decon: the autocorrelation of some traces is not positive "
                "definite (a purely periodic or numerically degenerate design window); raise "
                "prewhitening_percent"
            )
        delta = xp.sum(f[:, :k] * xp.flip(r[:, 1 : k + 1], axis=-1), axis=-1)
        step = (g[:, k] - delta) / error
        f[:, : k + 1] = f[:, : k + 1] + step[:, None] * xp.flip(a[:, : k + 1], axis=-1)
    return f


def _filter_traces(xp: Any, x: Array, operators: Array) -> Array:
    """Each trace of ``x`` convolved with its own operator (causal, cut to the trace's
    length), by FFT: the last step of every Wiener deconvolution here."""
    operators = xp.astype(operators, xp.float32)
    n = x.shape[-1]
    n_fft = fast_length(n + operators.shape[-1] - 1)
    convolved = irfft(rfft(x, n_fft) * rfft(operators, n_fft), n_fft)[:, :n]
    return xp.asarray(convolved, dtype=xp.float32)
