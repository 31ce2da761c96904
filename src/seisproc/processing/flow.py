"""Flows: a named list of processing steps from an input SEG-Y to an output.

A flow is written in YAML (or TOML) and validated before any data is touched: an unknown
processor, a misspelt parameter or a value out of range fails at once with a message that
names the step, the field and what is allowed. Relative paths resolve against the flow
file's folder, so a flow travels with its data.

>>> flow = Flow.from_yaml_text('''
... name: bandpass-agc
... input: shots.sgy
... output: shots_bp_agc.sgy
... gather_by: ffid
... steps:
...   - bandpass: {f1: 5, f2: 10, f3: 60, f4: 80}
...   - agc: {window_ms: 500}
... ''', base_dir="/data")
>>> [p.name for p in flow.processors()]
['bandpass', 'agc']
>>> str(flow.output)
'/data/shots_bp_agc.sgy'
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
import yaml

from seisproc.errors import FlowError, ParameterError
from seisproc.processing.base import Processor, create_processor, processor_class
from seisproc.processing.device import Device

__all__ = ["Flow", "Stage", "Step", "all_steps", "load_flow", "read_flow_text"]


class Step(pydantic.BaseModel):
    """One processor and its parameters, as written in the flow file."""

    model_config = pydantic.ConfigDict(frozen=True)

    processor: str
    params: dict[str, Any] = pydantic.Field(default_factory=dict)

    def build(self) -> Processor:
        return create_processor(self.processor, self.params)

    def to_yaml_obj(self) -> dict[str, dict[str, Any]]:
        return {self.processor: dict(self.params)}


def _steps_from_mappings(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [_parse_step(i, item) for i, item in enumerate(value, start=1)]


class Stage(pydantic.BaseModel):
    """Steps run on the gathers of one key: the previous stage's output, gathered anew."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    gather_by: str = "ffid"
    """A trace-header key, or ``section``: the whole file as one gather."""
    steps: list[Step] = pydantic.Field(min_length=1)

    @pydantic.field_validator("steps", mode="before")
    @classmethod
    def _steps_from_mappings(cls, value: Any) -> Any:
        return _steps_from_mappings(value)

    def to_yaml_obj(self) -> dict[str, Any]:
        return {"gather_by": self.gather_by, "steps": [s.to_yaml_obj() for s in self.steps]}


