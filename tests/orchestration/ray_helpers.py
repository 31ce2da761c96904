"""Helpers shared by the Ray adapter's tests and the multi-node script (no fixtures)."""

from __future__ import annotations

import uuid
from pathlib import Path

from seisproc.io import SurveyGeometry
from seisproc.jobs.plan import JobPlan
from seisproc.jobs.ports import Completion, JobSpec
from seisproc.jobs.units import WorkUnit
from seisproc.orchestration import RayExecutor
from seisproc.processing.flow import Flow

GEOMETRY = SurveyGeometry(shots=8, channels=48, samples=501, dt_ms=4.0)
BANDPASS_AGC = [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}},
                {"agc": {"window_ms": 500}}]
SLOW = [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}},
        {"spiking_decon": {"operator_ms": 400}}, {"agc": {"window_ms": 500}}]
"""About 5 ms per gather here: slow enough to be caught running, short between checks."""


def make_flow(survey: Path, output: Path, steps: list | None = None) -> Flow:
    return Flow.from_mapping({"name": "ray-test", "input": str(survey), "output": str(output),
                              "gather_by": "ffid", "steps": steps or BANDPASS_AGC})


def make_spec(plan: JobPlan, flow: Flow | None = None) -> JobSpec:
    """A spec under a fresh job id, for the planned partial output."""
    return JobSpec(f"job-{uuid.uuid4().hex[:8]}", flow or plan.flow, str(plan.partial_path),
                   plan.output_layout)


def drain(executor: RayExecutor, timeout_s: float = 30.0) -> list[Completion]:
    """Wait for everything in flight; fail the test rather than hang."""
    done: list[Completion] = []
    for _ in range(int(timeout_s / 0.5)):
        if executor.in_flight() == 0:
            return done
        done += executor.wait(0.5)
    raise AssertionError(f"{executor.in_flight()} units still in flight after {timeout_s} s")


def run_units(executor: RayExecutor, spec: JobSpec, units: tuple[WorkUnit, ...],
              ) -> tuple[list[Completion], int]:
    """Dispatch like the JobManager does: only while below capacity.

    Returns the completions and the most units ever in flight; checks after every
    submit and every wait that neither the executor nor any actor is over its bound.
    """
    todo, done, most = list(units), [], 0
    while todo or executor.in_flight():
        while todo and executor.in_flight() < executor.capacity():
            executor.submit(spec, todo.pop(0))
            most = max(most, _checked_in_flight(executor))
        done += executor.wait(5.0)
        _checked_in_flight(executor)
    return done, most


def _checked_in_flight(executor: RayExecutor) -> int:
    in_flight = executor.in_flight()
    assert in_flight <= executor.capacity()
    per_actor = [w.in_flight for w in executor.workers()]
    assert sum(per_actor) == in_flight
    assert max(per_actor) <= executor.capacity() // len(per_actor)
    return in_flight
