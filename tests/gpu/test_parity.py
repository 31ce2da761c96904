"""Every registered processor, on the path a job takes on a GPU worker (``run_unit`` ->
``DeviceUnitProcessor`` -> the job's ``run_steps``), writes the CPU worker's traces within
1e-5 of the peak (float32): on torch's CPU device everywhere, on CUDA or MPS where
present; with room for a whole unit in one batch, and with a budget so tight that every
gather is split by traces (or, for a processor that mixes traces, processed on the host).

The suite is parametrised over the processor registry: a processor is covered as soon as
it registers, with the examples of ``parity_examples`` (and fails, saying what to add,
without one)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gpu_helpers import (
    BP_AGC,
    BP_AGC_DECON,
    GEOMETRY,
    assert_close,
    device_or_skip,
    make_flow,
    run_job,
    with_delays,
)
from parity_examples import examples

from seisproc.io import gather_index, open_segy, synthesize_survey
from seisproc.jobs import units
from seisproc.orchestration.gpu import (
    WORKING_SET_FACTOR,
    DeviceUnitProcessor,
    GpuWorkerActor,
    TorchCpuWorkerActor,
    gpu_worker_class,
)
from seisproc.orchestration.workers import BaseWorkerActor, CpuWorkerActor
from seisproc.processing import (
    GatherContext,
    available_processors,
    create_processor,
    processor_class,
)
from seisproc.processing.device import TRACE_WISE, trace_wise

torch = pytest.importorskip("torch")

KINDS = ["cpu", "cuda", "mps"]
GATHER_NEED = GEOMETRY.channels * GEOMETRY.samples * 4 * WORKING_SET_FACTOR
"""Device memory one gather of the survey is planned to need."""
BUDGETS = {"roomy": None, "tight": GATHER_NEED // 3}
"""``roomy``: the unit's 8 gathers in one batch; ``tight``: a third of one gather."""
DELAYS_MS = [0, 8, 24, 100]

Reference = Callable[[list[dict[str, Any]]], np.ndarray]


@pytest.fixture(scope="module")
def parity_survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The little survey with a recording delay per shot (0, 8, 24, 100 ms, repeating)."""
    path = synthesize_survey(tmp_path_factory.mktemp("parity") / "shots.sgy", GEOMETRY)
    return with_delays(path, DELAYS_MS)


@pytest.fixture(scope="module")
def on_cpu_worker(parity_survey: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """The CPU worker's traces (numpy, the same ``run_unit``) for a list of steps, once."""
    folder = tmp_path_factory.mktemp("cpu-worker")
    done: dict[str, np.ndarray] = {}

    def reference(steps: list[dict[str, Any]]) -> np.ndarray:
        key = json.dumps(steps, sort_keys=True)
        if key not in done:
            flow = make_flow(parity_survey, folder / f"{len(done)}.sgy", steps=steps)
            done[key] = run_job(CpuWorkerActor(), flow, f"cpu-{len(done)}")
        return done[key]

    return reference


@pytest.mark.parametrize("budget", list(BUDGETS))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(available_processors()))
def test_every_processor_on_a_gpu_workers_job_path_writes_the_cpu_workers_traces(
    name: str, kind: str, budget: str, parity_survey: Path, on_cpu_worker: Reference, tmp_path: Path
) -> None:
    device_or_skip(kind)
    for number, params in enumerate(examples(name, tmp_path)):
        steps = [{name: params}]
        worker = gpu_worker_class(kind)(memory_budget_bytes=BUDGETS[budget])  # type: ignore[arg-type]
        flow = make_flow(parity_survey, tmp_path / f"{number}.sgy", steps=steps)
        out = run_job(worker, flow, f"parity-{name}-{number}")
        assert_close(out, on_cpu_worker(steps), f"{name} {params} ({budget} budget)")
        if processor_class(name).gather_by:
            continue  # CMP gathers or one section: not the 8 shots the splits count
        memory = worker.gpu_memory()
        splits = (memory.batches, memory.oom_splits, memory.host_fallbacks)
        if budget == "roomy":
            assert splits == (1, 0, 0)  # one unit of 8 gathers, one transfer each way
        elif trace_wise([create_processor(name, params)]):
            assert splits == (8 * 4, 8 * 3, 0)  # 48 traces -> 2 x 24 -> 4 x 12, each gather
        else:
            assert splits == (0, 0, 8)  # whole gathers only: each on the host


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("budget", list(BUDGETS))
def test_bandpass_then_agc_on_a_gpu_workers_job_path_writes_the_cpu_workers_traces(
    kind: str, budget: str, parity_survey: Path, on_cpu_worker: Reference, tmp_path: Path
) -> None:
    device_or_skip(kind)
    worker = gpu_worker_class(kind)(memory_budget_bytes=BUDGETS[budget])  # type: ignore[arg-type]
    out = run_job(
        worker,
        make_flow(parity_survey, tmp_path / "out.sgy", steps=BP_AGC),
        "chain",
        gathers_per_unit=3,
    )
    assert_close(out, on_cpu_worker(BP_AGC))


