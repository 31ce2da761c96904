"""Processing rate of one large flow on the Ray engine against ``multiprocessing.Pool(2)``.

One flow, ``bandpass | spiking_decon | agc`` over a synthetic survey (900 shots x 480
channels x 2001 samples, 3.56 GB, by default: on this project's 2-core machine 400 shots
(1.58 GB) made a Ray job of only ~15 s), run in the same process, in this order:

1. ``pool``: the baseline a Python user would write: ``multiprocessing.Pool(2)`` (fork),
   one :class:`~seisproc.jobs.units.UnitProcessor` per process, ``imap_unordered`` over
   the same 4-gather units the engine uses, output planned and committed the same way;
2. ``ray_end_to_end``: ``seisproc.engine.run_flow`` on a fresh ``open_manager(workers=2)``
   in a process where Ray is not running: Ray start, actor creation, the job;
3. ``ray_steady``: the same flow again on that manager, its 2 actors warm (``--rounds``
   times);
4. ``pool_again``: the baseline again after Ray is shut down (``--rounds`` times), so
   that drift of the machine shows. The best run of each side is compared: load from
   other processes only ever slows a run down.

Each run also reports the CPU seconds it cost (this process and all it started: the pool
processes, or Ray's GCS, raylet and actors), and ``ray_steady_over_pool_per_cpu_s``
compares traces per CPU second: on a machine shared with other work, where wall-time
ratios swing, it estimates what the steady ratio would be if both sides had the 2 cores
to themselves (it counts Ray's own overhead, not its idle gaps).

Both sides use the index cache (built before any timing) and a warm page cache. Outputs
are deleted between runs (each is hashed first: all must be identical). Targets:
``ray_steady`` >= 0.9x the pool, ``ray_end_to_end`` >= 0.8x, with a Ray job >= 30 s.
A full run takes about 4 minutes on 2 cores (each further round about 1.5), plus about
70 s to make the survey the first time (kept in ``--dir`` for reuse). The load average
after each run is reported: this comparison is only as good as the machine is quiet.
Prints one JSON document on stdout.

    python benchmarks/ray_vs_pool.py [--shots 900] [--dir /tmp/seisproc-bench]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

try:
    from benchmarks import _engine_common as common
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _engine_common as common  # type: ignore[no-redef]

from seisproc.io import SurveyGeometry, gather_index, open_segy
from seisproc.io.writer import commit_output, discard_output
from seisproc.jobs.plan import plan_job
from seisproc.jobs.units import UnitProcessor, WorkUnit
from seisproc.processing import Flow

LARGE_STEPS: list[dict[str, Any]] = [
    {"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}},
    {"spiking_decon": {"operator_ms": 160, "prewhitening_percent": 1.0}},
    {"agc": {"window_ms": 500}},
]

_worker: UnitProcessor | None = None


def _init_worker(flow: Flow, partial: Path, layout: Any) -> None:
    global _worker
    _worker = UnitProcessor(flow, partial, layout)


def _run_unit(unit: WorkUnit) -> int:
    assert _worker is not None
    _worker.run(unit)
    return unit.n_traces


def run_pool(flow: Flow, processes: int = 2) -> dict[str, Any]:
    """Plan, process every unit in a Pool, commit."""
    t0 = time.perf_counter()
    plan = plan_job(flow, overwrite=True)
    try:
        with mp.get_context("fork").Pool(processes, initializer=_init_worker,
                                         initargs=(flow, plan.partial_path,
                                                   plan.output_layout)) as pool:
            done = sum(pool.imap_unordered(_run_unit, plan.units, chunksize=1))
            pool.close()
            pool.join()
        assert done == plan.n_traces
        t_commit = time.perf_counter()
        commit_output(plan.partial_path, flow.output)
    finally:
        discard_output(plan.partial_path)
    t_end = time.perf_counter()
    return {"seconds": t_end - t0, "commit_s": round(t_end - t_commit, 2)}


def run_ray(flow: Flow, manager: Any) -> dict[str, Any]:
    """The flow as a job on ``manager``, with the time line of its events."""
    from seisproc.engine import run_flow
    from seisproc.jobs.events import JobEvent, JobEventKind

    t0 = time.perf_counter()
    seen: dict[str, float] = {}

    def on_event(event: JobEvent) -> None:
        now = time.perf_counter() - t0
        if event.kind is JobEventKind.PROGRESS and "unit" in event.detail:
            seen.setdefault("first_unit_done", now)
            seen["last_unit_done"] = now
        elif event.kind is JobEventKind.PROGRESS:
            seen.setdefault("planned", now)
        elif event.job.state.value in ("RUNNING", "COMPLETED"):
            seen.setdefault(event.job.state.value.lower(), now)

    job = run_flow(flow, manager=manager, on_event=on_event)
    seconds = time.perf_counter() - t0
    if job.state.value != "COMPLETED":
        raise RuntimeError(f"the Ray job ended {job.state.value}: {job.message}")
    return {"seconds": seconds, "after_s": {k: round(v, 2) for k, v in seen.items()},
            "commit_s": round(seen["completed"] - seen["last_unit_done"], 2)}


def run_ray_fresh(flow: Flow, workers: int, keep: list[Any]) -> dict[str, Any]:
    """Open the default engine (Ray not running yet) and run the flow; keep the manager."""
    from seisproc.engine import open_manager

    t0 = time.perf_counter()
    keep.append(open_manager(workers=workers))
    result = run_ray(flow, keep[-1])
    # after_s.first_unit_done includes Ray's start and the actors' (compare ray_steady).
    return {**result, "seconds": time.perf_counter() - t0}


def digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            h.update(chunk)
    return h.hexdigest()


def warm_up(survey: Path) -> float:
    """Build the gather index cache and read the file once; the seconds of the index."""
    with open(survey, "rb") as f:
        while f.read(1 << 24):
            pass
    t0 = time.perf_counter()
    with open_segy(survey) as segy:
        gather_index(segy, "ffid")
    return time.perf_counter() - t0


def cpu_seconds() -> float:
    """CPU time of this process and everything it started, live or reaped.

    Ray's processes (GCS, raylet, the actors) are this driver's descendants; a worker
    that exits is counted in its parent's children times, a reaped pool process in this
    process's. Unlike wall time, it hardly moves when other users load the machine.
    """
    own = time.process_time()
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own + reaped.ru_utime + reaped.ru_stime
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            t = child.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


class Runs:
    """Runs one flow in several ways, keeping each one's seconds and output digest."""

    def __init__(self, flow: Flow, n_traces: int, verify: bool) -> None:
        self.flow, self.n_traces, self.verify = flow, n_traces, verify
        self.results: dict[str, dict[str, Any]] = {}

    def run(self, name: str, fn: Any, *args: Any) -> float:
        common.note(f"{name}: running")
        cpu0 = cpu_seconds()
        result = fn(self.flow, *args)
        cpu = cpu_seconds() - cpu0
        seconds = result["seconds"]
        result.update(seconds=round(seconds, 2), traces_per_s=round(self.n_traces / seconds),
                      cpu_s=round(cpu, 1), traces_per_cpu_s=round(self.n_traces / cpu),
                      load_average_1m_after=round(os.getloadavg()[0], 2))
        if self.verify:
            result["output_digest"] = digest(self.flow.output)
        self.flow.output.unlink()
        self.results[name] = result
        common.note(f"{name}: {seconds:.1f} s, {result['traces_per_s']} traces/s")
        return float(seconds)


