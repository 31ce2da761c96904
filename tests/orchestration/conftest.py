"""Fixtures for the Ray adapter: one Ray instance and one warm pool for the whole session.

Starting Ray costs seconds and an actor more than a second, so both are shared (Ray by
the session, the pool by the module), as the engine shares them across jobs. Tests leave
the pool drained (nothing in flight) and release their jobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_helpers import GEOMETRY

from seisproc.io import synthesize_survey
from seisproc.orchestration import RayExecutor


@pytest.fixture(scope="module")
def executor(ray_cluster: None) -> Iterator[RayExecutor]:
    """Two CPU workers, up and answering before the first test uses them.

    Per module, not per session: the pool holds both CPUs, and a later test that makes
    its own pool (the engine's) could not place its actors beside it.
    """
    pool = RayExecutor(workers=2, units_per_worker=2)
    pool.wait_ready(timeout_s=60)
    yield pool
    pool.shutdown()


@pytest.fixture(scope="session")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 shots x 48 channels x 501 samples; read-only."""
    return synthesize_survey(tmp_path_factory.mktemp("ray-survey") / "shots.sgy", GEOMETRY)
