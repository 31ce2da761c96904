"""End to end: ``seisproc run`` against the script a user would write instead.

Everything here is measured in one run, interleaved, so that ratios hold on a noisy
machine where absolute times do not:

* ``ibm``: bandpass + AGC over the IBM-float survey (400 shots x 480 channels x 2,001
  samples, 1.58 GB): ``seisproc run`` as a subprocess with seisproc's local Ray service
  cold (stopped first, so the command starts it) and warm (left up by the previous
  command), against :mod:`benchmarks.handwritten_pipeline` (segyio + scipy, 2
  processes), each ``--rounds`` times;
* ``ieee``: the same on an IEEE-float copy of the survey (warm service);
* ``two_gathers``: a 48-trace flow (2 gathers, ``agc``) end to end, cold once, warm
  ``--small-runs`` times;
* ``steady``: the job's rate once its workers are busy (from the second unit to the
  last) against the kernel alone, the same two steps on gathers already in memory, with
  as many processes as the service has workers; and against what the cores allow for
  kernel and I/O together: the job's reads and durable writes alone (same reader,
  writer, unit size and syncs) give the I/O's CPU per trace, the kernel's is known, and
  a trace cannot cost less than both;
* ``profile``: where that job's time went: the workers' seconds per stage (read,
  sample conversion, each processor, QC, encode, write, sync; see
  :mod:`seisproc.jobs.stages`), the driver's own CPU, its checkpoint appends and
  history saves.

Prints one JSON document on stdout.

    python -m benchmarks.end_to_end [--quick] [--rounds 2] [--dir /tmp/seisproc-bench]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

try:
    from benchmarks import _engine_common as common
    from benchmarks.handwritten_pipeline import run as run_handwritten
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _engine_common as common  # type: ignore[no-redef]
    from handwritten_pipeline import run as run_handwritten  # type: ignore[no-redef]

from seisproc.io import SurveyGeometry, gather_index, open_segy
from seisproc.io.writer import SegyWriter, create_output, output_file_header, output_layout
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.stages import add_stages

SEISPROC = [sys.executable, "-m", "seisproc"]
FLOW = """\
name: e2e-bandpass-agc
input: {input}
output: {output}
gather_by: ffid
steps:
  - bandpass: {{f1: 5, f2: 10, f3: 60, f4: 80}}
  - agc: {{window_ms: 500}}
"""
SMALL_FLOW = """\
name: two-gathers
input: {input}
output: {output}
gather_by: ffid
steps:
  - agc: {{window_ms: 250}}
