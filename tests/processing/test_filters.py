"""Bandpass (Ormsby) and Butterworth filters against closed forms and scipy.signal."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from seisproc.errors import ParameterError
from seisproc.processing import GatherContext, create_processor

DT_MS = 2.0
FS_HZ = 1000.0 / DT_MS
CONTEXT = GatherContext(sample_interval_ms=DT_MS)
ORMSBY = {"f1": 5, "f2": 10, "f3": 60, "f4": 80}


def _sine(freq_hz: float, n: int = 4001) -> np.ndarray:
    t = np.arange(n) * DT_MS / 1000.0
    return np.sin(2 * np.pi * freq_hz * t)[None, :].astype(np.float32)


def _middle_amplitude(trace: np.ndarray) -> float:
    """Peak amplitude away from the ends, where edge effects have died out."""
    n = trace.shape[-1]
    return float(np.max(np.abs(trace[..., n // 4 : 3 * n // 4])))


def _spike(n: int, at: int) -> np.ndarray:
    gather = np.zeros((1, n), dtype=np.float32)
    gather[0, at] = 1.0
    return gather


@pytest.mark.parametrize("freq_hz", [12.0, 30.0, 59.0])
def test_bandpass_passes_sines_in_the_flat_band_unchanged(freq_hz: float) -> None:
    bandpass = create_processor("bandpass", ORMSBY)
    sine = _sine(freq_hz)
    out = bandpass.apply(sine, CONTEXT)
    n = sine.shape[-1]
    np.testing.assert_allclose(out[0, n // 4 : 3 * n // 4], sine[0, n // 4 : 3 * n // 4], atol=5e-3)


@pytest.mark.parametrize("freq_hz", [1.5, 3.0, 90.0, 150.0, 240.0])
def test_bandpass_suppresses_stop_band_sines_by_more_than_40_db(freq_hz: float) -> None:
    out = create_processor("bandpass", ORMSBY).apply(_sine(freq_hz), CONTEXT)
    assert _middle_amplitude(out) < 10 ** (-40 / 20)


@pytest.mark.parametrize(("freq_hz", "gain"), [(7.5, 0.5), (65.0, 0.75), (75.0, 0.25)])
def test_bandpass_ramps_are_linear_in_frequency(freq_hz: float, gain: float) -> None:
    out = create_processor("bandpass", ORMSBY).apply(_sine(freq_hz), CONTEXT)
    assert _middle_amplitude(out) == pytest.approx(gain, abs=5e-3)


def test_bandpass_preserves_white_noise_energy_of_the_pass_band() -> None:
    noise = np.random.default_rng(1).standard_normal((50, 4096)).astype(np.float32)
    out = create_processor("bandpass", ORMSBY).apply(noise, CONTEXT)
    freqs = np.fft.rfftfreq(4096, DT_MS / 1000.0)
    window = np.hanning(4096)
    power_in = np.abs(np.fft.rfft(noise * window, axis=-1)) ** 2
    power_out = np.abs(np.fft.rfft(out * window, axis=-1)) ** 2
    passband = (freqs >= 15) & (freqs <= 55)
    stopband = (freqs >= 100) | (freqs <= 2)
    assert power_out[:, passband].sum() / power_in[:, passband].sum() == pytest.approx(1, rel=1e-3)
    assert power_out[:, stopband].sum() / power_in[:, stopband].sum() < 1e-4


def test_bandpass_is_zero_phase_a_spike_stays_centred_and_symmetric() -> None:
    out = create_processor("bandpass", ORMSBY).apply(_spike(1001, 500), CONTEXT)[0]
    assert int(np.argmax(np.abs(out))) == 500
    np.testing.assert_allclose(out[500:], out[500::-1], atol=1e-6 * np.abs(out).max())


def test_bandpass_ringing_does_not_wrap_from_the_trace_end_onto_its_start() -> None:
    out = create_processor("bandpass", ORMSBY).apply(_spike(2001, 2000), CONTEXT)[0]
    assert np.abs(out[:200]).max() < 2e-3 * np.abs(out).max()


def test_bandpass_returns_float32_of_the_same_shape() -> None:
    gather = np.random.default_rng(2).standard_normal((7, 333))
    out = create_processor("bandpass", ORMSBY).apply(gather, CONTEXT)
    assert out.dtype == np.float32
    assert out.shape == (7, 333)


@pytest.mark.parametrize(
    "corners",
    [
        {"f1": 10, "f2": 5, "f3": 60, "f4": 80},
        {"f1": 5, "f2": 70, "f3": 60, "f4": 80},
        {"f1": 5, "f2": 10, "f3": 80, "f4": 80},
        {"f1": -1, "f2": 10, "f3": 60, "f4": 80},
    ],
)
def test_bandpass_rejects_corners_out_of_order(corners: dict[str, float]) -> None:
    with pytest.raises(ParameterError, match="bandpass"):
        create_processor("bandpass", corners)


def test_bandpass_accepts_a_triangle_with_f2_equal_to_f3() -> None:
    bandpass = create_processor("bandpass", {"f1": 10, "f2": 30, "f3": 30, "f4": 50})
    out = bandpass.apply(_sine(30.0), CONTEXT)
    assert _middle_amplitude(out) == pytest.approx(1.0, abs=5e-3)


def test_bandpass_check_refuses_f4_above_nyquist_and_names_it() -> None:
    bandpass = create_processor("bandpass", {"f1": 5, "f2": 10, "f3": 100, "f4": 130})
    bandpass.check(sample_interval_ms=2.0, n_samples=1000)  # Nyquist 250 Hz: fine
    with pytest.raises(ParameterError, match=r"f4 = 130 Hz .*Nyquist frequency 125 Hz"):
        bandpass.check(sample_interval_ms=4.0, n_samples=1000)


BUTTERWORTH_CASES = [
    ({"low_hz": 8.0, "high_hz": 50.0, "order": 4}, dict(N=4, Wn=[8.0, 50.0], btype="band")),
    ({"high_hz": 40.0, "order": 6}, dict(N=6, Wn=40.0, btype="low")),
    ({"low_hz": 10.0, "order": 2}, dict(N=2, Wn=10.0, btype="high")),
    ({"low_hz": 3.0, "high_hz": 200.0, "order": 1}, dict(N=1, Wn=[3.0, 200.0], btype="band")),
]


@pytest.mark.parametrize(("params", "scipy_design"), BUTTERWORTH_CASES)
def test_butterworth_impulse_response_has_scipy_butter_gain_squared(
    params: dict[str, float], scipy_design: dict[str, object]
) -> None:
    n = 8192
    out = create_processor("butterworth", params).apply(_spike(n, n // 2), CONTEXT)[0]
    freqs = np.fft.rfftfreq(n, DT_MS / 1000.0)
    sos = scipy.signal.butter(**scipy_design, fs=FS_HZ, output="sos")
    _, h = scipy.signal.sosfreqz(sos, worN=freqs, fs=FS_HZ)
    np.testing.assert_allclose(np.abs(np.fft.rfft(out)), np.abs(h) ** 2, atol=1e-4)


def test_butterworth_matches_sosfiltfilt_away_from_the_edges() -> None:
    noise = np.random.default_rng(3).standard_normal((4, 6000))
    out = create_processor("butterworth", {"low_hz": 10, "high_hz": 40}).apply(noise, CONTEXT)
    sos = scipy.signal.butter(4, [10, 40], btype="band", fs=FS_HZ, output="sos")
    reference = scipy.signal.sosfiltfilt(sos, noise, axis=-1)
    np.testing.assert_allclose(out[:, 1000:-1000], reference[:, 1000:-1000], atol=1e-4)


def test_butterworth_gain_is_one_half_at_the_corner() -> None:
    lowpass = create_processor("butterworth", {"high_hz": 40.0, "order": 8})
    assert lowpass.response(np.array([0.0, 40.0, 250.0]), DT_MS) == pytest.approx([1, 0.5, 0])


def test_butterworth_needs_at_least_one_corner() -> None:
    with pytest.raises(ParameterError, match="at least one corner"):
        create_processor("butterworth", {"order": 4})


def test_butterworth_rejects_low_corner_above_high_corner() -> None:
    with pytest.raises(ParameterError, match=r"low_hz \(60.0\) must be below high_hz"):
        create_processor("butterworth", {"low_hz": 60, "high_hz": 20})


@pytest.mark.parametrize("order", [0, 13, 2.5])
def test_butterworth_rejects_orders_outside_1_to_12(order: float) -> None:
    with pytest.raises(ParameterError, match="order"):
        create_processor("butterworth", {"high_hz": 20, "order": order})


def test_butterworth_check_refuses_a_corner_at_nyquist() -> None:
    highpass = create_processor("butterworth", {"low_hz": 125})
    with pytest.raises(ParameterError, match=r"low_hz = 125 Hz must be below the Nyquist"):
        highpass.check(sample_interval_ms=4.0, n_samples=500)
