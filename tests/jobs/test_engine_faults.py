"""Issue 13's findings, each as the scenario that broke the first engine: every fault
ends in a true state within seconds, and other jobs carry on.

The store-involved scenarios also run on SQLite and PostgreSQL in
tests/history/test_engine_store_faults.py; the signal scenarios through real
``seisproc run`` processes in tests/cli/test_signals.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine_faults import FailingExecutor, FaultyStore, LosingExecutor, sleepy_processor
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import JobState
from seisproc.jobs.plan import partial_path_for
from seisproc.jobs.starting import CheckpointMismatch
from seisproc.processing import base
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register
from seisproc.processing.flow import Flow

S = JobState
SLOW = [{"spiking_decon": {"operator_ms": 200}},
        {"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}, {"agc": {"window_ms": 200}}]


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_survey(tmp_path_factory.mktemp("survey") / "shots.sgy",
                             SurveyGeometry(shots=24, channels=40, samples=501, dt_ms=4.0))


def flow_to(survey: Path, out: Path, steps: list | None = None) -> Flow:
    return Flow.from_mapping({"name": out.stem, "input": str(survey), "output": str(out),
                              "steps": steps or SLOW})


def engine(tmp_path: Path, store=None, executor=None, **options) -> JobManager:  # type: ignore[no-untyped-def]
    options.setdefault("gathers_per_unit", 1)
    return JobManager(store or MemoryJobStore(), executor or (lambda: ThreadExecutor(2)),
                      CheckpointStore(tmp_path / "ckpt"), **options)


GATE = threading.Event()
_FIRST: list = [0.0, False]
"""The first sample of the gather that fails, and whether the processor is armed."""


class _FailAfterGate(Processor):
    """Fails on the 13th gather, but only once the test opens the gate (after a pause)."""

    name = "test_fail_after_gate"
    Params = ProcessorParams

    def apply(self, gather: np.ndarray, context: GatherContext) -> np.ndarray:
        if _FIRST[1] and float(gather[0, 0]) == _FIRST[0]:
            GATE.wait(30)
            raise ValueError("bad amplitudes")
        return gather


@pytest.fixture(autouse=True, scope="module")
def sleepy() -> Iterator[None]:
    with sleepy_processor():
        yield


SLEEPY = [{"test_sleepy": {}}, *SLOW]


@pytest.fixture
def fail_after_gate(survey: Path) -> Iterator[None]:
    from seisproc.io.segy import open_segy

    with open_segy(survey) as segy:  # the first sample of the 13th shot marks its gather
        samples, _ = segy.read(np.arange(12 * 40, 12 * 40 + 1))
    _FIRST[:] = [float(samples[0, 0]), True]
    GATE.clear()
    register(_FailAfterGate)
    yield
    GATE.set()
    base._REGISTRY.pop(_FailAfterGate.name)
    _FIRST[1] = False


def test_1_an_error_arriving_for_a_paused_job_fails_it_and_other_jobs_finish(
        tmp_path: Path, survey: Path, fail_after_gate: None) -> None:
    m = engine(tmp_path, max_running=2)
    try:
        doomed = m.submit(flow_to(survey, tmp_path / "doomed.sgy",
                                  [{"test_fail_after_gate": {}}, *SLOW]))
        other = m.submit(flow_to(survey, tmp_path / "other.sgy"))
        m.wait(doomed.id, 30, until=lambda j: j.progress.units_done >= 12)
        m.pause(doomed.id, "paused by alert qc_non_finite")
        GATE.set()  # the unit in flight for the paused job now raises
        failed = m.wait(doomed.id, 10)
        assert failed.state is S.FAILED and "bad amplitudes" in failed.error.message
        assert not partial_path_for(tmp_path / "doomed.sgy", doomed.id).exists()
        assert m.wait(other.id, 60).state is S.COMPLETED
    finally:
        m.close(active="cancel")


def test_2_resume_with_another_unit_size_completes_with_every_trace(
        tmp_path: Path, survey: Path, reference, same_data) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "resumed.sgy"
    first = engine(tmp_path, gathers_per_unit=1)
    job = first.submit(flow_to(survey, out, SLEEPY))
    first.wait(job.id, 30, until=lambda j: j.progress.units_done >= 2)
    first.pause(job.id)
    first.close(active="pause")
    assert first.get(job.id).state is S.PAUSED
    second = JobManager(first.store, lambda: ThreadExecutor(2), CheckpointStore(
        tmp_path / "ckpt"), gathers_per_unit=4)  # the default changed between versions
    try:
        second.store.save_job(second.store.take_over(job.id, second.owner, 30,
                                                     owner_dead=True) or job)
        done = second.wait(second.resume(job.id).id, 60)
        assert done.state is S.COMPLETED
        assert same_data(out, reference(flow_to(survey, tmp_path / "ref.sgy", SLEEPY)))
    finally:
        second.close()


def test_2_resume_after_the_input_changed_is_refused_then_restarts(
        tmp_path: Path, survey: Path, reference, same_data) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "input.sgy"
    data.write_bytes(survey.read_bytes())
    out = tmp_path / "out.sgy"
    m = engine(tmp_path)
    try:
        job = m.submit(flow_to(data, out, SLEEPY))
        m.wait(job.id, 30, until=lambda j: j.progress.units_done >= 3)
        m.pause(job.id)
        m.wait(job.id, 10, until=lambda j: j.state is S.PAUSED)
        time.sleep(0.3)  # the units in flight land
        other = synthesize_survey(tmp_path / "other.sgy", SurveyGeometry(
            shots=24, channels=40, samples=501, dt_ms=4.0), seed=7)
        other.replace(data)  # rewritten while the job was paused
        with pytest.raises(CheckpointMismatch, match=f"{data}.*seisproc resume --restart"):
            m.resume(job.id)
        assert m.get(job.id).state is S.PAUSED
        done = m.wait(m.resume(job.id, restart=True).id, 60)
        assert done.state is S.COMPLETED
        assert same_data(out, reference(flow_to(data, tmp_path / "ref.sgy", SLEEPY)))
    finally:
        m.close(active="cancel")


def test_5_a_file_appearing_at_the_output_name_is_never_replaced(
        tmp_path: Path, survey: Path) -> None:
    out = tmp_path / "taken.sgy"
    m = engine(tmp_path)
    try:
        job = m.submit(flow_to(survey, out))
        m.wait(job.id, 30, until=lambda j: j.progress.units_done >= 1)
        out.write_bytes(b"somebody else's file")
        failed = m.wait(job.id, 60)
        assert failed.state is S.FAILED
        assert "appeared at the output's name" in failed.error.message
        assert out.read_bytes() == b"somebody else's file"
        kept = partial_path_for(out, job.id)
        assert str(kept) in failed.error.message and kept.exists()
    finally:
        m.close()


def test_5_two_engines_cannot_write_the_same_output(tmp_path: Path, survey: Path) -> None:
    out = tmp_path / "shared.sgy"
    a, b = engine(tmp_path / "a"), engine(tmp_path / "b")
    try:
        job = a.submit(flow_to(survey, out))
        with pytest.raises(Exception, match=f"{out}: job {job.id} .* is already writing"):
            b.submit(flow_to(survey, out))
        assert a.wait(job.id, 60).state is S.COMPLETED
        b.wait(b.submit(flow_to(survey, out), overwrite=True).id, 60)  # claim released
    finally:
        a.close(active="cancel")
        b.close(active="cancel")


def test_6_paused_jobs_release_their_running_slots(tmp_path: Path, survey: Path) -> None:
    m = engine(tmp_path, max_running=2)
    try:
        paused = []
        for name in ("p1", "p2"):
            job = m.submit(flow_to(survey, tmp_path / f"{name}.sgy"))
            m.wait(job.id, 30, until=lambda j: j.state is S.RUNNING)
            paused.append(m.pause(job.id))
        third = m.submit(flow_to(survey, tmp_path / "third.sgy"))
        assert m.wait(third.id, 60).state is S.COMPLETED
        assert {m.get(j.id).state for j in paused} == {S.PAUSED}
    finally:
        m.close(active="cancel")


def test_9_a_failing_executor_submit_fails_the_job_instead_of_hanging(
        tmp_path: Path, survey: Path) -> None:
    m = engine(tmp_path, executor=lambda: FailingExecutor(accept=3))
    try:
        job = m.submit(flow_to(survey, tmp_path / "lost.sgy"))
        failed = m.wait(job.id, 10)
        assert failed.state is S.FAILED
        assert "the workers took no more units: Ray is gone" in failed.error.message
        assert not partial_path_for(tmp_path / "lost.sgy", job.id).exists()
    finally:
        m.close()


def test_3_completion_that_the_history_refuses_ends_failed_without_an_output(
        tmp_path: Path, survey: Path) -> None:
    store = FaultyStore(MemoryJobStore())
    store.failing = lambda job: job.state is S.COMPLETED
    m = engine(tmp_path, store=store, store_retry_s=0.5)
    out = tmp_path / "unrecorded.sgy"
    try:
        job = m.submit(flow_to(survey, out))
        start = time.monotonic()
        ended = m.wait(job.id, 30)
        assert time.monotonic() - start < 30
        assert ended.state is S.FAILED
        assert "could not record its completion" in ended.error.message
        assert not out.exists()  # the history never says COMPLETED, so no output
        assert store.inner.get_job(job.id).state is not S.COMPLETED
    finally:
        m.close()
    assert store.inner.get_job(job.id).state is S.FAILED


def test_3_a_history_that_fails_for_a_while_is_retried_and_the_job_completes(
        tmp_path: Path, survey: Path) -> None:
    store = FaultyStore(MemoryJobStore())
    until = time.monotonic() + 1.5
    store.failing = lambda job: time.monotonic() < until and job.state is S.RUNNING
    m = engine(tmp_path, store=store, store_retry_s=10)
    try:
        job = m.submit(flow_to(survey, tmp_path / "late.sgy"))
        assert m.wait(job.id, 60).state is S.COMPLETED
        assert store.refused, "the store never failed: the scenario did not happen"
        assert store.inner.get_job(job.id).state is S.COMPLETED
    finally:
        m.close()


def test_10_a_job_taken_over_by_another_process_is_left_alone(
        tmp_path: Path, survey: Path) -> None:
    store = MemoryJobStore()
    m = engine(tmp_path, store=store, lease_renew_s=0.05)
    out = tmp_path / "contested.sgy"
    try:
        job = m.submit(flow_to(survey, out))
        m.wait(job.id, 30, until=lambda j: j.progress.units_done >= 2)
        taken = store.take_over(job.id, "otherhost:99", 30, owner_dead=True)
        assert taken is not None
        deadline = time.monotonic() + 5
        while job.id in m._scheduler.jobs:  # noqa: SLF001 - the hand-off itself
            assert time.monotonic() < deadline, "the stale owner kept the job"
            time.sleep(0.02)
        time.sleep(0.3)
        assert store.get_job(job.id).owner == "otherhost:99"
        assert partial_path_for(out, job.id).exists()  # the new owner's files, untouched
        assert not out.exists()
    finally:
        m.close()


def test_closing_with_a_job_planning_or_queued_ends_in_a_true_state(
        tmp_path: Path, survey: Path) -> None:
    m = engine(tmp_path, max_running=1)
    running = m.submit(flow_to(survey, tmp_path / "r.sgy"))
    queued = m.submit(flow_to(survey, tmp_path / "q.sgy"))
    m.close(active="cancel")
    assert {m.store.get_job(j.id).state for j in (running, queued)} == {S.CANCELLED}
    assert not list(tmp_path.glob(".*seisproc-partial"))



def test_9_a_pool_shut_down_under_a_job_fails_it(tmp_path: Path, survey: Path) -> None:
    m = engine(tmp_path, executor=lambda: ThreadExecutor(1))
    try:
        job = m.submit(flow_to(survey, tmp_path / "x.sgy"))
        m.wait(job.id, 30, until=lambda j: j.progress.units_done >= 1)
        executor = m.executor
        assert executor is not None
        executor.shutdown()  # as a pool whose process pool went away
        failed = m.wait(job.id, 10)
        assert failed.state is S.FAILED and "the workers took no more units" in (
            failed.error.message)
    finally:
        m.close()


def test_1_a_job_whose_workers_keep_dying_fails_and_the_others_complete(
        tmp_path: Path, survey: Path) -> None:
    m = engine(tmp_path, max_running=2, executor=lambda: LosingExecutor(2))
    try:
        doomed = m.submit(flow_to(survey, tmp_path / "doomed.sgy"))
        other = m.submit(flow_to(survey, tmp_path / "other.sgy"))
        failed = m.wait(doomed.id, 30)
        assert failed.state is S.FAILED and "lost its worker 4 times" in failed.error.message
        assert m.wait(other.id, 60).state is S.COMPLETED
    finally:
        m.close(active="cancel")
