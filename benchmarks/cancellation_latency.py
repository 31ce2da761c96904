"""Cancellation latency: from ``JobManager.cancel()`` to CANCELLED, as a subscriber sees it.

Measured on the real engine (SQLite history, 2 Ray CPU workers), in two conditions:

* ``idle``: the cancelled job runs alone;
* ``under_load``: 20 other long jobs run at the same time (``max_running`` 21), so the
  job's in-flight unit may sit behind other jobs' units on the actors.

Each cancel targets a job that is really running: its first unit is done (progress shown)
and a new unit of it has just been dispatched to an actor; the cancel comes 0-30 ms later
(random), so it lands while that unit is queued on, or running in, an actor. Targets
(p99): ours < 200 ms, the seed plan's < 2 s. Prints one JSON document on stdout.

    python benchmarks/cancellation_latency.py [--cancels 20] [--dir /tmp/seisproc-bench]
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from benchmarks import _engine_common as common
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _engine_common as common  # type: ignore[no-redef]

from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.model import JobState

S = JobState


class UnitTracker:
    """Counts, per job, units dispatched (executor hook) and units done (events)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.dispatched: Counter[str] = Counter()
        self.done: Counter[str] = Counter()

    def on_submit(self, job_id: str, _unit: int) -> None:
        with self._changed:
            self.dispatched[job_id] += 1
            self._changed.notify_all()

    def __call__(self, event: JobEvent) -> None:
        if event.kind is JobEventKind.PROGRESS and "unit" in event.detail:
            with self._changed:
                self.done[event.job.id] += 1
                self._changed.notify_all()

    def wait(self, ready: Callable[[], bool], timeout_s: float = 60.0) -> None:
        with self._changed:
            if not self._changed.wait_for(ready, timeout_s):
                raise TimeoutError("the job did not get that far")


def cancel_once(eng: common.Engine, tracker: UnitTracker, survey: Path, serial: int,
                rng: random.Random) -> dict[str, Any]:
    """Submit a long job, cancel it while a unit of it is in flight; return the timings."""
    flow = common.make_flow(survey, eng.out_dir / f"cancel-{serial:03d}.sgy",
                            common.SLOW_STEPS, name=f"cancel-{serial}")
    job_id = eng.manager.submit(flow).id
    tracker.wait(lambda: tracker.done[job_id] >= 1)
    dispatched = tracker.dispatched[job_id]
    tracker.wait(lambda: tracker.dispatched[job_id] > dispatched)
    time.sleep(rng.uniform(0.0, 0.030))
    state_before = eng.watcher.latest[job_id]
    in_flight = eng.executor.in_flight_by_job[job_id]
    t0 = time.perf_counter()
    eng.manager.cancel(job_id)
    t_call = time.perf_counter() - t0
    state, t_end = eng.watcher.wait_for(job_id, [S.CANCELLED, S.COMPLETED, S.FAILED])
    if state is not S.CANCELLED or state_before is not S.RUNNING:
        raise RuntimeError(f"job {job_id}: {state_before.value} then {state.value}, "
                           "expected RUNNING then CANCELLED: make the cancelled jobs longer")
    return {"latency_s": t_end - t0, "call_s": t_call, "in_flight": in_flight}


def measure(eng: common.Engine, tracker: UnitTracker, survey: Path, cancels: int,
            seed: int, label: str) -> dict[str, Any]:
    rng = random.Random(seed)
    runs = []
    for i in range(cancels):
        runs.append(cancel_once(eng, tracker, survey, seed * 1000 + i, rng))
        common.note(f"{label}: cancel {i + 1}/{cancels}: "
                    f"{runs[-1]['latency_s'] * 1000:.1f} ms")
    return {"cancel_to_cancelled": common.stats_ms([r["latency_s"] for r in runs]),
            "cancel_call": common.stats_ms([r["call_s"] for r in runs]),
            "cancels_with_unit_in_flight": sum(r["in_flight"] > 0 for r in runs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cancels", type=int, default=20, help="cancels per condition")
    parser.add_argument("--load-jobs", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=common.DEFAULT_DIR)
    parser.add_argument("--quick", action="store_true", help="5 cancels per condition")
    args = parser.parse_args(argv)
    cancels = 5 if args.quick else args.cancels
    with common.json_stdout():
        survey = common.ensure_survey(args.dir, common.LOAD_GEOMETRY)
        report: dict[str, Any] = {"benchmark": "cancellation_latency", "quick": args.quick,
                                  "machine": common.machine(), "ray_start_s":
                                  round(common.start_ray(), 3)}
        with common.engine(args.dir, max_running=args.load_jobs + 1) as eng:
            tracker = UnitTracker()
            eng.executor.on_submit = tracker.on_submit
            eng.manager.subscribe(tracker)
            report["actors_start_s"] = round(eng.actors_seconds, 3)
            report["idle"] = measure(eng, tracker, survey, cancels, 1, "idle")
            with common.BackgroundLoad(eng, survey, args.load_jobs) as load:
                report["under_load"] = measure(eng, tracker, survey, cancels, 2, "under load")
                report["under_load"]["load"] = load.stop()
        common.stop_ray()
        report["targets"] = {
            f"{phase}_p99": common.target(report[phase]["cancel_to_cancelled"]["p99_ms"],
                                          2000, 200)
            for phase in ("idle", "under_load")}
        common.emit(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
