"""The GPU worker class used directly, in this process, units going through ``run_unit``
as a job sends them: the seed's three tests and how it batches, splits and releases
device memory. On the CPU device unless a test says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gpu_helpers import BP_AGC, BP_AGC_DECON, assert_close, device_or_skip, make_flow, run_job

from seisproc.errors import ProcessingError
from seisproc.io import open_segy
from seisproc.jobs.plan import plan_job
from seisproc.jobs.ports import JobSpec
from seisproc.orchestration.gpu import (
    BUDGET_ENV,
    WORKING_SET_FACTOR,
    BatchStats,
    DeviceBatcher,
    GpuWorkerActor,
    MetalWorkerActor,
    Piece,
    TorchCpuWorkerActor,
    TorchDevice,
    budget_from_env,
    gpu_worker_class,
    plan_batches,
    stack_contexts,
)
from seisproc.orchestration.workers import CpuWorkerActor
from seisproc.processing import GatherContext, create_processor
from seisproc.processing.device import DeviceError

torch = pytest.importorskip("torch")

DT_MS = 4.0
CONTEXT = GatherContext(DT_MS)
KINDS = ["cpu", "cuda", "mps"]


def gather(n_traces: int = 48, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n_traces, 501)) * np.exp(-np.arange(501) / 200.0)
    data[n_traces // 3] = 0.0  # a dead trace
    return (50.0 * data).astype(np.float32)


def on_numpy(samples: np.ndarray, steps: list[dict[str, Any]] = BP_AGC_DECON) -> np.ndarray:
    context = GatherContext(DT_MS)
    data = samples
    for step in steps:
        ((name, params),) = step.items()
        data = create_processor(name, params).apply(data, context)
    return np.asarray(data)


def reference(survey: Path, folder: Path, steps: list[dict[str, Any]]) -> np.ndarray:
    """The CPU worker's traces for ``steps``: numpy, through the same ``run_unit``."""
    flow = make_flow(survey, folder / "cpu-reference.sgy", steps=steps)
    return run_job(CpuWorkerActor(), flow, "cpu-reference")


# ---------------------------------------------------------------- the seed's three tests
@pytest.mark.parametrize("kind", KINDS)
def test_gpu_worker_initializes_gpu(kind: str) -> None:
    device_or_skip(kind)
    worker = gpu_worker_class(kind)()  # type: ignore[arg-type]
    assert worker.gpu_memory().name == "(not initialised)"  # nothing until asked
    info = worker.initialize_gpu()
    assert (info.kind, info.torch_version) == (kind, torch.__version__)
    assert info.node
    if kind == "cuda":
        assert info.index is not None and info.total_bytes and info.total_bytes > 0
    assert worker.gpu_memory().name == info.name  # the same device from now on
    assert worker.initialize_gpu() == info


@pytest.mark.parametrize("kind", KINDS)
def test_gpu_worker_processes_gather(kind: str, survey: Path, tmp_path: Path) -> None:
    """A unit of one gather through ``run_unit``, as a job sends it: numpy's traces."""
    device_or_skip(kind)
    worker = gpu_worker_class(kind)()  # type: ignore[arg-type]
    out = run_job(
        worker, make_flow(survey, tmp_path / "out.sgy", steps=BP_AGC), "one", gathers_per_unit=1
    )
    assert out.dtype == np.float32 and out.shape == (8 * 48, 501)
    assert_close(out, reference(survey, tmp_path, BP_AGC))
    assert worker.gpu_memory().batches == 8  # one gather per unit, one batch each


