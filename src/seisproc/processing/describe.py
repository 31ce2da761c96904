"""What a processor's parameters are, in terms a form or a help text can use.

Every processor declares its parameters as a pydantic model. Front ends (the CLI's
``seisproc processors``, the desktop flow editor) need the same facts about each field:
its kind of value, whether it may be left out or set to nothing, its bounds, its allowed
choices, its unit and its description. This module reads them off the model once, so that
no front end digs through pydantic internals itself.

>>> from seisproc.processing import processor_class
>>> spec = {p.name: p for p in describe_params(processor_class("agc").Params)}
>>> spec["window_ms"].kind, spec["window_ms"].bounds.text(), spec["window_ms"].unit
('float', '> 0', 'ms')
>>> spec["mode"].choices
('rms', 'mean_abs')
"""

from __future__ import annotations

import enum
import re
import types
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import pydantic

from seisproc.processing.base import Processor

__all__ = [
    "ParamKind",
    "Bounds",
    "ParamSpec",
    "ProcessorSpec",
    "describe_params",
    "describe_processor",
]

ParamKind = Literal["bool", "int", "float", "choice", "text", "float_list", "float_tuple", "other"]
"""How a value is entered: a number, a switch, one of a few choices, free text, a list of
numbers (any length), a fixed number of numbers (``float_tuple``), or anything else."""

_UNIT_SUFFIXES = (
    ("db_per_s", "dB/s"), ("_m_s", "m/s"), ("_hz", "Hz"), ("_ms", "ms"),
    ("_percent", "%"), ("_db", "dB"), ("_m", "m"), ("_s", "s"),
)
_UNIT_IN_DESCRIPTION = re.compile(r",\s*(Hz|ms|m/s|dB/s|dB|%|s|m)\.?\s*$")


@dataclass(frozen=True)
class Bounds:
    """Inclusive (``ge``, ``le``) and exclusive (``gt``, ``lt``) limits of a number."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    @property
    def lowest(self) -> float | None:
        """The smallest value a widget should offer (an exclusive bound is offered, and
        refused by validation, so the user sees why)."""
        return self.ge if self.ge is not None else self.gt

    @property
    def highest(self) -> float | None:
        return self.le if self.le is not None else self.lt

    def text(self) -> str:
        """``'> 0'``, ``'>= 1, <= 12'``, or ``''`` for an unbounded number."""
        parts = [f"{op} {value:g}" for op, value in
                 ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt))
                 if value is not None]
        return ", ".join(parts)


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a processor."""

    name: str
    kind: ParamKind
    annotation: Any
    """The field's type as declared, for the rare front end that needs more."""
    required: bool
    """True when a flow must give the value (there is no default)."""
    default: Any
    """The value used when the flow leaves the field out; ``None`` when required."""
    optional: bool
    """True when ``None`` (``null`` in YAML: "not set") is accepted."""
    bounds: Bounds = field(default_factory=Bounds)
    """Limits of the number, or of each number of a list or tuple."""
    choices: tuple[Any, ...] = ()
    """The accepted values of a ``choice`` field."""
    length: int | None = None
    """How many numbers a ``float_tuple`` holds."""
    description: str = ""
    unit: str = ""
    """``Hz``, ``ms``, ``m/s``, ``%``, ``dB/s``... or ``''``: from the name's suffix
    (``window_ms``) or the description's end (``"Low cut, Hz."``)."""

    @property
    def type_name(self) -> str:
        """Short type for help texts: ``float > 0``, ``'rms' | 'mean_abs'``, ``list[float]``."""
        bounds = f" {self.bounds.text()}" if self.bounds.text() else ""
        if self.kind == "choice":
            base = " | ".join(repr(c) for c in self.choices)
        elif self.kind == "float_list":
            base = f"list[float{bounds}]"
        elif self.kind == "float_tuple":
            base = f"[{', '.join([f'float{bounds}'] * (self.length or 0))}]"
        elif self.kind in ("int", "float"):
            base = f"{self.kind}{bounds}"
        elif self.kind in ("bool", "text"):
            base = {"bool": "bool", "text": "str"}[self.kind]
        else:
            base = str(self.annotation).replace("typing.", "")
        return f"{base} | None" if self.optional and self.kind != "other" else base


