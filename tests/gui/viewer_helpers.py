"""Helpers for the gather viewer tests: flows on the test survey, and waiting on frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seisproc.gui.viewer import GatherViewer
from seisproc.io import gather_index, open_segy
from seisproc.processing import Flow, GatherContext, create_processor

FRAME_TIMEOUT_MS = 5000


def bandpass_agc_flow(survey: Path, out_dir: Path, f3: float = 40.0, f4: float = 60.0,
                      window_ms: float = 200.0) -> Flow:
    """A bandpass (5-10-f3-f4 Hz) then AGC flow on ``survey``."""
    return Flow.from_mapping({
        "name": "bandpass-agc", "input": str(survey), "output": str(out_dir / "out.sgy"),
        "steps": [{"bandpass": {"f1": 5, "f2": 10, "f3": f3, "f4": f4}},
                  {"agc": {"window_ms": window_ms}}],
    })


def read_gather(survey: Path, key: str, gather: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Samples, offsets (m) and sample interval (ms) of one gather, read independently."""
    with open_segy(survey) as segy:
        samples, headers = segy.read(gather_index(segy, key).positions(gather))
        return samples, segy.offsets_m(headers), segy.layout.sample_interval_ms


def processed_by_hand(steps: list[tuple[str, dict[str, Any]]], samples: np.ndarray,
                      offsets: np.ndarray, dt_ms: float) -> np.ndarray:
    """The processors applied one after the other, without the preview code."""
    context = GatherContext(dt_ms, offsets)
    data = samples
    for name, params in steps:
        data = create_processor(name, params).apply(data, context)
    return np.asarray(data)


def wait_for_gather(qtbot: Any, viewer: GatherViewer, gather: int) -> None:
    """Wait until ``gather`` is on screen and nothing more is being computed."""
    qtbot.waitUntil(lambda: viewer.current_frame is not None
                    and viewer.current_frame.gather == gather and not viewer.busy,
                    timeout=FRAME_TIMEOUT_MS)
