"""The worker class used directly, in this process: what an actor does, without Ray."""

from __future__ import annotations

from pathlib import Path

from ray_helpers import make_flow, make_spec

from seisproc.jobs.plan import plan_job
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
    assert CONCURRENCY_GROUPS == {"work": 1, "control": 1}
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
