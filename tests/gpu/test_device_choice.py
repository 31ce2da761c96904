"""Choosing a device: the flow's field, the pure choice, and refusal at submission.

A flow asking for a GPU the cluster lacks fails when it is submitted, with one line that
names what is missing and what the cluster has, not later in a worker. Checked on the
pure choice, through a JobManager, through the engine (Ray, no GPU here) and through
``seisproc run``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import ray
from click.testing import CliRunner
from gpu_helpers import make_flow

from seisproc.cli.main import cli
from seisproc.engine import open_manager
from seisproc.errors import FlowError, SeisprocError
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.processing.device import ClusterDevices, DeviceError, worker_kind
from seisproc.processing.flow import Flow

NO_GPU = ClusterDevices(cpus=16, torch_version="2.13.0")
CUDA = ClusterDevices(cpus=16, gpus=2, torch_version="2.13.0")
METAL = ClusterDevices(cpus=10, metal=1, torch_version="2.13.0")


# ---------------------------------------------------------------- the flow's field
def test_a_flow_runs_where_auto_chooses_unless_it_says(survey: Path, tmp_path: Path) -> None:
    assert make_flow(survey, tmp_path / "o.sgy").device == "auto"
    flow = make_flow(survey, tmp_path / "o.sgy", device="gpu")
    assert flow.device == "gpu" and flow.to_mapping()["device"] == "gpu"
    assert Flow.model_validate(flow.to_mapping()) == flow  # survives the job history
    assert "device" not in make_flow(survey, tmp_path / "o.sgy").to_mapping()


def test_an_unknown_device_names_the_choices(survey: Path, tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"field 'device'.*'auto', 'cpu' or 'gpu'"):
        make_flow(survey, tmp_path / "o.sgy", device="tpu")


# ---------------------------------------------------------------- the pure choice
@pytest.mark.parametrize(
    ("device", "cluster", "kind"),
    [
        ("auto", NO_GPU, "cpu"),
        ("auto", CUDA, "cuda"),
        ("auto", METAL, "mps"),
        ("cpu", CUDA, "cpu"),
        ("gpu", CUDA, "cuda"),
        ("gpu", METAL, "mps"),
        ("auto", ClusterDevices(cpus=4, gpus=1), "cpu"),  # no torch: CPU workers
    ],
)
def test_worker_kind(device: str, cluster: ClusterDevices, kind: str) -> None:
    assert worker_kind(device, cluster) == kind  # type: ignore[arg-type]


def test_gpu_on_a_cluster_without_one_is_refused_naming_what_it_has() -> None:
    with pytest.raises(DeviceError) as caught:
        worker_kind("gpu", NO_GPU)
    message = str(caught.value)
    assert "\n" not in message and isinstance(caught.value, SeisprocError)
    for fragment in (
        "device: gpu",
        "the local Ray cluster has no GPU",
        "16 CPUs",
        "0 CUDA GPUs",
        "no Apple Metal device",
        "device: auto or cpu",
    ):
        assert fragment in message, (fragment, message)


def test_gpu_without_torch_says_how_to_install_it() -> None:
    with pytest.raises(DeviceError, match=r"torch is not installed.*seisproc\[gpu\]"):
        worker_kind("gpu", ClusterDevices(cpus=4, gpus=1))


# ---------------------------------------------------------------- at submission
def test_the_job_manager_refuses_at_submit_and_persists_nothing(
    survey: Path, tmp_path: Path
) -> None:
    def no_gpu_here(flow: Flow) -> None:
        worker_kind(flow.device, NO_GPU)

    store = MemoryJobStore()
    started: list[int] = []

    def executor() -> ThreadExecutor:
        started.append(1)
        return ThreadExecutor(workers=1)

    manager = JobManager(
        store, executor, CheckpointStore(tmp_path / "cp"), validate_flow=no_gpu_here
    )
    try:
        with pytest.raises(DeviceError, match="has no GPU"):
            manager.submit(make_flow(survey, tmp_path / "gpu.sgy", device="gpu"))
        assert store.list_jobs() == [] and started == []
        job = manager.submit(make_flow(survey, tmp_path / "auto.sgy"))  # auto: CPU, runs
        assert manager.wait(job.id, timeout_s=60).state.value == "COMPLETED"
    finally:
        manager.close(active="cancel")


def _skip_if_the_cluster_has_a_gpu() -> ClusterDevices:
    resources = ray.cluster_resources()
    if resources.get("GPU") or resources.get("metal"):
        pytest.skip("this cluster has a GPU: a device: gpu job is accepted")
    return ClusterDevices(cpus=resources.get("CPU", 0))


def test_the_engine_refuses_a_gpu_job_at_submission(
    ray_cluster: None, survey: Path, tmp_path: Path
) -> None:
    cluster = _skip_if_the_cluster_has_a_gpu()
    manager = open_manager()
    try:
        with pytest.raises(DeviceError) as caught:
            manager.submit(make_flow(survey, tmp_path / "gpu.sgy", device="gpu"))
        assert "has no GPU" in str(caught.value)
        assert f"it has {cluster.describe()}" in str(caught.value)
        assert manager.list() == []
    finally:
        manager.close()


def test_seisproc_run_refuses_a_gpu_flow_in_one_line(
    ray_cluster: None, survey: Path, tmp_path: Path
) -> None:
    cluster = _skip_if_the_cluster_has_a_gpu()
    flow = tmp_path / "flow.yaml"
    flow.write_text(
        f"name: on-gpu\ninput: {survey}\noutput: out.sgy\ndevice: gpu\n"
        "steps:\n  - agc: {window_ms: 500}\n"
    )
    result = CliRunner().invoke(cli, ["run", str(flow)], catch_exceptions=False)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [
        f"error: device: gpu, but the local Ray cluster has no GPU (it has "
        f"{cluster.describe()}); use device: auto or cpu, or run on a cluster "
        "with a GPU (--address)"
    ]
    assert not (tmp_path / "out.sgy").exists()
