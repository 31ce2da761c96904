"""F-K filter: energy of events inside and outside the rejected fan, and its weights
against the closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seisproc.errors import ParameterError, ProcessingError
from seisproc.processing import GatherContext, create_processor
from seisproc.processing.fk import fan_weights

DT_MS, DX_M = 2.0, 5.0  # ground roll of 12 Hz at 500 m/s is not aliased
OFFSETS = np.arange(96) * DX_M


def _linear_event(velocity_m_s: float, t0_ms: float = 100.0, peak_hz: float = 12.0) -> np.ndarray:
    t = np.arange(1000) * DT_MS
    arrival = t0_ms + 1000.0 * OFFSETS / velocity_m_s
    arg = (math.pi * peak_hz * (t[None, :] - arrival[:, None]) / 1000.0) ** 2
    return ((1 - 2 * arg) * np.exp(-arg)).astype(np.float32)


def _energy(x: np.ndarray) -> float:
    middle = x[20:76].astype(np.float64)  # away from the spread's ends
    return float(np.sum(middle**2))


def test_an_event_inside_the_fan_is_removed_and_one_outside_is_kept() -> None:
    fk = create_processor("fk_filter", {"v_min_m_s": 300, "v_max_m_s": 1000})
    context = GatherContext(DT_MS, OFFSETS)
    roll = _linear_event(500.0)
    reflection = _linear_event(4000.0, t0_ms=800.0)
    assert _energy(fk.apply(roll, context)) < 0.01 * _energy(roll)  # below -20 dB
    kept = fk.apply(reflection, context)
    assert _energy(kept) == pytest.approx(_energy(reflection), rel=0.05)
    both = fk.apply(roll + reflection, context)
    assert _energy(both - kept) < 0.01 * _energy(roll)


def test_events_moving_either_way_are_rejected() -> None:
    fk = create_processor("fk_filter", {"v_min_m_s": 300, "v_max_m_s": 1000})
    backwards = _linear_event(500.0)[::-1].copy()
    out = fk.apply(backwards, GatherContext(DT_MS, OFFSETS))
    assert _energy(out) < 0.01 * _energy(backwards)


def test_fan_weights_follow_the_closed_form_taper() -> None:
    f = np.array([10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 0.0])
    k = np.array([10 / 250, 10 / 285, 10 / 300, 10 / 600, 10 / 1000, 10 / 1050, 0.0])
    w = fan_weights(f, k, 300.0, 1000.0, 0.1)
    velocity = f / np.where(k > 0, k, 1)
    diagonal = np.diag(w[:, :6])
    expected_below = 0.5 - 0.5 * np.cos(math.pi * np.clip((300 - velocity[:6]) / 30, 0, 1))
    expected_above = 0.5 - 0.5 * np.cos(math.pi * np.clip((velocity[:6] - 1000) / 100, 0, 1))
    np.testing.assert_allclose(diagonal, np.maximum(expected_below, expected_above))
    assert diagonal[0] == 1.0 and diagonal[2] == 0.0 and diagonal[3] == 0.0
    assert w[6, 6] == 1.0  # k = 0: infinite apparent velocity passes


def test_the_spacing_comes_from_the_offsets_or_the_parameter() -> None:
    fk = create_processor("fk_filter", {})
    assert fk.trace_spacing(96, GatherContext(DT_MS, OFFSETS)) == DX_M
    with pytest.raises(ProcessingError, match="fk_filter needs the trace spacing"):
        fk.apply(np.ones((4, 100), np.float32), GatherContext(DT_MS, np.zeros(4)))
    fixed = create_processor("fk_filter", {"trace_spacing_m": 12.5})
    assert fixed.trace_spacing(4, GatherContext(DT_MS)) == 12.5


def test_the_fan_bounds_must_be_in_order() -> None:
    with pytest.raises(ParameterError, match="must be below v_max_m_s"):
        create_processor("fk_filter", {"v_min_m_s": 900, "v_max_m_s": 500})
