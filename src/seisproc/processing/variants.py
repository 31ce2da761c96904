"""One flow, one parameter, several values: the flows a parameter test compares.

Before committing a week of cluster time a processor tries a parameter on a few gathers:
AGC windows of 250, 500 and 1000 ms side by side. :func:`parse_variation` reads what the
user typed (``agc.window_ms=250,500,1000``) against the flow it applies to, and
:func:`varied_flows` makes one validated flow per value, so a value the processor would
refuse fails here, naming the step, the field and the value, before anything runs.

A step is named by its processor (``agc``) when the flow has one such step, by its
processor and its rank among those (``agc#2``: the second AGC), or by its number in the
flow (``3``, from 1).

>>> from seisproc.processing.flow import Flow
>>> flow = Flow.from_yaml_text('''
... name: decon-test
... input: shots.sgy
... output: out.sgy
... steps:
...   - bandpass: {f1: 5, f2: 10, f3: 60, f4: 80}
...   - agc: {window_ms: 500}
... ''', base_dir="/data")
>>> variation = parse_variation("agc.window_ms=250,1000", flow)
>>> [f.steps[1].params["window_ms"] for f in varied_flows(flow, variation)]
[250, 1000]
>>> variation.labels()
['agc.window_ms=250', 'agc.window_ms=1000']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from seisproc.errors import FlowError, ParameterError
from seisproc.processing.base import processor_class
from seisproc.processing.flow import Flow, Step

__all__ = ["Variation", "parse_variation", "varied_flows", "MAX_VALUES"]

MAX_VALUES = 12
"""Columns a test can hold: more would not be read side by side on a screen."""

_FORM = "STEP.FIELD=V1,V2,... (e.g. agc.window_ms=250,500,1000)"
_SELECTOR = re.compile(r"^(?:(?P<number>\d+)|(?P<name>[A-Za-z_][\w-]*)(?:#(?P<rank>\d+))?)"
                       r"\.(?P<field>[A-Za-z_]\w*)$")


@dataclass(frozen=True)
class Variation:
    """One parameter of one step of a flow, and the values to try for it."""

    step: int
    """The step's place in the flow, from 0."""
    processor: str
    field: str
    values: tuple[Any, ...]
    selector: str
    """The step as the user named it (``agc``, ``agc#2``, ``3``), for labels."""

    def labels(self) -> list[str]:
        """One column title per value: ``agc.window_ms=250``."""
        return [f"{self.selector}.{self.field}={_show(v)}" for v in self.values]


def parse_variation(text: str, flow: Flow) -> Variation:
    """Read ``STEP.FIELD=V1,V2,...`` against ``flow``; a :class:`FlowError` names what in
    the text does not fit the flow (no such step, several, no such field, no values)."""
    where = f"--vary {text!r}"
    target, sep, listed = text.partition("=")
    match = _SELECTOR.match(target.strip())
    if not sep or match is None:
        raise FlowError(f"{where}: write it as {_FORM}")
    step = _find_step(flow, match, where)
    processor = flow.steps[step].processor
    field = match["field"]
    fields = processor_class(processor).Params.model_fields
    if field not in fields:
        raise FlowError(f"{where}: {processor} has no parameter {field!r} "
                        f"(it has: {', '.join(fields)})")
    values = tuple(_value(item, where) for item in listed.split(",") if item.strip())
    if not values:
        raise FlowError(f"{where}: no values after '='; write it as {_FORM}")
    if len(values) > MAX_VALUES:
        raise FlowError(f"{where}: {len(values)} values; at most {MAX_VALUES} fit side by side")
    if len(set(map(repr, values))) < len(values):
        raise FlowError(f"{where}: a value is given twice")
    selector = match["number"] or match["name"] + (f"#{match['rank']}" if match["rank"] else "")
    return Variation(step, processor, field, values, selector)


def varied_flows(flow: Flow, variation: Variation) -> list[Flow]:
    """One flow per value, each checked as a flow file would be: a value the processor
    refuses is a :class:`ParameterError` naming the step, the field and the value."""
    flows = []
    for value, label in zip(variation.values, variation.labels(), strict=True):
        steps = list(flow.steps)
        old = steps[variation.step]
        steps[variation.step] = Step(processor=old.processor,
                                     params={**old.params, variation.field: value})
        try:
            steps[variation.step].build()
        except (ParameterError, FlowError) as exc:
            raise ParameterError(f"--vary {label}: step {variation.step + 1}: {exc}") from None
        flows.append(flow.model_copy(update={"steps": steps, "name": f"{flow.name} [{label}]"}))
    return flows


def _find_step(flow: Flow, match: re.Match[str], where: str) -> int:
    names = [step.processor for step in flow.steps]
    if match["number"]:
        number = int(match["number"])
        if not 1 <= number <= len(names):
            raise FlowError(f"{where}: the flow has steps 1 to {len(names)}, not {number}")
        return number - 1
    name = processor_class(match["name"]).name  # an alias names its processor
    places = [i for i, step in enumerate(names) if processor_class(step).name == name]
    if not places:
        raise FlowError(f"{where}: the flow has no {name} step (its steps: {', '.join(names)})")
    if match["rank"]:
        rank = int(match["rank"])
        if not 1 <= rank <= len(places):
            raise FlowError(f"{where}: the flow has {len(places)} {name} step(s), not #{rank}")
        return places[rank - 1]
    if len(places) > 1:
        raise FlowError(f"{where}: the flow has {len(places)} {name} steps; name one as "
                        f"{name}#1 to {name}#{len(places)}, or by its step number")
    return places[0]


def _value(item: str, where: str) -> Any:
    """A value as YAML reads it in a flow file: ``250`` is a number, ``true`` a bool."""
    try:
        return yaml.safe_load(item.strip())
    except yaml.YAMLError:
        raise FlowError(f"{where}: {item.strip()!r} is not a value") from None


def _show(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)
