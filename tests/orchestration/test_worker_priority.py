"""A worker's computing threads yield the CPU to the threads that answer people: they run
niced, once per thread, and the actor's control thread and the caller keep their
priority."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from ray_helpers import make_flow, make_spec

from seisproc.jobs.plan import plan_job
from seisproc.orchestration import CpuWorkerActor
from seisproc.orchestration.priority import WORKER_NICE_ENV, lower_this_thread, worker_nice

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="thread priorities are Linux's")


def nice_of_this_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def in_a_thread(work: Callable[[], object]) -> int:
    """Run ``work`` on a new thread; that thread's nice value afterwards."""
    seen: list[int] = []

    def run() -> None:
        work()
        seen.append(nice_of_this_thread())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen[0]


def test_a_unit_runs_niced_and_leaves_its_caller_as_it_was(survey: Path,
                                                          tmp_path: Path) -> None:
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy"), gathers_per_unit=4)
    actor, spec = CpuWorkerActor(), make_spec(plan)
    before = nice_of_this_thread()
    worked = in_a_thread(lambda: actor.run_unit(spec, plan.units[0]))
    assert worked == min(19, before + worker_nice())
    assert nice_of_this_thread() == before
    actor.release_job(spec.job_id)


def test_a_thread_is_lowered_once_however_many_units_it_runs() -> None:
    before = nice_of_this_thread()

    def twice() -> None:
        lower_this_thread()
        lower_this_thread()

    assert in_a_thread(twice) == min(19, before + worker_nice())


@pytest.mark.parametrize(("value", "nice"), [("", 5), ("0", 0), ("12", 12), ("40", 19),
                                              ("-3", 0), ("fast", 5)])
def test_the_nice_value_is_read_from_the_environment_and_bounded(
        monkeypatch: pytest.MonkeyPatch, value: str, nice: int) -> None:
    monkeypatch.setenv(WORKER_NICE_ENV, value)
    assert worker_nice() == nice


def test_zero_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKER_NICE_ENV, "0")
    before = nice_of_this_thread()
    assert in_a_thread(lower_this_thread) == before
