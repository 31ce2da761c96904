"""Imaging: velocity tables, NMO, velocity analysis, stack and migration.

``nmo`` is a processor like the others (a gather in, the same traces out). The steps that
change a gather's shape, :func:`stack_gather` (one trace per CMP) and the migrations (a
whole section), are pure functions here; a flow stage runs them once the engine plans
outputs of another shape (see the architecture page's "Imaging" section).
"""

from seisproc.processing.imaging.migration import kirchhoff_time_migration, phase_shift_migration
from seisproc.processing.imaging.nmo import NMO, NMOParams, moveout_times_ms
from seisproc.processing.imaging.semblance import (
    SemblancePanel,
    pick_velocity_function,
    semblance_panel,
)
from seisproc.processing.imaging.stack import StackedTrace, stack_gather
from seisproc.processing.imaging.velocity import (
    COLUMNS,
    VelocityTable,
    dix_interval_velocities,
    read_velocity_table,
    write_velocity_table,
)

__all__ = [
    "COLUMNS",
    "NMO",
    "NMOParams",
    "SemblancePanel",
    "StackedTrace",
    "VelocityTable",
    "dix_interval_velocities",
    "kirchhoff_time_migration",
    "moveout_times_ms",
    "phase_shift_migration",
    "pick_velocity_function",
    "read_velocity_table",
    "semblance_panel",
    "stack_gather",
    "write_velocity_table",
]
