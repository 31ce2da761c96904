"""Spiking deconvolution against scipy's Toeplitz solver and known wavelets."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.signal

from seisproc.errors import ParameterError, ProcessingError
from seisproc.processing import GatherContext, create_processor
from seisproc.processing.decon import _levinson

DT_MS = 4.0
CONTEXT = GatherContext(sample_interval_ms=DT_MS)


def _sparse_reflectivity(n_traces: int, n_samples: int, spacing: int, seed: int) -> np.ndarray:
    """Random-amplitude spikes at least ``spacing`` samples apart: white up to that lag."""
    rng = np.random.default_rng(seed)
    reflectivity = np.zeros((n_traces, n_samples))
    for row in reflectivity:
        positions = np.arange(rng.integers(20, 20 + spacing // 4), n_samples - 20, spacing)
        row[positions] = rng.uniform(-1, 1, positions.size)
    return reflectivity


def _reference_operator(trace: np.ndarray, lags: int, prewhitening_percent: float) -> np.ndarray:
    """Normal equations written out and solved by scipy, scaled to a leading 1."""
    full = np.correlate(trace, trace, mode="full")
    r = full[trace.size - 1 : trace.size - 1 + lags].copy()
    r[0] *= 1 + prewhitening_percent / 100
    spike = np.zeros(lags)
    spike[0] = 1.0
    operator = scipy.linalg.solve_toeplitz(r, spike)
    return operator / operator[0]


@pytest.mark.parametrize(
    ("params", "window"),
    [
        ({"operator_ms": 80}, slice(None)),
        ({"operator_ms": 120, "prewhitening_percent": 1.0}, slice(None)),
        ({"operator_ms": 60, "design_window_ms": [400, 1600]}, slice(100, 401)),
    ],
)
def test_spiking_decon_operator_equals_scipy_solve_toeplitz_per_trace(
    params: dict[str, object], window: slice
) -> None:
    rng = np.random.default_rng(8)
    sos = scipy.signal.butter(3, [8, 50], btype="band", fs=250, output="sos")
    gather = scipy.signal.sosfilt(sos, rng.standard_normal((5, 600))).astype(np.float32)
    decon = create_processor("spiking_decon", params)
    operators = decon.operators(gather, CONTEXT)
    lags = round(params["operator_ms"] / DT_MS)  # type: ignore[operator]
    pw = float(params.get("prewhitening_percent", 0.1))  # type: ignore[arg-type]
    for trace, operator in zip(gather.astype(np.float64), operators, strict=True):
        np.testing.assert_allclose(
            operator, _reference_operator(trace[window], lags, pw), atol=1e-8
        )


def test_spiking_decon_applies_the_operator_by_causal_convolution_cut_to_trace_length() -> None:
    gather = np.random.default_rng(9).standard_normal((3, 400)).astype(np.float32)
    decon = create_processor("spiking_decon", {"operator_ms": 40})
    operators = decon.operators(gather, CONTEXT)
    out = decon.apply(gather, CONTEXT)
    for trace, operator, result in zip(gather, operators, out, strict=True):
        expected = scipy.signal.lfilter(operator, [1.0], trace.astype(np.float64))
        np.testing.assert_allclose(result, expected, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("a", [0.5, -0.8])
def test_spiking_decon_recovers_spikes_through_a_two_term_minimum_phase_wavelet(a: float) -> None:
    reflectivity = _sparse_reflectivity(4, 1500, spacing=60, seed=10)
    gather = scipy.signal.lfilter([1.0, -a], [1.0], reflectivity, axis=-1).astype(np.float32)
    out = create_processor("spiking_decon", {"operator_ms": 160}).apply(gather, CONTEXT)
    np.testing.assert_allclose(out, reflectivity, atol=0.01)


def test_spiking_decon_recovers_spikes_through_an_exponential_wavelet() -> None:
    reflectivity = _sparse_reflectivity(4, 1500, spacing=80, seed=11)
    gather = scipy.signal.lfilter([1.0], [1.0, -0.7], reflectivity, axis=-1).astype(np.float32)
    decon = create_processor("spiking_decon", {"operator_ms": 40, "prewhitening_percent": 0.01})
    operators = decon.operators(gather, CONTEXT)
    np.testing.assert_allclose(
        operators[:, :3], np.broadcast_to([1.0, -0.7, 0.0], (4, 3)), atol=5e-3
    )
    np.testing.assert_allclose(decon.apply(gather, CONTEXT), reflectivity, atol=0.01)


def test_spiking_decon_passes_dead_traces_through_as_zeros() -> None:
    gather = np.random.default_rng(12).standard_normal((3, 500)).astype(np.float32)
    gather[1] = 0.0
    decon = create_processor("spiking_decon", {"operator_ms": 80})
    out = decon.apply(gather, CONTEXT)
    assert np.isfinite(out).all()
    assert not out[1].any()
    np.testing.assert_allclose(out[[0, 2]], decon.apply(gather[[0, 2]], CONTEXT), rtol=1e-6)


def test_spiking_decon_returns_float32_of_the_same_shape() -> None:
    gather = np.random.default_rng(13).standard_normal((6, 321))
    out = create_processor("spiking_decon", {"operator_ms": 40}).apply(gather, CONTEXT)
    assert out.dtype == np.float32
    assert out.shape == (6, 321)


def test_spiking_decon_check_refuses_an_operator_under_two_samples() -> None:
    decon = create_processor("spiking_decon", {"operator_ms": 5})
    with pytest.raises(ParameterError, match="under two samples"):
        decon.check(sample_interval_ms=4.0, n_samples=1000)


def test_spiking_decon_check_refuses_a_design_window_no_longer_than_the_operator() -> None:
    decon = create_processor("spiking_decon", {"operator_ms": 200, "design_window_ms": [0, 180]})
    with pytest.raises(ParameterError, match="longer than the operator"):
        decon.check(sample_interval_ms=4.0, n_samples=1000)


def test_spiking_decon_check_refuses_a_design_window_past_the_trace_end() -> None:
    decon = create_processor("spiking_decon", {"operator_ms": 40, "design_window_ms": [3000, 4000]})
    with pytest.raises(ParameterError, match="longer than the operator"):
        decon.check(sample_interval_ms=4.0, n_samples=500)


def test_spiking_decon_rejects_negative_prewhitening() -> None:
    with pytest.raises(ParameterError, match="prewhitening_percent"):
        create_processor("spiking_decon", {"operator_ms": 100, "prewhitening_percent": -1})


def test_levinson_refuses_an_autocorrelation_that_is_not_positive_definite() -> None:
    r = np.array([[1.0, 0.2, 0.0], [1.0, 2.0, 0.0]])  # the second is no autocorrelation
    with pytest.raises(ProcessingError, match="prewhitening_percent"):
        _levinson(np, r)