@pytest.mark.parametrize("kind", KINDS)
def test_a_flow_ending_in_decon_agrees_as_closely_as_float32_input_rounding_allows(
    kind: str, parity_survey: Path, on_cpu_worker: Reference, tmp_path: Path
) -> None:
    """bandpass, AGC, spiking decon: the decon (an inverse filter designed from the data)
    amplifies the earlier steps' float32 rounding differences beyond 1e-5 of the peak
    (each step alone is within 3e-6); numpy moves as much when its own input is perturbed
    by half a float32 ulp. The flow, not the device, sets the limit."""
    device_or_skip(kind)
    worker = gpu_worker_class(kind)()  # type: ignore[arg-type]
    out = run_job(
        worker, make_flow(parity_survey, tmp_path / "out.sgy", steps=BP_AGC_DECON), "decon"
    )
    expected = on_cpu_worker(BP_AGC_DECON)
    processors = [create_processor(*next(iter(s.items()))) for s in BP_AGC_DECON]
    rng = np.random.default_rng(0)
    on_torch = wobble = 0.0
    with open_segy(parity_survey) as segy:
        index = gather_index(segy, "ffid")
        for g in range(len(index)):
            rows = index.positions(g)
            x, _ = segy.read(rows)
            scale = float(np.abs(expected[rows]).max())
            rounded = (x * (1 + rng.uniform(-(2**-24), 2**-24, x.shape))).astype(np.float32)
            for processor in processors:  # delays do not matter to these three steps
                rounded = processor.apply(rounded, GatherContext(GEOMETRY.dt_ms))
            on_torch = max(on_torch, float(np.abs(out[rows] - expected[rows]).max()) / scale)
            wobble = max(wobble, float(np.abs(rounded - expected[rows]).max()) / scale)
    print(f"torch {on_torch:.2g}, numpy on rounded input {wobble:.2g} of the peak")
    assert on_torch < 1e-4 and on_torch <= 3 * wobble


# ------------------------------------------------------------ one path, checked
def test_the_parity_cases_run_the_code_a_job_runs(
    monkeypatch: pytest.MonkeyPatch, parity_survey: Path, tmp_path: Path
) -> None:
    """``run_job`` (what every case above calls) goes through the actor's ``run_unit``,
    the GPU worker's ``DeviceUnitProcessor`` and the job's own step runner, on tensors:
    a parity path of its own would miss these calls."""
    calls: Counter[str] = Counter()
    on_tensors: list[bool] = []

    def spy(owner: Any, name: str) -> None:
        real = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)

    spy(BaseWorkerActor, "run_unit")
    spy(DeviceUnitProcessor, "process_gathers")
    real_steps = units.run_steps

    def steps(processors: Any, data: Any, *args: Any, **kwargs: Any) -> Any:
        on_tensors.append(isinstance(data, torch.Tensor))
        return real_steps(processors, data, *args, **kwargs)

    monkeypatch.setattr(units, "run_steps", steps)
    run_job(
        TorchCpuWorkerActor(),
        make_flow(parity_survey, tmp_path / "o.sgy", steps=BP_AGC),
        "spied",
        gathers_per_unit=4,
    )
    assert calls == {"run_unit": 2, "process_gathers": 2}
    assert on_tensors == [True, True]  # one stacked batch of 4 gathers per unit


def test_a_gpu_worker_has_no_way_to_process_gathers_but_run_unit() -> None:
    """The seed's ``process_gather_gpu`` was a second path that only the tests took; a
    public method added beside ``run_unit`` would be another. Reading the device
    (``initialize_gpu``, ``gpu_memory``) is all a GPU worker adds."""

    def public(cls: type) -> set[str]:
        return {name for name in dir(cls) if not name.startswith("_")}

    assert public(GpuWorkerActor) - public(BaseWorkerActor) == {
        "initialize_gpu",
        "gpu_memory",
        "device_kind",
        "memory_budget_bytes",
    }


@pytest.mark.parametrize("name", sorted(TRACE_WISE))
def test_trace_wise_processors_give_each_trace_the_same_result_in_any_company(
    name: str, tmp_path: Path
) -> None:
    """What lets a GPU worker stack gathers and split one: processing the traces in two
    groups, each with its part of the headers, gives the traces of processing them
    together."""
    rng = np.random.default_rng(15)
    gather = (100 * rng.standard_normal((24, 1001)) * np.exp(-np.arange(1001) / 400.0)).astype(
        np.float32
    )
    context = GatherContext(
        2.0,
        offsets_m=np.linspace(-1500, 2500, 24),
        cdps=np.repeat([10, 11, 12], 8),
        delays_ms=np.repeat([0.0, 40.0], 12),
    )
    for params in examples(name, tmp_path):
        processor = create_processor(name, params)
        together = processor.apply(gather, context)
        halves = [
            GatherContext(
                2.0,
                context.offsets_m[s],
                context.cdps[s],  # type: ignore[index]
                context.delays_ms[s],
            )  # type: ignore[index]
            for s in (slice(None, 10), slice(10, None))
        ]
        apart = np.concatenate(
            [processor.apply(gather[:10], halves[0]), processor.apply(gather[10:], halves[1])]
        )
        assert_close(apart, together, f"{name} {params}")
