"""Imaging: velocity tables, NMO, velocity analysis, stack and migration.

``nmo`` is a processor like the others (a gather in, the same traces out); ``stack``
returns one trace per CMP (:func:`stack_gather`), so it ends a flow stage gathered by CDP.
The migrations (a whole section) are pure functions here (see the architecture page's
"Imaging" section).
"""

from seisproc.processing.imaging.migration import (
    PhaseShiftMigration,
    kirchhoff_time_migration,
    phase_shift_migration,
)
from seisproc.processing.imaging.nmo import NMO, NMOParams, moveout_times_ms
from seisproc.processing.imaging.semblance import (
    SemblancePanel,
    pick_velocity_function,
    semblance_panel,
)
from seisproc.processing.imaging.stack import Stack, StackedTrace, stack_gather
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
    "PhaseShiftMigration",
    "SemblancePanel",
    "Stack",
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
