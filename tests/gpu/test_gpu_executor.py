"""GPU workers on a real local Ray, on the CPU device: routing by the flow's device, the
same traces as CPU workers, bounded work per pool, stops, memory figures, a whole job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
from gpu_helpers import BP_AGC, Borrowed, assert_close, make_flow, traces

from reference_outputs import reference_output
from seisproc.io.writer import commit_output
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore
from seisproc.jobs.plan import plan_job
from seisproc.jobs.ports import Completion, Executor, JobSpec
from seisproc.jobs.units import WorkUnit
from seisproc.orchestration import DeviceExecutor, RayExecutor, device_executor
from seisproc.orchestration.gpu import TorchCpuWorkerActor

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def executor(ray_cluster: None) -> Iterator[DeviceExecutor]:
    """One CPU worker and one GPU worker (torch on the CPU device): both CPUs."""
    pool = device_executor(workers=1, gpu_class=TorchCpuWorkerActor, gpu_workers=1)
    pool.wait_ready(timeout_s=60)
    yield pool
    pool.shutdown()


def run_units(
    executor: Any, spec: JobSpec, units: tuple[WorkUnit, ...], gpu_bound: int | None = None
) -> list[Completion]:
    """Dispatch like the JobManager: only while below capacity; check the GPU pool's bound."""
    todo, done = list(units), []
    while todo or executor.in_flight():
        while todo and executor.in_flight() < executor.capacity():
            executor.submit(spec, todo.pop(0))
        if gpu_bound is not None:
            assert executor.pools["gpu"].in_flight() <= gpu_bound
        done += executor.wait(5.0)
    return done


def open_jobs(pool: RayExecutor) -> list[str]:
    return [job for w in pool.workers() for job in ray.get(w.actor.open_jobs.remote())]


def spec_for(plan: Any, job_id: str) -> JobSpec:
    return JobSpec(job_id, plan.flow, str(plan.partial_path), plan.output_layout)


def test_an_auto_flow_runs_on_the_gpu_worker_within_1e_5_of_cpu_workers(
    executor: DeviceExecutor, survey: Path, tmp_path: Path
) -> None:
    expected = traces(reference_output(make_flow(survey, tmp_path / "cpu.sgy", steps=BP_AGC)))
    flow = make_flow(survey, tmp_path / "gpu.sgy", steps=BP_AGC)
    plan = plan_job(flow, gathers_per_unit=2)
    spec = spec_for(plan, "job-auto")
    done = run_units(executor, spec, plan.units, gpu_bound=2)
    assert open_jobs(executor.pools["gpu"]) == ["job-auto"]
    assert open_jobs(executor.pools["cpu"]) == []
    executor.release_job(spec.job_id)
    assert all(c.result is not None and c.error is None for c in done) and len(done) == 4
    commit_output(plan.partial_path, flow.output)
    # torch's FFT is not scipy's: the same traces to float32 rounding, not the same bytes.
    assert_close(traces(flow.output), expected)


def test_a_cpu_flow_on_the_gpu_worker_class_is_byte_identical_to_cpu_workers(
    executor: DeviceExecutor, survey: Path, tmp_path: Path
) -> None:
    expected = reference_output(make_flow(survey, tmp_path / "cpu.sgy", device="cpu"))
    flow = make_flow(survey, tmp_path / "gpu.sgy", device="cpu")
    plan = plan_job(flow, gathers_per_unit=1)
    spec = spec_for(plan, "job-cpu-on-gpu-class")
    done = run_units(executor.pools["gpu"], spec, plan.units)  # the GPU actor itself
    executor.release_job(spec.job_id)
    assert len(done) == 8 and all(c.result is not None for c in done)
    commit_output(plan.partial_path, flow.output)
    assert flow.output.read_bytes() == expected.read_bytes()


def test_a_cpu_flow_is_routed_to_the_cpu_workers(
    executor: DeviceExecutor, survey: Path, tmp_path: Path
) -> None:
    flow = make_flow(survey, tmp_path / "out.sgy", device="cpu")
    plan = plan_job(flow)
    spec = spec_for(plan, "job-cpu")
    assert executor.route(flow) == "cpu"
    run_units(executor, spec, plan.units)
    assert open_jobs(executor.pools["cpu"]) == ["job-cpu"]
    assert open_jobs(executor.pools["gpu"]) == []
    executor.release_job(spec.job_id)


def test_units_beyond_the_gpu_pool_wait_and_a_stop_drops_them(
    executor: DeviceExecutor, survey: Path, tmp_path: Path
) -> None:
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy"), gathers_per_unit=1)
    spec = spec_for(plan, "job-stop")
    for unit in plan.units[:4]:  # capacity 4, all of them for the GPU pool's 2
        executor.submit(spec, unit)
    assert executor.pools["gpu"].in_flight() == 2 and executor.in_flight() == 4
    executor.stop_job(spec.job_id)
    done = run_units(executor, spec, ())
    executor.release_job(spec.job_id)
    assert len(done) == 4 and all(c.error is None for c in done)
    assert sum(c.result is None for c in done) >= 2  # at least the two that waited


def test_gpu_workers_report_their_device_memory(executor: DeviceExecutor) -> None:
    (memory,) = executor.device_memory()
    assert memory.kind == "cpu" and memory.node and memory.batches > 0
    assert memory.to_dict()["largest_batch_bytes"] > 0


def test_jobs_run_to_completion_on_gpu_workers(
    executor: DeviceExecutor, survey: Path, tmp_path: Path
) -> None:
    borrowed: Executor = Borrowed(executor)  # type: ignore[assignment]
    manager = JobManager(
        MemoryJobStore(), lambda: borrowed, CheckpointStore(tmp_path / "cp"), gathers_per_unit=2
    )
    try:
        jobs = [
            manager.submit(
                make_flow(survey, tmp_path / f"{device}.sgy", device=device, steps=BP_AGC)
            )
            for device in ("gpu", "auto")
        ]
        finished = [manager.wait(job.id, timeout_s=60) for job in jobs]
    finally:
        manager.close(active="cancel")
    assert [job.state.value for job in finished] == ["COMPLETED", "COMPLETED"]
    expected = traces(reference_output(make_flow(survey, tmp_path / "cpu.sgy", steps=BP_AGC)))
    for device in ("gpu", "auto"):
        assert_close(traces(tmp_path / f"{device}.sgy"), expected)
