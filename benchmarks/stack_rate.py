"""A stack against a filter: the shape-changing job's rate beside the one-stage job's.

Issue 17's target: the whole stacking job (every trace read through the CDP index of a
shot-sorted survey, NMO, stack: one trace out per CDP) at >= 0.5x the rate of the
one-stage bandpass + AGC job on the same file, both on 2 workers, in one run. Rates are
input traces per second of the job's wall time (``seisproc.engine.run_flow``: what
``seisproc run`` does, planning and commit included); the two jobs alternate
``--repeats`` times and the medians are compared.

The velocity table has one CDP (one function for the whole line), as a first brute stack
would.

    python -m benchmarks.stack_rate [--shots 400] [--dir /tmp/bench] [--repeats 2]

``--quick`` (40 shots) is a smoke run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks._engine_common import (
    emit,
    ensure_survey,
    json_stdout,
    machine,
    note,
    start_ray,
    stop_ray,
    target,
)
from seisproc.engine import open_manager, run_flow
from seisproc.io import SurveyGeometry
from seisproc.jobs.model import JobState
from seisproc.processing.flow import Flow

TARGET_RATIO = 0.5
VELOCITIES = "cdp,time_ms,vrms_m_s\n1,0,1800\n1,1500,2400\n1,4000,3300\n"


def flows(survey: Path, folder: Path) -> dict[str, Flow]:
    table = folder / "brute_vel.csv"
    table.write_text(VELOCITIES)
    common = {"name": "bench", "input": str(survey)}
    return {
        "filter": Flow.from_mapping({**common, "output": str(folder / "filtered.sgy"),
                                     "gather_by": "ffid", "steps": [
                                         {"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}},
                                         {"agc": {"window_ms": 500}}]}, folder),
        "stack": Flow.from_mapping({**common, "output": str(folder / "stack.sgy"),
                                    "stages": [{"gather_by": "cdp", "steps": [
                                        {"nmo": {"velocities": str(table),
                                                 "stretch_mute_percent": 30}},
                                        {"stack": {}}]}]}, folder),
    }


def run_once(flow: Flow, manager: Any) -> float:
    began = time.perf_counter()
    job = run_flow(flow, overwrite=True, manager=manager)
    seconds = time.perf_counter() - began
    if job.state is not JobState.COMPLETED:
        raise SystemExit(f"{flow.name}: {job.state.value}: {job.message}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/seisproc-bench"))
    parser.add_argument("--quick", action="store_true", help="40 shots")
    args = parser.parse_args(argv)
    shots = 40 if args.quick else args.shots
    with json_stdout():
        geometry = SurveyGeometry(shots=shots, channels=480, samples=2001, dt_ms=2.0)
        survey = ensure_survey(args.dir, geometry)
        traces = shots * 480
        report: dict[str, Any] = {"benchmark": "stack_rate", "machine": machine(),
                                  "survey": {"path": str(survey), "traces": traces},
                                  "ray_start_s": round(start_ray(), 3)}
        folder = args.dir / "stack_rate"
        folder.mkdir(parents=True, exist_ok=True)
        jobs = flows(survey, folder)
        manager = open_manager(workers=2, max_running=1)
        seconds: dict[str, list[float]] = {name: [] for name in jobs}
        try:
            for name, flow in jobs.items():  # warm: workers started, indexes cached
                note(f"warm-up {name}: {run_once(flow, manager):.1f} s")
            for _ in range(args.repeats):
                for name, flow in jobs.items():
                    seconds[name].append(run_once(flow, manager))
                    note(f"{name}: {seconds[name][-1]:.1f} s")
        finally:
            manager.close(active="cancel")
            stop_ray()
        rates = {name: traces / statistics.median(values) for name, values in seconds.items()}
        ratio = rates["stack"] / rates["filter"]
        report["seconds"] = seconds
        report["traces_per_s"] = {name: round(rate) for name, rate in rates.items()}
        report["stack_over_filter"] = target(round(ratio, 3), None, TARGET_RATIO,
                                             higher_is_better=True, unit="x")
        emit(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
