"""Parameter-test panels as one picture: a column per value, a row per gather.

The columns share one clip, so a window that makes the gather louder looks louder: each
column scaled on its own would hide exactly the difference the test is for.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seisproc.jobs.panels import GatherPanel
from seisproc.plots.files import save_png

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CLIP_PERCENTILE", "shared_clip", "draw_panels"]

CLIP_PERCENTILE = 99.0
"""Amplitudes above this percentile of every panel's absolute values saturate: a few
spikes must not make everything else grey."""


def shared_clip(columns: Sequence[Sequence[GatherPanel]]) -> float:
    """The clip every panel is drawn with: the percentile of the finite absolute
    amplitudes of all of them; 1.0 when there is no signal at all."""
    values = np.concatenate([np.abs(p.samples[np.isfinite(p.samples)]).ravel()
                             for column in columns for p in column])
    clip = float(np.percentile(values, CLIP_PERCENTILE)) if values.size else 0.0
    return clip if clip > 0 else 1.0


def draw_panels(columns: Sequence[Sequence[GatherPanel]], labels: Sequence[str], key: str,
                path: Path, title: str) -> Path:
    """Write the panels to ``path`` (PNG), whole or not at all (a temporary file beside
    it is renamed over it), and return ``path``."""
    from matplotlib.figure import Figure  # draws without pyplot or a display: Agg

    rows, cols = len(columns[0]), len(columns)
    clip = shared_clip(columns)
    figure = Figure(figsize=(1.2 + 2.6 * cols, 0.8 + 3.0 * rows), dpi=110,
                    layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False, sharey="row")
    for c, (column, label) in enumerate(zip(columns, labels, strict=True)):
        for r, panel in enumerate(column):
            x_label = _draw_one(axes[r][c], panel, clip)
            if r == 0:
                axes[r][c].set_title(label, fontsize=9)
            if c == 0:
                axes[r][c].set_ylabel(f"{key} {panel.key_value}\ntime (ms)", fontsize=9)
            if r == rows - 1:
                axes[r][c].set_xlabel(x_label, fontsize=8)
    figure.suptitle(f"{title}   (shared clip {clip:.3g})", fontsize=10)
    return save_png(figure, path)


def _draw_one(ax: Axes, panel: GatherPanel, clip: float) -> str:
    """Draw one gather in variable density; the name of its horizontal axis."""
    n_traces, n_samples = panel.samples.shape
    end_ms = (n_samples - 1) * panel.sample_interval_ms
    offsets = panel.offsets_m
    left, right, x_label = float(offsets[0]), float(offsets[-1]), "offset (m)"
    if n_traces < 2 or left == right:  # no offsets in the headers: trace numbers
        left, right, x_label = 1.0, float(max(n_traces, 2)), "trace"
    ax.imshow(np.nan_to_num(panel.samples.T), cmap="gray_r", vmin=-clip, vmax=clip,
              aspect="auto", interpolation="nearest", extent=(left, right, end_ms, 0.0))
    ax.tick_params(labelsize=7)
    return x_label
