"""Fixtures for engine tests: a JobManager on in-process adapters, and a reference run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from seisproc.io.writer import commit_output
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import Job
from seisproc.jobs.plan import plan_job
from seisproc.jobs.units import UnitProcessor
from seisproc.processing.flow import Flow


def reference_output(flow: Flow) -> Path:
    """The flow applied unit after unit with no engine at all: what a job must reproduce."""
    plan = plan_job(flow, overwrite=True, tag="reference")
    with UnitProcessor(flow, plan.partial_path, plan.output_layout) as worker:
        for unit in plan.units:
            worker.run(unit)
    commit_output(plan.partial_path, flow.output)
    return flow.output


def same_data(a: Path, b: Path) -> bool:
    """Binary header and every trace byte-identical (the textual header names the flow)."""
    return a.read_bytes()[3200:] == b.read_bytes()[3200:]


@pytest.fixture
def reference() -> Callable[[Flow], Path]:
    return reference_output


@pytest.fixture(name="same_data")
def same_data_fixture() -> Callable[[Path, Path], bool]:
    return same_data


@pytest.fixture
def run_job(tmp_path: Path) -> Iterator[Callable[..., Job]]:
    """Run a flow to its end as a job on threads; returns the finished job."""
    manager = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=2),
                         CheckpointStore(tmp_path / "checkpoints"), gathers_per_unit=2)

    def run(flow: Flow, overwrite: bool = False) -> Job:
        return manager.wait(manager.submit(flow, overwrite=overwrite).id, timeout_s=120)

    yield run
    manager.close(active="cancel")
