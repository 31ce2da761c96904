"""Jobs run by a real JobManager land in the SQLite history: completed, failed, cancelled.

The engine's in-process ThreadExecutor stands in for Ray (the units are processed by the
same UnitProcessor the Ray workers use); everything else is the real thing: JobManager,
JobHistoryStorage on a SQLite file, checkpoints, SEG-Y output.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seisproc.history import JobHistoryStorage
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import ThreadExecutor
from seisproc.jobs.model import JobState
from seisproc.processing.flow import Flow

S = JobState
STEPS = [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}, {"agc": {"window_ms": 200}}]
SLOW = [{"spiking_decon": {"operator_ms": 400}}] * 6 + STEPS


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_survey(tmp_path_factory.mktemp("survey") / "shots.sgy",
                             SurveyGeometry(shots=24, channels=40, samples=501, dt_ms=4.0))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobHistoryStorage]:
    storage = JobHistoryStorage(f"sqlite:///{tmp_path / 'history.db'}")
    yield storage
    storage.close()


@pytest.fixture
def manager(store: JobHistoryStorage, tmp_path: Path) -> Iterator[JobManager]:
    engine = JobManager(store, lambda: ThreadExecutor(workers=2),
                        CheckpointStore(tmp_path / "checkpoints"), gathers_per_unit=1)
    yield engine
    engine.close(active="cancel")


def flow(survey: Path, output: Path, steps: list[dict[str, object]] | None = None) -> Flow:
    return Flow.from_mapping({"name": output.stem, "input": str(survey),
                              "output": str(output), "steps": steps or STEPS})


def transitions(store: JobHistoryStorage, job_id: str) -> list[tuple[str | None, str]]:
    return [(e["from_state"] and e["from_state"].value, e["to_state"].value)
            for e in store.job_events(job_id)]


def test_completed_job_is_saved_with_progress_duration_and_input_size(
        manager: JobManager, store: JobHistoryStorage, survey: Path, tmp_path: Path) -> None:
    done = manager.wait(manager.submit(flow(survey, tmp_path / "out.sgy")).id, timeout_s=60)
    assert done.state is S.COMPLETED, done.message
    saved = store.get_job(done.id)
    assert saved is not None and saved.state is S.COMPLETED
    assert saved.progress == done.progress and saved.progress.traces_done == 24 * 40
    assert saved.finished_at == done.finished_at
    assert transitions(store, done.id) == [(None, "QUEUED"), ("QUEUED", "RUNNING"),
                                           ("RUNNING", "COMPLETED")]
    assert [j.id for j in manager.get_job_history()] == [done.id]
    with store.engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT duration_s, bytes_total, processors_key FROM jobs").one()
    assert row.duration_s == pytest.approx(done.duration_s)
    assert row.bytes_total == survey.stat().st_size
    assert row.processors_key == "bandpass|agc"


def test_failed_job_is_saved_with_its_error(manager: JobManager, store: JobHistoryStorage,
                                            tmp_path: Path) -> None:
    bad = tmp_path / "bad.sgy"
    bad.write_bytes(b"not seismic" * 1000)
    failed = manager.wait(manager.submit(flow(bad, tmp_path / "o.sgy")).id, timeout_s=30)
    assert failed.state is S.FAILED
    saved = store.get_job(failed.id)
    assert saved is not None and saved.error == failed.error
    assert saved.error is not None and saved.error.type == "SegyFormatError"
    assert transitions(store, failed.id)[-1] == ("RUNNING", "FAILED")
    assert [j.id for j in store.query(states=[S.FAILED], text="bad.sgy")] == [failed.id]


def test_cancelled_job_is_saved_through_cancelling(
        manager: JobManager, store: JobHistoryStorage, survey: Path, tmp_path: Path) -> None:
    job = manager.submit(flow(survey, tmp_path / "slow.sgy", SLOW))
    manager.wait(job.id, timeout_s=30, until=lambda j: j.progress.units_done > 0)
    manager.cancel(job.id)
    cancelled = manager.wait(job.id, timeout_s=30)
    assert cancelled.state is S.CANCELLED
    saved = store.get_job(job.id)
    assert saved is not None and saved.state is S.CANCELLED
    assert 0 < saved.progress.units_done < 24
    assert transitions(store, job.id)[-2:] == [("RUNNING", "CANCELLING"),
                                               ("CANCELLING", "CANCELLED")]


def test_statistics_count_the_jobs_the_manager_ran(
        manager: JobManager, store: JobHistoryStorage, survey: Path, tmp_path: Path) -> None:
    for i in range(3):
        manager.wait(manager.submit(flow(survey, tmp_path / f"ok{i}.sgy")).id, timeout_s=60)
    bad = tmp_path / "bad.sgy"
    bad.write_bytes(b"x" * 5000)
    manager.wait(manager.submit(flow(bad, tmp_path / "f.sgy")).id, timeout_s=30)
    stats = store.get_statistics(1)
    assert stats.by_state[S.COMPLETED] == 3 and stats.by_state[S.FAILED] == 1
    assert stats.success_rate == pytest.approx(0.75)
    (durations,) = stats.durations
    assert durations.jobs == 3 and 0 < durations.median_s <= durations.p95_s
    assert stats.traces_processed == 3 * 24 * 40
    assert stats.bytes_processed == 3 * survey.stat().st_size
    assert [(p.processor, p.jobs) for p in stats.processors] == [("agc", 4), ("bandpass", 4)]
    assert [r.error_type for r in stats.failure_reasons] == ["SegyFormatError"]


def test_a_started_job_records_its_predicted_duration_from_history(
        manager: JobManager, store: JobHistoryStorage, survey: Path, tmp_path: Path) -> None:
    from sqlalchemy import text

    for name in ("a", "b"):
        assert manager.wait(manager.submit(flow(survey, tmp_path / f"{name}.sgy")).id,
                            60).state is S.COMPLETED
    third = manager.wait(manager.submit(flow(survey, tmp_path / "c.sgy")).id, 60)
    assert third.state is S.COMPLETED
    with store.engine.connect() as connection:
        rate, seconds = connection.execute(text(
            "SELECT predicted_traces_per_s, predicted_duration_s FROM jobs WHERE id = :id"),
            {"id": third.id}).one()
    assert rate is not None and rate > 0
    assert seconds == pytest.approx(third.progress.traces_total / rate, rel=1e-6)
