"""The benchmark suite: every benchmark script, each in a process of its own, in one table.

Each script runs as ``python -m benchmarks.<name>`` (so Ray, the job history and the page
cache a script leaves behind never reach the next one), prints its JSON report on stdout,
and its notes go to a log file. The suite picks the figures of :data:`BENCHMARKS` out of
the reports, puts each beside the seed plan's target and ours, prints the table, and
writes every report and figure as JSON (and the table as Markdown with ``--markdown``).

Targets come from :data:`BENCHMARKS` alone; ``source`` says where each was set:

* ``seed``: the seed plan's "Benchmark Targets" (phase 4: cancellation < 2 s,
  checkpoint save < 100 ms, progress update < 10 ms, job submission < 50 ms);
* ``engine``: this project's stricter targets, stated in each script's docstring and
  the README (cancellation 200 ms, checkpoint 10 ms, submission 5 ms, Ray >= 0.9x a
  ``multiprocessing.Pool``, the flow >= half the I/O ceiling, the history's p99s, the
  monitor < 1 % of a core, ``seisproc run`` >= 1.2x a hand-written script with a warm
  service and >= 0.9x cold, a 2-gather flow in < 1 s warm and < 8 s cold, the steady
  job rate >= 0.8x the kernel alone);
* ``suite``: set with this suite where neither had one (job throughput, GPU over CPU,
  the per-unit ``fdatasync`` costing at most 10 % of a worker's throughput).

Modes: ``--quick`` (the default) runs every script with ``--quick``, a smoke run of about
2 minutes on 2 cores; ``--full`` runs them as the README's figures are measured: about 12
minutes on 2 cores, 5 of them ``ray_vs_pool`` (``--skip ray_vs_pool`` leaves it out), plus
a few minutes to make the surveys (1.6 and 3.6 GB, kept in ``--dir``) the first time.
``--render`` prints the table of saved results again, merging runs of several files.

    python -m benchmarks [--full] [--only NAME ...] [--skip NAME ...] [--json PATH]
                         [--markdown PATH] [--dir DIR] [--check]
    python -m benchmarks --render RESULTS.json [MORE.json ...] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.table import Row, format_markdown, format_table, machine

__all__ = ["BENCHMARKS", "Benchmark", "BenchmarkRun", "Figure", "document", "load_runs", "main",
           "rows_for", "run_benchmark", "run_suite"]

REPO = Path(__file__).resolve().parent.parent
DEFAULT_JSON = REPO / "benchmarks" / "results" / "latest.json"
DEFAULT_DIR = Path(tempfile.gettempdir()) / "seisproc-bench"
SEED = "seed"
ENGINE = "engine"
SUITE = "suite"


@dataclass(frozen=True)
class Figure:
    """One figure of a script's report, with its targets."""

    label: str
    path: tuple[str, ...]
    """Keys leading to the figure in the script's JSON report."""
    unit: str
    seed: float | None = None
    """The seed plan's target, if it set one."""
    ours: float | None = None
    higher_is_better: bool = False
    source: str = ""
    """Where the targets were set: :data:`SEED`, :data:`ENGINE`, :data:`SUITE`, or both."""


@dataclass(frozen=True)
class Benchmark:
    """A script of ``benchmarks/`` and the figures the suite takes from its report."""

    name: str
    title: str
    figures: tuple[Figure, ...]
    quick: tuple[str, ...] = ("--quick",)
    full: tuple[str, ...] = ()
    size: tuple[str, tuple[str, ...]] | None = None
    """How big the run was, for the title: a format and the path of its one value."""
    takes_dir: bool = True
    """Whether the script takes ``--dir`` (where it keeps its surveys)."""
    needs_gpu: bool = False


