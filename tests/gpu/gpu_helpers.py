"""Helpers shared by the GPU-worker tests (no fixtures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seisproc.io import SurveyGeometry
from seisproc.processing import processor_class
from seisproc.processing.flow import Flow

GEOMETRY = SurveyGeometry(shots=8, channels=48, samples=501, dt_ms=4.0)
BP_AGC_DECON: list[dict[str, Any]] = [
    {"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}},
    {"agc": {"window_ms": 500}},
    {"spiking_decon": {"operator_ms": 80}},
]
"""The benchmark's flow: a filter, a gain and a deconvolution (float64 design).

Each step alone is within 3e-6 of numpy on torch. Chained on the synthetic survey, the
decon (an inverse filter designed from the data) amplifies the earlier steps' float32
rounding differences to 2.7e-5 of the peak; numpy itself moves 2.1e-5 when the input is
perturbed at half a float32 ulp (``test_parity``). Whole-flow comparisons at 1e-5 use
:data:`BP_AGC`."""

BP_AGC: list[dict[str, Any]] = BP_AGC_DECON[:2]
"""Bandpass then AGC: the whole flow within 3e-6 of numpy on torch."""


def gather_key(steps: list[dict[str, Any]]) -> str:
    """``ffid``, or the key a step needs (``cdp`` for a stack, ``section`` for migration)."""
    for step in steps:
        for name in step:
            wanted = processor_class(name).gather_by
            if wanted:
                return wanted[0]
    return "ffid"


def make_flow(
    survey: Path, output: Path, device: str = "auto", steps: list[dict[str, Any]] | None = None
) -> Flow:
    return Flow.from_mapping(
        {
            "name": "gpu-test",
            "input": str(survey),
            "output": str(output),
            "gather_by": gather_key(steps or BP_AGC_DECON),
            "steps": steps or BP_AGC_DECON,
            "device": device,
        }
    )


def traces(path: Path) -> np.ndarray:
    """Every trace of a (little) SEG-Y file as float32, in file order."""
    from seisproc.io import open_segy

    with open_segy(path) as segy:
        samples, _ = segy.read(np.arange(segy.layout.n_traces))
    return samples


def assert_close(actual: np.ndarray, expected: np.ndarray, what: str = "") -> None:
    """Within 1e-5 relative, the scale being the largest expected amplitude (float32)."""
    np.testing.assert_allclose(
        actual, expected, rtol=1e-5, atol=1e-5 * float(np.abs(expected).max()), err_msg=what
    )


def device_or_skip(kind: str) -> None:
    """Skip unless torch can use ``kind`` (the CPU device always can)."""
    torch = pytest.importorskip("torch")
    if kind == "cuda" and not torch.cuda.is_available():
        pytest.skip(f"no CUDA GPU here (torch {torch.__version__}): run on a GPU machine")
    if kind == "mps" and not torch.backends.mps.is_available():
        pytest.skip("no Apple MPS device here: run on Apple silicon")


class Borrowed:
    """A module's executor lent to a JobManager, which would otherwise shut it down."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def shutdown(self) -> None:
        """Left running: the module fixture that made it shuts it down."""


def with_delays(path: Path, delays_ms: list[int]) -> Path:
    """Set each gather's recording delay (``delrt``, bytes 109-110, the shot's traces all
    alike) in the little survey at ``path``, so that a batch stacking gathers must carry
    each gather's own delays: the synthetic survey records from time zero."""
    from seisproc.io import open_segy

    with open_segy(path) as segy:
        layout = segy.layout
    shots = np.arange(layout.n_traces) // GEOMETRY.channels  # shot by shot, as synthesised
    with path.open("r+b") as f:
        for trace, shot in enumerate(shots):
            f.seek(layout.data_offset + trace * layout.trace_bytes + 108)
            f.write(int(delays_ms[shot % len(delays_ms)]).to_bytes(2, layout.endian, signed=True))
    return path


def run_job(worker: Any, flow: Flow, job_id: str, gathers_per_unit: int = 8) -> np.ndarray:
    """Every trace of ``flow`` as ``worker`` writes it, unit by unit through ``run_unit``:
    the method a pool's actor runs for each unit a job sends it (here in this process, so
    a test can look inside). Released afterwards, as a job's end releases it."""
    from seisproc.io.writer import commit_output
    from seisproc.jobs.plan import plan_job
    from seisproc.jobs.ports import JobSpec

    plan = plan_job(flow, gathers_per_unit=gathers_per_unit)
    spec = JobSpec(job_id, flow, str(plan.partial_path), plan.output_layout)
    try:
        results = [worker.run_unit(spec, unit)[0] for unit in plan.units]
    finally:
        worker.release_job(job_id)
    assert all(result is not None for result in results), "a unit was stopped"
    commit_output(plan.partial_path, flow.output)
    return traces(flow.output)
