"""Drawing the gather that differs most: A, B and A - B side by side.

A and B share one clip (the 99th percentile of |A|), so the same colour is the same
amplitude in both; A - B gets its own, so a difference a thousand times smaller than the
data is still visible, and its panel says the clip it was drawn with. Matplotlib draws
off screen (the Agg canvas): no display is needed, and none of the application's Qt.
"""

from __future__ import annotations

import os

import numpy as np

from seisproc.plots.files import save_png
from seisproc.production.outputs import OutputDiff, read_gather_pair

__all__ = ["plot_worst_gather"]


def plot_worst_gather(diff: OutputDiff, out: str | os.PathLike[str]) -> bool:
    """Write ``out`` (PNG, by its extension) with the gather that differs most; ``False``
    (nothing written) when no gather's samples differ."""
    gather = diff.worst()
    if gather is None:
        return False
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    a, b = read_gather_pair(diff.path_a, diff.path_b, gather)
    difference = a - b
    clip = float(np.nanpercentile(np.abs(a), 99)) or 1.0
    clip_diff = float(np.nanmax(np.abs(difference))) or clip
    seconds = a.shape[1] * diff.sample_interval_ms / 1000
    figure = Figure(figsize=(12, 6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, 3, sharey=True)
    panels = (
        (a, clip, f"A: {os.path.basename(diff.path_a)}"),
        (b, clip, f"B: {os.path.basename(diff.path_b)}"),
        (difference, clip_diff, f"A - B (clip {clip_diff:.3g})"),
    )
    for ax, (data, limit, title) in zip(axes, panels, strict=True):
        ax.imshow(
            data.T,
            aspect="auto",
            cmap="seismic",
            vmin=-limit,
            vmax=limit,
            extent=(0, data.shape[0], seconds, 0),
            interpolation="nearest",
        )
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("trace in gather")
    axes[0].set_ylabel("time (s)")
    at_s = gather.max_sample * diff.sample_interval_ms / 1000
    figure.suptitle(
        f"{diff.gather_key}={gather.key}: rms(A-B)/rms(A) "
        f"{gather.relative_rms:.3g}, max |A-B| {gather.max_abs_diff:.4g} at trace "
        f"{gather.max_trace}, {at_s:.3f} s"
    )
    save_png(figure, out, dpi=100)
    return True
