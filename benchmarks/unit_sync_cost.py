"""What making each unit durable costs: a worker's throughput with and without its
per-unit ``fdatasync``.

A worker flushes a unit's traces to disk before returning the unit (the driver records a
returned unit as done, and on NFS only the writing node can flush its cache; see
:mod:`seisproc.io.writer`). The product always does; only this script turns it off, by
subclassing :class:`~seisproc.jobs.units.UnitProcessor` with a ``sync`` that does nothing,
so the two runs differ in that call alone.

One worker process runs every unit of a survey's job (4 gathers a unit, as the engine
cuts them), for two flows:

* ``bandpass_agc``: ``bandpass(5-10-60-80 Hz) | agc(500 ms)``, a typical flow: the target
  is that the syncs cost at most 10 % of its throughput (``synced_over_unsynced >= 0.9``);
* ``exp_gain``: one cheap step, where the sync weighs most: shown, not judged.

Each run is timed twice: ``units`` (all units returned: what the driver waits for) and
``end_to_end`` (plus the ``fsync`` of the whole output that the commit does anyway). The
unsynced run leaves its writes to the kernel's background write-back, which the
``end_to_end`` time then pays for; ``end_to_end`` is the fair comparison and the
judged figure. Runs alternate (synced first, then unsynced, then the other way round) and
each figure is the median of ``--repeats``. Prints one JSON document on stdout.

    python -m benchmarks.unit_sync_cost [--quick] [--shots 400] [--repeats 3] [--dir DIR]

``--quick`` (24 shots, 95 MB, 2 repeats) is a smoke run: with 6 units the figure is only
indicative, and an output that small may never leave the page cache between syncs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    from benchmarks.processing_throughput import FLOW_STEPS, ensure_survey
except ImportError:  # run as a script: benchmarks/ is on sys.path
    from processing_throughput import FLOW_STEPS, ensure_survey  # type: ignore[no-redef]

from seisproc.io import open_segy
from seisproc.io.writer import discard_output, sync_path
from seisproc.jobs.plan import plan_job
from seisproc.jobs.units import UnitProcessor
from seisproc.processing import Flow

FLOWS: dict[str, list[dict[str, Any]]] = {
    "bandpass_agc": FLOW_STEPS,
    "exp_gain": [{"exp_gain": {"db_per_s": 3}}],
}
TARGET_RATIO = 0.9


class _TimedSync(UnitProcessor):
    """The product's worker, with each per-unit sync timed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sync_ms: list[float] = []

    def sync(self) -> None:
        start = time.perf_counter()
        super().sync()
        self.sync_ms.append((time.perf_counter() - start) * 1000)


class _NoSync(UnitProcessor):
    """The same worker without its per-unit sync: the benchmark's baseline only."""

    def sync(self) -> None:
        pass




def run_once(flow: Flow, durable: bool) -> dict[str, Any]:
    """Every unit of ``flow`` by one worker; seconds to the last unit and to the flush."""
    plan = plan_job(flow, overwrite=True, tag="synced" if durable else "unsynced")
    worker = (_TimedSync if durable else _NoSync)(flow, plan.partial_path, plan.output_layout)
    try:
        start = time.perf_counter()
        for unit in plan.units:
            worker.run(unit)
        units_s = time.perf_counter() - start
        sync_path(plan.partial_path)
        total_s = time.perf_counter() - start
    finally:
        worker.close()
        discard_output(plan.partial_path)
    return {"units_s": units_s, "end_to_end_s": total_s, "units": len(plan.units),
            "sync_ms": getattr(worker, "sync_ms", [])}


def measure_flow(survey: Path, out_dir: Path, name: str, repeats: int,
                 n_traces: int, trace_bytes: int) -> dict[str, Any]:
    """Alternating synced and unsynced runs of one flow; medians and their ratios."""
    flow = Flow.from_mapping({"name": f"bench-sync-{name}", "input": str(survey),
                              "output": str(out_dir / f"sync_{name}.sgy"),
                              "gather_by": "ffid", "steps": FLOWS[name]})
    run_once(flow, durable=False)  # warm-up: the input in the page cache, imports done
    runs: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for i in range(repeats):
        for durable in ((True, False) if i % 2 == 0 else (False, True)):
            runs[durable].append(run_once(flow, durable))
    report: dict[str, Any] = {}
    for phase in ("units", "end_to_end"):
        synced = statistics.median(r[f"{phase}_s"] for r in runs[True])
        unsynced = statistics.median(r[f"{phase}_s"] for r in runs[False])
        report[phase] = {
            "synced_traces_per_s": round(n_traces / synced),
            "unsynced_traces_per_s": round(n_traces / unsynced),
            "synced_units_per_s": round(runs[True][0]["units"] / synced, 2),
            "synced_over_unsynced": round(unsynced / synced, 3),
        }
    syncs = sorted(ms for r in runs[True] for ms in r["sync_ms"])
    report["sync"] = {"n": len(syncs), "p50_ms": round(statistics.median(syncs), 2),
                      "p99_ms": round(syncs[min(len(syncs) - 1, int(0.99 * len(syncs)))], 2),
                      "per_unit_mb": round(n_traces * trace_bytes / 1e6
                                           / runs[True][0]["units"], 1)}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=400,
                        help="400 shots = 192,000 traces, 1.58 GB (processing_throughput's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "seisproc-bench")
    parser.add_argument("--quick", action="store_true", help="24 shots (95 MB), 2 repeats")
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 unless bandpass+AGC keeps {TARGET_RATIO:.0%} with syncs")
    args = parser.parse_args(argv)
    if args.quick:
        args.shots, args.repeats = 24, 2
    args.dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SEISPROC_HOME", str(args.dir / "home"))
    survey = ensure_survey(args.dir, args.shots, "ibm")
    with open_segy(survey) as segy:
        n_traces, trace_bytes = segy.layout.n_traces, segy.layout.trace_bytes
    report: dict[str, Any] = {
        "benchmark": "unit_sync_cost", "quick": args.quick, "repeats": args.repeats,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "survey": {"path": str(survey), "traces": n_traces,
                   "bytes": survey.stat().st_size},
        "target_synced_over_unsynced": TARGET_RATIO,
    }
    for name in FLOWS:
        report[name] = measure_flow(survey, args.dir, name, args.repeats, n_traces,
                                    trace_bytes)
    print(json.dumps(report, indent=2))
    ratio = report["bandpass_agc"]["end_to_end"]["synced_over_unsynced"]
    return 1 if args.check and ratio < TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
