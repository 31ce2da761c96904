"""Throughput of bandpass + AGC + spiking decon on a GPU worker against CPU workers.

Measured in the same run, as traces/s, on a synthetic survey made (or reused) here:

* ``processing``: gathers already in host memory, processed one worker's way: the CPU
  worker's (numpy, gather by gather) and the GPU worker's (a batch moved to the device,
  the steps there, moved back: host<->device transfers included, and reported apart);
* ``worker``: whole units through one worker object in this process (read, process,
  write): :class:`CpuWorkerActor` against :class:`GpuWorkerActor`;
* ``pools`` (``--ray``): the job through the Ray pools of a
  :class:`~seisproc.orchestration.gpu.DeviceExecutor`: every CPU worker against the GPU
  workers.

With a CUDA (or MPS) device the GPU worker runs there. Without one it runs on torch's CPU
device, and the run says so: the figure is then torch against numpy on the same CPU (one
thread each, as a Ray worker holding one CPU has), and the target is the torch path no
slower than half the numpy rate. Prints one JSON document on stdout.

    python benchmarks/gpu_throughput.py [--shots 48] [--dir /tmp/bench] [--ray] [--check]
                                        [--json-out FILE] [--table [--tests-junit FILE]]

With a GPU, ``--check`` exits 1 unless one GPU worker reaches 20x one CPU worker
(:data:`GPU_TARGET`). ``scripts/gpu_check.sh`` runs this and the GPU tests in one go.

``--quick``: 8 shots, one repeat.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from seisproc.io import SurveyGeometry, gather_index, open_segy, synthesize_survey
from seisproc.io.writer import discard_output
from seisproc.jobs.plan import plan_job
from seisproc.jobs.ports import JobSpec
from seisproc.orchestration.gpu import (
    BatchStats,
    DeviceBatcher,
    Piece,
    TorchDevice,
    gpu_worker_class,
)
from seisproc.orchestration.workers import BaseWorkerActor, CpuWorkerActor
from seisproc.processing import Flow, GatherContext, Processor, run_steps
from seisproc.processing.device import WorkerKind

STEPS: list[dict[str, Any]] = [
    {"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}},
    {"agc": {"window_ms": 500}},
    {"spiking_decon": {"operator_ms": 80}},
]
GATHERS_PER_UNIT = 4
CPU_TARGET = 0.5
"""Without a GPU: the torch path must reach half the numpy path's rate."""
GPU_TARGET = 20.0
"""With a GPU: one GPU worker at least 20x one CPU worker, whole units (read, process,
write, transfers included), in the same run."""


def device_kind() -> WorkerKind:
    """CUDA, else MPS, else torch's CPU device."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "mps" if torch.backends.mps.is_available() else "cpu"


def ensure_survey(folder: Path, shots: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"gpu_bench_{shots}x480x2001.sgy"
    if not path.exists():
        t0 = time.perf_counter()
        synthesize_survey(
            path,
            SurveyGeometry(shots=shots, channels=480, samples=2001, dt_ms=2.0),
            sample_format_name="ieee",
        )
        print(f"made {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return path


def load_gathers(survey: Path) -> tuple[list[np.ndarray], float]:
    """Every gather of ``survey`` in host memory, and the sample interval in ms."""
    with open_segy(survey) as segy:
        index = gather_index(segy, "ffid")
        gathers = [segy.read(index.positions(g))[0] for g in range(len(index))]
        return gathers, segy.layout.sample_interval_ms


def best_of(repeats: int, run: Any) -> float:
    """Shortest wall time of ``repeats`` calls of ``run()``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _chain(processors: list[Processor]) -> Any:
    """The steps on one array, through the job's own step runner (what a unit processor's
    ``apply_steps`` calls, on a CPU worker and a GPU worker alike)."""

    def apply(data: Any, context: GatherContext, key: int) -> Any:
        return run_steps(processors, data, context, f"gather {key}: ")

    return apply


