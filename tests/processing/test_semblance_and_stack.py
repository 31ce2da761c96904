"""Stack, semblance and the automatic picker, each against a loop written out in full."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from seisproc.errors import ParameterError
from seisproc.processing.imaging import (
    SemblancePanel,
    pick_velocity_function,
    semblance_panel,
    stack_gather,
)
from seisproc.processing.imaging.semblance import _monotone_path, velocity_scan

DT_MS = 4.0


def test_stack_is_the_mean_of_the_traces_that_hold_each_sample() -> None:
    rng = np.random.default_rng(8)
    gather = rng.standard_normal((7, 50)).astype(np.float32)
    gather[2] = 0.0  # dead
    gather[4, :20] = 0.0  # muted shallow
    stacked = stack_gather(gather)
    for j in range(50):
        holding = [gather[i, j] for i in range(7) if gather[i, j] != 0]
        assert stacked.samples[j] == pytest.approx(np.mean(np.float64(holding)), abs=1e-6)
    assert stacked.fold == 6


def test_stack_of_a_dead_gather_is_zero_with_fold_zero() -> None:
    stacked = stack_gather(np.zeros((3, 10), np.float32))
    assert stacked.fold == 0 and not stacked.samples.any()


def _brute_force_semblance(
    gather: np.ndarray, offsets: np.ndarray, v: float, half: int
) -> np.ndarray:
    n_traces, n = gather.shape
    moved = np.zeros_like(gather, dtype=np.float64)
    holds = np.zeros_like(moved)
    for i in range(n_traces):
        for j in range(n):
            t = math.sqrt((j * DT_MS) ** 2 + (1000.0 * offsets[i] / v) ** 2) / DT_MS
            if t <= n - 1:
                moved[i, j] = np.interp(t, np.arange(n), gather[i])
                holds[i, j] = 1.0
    out = np.zeros(n)
    for j in range(n):
        w = slice(max(0, j - half), min(n, j + half + 1))
        num = np.sum(moved[:, w].sum(axis=0) ** 2)
        den = np.sum(holds[:, w].sum(axis=0) * (moved[:, w] ** 2).sum(axis=0))
        out[j] = num / den if den > 0 else 0.0
    return out


def test_semblance_matches_a_brute_force_loop() -> None:
    rng = np.random.default_rng(9)
    gather = rng.standard_normal((6, 120)).astype(np.float32)
    offsets = np.array([-900.0, -300.0, 0.0, 250.0, 700.0, 1300.0])
    velocities = np.array([1500.0, 2100.0, 3300.0])
    panel = semblance_panel(gather, offsets, DT_MS, velocities, window_ms=20.0)
    for column, v in enumerate(velocities):
        np.testing.assert_allclose(
            panel.values[:, column],
            _brute_force_semblance(gather, offsets, v, half=2),
            rtol=2e-5,
            atol=1e-6,
        )


def test_semblance_peaks_at_the_velocity_of_a_hyperbola() -> None:
    offsets = np.linspace(-1500.0, 1500.0, 31)
    t = np.arange(400) * DT_MS
    moveout = np.sqrt(700.0**2 + (1000 * offsets / 2300.0) ** 2)
    arg = (math.pi * 25.0 * (t[None, :] - moveout[:, None]) / 1000.0) ** 2
    gather = ((1 - 2 * arg) * np.exp(-arg)).astype(np.float32)
    panel = semblance_panel(gather, offsets, DT_MS, velocity_scan(1500, 3500, 25), 24.0)
    at_event = panel.values[np.flatnonzero(panel.times_ms == 700.0)[0]]
    assert panel.velocities_m_s[np.argmax(at_event)] == 2300.0
    assert 0.95 < at_event.max() <= 1.0
    coherent_rows = np.flatnonzero(panel.values.max(axis=1) > 0.5)
    assert np.abs(panel.times_ms[coherent_rows] - 700.0).max() <= 80.0  # the wavelet, not noise


def _best_monotone_path_by_enumeration(values: np.ndarray) -> float:
    rows, columns = values.shape
    return max(
        sum(values[r, c] for r, c in enumerate(path))
        for path in itertools.combinations_with_replacement(range(columns), rows)
    )


def test_the_picker_follows_the_best_non_decreasing_path() -> None:
    rng = np.random.default_rng(10)
    for _ in range(20):
        values = rng.uniform(0, 1, (6, 4))
        panel = SemblancePanel(np.arange(6) * DT_MS, np.array([1.0, 2, 3, 4]), values)
        path = _monotone_path(panel.values)
        assert (np.diff(path) >= 0).all()
        total = values[np.arange(6), path].sum()
        assert total == pytest.approx(_best_monotone_path_by_enumeration(values))


def test_the_picker_ignores_a_slower_late_peak_such_as_a_multiple() -> None:
    values = np.zeros((300, 60))
    values[50, 10] = 0.9  # primary, 1500 + 10 * 25
    values[150, 30] = 0.8  # primary
    values[250, 12] = 1.0  # a strong multiple: slower than the primary above it
    values[250, 40] = 0.5  # the weaker primary at that time
    panel = SemblancePanel(np.arange(300) * DT_MS, 1500 + 25.0 * np.arange(60), values)
    times, velocities = pick_velocity_function(panel)
    np.testing.assert_array_equal(times, [200.0, 600.0, 1000.0])
    np.testing.assert_array_equal(velocities, [1750.0, 2250.0, 2500.0])


def test_a_velocity_scan_must_run_upwards() -> None:
    with pytest.raises(ParameterError, match="need 0 < vmin < vmax and a step > 0"):
        velocity_scan(3000, 1500, 50)


def test_a_dead_super_gather_has_no_semblance_anywhere() -> None:
    panel = semblance_panel(
        np.zeros((4, 60), np.float32),
        np.array([0.0, 100, 200, 300]),
        DT_MS,
        np.array([1500.0, 2500.0]),
        20.0,
        stretch_mute_percent=30,
    )
    assert panel.values.shape == (60, 2) and not panel.values.any()
