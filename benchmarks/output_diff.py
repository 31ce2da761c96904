"""``seisproc diff`` of two outputs against reading both files once.

Makes (or reuses) a synthetic survey A (400 shots x 480 channels x 2001 samples, IBM:
1.58 GB) and B, a copy with every sample scaled by 1.001 (decoded, scaled, encoded), so
every gather differs and every chunk takes the comparison's full arithmetic (its worst
case), then measures in the same run, alternating, ``--repeats`` times each:

* ``read_both``: reading both files' traces once, side by side, in the diff's chunk
  size (256 KiB), as every seisproc reader does: the bytes into two reused buffers,
  then the samples decoded to float32 (the reference of the target: what any reading of
  the two outputs costs). 256 KiB is also the fastest size for it: at 1-8 MiB (8 MiB
  was the diff's chunk until 2026-12-07) decoding's temporaries are faulted in afresh
  each step and it took 1.2-2x as long;
* ``read_bytes``: the bytes alone, not decoded (informative: for IBM samples, decoding
  costs several times the reading from the page cache, and a comparison of samples
  cannot avoid it where the bytes differ);
* ``diff``: :func:`seisproc.production.diff_outputs` of A and B (per-gather RMS, largest
  difference and where);
* ``diff_identical``: the same of A and a byte-identical copy (``--quick`` only: its
  fast path compares bytes and sums A's energy).

The figure is the median diff over the median ``read_both`` (target: < 1.5); the same
of the fastest of each (``diff_over_read_best``: steadier on a loaded machine, where one
slow pass moves a median of three) and the diff over ``read_bytes`` are reported beside
it. Prints one JSON document on stdout.

    python -m benchmarks.output_diff [--shots 400] [--dir /tmp/bench] [--repeats 3] [--check]

``--quick`` (24 shots, 95 MB) is a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from seisproc.io import SurveyGeometry, open_segy, synthesize_survey
from seisproc.io.samples import decode, encode_into
from seisproc.production.outputs import CHUNK_BYTES, diff_outputs

TARGET = 1.5


def ensure_pair(folder: Path, shots: int) -> tuple[Path, Path]:
    """Survey A, and B with every sample scaled by 1.001 (made once, kept)."""
    a = folder / f"bench_{shots}x480x2001_ibm.sgy"
    if not a.exists():
        began = time.perf_counter()
        synthesize_survey(
            a,
            SurveyGeometry(shots=shots, channels=480, samples=2001, dt_ms=2.0),
            sample_format_name="ibm",
        )
        print(f"made {a} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    b = folder / f"{a.stem}_scaled.sgy"
    if not b.exists():
        _perturbed_copy(a, b)
    return a, b


def _perturbed_copy(a: Path, b: Path) -> None:
    with open_segy(a) as segy:
        layout = segy.layout
    partial = b.with_suffix(".partial")
    shutil.copyfile(a, partial)
    per_chunk = max(1, CHUNK_BYTES // layout.trace_bytes)
    with open(partial, "r+b") as out:
        for start in range(0, layout.n_traces, per_chunk):
            count = min(per_chunk, layout.n_traces - start)
            offset = layout.data_offset + start * layout.trace_bytes
            records = np.frombuffer(
                os.pread(out.fileno(), count * layout.trace_bytes, offset),
                dtype=layout.record_dtype(),
            ).copy()
            samples = decode(records["samples"], layout.format) * np.float32(1.001)
            encode_into(records["samples"], samples, layout.format)
            os.pwrite(out.fileno(), records.tobytes(), offset)
    partial.rename(b)


def read_both(a: Path, b: Path, decoded: bool = True) -> float:
    """Seconds to read both files' traces once, in the diff's chunks, into reused
    buffers; ``decoded``: and their samples to float32."""
    with open_segy(a) as segy:
        layout = segy.layout
    per_chunk = max(1, min(CHUNK_BYTES // layout.trace_bytes, layout.n_traces))
    began = time.perf_counter()
    buffers = [bytearray(per_chunk * layout.trace_bytes) for _ in range(2)]
    fds = [os.open(path, os.O_RDONLY) for path in (a, b)]
    try:
        for start in range(0, layout.n_traces, per_chunk):
            size = min(per_chunk, layout.n_traces - start) * layout.trace_bytes
            offset = layout.data_offset + start * layout.trace_bytes
            for fd, buffer in zip(fds, buffers, strict=True):
                os.preadv(fd, [memoryview(buffer)[:size]], offset)
                if decoded:
                    records = np.frombuffer(
                        buffer, layout.record_dtype(), size // layout.trace_bytes
                    )
                    decode(records["samples"], layout.format)
    finally:
        for fd in fds:
            os.close(fd)
    return time.perf_counter() - began


def timed_diff(a: Path, b: Path) -> tuple[float, Any]:
    began = time.perf_counter()
    result = diff_outputs(a, b)
    return time.perf_counter() - began, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=400, help="400 shots: 1.58 GB per file")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "seisproc-bench")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 unless the diff takes under {TARGET}x the read",
    )
    parser.add_argument("--quick", action="store_true", help="24 shots (95 MB per file)")
    args = parser.parse_args(argv)
    if args.quick:
        args.shots = 24
    args.dir.mkdir(parents=True, exist_ok=True)
    a, b = ensure_pair(args.dir, args.shots)
    reads, raw_reads, diffs = [], [], []
    read_both(a, b, decoded=False)  # once first: every measurement finds the files cached
    for _ in range(args.repeats):
        reads.append(read_both(a, b))
        raw_reads.append(read_both(a, b, decoded=False))
        seconds, result = timed_diff(a, b)
        diffs.append(seconds)
    worst = result.worst()
    report: dict[str, Any] = {
        "benchmark": "output_diff",
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "chunk_bytes": CHUNK_BYTES,
        "files": {
            "bytes_each": a.stat().st_size,
            "gathers": len(result.gathers),
            "differing_gathers": len(result.differing()),
            "worst_relative_rms": worst.relative_rms if worst else 0.0,
        },
        "read_both": {"median_s": round(statistics.median(reads), 3), "all_s": reads},
        "read_bytes": {"median_s": round(statistics.median(raw_reads), 3), "all_s": raw_reads},
        "diff": {"median_s": round(statistics.median(diffs), 3), "all_s": diffs},
    }
    ratio = statistics.median(diffs) / statistics.median(reads)
    report["diff_over_read"] = {"value": round(ratio, 3), "target": TARGET}
    report["diff_over_read_best"] = round(min(diffs) / min(reads), 3)
    report["diff_over_read_bytes"] = round(
        statistics.median(diffs) / statistics.median(raw_reads), 3
    )
    if args.quick:
        copy = args.dir / f"{a.stem}_copy.sgy"
        if not copy.exists():
            shutil.copyfile(a, copy)
        report["diff_identical"] = {
            "median_s": round(
                statistics.median(timed_diff(a, copy)[0] for _ in range(args.repeats)), 3
            )
        }
    print(json.dumps(report, indent=2))
    return 0 if not args.check or ratio < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
