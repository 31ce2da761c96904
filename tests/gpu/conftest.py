"""Fixtures of the GPU-worker tests: a small survey and Ray once per session.

The GPU worker's code runs on torch's CPU device here (``TorchCpuWorkerActor``, or
``GpuWorkerActor(device="cpu")``), exactly as on a CUDA or MPS device but for where the
tensors live; tests that need a real GPU skip, saying so, where there is none.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gpu_helpers import GEOMETRY

from seisproc.io import synthesize_survey


@pytest.fixture(scope="session")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 shots x 48 channels x 501 samples at 4 ms; read-only."""
    return synthesize_survey(tmp_path_factory.mktemp("gpu-survey") / "shots.sgy", GEOMETRY)