"""
WARM_OVER_SCRIPT, COLD_OVER_SCRIPT = 1.2, 0.9
SMALL_WARM_S, SMALL_COLD_S = 1.0, 8.0
STEADY_OVER_KERNEL = 0.8


# ---------------------------------------------------------------------- commands
def seisproc(*args: str, timeout_s: float = 1800) -> tuple[float, float]:
    """Run a ``seisproc`` command: its wall seconds and CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([*SEISPROC, *args], capture_output=True, text=True,
                          timeout=timeout_s, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"seisproc {' '.join(args)} failed: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def stop_service() -> None:
    subprocess.run([*SEISPROC, "service", "stop"], capture_output=True, timeout=120,
                   check=False)


def write_flow(folder: Path, name: str, template: str, survey: Path) -> tuple[Path, Path]:
    output = folder / f"{name}-out.sgy"
    flow = folder / f"{name}.yaml"
    flow.write_text(template.format(input=survey, output=output))
    return flow, output


def timed_script(survey: Path, output: Path) -> float:
    start = time.perf_counter()
    run_handwritten(survey, output, processes=2)
    seconds = time.perf_counter() - start
    output.unlink()
    return seconds


def timed_run(flow: Path, output: Path, *, cold: bool) -> tuple[float, float]:
    if cold:
        stop_service()
    seconds, cpu = seisproc("run", str(flow), "--overwrite")
    output.unlink()
    return seconds, cpu


def wait_for_command_server(timeout_s: float = 60.0) -> float | None:
    """Seconds until the command server the cold run started is up (a user's next
    command a few seconds later finds it so), or ``None`` if it did not come up."""
    from seisproc.cli.warm.control import running_server
    from seisproc.cli.warm.protocol import SOCKET, server_dir
    from seisproc.paths import seisproc_home

    began = time.perf_counter()
    socket_path = server_dir(seisproc_home()) / SOCKET
    while time.perf_counter() - began < timeout_s:
        if running_server() is not None and socket_path.exists():
            return round(time.perf_counter() - began, 2)
        time.sleep(0.05)
    common.note("the command server did not come up: warm runs import everything themselves")
    return None


def median(values: list[float]) -> float:
    return statistics.median(values)


# ---------------------------------------------------------------------- (a), (d)
def survey_against_script(folder: Path, survey: Path, rounds: int, *, cold: bool
                          ) -> dict[str, Any]:
    """``seisproc run`` (cold and warm service) against the script, interleaved."""
    flow, output = write_flow(folder, survey.stem, FLOW, survey)
    script_out = folder / f"{survey.stem}-script.sgy"
    script, cold_s, warm, warm_cpu = [], [], [], []
    for round_ in range(rounds):
        script.append(timed_script(survey, script_out))
        if cold:
            cold_s.append(timed_run(flow, output, cold=True)[0])
        seconds, cpu = timed_run(flow, output, cold=False)
        warm.append(seconds)
        warm_cpu.append(cpu)
        common.note(f"{survey.name} round {round_ + 1}: script {script[-1]:.1f} s, "
             + (f"cold {cold_s[-1]:.1f} s, " if cold else "") + f"warm {warm[-1]:.1f} s")
    result: dict[str, Any] = {
        "script_s": [round(s, 2) for s in script],
        "warm_s": [round(s, 2) for s in warm],
        "warm_driver_cpu_s": round(median(warm_cpu), 2),
        "warm_over_script": common.target(round(median(script) / median(warm), 3), None,
                                   WARM_OVER_SCRIPT, higher_is_better=True, unit="x"),
    }
    if cold:
        result["cold_s"] = [round(s, 2) for s in cold_s]
        result["cold_over_script"] = common.target(round(median(script) / median(cold_s), 3), None,
                                            COLD_OVER_SCRIPT, higher_is_better=True, unit="x")
    return result


# ---------------------------------------------------------------------- (b)
def two_gathers(folder: Path, runs: int) -> dict[str, Any]:
    from seisproc.io import synthesize_survey

    survey = folder / "two-gathers.sgy"
    if not survey.exists():
        synthesize_survey(survey, SurveyGeometry(shots=2, channels=24, samples=1001,
                                                 dt_ms=2.0))
    flow, output = write_flow(folder, "two-gathers", SMALL_FLOW, survey)
    cold = timed_run(flow, output, cold=True)[0]
    server_ready_s = wait_for_command_server()
    warm = [timed_run(flow, output, cold=False)[0] for _ in range(runs)]
    common.note(f"48-trace flow: cold {cold:.2f} s, warm median {median(warm):.2f} s")
    return {"cold_s": common.target(round(cold, 2), None, SMALL_COLD_S, unit="s"),
            "command_server_ready_after_s": server_ready_s,
            "warm_s": [round(s, 2) for s in warm],
            "warm_median_s": common.target(round(median(warm), 3), None, SMALL_WARM_S, unit="s")}


# ---------------------------------------------------------------------- (c), profile
_gathers: list[tuple[Any, Any]] = []


def _load_gathers(survey: str, ranges: list[list[int]]) -> None:
    from seisproc.orchestration.allocator import keep_freed_memory
    from seisproc.processing.base import GatherContext

    keep_freed_memory()  # as a worker does: the kernel alone is measured at its best

    with open_segy(survey) as segy:
        dt = segy.layout.sample_interval_ms
        for positions in ranges:
            samples, headers = segy.read(positions)
            _gathers.append((samples, GatherContext(dt, segy.offsets_m(headers))))


def _kernel(flow_path: str) -> int:
    from seisproc.processing.flow import load_flow
    from seisproc.processing.preview import run_steps

    processors = load_flow(flow_path).processors()
    traces = 0
    for samples, context in _gathers:
        run_steps(processors, samples.copy(), context)
        traces += len(samples)
    return traces


def kernel_rate(survey: Path, flow: Path, processes: int, gathers: int, rounds: int
                ) -> float:
    """Traces/s of the flow's steps alone on ``gathers`` gathers held in memory by each
    of ``processes`` processes (each runs them ``rounds`` times), with a worker's
    allocator settings (:mod:`seisproc.orchestration.allocator`)."""
    with open_segy(survey) as segy:
        index = gather_index(segy, "ffid")
        ranges = [index.positions(i).tolist() for i in range(min(gathers, len(index)))]
    ctx = mp.get_context("fork")
    with ctx.Pool(processes, initializer=_load_gathers, initargs=(str(survey), ranges)) as pool:
        pool.map(_kernel, [str(flow)] * processes)  # warm-up: imports, FFT plans
        start = time.perf_counter()
        traces = sum(pool.map(_kernel, [str(flow)] * (processes * rounds)))
        return traces / (time.perf_counter() - start)


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine spent busy so far (user, system, interrupts):
    the kernel's page-cache copies and write-back count, wherever they run."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "steal", 0.0)


def _io_share(args: tuple[str, str, list[tuple[int, int]]]) -> int:
    survey, output, chunks = args
    with open_segy(survey) as segy, SegyWriter(output, output_layout(segy.layout)) as writer:
        for start, stop in chunks:
            positions = np.arange(start, stop)
            writer.write_records(positions, segy.read_records(positions))
            writer.sync()
    return sum(stop - start for start, stop in chunks)


def io_alone(folder: Path, survey: Path, processes: int, unit_traces: int
             ) -> dict[str, float]:
    """The job's reads and durable writes alone: the same reader and writer, units of
    ``unit_traces`` traces each read, written and synced, spread over ``processes``
    processes; its rate and the machine's busy CPU per trace (on a quiet machine, what
    the I/O costs the cores the kernel runs on)."""
    output = folder / "io-alone.sgy"
    with open_segy(survey) as segy:
        layout, n = output_layout(segy.layout), segy.layout.n_traces
        create_output(output, output_file_header(segy, ["io alone"]), layout)
    chunks = [(start, min(start + unit_traces, n)) for start in range(0, n, unit_traces)]
    try:
        with mp.get_context("fork").Pool(processes) as pool:
            pool.map(abs, range(processes))  # the processes exist before the clock starts
            busy0, start = _busy_cpu_s(), time.perf_counter()
            traces = sum(pool.map(_io_share, [(str(survey), str(output), chunks[p::processes])
                                              for p in range(processes)]))
            wall, busy = time.perf_counter() - start, _busy_cpu_s() - busy0
    finally:
        output.unlink(missing_ok=True)
    return {"traces_per_s": traces / wall, "cpu_us_per_trace": busy / traces * 1e6}


class UnitClock:
    """A subscriber noting when each unit of a job completed, and its stages."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, int]] = []
        self.stages: dict[str, float] = {}

    def __call__(self, event: JobEvent) -> None:
        if event.kind is JobEventKind.UNIT_COMPLETED:
            self.arrivals.append((time.perf_counter(), int(event.detail["traces"])))
            add_stages(self.stages, event.detail.get("stages", {}).items())

    def steady_rate(self) -> float:
        """Traces/s from the first unit's arrival to the last: start-up left out."""
        (t0, _), *rest = self.arrivals
        return sum(n for _, n in rest) / (rest[-1][0] - t0)

    def unit_traces(self) -> int:
        """The job's usual unit size, in traces."""
        return int(statistics.median(n for _, n in self.arrivals))


def profiled_job(folder: Path, survey: Path) -> tuple[float, dict[str, Any], int, int]:
    """The flow as a job in this process, on the warm service: its steady rate, its
    profile, the number of workers it ran on and its usual unit size in traces."""
    from seisproc.jobs.manager import JobManager
    from seisproc.orchestration import device_executor
    from seisproc.orchestration.cluster import cluster_cpus, ray_shutdown_if_started
    from seisproc.orchestration.service import resolve_address
    from seisproc.processing.flow import load_flow

    flow_path, output = write_flow(folder, f"{survey.stem}-profiled", FLOW, survey)
    home = Path(os.environ["SEISPROC_HOME"])
    store, checkpoints, saves, appends = common.timed_stores(home / "profiled")
    executors: list[Any] = []

    def executor() -> Any:
        executors.append(device_executor(address=resolve_address(None)))
        return executors[-1]

    manager = JobManager(store, executor, checkpoints)
    clock = UnitClock()
    manager.subscribe(clock)
    try:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        job = manager.submit(load_flow(flow_path), overwrite=True)
        job = manager.wait(job.id, timeout_s=1800)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        workers = cluster_cpus()  # the service runs one worker per CPU
    finally:
        manager.close(active="cancel")
        store.close()
        ray_shutdown_if_started()  # before the service stops under this driver
    output.unlink(missing_ok=True)
    if job.state.value != "COMPLETED":
        raise RuntimeError(f"the profiled job ended {job.state.value}: {job.message}")
    worker_s = sum(clock.stages.values())
    profile = {
        "wall_s": round(wall, 2),
        "workers": workers,
        "worker_stages_s": {name: round(s, 2) for name, s in
                            sorted(clock.stages.items(), key=lambda kv: -kv[1])},
        "worker_stage_shares": {name: round(s / worker_s, 3) for name, s in
                                sorted(clock.stages.items(), key=lambda kv: -kv[1])},
        "driver_cpu_s": round(cpu, 2),
        "driver_cpu_share_of_wall": round(cpu / wall, 3),
        "checkpoint_appends_s": round(sum(s for _, s in appends.calls), 3),
        "history_saves_s": round(sum(s for _, s in saves.calls), 3),
    }
    return clock.steady_rate(), profile, workers, clock.unit_traces()


def steady_report(steady: float, kernel: float, io: dict[str, float], processes: int
                  ) -> dict[str, Any]:
    """The job's steady rate against the kernel alone, and against the bound the cores
    put on kernel and I/O together: each trace costs the kernel's CPU (``processes`` /
    kernel rate: the kernel keeps its processes busy) plus the I/O's, and the machine's
    cores (as many as processes here) give only so many CPU seconds."""
    kernel_us = processes / kernel * 1e6
    bound = processes / ((kernel_us + io["cpu_us_per_trace"]) / 1e6)
    return {
        "job_traces_per_s": round(steady), "kernel_traces_per_s": round(kernel),
        "processes": processes,
        "io_alone_traces_per_s": round(io["traces_per_s"]),
        "kernel_cpu_us_per_trace": round(kernel_us, 1),
        "io_cpu_us_per_trace": round(io["cpu_us_per_trace"], 1),
        "cpu_bound_traces_per_s": round(bound),
        "job_over_cpu_bound": round(steady / bound, 3),
        "job_over_kernel": common.target(round(steady / kernel, 3), None, STEADY_OVER_KERNEL,
                                         higher_is_better=True, unit="x")}


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=400,
                        help="400 shots = 192,000 traces, 1.58 GB")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--small-runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/seisproc-bench"))
    parser.add_argument("--quick", action="store_true",
                        help="24 shots (95 MB), one round: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.shots, args.rounds, args.small_runs = 24, 1, 3
    args.dir.mkdir(parents=True, exist_ok=True)
    work = args.dir / "end_to_end"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    os.environ["SEISPROC_HOME"] = str(work / "home")  # a service of its own, stopped after
    geometry = SurveyGeometry(shots=args.shots, channels=480, samples=2001, dt_ms=2.0)
    ibm = common.ensure_survey(args.dir, geometry, "ibm")
    ieee = common.ensure_survey(args.dir, geometry, "ieee")
    report: dict[str, Any] = {
        "benchmark": "end_to_end", "quick": args.quick, "machine": common.machine(),
        "survey": {"traces": args.shots * 480, "bytes": ibm.stat().st_size,
                   "rounds": args.rounds},
    }
    with common.json_stdout():
        try:
            report["ibm"] = survey_against_script(work, ibm, args.rounds, cold=True)
            report["ieee"] = survey_against_script(work, ieee, args.rounds, cold=False)
            report["two_gathers"] = two_gathers(work, args.small_runs)
            steady, profile, workers, unit_traces = profiled_job(work, ibm)
            processes = max(workers, 1)
            flow, _ = write_flow(work, "kernel", FLOW, ibm)
            kernel = kernel_rate(ibm, flow, processes, gathers=8,
                                 rounds=2 if args.quick else 6)
            io = io_alone(work, ibm, processes, unit_traces)
            report["steady"] = steady_report(steady, kernel, io, processes)
            report["profile"] = profile
        finally:
            stop_service()
    common.emit(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