class Flow(pydantic.BaseModel):
    """A validated processing flow: one stage (``gather_by`` and ``steps``), or
    ``stages``, each gathering the previous stage's output by its own key."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    name: str = pydantic.Field(min_length=1)
    input: Path
    output: Path
    gather_by: str = "ffid"
    steps: list[Step] = pydantic.Field(default_factory=list)
    """The steps of a one-stage flow; empty when the flow gives ``stages``."""
    stages: list[Stage] | None = None
    """Two or more stages, run in turn; ``None`` for a one-stage flow."""
    keep_intermediate: bool = False
    """Keep each stage's output (hidden, beside the output) once the job completes."""
    device: Device = "auto"
    """``auto``: GPU workers when the cluster has them, else CPU; ``cpu``; ``gpu``: refused
    at submission on a cluster without a GPU (see :mod:`seisproc.processing.device`)."""

    @pydantic.field_validator("steps", mode="before")
    @classmethod
    def _steps_from_mappings(cls, value: Any) -> Any:
        return _steps_from_mappings(value)

    @pydantic.model_validator(mode="before")
    @classmethod
    def _one_form(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("stages") is not None:
            mixed = [k for k in ("gather_by", "steps") if k in data]
            if mixed:
                verb = "belongs" if len(mixed) == 1 else "belong"
                raise ValueError(f"{' and '.join(mixed)} {verb} to each stage of a flow "
                                 "with stages; move it under 'stages'")
        return data

    @pydantic.model_validator(mode="after")
    def _has_steps(self) -> Flow:
        if self.stages is None and not self.steps:
            raise ValueError("field 'steps' is required (or 'stages', each with its own "
                             "gather_by and steps)")
        return self

    @pydantic.field_validator("stages")
    @classmethod
    def _two_or_more(cls, value: list[Stage] | None) -> list[Stage] | None:
        if value is not None and not value:
            raise ValueError("'stages' needs at least one stage")
        return value

    def all_stages(self) -> list[Stage]:
        """The stages in order; a one-stage flow's ``gather_by`` and ``steps`` as one."""
        if self.stages is not None:
            return list(self.stages)
        return [Stage(gather_by=self.gather_by, steps=self.steps)]

    # --- construction ---------------------------------------------------------------
    @classmethod
    def from_mapping(cls, data: Any, base_dir: str | os.PathLike[str] | None = None,
                     source: str = "flow") -> Flow:
        """Validate a mapping (parsed YAML/TOML); relative paths resolve from ``base_dir``."""
        if not isinstance(data, dict):
            raise FlowError(f"{source}: a flow is a mapping with name, input, output, "
                            f"gather_by and steps; got {type(data).__name__}")
        try:
            flow = cls.model_validate(data)
        except pydantic.ValidationError as exc:
            raise FlowError(f"{source}: {_explain(exc)}") from None
        flow = flow.resolved(Path(base_dir) if base_dir is not None else Path.cwd())
        staged = flow.stages is not None
        for number, stage in enumerate(flow.all_stages(), start=1):
            where = f"{source}: stage {number}" if staged else source
            for i, step in enumerate(stage.steps, start=1):
                _build_step(i, step, where)
            _check_stage(stage, where)
        return flow

    @classmethod
    def from_yaml_text(cls, text: str, base_dir: str | os.PathLike[str] | None = None,
                       source: str = "flow") -> Flow:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            line = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise FlowError(f"{source}: not valid YAML{line}: {problem}") from None
        return cls.from_mapping(data, base_dir, source)

    def resolved(self, base_dir: Path) -> Flow:
        """Copy with input, output and the steps' file parameters (a processor's
        ``path_fields``) made absolute against ``base_dir``."""
        stages = None if self.stages is None else [
            stage.model_copy(update={
                "steps": [_resolve_step_paths(step, base_dir) for step in stage.steps]})
            for stage in self.stages]
        return self.model_copy(update={
            "input": (base_dir / self.input.expanduser()).resolve(),
            "output": (base_dir / self.output.expanduser()).resolve(),
            "steps": [_resolve_step_paths(step, base_dir) for step in self.steps],
            "stages": stages,
        })

    # --- use ------------------------------------------------------------------------
    def processors(self) -> list[Processor]:
        """Fresh processor instances, in order (of every stage, in turn)."""
        return [step.build() for stage in self.all_stages() for step in stage.steps]

    def to_mapping(self) -> dict[str, Any]:
        """The flow as it would be written in a flow file (absolute paths)."""
        mapping: dict[str, Any] = {
            "name": self.name, "input": str(self.input), "output": str(self.output)}
        if self.stages is None:
            mapping["gather_by"] = self.gather_by
            mapping["steps"] = [s.to_yaml_obj() for s in self.steps]
        else:
            mapping["stages"] = [stage.to_yaml_obj() for stage in self.stages]
        if self.keep_intermediate:
            mapping["keep_intermediate"] = True
        if self.device != "auto":  # flows saved before devices existed read back the same
            mapping["device"] = self.device
        return mapping

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_mapping(), sort_keys=False)

    def summary_lines(self) -> list[str]:
        """Short lines describing the flow, for logs and the output's textual header."""
        if self.stages is None:
            steps = [f"{i}. {s.build().describe()}" for i, s in enumerate(self.steps, start=1)]
            return [f"FLOW {self.name}: {self.input.name} by {self.gather_by}", *steps]
        lines = [f"FLOW {self.name}: {self.input.name}, {len(self.stages)} stages"]
        for number, stage in enumerate(self.stages, start=1):
            lines.append(f"STAGE {number} by {stage.gather_by}")
            lines += [f"{i}. {s.build().describe()}" for i, s in enumerate(stage.steps, start=1)]
        return lines


