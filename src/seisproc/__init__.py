"""seisproc: seismic data processing flows run as jobs.

The public names a script or notebook needs are re-exported here:

>>> import seisproc
>>> flow = seisproc.load_flow("flow.yaml")          # doctest: +SKIP
>>> job = seisproc.run_flow(flow)                   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from seisproc._version import __version__
from seisproc.errors import (
    FlowError,
    HeaderKeyError,
    OutputError,
    ParameterError,
    ProcessingError,
    SegyFormatError,
    SeisprocError,
)

if TYPE_CHECKING:
    from seisproc.engine import open_manager, run_flow
    from seisproc.io import (
        GatherIndex,
        SegyFile,
        SurveyGeometry,
        gather_index,
        open_segy,
        synthesize_survey,
    )
    from seisproc.jobs import Job, JobManager, JobState, plan_job
    from seisproc.processing.base import (
        GatherContext,
        Processor,
        available_processors,
        create_processor,
    )
    from seisproc.processing.flow import Flow, load_flow

_HOMES = {
    "seisproc.engine": ("open_manager", "run_flow"),
    "seisproc.io": ("GatherIndex", "SegyFile", "SurveyGeometry", "gather_index", "open_segy",
                    "synthesize_survey"),
    "seisproc.jobs": ("Job", "JobManager", "JobState", "plan_job"),
    "seisproc.processing.base": ("GatherContext", "Processor", "available_processors",
                                 "create_processor"),
    "seisproc.processing.flow": ("Flow", "load_flow"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "Flow",
    "FlowError",
    "GatherContext",
    "GatherIndex",
    "HeaderKeyError",
    "OutputError",
    "ParameterError",
    "ProcessingError",
    "Processor",
    "Job",
    "JobManager",
    "JobState",
    "SegyFile",
    "SegyFormatError",
    "SeisprocError",
    "SurveyGeometry",
    "__version__",
    "available_processors",
    "create_processor",
    "gather_index",
    "load_flow",
    "open_manager",
    "open_segy",
    "plan_job",
    "run_flow",
    "synthesize_survey",
]


def __getattr__(name: str) -> object:
    """Each public name loads its home module on first use, not on ``import seisproc``:
    every ``seisproc`` command starts by importing this package, and the engine (Ray, the
    history database), the processors (scipy) and the I/O cost seconds together, which a
    command that needs one of them should not pay for all."""
    if name in _HOME_OF:
        value = getattr(importlib.import_module(_HOME_OF[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'seisproc' has no attribute {name!r}")
