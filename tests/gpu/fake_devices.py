"""A fake GPU for the monitor's tests: the GPU worker's code on torch's CPU device, under
a device memory budget, as a GPU worker class of its own (so a warm pool of it is named
apart from any other). Ray ships this module's classes by value (see
:func:`ship_by_value`): the workers' processes cannot import the test folder."""

from __future__ import annotations

import sys

from seisproc.orchestration.gpu import TorchCpuWorkerActor

BUDGET_BYTES = 96 * 2**20


class BudgetedTorchCpuWorker(TorchCpuWorkerActor):
    """Torch's CPU device with a 96 MiB budget: reports it like a GPU worker would."""

    memory_budget_bytes = BUDGET_BYTES


def ship_by_value() -> None:
    """Let Ray pickle this module's classes by value for its worker processes."""
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
