"""History queries, statistics, cleanup, predictions and resource samples, on every SQL
database: :class:`HistoryContract` runs against SQLite and against a real PostgreSQL.

Statistics are checked with exact numbers on a crafted set of jobs (counts, rates,
mean / median / p95 per type, per-day outcomes, failure groups, processor use, bytes,
prediction accuracy, resource buckets).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from seisproc.history import JobHistoryStorage, Prediction, ResourceSample
from seisproc.history.predictions import DEFAULT_TRACES_PER_S
from seisproc.jobs.model import Job, JobError, JobProgress, JobState, JobType, utcnow

S, T = JobState, JobType
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
BANDPASS_AGC = {"steps": [{"bandpass": {"f1": 5}}, {"agc": {"window_ms": 500}}]}
DECON = {"steps": [{"spiking_decon": {}}, {"agc": {}}]}
NAN_FAILURE = "shots_{}.sgy: gather ffid={}, step 2 (agc): ValueError: NaN in the data"


def crafted(job_id: str, day: int, hour: int, state: JobState = S.COMPLETED,
            job_type: JobType = T.PROCESSING, seconds: float | None = None,
            traces: tuple[int, int] = (0, 0), **changes: object) -> Job:
    """A job created on 2026-03-``day`` at ``hour``:00 UTC that ran ``seconds``."""
    created = datetime(2026, 3, day, hour, tzinfo=UTC)
    started = created + timedelta(seconds=2) if state is not S.QUEUED else None
    finished = None
    if seconds is not None and started is not None:
        finished = started + timedelta(seconds=seconds)
    done, total = traces
    values: dict[str, object] = {
        "id": job_id, "name": f"job {job_id}", "type": job_type, "state": state,
        "created_at": created, "started_at": started, "finished_at": finished,
        "updated_at": finished or created,
        "progress": JobProgress(traces_done=done, traces_total=total), "flow": BANDPASS_AGC}
    values.update(changes)
    return Job(**values)  # type: ignore[arg-type]


def failure(job_id: str, day: int, kind: str, message: str, **changes: object) -> Job:
    return crafted(job_id, day, 9, S.FAILED, seconds=3.0,
                   error=JobError(kind, message), message=message, **changes)


def statistics_set(inputs: Path) -> list[Job]:
    """12 jobs in the 7-day window ending NOW, and 1 before it.

    ``in1000`` is a 1,000-byte input (100 traces): a job that processed 50 traces of it
    counts 500 bytes.
    """
    (inputs / "in1000.sgy").write_bytes(b"\0" * 1000)
    big = str(inputs / "in1000.sgy")
    return [
        crafted("p1", 8, 10, seconds=10, traces=(100, 100), input=big),
        crafted("p2", 8, 11, seconds=20, traces=(100, 100), input=big),
        crafted("p3", 9, 12, seconds=30, traces=(100, 100)),
        crafted("p4", 10, 13, seconds=100, traces=(100, 100), flow=DECON),
        crafted("q1", 9, 8, job_type=T.QC, seconds=5, traces=(10, 10)),
        crafted("q2", 9, 9, job_type=T.QC, seconds=9, traces=(10, 10)),
        crafted("q3", 10, 1, job_type=T.QC, seconds=7, traces=(10, 10)),
        failure("f1", 8, "ProcessingError", NAN_FAILURE.format(7, 1003), input=big,
                progress=JobProgress(traces_done=50, traces_total=100)),
        failure("f2", 10, "ProcessingError", NAN_FAILURE.format(12, 20077)),
        failure("f3", 10, "SegyFormatError", "bad.sgy: not a SEG-Y file", flow=DECON),
        crafted("c1", 9, 14, S.CANCELLED, job_type=T.EXPORT, seconds=1, traces=(5, 40)),
        crafted("r1", 10, 14, S.RUNNING, job_type=T.INDEX, traces=(7, 70)),
        crafted("old", 3, 23, seconds=1000, traces=(1000, 1000)),
    ]


class HistoryContract:
    """Behaviours of :class:`JobHistoryStorage` beyond the JobStore port."""

    @pytest.fixture
    def store(self, store_url: str) -> Iterator[JobHistoryStorage]:
        storage = JobHistoryStorage(store_url)
        yield storage
        storage.close()

    # --- query ----------------------------------------------------------------------
    def test_job_saved_to_history(self, store: JobHistoryStorage) -> None:
        job = crafted("saved1", 9, 10, seconds=12.5, traces=(40, 40))
        store.save_job(job)
        assert store.get_recent(10) == [job]
        assert store.query() == [job]

    def test_job_queried_by_type(self, store: JobHistoryStorage, tmp_path: Path) -> None:
        for job in statistics_set(tmp_path):
            store.save_job(job)
        assert [j.id for j in store.query(job_types=[T.QC])] == ["q3", "q2", "q1"]
        assert [j.id for j in store.query(job_types=[T.EXPORT, T.INDEX])] == ["r1", "c1"]
        assert store.query(job_types=[]) == []

    def test_query_filters_combine(self, store: JobHistoryStorage, tmp_path: Path) -> None:
        for job in statistics_set(tmp_path):
            store.save_job(job)
        failed = store.query(job_types=[T.PROCESSING], states=[S.FAILED, S.CANCELLED])
        assert [j.id for j in failed] == ["f3", "f2", "f1"], "ties: id descending"
        in_range = store.query(date_from=datetime(2026, 3, 9, tzinfo=UTC),
                               date_to=datetime(2026, 3, 10, tzinfo=UTC))
        assert [j.id for j in in_range] == ["c1", "p3", "q2", "q1"]
        assert [j.id for j in store.query(states=[S.COMPLETED],
                                          date_to=datetime(2026, 3, 8, 11, tzinfo=UTC))] == [
            "p1", "old"], "date_to is exclusive"

    def test_query_text_is_a_case_insensitive_literal_substring(
            self, store: JobHistoryStorage, tmp_path: Path) -> None:
        for job in statistics_set(tmp_path):
            store.save_job(job)
        store.save_job(crafted("pct", 9, 1, name="100%_done"))
        assert [j.id for j in store.query(text="NOT A SEG-Y")] == ["f3"]
        assert {j.id for j in store.query(text="ffid=")} == {"f1", "f2"}
        assert [j.id for j in store.query(text="0%_")] == ["pct"]
        assert store.query(text="0%x") == [] and store.query(text="1_0") == []
        assert [j.id for j in store.query(text="JOB Q")] == ["q3", "q2", "q1"]

    def test_query_pages_newest_first(self, store: JobHistoryStorage, tmp_path: Path) -> None:
        for job in statistics_set(tmp_path):
            store.save_job(job)
        everything = [j.id for j in store.query(limit=None)]
        assert len(everything) == 13 and everything[:2] == ["r1", "p4"]
        pages = [store.query(limit=5, offset=k) for k in (0, 5, 10)]
        assert [j.id for page in pages for j in page] == everything
        assert len(pages[2]) == 3 and store.query(limit=5, offset=13) == []

    # --- statistics -----------------------------------------------------------------
    def test_statistics_calculated(self, store: JobHistoryStorage, tmp_path: Path) -> None:
        for job in statistics_set(tmp_path):
            store.save_job(job)
        stats = store.get_statistics(7, now=NOW)
        assert stats.since == datetime(2026, 3, 4, tzinfo=UTC) and stats.until == NOW
        assert {s: n for s, n in stats.by_state.items() if n} == {
            S.COMPLETED: 7, S.FAILED: 3, S.CANCELLED: 1, S.RUNNING: 1}
        assert stats.total_jobs == 12 and stats.ended_jobs == 11
        assert stats.success_rate == pytest.approx(7 / 11)
        assert stats.failure_rate == pytest.approx(3 / 11)
        assert stats.mean_duration_s == pytest.approx(181 / 7)
        assert stats.traces_processed == 400 + 30 + 50 + 5 + 7
        assert stats.bytes_processed == 1000 + 1000 + 500

    def test_durations_by_type_have_exact_mean_median_p95(
            self, store: JobHistoryStorage, tmp_path: Path) -> None:
        for job in statistics_set(tmp_path):
            store.save_job(job)
        durations = {d.job_type: d for d in store.get_statistics(7, now=NOW).durations}
        assert set(durations) == {T.PROCESSING, T.QC}
        processing, qc = durations[T.PROCESSING], durations[T.QC]
        assert (processing.jobs, processing.mean_s, processing.median_s, processing.p95_s) == (
            4, pytest.approx(40.0), pytest.approx(25.0), pytest.approx(100.0))
        assert (qc.jobs, qc.mean_s, qc.median_s, qc.p95_s) == (
            3, pytest.approx(7.0), pytest.approx(7.0), pytest.approx(9.0))

    def test_input_size_is_taken_once_and_bytes_follow_progress(
            self, store: JobHistoryStorage, tmp_path: Path) -> None:
        source = tmp_path / "in.sgy"
        source.write_bytes(b"\0" * 4000)
        job = crafted("b1", 10, 1, S.RUNNING, traces=(0, 400), input=str(source))
        store.save_job(job)
        source.unlink()  # later saves use the size recorded at the first
        store.save_job(dataclasses.replace(job, progress=JobProgress(traces_done=100,
                                                                     traces_total=400)))
        assert store.get_statistics(7, now=NOW).bytes_processed == 1000

    def test_p95_is_nearest_rank_over_twenty_jobs(self, store: JobHistoryStorage) -> None:
        for i in range(20):
            store.save_job(crafted(f"d{i:02d}", 9, 10, seconds=float(i + 1)))
        (durations,) = store.get_statistics(7, now=NOW).durations
        assert (durations.median_s, durations.p95_s) == (pytest.approx(10.5), 19.0)

    def test_every_day_of_the_window_is_listed_with_its_outcomes(
            self, store: JobHistoryStorage, tmp_path: Path) -> None:
        for job in statistics_set(tmp_path):
            store.save_job(job)
        days = store.get_statistics(7, now=NOW).per_day
        assert [d.day for d in days] == [date(2026, 3, n) for n in range(4, 11)]
        figures = [(d.day.day, d.total, d.completed, d.failed, d.cancelled) for d in days
                   if d.total]
        assert figures == [(8, 3, 2, 1, 0), (9, 4, 3, 0, 1), (10, 5, 2, 2, 0)]
        assert days[-1].success_rate == pytest.approx(0.5)
        assert days[-2].failure_rate == 0.0 and days[0].success_rate is None

    def test_failure_reasons_group_by_type_and_message_start_with_numbers_masked(
            self, store: JobHistoryStorage, tmp_path: Path) -> None:
        for job in statistics_set(tmp_path):
            store.save_job(job)
        reasons = store.get_statistics(7, now=NOW).failure_reasons
        assert [(r.error_type, r.message, r.count) for r in reasons] == [
            ("ProcessingError", "shots_#.sgy: gather ffid=#, step # (agc): ValueError: NaN in",
             2),
            ("SegyFormatError", "bad.sgy: not a SEG-Y file", 1)]
        assert reasons[0].last_at == datetime(2026, 3, 10, 9, tzinfo=UTC)

    def test_processor_usage_counts_jobs_and_traces(
            self, store: JobHistoryStorage, tmp_path: Path) -> None:
        for job in statistics_set(tmp_path):
            store.save_job(job)
        usage = [(p.processor, p.jobs, p.traces)
                 for p in store.get_statistics(7, now=NOW).processors]
        assert usage == [("agc", 12, 492), ("bandpass", 10, 392), ("spiking_decon", 2, 100)]

    def test_statistics_of_an_empty_history(self, store: JobHistoryStorage) -> None:
        stats = store.get_statistics(3)
        assert stats.total_jobs == 0 and stats.success_rate is None
        assert len(stats.per_day) == 3 and stats.durations == () and stats.resources == ()
        assert stats.predictions.jobs == 0 and stats.mean_duration_s is None
        with pytest.raises(ValueError, match="at least 1"):
            store.get_statistics(0)

    def test_statistics_to_dict_is_plain_data(self, store: JobHistoryStorage,
                                              tmp_path: Path) -> None:
        for job in statistics_set(tmp_path):
            store.save_job(job)
        data = store.get_statistics(7, now=NOW).to_dict()
        assert data["total_jobs"] == 12 and data["by_state"]["FAILED"] == 3
        assert data["per_day"][-1] == {"day": "2026-03-10", "total": 5, "completed": 2,
                                       "failed": 2, "cancelled": 0, "success_rate": 0.5,
                                       "failure_rate": 0.5}
        assert data["durations"][0]["job_type"] == "PROCESSING"

    # --- cleanup --------------------------------------------------------------------
    def test_history_cleanup(self, store: JobHistoryStorage) -> None:
        old = utcnow() - timedelta(days=100)
        recent = utcnow() - timedelta(days=10)
        jobs = {f"{state.value.lower()}-old": Job(id=f"{state.value.lower()}-old", name="o",
                                                  state=state, created_at=old, updated_at=old)
                for state in JobState}
        jobs["completed-recent"] = Job(id="completed-recent", name="r", state=S.COMPLETED,
                                       created_at=recent, updated_at=recent)
        for job in jobs.values():
            store.save_job(job)
        store.request_control("failed-old", "cancel")
        store.save_resource_samples([ResourceSample(old, 1, 1), ResourceSample(recent, 2, 2)])

        assert store.cleanup(keep_days=90) == 3
        kept = {j.id for j in store.query(limit=None)}
        assert kept == {"queued-old", "waiting-old", "running-old", "paused-old",
                        "cancelling-old", "interrupted-old", "completed-recent"}
        assert store.job_events("completed-old") == []
        assert store.job_events("running-old") != []
        assert store.take_control_requests(["failed-old"]) == []
        assert [s.cpu_percent for s in store.resource_samples()] == [2]
        assert store.cleanup(keep_days=90) == 0

    def test_cleanup_removes_more_than_one_batch(self, store: JobHistoryStorage,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
        from seisproc.history import queries

        monkeypatch.setattr(queries, "CLEANUP_BATCH", 4)
        old = utcnow() - timedelta(days=5)
        for i in range(10):
            store.save_job(Job(id=f"gone{i}", name="g", state=S.COMPLETED, created_at=old,
                               updated_at=old))
        assert store.cleanup(keep_days=1) == 10
        assert store.get_recent() == []
        with pytest.raises(ValueError, match="negative"):
            store.cleanup(keep_days=-1)

    # --- predictions ----------------------------------------------------------------
    def test_prediction_uses_completed_jobs_of_the_same_processors_and_size(
            self, store: JobHistoryStorage) -> None:
        for i in range(3):  # 100 traces/s on 1,000 traces
            store.save_job(crafted(f"s{i}", 9, 10 + i, seconds=10, traces=(1000, 1000)))
        store.save_job(crafted("big", 9, 14, seconds=100, traces=(100_000, 100_000)))
        store.save_job(failure("bad", 9, "X", "y", progress=JobProgress(1, 1, 10, 1000)))
        store.save_job(crafted("other", 9, 15, seconds=1, traces=(1000, 1000), flow=DECON))

        similar = store.predict(["bandpass", "agc"], 2000)
        assert similar == Prediction(traces_per_s=100.0, duration_s=20.0, based_on=3)
        any_size = store.predict(["bandpass", "agc"], 1_000_000)
        assert any_size.based_on == 4
        assert any_size.traces_per_s == pytest.approx(103_000 / 130)
        unknown = store.predict(["agc", "bandpass"], 500)
        assert unknown == Prediction(DEFAULT_TRACES_PER_S, 500 / DEFAULT_TRACES_PER_S, 0)
        assert not unknown.from_history

    def test_predicted_rate_is_known_only_from_comparable_history(
            self, store: JobHistoryStorage) -> None:
        store.save_job(crafted("done", 9, 10, seconds=10, traces=(1000, 1000)))
        running = crafted("now", 10, 10, S.RUNNING, traces=(10, 1200))
        assert store.predicted_rate(running) == pytest.approx(100.0)
        assert store.predicted_rate(dataclasses.replace(running, flow=DECON)) is None

    def test_recorded_prediction_survives_saves_and_feeds_accuracy(
            self, store: JobHistoryStorage) -> None:
        first = crafted("a1", 10, 1, seconds=10, traces=(10, 10))
        second = crafted("a2", 10, 2, seconds=20, traces=(10, 10))
        for job, predicted in ((first, 20.0), (second, 25.0)):
            store.save_job(dataclasses.replace(job, state=S.RUNNING, finished_at=None))
            assert store.record_prediction(job.id, Prediction(1.0, predicted, 2))
            store.save_job(job)
        assert not store.record_prediction("nope", Prediction(1.0, 1.0, 0))
        accuracy = store.get_statistics(7, now=NOW).predictions
        assert accuracy.jobs == 2
        assert accuracy.error_pct == pytest.approx(100 * (10 + 5) / 30)
        assert accuracy.actual_over_predicted == pytest.approx(30 / 45)

    # --- resource samples -----------------------------------------------------------
    def test_resource_samples_round_trip(self, store: JobHistoryStorage) -> None:
        t0 = datetime(2026, 3, 10, 12, tzinfo=UTC)
        saved = store.save_resource_samples([
            ResourceSample(t0, 10.0, 40.0, None, 1.5, 2.5, 1),
            {"at": t0 + timedelta(seconds=1), "cpu_percent": 20.0, "memory_percent": 41.0,
             "gpu_percent": 55.0, "disk_read_mb_s": 0.0, "disk_write_mb_s": 0.0,
             "running_jobs": 2, "host": "ignored"}])
        assert saved == 2
        samples = store.resource_samples()
        assert samples[0] == ResourceSample(t0, 10.0, 40.0, None, 1.5, 2.5, 1)
        assert samples[1].gpu_percent == 55.0 and samples[1].at.utcoffset() is not None
        window = store.resource_samples(t0 + timedelta(seconds=1), t0 + timedelta(hours=1))
        assert [s.cpu_percent for s in window] == [20.0]
        assert store.save_resource_samples([]) == 0

    def test_resource_utilisation_is_bucketed_over_the_window(
            self, store: JobHistoryStorage) -> None:
        t0 = datetime(2026, 3, 10, 12, tzinfo=UTC)
        store.save_resource_samples(
            ResourceSample(t0 + timedelta(seconds=s), cpu_percent=float(s), memory_percent=50,
                           gpu_percent=80.0 if s >= 300 else None, running_jobs=s % 3)
            for s in range(0, 600, 10))
        store.save_resource_samples([ResourceSample(t0 - timedelta(days=30), 99, 99)])
        buckets = store.get_statistics(1, now=NOW).resources
        assert [b.width_s for b in buckets] == [5] * 60, "590 s: narrowest under 120 buckets"
        assert buckets[0].start == t0 and buckets[0].samples == 1
        assert buckets[0].gpu_percent is None and buckets[-1].gpu_percent == 80.0
        assert [b.cpu_percent for b in buckets] == [float(s) for s in range(0, 600, 10)]
        assert {b.memory_percent for b in buckets} == {50.0}


class TestHistorySqlite(HistoryContract):
    @pytest.fixture
    def store_url(self, sqlite_url: str) -> str:
        return sqlite_url


class TestHistoryPostgres(HistoryContract):
    @pytest.fixture
    def store_url(self, postgres_url: str) -> str:
        return postgres_url