def measure(runs: Runs, workers: int, rounds: int) -> dict[str, dict[str, Any]]:
    """Pool, Ray end to end, Ray steady x rounds, (Ray stopped) pool x rounds.

    The pool never forks while Ray runs in this process (its gRPC threads do not
    survive a fork), hence repeats grouped by side rather than interleaved.
    """
    runs.run("pool", run_pool, workers)
    managers: list[Any] = []
    try:
        runs.run("ray_end_to_end", run_ray_fresh, workers, managers)
        for i in range(rounds):
            runs.run("ray_steady" + (f"_{i + 1}" if i else ""), run_ray, managers[0])
    finally:
        for manager in managers:
            manager.close(active="cancel")
        common.stop_ray()
    for i in range(rounds):
        runs.run("pool_again" + (f"_{i + 1}" if i else ""), run_pool, workers)
    return runs.results


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Best run of each side: the machine's other load only ever slows a run down."""
    def best(prefix: str) -> tuple[str, float]:
        name = max((n for n in results if n.startswith(prefix)),
                   key=lambda n: results[n]["traces_per_s"])
        return name, results[name]["traces_per_s"]

    pool_name, base = best("pool")
    steady_name, steady = best("ray_steady")
    e2e = results["ray_end_to_end"]["traces_per_s"]
    per_cpu = {side: max(r["traces_per_cpu_s"] for n, r in results.items() if n.startswith(side))
               for side in ("pool", "ray_steady")}
    return {"baseline": pool_name, "baseline_traces_per_s": base, "steady": steady_name,
            "ray_steady_over_pool_per_cpu_s": round(per_cpu["ray_steady"] / per_cpu["pool"], 3),
            "ray_steady_over_pool": common.target(steady / base, None, 0.9,
                                                  higher_is_better=True, unit="x"),
            "ray_end_to_end_over_pool": common.target(e2e / base, None, 0.8,
                                                      higher_is_better=True, unit="x"),
            "ray_job_at_least_30_s": results[steady_name]["seconds"] >= 30.0}


