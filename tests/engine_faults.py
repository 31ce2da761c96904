"""Doubles that fail on purpose, for the engine's fault scenarios.

:class:`FaultyStore` wraps a real store (SQLite, PostgreSQL or memory) and makes chosen
saves raise, as a locked or full database does; :class:`FailingExecutor` wraps the thread
executor and refuses units after a number, as a pool whose Ray has gone does.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from seisproc.jobs.memory import ThreadExecutor
from seisproc.jobs.model import Job
from seisproc.jobs.ports import Completion, JobSpec
from seisproc.jobs.units import WorkUnit
from seisproc.processing import base
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register


class DatabaseLocked(Exception):
    """What the store raises here: the text SQLite gives a locked database."""

    def __init__(self) -> None:
        super().__init__("database is locked")


class FaultyStore:
    """A store whose ``save_job`` raises while ``failing(job)`` says so."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failing: Callable[[Job], bool] = lambda job: False
        self.refused: list[Job] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def save_job(self, job: Job) -> None:
        if self.failing(job):
            self.refused.append(job)
            raise DatabaseLocked()
        self.inner.save_job(job)


class FailingExecutor(ThreadExecutor):
    """Takes ``accept`` units, then raises on every submit, as a pool whose cluster went."""

    def __init__(self, accept: int, workers: int = 2) -> None:
        super().__init__(workers=workers)
        self._accept = accept
        self._count = 0
        self._count_lock = threading.Lock()

    def submit(self, spec: JobSpec, unit: WorkUnit) -> None:
        with self._count_lock:
            self._count += 1
            if self._count > self._accept:
                raise ConnectionError("Ray is gone: the cluster stopped answering")
        super().submit(spec, unit)


class SleepyParams(ProcessorParams):
    ms: float = 20.0


class Sleepy(Processor):
    """Takes ``ms`` per gather: long enough for a test to act while a job runs."""

    name = "test_sleepy"
    Params = SleepyParams

    def apply(self, gather: np.ndarray, context: GatherContext) -> np.ndarray:
        time.sleep(self.params.ms / 1000)  # type: ignore[attr-defined]
        return gather


@contextlib.contextmanager
def sleepy_processor() -> Iterator[None]:
    """``test_sleepy`` registered for the duration."""
    register(Sleepy)
    try:
        yield
    finally:
        base._REGISTRY.pop(Sleepy.name)


class LosingExecutor(ThreadExecutor):
    """Loses the worker of every unit whose job writes an output named ``doomed*``, as
    a node that dies under one job's data does; other jobs' units run."""

    def _run(self, spec: JobSpec, unit: WorkUnit, stop: threading.Event) -> None:
        if spec.flow.output.name.startswith("doomed"):
            time.sleep(0.01)
            self._done.put(Completion(spec.job_id, unit, worker_lost=True, node="node-9"))
            return
        super()._run(spec, unit, stop)
