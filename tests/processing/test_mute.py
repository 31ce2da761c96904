"""Top mute against the mute line computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from seisproc.errors import ProcessingError
from seisproc.processing import GatherContext, create_processor

DT_MS = 4.0
OFFSETS_M = np.array([-2950.0, -1210.0, -30.0, 0.0, 25.0, 777.0, 1930.0, 3100.0])


def _live_gather(n_samples: int = 600) -> np.ndarray:
    """Every sample non-zero, so a zero in the output can only come from the mute."""
    rng = np.random.default_rng(7)
    return rng.uniform(1.0, 2.0, (OFFSETS_M.size, n_samples)).astype(np.float32)


def _mute_times_ms(t0_ms: float, velocity_m_s: float) -> np.ndarray:
    return t0_ms + np.abs(OFFSETS_M) / velocity_m_s * 1000.0


def test_top_mute_zeros_exactly_the_samples_before_the_line_and_tapers_after_it() -> None:
    gather = _live_gather()
    mute = create_processor("top_mute", {"t0_ms": 42.0, "velocity_m_s": 1900.0, "taper_ms": 30})
    out = mute.apply(gather, GatherContext(DT_MS, offsets_m=OFFSETS_M))
    times_ms = np.arange(gather.shape[1]) * DT_MS
    for trace, (line_ms, before, after) in enumerate(
        zip(_mute_times_ms(42.0, 1900.0), gather, out, strict=True)
    ):
        muted = times_ms < line_ms
        kept = times_ms >= line_ms + 30.0
        ramp = ~muted & ~kept
        assert not after[muted].any(), f"trace {trace}: energy left above the mute line"
        np.testing.assert_array_equal(after[kept], before[kept])
        weight = 0.5 * (1 - np.cos(np.pi * (times_ms[ramp] - line_ms) / 30.0))
        np.testing.assert_allclose(after[ramp], before[ramp] * weight, rtol=1e-5, atol=1e-6)


def test_top_mute_without_taper_keeps_every_sample_from_the_line_on() -> None:
    gather = _live_gather()
    mute = create_processor("top_mute", {"t0_ms": 10.0, "velocity_m_s": 2500.0, "taper_ms": 0})
    out = mute.apply(gather, GatherContext(DT_MS, offsets_m=OFFSETS_M))
    times_ms = np.arange(gather.shape[1]) * DT_MS
    expected = np.where(times_ms[None, :] >= _mute_times_ms(10.0, 2500.0)[:, None], gather, 0)
    np.testing.assert_array_equal(out, expected)


def test_top_mute_depends_on_absolute_offset_only() -> None:
    gather = np.ones((2, 300), dtype=np.float32)
    mute = create_processor("top_mute", {"velocity_m_s": 1500.0})
    out = mute.apply(gather, GatherContext(DT_MS, offsets_m=np.array([-800.0, 800.0])))
    np.testing.assert_array_equal(out[0], out[1])
    assert not out[0, :134].any()  # 800 m at 1500 m/s: 533.3 ms, after sample 133
    assert out[0, 134] > 0


def test_top_mute_without_offsets_asks_for_the_offset_header() -> None:
    mute = create_processor("top_mute", {"velocity_m_s": 1500.0})
    with pytest.raises(ProcessingError, match="`offset` trace header"):
        mute.apply(_live_gather(), GatherContext(DT_MS))


def test_top_mute_refuses_an_offset_count_that_does_not_match_the_traces() -> None:
    mute = create_processor("top_mute", {"velocity_m_s": 1500.0})
    with pytest.raises(ProcessingError, match="one offset per trace"):
        mute.apply(_live_gather(), GatherContext(DT_MS, offsets_m=np.zeros(3)))
