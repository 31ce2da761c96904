"""AGC, time-variant gains and normalisation against closed forms and brute force."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from seisproc.errors import ParameterError
from seisproc.processing import GatherContext, Normalize, create_processor

DT_MS = 4.0
CONTEXT = GatherContext(sample_interval_ms=DT_MS)


def _times_s(n: int, dt_ms: float = DT_MS) -> np.ndarray:
    return np.arange(n) * dt_ms / 1000.0


def _brute_force_agc(trace: np.ndarray, width: int, mode: str) -> np.ndarray:
    """AGC by its definition, one window at a time, truncated at the trace ends; NaN
    where the window holds a NaN or Inf."""
    half = width // 2
    out = np.zeros(trace.shape, dtype=np.float64)
    for i in range(trace.size):
        window = trace[max(0, i - half) : i + half + 1].astype(np.float64)
        if not np.isfinite(window).all():
            out[i] = np.nan
            continue
        level = np.sqrt(np.mean(window**2)) if mode == "rms" else np.mean(np.abs(window))
        out[i] = trace[i] / level if level > 0 else 0.0
    return out


def test_agc_of_a_constant_amplitude_sine_has_unit_rms_away_from_the_edges() -> None:
    sine = 1234.0 * np.sin(2 * np.pi * 25.0 * _times_s(1500))[None, :].astype(np.float32)
    out = create_processor("agc", {"window_ms": 500}).apply(sine, CONTEXT)
    middle = out[0, 200:-200]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(1.0, rel=0.01)
    np.testing.assert_allclose(middle, np.sqrt(2) * sine[0, 200:-200] / 1234.0, atol=0.03)


def test_agc_mean_abs_of_a_sine_scales_its_peak_to_pi_over_two() -> None:
    sine = 7.0 * np.sin(2 * np.pi * 25.0 * _times_s(1500))[None, :].astype(np.float32)
    agc = create_processor("agc", {"window_ms": 500, "mode": "mean_abs"})
    out = agc.apply(sine, CONTEXT)
    assert np.abs(out[0, 200:-200]).max() == pytest.approx(np.pi / 2, rel=0.02)


@pytest.mark.parametrize("mode", ["rms", "mean_abs"])
def test_agc_matches_its_definition_sample_by_sample_including_the_ends(mode: str) -> None:
    rng = np.random.default_rng(4)
    gather = (rng.standard_normal((3, 300)) * np.linspace(10, 0.1, 300)).astype(np.float32)
    agc = create_processor("agc", {"window_ms": 100, "mode": mode})  # 25 samples
    out = agc.apply(gather, CONTEXT)
    for trace, result in zip(gather, out, strict=True):
        np.testing.assert_allclose(result, _brute_force_agc(trace, 25, mode), rtol=1e-5)


def test_agc_gives_zero_not_nan_where_the_window_is_silent() -> None:
    gather = np.zeros((3, 400), dtype=np.float32)
    gather[1, :100] = 5e3 * np.random.default_rng(5).standard_normal(100)
    out = create_processor("agc", {"window_ms": 200}).apply(gather, CONTEXT)
    assert np.isfinite(out).all()
    assert not out[0].any()
    assert not out[1, 200:].any()
    assert not out[2].any()


@pytest.mark.parametrize("mode", ["rms", "mean_abs"])
@pytest.mark.parametrize(
    ("bad", "at"), [(np.nan, 150), (np.inf, 150), (-np.inf, 5), (np.nan, 299)]
)
def test_agc_nan_or_inf_spoils_only_its_own_window(mode: str, bad: float, at: int) -> None:
    rng = np.random.default_rng(7)
    gather = (rng.standard_normal((3, 300)) * np.linspace(10, 0.1, 300)).astype(np.float32)
    gather[1, at] = bad
    agc = create_processor("agc", {"window_ms": 100, "mode": mode})  # 25 samples
    out = agc.apply(gather, CONTEXT)
    window = np.arange(max(0, at - 12), min(300, at + 13))
    np.testing.assert_array_equal(np.flatnonzero(~np.isfinite(out)), 300 + window)
    expected = np.array([_brute_force_agc(trace, 25, mode) for trace in gather])
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    zeroed = gather.copy()
    zeroed[1, at] = 0.0
    kept = np.isfinite(out)
    np.testing.assert_array_equal(out[kept], agc.apply(zeroed, CONTEXT)[kept])


def test_agc_of_a_gather_with_bad_loud_and_quiet_traces_matches_its_definition() -> None:
    rng = np.random.default_rng(8)
    gather = rng.standard_normal((5, 400)) * np.array([[1.0], [3e25], [1e-3], [1e-25], [0.0]])
    gather[0, [10, 11, 300]] = [np.nan, np.inf, np.nan]
    gather[1, 200] = -np.inf
    gather = gather.astype(np.float32)
    out = create_processor("agc", {"window_ms": 100}).apply(gather, CONTEXT)  # 25 samples
    expected = np.array([_brute_force_agc(trace, 25, "rms") for trace in gather])
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def _assert_agc_of_gained_sine_matches_its_definition(
    amplitude: float, db_per_s: float
) -> np.ndarray:
    sine = amplitude * np.sin(2 * np.pi * 10.0 * _times_s(1000)) * np.ones((2, 1))
    gained = create_processor("exp_gain", {"db_per_s": db_per_s}).apply(sine, CONTEXT)
    out = create_processor("agc", {"window_ms": 100}).apply(gained, CONTEXT)  # 25 samples
    assert np.isfinite(out).all()
    for trace, result in zip(gained, out, strict=True):
        np.testing.assert_allclose(result, _brute_force_agc(trace, 25, "rms"), rtol=1e-5, atol=1e-6)
    assert np.abs(out[:, -100:]).max() > 1.0
    return gained


def test_agc_of_huge_amplitudes_does_not_overflow_to_zero() -> None:
    loud = _assert_agc_of_gained_sine_matches_its_definition(amplitude=1.0, db_per_s=120)
    assert np.abs(loud[:, -25:]).max() > 1e23  # squares overflow float32 from 1.8e19


def test_agc_of_tiny_amplitudes_does_not_underflow_to_zero() -> None:
    quiet = _assert_agc_of_gained_sine_matches_its_definition(amplitude=1e-20, db_per_s=-12)
    assert np.abs(quiet[:, -25:]).max() < 1e-21  # squares underflow float32 below 1e-19


@pytest.mark.parametrize(
    ("window_ms", "samples"), [(500, 125), (18.4, 5), (23.2, 5), (24.8, 7), (4, 1)]
)
def test_agc_window_is_the_nearest_odd_number_of_samples(window_ms: float, samples: int) -> None:
    agc = create_processor("agc", {"window_ms": window_ms})
    assert agc.window_samples(DT_MS) == samples


def test_agc_check_refuses_a_window_shorter_than_a_sample() -> None:
    agc = create_processor("agc", {"window_ms": 3})
    with pytest.raises(ParameterError, match="shorter than one sample"):
        agc.check(sample_interval_ms=4.0, n_samples=1000)


def test_agc_rejects_unknown_mode_naming_the_allowed_ones() -> None:
    with pytest.raises(ParameterError, match=r"mode.*'rms' or 'mean_abs'"):
        create_processor("agc", {"window_ms": 500, "mode": "peak"})


@pytest.mark.parametrize("power", [0.0, 0.5, 1.0, 2.0, 3.7])
def test_tpow_of_ones_is_t_to_the_power(power: float) -> None:
    out = create_processor("tpow", {"power": power}).apply(np.ones((2, 500), np.float32), CONTEXT)
    expected = np.array([t**power for t in _times_s(500)])
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, np.broadcast_to(expected, (2, 500)), rtol=1e-6)


def test_tpow_rejects_negative_power() -> None:
    with pytest.raises(ParameterError, match="power"):
        create_processor("tpow", {"power": -1})


@pytest.mark.parametrize("db_per_s", [-12.0, 0.0, 6.0, 40.0])
def test_exp_gain_of_ones_is_ten_to_db_times_t_over_20(db_per_s: float) -> None:
    gain = create_processor("exp_gain", {"db_per_s": db_per_s})
    out = gain.apply(np.ones((1, 1000), np.float32), CONTEXT)
    np.testing.assert_allclose(out[0], 10 ** (db_per_s * _times_s(1000) / 20), rtol=1e-6)


def test_exp_gain_check_refuses_a_gain_that_would_overflow_float32() -> None:
    gain = create_processor("exp_gain", {"db_per_s": 100})
    gain.check(sample_interval_ms=4.0, n_samples=1500)  # 600 dB at 6 s: just allowed
    with pytest.raises(ParameterError, match="overflows float32"):
        gain.check(sample_interval_ms=4.0, n_samples=2000)


def test_spherical_divergence_default_is_gain_t() -> None:
    out = create_processor("spherical_divergence", {}).apply(np.ones((1, 800), np.float32), CONTEXT)
    np.testing.assert_allclose(out[0], _times_s(800), rtol=1e-6)


def test_spherical_divergence_interpolates_velocity_and_holds_it_beyond_the_ends() -> None:
    params = {"velocities_m_s": [1500, 3000], "times_ms": [500, 1500]}
    divergence = create_processor("spherical_divergence", params)
    out = divergence.apply(np.ones((1, 9), np.float32), GatherContext(sample_interval_ms=250.0))
    # v(t) = 1500 up to 0.5 s, 2250 at 1.0 s, 3000 from 1.5 s; gain = t (v(t)/v(0))**2.
    velocity = np.array([1500, 1500, 1500, 1875, 2250, 2625, 3000, 3000, 3000])
    expected = np.arange(9) * 0.25 * (velocity / 1500.0) ** 2
    np.testing.assert_allclose(out[0], expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"velocities_m_s": [1500, 2000], "times_ms": [0]}, "one time per velocity"),
        ({"velocities_m_s": [1500, 2000], "times_ms": [500, 500]}, "increase strictly"),
        ({"velocities_m_s": [1500, -2000], "times_ms": [0, 500]}, "velocities_m_s"),
    ],
)
def test_spherical_divergence_rejects_bad_velocity_functions(
    params: dict[str, list[float]], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        create_processor("spherical_divergence", params)


def _gather_with_dead_trace() -> np.ndarray:
    rng = np.random.default_rng(6)
    gather = rng.standard_normal((4, 500)) * np.array([[1.0], [50.0], [0.0], [0.01]])
    return gather.astype(np.float32)


@pytest.mark.parametrize(
    ("method", "level"),
    [
        ("rms", lambda x: np.sqrt(np.mean(x**2, axis=-1))),
        ("max", lambda x: np.abs(x).max(axis=-1)),
        ("mean_abs", lambda x: np.mean(np.abs(x), axis=-1)),
    ],
)
def test_normalize_brings_every_live_trace_to_unit_level(
    method: str, level: Callable[[np.ndarray], np.ndarray]
) -> None:
    out = create_processor("normalize", {"method": method}).apply(
        _gather_with_dead_trace(), CONTEXT
    )
    live = [0, 1, 3]
    np.testing.assert_allclose(level(out[live].astype(np.float64)), 1.0, rtol=1e-5)
    assert not out[2].any()


def test_normalize_measures_the_level_inside_the_design_window_only() -> None:
    gather = np.full((1, 250), 10.0, dtype=np.float32)
    gather[0, 25:51] = 2.0  # 100 ms to 200 ms inclusive
    params = {"method": "max", "window_ms": [100, 200]}
    out = create_processor("normalize", params).apply(gather, CONTEXT)
    np.testing.assert_allclose(out, gather / 2.0)


def test_normalize_leaves_a_trace_silent_in_the_window_as_it_is() -> None:
    gather = np.zeros((1, 100), dtype=np.float32)
    gather[0, 80:] = 3.0
    out = create_processor("normalize", {"window_ms": [0, 200]}).apply(gather, CONTEXT)
    np.testing.assert_array_equal(out, gather)


def _reference_normalize(gather: np.ndarray, method: str, design: slice) -> np.ndarray:
    x = gather.astype(np.float64)
    window = x[:, design]
    if method == "rms":
        level = np.sqrt(np.mean(window**2, axis=-1, keepdims=True))
    elif method == "max":
        level = np.abs(window).max(axis=-1, keepdims=True)
    else:
        level = np.mean(np.abs(window), axis=-1, keepdims=True)
    return np.where(level > 0, x / np.where(level > 0, level, 1.0), x)


@pytest.mark.parametrize("method", ["rms", "max", "mean_abs"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_normalize_nan_or_inf_in_the_window_makes_only_its_trace_nan(
    method: str, bad: float
) -> None:
    gather = _gather_with_dead_trace()
    gather[1, 300] = bad
    out = create_processor("normalize", {"method": method}).apply(gather, CONTEXT)
    assert np.isnan(out[1]).all()
    others = [0, 2, 3]
    expected = _reference_normalize(gather[others], method, slice(None))
    np.testing.assert_allclose(out[others], expected, rtol=1e-6)


@pytest.mark.parametrize("method", ["rms", "max", "mean_abs"])
def test_normalize_inf_outside_the_window_spoils_only_its_own_sample(method: str) -> None:
    gather = _gather_with_dead_trace()
    gather[1, 400] = np.inf
    params = {"method": method, "window_ms": [100, 200]}  # samples 25 to 50
    out = create_processor("normalize", params).apply(gather, CONTEXT)
    np.testing.assert_array_equal(np.flatnonzero(~np.isfinite(out)), [500 + 400])
    kept = np.isfinite(out)
    expected = _reference_normalize(gather, method, slice(25, 51))
    np.testing.assert_allclose(out[kept], expected[kept], rtol=1e-6)


@pytest.mark.parametrize("method", ["rms", "max", "mean_abs"])
@pytest.mark.parametrize("scale", [1e35, 1e-30], ids=["huge", "tiny"])
def test_normalize_of_huge_or_tiny_amplitudes_neither_overflows_nor_underflows(
    method: str, scale: float
) -> None:
    # 1e35: float32 sums of squares and of magnitudes overflow; 1e-30: squares underflow
    gather = _gather_with_dead_trace() * np.float32(scale)
    out = create_processor("normalize", {"method": method}).apply(gather, CONTEXT)
    assert np.isfinite(out).all()
    expected = _reference_normalize(gather, method, slice(None))
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    assert np.abs(out[[0, 1, 3]]).min(axis=-1).max() > 0


def test_normalize_check_refuses_a_window_after_the_trace_ends() -> None:
    normalize = create_processor("normalize", {"window_ms": [5000, 6000]})
    with pytest.raises(ParameterError, match="after the trace ends"):
        normalize.check(sample_interval_ms=4.0, n_samples=1000)


def test_normalize_rejects_a_backwards_window() -> None:
    with pytest.raises(ParameterError, match="start < end"):
        create_processor("normalize", {"window_ms": [600, 100]})


@pytest.mark.parametrize("alias", ["normalise", "trace_balance"])
def test_normalize_answers_to_its_aliases(alias: str) -> None:
    assert isinstance(create_processor(alias, {"method": "max"}), Normalize)
