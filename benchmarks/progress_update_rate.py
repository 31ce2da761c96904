"""Progress updates: how fast they reach a subscriber, how many per second, at what cost.

For every unit the engine folds in, it appends the checkpoint, maybe saves the job, and
emits a PROGRESS event whose ``detail["unit"]`` names the unit. A subscriber here takes
``time.time()`` on receipt; a proxy around the Ray executor (passed to the JobManager as
its executor) sees each unit's :class:`~seisproc.jobs.units.UnitResult` and keeps its
``finished_at``, the worker's wall-clock time when the unit's last trace was written. So:

* ``delivery``: receipt minus ``finished_at``: the whole path from the worker through
  Ray, the driver's scheduler thread, the checkpoint and history writes, to the
  subscriber (worker and driver share one clock on one machine);
* ``driver``: receipt minus the moment the executor handed the completion to the engine:
  the engine's own part of it;
* ``ray_return``: the rest (``finished_at`` to the executor's hand-over): Ray's return
  path and ``ray.wait``;
* the driver's part in two laps, at the moment the event was made (``JobEvent.at``,
  right after the unit's checkpoint was durable): ``driver_fold`` (hand-over to event:
  deciding the batch and the checkpoint writes and fsyncs before it) and
  ``driver_delivery`` (event to receipt: its wait for the thread that announces it, and
  the subscribers before this one);
* ``engine_checkpoint_append``, ``engine_history_save``: the engine's own durable writes
  during the window (the store and checkpoint store are subclasses with a stopwatch);
* ``updates_per_s`` delivered, and the driver's CPU per update: the whole process
  (``time.process_time``, Ray's driver threads included) and the scheduler thread alone.

Two conditions over a fixed window: ``single`` (one job running; when it finishes the
next one starts) and ``under_load`` (20 jobs). Targets (delivery p99): ours and the seed
plan's < 10 ms. Prints one JSON document on stdout.

    python benchmarks/progress_update_rate.py [--seconds 30] [--dir /tmp/seisproc-bench]
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

from seisproc.jobs.events import JobEvent, JobEventKind


class ProgressClock:
    """The measuring subscriber; records only while :attr:`recording` is set."""

    def __init__(self, executor: common.TimingExecutor) -> None:
        self.executor = executor
        self.recording = threading.Event()
        self.delivery: list[float] = []
        self.driver: list[float] = []
        self.ray_return: list[float] = []
        self.fold: list[float] = []
        self.announce: list[float] = []
        self.unmatched = 0

    def __call__(self, event: JobEvent) -> None:
        now = time.time()
        if event.kind is not JobEventKind.PROGRESS or "unit" not in event.detail:
            return
        if not self.recording.is_set():
            return
        stamps = self.executor.units.get((event.job.id, event.detail["unit"]))
        if stamps is None:
            self.unmatched += 1
            return
        finished_at, returned_at = stamps
        self.delivery.append(now - finished_at)
        self.driver.append(now - returned_at)
        self.ray_return.append(returned_at - finished_at)
        made_at = event.at.timestamp()
        self.fold.append(made_at - returned_at)
        self.announce.append(now - made_at)


def record(eng: common.Engine, clock: ProgressClock, seconds: float) -> dict[str, Any]:
    """Record a window of ``seconds``; the figures of that window."""
    clock.delivery, clock.driver, clock.ray_return, clock.unmatched = [], [], [], 0
    clock.fold, clock.announce = [], []
    cpu0, sched0 = time.process_time(), eng.executor.scheduler_cpu_s
    t0 = time.perf_counter()
    clock.recording.set()
    time.sleep(seconds)
    clock.recording.clear()
    wall = time.perf_counter() - t0
    cpu, sched = time.process_time() - cpu0, eng.executor.scheduler_cpu_s - sched0
    n = len(clock.delivery)
    return {
        "window_s": round(wall, 2), "updates": n,
        "updates_per_s": round(n / wall, 1),
        "delivery": common.stats_ms(clock.delivery),
        "driver": common.stats_ms(clock.driver),
        "ray_return": common.stats_ms(clock.ray_return),
        "driver_fold": common.stats_ms(clock.fold),
        "driver_delivery": common.stats_ms(clock.announce),
        "engine_checkpoint_append": common.stats_ms(eng.appends.since(t0)),
        "engine_history_save": common.stats_ms(eng.saves.since(t0)),
        "driver_cpu_ms_per_update": round(cpu / n * 1000, 3) if n else None,
        "scheduler_thread_cpu_ms_per_update": round(sched / n * 1000, 3) if n else None,
        "driver_cpu_fraction_of_one_core": round(cpu / wall, 3),
        "unmatched": clock.unmatched,
    }


def measure(eng: common.Engine, clock: ProgressClock, survey: Path, jobs: int,
            seconds: float) -> dict[str, Any]:
    """``jobs`` running all along (one that finishes is replaced) for the window."""
    with common.BackgroundLoad(eng, survey, jobs) as load:
        result = record(eng, clock, seconds)
        result["load"] = load.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="window per condition")
    parser.add_argument("--load-jobs", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=common.DEFAULT_DIR)
    parser.add_argument("--quick", action="store_true", help="5 s windows")
    args = parser.parse_args(argv)
    seconds = 5.0 if args.quick else args.seconds
    with common.json_stdout():
        survey = common.ensure_survey(args.dir, common.LOAD_GEOMETRY)
        report: dict[str, Any] = {"benchmark": "progress_update_rate", "quick": args.quick,
                                  "machine": common.machine(),
                                  "ray_start_s": round(common.start_ray(), 3)}
        with common.engine(args.dir, max_running=args.load_jobs) as eng:
            report["actors_start_s"] = round(eng.actors_seconds, 3)
            clock = ProgressClock(eng.executor)
            eng.manager.subscribe(clock)
            for phase, jobs in (("single", 1), ("under_load", args.load_jobs)):
                report[phase] = measure(eng, clock, survey, jobs, seconds)
                common.note(f"{phase}: {report[phase]['updates_per_s']} updates/s, delivery "
                            f"p99 {report[phase]['delivery'].get('p99_ms')} ms")
        common.stop_ray()
        report["targets"] = {f"{phase}_delivery_p99": common.target(
            report[phase]["delivery"]["p99_ms"], 10, 10) for phase in ("single", "under_load")}
        common.emit(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
