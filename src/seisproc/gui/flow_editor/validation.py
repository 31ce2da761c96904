"""The verdict on what the editor shows: the valid flow, or every problem and its place.

Three checks, in the order a user meets them: the flow's own fields (name, input, output,
gather key), each step's parameter model (run by its :class:`~.param_form.ParamForm` as
the user types), and each step the model accepts against the input's sampling
(``Processor.check``, as ``seisproc run`` makes it when it plans the job). Problems of the
last kind go back to the step's form, so they mark their field like the model's do. Only
with no problem at all is the flow built, by the same
:meth:`~seisproc.processing.flow.Flow.from_mapping` a flow file goes through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seisproc.errors import SeisprocError
from seisproc.gui.flow_editor.checks import InputProbe, check_step, gather_key_error
from seisproc.gui.flow_editor.drafts import Draft
from seisproc.gui.flow_editor.layout import HEADER_FIELDS
from seisproc.gui.flow_editor.param_form import ParamForm
from seisproc.gui.flow_editor.problems import Problem
from seisproc.io.segy import SegyLayout
from seisproc.processing.base import create_processor
from seisproc.processing.flow import Flow

__all__ = ["Verdict", "validate"]


@dataclass(frozen=True)
class Verdict:
    flow: Flow | None
    """The flow, when there is no problem."""
    problems: list[Problem] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    """The problem with each of the flow's own fields that has one (key: message)."""


def validate(
    shown: Draft, forms: Sequence[ParamForm], base_dir: Path, probe: InputProbe
) -> Verdict:
    """Check the flow's fields as ``shown``, and its steps (one form per step, in order);
    relative paths start from ``base_dir``."""
    header = _header_problems(shown)
    layout = _input_layout(shown.input, base_dir, probe, header)
    problems = [Problem(header[key], None, key) for key in HEADER_FIELDS if key in header]
    if not forms:
        problems.append(Problem("steps: add at least one processing step"))
    for row, ((processor, _), form) in enumerate(zip(shown.steps, forms, strict=True)):
        problem = None
        if layout is not None and form.is_valid():
            problem = check_step(create_processor(processor, form.values()), layout)
        form.set_data_problems([problem] if problem else [])
        problems += [Problem(message, row, name) for name, message in form.problems()]
    if problems:
        return Verdict(None, problems, header)
    mapping = {
        "name": shown.name.strip(),
        "input": shown.input.strip(),
        "output": shown.output.strip(),
        "gather_by": shown.gather_by.strip(),
        "device": shown.device,
        "steps": [
            {processor: form.values()}
            for (processor, _), form in zip(shown.steps, forms, strict=True)
        ],
    }
    try:
        return Verdict(Flow.from_mapping(mapping, base_dir, source="flow"))
    except SeisprocError as exc:
        return Verdict(None, [Problem(str(exc))], header)


def _header_problems(shown: Draft) -> dict[str, str]:
    problems = {}
    if not shown.name.strip():
        problems["name"] = "name: give the flow a name"
    if not shown.input.strip():
        problems["input"] = "input: choose the SEG-Y file to process"
    if not shown.output.strip():
        problems["output"] = "output: choose the SEG-Y file to write"
    key_error = gather_key_error(shown.gather_by)
    if key_error:
        problems["gather_by"] = key_error
    return problems


def _input_layout(
    text: str, base_dir: Path, probe: InputProbe, header: dict[str, str]
) -> SegyLayout | None:
    """The input's sampling; ``None`` (and why, in ``header``) when it is unknown."""
    if not text.strip():
        return None
    try:
        return probe.layout(base_dir / Path(text.strip()).expanduser())
    except (SeisprocError, OSError) as exc:
        header["input"] = f"input: {exc}"
        return None
