"""JobManager logic on in-process adapters (the Ray engine has its own integration tests)."""

from __future__ import annotations

import errno
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from seisproc.errors import OutputError
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.io.segy import open_segy
from seisproc.io.writer import SegyWriter
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.fingerprint import PlanFingerprint
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.plan import partial_path_for
from seisproc.jobs.transitions import IllegalTransition, transition
from seisproc.processing import base
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register
from seisproc.processing.flow import Flow

S = JobState
STEPS = [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}, {"agc": {"window_ms": 200}}]
SLOW = [{"spiking_decon": {"operator_ms": 200}}, *STEPS]


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("survey")
    return synthesize_survey(folder / "shots.sgy",
                             SurveyGeometry(shots=12, channels=40, samples=501, dt_ms=4.0))


@pytest.fixture(scope="module")
def big_survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    return synthesize_survey(folder / "big.sgy",
                             SurveyGeometry(shots=60, channels=40, samples=501, dt_ms=4.0))


@pytest.fixture
def manager(tmp_path: Path):  # type: ignore[no-untyped-def]
    m = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=2),
                   CheckpointStore(tmp_path / "ckpt"), max_running=2, gathers_per_unit=1)
    yield m
    m.close(active="cancel")


def flow_to(survey: Path, out: Path, steps: list | None = None) -> Flow:
    return Flow.from_mapping({"name": out.stem, "input": str(survey), "output": str(out),
                              "steps": steps or STEPS})


def test_submit_returns_a_queued_job_at_once_that_reaches_the_history_first(
        manager: JobManager, survey: Path, tmp_path: Path) -> None:
    events: list[JobEvent] = []
    manager.subscribe(lambda e: events.append((e.kind, manager.store.get_job(e.job.id))))
    start = time.perf_counter()
    job = manager.submit(flow_to(survey, tmp_path / "a.sgy"))
    assert time.perf_counter() - start < 0.5
    assert job.state is S.QUEUED and manager.get(job.id).state is S.QUEUED
    manager.wait(job.id, 10, until=lambda j: bool(events))
    kind, recorded = events[0]
    assert kind is JobEventKind.SUBMITTED and recorded is not None  # saved, then announced


def test_job_completes_with_the_same_bytes_as_a_direct_run(
        manager: JobManager, survey: Path, tmp_path: Path, reference, same_data) -> None:
    job = manager.submit(flow_to(survey, tmp_path / "engine.sgy"))
    done = manager.wait(job.id, timeout_s=60)
    assert done.state is S.COMPLETED, done.message
    assert done.progress.fraction == 1.0 and done.progress.units_done == 12
    direct = reference(flow_to(survey, tmp_path / "direct.sgy"))
    assert same_data(tmp_path / "engine.sgy", direct)
    assert not manager.checkpoints.path(job.id).exists()
    assert manager.store.get_job(job.id).state is S.COMPLETED


def test_subscribers_hear_submission_progress_and_completion_in_order(
        manager: JobManager, survey: Path, tmp_path: Path) -> None:
    events: list[JobEvent] = []
    manager.subscribe(events.append)
    job = manager.wait(manager.submit(flow_to(survey, tmp_path / "e.sgy")).id, timeout_s=60)
    kinds = [e.kind for e in events if e.job.id == job.id]
    assert kinds[0] is JobEventKind.SUBMITTED
    units = [e.detail["unit"] for e in events
             if e.kind is JobEventKind.PROGRESS and e.job.id == job.id and "unit" in e.detail]
    assert sorted(units) == list(range(12))
    states = [e.job.state for e in events if e.kind is JobEventKind.STATE_CHANGED]
    assert states == [S.RUNNING, S.COMPLETED]
    fractions = [e.job.progress.fraction for e in events if e.kind is JobEventKind.PROGRESS]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_events_are_announced_only_after_they_are_persisted(
        manager: JobManager, survey: Path, tmp_path: Path) -> None:
    seen: list[bool] = []

    def check(event: JobEvent) -> None:
        if event.kind is not JobEventKind.PROGRESS:
            stored = manager.store.get_job(event.job.id)
            seen.append(stored is not None and stored.state is event.job.state)

    manager.subscribe(check)
    manager.wait(manager.submit(flow_to(survey, tmp_path / "p.sgy")).id, timeout_s=60)
    assert seen and all(seen)


