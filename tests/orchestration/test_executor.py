"""The Ray executor on a real local Ray: same bytes as a local run, bounded work in flight,
cooperative stops, dead workers replaced, processing errors carried back as themselves."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import ray
from ray_helpers import SLOW, drain, make_flow, make_spec, run_units

from reference_outputs import reference_output
from seisproc.errors import ProcessingError
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.io.writer import commit_output
from seisproc.jobs.plan import plan_job
from seisproc.jobs.ports import Executor
from seisproc.jobs.units import WorkUnit
from seisproc.orchestration import RayExecutor


def slow_unit(units: tuple[WorkUnit, ...], repeats: int = 100) -> WorkUnit:
    """Every gather of the job, ``repeats`` times over: seconds of work in one unit.

    Rewriting a gather rewrites the same bytes, so the output stays valid.
    """
    gathers = tuple(g for unit in units for g in unit.gathers)
    return WorkUnit(0, gathers * repeats)


def test_ray_executor_is_an_executor(executor: RayExecutor) -> None:
    assert isinstance(executor, Executor)
    assert executor.capacity() == 4
    assert len({w.node for w in executor.workers()}) == 1  # one local node, known


def test_units_on_ray_give_the_bytes_of_a_local_run(executor: RayExecutor, survey: Path,
                                                    tmp_path: Path) -> None:
    expected = reference_output(make_flow(survey, tmp_path / "local.sgy")).read_bytes()
    flow = make_flow(survey, tmp_path / "ray.sgy")
    plan = plan_job(flow, gathers_per_unit=1)  # other units than the reference's 4-gather
    spec = make_spec(plan)
    done, _ = run_units(executor, spec, plan.units)
    executor.release_job(spec.job_id)
    assert sorted(c.unit.number for c in done) == list(range(8))
    assert all(c.result is not None and c.error is None and c.node for c in done)
    assert sum(c.result.traces for c in done if c.result) == 8 * 48
    commit_output(plan.partial_path, flow.output)
    assert flow.output.read_bytes() == expected


def test_back_pressure_in_flight_reaches_but_never_exceeds_capacity(
        executor: RayExecutor, survey: Path, tmp_path: Path) -> None:
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy"), gathers_per_unit=1)
    spec = make_spec(plan)
    done, most = run_units(executor, spec, plan.units * 3)  # 24 units, capacity 4
    executor.release_job(spec.job_id)
    assert len(done) == 24 and most == executor.capacity()
    assert {w.in_flight for w in executor.workers()} == {0}


def test_stop_job_drops_the_running_and_queued_units_between_gathers(
        executor: RayExecutor, survey: Path, tmp_path: Path) -> None:
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy", SLOW), gathers_per_unit=8)
    spec = make_spec(plan)
    slow = slow_unit(plan.units)  # 800 gathers, about 4 s
    for _ in range(3):  # one running on each actor, one queued behind
        executor.submit(spec, slow)
    time.sleep(0.5)
    start = time.perf_counter()
    executor.stop_job(spec.job_id)
    first = executor.wait(5.0)
    latency = time.perf_counter() - start
    done = first + drain(executor, 5.0)
    print(f"stop latency {latency * 1000:.0f} ms")
    assert first and latency < 1.0
    assert len(done) == 3 and all(c.result is None and c.error is None for c in done)
    executor.submit(spec, plan.units[0])  # the stop holds until the job is released
    assert drain(executor)[0].result is None
    executor.release_job(spec.job_id)


def test_a_dead_workers_units_come_back_lost_and_the_worker_is_replaced(
        executor: RayExecutor, survey: Path, tmp_path: Path) -> None:
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy", SLOW), gathers_per_unit=8)
    spec, other = make_spec(plan), make_spec(plan)
    slow = slow_unit(plan.units)
    for job in (spec, other, spec):  # the first actor gets two units of `spec`
        executor.submit(job, slow)
    time.sleep(0.3)
    (busy,) = [w for w in executor.workers() if w.in_flight == 2]
    start = time.perf_counter()
    ray.kill(busy.actor)
    lost = executor.wait(10.0)
    lost += [] if len(lost) == 2 else executor.wait(10.0)
    assert [(c.job_id, c.worker_lost, c.result, c.error) for c in lost] == [
        (spec.job_id, True, None, None)] * 2
    assert {c.node for c in lost} == {busy.node}
    pool = executor.workers()
    assert len(pool) == 2 and busy.actor not in [w.actor for w in pool]
    executor.wait_ready(30)
    print(f"worker replaced and answering {time.perf_counter() - start:.2f} s after the kill")
    executor.stop_job(other.job_id)  # the other actor's unit was untouched: drop it
    (stopped,) = executor.wait(5.0)
    assert stopped.job_id == other.job_id and stopped.result is None and not stopped.worker_lost
    executor.submit(spec, plan.units[0])  # the retry
    (again,) = drain(executor)
    assert again.result is not None and again.result.traces == 8 * 48
    executor.release_job(spec.job_id)
    executor.release_job(other.job_id)


def test_a_processing_error_comes_back_as_itself_naming_the_gather(
        executor: RayExecutor, tmp_path: Path) -> None:
    # Traces of 9 samples cannot hold a 10-sample decon operator. Planning refuses such a
    # flow, so plan a harmless one and hand the workers the unfit flow, as if the data
    # had changed under the job: the processor itself fails inside the worker.
    short = synthesize_survey(tmp_path / "short.sgy",
                              SurveyGeometry(shots=2, channels=4, samples=9, dt_ms=4.0))
    plan = plan_job(make_flow(short, tmp_path / "out.sgy", [{"tpow": {}}]))
    unfit = make_flow(short, tmp_path / "out.sgy", [{"spiking_decon": {"operator_ms": 40}}])
    spec = make_spec(plan, unfit)
    executor.submit(spec, plan.units[0])
    (failed,) = drain(executor)
    executor.release_job(spec.job_id)
    assert type(failed.error) is ProcessingError
    assert "short.sgy: gather ffid=1001, step 1 (spiking_decon)" in str(failed.error)
    assert "must be longer than the operator" in str(failed.error)
    assert "run_unit" in failed.traceback and failed.node
    assert len(executor.workers()) == 2  # the worker is fine


def test_release_job_closes_the_jobs_files_on_every_worker(
        executor: RayExecutor, survey: Path, tmp_path: Path) -> None:
    plan = plan_job(make_flow(survey, tmp_path / "out.sgy"), gathers_per_unit=1)
    spec = make_spec(plan)
    run_units(executor, spec, plan.units[:4])
    actors = [w.actor for w in executor.workers()]
    assert any(spec.job_id in ray.get(a.open_jobs.remote()) for a in actors)
    executor.release_job(spec.job_id)
    deadline = time.monotonic() + 5
    while any(spec.job_id in ray.get(a.open_jobs.remote()) for a in actors):
        assert time.monotonic() < deadline, "files still open after release_job"
        time.sleep(0.05)


def test_units_of_two_jobs_interleave_on_one_pool(executor: RayExecutor, survey: Path,
                                                  tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        flow = make_flow(survey, tmp_path / f"{name}.sgy")
        plan = plan_job(flow, gathers_per_unit=2)
        spec = make_spec(plan)
        for unit in plan.units:
            executor.submit(spec, unit)
        outputs.append((spec, plan))
    done = drain(executor)
    assert len(done) == 8 and all(c.result is not None for c in done)
    for spec, plan in outputs:
        executor.release_job(spec.job_id)
        commit_output(plan.partial_path, plan.flow.output)
    a, b = (np.fromfile(plan.flow.output, np.uint8) for _, plan in outputs)
    np.testing.assert_array_equal(a, b)
