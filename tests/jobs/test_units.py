"""A unit of work is reported only once its traces are durable where they were written:
the driver records a returned unit as done and never redoes it, and on a shared file
system only the writing node can flush its cache."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from seisproc.jobs.plan import JobPlan, plan_job
from seisproc.jobs.units import UnitProcessor
from seisproc.processing.flow import Flow

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="names an fd's file through /proc/self/fd")


@pytest.fixture
def plan(small_survey: Path, tmp_path: Path) -> JobPlan:
    flow = Flow.from_mapping({"name": "t", "input": str(small_survey),
                              "output": str(tmp_path / "out.sgy"), "gather_by": "ffid",
                              "steps": [{"agc": {"window_ms": 200}}]})
    return plan_job(flow, gathers_per_unit=3)


@pytest.fixture
def io_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Path]]]:
    """Every ``pwrite`` and data sync, in order, with the file it went to."""
    events: list[tuple[str, Path]] = []
    real = {name: getattr(os, name) for name in ("pwrite", "fdatasync", "fsync")}

    def recorder(name: str, kind: str) -> Callable[..., object]:
        def call(fd: int, *args: object) -> object:
            events.append((kind, Path(os.readlink(f"/proc/self/fd/{fd}"))))
            return real[name](fd, *args)
        return call

    monkeypatch.setattr(os, "pwrite", recorder("pwrite", "write"))
    monkeypatch.setattr(os, "fdatasync", recorder("fdatasync", "sync"))
    monkeypatch.setattr(os, "fsync", recorder("fsync", "sync"))
    yield events


def test_a_unit_comes_back_only_after_one_data_sync_of_the_partial_output(
        plan: JobPlan, io_events: list[tuple[str, Path]]) -> None:
    unit = plan.units[0]
    assert len(unit.gathers) == 3
    with UnitProcessor(plan.flow, plan.partial_path, plan.output_layout) as worker:
        io_events.clear()
        result = worker.run(unit)
        events_at_return = list(io_events)
    assert result is not None and result.traces == unit.n_traces
    partial = plan.partial_path.resolve()
    writes = [i for i, (kind, path) in enumerate(events_at_return)
              if kind == "write" and path == partial]
    syncs = [i for i, (kind, path) in enumerate(events_at_return) if kind == "sync"]
    assert len(writes) >= 3  # one run of contiguous traces per gather at least
    assert [events_at_return[i][1] for i in syncs] == [partial]  # once per unit, not per gather
    assert syncs[0] > writes[-1]  # after the unit's last trace


def test_a_stopped_unit_is_not_synced(plan: JobPlan,
                                      io_events: list[tuple[str, Path]]) -> None:
    answers = iter([False, True])  # stop after the first gather was written
    with UnitProcessor(plan.flow, plan.partial_path, plan.output_layout) as worker:
        io_events.clear()
        result = worker.run(plan.units[0], lambda: next(answers))
        events_at_return = list(io_events)
    assert result is None
    assert any(kind == "write" for kind, _ in events_at_return)
    assert not any(kind == "sync" for kind, _ in events_at_return)


def test_each_unit_is_synced_before_the_next_one_starts(
        plan: JobPlan, io_events: list[tuple[str, Path]]) -> None:
    with UnitProcessor(plan.flow, plan.partial_path, plan.output_layout) as worker:
        io_events.clear()
        for unit in plan.units:
            worker.run(unit)
    kinds = [kind for kind, _ in io_events]
    assert kinds.count("sync") == len(plan.units) == 2
    assert kinds[-1] == "sync"
    first_sync = kinds.index("sync")
    assert "write" in kinds[:first_sync] and "write" in kinds[first_sync:]


def test_a_unit_reports_where_its_time_went_stage_by_stage(
        small_survey: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flow = Flow.from_mapping({"name": "t", "input": str(small_survey),
                              "output": str(tmp_path / "out.sgy"), "gather_by": "ffid",
                              "steps": [{"bandpass": {"f1": 5, "f2": 10, "f3": 40, "f4": 60}},
                                        {"agc": {"window_ms": 200}}]})
    plan = plan_job(flow, gathers_per_unit=3)
    real_sync = os.fdatasync

    def slow_sync(fd: int) -> None:
        time.sleep(0.2)
        real_sync(fd)

    monkeypatch.setattr(os, "fdatasync", slow_sync)
    with UnitProcessor(plan.flow, plan.partial_path, plan.output_layout) as worker:
        result = worker.run(plan.units[0])
    assert result is not None
    stages = dict(result.stages)
    assert list(stages) == ["read", "decode", "bandpass", "agc", "qc", "encode", "write",
                            "sync"]
    assert stages["sync"] >= 0.2 and max(stages, key=stages.__getitem__) == "sync"
    assert sum(stages.values()) <= result.seconds  # laps of the unit's own time
    assert sum(stages.values()) >= 0.9 * result.seconds