def _p99(*path: str) -> tuple[str, ...]:
    return (*path, "p99_ms")


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("job_throughput", "job throughput", (
        Figure("small jobs completed per second", ("batch", "jobs_per_s"), "jobs/s",
               ours=20, higher_is_better=True, source=SUITE),
    ), full=("--jobs", "100"), size=("{} jobs", ("batch", "jobs"))),
    Benchmark("cancellation_latency", "cancellation latency", (
        Figure("cancel to CANCELLED p99, idle", _p99("idle", "cancel_to_cancelled"), "ms",
               seed=2000, ours=200, source=f"{SEED}, {ENGINE}"),
        Figure("p50 under 20 running jobs", ("under_load", "cancel_to_cancelled", "p50_ms"),
               "ms"),
        Figure("p99 under 20 running jobs", _p99("under_load", "cancel_to_cancelled"), "ms",
               seed=2000, ours=200, source=f"{SEED}, {ENGINE}"),
    ), size=("{} cancels each", ("idle", "cancel_to_cancelled", "n"))),
    Benchmark("checkpoint_throughput", "checkpoint save", (
        Figure("checkpoint append p99, idle", _p99("idle", "checkpoint_append"), "ms",
               seed=100, ours=10, source=f"{SEED}, {ENGINE}"),
        Figure("checkpoint append p99, 20 jobs running",
               _p99("under_load", "checkpoint_append"), "ms", seed=100, ours=10,
               source=f"{SEED}, {ENGINE}"),
        Figure("history save p99, 20 jobs running", _p99("under_load", "history_save"), "ms",
               seed=100, ours=10, source=f"{SEED}, {ENGINE}"),
    )),
    Benchmark("progress_update_rate", "progress updates", (
        Figure("worker to subscriber p99, one job", _p99("single", "delivery"), "ms",
               seed=10, ours=10, source=f"{SEED}, {ENGINE}"),
        Figure("worker to subscriber p99, 20 jobs", _p99("under_load", "delivery"), "ms",
               seed=10, ours=10, source=f"{SEED}, {ENGINE}"),
        Figure("engine's own part p99, 20 jobs", _p99("under_load", "driver"), "ms"),
        Figure("updates delivered, 20 jobs", ("under_load", "updates_per_s"), "/s",
               higher_is_better=True),
    )),
    Benchmark("submission_latency", "job submission", (
        Figure("submit() p99, idle", _p99("idle", "submit"), "ms", seed=50, ours=5,
               source=f"{SEED}, {ENGINE}"),
        Figure("submit() p99, 20 jobs running", _p99("under_load", "submit"), "ms", seed=50,
               ours=5, source=f"{SEED}, {ENGINE}"),
        Figure("submit() p99 on a core (its wait for one left out), 20 jobs running",
               _p99("under_load", "submit_on_cpu"), "ms"),
    ), size=("{} submits each", ("idle", "submit", "n"))),
    Benchmark("end_to_end", "seisproc run vs a hand-written script", (
        Figure("seisproc run / script, IBM, warm service",
               ("ibm", "warm_over_script", "value"), "x", ours=1.2, higher_is_better=True,
               source=ENGINE),
        Figure("seisproc run / script, IBM, cold service",
               ("ibm", "cold_over_script", "value"), "x", ours=0.9, higher_is_better=True,
               source=ENGINE),
        Figure("seisproc run / script, IEEE, warm service",
               ("ieee", "warm_over_script", "value"), "x", higher_is_better=True),
        Figure("2-gather flow, warm service, median", ("two_gathers", "warm_median_s", "value"),
               "s", ours=1.0, source=ENGINE),
        Figure("2-gather flow, cold service", ("two_gathers", "cold_s", "value"), "s",
               ours=8.0, source=ENGINE),
        Figure("steady job rate / kernel in memory", ("steady", "job_over_kernel", "value"),
               "x", ours=0.8, higher_is_better=True, source=ENGINE),
        Figure("steady job rate", ("steady", "job_traces_per_s"), "traces/s",
               higher_is_better=True),
        Figure("kernel in memory", ("steady", "kernel_traces_per_s"), "traces/s",
               higher_is_better=True),
        Figure("the job's reads + durable writes alone", ("steady", "io_alone_traces_per_s"),
               "traces/s", higher_is_better=True),
        Figure("CPU per trace: kernel", ("steady", "kernel_cpu_us_per_trace"), "us"),
        Figure("CPU per trace: reads + durable writes", ("steady", "io_cpu_us_per_trace"), "us"),
        Figure("steady job rate / what the cores allow for kernel + I/O",
               ("steady", "job_over_cpu_bound"), "x", higher_is_better=True),
        *(Figure(f"worker time: {stage}", ("profile", "worker_stage_shares", stage), "share")
          for stage in ("read", "decode", "bandpass", "agc", "qc", "encode", "write", "sync")),
        Figure("driver CPU / job wall time", ("profile", "driver_cpu_share_of_wall"), "share"),
    ), size=("{:,} traces", ("survey", "traces"))),
    Benchmark("processing_throughput", "processing vs I/O ceiling", (
        Figure("bandpass+AGC / read+write, 1 process",
               ("processes_1", "flow_over_ceiling"), "x", ours=0.5, higher_is_better=True,
               source=ENGINE),
        Figure("bandpass+AGC / read+write, 2 processes",
               ("processes_2", "flow_over_ceiling"), "x", ours=0.5, higher_is_better=True,
               source=ENGINE),
        Figure("bandpass+AGC, 2 processes", ("processes_2", "bandpass_agc", "traces_per_s"),
               "traces/s", higher_is_better=True),
    ), size=("{:,} traces", ("survey", "traces"))),
    Benchmark("unit_sync_cost", "durable units", (
        Figure("bandpass+AGC with syncs / without, to the output's flush",
               ("bandpass_agc", "end_to_end", "synced_over_unsynced"), "x", ours=0.9,
               higher_is_better=True, source=SUITE),
        Figure("bandpass+AGC with syncs / without, to the last unit",
               ("bandpass_agc", "units", "synced_over_unsynced"), "x",
               higher_is_better=True),
        Figure("fdatasync of one unit (15.8 MB) p99", ("bandpass_agc", "sync", "p99_ms"), "ms"),
    ), size=("{:,} traces", ("survey", "traces"))),
    Benchmark("ray_vs_pool", "Ray vs multiprocessing.Pool", (
        Figure("Ray steady / Pool", ("ratios", "ray_steady_over_pool", "value"), "x",
               ours=0.9, higher_is_better=True, source=ENGINE),
        Figure("Ray end to end / Pool", ("ratios", "ray_end_to_end_over_pool", "value"), "x",
               ours=0.8, higher_is_better=True, source=ENGINE),
        Figure("Ray steady / Pool, per CPU second",
               ("ratios", "ray_steady_over_pool_per_cpu_s"), "x", higher_is_better=True),
    ), size=("{:,} traces", ("survey", "traces"))),
    Benchmark("survey_scale", "surveys of any size", (
        Figure("driver CPU per unit, 1,000,000-unit job", ("scheduler", "driver_cpu_per_unit",
               "value"), "ms", ours=1.0, source=SUITE),
        Figure("peak driver RSS, 1,000,000-unit job", ("scheduler", "peak_rss", "value"), "MB",
               ours=1024, source=SUITE),
        Figure("checkpoint file, 1,000,000 units", ("scheduler", "checkpoint_file", "value"),
               "MB", ours=10, source=SUITE),
        Figure("index build, 2 workers / 1 process, cold", ("index", "speedup", "value"), "x",
               ours=1.7, higher_is_better=True, source=SUITE),
        Figure("index build, 2 workers / 1 process, read again at once",
               ("index", "speedup_warm"), "x", higher_is_better=True),
        Figure("index memory per trace", ("index", "bytes_per_trace", "value"), "B",
               ours=5.0001, source=SUITE),
        Figure("opening the cached index", ("index", "cache_open", "value"), "ms", ours=200,
               source=SUITE),
    ), full=("--traces", "1000000"), size=("{:,} traces indexed", ("index", "traces"))),
    Benchmark("velan", "seisproc velan: 17 locations, 5-CDP super-gathers, 100 velocities", (
        Figure("velan, 17 locations, 2 workers, CDP index cached", ("velan", "seconds",
               "value"), "s", ours=30, source=SUITE),
        Figure("velan, first run (builds the CDP index)", ("velan", "first_s_cdp_index_cold"),
               "s"),
        Figure("semblance of one location, CPU", ("kernel", "cpu_s_per_location"), "s"),
        Figure("semblance CPU per trace x sample x velocity",
               ("kernel", "cpu_ns_per_trace_sample_velocity"), "ns"),
    ), size=("{:,} traces", ("survey", "traces"))),
    Benchmark("stack_rate", "a stacking job against a filtering job, 2 workers", (
        Figure("NMO + stack through the CDP index / bandpass + AGC, traces per s",
               ("stack_over_filter", "value"), "x", ours=0.5, higher_is_better=True,
               source=SUITE),
        Figure("stack, traces per s", ("traces_per_s", "stack"), "traces/s",
               higher_is_better=True),
        Figure("bandpass + AGC, traces per s", ("traces_per_s", "filter"), "traces/s",
               higher_is_better=True),
    ), size=("{:,} traces", ("survey", "traces"))),
    Benchmark("output_diff", "seisproc diff of two outputs", (
        Figure("diff / reading both files' traces", ("diff_over_read", "value"), "x",
               ours=1.5, source=SUITE),
        Figure("the same, fastest of each", ("diff_over_read_best",), "x"),
        Figure("diff / reading both files' bytes", ("diff_over_read_bytes",), "x"),
        Figure("diff of two outputs, median", ("diff", "median_s"), "s"),
    ), size=("{:,} bytes per file", ("files", "bytes_each"))),
    Benchmark("history_scale", "job history at scale", (
        Figure("get_recent(50) p99", _p99("figures", "get_recent_50"), "ms", ours=20,
               source=ENGINE),
        Figure("filtered query p99", _p99("figures", "query_filtered"), "ms", ours=50,
               source=ENGINE),
        Figure("statistics over a year p99", _p99("figures", "statistics_365d"), "ms",
               ours=1000, source=ENGINE),
        Figure("statistics over a year, CPU p99", ("figures", "statistics_365d", "cpu_p99_ms"),
               "ms"),
        Figure("save_job p99", _p99("figures", "save_transition"), "ms", ours=2,
               source=ENGINE),
        Figure("save_job, CPU p99", ("figures", "save_transition", "cpu_p99_ms"), "ms"),
        Figure("change feed poll p99, idle", _p99("figures", "changes_since_idle"), "ms",
               ours=5, source=ENGINE),
        Figure("change feed at 4 polls/s, CPU", ("change_feed", "idle_cpu_percent_of_a_core"),
               "% of a core"),
    ), size=("{:,} jobs", ("jobs",)), takes_dir=False),
    Benchmark("window_scale", "desktop window on the history", (
        Figure("first table rows, from building the window", ("window", "first_rows_s"), "s",
               ours=5, source=ENGINE),
        Figure("first table rows, CPU time of all threads", ("window", "first_rows_cpu_s"), "s"),
        Figure("first table rows, from the process's start", ("window", "since_start_s"), "s"),
        Figure("change feed thread, idle", ("idle", "feed_thread_cpu_percent"),
               "% of a core", ours=2, source=ENGINE),
        Figure("change feed thread, 10 jobs saving 4/s", ("busy", "feed_thread_cpu_percent"),
               "% of a core", ours=2, source=ENGINE),
        Figure("GUI thread, 10 jobs saving 4/s", ("busy", "gui_thread_cpu_percent"),
               "% of a core"),
    ), size=("{:,} jobs", ("jobs",)), takes_dir=False),
    Benchmark("monitor_overhead", "resource monitor", (
        Figure("CPU at 1 Hz, 20 jobs watched", ("at_1hz", "cpu_percent_of_one_core"),
               "% of a core", ours=1, source=ENGINE),
        Figure("snapshot to alert action p99", ("action_latency_ms", "p99"), "ms", ours=100,
               source=ENGINE),
    ), takes_dir=False),
    Benchmark("gpu_throughput", "GPU worker", (
        Figure("GPU worker / CPU worker, whole units", ("worker", "gpu_over_cpu"), "x",
               ours=1, higher_is_better=True, source=SUITE),
        Figure("device / numpy, processing only", ("processing", "device_over_numpy"), "x",
               higher_is_better=True),
    ), full=("--ray",), size=("{:,} traces", ("survey", "traces")), needs_gpu=True),
)


