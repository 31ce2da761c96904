"""NMO against a brute-force loop, a hyperbola it must flatten, and its own inverse."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from seisproc.errors import ParameterError, ProcessingError
from seisproc.processing import GatherContext, create_processor
from seisproc.processing.imaging import VelocityTable, write_velocity_table

DT_MS = 4.0


def _write(tmp_path: Path, cdp: list[int], time_ms: list[float], vrms: list[float]) -> str:
    path = tmp_path / "vel.csv"
    write_velocity_table(path, VelocityTable.from_picks(cdp, time_ms, vrms))
    return str(path)


def _ricker(t_ms: np.ndarray, peak_hz: float = 25.0) -> np.ndarray:
    arg = (math.pi * peak_hz * t_ms / 1000.0) ** 2
    return (1 - 2 * arg) * np.exp(-arg)


def _brute_force_nmo(
    gather: np.ndarray,
    offsets: np.ndarray,
    cdps: np.ndarray,
    delays: np.ndarray,
    velocity,
    mute_percent: float,
) -> np.ndarray:
    """Sample by sample, with scalar arithmetic and numpy's interp for the reading."""
    out = np.zeros_like(gather, dtype=np.float64)
    n = gather.shape[1]
    for i in range(gather.shape[0]):
        for j in range(n):
            t0 = delays[i] + j * DT_MS
            v = velocity(cdps[i], t0)
            t = math.sqrt(t0 * t0 + (1000.0 * offsets[i] / v) ** 2)
            if t0 <= 0 and t > t0 or t0 > 0 and 100.0 * (t - t0) / t0 > mute_percent:
                continue
            out[i, j] = np.interp(
                (t - delays[i]) / DT_MS, np.arange(n), gather[i], left=0.0, right=0.0
            )
    return out


def _by_hand(cdp: float, t0: float) -> float:
    """The table of the brute-force test, interpolated by hand."""
    v100 = np.interp(t0, [100.0, 900.0], [1600.0, 2600.0])
    v200 = np.interp(t0, [0.0, 500.0, 1200.0], [1800.0, 2100.0, 3000.0])
    w = min(max((cdp - 100) / 100.0, 0.0), 1.0)
    return float((1 - w) * v100 + w * v200)


def test_nmo_matches_a_brute_force_loop_across_cdps_and_delays(tmp_path: Path) -> None:
    table = _write(
        tmp_path,
        [100, 100, 200, 200, 200],
        [100, 900, 0, 500, 1200],
        [1600, 2600, 1800, 2100, 3000],
    )
    rng = np.random.default_rng(3)
    gather = rng.standard_normal((9, 300)).astype(np.float32)
    offsets = np.array([-1800.0, -900, -250, 0, 25, 400, 975, 1500, 2400])
    cdps = np.array([90, 100, 120, 150, 150, 180, 200, 230, 150])
    delays = np.array([0.0, 0, 0, 0, 0, 0, 40, 40, -20])
    nmo = create_processor("nmo", {"velocities": table, "stretch_mute_percent": 40})
    out = nmo.apply(gather, GatherContext(DT_MS, offsets, cdps=cdps, delays_ms=delays))
    expected = _brute_force_nmo(gather, offsets, cdps, delays, _by_hand, 40.0)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert (expected == 0).any() and (expected != 0).mean() > 0.5  # the mute took a part


def test_nmo_flattens_a_hyperbola_to_its_zero_offset_time_within_a_sample(tmp_path: Path) -> None:
    t0_ms, v = 640.0, 2200.0
    offsets = np.linspace(-2000.0, 2000.0, 41)
    times = np.arange(500) * DT_MS
    moveout = np.sqrt(t0_ms**2 + (1000.0 * offsets / v) ** 2)
    gather = _ricker(times[None, :] - moveout[:, None]).astype(np.float32)
    nmo = create_processor(
        "nmo", {"velocities": _write(tmp_path, [1], [0], [v]), "stretch_mute_percent": None}
    )
    out = nmo.apply(gather, GatherContext(DT_MS, offsets))
    peak = np.argmax(out, axis=1)
    # The peak's time to a fraction of a sample, by a parabola through its neighbours.
    left, mid, right = (out[np.arange(41), peak + d] for d in (-1, 0, 1))
    fine = peak + 0.5 * (left - right) / (left - 2 * mid + right)
    assert np.abs(fine * DT_MS - t0_ms).max() < DT_MS
    assert np.abs(np.argmax(gather, axis=1) * DT_MS - t0_ms).max() > 100  # it did move


