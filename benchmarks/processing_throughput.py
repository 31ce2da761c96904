"""Processing throughput of bandpass + AGC against the plain read + write I/O ceiling.

Makes (or reuses) a synthetic survey of at least 1 GB, then measures in the same run:

* ``index``: building the FFID gather index from scratch (no cache);
* ``io_ceiling``: reading every gather and writing it unchanged to a new file;
* ``bandpass_agc``: the flow ``bandpass(5-10-60-80 Hz) | agc(500 ms)``;

each with 1 and 2 worker processes, as traces/s and MB/s, the flow's rate as a fraction of
the ceiling (ratios are stable on a noisy machine, absolute rates are not), and the peak
memory of a worker. Prints one JSON document on stdout.

    python benchmarks/processing_throughput.py [--shots 400] [--dir /tmp/bench] [--check]

``--quick`` (24 shots, 95 MB) is a smoke run: on a file that small the page cache and
the pool's start-up weigh more, so its ratios are only indicative.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from seisproc.io import SurveyGeometry, gather_index, open_segy, synthesize_survey
from seisproc.io.writer import (
    SegyWriter,
    commit_output,
    create_output,
    discard_output,
    output_file_header,
    output_layout,
)
from seisproc.jobs.plan import cut_units, plan_job
from seisproc.jobs.units import UnitProcessor, WorkUnit
from seisproc.orchestration.allocator import keep_freed_memory
from seisproc.processing import Flow

_worker: Any = None

FLOW_STEPS = [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}, {"agc": {"window_ms": 500}}]


def _init_flow_worker(flow: Flow, partial: Path, layout: Any) -> None:
    global _worker
    keep_freed_memory()  # as a worker actor does
    _worker = UnitProcessor(flow, partial, layout)


def _run_flow_unit(unit: WorkUnit) -> int:
    _worker.run(unit)
    return unit.n_traces


class _CopyWorker:
    """Reads gathers and writes them back unchanged: the I/O a flow cannot avoid."""

    def __init__(self, source: Path, partial: Path, layout: Any) -> None:
        self.segy = open_segy(source)
        self.writer = SegyWriter(partial, layout)

    def run(self, unit: WorkUnit) -> int:
        for gather in unit.gathers:
            samples, headers = self.segy.read(gather.positions)
            self.writer.write(gather.positions, headers, samples)
        return unit.n_traces


def _init_copy_worker(source: Path, partial: Path, layout: Any) -> None:
    global _worker
    keep_freed_memory()
    _worker = _CopyWorker(source, partial, layout)


def _run_copy_unit(unit: WorkUnit) -> int:
    return _worker.run(unit)


def _peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _drive(processes: int, initializer: Any, initargs: tuple, fn: Any,
           units: tuple[WorkUnit, ...]) -> float:
    start = time.perf_counter()
    ctx = mp.get_context("fork")
    with ctx.Pool(processes, initializer=initializer, initargs=initargs) as pool:
        done = sum(pool.imap_unordered(fn, units, chunksize=1))
        pool.close()
        pool.join()
    assert done == sum(u.n_traces for u in units)
    return time.perf_counter() - start


def measure_io_ceiling(survey: Path, out_dir: Path, processes: int, units: tuple) -> float:
    with open_segy(survey) as segy:
        layout = output_layout(segy.layout)
        header = output_file_header(segy, ["SEISPROC BENCHMARK COPY"])
    partial = out_dir / f".copy-{processes}.partial"
    create_output(partial, header, layout)
    try:
        return _drive(processes, _init_copy_worker, (survey, partial, layout), _run_copy_unit,
                      units)
    finally:
        discard_output(partial)


def measure_flow(survey: Path, out_dir: Path, processes: int) -> float:
    flow = Flow.from_mapping({"name": "bench-bandpass-agc", "input": str(survey),
                              "output": str(out_dir / f"bp_agc_{processes}.sgy"),
                              "gather_by": "ffid", "steps": FLOW_STEPS})
    start = time.perf_counter()
    plan = plan_job(flow, overwrite=True)
    try:
        _drive(processes, _init_flow_worker, (flow, plan.partial_path, plan.output_layout),
               _run_flow_unit, plan.units)
        commit_output(plan.partial_path, flow.output)
    finally:
        discard_output(plan.partial_path)
    seconds = time.perf_counter() - start
    flow.output.unlink()
    return seconds


def ensure_survey(folder: Path, shots: int, fmt: str) -> Path:
    geometry = SurveyGeometry(shots=shots, channels=480, samples=2001, dt_ms=2.0)
    path = folder / f"bench_{shots}x480x2001_{fmt}.sgy"
    if not path.exists():
        t0 = time.perf_counter()
        synthesize_survey(path, geometry, sample_format_name=fmt)
        print(f"made {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return path


def rates(seconds: float, n_traces: int, n_bytes: int) -> dict[str, float]:
    return {"seconds": round(seconds, 3), "traces_per_s": round(n_traces / seconds),
            "mb_per_s": round(n_bytes / seconds / 1e6, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=400,
                        help="400 shots = 192,000 traces, 1.58 GB")
    parser.add_argument("--format", default="ibm", choices=["ibm", "ieee"])
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "seisproc-bench")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless the flow reaches 50%% of the ceiling")
    parser.add_argument("--quick", action="store_true", help="24 shots (95 MB)")
    args = parser.parse_args(argv)
    if args.quick:
        args.shots = 24
    args.dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SEISPROC_HOME", str(args.dir / "home"))
    survey = ensure_survey(args.dir, args.shots, args.format)

    with open_segy(survey) as segy:
        t0 = time.perf_counter()
        index = gather_index(segy, "ffid", cache=False)
        index_seconds = time.perf_counter() - t0
        n_traces, n_bytes = segy.layout.n_traces, survey.stat().st_size
    units = cut_units(index)
    report: dict[str, Any] = {
        "benchmark": "processing_throughput", "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "survey": {"path": str(survey), "traces": n_traces, "bytes": n_bytes,
                   "format": args.format, "gathers": len(index)},
        "index_seconds": round(index_seconds, 3),
    }
    for processes in (1, 2):
        ceiling = rates(measure_io_ceiling(survey, args.dir, processes, units), n_traces, n_bytes)
        flow = rates(measure_flow(survey, args.dir, processes), n_traces, n_bytes)
        report[f"processes_{processes}"] = {
            "io_ceiling": ceiling, "bandpass_agc": flow,
            "flow_over_ceiling": round(flow["traces_per_s"] / ceiling["traces_per_s"], 3),
        }
    report["peak_worker_rss_mb"] = round(_peak_rss_mb(resource.RUSAGE_CHILDREN), 1)
    print(json.dumps(report, indent=2))
    if args.check:
        worst = min(report[f"processes_{p}"]["flow_over_ceiling"] for p in (1, 2))
        return 0 if worst >= 0.5 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
