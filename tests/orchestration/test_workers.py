"""The worker class used directly, in this process: what an actor does, without Ray."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from ray_helpers import make_flow, make_spec

from seisproc.jobs.plan import plan_job
from seisproc.jobs.units import UnitProcessor
from seisproc.orchestration import BaseWorkerActor, CpuWorkerActor
from seisproc.orchestration.workers import CONCURRENCY_GROUPS


def test_a_worker_caches_one_processor_per_job_until_released(survey: Path,
                                                               tmp_path: Path) -> None:
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy"), gathers_per_unit=4)
    spec = make_spec(plan)
    worker = CpuWorkerActor()
    results = [worker.run_unit(spec, unit) for unit in plan.units]
    assert [r.number for r, _ in results if r] == [0, 1]
    assert all(node for _, node in results)
    assert worker.open_jobs() == [spec.job_id]
    worker.release_job(spec.job_id)
    assert worker.open_jobs() == []


def test_a_stopped_job_runs_no_gather_until_released(survey: Path, tmp_path: Path) -> None:
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy"))
    spec = make_spec(plan)
    worker = BaseWorkerActor()
    worker.stop_job(spec.job_id)
    assert worker.run_unit(spec, plan.units[0])[0] is None
    worker.release_job(spec.job_id)
    result, _ = worker.run_unit(spec, plan.units[0])
    assert result is not None and result.gathers == 4
    worker.release_job(spec.job_id)


def test_control_calls_have_their_own_concurrency_group() -> None:
    groups = {name: getattr(BaseWorkerActor, name).__ray_concurrency_group__
              for name in ("run_unit", "stop_job", "release_job", "ping", "node", "open_jobs")}
    assert groups.pop("run_unit") == "work"
    assert set(groups.values()) == {"control"}
    assert CONCURRENCY_GROUPS == {"work": 2, "control": 1, "scan": 1}
    assert CpuWorkerActor.ray_options == {"num_cpus": 1}


def test_a_warm_worker_closes_jobs_left_open_by_a_killed_command(survey: Path,
                                                                 tmp_path: Path) -> None:
    # A warm actor outlives commands: a command killed before it released its job must
    # not leave the job's files open (nor its stop flag set) for ever.
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy"), gathers_per_unit=4)
    left, live = make_spec(plan), make_spec(plan)
    worker = CpuWorkerActor()
    worker.stop_job(left.job_id)
    worker.run_unit(left, plan.units[0])
    worker.run_unit(live, plan.units[0])
    assert worker.forget_idle_jobs(3600.0) == []
    worker._last_used[left.job_id] -= 7200  # the killed command's last unit, 2 h ago
    assert worker.forget_idle_jobs(3600.0) == [left.job_id]
    assert worker.open_jobs() == [live.job_id] and left.job_id not in worker._stops
    worker.release_job(live.job_id)
    assert worker.pid() > 0


def test_a_units_wait_for_the_disk_overlaps_the_next_units_work(
        survey: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As Ray runs the work group: two units at once on one actor. The first unit's
    fdatasync is held; the second unit is read, processed and written meanwhile, and
    neither reports before its own sync."""
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy"), gathers_per_unit=4)
    spec, (first, second) = make_spec(plan), plan.units[:2]
    worker = CpuWorkerActor()
    disk = threading.Event()
    syncing: list[float] = []
    real_sync = os.fdatasync

    def held_sync(fd: int) -> None:
        syncing.append(time.monotonic())
        assert disk.wait(30)
        real_sync(fd)

    monkeypatch.setattr(os, "fdatasync", held_sync)
    written: dict[int, float] = {}
    real_write_unit = UnitProcessor.write_unit

    def noted_write_unit(self, unit, should_stop=None):  # type: ignore[no-untyped-def]
        done = real_write_unit(self, unit, should_stop)
        written[unit.number] = time.monotonic()
        return done

    monkeypatch.setattr(UnitProcessor, "write_unit", noted_write_unit)
    results: dict[int, object] = {}
    threads = [threading.Thread(target=lambda u=u: results.setdefault(
        u.number, worker.run_unit(spec, u)[0])) for u in (first, second)]
    threads[0].start()
    while not syncing:  # the first unit waits for the disk
        time.sleep(0.01)
    threads[1].start()
    deadline = time.monotonic() + 30
    while second.number not in written and time.monotonic() < deadline:
        time.sleep(0.01)
    assert second.number in written, "the second unit waited for the first one's sync"
    assert results == {}  # nothing reported before its sync
    disk.set()
    for thread in threads:
        thread.join(30)
    assert {n: r.number for n, r in results.items()} == {0: 0, 1: 1}  # type: ignore[attr-defined]
    worker.release_job(spec.job_id)


def test_units_on_one_actor_compute_one_at_a_time(survey: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy"), gathers_per_unit=2)
    spec = make_spec(plan)
    worker = CpuWorkerActor()
    real_write_unit = UnitProcessor.write_unit
    spans: list[tuple[float, float]] = []

    def timed_write_unit(self, unit, should_stop=None):  # type: ignore[no-untyped-def]
        start = time.monotonic()
        time.sleep(0.05)
        done = real_write_unit(self, unit, should_stop)
        spans.append((start, time.monotonic()))
        return done

    monkeypatch.setattr(UnitProcessor, "write_unit", timed_write_unit)
    threads = [threading.Thread(target=worker.run_unit, args=(spec, unit))
               for unit in plan.units[:3]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    spans.sort()
    assert len(spans) == 3
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:], strict=False))
    worker.release_job(spec.job_id)


def test_a_job_released_while_two_of_its_units_run_closes_after_both(
        survey: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy"), gathers_per_unit=4)
    spec = make_spec(plan)
    worker = CpuWorkerActor()
    disk = threading.Event()
    syncing: list[int] = []
    real_sync = os.fdatasync

    def held_sync(fd: int) -> None:
        syncing.append(fd)
        assert disk.wait(30)
        real_sync(fd)

    monkeypatch.setattr(os, "fdatasync", held_sync)
    threads = [threading.Thread(target=worker.run_unit, args=(spec, unit))
               for unit in plan.units[:2]]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(syncing) < 2 and time.monotonic() < deadline:  # both wait for the disk
        time.sleep(0.01)
    worker.release_job(spec.job_id)
    assert worker.open_jobs() == [spec.job_id]  # not closed under the running units
    disk.set()
    for thread in threads:
        thread.join(30)
    assert worker.open_jobs() == []