def test_cancel_removes_partial_output_and_ends_cancelled(manager: JobManager, survey: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "c.sgy"
    job = manager.submit(flow_to(survey, out, SLOW))
    manager.wait(job.id, 30, until=lambda j: j.progress.units_done >= 1)
    manager.cancel(job.id)
    final = manager.wait(job.id, timeout_s=10)
    assert final.state is S.CANCELLED
    assert not out.exists() and not partial_path_for(out, job.id).exists()
    assert not manager.checkpoints.path(job.id).exists()


def test_cancel_of_a_queued_job_never_starts_it(tmp_path: Path, survey: Path) -> None:
    m = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=1),
                   CheckpointStore(tmp_path / "ck"), max_running=1, gathers_per_unit=1)
    try:
        first = m.submit(flow_to(survey, tmp_path / "1.sgy", SLOW))
        second = m.submit(flow_to(survey, tmp_path / "2.sgy"))
        assert m.cancel(second.id).state is S.CANCELLING
        assert m.wait(second.id, 10).state is S.CANCELLED
        assert m.get(second.id).started_at is None
        m.cancel(first.id)
    finally:
        m.close(active="cancel")


def test_pause_stops_dispatch_and_resume_finishes_identically(
        manager: JobManager, survey: Path, tmp_path: Path, reference, same_data) -> None:
    out = tmp_path / "pr.sgy"
    job = manager.submit(flow_to(survey, out, SLOW))
    manager.wait(job.id, 30, until=lambda j: j.progress.units_done >= 1)
    manager.pause(job.id)
    time.sleep(1.0)  # in-flight units land
    frozen = manager.get(job.id).progress.units_done
    time.sleep(0.5)
    assert manager.get(job.id).state is S.PAUSED
    assert manager.get(job.id).progress.units_done == frozen < 12
    manager.resume(job.id)
    assert manager.wait(job.id, timeout_s=60).state is S.COMPLETED
    direct = reference(flow_to(survey, tmp_path / "direct.sgy", SLOW))
    assert same_data(out, direct)


def test_max_running_keeps_other_jobs_queued(tmp_path: Path, survey: Path) -> None:
    m = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=2),
                   CheckpointStore(tmp_path / "ck"), max_running=1, gathers_per_unit=1)
    try:
        a = m.submit(flow_to(survey, tmp_path / "a.sgy", SLOW))
        b = m.submit(flow_to(survey, tmp_path / "b.sgy"))
        m.wait(a.id, 30, until=lambda j: j.state is S.RUNNING)
        assert m.get(b.id).state is S.QUEUED
        assert m.wait(b.id, 60).state is S.COMPLETED
        assert m.get(b.id).started_at >= m.get(a.id).finished_at
    finally:
        m.close(active="cancel")


def test_small_job_is_not_starved_behind_a_big_one(manager: JobManager, survey: Path,
                                                   big_survey: Path, tmp_path: Path) -> None:
    big = manager.submit(flow_to(big_survey, tmp_path / "big.sgy", SLOW))
    manager.wait(big.id, 30, until=lambda j: j.progress.units_done >= 1)
    small = manager.submit(flow_to(survey, tmp_path / "small.sgy", SLOW))
    manager.wait(small.id, 30, until=lambda j: j.progress.units_done >= 1)
    big_at_small_start = manager.get(big.id).progress.units_done
    assert manager.wait(small.id, 60).state is S.COMPLETED
    big_while_small_ran = manager.get(big.id).progress.units_done - big_at_small_start
    # Round-robin dispatch: once the small job runs, its 12 units interleave with the big
    # job's, so the big job advances by about as many units as the small one needs (plus
    # what was in flight, and a unit or two announced while this test reads), not all 60.
    assert big_while_small_ran <= 12 + 4 + 2
    assert manager.wait(big.id, 120).state is S.COMPLETED


