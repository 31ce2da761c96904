"""The script a user would write instead of a seisproc job: bandpass + AGC over a SEG-Y
file with segyio and scipy, in a pool of processes.

It is written as a careful user would write it, not as a straw man: the output starts as
a copy of the input (so every header is in place), each process opens both files once
and handles its share of the gathers, segyio's C code decodes a whole gather at a time
(``trace.raw[a:b]``) and encodes each trace it writes, and the kernel is the same
arithmetic as seisproc's ``bandpass`` and ``agc`` (an FFT trapezoid filter, an RMS gain
over a centred window). What it does not do is what a job adds: no checkpoints, no
``fdatasync``, no progress, no QC, and a crash leaves a half-written file under the
final name. ``benchmarks/end_to_end.py`` runs it against ``seisproc run``.

    python benchmarks/handwritten_pipeline.py IN.sgy OUT.sgy [--processes 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import scipy.fft
import segyio
from scipy.ndimage import uniform_filter1d

CORNERS_HZ = (5.0, 10.0, 60.0, 80.0)
AGC_WINDOW_MS = 500.0


def gathers(path: Path) -> list[tuple[int, int]]:
    """``(first, stop)`` trace ranges of each FFID in a file sorted by FFID."""
    with segyio.open(path, ignore_geometry=True) as f:
        ffid = f.attributes(segyio.TraceField.FieldRecord)[:]
    edges = np.flatnonzero(np.diff(ffid)) + 1
    bounds = [0, *edges.tolist(), len(ffid)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def trapezoid(n_fft: int, dt_s: float) -> np.ndarray:
    f1, f2, f3, f4 = CORNERS_HZ
    freqs = scipy.fft.rfftfreq(n_fft, dt_s)
    return np.interp(freqs, [f1, f2, f3, f4], [0.0, 1.0, 1.0, 0.0], left=0.0, right=0.0)


def bandpass(x: np.ndarray, dt_s: float) -> np.ndarray:
    n = x.shape[-1]
    n_fft = scipy.fft.next_fast_len(2 * n, real=True)
    spectrum = scipy.fft.rfft(x, n=n_fft, axis=-1)
    spectrum *= trapezoid(n_fft, dt_s)
    return scipy.fft.irfft(spectrum, n=n_fft, axis=-1)[:, :n].astype(np.float32)


def agc(x: np.ndarray, dt_s: float) -> np.ndarray:
    width = int(round(AGC_WINDOW_MS / 1000.0 / dt_s)) | 1
    power = uniform_filter1d(x.astype(np.float64) ** 2, width, axis=-1, mode="nearest")
    rms = np.sqrt(power)
    return np.where(rms > 0, x / np.where(rms > 0, rms, 1.0), 0.0).astype(np.float32)


def _work(job: tuple[str, str, list[tuple[int, int]]]) -> int:
    source, target, ranges = job
    done = 0
    with segyio.open(source, ignore_geometry=True) as f, \
            segyio.open(target, "r+", ignore_geometry=True) as g:
        dt_s = segyio.tools.dt(f) / 1e6
        for first, stop in ranges:
            out = agc(bandpass(f.trace.raw[first:stop], dt_s), dt_s)
            for i, trace in enumerate(out, start=first):
                g.trace[i] = trace
            done += stop - first
    return done


def run(source: Path, target: Path, processes: int = 2) -> int:
    """Process ``source`` into ``target``; the number of traces written."""
    ranges = gathers(source)
    shutil.copyfile(source, target)
    shares = [(str(source), str(target), ranges[i::processes]) for i in range(processes)]
    with mp.get_context("fork").Pool(processes) as pool:
        return sum(pool.map(_work, shares))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    traces = run(args.source, args.target, args.processes)
    seconds = time.perf_counter() - start
    print(f"{traces} traces in {seconds:.2f} s ({traces / seconds:,.0f} traces/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
