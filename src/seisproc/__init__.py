"""seisproc: seismic data processing flows run as jobs.

The public names a script or notebook needs are re-exported here:

>>> import seisproc
>>> flow = seisproc.load_flow("flow.yaml")          # doctest: +SKIP
>>> summary = seisproc.run_flow(flow)               # doctest: +SKIP
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
from seisproc.jobs import RunSummary, plan_job, run_flow
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
    "RunSummary",
    "SegyFile",
    "SegyFormatError",
    "SeisprocError",
    "SurveyGeometry",
    "__version__",
    "available_processors",
    "create_processor",
    "gather_index",
    "load_flow",
    "open_segy",
    "plan_job",
    "run_flow",
    "synthesize_survey",
]
