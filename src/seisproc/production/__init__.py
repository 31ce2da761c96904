"""Production work: one flow over many inputs, exact replay, and what differs between runs.

Free of Qt, Ray and SQL like the engine it builds on: the CLI (and the desktop
application) wire it to the job history and the cluster.

* :mod:`~seisproc.production.templates`: ``--each`` inputs and output templates;
* :mod:`~seisproc.production.batches`: batch ids and the batch summary;
* :mod:`~seisproc.production.provenance`: what each job records to be reproducible;
* :mod:`~seisproc.production.replay`: re-running a job, refused when its input changed;
* :mod:`~seisproc.production.flowdiff`, :mod:`~seisproc.production.outputs`: two runs'
  flows, environments and outputs compared (:mod:`seisproc.plots.diff` draws the gather
  that differs most).
"""

from seisproc.production.batches import BatchSummary, new_batch_id, summarize
from seisproc.production.flowdiff import file_differences, flow_differences
from seisproc.production.outputs import (
    GatherDiff,
    OutputDiff,
    OutputsNotComparable,
    diff_outputs,
)
from seisproc.production.provenance import (
    environment,
    environment_differences,
    input_differences,
    input_record,
    record_provenance,
)
from seisproc.production.replay import ReplayPlan, ReplayRefused, replay_plan
from seisproc.production.templates import (
    TEMPLATE_FIELDS,
    TemplateError,
    expand_inputs,
    flows_for_inputs,
    render_output,
)

__all__ = [
    "BatchSummary",
    "GatherDiff",
    "OutputDiff",
    "OutputsNotComparable",
    "ReplayPlan",
    "ReplayRefused",
    "TEMPLATE_FIELDS",
    "TemplateError",
    "diff_outputs",
    "environment",
    "environment_differences",
    "expand_inputs",
    "file_differences",
    "flow_differences",
    "flows_for_inputs",
    "input_differences",
    "input_record",
    "new_batch_id",
    "record_provenance",
    "render_output",
    "replay_plan",
    "summarize",
]