def test_higher_priority_queued_job_starts_first(tmp_path: Path, survey: Path) -> None:
    m = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=1),
                   CheckpointStore(tmp_path / "ck"), max_running=1, gathers_per_unit=4)
    started: list[str] = []
    m.subscribe(lambda e: started.append(e.job.name) if e.job.state is S.RUNNING
                and e.kind is JobEventKind.STATE_CHANGED else None)
    try:
        blocker = m.submit(flow_to(survey, tmp_path / "blocker.sgy", SLOW))
        m.wait(blocker.id, 30, until=lambda j: j.state is S.RUNNING)
        m.submit(flow_to(survey, tmp_path / "low.sgy"), priority=0)
        high = m.submit(flow_to(survey, tmp_path / "high.sgy"), priority=5)
        m.wait(high.id, 60)
        assert started.index("high") < started.index("low") if "low" in started else True
        assert started[:2] == ["blocker", "high"]
    finally:
        m.close(active="cancel")


class _RefuseNaN(Processor):
    """Raises on a gather holding NaN, as a real processor fails on bad data."""

    name = "test_refuse_nan"
    Params = ProcessorParams

    def apply(self, gather: np.ndarray, context: GatherContext) -> np.ndarray:
        if np.isnan(gather).any():
            raise ValueError("NaN in the data")
        return gather


@pytest.fixture
def refuse_nan() -> Iterator[None]:
    register(_RefuseNaN)
    yield
    base._REGISTRY.pop(_RefuseNaN.name)


def test_processing_error_fails_the_job_naming_the_gather(
        manager: JobManager, survey: Path, tmp_path: Path, refuse_nan: None) -> None:
    damaged = tmp_path / "damaged.sgy"
    damaged.write_bytes(survey.read_bytes())
    with open_segy(damaged) as segy:
        layout = segy.layout
        samples, headers = segy.read(np.arange(200, 240))  # the sixth shot, ffid 1006
    samples[3, 10] = np.nan
    with SegyWriter(damaged, layout) as writer:
        writer.write(np.arange(200, 240), headers, samples)
    out = tmp_path / "f.sgy"
    failed = manager.wait(manager.submit(flow_to(damaged, out, [{"test_refuse_nan": {}}])).id, 60)
    assert failed.state is S.FAILED
    assert failed.error is not None and failed.error.gather == "ffid=1006"
    assert "damaged.sgy: gather ffid=1006, step 1 (test_refuse_nan): ValueError: NaN" in (
        failed.error.message)
    assert not out.exists() and not partial_path_for(out, failed.id).exists()


def test_resume_of_a_completed_job_is_refused(manager: JobManager, survey: Path,
                                              tmp_path: Path) -> None:
    job = manager.wait(manager.submit(flow_to(survey, tmp_path / "r.sgy")).id, 60)
    with pytest.raises(IllegalTransition, match="has finished"):
        manager.resume(job.id)


def test_two_active_jobs_may_not_write_the_same_output(manager: JobManager, survey: Path,
                                                       tmp_path: Path) -> None:
    manager.submit(flow_to(survey, tmp_path / "same.sgy", SLOW))
    with pytest.raises(OutputError, match="already writing this output"):
        manager.submit(flow_to(survey, tmp_path / "same.sgy"))


def test_bad_input_fails_the_job_with_the_file_named(manager: JobManager, tmp_path: Path) -> None:
    bad = tmp_path / "bad.sgy"
    bad.write_bytes(b"not seismic" * 1000)
    job = manager.submit(flow_to(bad, tmp_path / "o.sgy"))
    done = manager.wait(job.id, 30)
    assert done.state is S.FAILED
    assert done.error is not None and "bad.sgy" in done.error.message
    assert done.error.type == "SegyFormatError"


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_recovery_marks_jobs_of_a_dead_process_interrupted(tmp_path: Path) -> None:
    store = MemoryJobStore()
    here = socket.gethostname()
    crashed = transition(Job(id="dead01", name="o", owner=f"{here}:{dead_pid()}"), S.RUNNING)
    stale = transition(Job(id="far01", name="f", owner="elsewhere:42"), S.RUNNING)
    fresh = transition(Job(id="far02", name="g", owner="elsewhere:43"), S.RUNNING)
    for job in (crashed, stale, fresh):
        store.save_job(job)
    # far01's host stopped renewing: its lease (by the store's clock) ran out
    store.take_over("far01", "elsewhere:42", ttl_s=0.0, owner_dead=True)
    time.sleep(0.01)
    m = JobManager(store, lambda: ThreadExecutor(), CheckpointStore(tmp_path / "ck"))
    try:
        assert m.get("dead01").state is S.INTERRUPTED
        assert "seisproc resume dead01" in m.get("dead01").message
        assert m.get("far01").state is S.INTERRUPTED
        assert m.get("far02").state is S.RUNNING  # its owner on another host is still beating
    finally:
        m.close()


