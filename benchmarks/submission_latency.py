"""Submission latency: how long ``JobManager.submit()`` blocks its caller.

Only the ``submit`` call is timed: it checks the output path and its claim (writing
nothing), and hands the job (QUEUED) to the history thread, which saves it in the SQLite
history, and its output's claim file to the claim thread; planning and running happen
later on the engine's threads. Where Linux reports it (``/proc/.../schedstat``), each
call's time spent waiting for a free core is also taken out (``submit_on_cpu``): on a
shared 2-core machine that wait, not the engine, decides the p99. Two conditions, each
with 200 small jobs submitted back to back (4 shots x 24 channels x 251 samples, one
output each):

* ``idle``: nothing else runs; the small jobs start and run while the later ones are
  being submitted (``max_running`` 20), as when a script submits a batch;
* ``under_load``: 20 long jobs are running (``max_running`` 20), so the submitted jobs
  queue; they are cancelled afterwards.

Targets (p99): ours < 5 ms, the seed plan's < 50 ms. Prints one JSON document on stdout.

    python benchmarks/submission_latency.py [--jobs 200] [--dir /tmp/seisproc-bench]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

try:
    from benchmarks import _engine_common as common
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _engine_common as common  # type: ignore[no-redef]

from seisproc.jobs.model import JobState

S = JobState
DONE = [S.COMPLETED, S.FAILED, S.CANCELLED]


def submit_many(eng: common.Engine, survey: Path, n: int, label: str,
                ) -> tuple[list[str], list[float], list[float]]:
    """Submit ``n`` small jobs back to back; the job ids, the seconds of each call, and
    the seconds of each call less its wait for a free core (empty where not reported)."""
    ids, seconds, on_cpu = [], [], []
    for i in range(n):
        flow = common.make_flow(survey, eng.out_dir / f"{label}-{i:04d}.sgy",
                                common.LIGHT_STEPS, name=f"{label}-{i}")
        queued_before = _run_queue_wait_s()
        t0 = time.perf_counter()
        job = eng.manager.submit(flow)
        spent = time.perf_counter() - t0
        queued_after = _run_queue_wait_s()
        seconds.append(spent)
        if queued_before is not None and queued_after is not None:
            on_cpu.append(max(0.0, spent - (queued_after - queued_before)))
        ids.append(job.id)
    return ids, seconds, on_cpu


def _run_queue_wait_s() -> float | None:
    """Seconds this thread has waited runnable for a core (Linux schedstat), or None."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def submit_stats(seconds: list[float], on_cpu: list[float]) -> dict[str, Any]:
    stats = {"submit": common.stats_ms(seconds)}
    if on_cpu:
        stats["submit_on_cpu"] = common.stats_ms(on_cpu)
    return stats


def measure_idle(eng: common.Engine, survey: Path, n: int) -> dict[str, Any]:
    ids, seconds, on_cpu = submit_many(eng, survey, n, "idle")
    t0 = time.perf_counter()
    states = [eng.watcher.wait_for(job_id, DONE, timeout_s=300)[0] for job_id in ids]
    common.note(f"idle: {n} submitted, all finished {time.perf_counter() - t0:.1f} s later")
    return {**submit_stats(seconds, on_cpu),
            "completed": sum(s is S.COMPLETED for s in states)}


def measure_under_load(eng: common.Engine, survey: Path, n: int, load_jobs: int,
                       ) -> dict[str, Any]:
    with common.BackgroundLoad(eng, common.ensure_survey(
            survey.parent, common.LOAD_GEOMETRY), load_jobs) as load:
        ids, seconds, on_cpu = submit_many(eng, survey, n, "loaded")
        queued = eng.watcher.count(ids, S.QUEUED)
        for job_id in ids:
            eng.manager.cancel(job_id)
        for job_id in ids:
            eng.watcher.wait_for(job_id, DONE, timeout_s=120)
        summary = load.stop()
    common.note(f"under load: {n} submitted, {queued} were still queued")
    return {**submit_stats(seconds, on_cpu), "still_queued_after_submits": queued,
            "load": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200, help="submits per condition")
    parser.add_argument("--load-jobs", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=common.DEFAULT_DIR)
    parser.add_argument("--quick", action="store_true", help="50 submits per condition")
    args = parser.parse_args(argv)
    n = 50 if args.quick else args.jobs
    with common.json_stdout():
        survey = common.ensure_survey(args.dir, common.TINY_GEOMETRY)
        report: dict[str, Any] = {"benchmark": "submission_latency", "quick": args.quick,
                                  "machine": common.machine(),
                                  "ray_start_s": round(common.start_ray(), 3)}
        with common.engine(args.dir, max_running=args.load_jobs) as eng:
            report["actors_start_s"] = round(eng.actors_seconds, 3)
            report["idle"] = measure_idle(eng, survey, n)
            report["under_load"] = measure_under_load(eng, survey, n, args.load_jobs)
        common.stop_ray()
        report["targets"] = {f"{phase}_p99": common.target(
            report[phase]["submit"]["p99_ms"], 50, 5) for phase in ("idle", "under_load")}
        common.emit(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
