"""Where a flow's arrays live: the device vocabulary shared by flows, the engine and workers.

A flow says ``device: auto | cpu | gpu``. Processors do not care (design principle 5:
written once on the array API); only the worker that runs them does, by the arrays it
hands them. This module holds the parts of that choice that need no framework: which kind
of worker a flow's units go to given what the cluster has, the one-line refusal when a
flow asks for a GPU the cluster lacks, the :class:`ArrayBackend` a unit processor moves
gathers through, and which processors may see several gathers stacked into one array.

Nothing here imports torch or Ray: the cluster's figures come in as
:class:`ClusterDevices`, read by the Ray adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from seisproc.errors import SeisprocError
from seisproc.processing.base import Processor

__all__ = [
    "Device",
    "WorkerKind",
    "DeviceError",
    "ClusterDevices",
    "worker_kind",
    "ArrayBackend",
    "TRACE_WISE",
    "trace_wise",
]

Device = Literal["auto", "cpu", "gpu"]
"""What a flow asks for: ``auto`` (a GPU when the cluster has one), ``cpu`` or ``gpu``."""

WorkerKind = Literal["cpu", "cuda", "mps"]
"""Where a unit actually runs: numpy on a CPU, torch on CUDA, torch on Apple's MPS."""


class DeviceError(SeisprocError):
    """A flow asks for a device the cluster (or this installation) does not have."""


@dataclass(frozen=True)
class ClusterDevices:
    """What a cluster offers, as its resources say: the input of the device choice."""

    cpus: float
    gpus: float = 0.0
    """CUDA GPUs (Ray's ``GPU`` resource)."""
    metal: float = 0.0
    """Apple-silicon nodes that declared the custom ``metal`` resource (MPS)."""
    where: str = "the local Ray cluster"
    """How to name the cluster in a message: ``the Ray cluster at host:6379``."""
    torch_version: str | None = None
    """torch on this process, ``None`` when it cannot be imported: GPU workers need it."""

    @property
    def accelerator(self) -> WorkerKind | None:
        """``cuda`` or ``mps`` if the cluster has one (CUDA first), else ``None``."""
        if self.gpus >= 1:
            return "cuda"
        if self.metal >= 1:
            return "mps"
        return None

    def describe(self) -> str:
        """``2 CPUs, 0 CUDA GPUs, no Apple Metal device``: for messages."""
        metal = f"{self.metal:g} Apple Metal nodes" if self.metal else "no Apple Metal device"
        return f"{self.cpus:g} CPUs, {self.gpus:g} CUDA GPUs, {metal}"


def worker_kind(device: Device, cluster: ClusterDevices) -> WorkerKind:
    """The kind of worker that runs a flow asking for ``device`` on ``cluster``.

    ``auto`` takes the cluster's accelerator when torch is there to drive it and falls
    back to the CPU workers otherwise; ``gpu`` is refused with a :class:`DeviceError`
    that names what is missing and what the cluster has, so a job fails at submission,
    not in a worker minutes later.
    """
    if device == "cpu":
        return "cpu"
    accelerator = cluster.accelerator
    if accelerator is not None and cluster.torch_version is not None:
        return accelerator
    if device == "auto":
        return "cpu"
    if accelerator is None:
        raise DeviceError(
            f"device: gpu, but {cluster.where} has no GPU (it has {cluster.describe()}); "
            "use device: auto or cpu, or run on a cluster with a GPU (--address)")
    raise DeviceError(
        f"device: gpu, but torch is not installed here, and GPU workers run on torch "
        f"({cluster.where} has {cluster.describe()}); install it: pip install 'seisproc[gpu]'")


@runtime_checkable
class ArrayBackend(Protocol):
    """Moves gathers between host memory (numpy) and a device (a torch tensor there).

    A :class:`~seisproc.jobs.units.UnitProcessor` given one moves each gather to the
    device, applies the processors there and moves the result back: the processors are
    the same code either way.
    """

    def to_device(self, host: np.ndarray) -> Any:
        """``host`` (float32, ``(n_traces, n_samples)``) as an array on the device."""

    def to_host(self, data: Any) -> np.ndarray:
        """``data`` (an array on the device) as a float32 numpy array."""


TRACE_WISE: frozenset[str] = frozenset({
    "agc", "bandpass", "butterworth", "exp_gain", "normalize", "spherical_divergence",
    "spiking_decon", "top_mute", "tpow",
})
"""Processors whose output trace depends only on the same input trace (and its offset).

A flow made of these alone may have several gathers stacked into one array on a GPU (one
kernel launch per step instead of one per gather, the difference between a busy and an
idle GPU on small gathers) and an oversized gather split by traces when device memory runs
out. A processor that mixes traces (an FK filter, a stack) must stay out of this set:
it then sees whole gathers only. ``tests/gpu`` checks each member by splitting a gather.
"""


def trace_wise(processors: Sequence[Processor]) -> bool:
    """Whether every processor of a flow is in :data:`TRACE_WISE`."""
    return all(p.name in TRACE_WISE for p in processors)