def test_a_paused_job_of_a_process_that_ended_stays_paused_and_parked(tmp_path: Path) -> None:
    """Paused at quit (or paused, then its process died): still PAUSED, not INTERRUPTED,
    owned by no process, and left alone by later commands until a resume adopts it."""
    store = MemoryJobStore()
    here = socket.gethostname()
    paused = transition(transition(Job(id="park01", name="p", owner=f"{here}:{dead_pid()}"),
                                   S.RUNNING), S.PAUSED)
    store.save_job(paused)
    first = JobManager(store, lambda: ThreadExecutor(), CheckpointStore(tmp_path / "ck"))
    try:
        parked = first.get("park01")
        assert parked.state is S.PAUSED and parked.owner == ""
        assert "seisproc resume park01" in parked.message
    finally:
        first.close()
    lease = store.get_job("park01").lease
    second = JobManager(store, lambda: ThreadExecutor(), CheckpointStore(tmp_path / "ck"))
    try:
        assert second.get("park01").state is S.PAUSED
        assert store.get_job("park01").lease == lease  # not taken over again
    finally:
        second.close()


def test_cancel_all_cancels_every_active_job(manager: JobManager, survey: Path,
                                             tmp_path: Path) -> None:
    ids = [manager.submit(flow_to(survey, tmp_path / f"{i}.sgy", SLOW)).id for i in range(3)]
    manager.cancel_all()
    assert {manager.wait(i, 20).state for i in ids} == {S.CANCELLED}


def test_manager_is_safe_to_call_from_many_threads(manager: JobManager, survey: Path,
                                                   tmp_path: Path) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def submit(i: int) -> None:
        job = manager.submit(flow_to(survey, tmp_path / f"t{i}.sgy"))
        with lock:
            ids.append(job.id)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 8
    assert {manager.wait(i, 120).state for i in ids} == {S.COMPLETED}


def test_submit_stays_fast_while_the_workers_start(tmp_path: Path, survey: Path) -> None:
    def slow_start() -> ThreadExecutor:
        time.sleep(2.0)  # Ray takes seconds to start; the API must not wait for it
        return ThreadExecutor(workers=1)

    m = JobManager(MemoryJobStore(), slow_start, CheckpointStore(tmp_path / "ck"))
    try:
        first = m.submit(flow_to(survey, tmp_path / "1.sgy"))
        time.sleep(0.3)
        started = time.perf_counter()
        second = m.submit(flow_to(survey, tmp_path / "2.sgy"))
        assert time.perf_counter() - started < 0.5
        assert {m.wait(j.id, 60).state for j in (first, second)} == {S.COMPLETED}
    finally:
        m.close(active="cancel")


def test_workers_that_cannot_start_fail_the_waiting_jobs(tmp_path: Path, survey: Path) -> None:
    def broken() -> ThreadExecutor:
        raise RuntimeError("no cluster at that address")

    m = JobManager(MemoryJobStore(), broken, CheckpointStore(tmp_path / "ck"))
    try:
        job = m.wait(m.submit(flow_to(survey, tmp_path / "x.sgy")).id, 30)
        assert job.state is S.FAILED
        assert "the workers could not start: no cluster at that address" in job.error.message
    finally:
        m.close()


