"""Job throughput: 100 small jobs submitted at once, how many finish per second.

Each job processes its own copy of the flow ``bandpass | agc`` on a small survey (4 shots
x 24 channels x 251 samples: one 4-gather unit) into its own output, so the figure is
the engine's per-job overhead: persisting every transition, planning (index from the
cache, output pre-created), one unit on a Ray actor, the checkpoint, committing the
output. ``max_running`` 20. Reported: jobs/s from the first submit to the last
COMPLETED, each job's submit-to-COMPLETED time, and apart from these, the start-up paid
once per process (Ray, then the 2 worker actors). Prints one JSON document on stdout.

    python benchmarks/job_throughput.py [--jobs 100] [--dir /tmp/seisproc-bench]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

try:
    from benchmarks import _engine_common as common
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _engine_common as common  # type: ignore[no-redef]

from seisproc.jobs.model import JobState

S = JobState


def run_batch(eng: common.Engine, survey: Path, n: int) -> dict[str, Any]:
    flows = [common.make_flow(survey, eng.out_dir / f"small-{i:04d}.sgy", common.LIGHT_STEPS,
                              name=f"small-{i}") for i in range(n)]
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    submitted = []
    for flow in flows:
        submitted.append((eng.manager.submit(flow).id, time.perf_counter()))
    t_submitted = time.perf_counter() - t0
    ends = [eng.watcher.wait_for(job_id, [S.COMPLETED, S.FAILED, S.CANCELLED],
                                 timeout_s=600) for job_id, _ in submitted]
    wall = max(t for _, t in ends) - t0
    cpu = time.process_time() - cpu0
    completed = sum(state is S.COMPLETED for state, _ in ends)
    if completed != n:
        raise RuntimeError(f"only {completed} of {n} jobs completed")
    return {"jobs": n, "seconds": round(wall, 3), "jobs_per_s": round(n / wall, 2),
            "submitting_all_s": round(t_submitted, 3),
            "submit_to_completed": common.stats_ms(
                [end - sub for (_, sub), (_, end) in zip(submitted, ends, strict=True)]),
            "driver_cpu_s_per_job": round(cpu / n, 4),
            "units_dispatched": eng.executor.dispatched}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--max-running", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=common.DEFAULT_DIR)
    parser.add_argument("--quick", action="store_true", help="20 jobs")
    args = parser.parse_args(argv)
    n = 20 if args.quick else args.jobs
    with common.json_stdout():
        survey = common.ensure_survey(args.dir, common.TINY_GEOMETRY)
        report: dict[str, Any] = {"benchmark": "job_throughput", "quick": args.quick,
                                  "machine": common.machine(), "max_running": args.max_running}
        report["ray_start_s"] = round(common.start_ray(), 3)
        with common.engine(args.dir, max_running=args.max_running) as eng:
            report["actors_start_s"] = round(eng.actors_seconds, 3)
            report["batch"] = run_batch(eng, survey, n)
        startup = report["ray_start_s"] + report["actors_start_s"]
        report["jobs_per_s_including_startup"] = round(
            n / (startup + report["batch"]["seconds"]), 2)
        common.stop_ray()
        common.note(f"{n} jobs in {report['batch']['seconds']} s: "
                    f"{report['batch']['jobs_per_s']} jobs/s")
        common.emit(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