def test_gpu_worker_handles_gpu_memory(survey: Path, tmp_path: Path) -> None:
    """A budget a third of what one gather needs: each gather is halved twice (by traces:
    every step is trace-wise) and gives the same traces as in one piece."""
    need = 48 * 501 * 4 * WORKING_SET_FACTOR
    worker = GpuWorkerActor(device="cpu", memory_budget_bytes=need // 3)
    out = run_job(
        worker, make_flow(survey, tmp_path / "out.sgy", steps=BP_AGC), "tight", gathers_per_unit=1
    )
    memory = worker.gpu_memory()
    assert (memory.oom_splits, memory.batches, memory.host_fallbacks) == (8 * 3, 8 * 4, 0)
    assert memory.budget_bytes == need // 3
    assert memory.largest_batch_bytes == need // 4 <= need // 3
    assert_close(out, reference(survey, tmp_path, BP_AGC))


# ---------------------------------------------------------------- memory, in detail
def test_a_torch_out_of_memory_error_inside_a_step_splits_the_batch(
    monkeypatch: pytest.MonkeyPatch, survey: Path, tmp_path: Path
) -> None:
    """What CUDA raises: torch.OutOfMemoryError, here from the first step on more than 12
    traces, wrapped by the step runner in a ProcessingError (found through __cause__)."""
    from seisproc.processing.filters import Bandpass

    real_apply = Bandpass.apply

    def tight_apply(self: Bandpass, data: Any, context: GatherContext) -> Any:
        if isinstance(data, torch.Tensor) and data.shape[0] > 12:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_apply(self, data, context)

    expected = reference(survey, tmp_path, BP_AGC)
    monkeypatch.setattr(Bandpass, "apply", tight_apply)
    worker = GpuWorkerActor(device="cpu")
    out = run_job(
        worker, make_flow(survey, tmp_path / "out.sgy", steps=BP_AGC), "oom", gathers_per_unit=1
    )
    assert worker.gpu_memory().oom_splits == 8 * 3  # 48 -> 2 x 24 -> 4 x 12 traces
    assert_close(out, expected)


def test_a_trace_that_never_fits_is_processed_on_the_host(
    caplog: pytest.LogCaptureFixture, survey: Path, tmp_path: Path
) -> None:
    flow = make_flow(survey, tmp_path / "out.sgy", steps=BP_AGC)
    plan = plan_job(flow, gathers_per_unit=1)
    spec = JobSpec("job-host", flow, str(plan.partial_path), plan.output_layout)
    worker = GpuWorkerActor(device="cpu", memory_budget_bytes=100)
    worker.run_unit(spec, plan.units[0])
    worker.release_job(spec.job_id)
    memory = worker.gpu_memory()
    assert (memory.batches, memory.host_fallbacks, memory.oom_splits) == (0, 48, 47)
    assert "processed on the host" in caplog.text
    with open_segy(plan.partial_path) as written:
        first, _ = written.read(np.arange(48))
    assert_close(first, reference(survey, tmp_path, BP_AGC)[:48])


def test_a_flow_that_is_not_trace_wise_is_split_by_whole_gathers_only() -> None:
    device = TorchDevice("cpu", budget_bytes=gather().nbytes * WORKING_SET_FACTOR)
    processors = [create_processor("agc", {"window_ms": 500})]
    stats = BatchStats()

    def apply(data: Any, context: GatherContext, key: int) -> Any:
        return processors[0].apply(data, context)

    batcher = DeviceBatcher(device, processors, apply, stats)
    batcher.trace_wise = False  # as if the flow had a step that mixes traces
    big = Piece(gather(n_traces=96), CONTEXT, 2)
    pieces = [Piece(gather(seed=1), CONTEXT, 1), big]
    out = batcher.process(pieces)
    assert (stats.oom_splits, stats.batches, stats.host_fallbacks) == (1, 1, 1)
    steps = [{"agc": {"window_ms": 500}}]
    assert_close(out[0], on_numpy(pieces[0].samples, steps))
    assert_close(out[1], on_numpy(big.samples, steps))


def test_an_error_in_a_stacked_batch_names_the_gather_it_came_from() -> None:
    device = TorchDevice("cpu")

    def apply(data: Any, context: GatherContext, key: int) -> Any:
        if bool(torch.isnan(data).any()):
            raise ProcessingError(f"gather ffid={key}: not a number")
        return data * 2

    bad = gather(seed=2)
    bad[3, 10] = np.nan
    pieces = [
        Piece(gather(seed=1), CONTEXT, 11),
        Piece(bad, CONTEXT, 12),
        Piece(gather(), CONTEXT, 13),
    ]
    batcher = DeviceBatcher(
        device, [create_processor("agc", {"window_ms": 500})], apply, BatchStats()
    )
    assert batcher.trace_wise
    with pytest.raises(ProcessingError, match="gather ffid=12"):
        batcher.process(pieces)


def test_stacked_and_split_gathers_keep_their_own_headers() -> None:
    """Offsets, CDPs and delays travel with their traces into a batch and out of a split
    (tpow over gathers of different delays, NMO over different CDPs depend on it)."""
    a = GatherContext(
        DT_MS, offsets_m=np.arange(3.0), cdps=np.array([1, 1, 2]), delays_ms=np.zeros(3)
    )
    b = GatherContext(
        DT_MS, offsets_m=np.arange(2.0) + 10, cdps=np.array([5, 5]), delays_ms=np.full(2, 8.0)
    )
    both = stack_contexts([a, b])
    assert both.cdps.tolist() == [1, 1, 2, 5, 5]  # type: ignore[union-attr]
    assert both.delays_ms.tolist() == [0, 0, 0, 8, 8]  # type: ignore[union-attr]
    assert both.offsets_m.tolist() == [0, 1, 2, 10, 11]  # type: ignore[union-attr]
    assert stack_contexts([a, GatherContext(DT_MS)]).cdps is None  # one gather lacks them
    top, bottom = Piece(np.zeros((3, 4), np.float32), a, 7).halves()
    assert top.context.cdps.tolist() == [1]  # type: ignore[union-attr]
    assert bottom.context.cdps.tolist() == [1, 2]  # type: ignore[union-attr]
    assert bottom.context.offsets_m.tolist() == [1, 2]  # type: ignore[union-attr]
    with pytest.raises(ProcessingError, match="sample_interval_ms"):
        stack_contexts([a, GatherContext(2.0)])


def test_batches_are_planned_to_fit_the_capacity() -> None:
    assert plan_batches([4, 4, 4, 4], capacity=8) == [[0, 1], [2, 3]]
    assert plan_batches([4, 9, 4, 3], capacity=8) == [[0], [1], [2, 3]]
    assert plan_batches([4, 4, 4], capacity=None) == [[0, 1, 2]]
    assert plan_batches([], capacity=8) == []


def test_a_unit_is_processed_in_batches_that_fit_the_budget(survey: Path, tmp_path: Path) -> None:
    """Two 48-trace gathers fit the budget: each 4-gather unit goes in two batches."""
    flow = make_flow(survey, tmp_path / "out.sgy")
    plan = plan_job(flow, gathers_per_unit=4)
    spec = JobSpec("job-batches", flow, str(plan.partial_path), plan.output_layout)
    per_gather = 48 * 501 * 4 * WORKING_SET_FACTOR
    worker = TorchCpuWorkerActor(memory_budget_bytes=2 * per_gather)
    results = [worker.run_unit(spec, unit)[0] for unit in plan.units]
    worker.release_job(spec.job_id)
    assert [r.gathers for r in results if r] == [4, 4]
    memory = worker.gpu_memory()
    assert (memory.batches, memory.oom_splits) == (4, 0)
    assert memory.largest_batch_bytes == 2 * per_gather


def test_device_memory_is_released_when_a_job_ends(
    survey: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    released: list[str] = []
    monkeypatch.setattr(TorchDevice, "release", lambda self: released.append(self.kind))
    flow = make_flow(survey, tmp_path / "out.sgy")
    plan = plan_job(flow)
    spec = JobSpec("job-release", flow, str(plan.partial_path), plan.output_layout)
    worker = TorchCpuWorkerActor()
    worker.run_unit(spec, plan.units[0])
    assert worker.open_jobs() == [spec.job_id] and released == []
    worker.release_job(spec.job_id)
    assert worker.open_jobs() == [] and released == ["cpu"]


def test_cuda_memory_goes_back_to_the_device_when_a_job_ends(survey: Path, tmp_path: Path) -> None:
    device_or_skip("cuda")
    flow = make_flow(survey, tmp_path / "out.sgy")
    plan = plan_job(flow)
    spec = JobSpec("job-cuda", flow, str(plan.partial_path), plan.output_layout)
    worker = GpuWorkerActor()
    worker.initialize_gpu()
    before = torch.cuda.memory_allocated()
    worker.run_unit(spec, plan.units[0])
    assert worker.gpu_memory().peak_allocated_bytes > before
    worker.release_job(spec.job_id)
    memory = worker.gpu_memory()
    assert memory.allocated_bytes is not None and memory.reserved_bytes is not None
    assert memory.allocated_bytes <= before + 2**20  # no tensor of the job outlives it
    # Cached blocks went back: what stays reserved is what is live, to a 2 MiB segment.
    assert memory.reserved_bytes <= memory.allocated_bytes + 2 * 2**20


def test_a_cuda_worker_without_cuda_says_what_is_missing() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(DeviceError, match=r"sees no CUDA device.*install a CUDA build"):
        GpuWorkerActor().initialize_gpu()


def test_the_budget_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for text, expected in [
        ("1048576", 2**20),
        ("512M", 512 * 2**20),
        ("2GiB", 2 * 2**30),
        ("1.5k", 1536),
    ]:
        monkeypatch.setenv(BUDGET_ENV, text)
        assert budget_from_env() == expected
        assert GpuWorkerActor(device="cpu").gpu_memory().budget_bytes == expected
    monkeypatch.setenv(BUDGET_ENV, "lots")
    with pytest.raises(Exception, match="give bytes"):
        budget_from_env()


def test_device_resources_and_concurrency_groups() -> None:
    assert GpuWorkerActor.ray_options == {"num_cpus": 1, "num_gpus": 1}
    assert MetalWorkerActor.ray_options == {"num_cpus": 1, "resources": {"metal": 1}}
    assert TorchCpuWorkerActor.ray_options == {"num_cpus": 1}
    assert [gpu_worker_class(k).device_kind for k in KINDS] == KINDS  # type: ignore[arg-type]
    groups = {
        name: getattr(GpuWorkerActor, name).__ray_concurrency_group__
        for name in ("initialize_gpu", "gpu_memory", "run_unit", "release_job")
    }
    assert groups == {
        "initialize_gpu": "work",
        "gpu_memory": "control",
        "run_unit": "work",
        "release_job": "control",
    }
