"""seisproc: seismic data processing flows run as jobs.

The public names a script or notebook needs are re-exported here:

>>> import seisproc
>>> flow = seisproc.load_flow("flow.yaml")          # doctest: +SKIP
>>> job = seisproc.run_flow(flow)                   # doctest: +SKIP
"""

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
    """The engine (Ray, the history database) loads on first use, not on ``import seisproc``,
    so that using the I/O or the processors alone stays light."""
    if name in ("open_manager", "run_flow"):
        from seisproc import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'seisproc' has no attribute {name!r}")
