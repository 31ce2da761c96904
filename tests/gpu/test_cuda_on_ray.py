"""A real GPU worker on Ray (``num_gpus=1``), found by the engine's executor: skipped, with
the reason, on a machine without a CUDA GPU. Its own module: its pool holds the CPUs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
from gpu_helpers import (
    BP_AGC,
    Borrowed,
    assert_close,
    device_or_skip,
    make_flow,
    traces,
)

from reference_outputs import reference_output
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore
from seisproc.jobs.ports import Executor
from seisproc.orchestration import DeviceExecutor, DeviceMemory, GpuWorkerActor, device_executor


@pytest.fixture(scope="module")
def gpu_pool(ray_cluster: None) -> Iterator[DeviceExecutor]:
    device_or_skip("cuda")
    if not ray.cluster_resources().get("GPU"):
        pytest.skip("this Ray cluster declares no GPU (joined one started without GPUs)")
    pool = device_executor(workers=1, gpu_workers=1)
    pool.wait_ready(timeout_s=120)
    yield pool
    pool.shutdown()


def released_memory(pool: DeviceExecutor, timeout_s: float = 10.0) -> DeviceMemory:
    """The GPU worker's figures once the job's release (a control call) has landed."""
    deadline = time.monotonic() + timeout_s
    while True:
        (memory,) = pool.device_memory()
        if (memory.reserved_bytes or 0) <= 2 * 2**20 or time.monotonic() > deadline:
            return memory
        time.sleep(0.1)


def test_the_engine_executor_finds_the_gpu_and_jobs_run_there(
    gpu_pool: DeviceExecutor, survey: Path, tmp_path: Path
) -> None:
    assert set(gpu_pool.pools) == {"cpu", "gpu"}
    borrowed: Executor = Borrowed(gpu_pool)  # type: ignore[assignment]
    manager = JobManager(MemoryJobStore(), lambda: borrowed, CheckpointStore(tmp_path / "cp"))
    try:
        job = manager.submit(make_flow(survey, tmp_path / "gpu.sgy", device="gpu", steps=BP_AGC))
        assert manager.wait(job.id, timeout_s=120).state.value == "COMPLETED"
    finally:
        manager.close(active="cancel")
    memory = released_memory(gpu_pool)
    assert memory.kind == "cuda" and memory.index is not None and memory.batches > 0
    assert memory.total_bytes and memory.free_bytes is not None
    assert memory.peak_allocated_bytes and memory.peak_allocated_bytes > 0
    # Released with the job: only live tensors (none) stay reserved, to a 2 MiB segment.
    assert memory.reserved_bytes is not None and memory.reserved_bytes <= 2 * 2**20
    expected = traces(reference_output(make_flow(survey, tmp_path / "cpu.sgy", steps=BP_AGC)))
    assert_close(traces(tmp_path / "gpu.sgy"), expected)


def test_gpu_worker_resources_are_what_ray_placed() -> None:
    device_or_skip("cuda")
    assert GpuWorkerActor.ray_options["num_gpus"] == 1