def all_steps(flow: Mapping[str, Any]) -> list[Any]:
    """The steps of a flow mapping, of every stage in turn for a flow with ``stages``.

    >>> all_steps({"stages": [{"steps": [{"agc": {}}]}, {"steps": [{"stack": {}}]}]})
    [{'agc': {}}, {'stack': {}}]
    """
    steps = list(flow.get("steps") or ())
    for stage in flow.get("stages") or ():
        if isinstance(stage, Mapping):
            steps += list(stage.get("steps") or ())
    return steps


def read_flow_text(path: Path) -> str:
    """The text of the flow file ``path``; a missing or unreadable one is a
    :class:`FlowError` naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FlowError(f"{path}: no such flow file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError(f"{path}: cannot read the flow file: {exc}") from None


def load_flow(path: str | os.PathLike[str]) -> Flow:
    """Read and validate a flow file (``.yaml``/``.yml`` or ``.toml``)."""
    path = Path(path)
    text = read_flow_text(path)
    base = path.resolve().parent
    if path.suffix.lower() == ".toml":
        try:
            return Flow.from_mapping(tomllib.loads(text), base, str(path))
        except tomllib.TOMLDecodeError as exc:
            raise FlowError(f"{path}: not valid TOML: {exc}") from None
    return Flow.from_yaml_text(text, base, str(path))


def _parse_step(number: int, item: Any) -> Any:
    if isinstance(item, Step):
        return item
    if isinstance(item, dict) and len(item) == 1:
        (name, params), = item.items()
        if params is None or isinstance(params, dict):
            return Step(processor=str(name), params=params or {})
    raise ValueError(
        f"step {number} must be one mapping 'processor: {{parameters}}', "
        f"e.g. '- agc: {{window_ms: 500}}'; got {item!r}"
    )


def _resolve_step_paths(step: Step, base_dir: Path) -> Step:
    """``step`` with each file its processor names (``path_fields``) made absolute; an
    unknown processor is left for :func:`_build_step` to name."""
    try:
        fields = processor_class(step.processor).path_fields
    except FlowError:
        return step
    paths = {name: str((base_dir / Path(value).expanduser()).resolve())
             for name, value in step.params.items()
             if name in fields and isinstance(value, str) and value}
    return step.model_copy(update={"params": {**step.params, **paths}}) if paths else step


def _check_stage(stage: Stage, where: str) -> None:
    """Refuse a step that cannot run in this stage: on gathers of another key, or one
    that changes the trace count before the stage's last step."""
    processors = [step.build() for step in stage.steps]
    for number, processor in enumerate(processors, start=1):
        wanted = processor.gather_by
        if wanted and stage.gather_by.strip().lower() not in wanted:
            raise FlowError(f"{where}: step {number} ({processor.name}): "
                            f"{processor.gather_by_reason or 'needs gather_by: ' + wanted[0]}"
                            f" (this stage gathers by {stage.gather_by})")
        if processor.output_traces != "same" and number < len(processors):
            raise FlowError(f"{where}: step {number} ({processor.name}) changes the number "
                            "of traces, so it must be the last step of its stage; start a "
                            "new stage for the steps after it")


def _build_step(number: int, step: Step, source: str) -> None:
    try:
        step.build()
    except (ParameterError, FlowError) as exc:
        raise type(exc)(f"{source}: step {number}: {exc}") from None


def _explain(exc: pydantic.ValidationError) -> str:
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        in_stage = len(err["loc"]) > 2 and err["loc"][0] == "stages"
        allowed = ", ".join(Stage.model_fields if in_stage else Flow.model_fields)
        if in_stage and err["type"] == "extra_forbidden":
            problems.append(f"stage {int(err['loc'][1]) + 1}: unknown field "
                            f"{str(err['loc'][-1])!r} (allowed: {allowed})")
        elif err["type"] == "extra_forbidden":
            problems.append(f"unknown field {field!r} (allowed: {allowed})")
        elif err["type"] == "missing":
            problems.append(f"field {field!r} is required")
        elif err["type"] == "value_error":
            problems.append(str(err["ctx"]["error"]))
        else:
            problems.append(f"field {field!r}: {err['msg']}")
    return "; ".join(problems)
