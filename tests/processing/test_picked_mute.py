"""The mute picked as (offset, time) pairs, against a sample-by-sample loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seisproc.errors import ParameterError, ProcessingError
from seisproc.processing import GatherContext, create_processor

DT_MS = 4.0
OFFSETS = np.array([-2500.0, -1200.0, -300.0, 0.0, 150.0, 800.0, 1700.0, 3000.0])
PICKS = {"offsets_m": [0.0, 1000.0, 2000.0], "times_ms": [100.0, 300.0, 700.0]}


def _weight_by_loop(side: str, taper_ms: float, delays: np.ndarray) -> np.ndarray:
    weights = np.zeros((OFFSETS.size, 400))
    for i, offset in enumerate(OFFSETS):
        line = float(np.interp(abs(offset), PICKS["offsets_m"], PICKS["times_ms"]))
        for j in range(400):
            past = delays[i] + j * DT_MS - line
            if side == "bottom":
                past = -past
            if taper_ms == 0:
                weights[i, j] = 1.0 if past >= 0 else 0.0
            else:
                ramp = min(max(past / taper_ms, 0.0), 1.0)
                weights[i, j] = 0.5 - 0.5 * math.cos(math.pi * ramp)
    return weights


@pytest.mark.parametrize(
    ("side", "taper_ms"), [("top", 0), ("top", 40), ("bottom", 0), ("bottom", 24)]
)
def test_picked_mute_matches_a_loop_over_every_sample(side: str, taper_ms: float) -> None:
    gather = np.random.default_rng(4).uniform(1, 2, (OFFSETS.size, 400)).astype(np.float32)
    delays = np.array([0.0, 0, 0, 20, 20, 0, -8, 0])
    mute = create_processor("mute", {**PICKS, "side": side, "taper_ms": taper_ms})
    out = mute.apply(gather, GatherContext(DT_MS, OFFSETS, delays_ms=delays))
    np.testing.assert_allclose(
        out, gather * _weight_by_loop(side, taper_ms, delays), rtol=1e-5, atol=1e-6
    )


def test_picks_must_pair_up_and_run_outwards() -> None:
    with pytest.raises(ParameterError, match="give one time per offset"):
        create_processor("mute", {"offsets_m": [0, 100], "times_ms": [10]})
    with pytest.raises(ParameterError, match="offsets_m must increase strictly"):
        create_processor("mute", {"offsets_m": [100, 0], "times_ms": [10, 20]})


def test_picked_mute_asks_for_offsets() -> None:
    mute = create_processor("mute", PICKS)
    with pytest.raises(ProcessingError, match="mute needs the `offset` trace header"):
        mute.apply(np.ones((2, 10), np.float32), GatherContext(DT_MS))