@dataclass
class BenchmarkRun:
    """What running one script gave: its report, or why there is none."""

    name: str
    status: str
    """``ok``, ``skipped`` or ``error``."""
    seconds: float = 0.0
    command: list[str] = field(default_factory=list)
    reason: str = ""
    report: dict[str, Any] | None = None


# ---------------------------------------------------------------------- running
def gpu_missing() -> str | None:
    """Why the GPU benchmark cannot run here, or ``None`` when a GPU is there.

    Cheap: NVML (the ``nvidia-ml-py`` dependency) counts NVIDIA GPUs and Apple silicon
    has MPS; torch itself is only looked for, not imported.
    """
    import importlib.util
    import platform

    if importlib.util.find_spec("torch") is None:
        return "no GPU (torch is not installed)"
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return None
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return None if pynvml.nvmlDeviceGetCount() > 0 else "no GPU"
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no driver, no library: no NVIDIA GPU
        return "no GPU"


def command_for(bench: Benchmark, full: bool, bench_dir: Path) -> list[str]:
    args = list(bench.full if full else bench.quick)
    if bench.takes_dir:
        args += ["--dir", str(bench_dir)]
    return [sys.executable, "-m", f"benchmarks.{bench.name}", *args]


def _child_env() -> dict[str, str]:
    """This checkout's ``src`` first on the path, so the figures are of this code."""
    paths = [str(REPO / "src"), str(REPO)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONUNBUFFERED": "1"}


def run_benchmark(bench: Benchmark, *, full: bool, bench_dir: Path, log_dir: Path,
                  timeout_s: float) -> BenchmarkRun:
    """Run one script in a session of its own (killed whole on timeout); parse its JSON."""
    command = command_for(bench, full, bench_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{bench.name}.log"
    started = time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen(command, cwd=REPO, env=_child_env(), stdout=subprocess.PIPE,
                                stderr=err, text=True, start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return BenchmarkRun(bench.name, "error", time.perf_counter() - started, command,
                                f"timed out after {timeout_s:.0f} s (log: {log})")
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        return BenchmarkRun(bench.name, "error", seconds, command,
                            f"exit status {proc.returncode}: {_last_line(log)} (log: {log})")
    try:
        report = parse_report(stdout)
    except ValueError as exc:
        return BenchmarkRun(bench.name, "error", seconds, command, f"{exc} (log: {log})")
    return BenchmarkRun(bench.name, "ok", seconds, command, report=report)


def parse_report(stdout: str) -> dict[str, Any]:
    """The JSON document a script printed (anything before its first ``{`` ignored)."""
    start = stdout.find("{")
    if start < 0:
        raise ValueError("the script printed no JSON report")
    try:
        report, _ = json.JSONDecoder().raw_decode(stdout[start:])
    except json.JSONDecodeError as exc:
        raise ValueError(f"the script's report is not JSON: {exc}") from None
    if not isinstance(report, dict):
        raise ValueError("the script's report is not a JSON object")
    return report


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(nothing on stderr)"


def gpu_report_missing(report: dict[str, Any]) -> str | None:
    """A GPU benchmark that found only torch's CPU device measured no GPU."""
    kind = report.get("device", {}).get("kind")
    return "no GPU (torch sees none)" if kind == "cpu" else None


# ---------------------------------------------------------------------- figures
def lookup(report: dict[str, Any], path: Sequence[str]) -> Any:
    """``report[path[0]][path[1]]...``, or ``None`` where a key is missing."""
    node: Any = report
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def title_for(bench: Benchmark, report: dict[str, Any] | None) -> str:
    if bench.size is None or report is None:
        return bench.title
    value = lookup(report, bench.size[1])
    return bench.title if value is None else f"{bench.title} ({bench.size[0].format(value)})"


def rows_for(bench: Benchmark, run: BenchmarkRun) -> list[Row]:
    """The table's rows for one benchmark: its figures, or one row saying why none."""
    title = title_for(bench, run.report)
    if run.report is None:
        return [Row(title, "(not measured)", "", None, None, None, note=run.reason)]
    rows = []
    for fig in bench.figures:
        value = lookup(run.report, fig.path)
        measured = float(value) if isinstance(value, int | float) else None
        rows.append(Row(title, fig.label, fig.unit, measured, fig.seed, fig.ours,
                        fig.higher_is_better, fig.source,
                        note="" if measured is not None else "missing in the report"))
    return rows


# ---------------------------------------------------------------------- the suite
def select(only: Sequence[str], skip: Sequence[str]) -> list[Benchmark]:
    names = {b.name for b in BENCHMARKS}
    unknown = sorted((set(only) | set(skip)) - names)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(names))}")
    return [b for b in BENCHMARKS if (not only or b.name in only) and b.name not in skip]


def run_suite(benches: Sequence[Benchmark], *, full: bool, bench_dir: Path, log_dir: Path,
              timeout_s: float) -> dict[str, BenchmarkRun]:
    """Run ``benches`` one after the other, with a note on stderr for each."""
    runs: dict[str, BenchmarkRun] = {}
    for number, bench in enumerate(benches, start=1):
        missing = gpu_missing() if bench.needs_gpu else None
        if missing:
            runs[bench.name] = BenchmarkRun(bench.name, "skipped", reason=missing)
        else:
            _note(f"[{number}/{len(benches)}] {bench.name} ...")
            run = run_benchmark(bench, full=full, bench_dir=bench_dir, log_dir=log_dir,
                                timeout_s=timeout_s)
            if run.report is not None and bench.needs_gpu and gpu_report_missing(run.report):
                run.status, run.reason = "skipped", str(gpu_report_missing(run.report))
                run.report = None
            runs[bench.name] = run
        run = runs[bench.name]
        _note(f"[{number}/{len(benches)}] {bench.name}: {run.status} in {run.seconds:.1f} s"
              + (f" ({run.reason})" if run.reason else ""))
    return runs


def _note(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def document(runs: dict[str, BenchmarkRun], rows: list[Row], *, mode: str, seconds: float,
             machine_info: dict[str, Any]) -> dict[str, Any]:
    """Everything of the run, as written to the JSON file."""
    return {"suite": "seisproc benchmarks", "mode": mode,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": round(seconds, 1), "machine": machine_info,
            "figures": [row.to_dict() for row in rows],
            "benchmarks": {name: asdict(run) for name, run in runs.items()}}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    benches = select(args.only, args.skip)
    started = time.perf_counter()
    if args.render:
        mode, machine_info, runs = load_runs(args.render)
        benches = [b for b in benches if b.name in runs]
    else:
        mode, machine_info = ("full" if args.full else "quick"), machine()
        runs = run_suite(benches, full=args.full, bench_dir=args.dir,
                         log_dir=args.json.parent / "logs", timeout_s=args.timeout)
        machine_info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    rows = [row for bench in benches for row in rows_for(bench, runs[bench.name])]
    seconds = (sum(run.seconds for run in runs.values()) if args.render
               else time.perf_counter() - started)
    print(format_table(rows, mode=mode, machine_info=machine_info, seconds=seconds))
    if not args.render:
        doc = document(runs, rows, mode=mode, seconds=seconds, machine_info=machine_info)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2, default=str) + "\n")
        _note(f"wrote {args.json}")
    if args.markdown:
        args.markdown.write_text(format_markdown(rows, mode=mode, machine_info=machine_info))
        _note(f"wrote {args.markdown}")
    failed = any(run.status == "error" for run in runs.values())
    missed = args.check and any(row.ours_met is False for row in rows)
    return 1 if failed or missed else 0


def load_runs(paths: Sequence[Path]) -> tuple[str, dict[str, Any], dict[str, BenchmarkRun]]:
    """Mode, machine and runs of saved suite results; a later file's run of a benchmark
    replaces an earlier one's (so a benchmark re-run alone can join a whole run)."""
    docs = [json.loads(path.read_text()) for path in paths]
    runs = {name: BenchmarkRun(**run) for doc in docs
            for name, run in doc["benchmarks"].items()}
    return docs[0]["mode"], docs[0]["machine"], runs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smoke-sized runs (the default)")
    size.add_argument("--full", action="store_true", help="the README's figures")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME")
    parser.add_argument("--skip", nargs="+", default=[], metavar="NAME")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON,
                        help=f"where to write every report (default {DEFAULT_JSON})")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                        help="where the scripts keep their surveys between runs")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds one script may run (default 1800)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a figure misses our target")
    parser.add_argument("--render", type=Path, nargs="+", metavar="JSON",
                        help="run nothing: print (and --markdown) the table of saved results")
    return parser
