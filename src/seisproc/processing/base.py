"""The processor contract and the registry processors are found in by name.

A processor transforms one gather, a float32 array of shape ``(n_traces, n_samples)``, and
is written once against the Python array API so the same code runs on numpy arrays (CPU
workers) and torch tensors (GPU workers). Parameters are pydantic models: a flow file is
validated against them before any data is read, so a wrong field fails at submission and
the message names the step, the field and what is allowed.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pydantic

from seisproc.errors import FlowError, ParameterError, ProcessingError

__all__ = [
    "GatherContext",
    "Reduced",
    "ProcessorParams",
    "Processor",
    "register",
    "processor_class",
    "available_processors",
    "create_processor",
]


@dataclass(frozen=True)
class GatherContext:
    """What a processor may know about a gather besides its samples."""

    sample_interval_ms: float
    """Time between samples, in milliseconds."""
    offsets_m: np.ndarray | None = None
    """Signed source-receiver offset of each trace (``offset`` trace header), shape
    ``(n_traces,)``; ``None`` when the caller has no headers (processors that need
    offsets refuse to run without them)."""
    cdps: np.ndarray | None = None
    """CDP number of each trace (``cdp`` trace header), shape ``(n_traces,)``: where a
    velocity table is looked up; ``None`` without headers."""
    delays_ms: np.ndarray | None = None
    """Recording delay of each trace (``delrt`` trace header), ms, shape ``(n_traces,)``:
    the time of the first sample. ``None`` (no headers) means 0 on every trace."""

    @property
    def nyquist_hz(self) -> float:
        return 500.0 / self.sample_interval_ms

    def trace_delays_ms(self, n_traces: int) -> np.ndarray:
        """Each trace's recording delay in ms (zeros when none came), float64."""
        if self.delays_ms is None:
            return np.zeros(n_traces)
        delays = np.asarray(self.delays_ms, dtype=np.float64).reshape(-1)
        if delays.shape != (n_traces,):
            raise ProcessingError(
                f"{delays.size} recording delays for a gather of {n_traces} traces; "
                "expected one delay per trace"
            )
        return delays


@dataclass(frozen=True)
class Reduced:
    """What a processor that changes the number of traces (:meth:`Processor.reduce`)
    makes of one gather: the output traces, and what their trace headers hold."""

    samples: Any
    """Output traces ``(n_out, n_samples)`` float32, in the gather's namespace."""
    source_traces: np.ndarray
    """For each output trace, the input trace whose headers it starts from, ``(n_out,)``."""
    header_values: dict[str, np.ndarray]
    """Header words then set on the output traces (any name the SEG-Y layer's
    ``header_field`` takes, e.g. ``offset``, ``nhs``), one value per output trace."""


class ProcessorParams(pydantic.BaseModel):
    """Base of every processor's parameter model: unknown fields are errors."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class Processor(ABC):
    """One step of a flow.

    Subclasses set ``name`` (the key used in flow files), ``Params`` (their parameter
    model) and implement :meth:`apply`. :meth:`check` refuses parameters that only become
    wrong once the data's sample interval is known (a corner above Nyquist, a window
    shorter than a sample).
    """

    name: ClassVar[str]
    Params: ClassVar[type[ProcessorParams]]
    aliases: ClassVar[tuple[str, ...]] = ()
    path_fields: ClassVar[tuple[str, ...]] = ()
    """Parameters that name files (a velocity table): a flow resolves them against its
    own folder, as it does its input and output, so a flow travels with its tables."""
    starting_params: ClassVar[dict[str, Any]] = {}
    """What a new step of this processor starts with in the desktop flow editor: valid,
    and sensible for typical data (4 ms sampling, a few seconds long). The editor writes
    them into the flow like any value the user typed; flow files still have to give every
    required parameter. Fields left out start at their default (or, when required, at
    the simplest value their bounds allow)."""

    output_traces: ClassVar[str | int] = "same"
    """How many traces :meth:`apply` returns for a gather: ``"same"`` (as many as it was
    given, written back where they came from), ``"one_per_gather"``, or a number known
    before it runs. Known before any work, so a plan knows its output's trace count and
    where each trace goes; a step that changes the count must end its stage, and
    implements :meth:`reduce`."""
    gather_by: ClassVar[tuple[str, ...]] = ()
    """Gather keys this processor makes sense on (lower case; empty: any)."""
    gather_by_reason: ClassVar[str] = ""
    """The one line a flow that gathers otherwise is refused with."""

    def __init__(self, params: ProcessorParams) -> None:
        self.params = params

    def traces_out(self, n_traces_in: int) -> int:
        """Traces :meth:`apply` returns for a gather of ``n_traces_in`` traces."""
        if self.output_traces == "same":
            return n_traces_in
        if self.output_traces == "one_per_gather":
            return 1
        return int(self.output_traces)

    def reduce(self, gather: Any, context: GatherContext) -> Reduced:
        """The output traces of a step that changes the trace count, with their headers;
        only processors whose ``output_traces`` is not ``"same"`` implement it."""
        raise NotImplementedError(f"{self.name} returns the traces it is given")

    def check(self, sample_interval_ms: float, n_samples: int) -> None:  # noqa: B027 (optional hook)
        """Raise :class:`ParameterError` if the parameters cannot apply to this data."""

    @abstractmethod
    def apply(self, gather: Any, context: GatherContext) -> Any:
        """Return the processed gather, same shape, same namespace, float32."""

    def describe(self) -> str:
        """One line for logs and SEG-Y provenance: ``agc(window_ms=500.0)``."""
        fields = ", ".join(f"{k}={v}" for k, v in self.params.model_dump().items())
        return f"{self.name}({fields})"

    def __repr__(self) -> str:
        return f"<Processor {self.describe()}>"


_REGISTRY: dict[str, type[Processor]] = {}


def register(cls: type[Processor]) -> type[Processor]:
    """Class decorator that makes a processor reachable by its name and aliases."""
    for key in (cls.name, *cls.aliases):
        if key in _REGISTRY and _REGISTRY[key] is not cls:
            raise ValueError(f"processor name {key!r} is already registered")
        _REGISTRY[key] = cls
    return cls


def available_processors() -> dict[str, type[Processor]]:
    """Canonical processor names (aliases left out) to their classes, sorted by name."""
    canonical = {cls.name: cls for cls in _REGISTRY.values()}
    return dict(sorted(canonical.items()))


def processor_class(name: str) -> type[Processor]:
    """The processor registered as ``name``; a :class:`FlowError` suggests near names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(available_processors())
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise FlowError(f"unknown processor {name!r}.{hint} Known processors: {known}") from None


def create_processor(name: str, params: dict[str, Any] | None) -> Processor:
    """Build a processor from flow-file values, with errors that name each bad field."""
    cls = processor_class(name)
    try:
        return cls(cls.Params.model_validate(params or {}))
    except pydantic.ValidationError as exc:
        raise ParameterError(_explain(cls, exc)) from None


def _explain(cls: type[Processor], exc: pydantic.ValidationError) -> str:
    allowed = ", ".join(cls.Params.model_fields)
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(parameters)"
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown field {field!r} (allowed: {allowed})")
        elif err["type"] == "missing":
            problems.append(f"field {field!r} is required (allowed: {allowed})")
        else:
            problems.append(f"field {field!r}: {err['msg']} (got {err.get('input')!r})")
    return f"{cls.name}: " + "; ".join(problems)
