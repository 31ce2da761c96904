"""The diff's per-trace figures in one compiled pass (production.trace_differences)."""

from __future__ import annotations

import numpy as np

from seisproc.production.trace_differences import trace_figures


def test_each_traces_figures_equal_numpys_including_nan_and_ties() -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((9, 2001)).astype(np.float32)
    b = (a * np.float32(1.001)).astype(np.float32)
    b[1] = a[1]  # identical trace: no difference at all
    a[2, 7] = a[2, 900] = 0
    b[2, 7] = b[2, 900] = 5  # a tie: the first sample stands
    b[3, 50], b[3, 10] = np.nan, np.nan  # NaN: the first one stands
    b[4, 3] = np.inf
    expected_diff = np.abs(a - b)
    figures = trace_figures(a, b.copy())
    np.testing.assert_allclose(figures.energy_a, (a.astype(np.float64) ** 2).sum(axis=1),
                               rtol=1e-12)
    finite = [0, 1, 2, 5, 6, 7, 8]
    d = (a - b).astype(np.float64)
    np.testing.assert_allclose(figures.energy_diff[finite], (d[finite] ** 2).sum(axis=1),
                               rtol=1e-12)
    np.testing.assert_array_equal(figures.where, expected_diff.argmax(axis=1))
    assert figures.where[2] == 7 and figures.where[3] == 10 and figures.where[4] == 3
    np.testing.assert_array_equal(figures.max_diff,
                                  expected_diff[np.arange(9), expected_diff.argmax(axis=1)])
    assert figures.max_diff[1] == 0 and np.isnan(figures.max_diff[3])
    assert np.isnan(figures.energy_diff[3]) and np.isinf(figures.energy_diff[4])
