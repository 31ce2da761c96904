"""The panels' shared clip: one scale for every column, so that louder looks louder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seisproc.jobs.panels import GatherPanel
from seisproc.plots.panels import draw_panels, shared_clip


def panel(samples: np.ndarray) -> GatherPanel:
    n = samples.shape[0]
    return GatherPanel(1001, samples.astype(np.float32), np.linspace(-100, 100, n), 4.0)


def test_the_clip_is_shared_so_a_louder_column_saturates_less_than_a_quiet_one() -> None:
    rng = np.random.default_rng(0)
    quiet, loud = rng.normal(size=(10, 200)), 10 * rng.normal(size=(10, 200))
    clip = shared_clip([[panel(quiet)], [panel(loud)]])
    assert clip == shared_clip([[panel(loud)], [panel(quiet)]])  # order does not matter
    assert np.mean(np.abs(quiet) > clip) == 0  # the quiet column stays inside it
    assert 0.005 < np.mean(np.abs(np.concatenate([quiet, loud])) > clip) < 0.02


def test_non_finite_samples_and_silence_do_not_break_the_clip() -> None:
    spoiled = np.ones((4, 50))
    spoiled[0, :10] = np.nan
    spoiled[1, 0] = np.inf
    assert shared_clip([[panel(spoiled)]]) == 1.0
    assert shared_clip([[panel(np.zeros((4, 50)))]]) == 1.0


def test_the_picture_is_written_whole_under_its_name(tmp_path: Path) -> None:
    out = tmp_path / "p.png"
    columns = [[panel(np.ones((6, 40))), panel(-np.ones((6, 40)))] for _ in range(3)]
    assert draw_panels(columns, ["a=1", "a=2", "a=3"], "ffid", out, "t") == out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png"]
