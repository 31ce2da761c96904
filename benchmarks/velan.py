"""``seisproc velan`` on the issue's survey: 17 locations, 5-CDP super-gathers, 100
velocities, 2 workers (target: < 30 s).

Makes (or reuses) the synthetic survey of 400 shots x 480 channels x 2001 samples at 2 ms
(192,000 traces, IBM: 1.58 GB; shot-sorted, so every super-gather is read through the
CDP index), then measures in one run:

* ``kernel``: :func:`~seisproc.processing.imaging.semblance_panel` on the middle
  location's super-gather (median of ``--repeats``), wall and CPU seconds, and the CPU
  nanoseconds per trace, sample and velocity, which scale it to any other size;
* ``velan``: :func:`seisproc.engine.velocity_analysis` (what the command runs) on Ray with
  2 CPU workers, once with the CDP index cold (built by the first task) and once warm
  (``seconds``, the figure); the same 17 locations each time;
* ``estimate_s``: what the kernel's CPU time predicts for the run on an idle machine
  (locations per worker x kernel CPU per location), beside the measured run, because on
  a loaded machine the wall clock measures the neighbours too.

    python -m benchmarks.velan [--shots 400] [--dir /tmp/bench] [--repeats 3]

``--quick`` (40 shots: 19,200 traces, a fold of 40 instead of 120) is a smoke run; its
figures scale by the kernel's per-sample cost.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._engine_common import (
    emit,
    ensure_survey,
    json_stdout,
    machine,
    note,
    stop_ray,
    target,
)
from seisproc.io import SurveyGeometry, open_segy
from seisproc.io.index import gather_index
from seisproc.jobs.velan import VelanRequest, read_cmp, super_gather_cdps
from seisproc.orchestration import connect
from seisproc.processing.imaging import semblance_panel

TARGET_S = 30.0
LOCATIONS = 17
WORKERS = 2


def locations(survey: Path, count: int) -> list[int]:
    """``count`` CDPs spread over the middle 80 % of the line."""
    with open_segy(survey) as segy:
        keys = gather_index(segy, "cdp", cache=False).keys
    picks = np.linspace(keys.size * 0.1, keys.size * 0.9, count).round().astype(int)
    return [int(keys[i]) for i in picks]


def kernel(survey: Path, request: VelanRequest, cdp: int, repeats: int) -> dict[str, Any]:
    with open_segy(survey) as segy:
        index = gather_index(segy, "cdp", cache=False)
        samples, context = read_cmp(
            segy, index, super_gather_cdps(index.keys, cdp, request.super_cdps)
        )
    velocities = request.velocities_m_s
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        semblance_panel(
            samples,
            np.asarray(context.offsets_m),
            context.sample_interval_ms,
            velocities,
            request.window_ms,
            stretch_mute_percent=request.stretch_mute_percent,
        )
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    elements = samples.size * velocities.size
    return {
        "traces": int(samples.shape[0]),
        "samples": int(samples.shape[1]),
        "velocities": int(velocities.size),
        "wall_s_per_location": round(statistics.median(walls), 3),
        "cpu_s_per_location": round(statistics.median(cpus), 3),
        "cpu_ns_per_trace_sample_velocity": round(statistics.median(cpus) / elements * 1e9, 2),
    }


def velan_run(request: VelanRequest, cdps: list[int]) -> float:
    from seisproc.engine import velocity_analysis

    began = time.perf_counter()
    result = velocity_analysis(request, cdps)
    assert len(result.locations) == len(cdps)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=400)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "seisproc-bench")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="40 shots: a smoke run")
    args = parser.parse_args(argv)
    shots = 40 if args.quick else args.shots
    with json_stdout():
        report: dict[str, Any] = {"machine": machine()}
        survey = ensure_survey(
            args.dir, SurveyGeometry(shots=shots, channels=480, samples=2001, dt_ms=2.0)
        )
        # a fresh home: the first run builds the CDP index, as a user's first run would
        os.environ["SEISPROC_HOME"] = tempfile.mkdtemp(prefix="seisproc-velan-bench-")
        request = VelanRequest(survey, 1400.0, 3380.0, 20.0, 40.0, 5, 50.0)
        report["survey"] = {"path": str(survey), "traces": shots * 480}
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        connect(num_cpus=WORKERS)
        try:
            cdps = locations(survey, LOCATIONS)
            report["kernel"] = kernel(survey, request, cdps[LOCATIONS // 2], args.repeats)
            note(f"kernel: {report['kernel']}")
            cold = velan_run(request, cdps)
            warm = velan_run(request, cdps)
        finally:
            stop_ray()
        per_worker = math.ceil(LOCATIONS / WORKERS)
        estimate = per_worker * report["kernel"]["cpu_s_per_location"]
        report["velan"] = {
            "locations": LOCATIONS,
            "workers": WORKERS,
            "first_s_cdp_index_cold": round(cold, 2),
            "seconds": target(warm, None, TARGET_S, unit="s"),
            "estimate_s": round(estimate, 2),
        }
        note(f"velan: first {cold:.1f} s, then {warm:.1f} s (estimate {estimate:.1f} s)")
        emit(report)


if __name__ == "__main__":
    main()
