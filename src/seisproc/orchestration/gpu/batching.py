"""Batches of gathers on a device: how many fit, and what happens when they do not.

A GPU worker's unit processor (:class:`DeviceUnitProcessor`, what ``run_unit`` runs on a
GPU worker) groups a unit's gathers into batches sized to the device's memory
(:func:`plan_batches`), and :class:`DeviceBatcher` runs the flow's steps on each batch in
one transfer in and one out. The size is an estimate (:data:`WORKING_SET_FACTOR` bytes of
working memory per input byte) and other processes share the GPU: a batch that runs out of
memory (torch's ``OutOfMemoryError``, or the budget exceeded, which is how the tests force
it on the CPU device) is halved and retried; a single gather of a flow of trace-wise
processors is split by traces; a single trace that still does not fit is processed on the
host. The steps are the job's own (:meth:`~seisproc.jobs.units.UnitProcessor.apply_steps`,
i.e. :func:`~seisproc.processing.preview.run_steps`): there is no second step runner.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seisproc.errors import ProcessingError
from seisproc.io.segy import SegyLayout
from seisproc.jobs.units import GatherInput, GatherRef, UnitProcessor
from seisproc.orchestration.gpu.device import BatchStats, TorchDevice
from seisproc.processing.base import GatherContext, Processor
from seisproc.processing.device import trace_wise
from seisproc.processing.flow import Flow

__all__ = [
    "WORKING_SET_FACTOR",
    "Piece",
    "plan_batches",
    "stack_contexts",
    "DeviceBatcher",
    "DeviceUnitProcessor",
]

log = logging.getLogger(__name__)

WORKING_SET_FACTOR = 12
"""Device bytes a flow is assumed to need per byte of input gather.

Counted for the heaviest built-in steps: a bandpass holds the input, its zero-padded
spectrum (complex64, up to twice the trace length) and the inverse transform; a spiking
decon designs in float64. An underestimate is not fatal (the batch is split when it runs
out of memory); :meth:`TorchDevice.memory` reports the peak to check it on a real GPU.
"""

Apply = Callable[[Any, GatherContext, int], Any]
"""The flow's steps on one array: ``apply(data, context, key_value) -> data``."""


def _per_trace(context: GatherContext, n_traces: int) -> list[str]:
    """Fields of ``context`` that hold one value per trace (offsets, CDPs, delays...)."""
    return [
        f.name
        for f in dataclasses.fields(context)
        if isinstance(value := getattr(context, f.name), np.ndarray)
        and value.ndim == 1
        and len(value) == n_traces
    ]


def stack_contexts(contexts: Sequence[GatherContext]) -> GatherContext:
    """The context of gathers stacked along traces: their per-trace arrays concatenated.

    Every per-trace field counts, whatever its name, so a header a processor starts to
    need (a CDP, a delay) travels with its traces into a batch and out of a split. A
    field some gathers lack is dropped for the batch (``None``), as for a lone gather.
    """
    first = contexts[0]
    if len(contexts) == 1:
        return first
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(first):
        values = [getattr(c, f.name) for c in contexts]
        if isinstance(values[0], np.ndarray):
            arrays = [v for v in values if isinstance(v, np.ndarray)]
            changes[f.name] = np.concatenate(arrays) if len(arrays) == len(values) else None
        elif any(v != values[0] for v in values):
            raise ProcessingError(
                f"gathers of one batch differ in {f.name} "
                f"({values[0]!r}, ...): they cannot be stacked"
            )
    return dataclasses.replace(first, **changes)


@dataclass(frozen=True)
class Piece:
    """Traces of one gather (all of them unless a gather was split to fit), with what
    the processors may know about them."""

    samples: np.ndarray
    context: GatherContext
    key_value: int

    def halves(self) -> tuple[Piece, Piece]:
        """The first and second half of the traces, each with its part of the context."""
        mid = len(self.samples) // 2
        fields = _per_trace(self.context, len(self.samples))
        top = {name: getattr(self.context, name)[:mid] for name in fields}
        bottom = {name: getattr(self.context, name)[mid:] for name in fields}
        return (
            Piece(self.samples[:mid], dataclasses.replace(self.context, **top), self.key_value),
            Piece(self.samples[mid:], dataclasses.replace(self.context, **bottom), self.key_value),
        )


def plan_batches(sizes: Sequence[int], capacity: int | None) -> list[list[int]]:
    """Consecutive indices of ``sizes`` grouped so each group's sum fits ``capacity``.

    A size over ``capacity`` gets a group of its own (it will be split when it runs out
    of memory); ``capacity=None`` puts everything in one group.
    """
    groups: list[list[int]] = []
    total = 0
    for i, size in enumerate(sizes):
        if groups and (capacity is None or total + size <= capacity):
            groups[-1].append(i)
            total += size
        else:
            groups.append([i])
            total = size
    return groups


