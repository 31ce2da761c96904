"""GPU workers: the same processors on torch tensors on a CUDA GPU, Apple's MPS or the CPU.

Processors are written once on the array API (design principle 5), so a GPU worker only
differs from a CPU one in where it puts the arrays. A job's unit takes the same path on
either: ``run_unit`` -> the worker's unit processor -> the job's steps
(:func:`~seisproc.processing.preview.run_steps`); on a GPU worker the unit processor
moves a batch of gathers to the device in one transfer, runs the steps there and moves
the result back.

The parts, one module each:

* :mod:`~seisproc.orchestration.gpu.device`: the torch device, its transfers, its memory
  budget and figures (:class:`DeviceMemory`, what the resource monitor shows);
* :mod:`~seisproc.orchestration.gpu.batching`: batches sized to device memory, split
  when they run out of it, and the unit processor that runs them;
* :mod:`~seisproc.orchestration.gpu.actors`: the worker actors (CUDA, MPS, torch-CPU);
* :mod:`~seisproc.orchestration.gpu.routing`: what the cluster offers, the submit-time
  check and :class:`DeviceExecutor`, which routes units by the flow's ``device``.

torch is imported only inside the functions that need it, so this package loads (and
CPU-only clusters run) without torch.
"""

from seisproc.orchestration.gpu.actors import (
    GpuWorkerActor,
    MetalWorkerActor,
    TorchCpuWorkerActor,
    gpu_worker_class,
)
from seisproc.orchestration.gpu.batching import (
    WORKING_SET_FACTOR,
    DeviceBatcher,
    DeviceUnitProcessor,
    Piece,
    plan_batches,
    stack_contexts,
)
from seisproc.orchestration.gpu.device import (
    BUDGET_ENV,
    BatchStats,
    DeviceInfo,
    DeviceMemory,
    DeviceMemoryExhausted,
    TorchDevice,
    budget_from_env,
    import_torch,
    parse_bytes,
)
from seisproc.orchestration.gpu.routing import (
    DeviceExecutor,
    check_device,
    cluster_devices,
    device_executor,
)

__all__ = [
    "WORKING_SET_FACTOR",
    "BUDGET_ENV",
    "parse_bytes",
    "budget_from_env",
    "import_torch",
    "DeviceMemoryExhausted",
    "DeviceInfo",
    "DeviceMemory",
    "BatchStats",
    "TorchDevice",
    "Piece",
    "stack_contexts",
    "DeviceBatcher",
    "DeviceUnitProcessor",
    "GpuWorkerActor",
    "MetalWorkerActor",
    "TorchCpuWorkerActor",
    "gpu_worker_class",
    "plan_batches",
    "cluster_devices",
    "check_device",
    "DeviceExecutor",
    "device_executor",
]