def run_all(args: argparse.Namespace, survey: Path, home: Path) -> dict[str, Any]:
    """Everything in a fresh SEISPROC_HOME (history, checkpoints, index cache, output)."""
    os.environ["SEISPROC_HOME"] = str(home)
    flow = common.make_flow(survey, home / "large.sgy", LARGE_STEPS, "large-flow")
    with open_segy(survey) as segy:
        n_traces = segy.layout.n_traces
    report: dict[str, Any] = {
        "benchmark": "ray_vs_pool", "quick": args.quick, "machine": common.machine(),
        "survey": {"path": str(survey), "traces": n_traces,
                   "bytes": survey.stat().st_size, "format": args.format},
        "flow": LARGE_STEPS, "workers": args.workers,
        "index_seconds": round(warm_up(survey), 3)}
    results = measure(Runs(flow, n_traces, not args.no_verify), args.workers, args.rounds)
    report["runs"] = results
    if not args.no_verify:
        report["outputs_identical"] = len({r["output_digest"]
                                           for r in results.values()}) == 1
    report["ratios"] = ratios(results)
    return report



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=900,
                        help="900 shots = 432,000 traces, 3.56 GB; 400 = 1.58 GB")
    parser.add_argument("--format", default="ibm", choices=["ibm", "ieee"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1,
                        help="steady Ray runs and repeated pool runs (best of each is used)")
    parser.add_argument("--no-verify", action="store_true", help="skip output digests")
    parser.add_argument("--dir", type=Path, default=common.DEFAULT_DIR)
    parser.add_argument("--quick", action="store_true", help="24 shots (95 MB)")
    args = parser.parse_args(argv)
    shots = 24 if args.quick else args.shots
    with common.json_stdout():
        survey = common.ensure_survey(args.dir, SurveyGeometry(shots, 480, 2001, 2.0),
                                      args.format)
        home = Path(tempfile.mkdtemp(prefix="home-", dir=args.dir))
        try:
            report = run_all(args, survey, home)
        finally:
            shutil.rmtree(home, ignore_errors=True)
        common.emit(report)
    return 0

if __name__ == "__main__":
    sys.exit(main())