def _split_rows(data: np.ndarray, rows: Sequence[int]) -> list[np.ndarray]:
    """``data`` cut along its first axis into consecutive blocks of ``rows`` rows."""
    return list(np.split(data, np.cumsum(rows)[:-1])) if len(rows) > 1 else [data]


class DeviceBatcher:
    """Runs a flow's steps on batches of gathers on a device, splitting what does not fit.

    Parameters
    ----------
    device
        Where the batches go.
    processors
        The flow's processors: if all are trace-wise, a batch is stacked into one array
        (one kernel launch per step for all its gathers) and a lone gather may be split by
        traces; otherwise each gather is processed whole.
    apply
        The steps on one array, naming the gather in its errors: a job's
        :meth:`~seisproc.jobs.units.UnitProcessor.apply_steps`, so the batches run exactly
        the steps a CPU worker runs.
    stats
        Counters to update.
    """

    def __init__(
        self, device: TorchDevice, processors: Sequence[Processor], apply: Apply, stats: BatchStats
    ) -> None:
        self.device = device
        self.trace_wise = trace_wise(processors)
        self.apply = apply
        self.stats = stats

    def process(self, pieces: Sequence[Piece]) -> list[np.ndarray]:
        """Each piece processed, as float32 host arrays, in order."""
        try:
            return self._on_device(pieces)
        except Exception as exc:  # only out-of-memory is handled: the rest propagates
            if not self.device.is_out_of_memory(exc):
                raise
        # Retried outside the handler, so the failed attempt's tensors are already freed.
        return self._split(pieces)

    def _split(self, pieces: Sequence[Piece]) -> list[np.ndarray]:
        self.device.release()
        if len(pieces) > 1:
            self.stats.oom_splits += 1
            mid = len(pieces) // 2
            return self.process(pieces[:mid]) + self.process(pieces[mid:])
        (piece,) = pieces
        if self.trace_wise and len(piece.samples) > 1:
            self.stats.oom_splits += 1
            top, bottom = piece.halves()
            return [np.concatenate(self.process([top]) + self.process([bottom]))]
        self.stats.host_fallbacks += 1
        log.warning(
            "gather %s: %d trace(s) do not fit in %s memory; processed on the host",
            piece.key_value,
            len(piece.samples),
            self.device.kind,
        )
        out = self.apply(piece.samples, piece.context, piece.key_value)
        return [np.asarray(out, dtype=np.float32)]

    def _on_device(self, pieces: Sequence[Piece]) -> list[np.ndarray]:
        """One transfer in, the steps, one transfer out."""
        host = (
            pieces[0].samples if len(pieces) == 1 else np.concatenate([p.samples for p in pieces])
        )
        need = host.nbytes * WORKING_SET_FACTOR
        self.device.check_budget(need)
        out = self.device.to_host(self._steps(self.device.to_device(host), pieces))
        self.stats.batches += 1
        self.stats.largest_batch_bytes = max(self.stats.largest_batch_bytes, need)
        return _split_rows(out, [len(p.samples) for p in pieces])

    def _steps(self, data: Any, pieces: Sequence[Piece]) -> Any:
        """The flow on a batch already on the device: stacked if trace-wise, else per gather."""
        if self.trace_wise:
            try:
                context = stack_contexts([p.context for p in pieces])
                return self.apply(data, context, pieces[0].key_value)
            except ProcessingError as exc:
                if len(pieces) == 1 or self.device.is_out_of_memory(exc):
                    raise
                # Gather by gather below, so the error names the gather it came from.
        bounds = np.cumsum([0] + [len(p.samples) for p in pieces])
        return self.device.concat(
            [
                self.apply(data[int(a) : int(b)], p.context, p.key_value)
                for p, a, b in zip(pieces, bounds[:-1], bounds[1:], strict=True)
            ]
        )


class DeviceUnitProcessor(UnitProcessor):
    """A :class:`~seisproc.jobs.units.UnitProcessor` that runs its flow on a device.

    A unit's gathers are read, processed and written in batches sized to the device's
    memory (see :class:`DeviceBatcher`); a stop request is honoured between batches.
    """

    def __init__(
        self,
        flow: Flow,
        partial_path: Path,
        output_layout: SegyLayout,
        device: TorchDevice,
        stats: BatchStats | None = None,
    ) -> None:
        super().__init__(flow, partial_path, output_layout, backend=device)
        self.device = device
        self.batcher = DeviceBatcher(
            device, self.processors, self.apply_steps, stats if stats is not None else BatchStats()
        )

    def batches(self, gathers: Sequence[GatherRef]) -> list[Sequence[GatherRef]]:
        capacity = self.device.capacity_bytes()
        trace_bytes = self.n_samples * 4 * WORKING_SET_FACTOR
        sizes = [len(g.positions) * trace_bytes for g in gathers]
        return [tuple(gathers[i] for i in group) for group in plan_batches(sizes, capacity)]

    def process_gathers(self, gathers: Sequence[GatherInput]) -> list[np.ndarray]:
        pieces = [Piece(samples, self.context(headers), key) for samples, headers, key in gathers]
        return self.batcher.process(pieces)
