"""One flow over many inputs: which inputs, and the output each one's job writes.

``seisproc run flow.yaml --each 'raw/line_*.sgy'`` (or ``--each @lines.txt``, a file
listing one input per line) makes one flow per input from one flow file: its ``input``
replaced by the input, its ``output`` a template rendered per input (``"{stem}_decon.sgy"``,
see :data:`TEMPLATE_FIELDS`). Everything is checked before any job exists: a template
naming an unknown field, a pattern matching nothing, a list naming a missing file, or two
inputs that would write the same output each fail in one line naming the culprit, so a
batch is submitted whole or not at all.

>>> render_output("{stem}_decon.sgy", Path("/raw/line_07.sgy"), "decon", date(2026, 12, 7))
'line_07_decon.sgy'
"""

from __future__ import annotations

import glob
import os
import string
import tomllib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from seisproc.errors import FlowError
from seisproc.processing.flow import Flow, read_flow_text

__all__ = [
    "TEMPLATE_FIELDS",
    "TemplateError",
    "read_flow_mapping",
    "template_fields",
    "render_output",
    "expand_inputs",
    "flows_for_inputs",
]

TEMPLATE_FIELDS = {
    "stem": "the input's file name without its extension (line_07 for line_07.sgy)",
    "name": "the flow's name",
    "date": "the day the job is submitted, YYYY-MM-DD",
}
"""The fields an output template may name, and what each becomes."""


class TemplateError(FlowError):
    """An output template or an input list that cannot give one output per input."""


def read_flow_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The flow file as a mapping, not yet validated (``input`` may be missing: ``--each``
    gives it), from YAML or (``.toml``) TOML."""
    path = Path(path)
    text = read_flow_text(path)
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise FlowError(f"{path}: not a valid flow file: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise FlowError(
            f"{path}: a flow is a mapping with name, input, output, gather_by "
            f"and steps; got {type(data).__name__}"
        )
    return data


def template_fields(template: str, source: str = "flow") -> list[str]:
    """The fields ``template`` names, refusing any not in :data:`TEMPLATE_FIELDS`.

    >>> template_fields("{name}/{stem}.sgy")
    ['name', 'stem']
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(
            f"{source}: output template {template!r}: {exc} (write a literal brace as {{{{ or }}}})"
        ) from None
    fields = [name for _, name, _, _ in parsed if name is not None]
    for name in fields:
        if name not in TEMPLATE_FIELDS:
            known = ", ".join("{" + field + "}" for field in TEMPLATE_FIELDS)
            shown = "{" + name + "}" if name else "{}"
            raise TemplateError(
                f"{source}: output template {template!r} names unknown field "
                f"{shown} (known: {known})"
            )
    return fields


def render_output(
    template: str, input_path: Path, flow_name: str, day: date, source: str = "flow"
) -> str:
    """The output name ``template`` gives for ``input_path``."""
    template_fields(template, source)
    return template.format(stem=input_path.stem, name=flow_name, date=day.isoformat())


def expand_inputs(each: str, cwd: Path | None = None) -> list[Path]:
    """The inputs ``--each`` names: a glob pattern (sorted matches), or ``@file``, a list
    of paths one per line (``#`` comments and blank lines skipped; relative paths from
    the list's folder). Absolute, in order, each name once."""
    cwd = cwd or Path.cwd()
    if each.startswith("@"):
        listing = cwd / Path(each[1:]).expanduser()
        try:
            lines = listing.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise TemplateError(
                f"--each {each}: cannot read the input list: {exc.strerror or exc}"
            ) from None
        names = [
            line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")
        ]
        inputs = [_absolute(listing.parent / Path(name).expanduser()) for name in names]
        for number, path in enumerate(inputs, start=1):
            if not path.is_file():
                raise TemplateError(
                    f"--each {each}: input {number} ({names[number - 1]}) is not a file: {path}"
                )
        if not inputs:
            raise TemplateError(f"--each {each}: the input list {listing} names no file")
    else:
        pattern = str(cwd / Path(each).expanduser())
        inputs = [
            _absolute(Path(p))
            for p in sorted(glob.glob(pattern, recursive=True))
            if Path(p).is_file()
        ]
        if not inputs:
            raise TemplateError(
                f"--each {each!r}: the pattern matches no file (looked in {Path(pattern).parent})"
            )
    return list(dict.fromkeys(inputs))


def _absolute(path: Path) -> Path:
    """Absolute and normalised, links not followed: ``{stem}`` is the name the input was
    given by (two links to one survey are two inputs)."""
    return Path(os.path.abspath(path))


def flows_for_inputs(
    flow_file: str | os.PathLike[str], inputs: Sequence[Path], day: date
) -> list[Flow]:
    """One validated flow per input: ``flow_file`` with its input replaced and its
    output template rendered; refused whole when two inputs would write one output."""
    flow_file = Path(flow_file)
    mapping, source = read_flow_mapping(flow_file), str(flow_file)
    template = mapping.get("output")
    if not isinstance(template, str) or not template:
        raise FlowError(
            f"{source}: field 'output' is required: a template such as \"{{stem}}_out.sgy\""
        )
    name = str(mapping.get("name") or "")
    if len(inputs) > 1 and not {"stem"} & set(template_fields(template, source)):
        raise TemplateError(
            f"{source}: output template {template!r} does not name {{stem}}: "
            f"all {len(inputs)} jobs would write the same file"
        )
    base = flow_file.resolve().parent
    flows: list[Flow] = []
    writers: dict[Path, Path] = {}
    for path in inputs:
        output = render_output(template, path, name, day, source)
        flow = Flow.from_mapping({**mapping, "input": str(path), "output": output}, base, source)
        if flow.output in writers:
            raise TemplateError(
                f"{source}: inputs {writers[flow.output]} and {path} would both write {flow.output}"
            )
        writers[flow.output] = path
        flows.append(flow)
    return flows