def test_inverse_nmo_puts_back_what_nmo_flattened(tmp_path: Path) -> None:
    table = _write(tmp_path, [5, 5], [0, 1000], [1800, 2000])
    offsets = np.linspace(0.0, 1000.0, 16)
    times = np.arange(600) * 2.0
    t0 = np.array([400.0, 800.0])[:, None, None]
    v = np.array([1880.0, 1960.0])[:, None, None]  # the table's, at each t0
    moveout = np.sqrt(t0**2 + (1000.0 * offsets[None, :, None] / v) ** 2)
    gather = _ricker(times - moveout, 15.0).sum(axis=0).astype(np.float32)
    context = GatherContext(2.0, offsets, cdps=np.full(16, 5))
    forward = create_processor("nmo", {"velocities": table, "stretch_mute_percent": None})
    back = create_processor(
        "nmo", {"velocities": table, "stretch_mute_percent": None, "inverse": True}
    )
    flat = forward.apply(gather, context)
    restored = back.apply(flat, context)
    assert np.abs(restored - gather).max() < 0.03 * np.abs(gather).max()
    assert np.abs(flat - gather).max() > 0.5


def test_the_stretch_mute_zeroes_exactly_the_samples_stretched_past_it(tmp_path: Path) -> None:
    offsets = np.array([0.0, 500.0, 1500.0, 3000.0])
    gather = np.ones((4, 400), np.float32)
    nmo = create_processor(
        "nmo", {"velocities": _write(tmp_path, [1], [0], [2000]), "stretch_mute_percent": 25}
    )
    out = nmo.apply(gather, GatherContext(DT_MS, offsets))
    t0 = np.arange(400) * DT_MS
    t = np.sqrt(t0[None, :] ** 2 + (offsets[:, None] / 2.0) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        kept = np.where(t0 > 0, 100 * (t - t0) / t0 <= 25, offsets[:, None] == 0)
    kept &= t <= 399 * DT_MS
    np.testing.assert_array_equal(out != 0, kept)


def test_nmo_refuses_a_gather_without_cdps_when_the_table_has_several(tmp_path: Path) -> None:
    nmo = create_processor("nmo", {"velocities": _write(tmp_path, [1, 2], [0, 0], [1500, 1600])})
    with pytest.raises(ProcessingError, match="nmo needs the `cdp` trace header"):
        nmo.apply(np.ones((2, 10), np.float32), GatherContext(DT_MS, np.zeros(2)))
    with pytest.raises(ProcessingError, match="nmo needs the `offset` trace header"):
        nmo.apply(np.ones((2, 10), np.float32), GatherContext(DT_MS, cdps=np.ones(2)))


def test_nmo_check_refuses_a_table_reaching_past_the_traces(tmp_path: Path) -> None:
    nmo = create_processor("nmo", {"velocities": _write(tmp_path, [1, 1], [0, 2000], [1500, 2500])})
    nmo.check(DT_MS, 501)
    with pytest.raises(ParameterError, match=r"row 3, field 'time_ms': 2000 ms is beyond"):
        nmo.check(DT_MS, 500)


def test_nmo_names_a_missing_table_file(tmp_path: Path) -> None:
    nmo = create_processor("nmo", {"velocities": str(tmp_path / "none.csv")})
    with pytest.raises(ParameterError, match=r"none\.csv: cannot read the velocity table"):
        nmo.check(DT_MS, 100)
