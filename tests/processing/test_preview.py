"""Previewing a flow on one gather, and the average amplitude spectrum."""

from __future__ import annotations

import numpy as np
import pytest

from seisproc.errors import ParameterError, ProcessingError
from seisproc.processing import GatherContext, Processor, create_processor
from seisproc.processing.amplitude import AGCParams
from seisproc.processing.preview import (
    SPECTRUM_FLOOR_DB,
    amplitude_spectrum,
    check_steps,
    preview_gather,
    run_steps,
)

DT_MS = 4.0
CONTEXT = GatherContext(sample_interval_ms=DT_MS)


def _gather(n_traces: int = 6, n_samples: int = 500) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n_traces, n_samples)).astype(np.float32)


def _sines(freqs_hz: list[float], n: int = 1000) -> np.ndarray:
    t = np.arange(n) * DT_MS / 1000.0
    return sum(np.sin(2 * np.pi * f * t) for f in freqs_hz)[None, :].astype(np.float32)


def test_preview_is_the_gain_then_the_filter_applied_in_flow_order() -> None:
    gather = _gather()
    gain = create_processor("exp_gain", {"db_per_s": 6.0})
    bandpass = create_processor("bandpass", {"f1": 5, "f2": 10, "f3": 40, "f4": 60})
    preview = preview_gather([gain, bandpass], gather, CONTEXT)
    t_s = np.arange(gather.shape[1]) * DT_MS / 1000.0
    gained = gather * 10 ** (6.0 * t_s / 20.0)  # closed form of the gain, not the processor
    expected = bandpass.apply(gained.astype(np.float32), CONTEXT)
    np.testing.assert_allclose(preview.after, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(preview.before, gather)
    np.testing.assert_allclose(preview.difference, preview.after - gather, rtol=0, atol=1e-6)


def test_preview_leaves_the_input_gather_untouched() -> None:
    gather = _gather()
    copy = gather.copy()
    preview_gather([create_processor("agc", {"window_ms": 100})], gather, CONTEXT)
    np.testing.assert_array_equal(gather, copy)


def test_parameters_that_do_not_fit_the_data_are_refused_naming_the_step() -> None:
    steps = [create_processor("agc", {"window_ms": 100}),
             create_processor("bandpass", {"f1": 5, "f2": 10, "f3": 100, "f4": 200})]
    with pytest.raises(ParameterError, match=r"step 2 \(bandpass\)"):
        check_steps(steps, DT_MS, 500)
    with pytest.raises(ParameterError, match=r"step 2 \(bandpass\)"):
        preview_gather(steps, _gather(), CONTEXT)


class _Exploding(Processor):
    """A processor that fails on data, as a bug in one would."""

    name = "exploding"
    Params = AGCParams

    def apply(self, gather: object, context: GatherContext) -> object:
        raise ZeroDivisionError("boom")


def test_a_failing_step_is_reported_with_where_and_its_number() -> None:
    agc = create_processor("agc", {"window_ms": 100})
    exploding = _Exploding(agc.params)
    with pytest.raises(ProcessingError, match=r"^shots.sgy ffid=3: step 2 \(exploding\): "
                                              r"ZeroDivisionError: boom") as info:
        run_steps([agc, exploding], _gather(), CONTEXT, where="shots.sgy ffid=3: ")
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_spectrum_peaks_at_the_frequency_of_a_sine() -> None:
    freqs, level = amplitude_spectrum(_sines([30.0]), DT_MS)
    assert freqs[-1] == pytest.approx(125.0)  # Nyquist at 4 ms
    assert freqs[np.argmax(level)] == pytest.approx(30.0, abs=0.25)
    assert level.max() == pytest.approx(0.0)


def test_spectrum_of_two_sines_shows_their_amplitude_ratio_in_db() -> None:
    t = np.arange(1000) * DT_MS / 1000.0
    trace = np.sin(2 * np.pi * 20 * t) + 0.1 * np.sin(2 * np.pi * 60 * t)
    freqs, level = amplitude_spectrum(trace[None, :], DT_MS)
    at = {f: level[np.argmin(np.abs(freqs - f))] for f in (20.0, 60.0)}
    assert at[60.0] - at[20.0] == pytest.approx(-20.0, abs=0.5)  # 20*log10(0.1)


def test_spectrum_after_a_bandpass_drops_in_the_stop_band() -> None:
    data = _sines([8.0, 30.0, 90.0])
    bandpass = create_processor("bandpass", {"f1": 15, "f2": 20, "f3": 40, "f4": 50})
    freqs, before = amplitude_spectrum(data, DT_MS)
    _, after = amplitude_spectrum(bandpass.apply(data, CONTEXT), DT_MS)
    bins = {f: int(np.argmin(np.abs(freqs - f))) for f in (8.0, 30.0, 90.0)}
    assert before[bins[8.0]] > -1 and before[bins[90.0]] > -1
    assert after[bins[30.0]] == pytest.approx(0.0)
    assert after[bins[8.0]] < -60 and after[bins[90.0]] < -60


def test_spectrum_of_silence_is_the_floor_not_minus_infinity() -> None:
    freqs, level = amplitude_spectrum(np.zeros((3, 100), dtype=np.float32), DT_MS)
    assert len(freqs) == 51
    assert np.all(level == SPECTRUM_FLOOR_DB)
