"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seisproc.io.synth import SurveyGeometry, synthesize_survey

SMALL_GEOMETRY = SurveyGeometry(shots=6, channels=24, samples=251, dt_ms=4.0)


@pytest.fixture(autouse=True)
def seisproc_home(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``SEISPROC_HOME`` per test: caches and history never leak between tests
    or into the user's ``~/.seisproc``."""
    home = tmp_path_factory.mktemp("seisproc-home")
    monkeypatch.setenv("SEISPROC_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def small_survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 shots x 24 channels x 251 samples at 4 ms, IEEE big-endian, seed 0.

    Shared by the session: treat it as read-only and copy it before changing it.
    """
    return synthesize_survey(tmp_path_factory.mktemp("survey") / "small.sgy", SMALL_GEOMETRY)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """Ray for the session: a local 2-CPU instance unless this process already joined one
    (``connect`` is idempotent). Engines and executors are made per test or module and
    shut down after it, so each one finds both CPUs free for its workers."""
    from seisproc.orchestration import connect, ray_shutdown_if_started

    connect(num_cpus=2)
    yield
    ray_shutdown_if_started()
