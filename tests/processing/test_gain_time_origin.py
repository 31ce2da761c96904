"""Time-variant gains count time from time zero, the recording delay (``delrt``) being
the time of the first sample."""

from __future__ import annotations

import numpy as np
import pytest

from seisproc.processing import GatherContext, create_processor

DT_MS = 100.0


@pytest.mark.parametrize(
    ("name", "params", "gain"),
    [
        ("tpow", {"power": 2}, lambda t: t**2),
        ("exp_gain", {"db_per_s": 20}, lambda t: 10 ** (t / 1.0)),
    ],
)
def test_gain_uses_each_traces_recording_delay(name: str, params: dict, gain) -> None:
    processor = create_processor(name, params)
    delays = np.array([0.0, 500.0, 500.0, -200.0])
    out = processor.apply(np.ones((4, 6), np.float32), GatherContext(DT_MS, delays_ms=delays))
    for trace, delay in enumerate(delays):
        t_s = np.maximum((delay + np.arange(6) * DT_MS) / 1000.0, 0.0)
        np.testing.assert_allclose(out[trace], gain(t_s), rtol=1e-6)


def test_one_delay_for_the_whole_gather_shifts_every_trace_alike() -> None:
    tpow = create_processor("tpow", {"power": 1})
    out = tpow.apply(
        np.ones((3, 4), np.float32), GatherContext(DT_MS, delays_ms=np.full(3, 1000.0))
    )
    np.testing.assert_allclose(out, np.tile([1.0, 1.1, 1.2, 1.3], (3, 1)), rtol=1e-6)
