"""GPU workers' device memory reaches the resource monitor on a real local Ray, from the
workers themselves, with a fake device (``fake_devices``: torch's CPU device under a
memory budget): the probe's rows for the engine's pool, and ``seisproc monitor --once
--json`` run as its own process, which finds the service's warm workers by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
from fake_devices import BUDGET_BYTES, BudgetedTorchCpuWorker, ship_by_value
from gpu_helpers import BP_AGC, make_flow

from seisproc.jobs.plan import plan_job
from seisproc.jobs.ports import JobSpec
from seisproc.orchestration import DeviceExecutor, RayExecutor, device_executor
from seisproc.orchestration.probe import RayClusterProbe

pytest.importorskip("torch")

pytestmark = pytest.mark.slow


@pytest.fixture
def pool(ray_cluster: None) -> Iterator[DeviceExecutor]:
    """One CPU worker and one fake-GPU worker: the session Ray's two CPUs (given back
    before the next test's warm worker needs one)."""
    ship_by_value()
    executor = device_executor(workers=1, gpu_class=BudgetedTorchCpuWorker, gpu_workers=1)
    executor.wait_ready(timeout_s=60)
    yield executor
    executor.shutdown()


def run_on_gpu_pool(executor: DeviceExecutor, survey: Path, output: Path) -> None:
    plan = plan_job(make_flow(survey, output, device="gpu", steps=BP_AGC), gathers_per_unit=4)
    spec = JobSpec("job-memory", plan.flow, str(plan.partial_path), plan.output_layout)
    for unit in plan.units:
        executor.submit(spec, unit)
    done = []
    while len(done) < len(plan.units):
        done += executor.wait(5.0)
    executor.release_job(spec.job_id)
    assert all(c.error is None for c in done)


def test_the_probe_shows_each_gpu_workers_own_memory_figures(
    pool: DeviceExecutor, survey: Path, tmp_path: Path
) -> None:
    run_on_gpu_pool(pool, survey, tmp_path / "out.sgy")
    status = RayClusterProbe(pool)()
    gpu_actor = pool.pools["gpu"].workers()[0]
    by_id = {w.worker_id: w for w in status.workers}
    row = by_id[gpu_actor.actor._actor_id.hex()]
    assert (row.device_name, row.device_budget_bytes, row.node_id) == (
        "CPU (torch)",
        BUDGET_BYTES,
        gpu_actor.node,
    )
    # torch's CPU device cannot say what it holds; a CUDA worker fills these in
    assert (row.device_used_bytes, row.device_peak_bytes, row.device_total_bytes) == (
        None,
        None,
        None,
    )
    cpu_rows = [w for w in status.workers if w is not row]
    assert len(cpu_rows) == 1 and cpu_rows[0].device_name is None
    (memory,) = pool.device_memory()  # the same report, for scripts and benchmarks
    assert memory.budget_bytes == BUDGET_BYTES and memory.batches > 0


def test_monitor_once_json_shows_the_gpu_workers_device_memory(
    ray_cluster: None, tmp_path: Path
) -> None:
    ship_by_value()
    warm = RayExecutor(workers=1, actor_class=BudgetedTorchCpuWorker, warm=True)
    try:
        warm.wait_ready(timeout_s=60)
        (worker,) = warm.workers()
        ray.get(worker.actor.initialize_gpu.remote(), timeout=60)
        env = {**os.environ, "SEISPROC_HOME": str(tmp_path / "home")}
        env.pop("RAY_ADDRESS", None)
        address = ray.get_runtime_context().gcs_address
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "seisproc",
                "monitor",
                "--once",
                "--json",
                "--interval",
                "0.2",
                "--address",
                address,
            ],
            capture_output=True,
            text=True,
            timeout=180,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        snapshot = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        for status in warm.workers():
            ray.kill(status.actor, no_restart=True)  # warm actors outlive their pool
        warm.shutdown()
    rows = [w for w in snapshot["cluster"]["workers"] if w["device_name"] is not None]
    assert [
        (
            w["worker_id"],
            w["state"],
            w["kind"],
            w["node_id"],
            w["device_name"],
            w["device_budget_bytes"],
        )
        for w in rows
    ] == [(worker.actor._actor_id.hex(), "warm", "cpu", worker.node, "CPU (torch)", BUDGET_BYTES)]
