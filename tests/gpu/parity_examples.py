"""The parameters each registered processor is checked with on the GPU worker's path.

The parity suite is parametrised over the processor registry, so a processor is covered
the moment it registers. Its examples come, in order, from:

1. the torch parity cases shared with ``tests/processing`` (``tests/parity_cases.py``);
2. :data:`GPU_CASES` below: processors whose parameters name a file, and the imaging
   processors the shared list does not hold;
3. the processor's own ``starting_params`` (what the desktop flow editor starts a new
   step with), when its class declares them.

A processor with none of these fails its parity test, saying where to add one: it is
never skipped silently. A parameter listed in the processor's ``path_fields`` (a file it
reads, e.g. NMO's velocity table) is written by :data:`FILES` when the example leaves it
out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from parity_cases import CASES
from seisproc.processing import processor_class
from seisproc.processing.imaging import VelocityTable, write_velocity_table

GPU_CASES: list[tuple[str, dict[str, Any]]] = [
    ("nmo", {"stretch_mute_percent": 30}),
    ("nmo", {"stretch_mute_percent": None, "inverse": True}),
    ("predictive_decon", {"operator_ms": 100, "gap_ms": 16}),
    ("predictive_decon", {"operator_ms": 60, "gap_ms": 24, "design_window_ms": [200, 1600]}),
    ("fk_filter", {"v_min_m_s": 300, "v_max_m_s": 1500, "taper_percent": 20}),
    ("mute", {"offsets_m": [0, 300, 600], "times_ms": [50, 300, 900], "side": "bottom"}),
    ("mute", {"offsets_m": [0, 600], "times_ms": [40, 400], "taper_ms": 0}),
    ("stack", {}),
    ("phase_shift_migration", {"trace_spacing_m": 12.5}),
]


def _velocity_table(folder: Path) -> str:
    """Picks at two CDPs across the little survey's range (-23..52), so each gather's
    traces look up velocities at their own CDPs (a batch must carry them)."""
    table = VelocityTable.from_picks(
        [-20, -20, 50, 50], [0, 2000, 0, 2000], [1600, 3200, 1900, 3600]
    )
    return str(write_velocity_table(folder / "velocities.csv", table))


FILES: dict[str, Callable[[Path], str]] = {"velocities": _velocity_table}
"""Writers of the files a ``path_fields`` parameter names, by parameter name."""


def examples(name: str, folder: Path) -> list[dict[str, Any]]:
    """Every example of processor ``name``, its files written under ``folder``; fails the
    test (naming what to add) when there is none."""
    cls = processor_class(name)
    found = [dict(p) for n, p in [*CASES, *GPU_CASES] if n == name]
    declared = getattr(cls, "starting_params", None)
    if declared and dict(declared) not in found:
        found.append(dict(declared))
    if not found:
        pytest.fail(
            f"processor {name!r} has no example parameters for the GPU parity suite: give "
            f"{cls.__name__} `starting_params` (sensible values for 4 ms data a few seconds "
            "long, also what the flow editor starts a step with), or add a case to "
            "tests/parity_cases.py (or GPU_CASES in tests/gpu/parity_examples.py when its "
            "parameters name a file)"
        )
    return [_with_files(cls, params, folder) for params in found]


def _with_files(cls: Any, params: dict[str, Any], folder: Path) -> dict[str, Any]:
    for field in getattr(cls, "path_fields", ()):
        if field in params:
            continue
        if field not in FILES:
            pytest.fail(
                f"{cls.__name__} ({cls.name!r}) reads a file named by {field!r}: "
                "add a writer for it to FILES in tests/gpu/parity_examples.py"
            )
        params = {**params, field: FILES[field](folder)}
    return params
