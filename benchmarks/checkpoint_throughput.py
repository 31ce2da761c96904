"""Checkpoint save time: ``CheckpointStore.append`` and ``JobHistoryStorage.save_job``.

These are the two durable writes the engine makes for a completed unit: the unit's
record appended to the job's checkpoint file (``fsync``'d before the unit is announced),
and, at most twice a second per job, the job's progress saved in the history. Measured:

* ``checkpoint_append``: 2000 appends to one job's checkpoint, each durable on return;
* ``history_save``: 1000 saves of a realistic RUNNING job (3-step flow, progress, node,
  tags) as progress updates of one row, in the engine's own SQLite history;

both ``idle`` (engine started, nothing running) and ``under_load`` (20 jobs running on
the engine, which append and save for their own units meanwhile). Targets (p99): ours
< 10 ms, the seed plan's < 100 ms (the seed names only the checkpoint; the history save
is held to the same). Prints one JSON document on stdout.

    python benchmarks/checkpoint_throughput.py [--appends 2000] [--saves 1000]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

try:
    from benchmarks import _engine_common as common
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _engine_common as common  # type: ignore[no-redef]

from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.model import Job, JobProgress, JobState, new_job_id, utcnow
from seisproc.jobs.owner import this_owner
from seisproc.jobs.transitions import transition


def time_appends(folder: Path, n: int) -> dict[str, Any]:
    store = CheckpointStore(folder)
    job_id = new_job_id()
    seconds = []
    for unit in range(n):
        t0 = time.perf_counter()
        store.append(job_id, unit)
        seconds.append(time.perf_counter() - t0)
    assert store.load(job_id) == set(range(n))
    store.remove(job_id)
    return common.stats_ms(seconds)


def realistic_job(survey: Path, out_dir: Path) -> Job:
    """A RUNNING job as the engine saves it mid-run."""
    flow = common.make_flow(survey, out_dir / "history-bench.sgy", common.SLOW_STEPS,
                            name="history-bench")
    job = Job(id=new_job_id(), name=flow.name, flow=flow.to_mapping(), input=str(flow.input),
              output=str(flow.output), owner=this_owner(), tags=("bench", "history"))
    return transition(job, JobState.RUNNING, message="running",
                      nodes=("5f2c1d0e9b8a7f6e5d4c3b2a1908f7e6d5c4b3a2f1e0d9c8b7a6f5e4",))


def time_saves(store: Any, job: Job, n: int) -> dict[str, Any]:
    total = 150
    store.save_job(job)  # the insert; what follows are progress updates of the row
    seconds = []
    for i in range(n):
        done = i % total
        job = dataclasses.replace(job, updated_at=utcnow(), progress=JobProgress(
            units_done=done, units_total=total, traces_done=done * 192,
            traces_total=total * 192, traces_per_s=1234.5, eta_s=(total - done) * 0.15))
        t0 = time.perf_counter()
        store.save_job(job)
        seconds.append(time.perf_counter() - t0)
    return common.stats_ms(seconds)


def measure(eng: common.Engine, survey: Path, appends: int, saves: int, label: str,
            ) -> dict[str, Any]:
    result = {"checkpoint_append": time_appends(eng.home / f"bench-checkpoints-{label}",
                                                appends),
              "history_save": time_saves(eng.manager.store,
                                         realistic_job(survey, eng.out_dir), saves)}
    common.note(f"{label}: append p99 {result['checkpoint_append']['p99_ms']} ms, "
                f"save p99 {result['history_save']['p99_ms']} ms")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--saves", type=int, default=1000)
    parser.add_argument("--load-jobs", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=common.DEFAULT_DIR)
    parser.add_argument("--quick", action="store_true", help="200 appends, 100 saves")
    args = parser.parse_args(argv)
    appends, saves = (200, 100) if args.quick else (args.appends, args.saves)
    with common.json_stdout():
        survey = common.ensure_survey(args.dir, common.LOAD_GEOMETRY)
        report: dict[str, Any] = {"benchmark": "checkpoint_throughput", "quick": args.quick,
                                  "machine": common.machine(),
                                  "ray_start_s": round(common.start_ray(), 3)}
        with common.engine(args.dir, max_running=args.load_jobs) as eng:
            report["actors_start_s"] = round(eng.actors_seconds, 3)
            report["idle"] = measure(eng, survey, appends, saves, "idle")
            with common.BackgroundLoad(eng, survey, args.load_jobs) as load:
                report["under_load"] = measure(eng, survey, appends, saves, "under load")
                report["under_load"]["load"] = load.stop()
        common.stop_ray()
        report["targets"] = {
            f"{phase}_{what}_p99": common.target(report[phase][what]["p99_ms"], 100, 10)
            for phase in ("idle", "under_load")
            for what in ("checkpoint_append", "history_save")}
        common.emit(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
