"""A flow on a few chosen gathers, nothing written: the work of one parameter-test column.

A test panel (``seisproc panels``) runs each variant of a flow (see
:mod:`seisproc.processing.variants`) on the same few gathers. Each variant is one call of
:func:`run_on_gathers`, on a worker of the cluster like a job's unit, reading the gathers
through the same index and handing the processors the same context a job does
(:func:`~seisproc.jobs.units.gather_context`), so what the panel shows is what the job
would write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seisproc.errors import ParameterError, SeisprocError
from seisproc.io.index import gather_index
from seisproc.io.segy import open_segy
from seisproc.jobs.units import gather_context
from seisproc.processing.flow import Flow
from seisproc.processing.preview import check_steps, preview_gather
from seisproc.processing.variants import Variation

__all__ = ["GatherPanel", "MAX_PANEL_TRACES", "ParameterTest", "check_panels", "run_on_gathers"]

MAX_PANEL_TRACES = 4096
"""Traces of one gather a panel takes at most: a gather key every trace shares (an unset
header) would make the whole survey one gather, to be read into memory and drawn."""


@dataclass(frozen=True, eq=False)
class GatherPanel:
    """One gather after one variant of a flow."""

    key_value: int
    """The gather's value of the flow's ``gather_by`` header."""
    samples: np.ndarray
    """float32 ``(n_traces, n_samples)`` after every step."""
    offsets_m: np.ndarray
    """Signed offset of each trace (m), for the horizontal axis."""
    sample_interval_ms: float


def check_panels(flows: Sequence[Flow], key_values: Sequence[int]) -> list[int]:
    """Before any work: the gather numbers of ``key_values`` in the flows' input (they
    share one), refused in one line naming the value, the key and the range the file has
    when one is missing or too big; and each flow's parameters checked against the data
    (a corner above Nyquist), as a job is at submission."""
    if not key_values:
        raise SeisprocError("give the gathers to test, e.g. --gathers 10,50,90")
    flow = flows[0]
    if flow.stages is not None:
        raise SeisprocError(f"{flow.name}: panels test the steps of one stage on its "
                            "gathers; write the stage to test as a one-stage flow "
                            "(gather_by and steps)")
    with open_segy(flow.input) as segy:
        for variant in flows:
            try:
                check_steps(variant.processors(), segy.layout.sample_interval_ms,
                            segy.layout.n_samples)
            except ParameterError as exc:
                raise ParameterError(f"{variant.name}: {exc}") from None
        index = gather_index(segy, flow.gather_by)
        numbers = []
        for value in key_values:
            try:
                numbers.append(index.find(value))
            except KeyError:
                keys = index.keys
                raise SeisprocError(
                    f"{flow.input}: no gather with {flow.gather_by} = {value} (the file's "
                    f"{len(keys)} gathers run from {keys[0]} to {keys[-1]})") from None
        sizes = index.sizes()[numbers]
        if sizes.max() > MAX_PANEL_TRACES:
            big = key_values[int(np.argmax(sizes))]
            raise SeisprocError(
                f"{flow.input}: the gather {flow.gather_by} = {big} has {int(sizes.max()):,} "
                f"traces, more than a panel shows ({MAX_PANEL_TRACES:,}); is "
                f"gather_by: {flow.gather_by} the key that groups this file?")
    return numbers


def run_on_gathers(flow: Flow, key_values: Sequence[int]) -> list[GatherPanel]:
    """``flow``'s steps on the gathers with these ``gather_by`` values, in that order.

    Errors name the file, the gather and the step, as in a job.
    """
    processors = flow.processors()
    panels = []
    with open_segy(flow.input) as segy:
        index = gather_index(segy, flow.gather_by)
        for value in key_values:
            records = segy.read_records(index.positions(index.find(value)))
            samples, headers = segy.samples_of(records), records["header"]
            where = f"{flow.input.name}: gather {flow.gather_by}={value}, "
            context = gather_context(segy, headers)
            after = preview_gather(processors, samples, context, where).after
            offsets = (context.offsets_m if context.offsets_m is not None
                       else np.arange(len(samples), dtype=np.float64))
            panels.append(GatherPanel(int(value), after,
                                      np.asarray(offsets, dtype=np.float64),
                                      context.sample_interval_ms))
    return panels


@dataclass(frozen=True, eq=False)
class ParameterTest:
    """The panels of one parameter test: ``columns[i][j]`` is gather ``key_values[j]``
    after the flow with the ``i``-th value of the parameter."""

    flow: Flow
    variation: Variation
    key_values: list[int]
    columns: list[list[GatherPanel]]

    def labels(self) -> list[str]:
        return self.variation.labels()

    def rms_table(self) -> list[list[float]]:
        """RMS amplitude of each panel (finite samples), ``[value][gather]``: the numbers
        a terminal shows when no picture is looked at."""
        return [[_rms(panel.samples) for panel in column] for column in self.columns]


def _rms(samples: np.ndarray) -> float:
    finite = samples[np.isfinite(samples)]
    return float(np.sqrt(np.mean(np.square(finite, dtype=np.float64)))) if finite.size else 0.0
