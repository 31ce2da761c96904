"""Jobs that wait for jobs: a WAITING job starts only when what it waits for ended well,
a failure holds it (saying why) until the failed job is run again or given up on, and
the wait is in the history, so another process takes it up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import JobState
from seisproc.processing.flow import Flow

S = JobState
GEOMETRY = SurveyGeometry(shots=4, channels=12, samples=201)


def flow(folder: Path, name: str, input_: str, output: str) -> Flow:
    return Flow.from_yaml_text(
        f"name: {name}\ninput: {input_}\noutput: {output}\nsteps:\n  - agc: {{window_ms: 100}}\n",
        base_dir=folder)


@pytest.fixture
def store() -> MemoryJobStore:
    return MemoryJobStore()


@pytest.fixture
def manager(store: MemoryJobStore, tmp_path: Path) -> Iterator[JobManager]:
    manager = JobManager(store, lambda: ThreadExecutor(workers=2),
                         CheckpointStore(tmp_path / "checkpoints"), gathers_per_unit=1)
    yield manager
    manager.close(active="cancel")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    synthesize_survey(tmp_path / "shots.sgy", GEOMETRY)
    return tmp_path


def test_a_job_waits_for_the_job_whose_output_it_reads_then_runs(
        manager: JobManager, folder: Path) -> None:
    first = manager.submit(flow(folder, "first", "shots.sgy", "a.sgy"))
    second = manager.submit(flow(folder, "second", "a.sgy", "b.sgy"), after=[first.id])
    assert second.state is S.WAITING and second.waits_for == (first.id,)
    assert manager.wait(first.id, timeout_s=60).state is S.COMPLETED
    done = manager.wait(second.id, timeout_s=60)
    assert done.state is S.COMPLETED, done.message
    assert (folder / "b.sgy").stat().st_size == (folder / "a.sgy").stat().st_size


def test_a_failure_holds_the_waiting_job_until_the_failed_one_is_given_up_on(
        manager: JobManager, folder: Path) -> None:
    good = manager.submit(flow(folder, "good", "shots.sgy", "good.sgy"))
    (folder / "corrupt.sgy").write_bytes(b"not a seg-y file" * 300)
    bad = manager.submit(flow(folder, "bad", "corrupt.sgy", "bad.sgy"))
    after = manager.submit(flow(folder, "after", "shots.sgy", "after.sgy"),
                           after=[good.id, bad.id])
    assert manager.wait(bad.id, timeout_s=60).state is S.FAILED
    held = manager.wait(after.id, timeout_s=30, until=lambda j: "failed" in j.message)
    assert held.state is S.WAITING
    assert held.message.startswith(f"job {bad.id} failed: ")
    assert f"seisproc cancel {bad.id}" in held.message
    assert manager.cancel(bad.id).state is S.CANCELLED  # given up on
    assert manager.wait(after.id, timeout_s=60).state is S.COMPLETED


def test_a_failed_job_run_again_lets_its_dependents_go_on(
        manager: JobManager, folder: Path) -> None:
    missing = flow(folder, "first", "later.sgy", "a.sgy")
    first = manager.submit(missing)
    second = manager.submit(flow(folder, "second", "a.sgy", "b.sgy"), after=[first.id])
    failed = manager.wait(first.id, timeout_s=60)
    assert failed.state is S.FAILED and not (folder / "a.sgy").exists()
    synthesize_survey(folder / "later.sgy", GEOMETRY)  # the user fixes the cause
    again = manager.resume(first.id)
    assert again.state is S.QUEUED and again.error is None and again.finished_at is None
    assert manager.wait(first.id, timeout_s=60).state is S.COMPLETED
    assert manager.wait(second.id, timeout_s=60).state is S.COMPLETED


def test_the_wait_survives_its_process_and_a_resume_takes_it_up(
        store: MemoryJobStore, folder: Path, tmp_path: Path) -> None:
    one = JobManager(store, lambda: ThreadExecutor(workers=2),
                     CheckpointStore(tmp_path / "checkpoints"), gathers_per_unit=1)
    first = one.submit(flow(folder, "first", "shots.sgy", "a.sgy"))
    one.pause(first.id)
    second = one.submit(flow(folder, "second", "a.sgy", "b.sgy"), after=[first.id])
    one.close(active="pause")
    assert store.get_job(second.id).state is S.WAITING
    assert store.get_job(second.id).waits_for == (first.id,)
    other = JobManager(store, lambda: ThreadExecutor(workers=2),
                       CheckpointStore(tmp_path / "checkpoints"), gathers_per_unit=1)
    try:
        other.resume(second.id)  # takes the wait up: still waiting for the paused first
        other.resume(first.id)
        assert other.wait(second.id, timeout_s=60).state is S.COMPLETED
    finally:
        other.close(active="cancel")


def test_a_waiting_job_cannot_be_paused_and_cancels_at_once(
        manager: JobManager, folder: Path) -> None:
    first = manager.submit(flow(folder, "first", "shots.sgy", "a.sgy"))
    manager.pause(first.id)
    second = manager.submit(flow(folder, "second", "a.sgy", "b.sgy"), after=[first.id])
    with pytest.raises(Exception, match="waiting for other jobs"):
        manager.pause(second.id)
    manager.cancel(second.id)
    assert manager.wait(second.id, timeout_s=30).state is S.CANCELLED


def test_every_submission_records_the_managers_provenance_unless_given_one(
        store: MemoryJobStore, folder: Path, tmp_path: Path) -> None:
    """The desktop app, seisproc demo and scripts submit without a provenance of their
    own: the default engine's manager records one for them (engine.run_provenance)."""
    manager = JobManager(store, lambda: ThreadExecutor(workers=1),
                         CheckpointStore(tmp_path / "checkpoints"),
                         provenance=lambda flow: {"input": {"path": str(flow.input)}})
    try:
        recorded = manager.submit(flow(folder, "one", "shots.sgy", "one.sgy"))
        assert recorded.provenance == {"input": {"path": str(folder / "shots.sgy")}}
        given = manager.submit(flow(folder, "two", "shots.sgy", "two.sgy"),
                               provenance={"replay_of": "x"})
        assert given.provenance == {"replay_of": "x"}
    finally:
        manager.close(active="cancel")
