"""The user guide's imaging example, run as a user runs it, and its picture.

From the repository root::

    python scripts/screenshots/imaging_example.py

Runs, in a temporary folder and through the ``seisproc`` command (on seisproc's local
Ray): ``synth --geology``, ``velan --auto``, and the three-stage flow of the guide
(bandpass by shot, NMO and stack by CDP, phase-shift migration of the section), then
draws a shot gather, the stack and the migrated section side by side into
``docs/images/imaging_example.png``. Nothing is drawn by hand: every panel is a file the
commands wrote.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from seisproc.io.index import gather_index
from seisproc.io.segy import open_segy
from seisproc.plots.files import save_png

OUT = Path("docs/images/imaging_example.png")
FLOW = """\
name: line-image
input: line.sgy
output: line_mig.sgy
keep_intermediate: true
stages:
  - gather_by: ffid
    steps:
      - bandpass: {f1: 4, f2: 8, f3: 50, f4: 70}
  - gather_by: cdp
    steps:
      - nmo: {velocities: line_vel.csv, stretch_mute_percent: 30}
      - stack: {}
  - gather_by: section
    steps:
      - phase_shift_migration: {velocities: line_vel.csv, trace_spacing_m: 12.5}
"""
COMMANDS = [
    ["synth", "line.sgy", "--geology", "--shots", "60", "--channels", "48", "--samples",
     "751", "--velocities", "true_vel.csv"],
    ["velan", "line.sgy", "--cdps", "40:200:20", "--vmin", "1400", "--vmax", "3200",
     "--auto", "--out", "line_vel.csv"],
    ["run", "image.yaml"],
]


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "image.yaml").write_text(FLOW)
        for args in COMMANDS:
            subprocess.run([sys.executable, "-m", "seisproc", *args], cwd=work, check=True)
        stack = next(work.glob(".line_mig.sgy.*.stage2.seisproc-intermediate"))
        draw(work / "line.sgy", stack, work / "line_mig.sgy")
    print(f"wrote {OUT}")
    return 0


def draw(shots: Path, stack: Path, migrated: Path) -> None:
    figure = Figure(figsize=(15, 5.5), dpi=100, layout="constrained")
    axes = figure.subplots(1, 3, sharey=True)
    with open_segy(shots) as segy:
        index = gather_index(segy, "ffid", cache=False)
        gather = segy.read_samples(index.positions(len(index) // 2))
        offsets = segy.offsets_m(segy.read(index.positions(len(index) // 2))[1])
        dt = segy.layout.sample_interval_ms
    panel(axes[0], gather, (offsets[0], offsets[-1]), dt, "a shot gather (input)",
          "offset (m)")
    for ax, path, title in ((axes[1], stack, "NMO + stack (stage 2)"),
                            (axes[2], migrated, "phase-shift migration (stage 3)")):
        with open_segy(path) as segy:
            samples = segy.read_samples(np.arange(segy.layout.n_traces))
            cdps = segy.header_values("cdp")
        panel(ax, samples, (cdps[0], cdps[-1]), dt, title, "CDP")
    axes[0].set_ylabel("time (ms)")
    save_png(figure, OUT)


def panel(ax: Axes, samples: np.ndarray, extent_x: tuple[float, float], dt: float,
          title: str, xlabel: str) -> None:
    clip = float(np.percentile(np.abs(samples), 99)) or 1.0
    end = (samples.shape[1] - 1) * dt
    ax.imshow(samples.T, cmap="gray_r", vmin=-clip, vmax=clip, aspect="auto",
              extent=(extent_x[0], extent_x[1], end, 0))
    ax.set_title(title)
    ax.set_xlabel(xlabel)


if __name__ == "__main__":
    sys.exit(main())