def test_job_cancelled_while_the_workers_start_ends_cancelled_the_others_failed(
        tmp_path: Path, survey: Path, caplog: pytest.LogCaptureFixture) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_then_broken() -> ThreadExecutor:
        entered.set()
        release.wait(10)  # Ray still starting...
        raise RuntimeError("no cluster at that address")  # ...and then it cannot

    m = JobManager(MemoryJobStore(), slow_then_broken, CheckpointStore(tmp_path / "ck"))
    try:
        jobs = [m.submit(flow_to(survey, tmp_path / f"w{i}.sgy")) for i in range(3)]
        assert entered.wait(10)
        assert m.cancel(jobs[0].id).state is S.CANCELLING
        release.set()
        first, *others = [m.wait(job.id, 30) for job in jobs]
        assert first.state is S.CANCELLED and first.error is None
        assert [job.state for job in others] == [S.FAILED, S.FAILED]
        for job in others:
            assert job.error is not None
            assert job.error.message == ("the workers could not start: "
                                         "no cluster at that address")
        assert [m.store.get_job(job.id).state for job in jobs] == [
            S.CANCELLED, S.FAILED, S.FAILED]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no step failed
    finally:
        m.close()


def test_each_unit_is_announced_only_once_its_checkpoint_is_durable(
        manager: JobManager, survey: Path, tmp_path: Path) -> None:
    announced: list[int] = []
    early: list[int] = []

    def check(event: JobEvent) -> None:
        if event.kind is JobEventKind.PROGRESS and "unit" in event.detail:
            recorded = manager.checkpoints.load(event.job.id)
            announced.append(event.detail["unit"])
            if (event.detail["unit"] not in recorded
                    or event.job.progress.units_done > len(recorded)):
                early.append(event.detail["unit"])

    manager.subscribe(check)
    job = manager.wait(manager.submit(flow_to(survey, tmp_path / "d.sgy")).id, timeout_s=60)
    assert job.state is S.COMPLETED
    assert sorted(announced) == list(range(12)) and early == []


class FullDiskCheckpoints(CheckpointStore):
    def append_many(self, job_id: str, unit_numbers: Sequence[int]) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_unit_whose_checkpoint_cannot_be_written_fails_the_job_unannounced(
        tmp_path: Path, survey: Path) -> None:
    m = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=2),
                   FullDiskCheckpoints(tmp_path / "ck"), gathers_per_unit=1)
    units: list[JobEvent] = []
    m.subscribe(lambda e: units.append(e) if "unit" in e.detail else None)
    try:
        job = m.wait(m.submit(flow_to(survey, tmp_path / "full.sgy")).id, 60)
        assert job.state is S.FAILED and job.error is not None
        assert "cannot record progress" in job.error.message
        assert "No space left on device" in job.error.message
        assert units == []
        assert not (tmp_path / "full.sgy").exists()
        assert not partial_path_for(tmp_path / "full.sgy", job.id).exists()
    finally:
        m.close()


class OneFullDiskCheckpoints(CheckpointStore):
    """The disk of the first job's checkpoint is full (jobs are planned one at a time, in
    turn); the others' are fine."""

    full_job: str = ""

    def begin(self, job_id: str, fingerprint: PlanFingerprint) -> None:
        self.full_job = self.full_job or job_id
        super().begin(job_id, fingerprint)

    def append_many(self, job_id: str, unit_numbers: Sequence[int]) -> None:
        if job_id == self.full_job:
            raise OSError(errno.ENOSPC, "No space left on device")
        super().append_many(job_id, unit_numbers)


def test_a_checkpoint_that_fails_for_one_job_of_a_batch_fails_that_job_only(
        tmp_path: Path, survey: Path) -> None:
    checkpoints = OneFullDiskCheckpoints(tmp_path / "ck")
    m = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=2), checkpoints,
                   gathers_per_unit=1)
    announced: dict[str, list[int]] = {}
    m.subscribe(lambda e: announced.setdefault(e.job.id, []).append(e.detail["unit"])
                if e.kind is JobEventKind.PROGRESS and "unit" in e.detail else None)
    try:
        full = m.submit(flow_to(survey, tmp_path / "full.sgy"))
        fine = m.submit(flow_to(survey, tmp_path / "fine.sgy"))
        assert m.wait(full.id, 60).state is S.FAILED
        assert m.wait(fine.id, 60).state is S.COMPLETED
        assert full.id not in announced and sorted(announced[fine.id]) == list(range(12))
    finally:
        m.close()
