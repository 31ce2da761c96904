"""Pipelines: flows whose inputs are earlier flows' outputs, run in the order that makes.

A pipeline file names its flows; which waits for which is read from the flows
themselves (a flow whose ``input`` is another's ``output`` runs after it), so the file
cannot say one thing and the flows another::

    pipeline: line-12
    flows:
      - decon.yaml          # shots.sgy -> shots_decon.sgy
      - stack.yaml          # shots_decon.sgy -> stack.sgy
      - migrate.yaml        # stack.sgy -> mig.sgy

Every mistake is found before anything is submitted and named in one line: a flow file
that cannot be read, two flows writing one output, a cycle, an input that neither a file
nor an earlier flow provides.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from seisproc.errors import FlowError
from seisproc.processing.flow import Flow, load_flow

__all__ = ["Pipeline", "PipelineStep", "is_pipeline_file", "load_pipeline"]


@dataclass(frozen=True)
class PipelineStep:
    """One flow of a pipeline and the steps (indexes into :attr:`Pipeline.steps`) it
    waits for."""

    flow_file: Path
    flow: Flow
    after: tuple[int, ...]


@dataclass(frozen=True)
class Pipeline:
    """The flows of a pipeline file, each after every flow it reads from."""

    name: str
    path: Path
    steps: tuple[PipelineStep, ...]


def is_pipeline_file(path: Path) -> bool:
    """Whether ``path`` holds a pipeline (a ``pipeline:`` and a ``flows:`` key) rather
    than a flow; an unreadable file is left to the flow reader to report."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "pipeline" in data and "flows" in data


def load_pipeline(path: str | Path) -> Pipeline:
    """Read a pipeline file and its flows, and order them; a :class:`FlowError` names
    the culprit of anything that would stop the pipeline before it starts."""
    path = Path(path)
    data = _mapping(path)
    name, listed = data.get("pipeline"), data.get("flows")
    if not isinstance(name, str) or not name.strip():
        raise FlowError(f"{path}: 'pipeline' must be its name, e.g. 'pipeline: line-12'")
    if not isinstance(listed, list) or not listed:
        raise FlowError(f"{path}: 'flows' must list the pipeline's flow files")
    unknown = sorted(set(data) - {"pipeline", "flows"})
    if unknown:
        raise FlowError(f"{path}: unknown field {unknown[0]!r} (allowed: pipeline, flows)")
    files = [_flow_file(path, item, i) for i, item in enumerate(listed, start=1)]
    flows = [load_flow(file) for file in files]
    writers = _writers(path, files, flows)
    order = _order(path, files, flows, writers)
    place = {old: new for new, old in enumerate(order)}
    steps = []
    for i in order:
        after = writers.get(flows[i].input)
        steps.append(PipelineStep(files[i], flows[i], () if after is None else (place[after],)))
    return Pipeline(name.strip(), path, tuple(steps))


def _mapping(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FlowError(f"{path}: no such pipeline file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError(f"{path}: cannot read the pipeline file: {exc}") from None
    except yaml.YAMLError as exc:
        raise FlowError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise FlowError(f"{path}: a pipeline is a mapping with 'pipeline' and 'flows'")
    return data


def _flow_file(path: Path, item: Any, number: int) -> Path:
    if not isinstance(item, str) or not item.strip():
        raise FlowError(f"{path}: flow {number} must be a flow file's path; got {item!r}")
    return (path.resolve().parent / item.strip()).resolve()


def _writers(path: Path, files: list[Path], flows: list[Flow]) -> dict[Path, int]:
    """Which flow writes each output; two writing one is refused."""
    writers: dict[Path, int] = {}
    for i, flow in enumerate(flows):
        if files.count(files[i]) > 1:
            raise FlowError(f"{path}: {files[i].name} is listed twice")
        if flow.output in writers:
            other = files[writers[flow.output]].name
            raise FlowError(f"{path}: {other} and {files[i].name} both write {flow.output}")
        writers[flow.output] = i
    return writers


def _order(path: Path, files: list[Path], flows: list[Flow], writers: dict[Path, int]) -> list[int]:
    """The flows in an order where each comes after the flow it reads from (the listed
    order where the data allows); a cycle or an input nothing provides is refused."""
    graph: dict[int, set[int]] = {}
    for i, flow in enumerate(flows):
        source = writers.get(flow.input)
        if source is None and not flow.input.exists():
            raise FlowError(
                f"{path}: {files[i].name} reads {flow.input}, which does not "
                "exist and which no flow of the pipeline writes"
            )
        graph[i] = set() if source is None else {source}
    sorter = graphlib.TopologicalSorter(graph)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = [files[i].name for i in exc.args[1]]
        raise FlowError(f"{path}: a cycle: " + " reads the output of ".join(cycle)) from None
    order: list[int] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())  # listed order among those ready together
        order.extend(ready)
        sorter.done(*ready)
    return order