def measure_processing(
    gathers: list[np.ndarray], dt_ms: float, kind: WorkerKind, repeats: int
) -> dict[str, Any]:
    """numpy gather by gather against the device in unit-sized batches, transfers in."""
    processors: list[Processor] = Flow.model_validate(
        {"name": "b", "input": "x", "output": "y", "steps": STEPS}
    ).processors()
    apply, context = _chain(processors), GatherContext(dt_ms)
    device = TorchDevice(kind)
    device.warm_up()
    batcher = DeviceBatcher(device, processors, apply, BatchStats())
    batches = [
        [Piece(g, context, 0) for g in gathers[i : i + GATHERS_PER_UNIT]]
        for i in range(0, len(gathers), GATHERS_PER_UNIT)
    ]

    def numpy_path() -> None:
        for gather in gathers:
            apply(gather, context, 0)

    def device_path() -> None:
        for batch in batches:
            batcher.process(batch)

    def transfers_only() -> None:
        for batch in batches:
            device.to_host(device.to_device(np.concatenate([p.samples for p in batch])))
        device.synchronize()

    n_traces = sum(len(g) for g in gathers)
    numpy_s = best_of(repeats, numpy_path)
    device_path()  # one pass to build FFT plans and fill the allocator's cache
    device_s = best_of(repeats, device_path)
    transfer_s = best_of(repeats, transfers_only)
    return {
        "traces": n_traces,
        "numpy_traces_per_s": round(n_traces / numpy_s),
        "device_traces_per_s": round(n_traces / device_s),
        "device_over_numpy": round(numpy_s / device_s, 3),
        "transfer_share_of_device_time": round(transfer_s / device_s, 3),
    }


def _run_job(worker: BaseWorkerActor, survey: Path, out_dir: Path, name: str) -> float:
    flow = Flow.from_mapping(
        {"name": name, "input": str(survey), "steps": STEPS, "output": str(out_dir / f"{name}.sgy")}
    )
    plan = plan_job(flow, overwrite=True, gathers_per_unit=GATHERS_PER_UNIT)
    spec = JobSpec(name, flow, str(plan.partial_path), plan.output_layout)
    try:
        start = time.perf_counter()
        for unit in plan.units:
            worker.run_unit(spec, unit)  # type: ignore[operator]  # ray.method typing
        seconds = time.perf_counter() - start
    finally:
        worker.release_job(name)  # type: ignore[operator]  # ray.method typing
        discard_output(plan.partial_path)
    return seconds


def measure_workers(
    survey: Path,
    out_dir: Path,
    kind: WorkerKind,
    n_traces: int,
) -> dict[str, Any]:
    """Whole units (read, process, write) through one CPU and one GPU worker object."""
    gpu = gpu_worker_class(kind)()
    gpu.initialize_gpu()  # type: ignore[operator]  # ray.method typing
    _run_job(gpu, survey, out_dir, "warm-up")  # FFT plans, allocator cache, page cache
    cpu_s = _run_job(CpuWorkerActor(), survey, out_dir, "cpu-worker")
    gpu_s = _run_job(gpu, survey, out_dir, "gpu-worker")
    memory = gpu.gpu_memory()  # type: ignore[operator]  # ray.method typing
    return {
        "cpu_worker_traces_per_s": round(n_traces / cpu_s),
        "gpu_worker_traces_per_s": round(n_traces / gpu_s),
        "gpu_over_cpu": round(cpu_s / gpu_s, 3),
        "gpu_memory": memory.to_dict(),
    }


