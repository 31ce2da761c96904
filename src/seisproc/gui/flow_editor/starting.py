"""The values a new step starts with: valid at once, and sensible for typical data.

A flow file has to give every required parameter, and it should: a flow is a record of
what was run. A new step in the editor, though, has to show *something* in each field,
and a spin box's 0 is wrong for nearly every required parameter (a 0 ms AGC window, a
0 Hz corner), so every new step used to start with a red mark. What a sensible start is
belongs to the processor, which declares it in ``Processor.starting_params``
(bandpass 5-10-60-80 Hz, AGC 500 ms). A processor that declares nothing still gets a
valid start where its bounds allow one: its defaults, and for each required field the
simplest value its bounds accept. The editor writes the starting values into the flow
like any value typed, so a saved flow stays explicit.

>>> from seisproc.processing import processor_class
>>> starting_params(processor_class("agc"))
{'window_ms': 500.0}
>>> starting_params(processor_class("tpow"))
{}
"""

from __future__ import annotations

import math
from typing import Any

from seisproc.processing.base import Processor
from seisproc.processing.describe import Bounds, ParamSpec, describe_params

__all__ = ["starting_params", "value_within_bounds"]


def starting_params(cls: type[Processor]) -> dict[str, Any]:
    """The parameters a new step of ``cls`` starts with, as a flow file would hold them.

    The processor's declared ``starting_params`` first; every other required field at
    :func:`value_within_bounds`; the rest left to their defaults (not written).
    """
    declared = dict(cls.starting_params)
    values: dict[str, Any] = {}
    for spec in describe_params(cls.Params):
        if spec.name in declared:
            values[spec.name] = declared[spec.name]
        elif spec.required:
            guess = value_within_bounds(spec)
            if guess is not None or spec.optional:
                values[spec.name] = guess
    return values


def value_within_bounds(spec: ParamSpec) -> Any:
    """The simplest value ``spec`` accepts on its own: the lowest number its bounds allow
    (1 above an exclusive lower bound), the first choice, ``False``, ``""``, ``None``
    when it is optional; ``None`` when the kind of value gives no clue (``other``)."""
    if spec.optional:
        return None
    if spec.kind in ("float", "int"):
        number = _number_within(spec.bounds)
        return math.ceil(number) if spec.kind == "int" else float(number)
    if spec.kind == "float_list":
        return [float(_number_within(spec.bounds))]
    if spec.kind == "float_tuple":  # [start, end] windows want increasing numbers
        start = float(_number_within(spec.bounds))
        return [start + index for index in range(spec.length or 0)]
    simple: dict[str, Any] = {
        "bool": False,
        "text": "",
        "choice": spec.choices[0] if spec.choices else None,
    }
    return simple.get(spec.kind)


def _number_within(bounds: Bounds) -> float:
    low = bounds.ge if bounds.ge is not None else (bounds.gt + 1 if bounds.gt is not None else None)
    high = (
        bounds.le if bounds.le is not None else (bounds.lt - 1 if bounds.lt is not None else None)
    )
    if low is None:
        return 0.0 if high is None else min(0.0, high)
    if high is None or low <= high:
        return low
    assert bounds.lowest is not None and bounds.highest is not None
    return (bounds.lowest + bounds.highest) / 2  # a narrow open interval: its middle