@dataclass(frozen=True)
class ProcessorSpec:
    """A processor as a user picks it: its name, what it does, its parameters."""

    name: str
    aliases: tuple[str, ...]
    summary: str
    """The first line of the processor's docstring, as plain text."""
    params: tuple[ParamSpec, ...]


def describe_processor(cls: type[Processor]) -> ProcessorSpec:
    """The name, aliases, one-line summary and parameters of a processor class."""
    doc = (cls.__doc__ or "").strip()
    summary = doc.splitlines()[0].replace("``", "") if doc else ""  # reST literals, as text
    return ProcessorSpec(cls.name, tuple(cls.aliases), summary,
                         tuple(describe_params(cls.Params)))


def describe_params(model: type[pydantic.BaseModel]) -> list[ParamSpec]:
    """One :class:`ParamSpec` per field of ``model``, in declaration order."""
    return [_spec(name, info) for name, info in model.model_fields.items()]


def _spec(name: str, info: pydantic.fields.FieldInfo) -> ParamSpec:
    inner, optional = _strip_none(info.annotation)
    kind, bounds, choices, length = _classify(inner, info.metadata)
    required = info.is_required()
    default = None if required else info.get_default(call_default_factory=True)
    description = info.description or ""
    return ParamSpec(name=name, kind=kind, annotation=info.annotation, required=required,
                     default=default, optional=optional, bounds=bounds, choices=choices,
                     length=length, description=description, unit=_unit(name, description))


def _strip_none(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> ``(X, True)``; anything else -> ``(annotation, False)``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) < len(get_args(annotation)):
            return (args[0] if len(args) == 1 else Union[tuple(args)]), True  # noqa: UP007
    return annotation, False


def _classify(annotation: Any, metadata: list[Any],
              ) -> tuple[ParamKind, Bounds, tuple[Any, ...], int | None]:
    base, extra = _unannotate(annotation)
    bounds = _bounds([*metadata, *extra])
    if base is bool:
        return "bool", bounds, (), None
    if base is int:
        return "int", bounds, (), None
    if base is float:
        return "float", bounds, (), None
    if base is str:
        return "text", bounds, (), None
    if get_origin(base) is Literal:
        return "choice", bounds, get_args(base), None
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return "choice", bounds, tuple(member.value for member in base), None
    return _classify_sequence(base, bounds)


def _classify_sequence(annotation: Any, bounds: Bounds,
                       ) -> tuple[ParamKind, Bounds, tuple[Any, ...], int | None]:
    origin, args = get_origin(annotation), get_args(annotation)
    items = [_unannotate(a) for a in args if a is not Ellipsis]
    if not items or any(base is not float for base, _ in items):
        return "other", bounds, (), None
    item_bounds = _bounds(items[0][1])
    if origin is list or (origin is tuple and Ellipsis in args):
        return "float_list", item_bounds, (), None
    if origin is tuple:
        return "float_tuple", item_bounds, (), len(items)
    return "other", bounds, (), None


def _unannotate(annotation: Any) -> tuple[Any, list[Any]]:
    """``Annotated[float, Gt(0)]`` -> ``(float, [Gt(0)])``."""
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        return base, list(extra)
    return annotation, []


def _bounds(metadata: list[Any]) -> Bounds:
    limits: dict[str, float] = {}
    for item in metadata:
        for name, kind in (("ge", annotated_types.Ge), ("gt", annotated_types.Gt),
                           ("le", annotated_types.Le), ("lt", annotated_types.Lt)):
            if isinstance(item, kind):
                limits[name] = float(getattr(item, name))
    return Bounds(**limits)


def _unit(name: str, description: str) -> str:
    lowered = name.lower()
    for suffix, unit in _UNIT_SUFFIXES:
        if lowered.endswith(suffix):
            return unit
    match = _UNIT_IN_DESCRIPTION.search(description)
    return match.group(1) if match else ""
