"""The imaging processors and kernels on torch tensors agree with numpy and stay torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seisproc.processing import GatherContext, create_processor
from seisproc.processing.imaging import (
    VelocityTable,
    kirchhoff_time_migration,
    phase_shift_migration,
    semblance_panel,
    stack_gather,
    write_velocity_table,
)

torch = pytest.importorskip("torch")

CASES: list[tuple[str, dict[str, Any]]] = [
    ("nmo", {"stretch_mute_percent": 30}),
    ("nmo", {"stretch_mute_percent": None, "inverse": True}),
    ("predictive_decon", {"operator_ms": 100, "gap_ms": 16}),
    ("fk_filter", {"v_min_m_s": 300, "v_max_m_s": 1500, "taper_percent": 20}),
    ("mute", {"offsets_m": [0, 1000, 2500], "times_ms": [50, 300, 900], "side": "bottom"}),
    ("tpow", {"power": 2}),
]


def _gather() -> np.ndarray:
    rng = np.random.default_rng(15)
    gather = rng.standard_normal((24, 501)) * np.exp(-np.arange(501) / 300.0)
    gather[5] = 0.0
    return (100.0 * gather).astype(np.float32)


def _close(out: Any, expected: np.ndarray) -> None:
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(
        out.numpy(), expected, rtol=1e-5, atol=1e-5 * float(np.abs(expected).max())
    )


@pytest.mark.parametrize(("name", "params"), CASES, ids=[n for n, _ in CASES])
def test_processor_on_a_torch_tensor_matches_numpy(
    tmp_path: Path, name: str, params: dict[str, Any]
) -> None:
    if name == "nmo":
        table = VelocityTable.from_picks([10, 10, 30], [0, 900, 0], [1700, 2900, 2000])
        params = {**params, "velocities": str(write_velocity_table(tmp_path / "v.csv", table))}
    context = GatherContext(
        2.0,
        offsets_m=np.linspace(-1500, 2500, 24),
        cdps=np.repeat([10, 20, 30], 8),
        delays_ms=np.full(24, 8.0),
    )
    processor = create_processor(name, params)
    gather = _gather()
    _close(processor.apply(torch.from_numpy(gather), context), processor.apply(gather, context))


def test_stack_and_semblance_on_torch_match_numpy() -> None:
    gather = _gather()
    stacked = stack_gather(torch.from_numpy(gather))
    assert stacked.fold == stack_gather(gather).fold == 23
    _close(stacked.samples, stack_gather(gather).samples)
    offsets = np.linspace(-1500, 2500, 24)
    velocities = np.array([1500.0, 2200.0, 3000.0])
    panel = semblance_panel(torch.from_numpy(gather), offsets, 2.0, velocities, 24.0)
    _close(panel.values, semblance_panel(gather, offsets, 2.0, velocities, 24.0).values)


@pytest.mark.parametrize("migrate", [phase_shift_migration, kirchhoff_time_migration])
def test_migrations_on_torch_match_numpy(migrate: Any) -> None:
    section = _gather()[:, :200]
    vrms = np.linspace(1800.0, 2600.0, 200)
    _close(migrate(torch.from_numpy(section), 4.0, 12.5, vrms), migrate(section, 4.0, 12.5, vrms))
