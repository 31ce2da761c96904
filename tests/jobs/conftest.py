"""Fixtures for engine tests: a JobManager on in-process adapters, and a reference run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reference_outputs import reference_output, same_data
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import Job
from seisproc.processing.flow import Flow


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