def measure_pools(
    survey: Path,
    out_dir: Path,
    kind: WorkerKind,
    n_traces: int,
) -> dict[str, Any]:
    """The job on every CPU worker of a local Ray against its GPU workers."""
    from seisproc.jobs.checkpoints import CheckpointStore
    from seisproc.jobs.manager import JobManager
    from seisproc.jobs.memory import MemoryJobStore
    from seisproc.orchestration import connect, device_executor
    from seisproc.orchestration.gpu import TorchCpuWorkerActor

    connect()
    gpu_class = TorchCpuWorkerActor if kind == "cpu" else None
    executor = device_executor(gpu_class=gpu_class, gpu_workers=1 if gpu_class else None)
    executor.wait_ready(timeout_s=120)  # time the job, not the actors' start
    manager = JobManager(
        MemoryJobStore(),
        lambda: executor,
        CheckpointStore(out_dir / "checkpoints"),
        gathers_per_unit=GATHERS_PER_UNIT,
    )
    figures: dict[str, Any] = {
        "cpu_workers": len(executor.pools["cpu"].workers()),
        "gpu_workers": len(executor.pools["gpu"].workers()),
    }
    try:
        for device in ("cpu", "gpu"):
            flow = Flow.from_mapping(
                {
                    "name": f"pool-{device}",
                    "input": str(survey),
                    "output": str(out_dir / f"pool-{device}.sgy"),
                    "steps": STEPS,
                    "device": device,
                }
            )
            start = time.perf_counter()
            job = manager.wait(manager.submit(flow, overwrite=True).id)
            seconds = time.perf_counter() - start
            assert job.state.value == "COMPLETED", job.message
            figures[f"{device}_pool_traces_per_s"] = round(n_traces / seconds)
            flow.output.unlink()
    finally:
        manager.close(active="cancel")
    figures["gpu_over_cpu"] = round(
        figures["gpu_pool_traces_per_s"] / figures["cpu_pool_traces_per_s"], 3
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=48, help="48 shots = 23,040 traces")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "seisproc-bench")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ray", action="store_true", help="also compare the Ray pools")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 unless the target is met: a GPU worker 20x a CPU "
        "worker; without a GPU, torch half as fast as numpy",
    )
    parser.add_argument("--quick", action="store_true", help="8 shots, one repeat")
    parser.add_argument(
        "--json-out",
        type=Path,
        default=None,
        help="write the JSON report here instead of printing it",
    )
    parser.add_argument(
        "--table",
        action="store_true",
        help="print one Markdown table of the run instead of the JSON",
    )
    parser.add_argument(
        "--tests-junit",
        type=Path,
        default=None,
        help="with --table: a pytest --junitxml file whose counts to add",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.shots, args.repeats = 8, 1
    import torch

    kind = device_kind()
    if kind == "cpu":
        torch.set_num_threads(1)  # as in a Ray worker holding one CPU
    survey = ensure_survey(args.dir, args.shots)
    gathers, dt_ms = load_gathers(survey)
    n_traces = sum(len(g) for g in gathers)
    report: dict[str, Any] = {
        "benchmark": "gpu_throughput",
        "quick": args.quick,
        "device": dataclasses.asdict(TorchDevice(kind).info()),
        "note": (
            "no GPU here: the GPU worker's code on torch's CPU device against the "
            "numpy path, one thread each (transfers are zero-copy on this device)"
            if kind == "cpu"
            else f"GPU worker on {kind} against CPU workers (numpy)"
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "survey": {
            "path": str(survey),
            "traces": n_traces,
            "samples": gathers[0].shape[1],
            "flow": STEPS,
        },
        "processing": measure_processing(gathers, dt_ms, kind, args.repeats),
        "worker": measure_workers(survey, args.dir, kind, n_traces),
    }
    if args.ray:
        report["pools"] = measure_pools(survey, args.dir, kind, n_traces)
    report["target"] = target(report, kind)
    text = json.dumps(report, indent=2)
    if args.json_out is not None:
        args.json_out.write_text(text + "\n")
    if args.table:
        tests = junit_counts(args.tests_junit) if args.tests_junit else None
        print(table(report, tests))
    elif args.json_out is None:
        print(text)
    return 1 if args.check and not report["target"]["met"] else 0


def target(report: dict[str, Any], kind: WorkerKind) -> dict[str, Any]:
    """The run's target and whether it is met: with a GPU, the GPU worker against one
    CPU worker (:data:`GPU_TARGET`); without, torch against numpy (:data:`CPU_TARGET`)."""
    if kind == "cpu":
        ratio = report["processing"]["device_over_numpy"]
        return {"torch_over_numpy_at_least": CPU_TARGET, "met": ratio >= CPU_TARGET}
    ratio = report["worker"]["gpu_over_cpu"]
    return {"gpu_worker_over_cpu_worker_at_least": GPU_TARGET, "met": ratio >= GPU_TARGET}


def junit_counts(path: Path) -> dict[str, int]:
    """Passed, failed (errors included) and skipped tests of a pytest ``--junitxml`` file."""
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = {
        key: sum(int(s.get(key, 0)) for s in suites)
        for key in ("tests", "failures", "errors", "skipped")
    }
    failed = total["failures"] + total["errors"]
    return {
        "passed": total["tests"] - failed - total["skipped"],
        "failed": failed,
        "skipped": total["skipped"],
    }


def table(report: dict[str, Any], tests: dict[str, int] | None = None) -> str:
    """The run as one Markdown table (what ``scripts/gpu_check.sh`` prints)."""
    device, survey = report["device"], report["survey"]
    processing, worker = report["processing"], report["worker"]
    memory, goal = worker["gpu_memory"], report["target"]
    limit = memory.get("budget_bytes") or memory.get("total_bytes")
    rows = [("device", f"{device['name']} ({device['kind']}, torch {device['torch_version']})")]
    if tests is not None:
        rows.append(
            (
                "GPU tests (tests/gpu)",
                f"{tests['passed']} passed, {tests['failed']} failed, {tests['skipped']} skipped",
            )
        )
    rows += [
        (
            "survey",
            f"{survey['traces']:,} traces x {survey['samples']:,} samples, "
            "bandpass + AGC + spiking decon",
        ),
        ("processing, numpy (one CPU)", f"{processing['numpy_traces_per_s']:,} traces/s"),
        (
            "processing, device (transfers in)",
            f"{processing['device_traces_per_s']:,} traces/s "
            f"({processing['device_over_numpy']:g}x numpy; transfers "
            f"{100 * processing['transfer_share_of_device_time']:.0f} % of it)",
        ),
        (
            "one CPU worker (read, process, write)",
            f"{worker['cpu_worker_traces_per_s']:,} traces/s",
        ),
        (
            "one GPU worker (read, process, write)",
            f"{worker['gpu_worker_traces_per_s']:,} traces/s ({worker['gpu_over_cpu']:g}x)",
        ),
        (
            "GPU worker's device memory, peak",
            f"{_gib(memory.get('peak_allocated_bytes'))} of {_gib(limit)}; "
            f"{memory['batches']} batches, {memory['oom_splits']} split",
        ),
    ]
    if "pools" in report:
        pools = report["pools"]
        rows.append(
            (
                "Ray pools: all CPU workers / GPU workers",
                f"{pools['cpu_pool_traces_per_s']:,} / {pools['gpu_pool_traces_per_s']:,}"
                f" traces/s ({pools['gpu_over_cpu']:g}x)",
            )
        )
    ((name, value),) = [(k, v) for k, v in goal.items() if k != "met"]
    rows.append(
        ("target", f"{name.replace('_', ' ')} {value:g}: {'met' if goal['met'] else 'NOT met'}")
    )
    width = max(len(label) for label, _ in rows)
    lines = [f"| {'check':<{width}} | result |", f"|{'-' * (width + 2)}|--------|"]
    lines += [f"| {label:<{width}} | {text} |" for label, text in rows]
    return "\n".join(lines)


def _gib(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**30:.2f} GiB"


if __name__ == "__main__":
    sys.exit(main())
