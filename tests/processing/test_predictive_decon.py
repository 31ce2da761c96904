"""Predictive deconvolution against scipy's Toeplitz solver, and on reverberations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.signal

from seisproc.errors import ParameterError
from seisproc.processing import GatherContext, create_processor

DT_MS = 4.0


def _reference_operator(trace: np.ndarray, lags: int, gap: int, white: float) -> np.ndarray:
    """The prediction-error filter from the normal equations, solved by scipy."""
    full = np.correlate(trace, trace, mode="full")[trace.size - 1 :]
    r = full[: lags + gap].astype(np.float64)
    column = r[:lags].copy()
    column[0] *= 1 + white / 100
    f = scipy.linalg.solve_toeplitz(column, r[gap : gap + lags])
    return np.concatenate([[1.0], np.zeros(gap - 1), -f])


@pytest.mark.parametrize(("operator_ms", "gap_ms"), [(80, 4), (120, 24), (60, 40)])
def test_operators_match_scipys_toeplitz_solution(operator_ms: float, gap_ms: float) -> None:
    rng = np.random.default_rng(21)
    gather = scipy.signal.lfilter([1.0], [1.0, -0.5, 0.3], rng.standard_normal((5, 700)))
    gather = gather.astype(np.float32)
    decon = create_processor(
        "predictive_decon",
        {"operator_ms": operator_ms, "gap_ms": gap_ms, "prewhitening_percent": 1},
    )
    operators = decon.operators(gather, GatherContext(DT_MS))
    lags, gap = round(operator_ms / DT_MS), round(gap_ms / DT_MS)
    for trace, operator in zip(gather, operators, strict=True):
        expected = _reference_operator(trace.astype(np.float64), lags, gap, 1.0)
        np.testing.assert_allclose(operator, expected, rtol=1e-6, atol=1e-8)
    out = decon.apply(gather, GatherContext(DT_MS))
    expected_out = scipy.signal.lfilter(operators[0], [1.0], gather[0].astype(np.float64))
    np.testing.assert_allclose(out[0], expected_out, rtol=1e-4, atol=1e-4)


def test_a_gap_of_one_sample_is_spiking_deconvolution() -> None:
    rng = np.random.default_rng(22)
    gather = rng.standard_normal((3, 400)).astype(np.float32)
    context = GatherContext(DT_MS)
    predictive = create_processor("predictive_decon", {"operator_ms": 40, "gap_ms": 4})
    spiking = create_processor("spiking_decon", {"operator_ms": 44})
    np.testing.assert_allclose(
        predictive.apply(gather, context), spiking.apply(gather, context), rtol=1e-4, atol=1e-4
    )


def test_predictive_decon_removes_reverberations_and_keeps_the_primary_wavelet() -> None:
    primary = np.zeros(600)
    primary[[60, 300]] = [1.0, -0.7]
    wavelet = np.array([1.0, 0.6, 0.2])  # shorter than the gap: kept
    period = 30  # water-layer reverberation every 120 ms
    ringing = np.zeros(600)
    ringing[::period] = (-0.5) ** np.arange(20)
    trace = np.convolve(np.convolve(primary, ringing)[:600], wavelet)[:600]
    decon = create_processor("predictive_decon", {"operator_ms": 160, "gap_ms": 16})
    out = decon.apply(trace[None, :].astype(np.float32), GatherContext(DT_MS))[0]
    np.testing.assert_allclose(out[60:63], wavelet, atol=0.05)
    np.testing.assert_allclose(out[300:303], -0.7 * wavelet, atol=0.05)
    multiples = [60 + period, 60 + 2 * period, 300 + period]
    assert np.abs(out[multiples]).max() < 0.05
    assert np.abs(trace[multiples]).max() > 0.2


def test_predictive_decon_refuses_a_window_shorter_than_operator_and_gap() -> None:
    decon = create_processor("predictive_decon", {"operator_ms": 200, "gap_ms": 40})
    with pytest.raises(ParameterError, match="must be longer than operator plus gap"):
        decon.check(DT_MS, 50)
    with pytest.raises(ParameterError, match="must each be at least one sample"):
        create_processor("predictive_decon", {"gap_ms": 1}).check(DT_MS, 500)


def test_dead_traces_stay_dead() -> None:
    gather = np.zeros((2, 300), np.float32)
    gather[1, 50] = 1.0
    out = create_processor("predictive_decon", {}).apply(gather, GatherContext(DT_MS))
    assert not out[0].any()
