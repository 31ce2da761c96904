"""The change feed (``latest_revision`` / ``changes_since``), on SQLite and PostgreSQL: a
reader hears of every job saved or taken over after the revision it last saw, once, as
the job now is, also while several writers commit at once; an index serves the poll."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from seisproc.history import JobHistoryStorage
from seisproc.history.models import Base, JobRow
from seisproc.jobs.model import Job, JobProgress, JobState, utcnow
from seisproc.jobs.transitions import transition

_JOBS = Base.metadata.tables[JobRow.__tablename__]


def ids(jobs: list[Job]) -> list[str]:
    return [job.id for job in jobs]


class ChangeFeedContract:
    @pytest.fixture
    def store(self, store_url: str) -> Iterator[JobHistoryStorage]:
        storage = JobHistoryStorage(store_url)
        yield storage
        storage.close()

    def test_a_new_history_is_at_revision_zero_with_no_changes(
            self, store: JobHistoryStorage) -> None:
        assert store.latest_revision() == 0
        changes = store.changes_since(0)
        assert changes.jobs == [] and changes.revision == 0 and not changes.more

    def test_each_save_is_heard_once_after_the_revision_last_seen(
            self, store: JobHistoryStorage) -> None:
        first, second = Job(id="a00000000001", name="a"), Job(id="b00000000002", name="b")
        store.save_job(first)
        store.save_job(second)
        seen = store.changes_since(0)
        assert ids(seen.jobs) == [first.id, second.id]
        assert seen.revision == store.latest_revision() == 2
        assert store.changes_since(seen.revision).jobs == []  # nothing changed since

        running = transition(first, JobState.RUNNING)
        store.save_job(running)
        later = store.changes_since(seen.revision)
        assert later.jobs == [running] and later.revision == 3

    def test_a_job_saved_many_times_between_polls_comes_once_at_its_latest(
            self, store: JobHistoryStorage) -> None:
        job = transition(Job(id="c00000000003", name="c"), JobState.RUNNING)
        store.save_job(Job(id="d00000000004", name="d"))
        for done in range(1, 6):
            job = dataclasses.replace(job, progress=JobProgress(done, 5, done * 10, 50))
            store.save_job(job)
        changes = store.changes_since(0)
        assert ids(changes.jobs) == ["d00000000004", job.id]  # order of the last changes
        assert changes.jobs[1].progress.units_done == 5

    def test_a_take_over_is_a_change_with_its_new_owner(
            self, store: JobHistoryStorage) -> None:
        store.save_job(Job(id="e00000000005", name="e", owner="node1:10"))
        seen = store.latest_revision()
        assert store.take_over("e00000000005", "node2:20", 30.0, owner_dead=True)
        changes = store.changes_since(seen)
        assert [(j.id, j.owner, j.lease) for j in changes.jobs] == [
            ("e00000000005", "node2:20", 1)]

    def test_a_limited_answer_says_there_is_more_and_resumes_where_it_stopped(
            self, store: JobHistoryStorage) -> None:
        for n in range(5):
            store.save_job(Job(id=f"f{n:011d}", name=f"f{n}"))
        page = store.changes_since(0, limit=3)
        assert ids(page.jobs) == ["f00000000000", "f00000000001", "f00000000002"]
        assert page.more
        rest = store.changes_since(page.revision, limit=3)
        assert ids(rest.jobs) == ["f00000000003", "f00000000004"] and not rest.more

    def test_a_damaged_row_is_skipped_and_the_feed_goes_past_it(
            self, store: JobHistoryStorage) -> None:
        store.save_job(Job(id="g00000000006", name="g"))
        store.save_job(Job(id="h00000000007", name="h"))
        with store.engine.begin() as connection:
            connection.execute(update(_JOBS).where(_JOBS.c.id == "g00000000006")
                               .values(state="BOGUS"))
        changes = store.changes_since(0)
        assert ids(changes.jobs) == ["h00000000007"] and changes.revision == 2

    def test_after_cleanup_deleted_the_latest_revision_none_is_given_out_twice(
            self, store: JobHistoryStorage) -> None:
        old = utcnow() - timedelta(days=200)
        for name in ("old1", "old2"):
            store.save_job(Job(id=f"{name}00000000", name=name, state=JobState.COMPLETED,
                               created_at=old, updated_at=old))
        assert store.cleanup(keep_days=90) == 2  # old2 held the latest revision, 2
        assert store.latest_revision() == 2
        store.save_job(Job(id="new000000000", name="new"))
        assert store.changes_since(2).jobs[0].id == "new000000000"
        assert store.latest_revision() == 3

    def test_writers_committing_at_once_never_slip_past_a_reader(
            self, store: JobHistoryStorage) -> None:
        """Four threads save 40 jobs each (a transition, then progress) while a reader
        polls: every job's last record reaches the reader, none is skipped because a
        later revision committed first."""
        writers, saves = 4, 40
        done = threading.Event()
        heard: dict[str, Job] = {}

        def write(w: int) -> None:
            for n in range(saves):
                job = Job(id=f"w{w}{n:010d}", name=f"w{w}")
                store.save_job(job)
                store.save_job(dataclasses.replace(
                    transition(job, JobState.RUNNING), progress=JobProgress(1, 1, 9, 9)))

        def read() -> None:
            seen = 0
            while True:
                last_round = done.is_set()
                changes = store.changes_since(seen, limit=25)
                heard.update((job.id, job) for job in changes.jobs)
                seen = changes.revision
                if last_round and not changes.more:
                    return

        reader = threading.Thread(target=read)
        reader.start()
        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        reader.join(timeout=30)
        assert len(heard) == writers * saves
        assert {job.state for job in heard.values()} == {JobState.RUNNING}
        assert store.latest_revision() == 2 * writers * saves


class TestChangeFeedSqlite(ChangeFeedContract):
    @pytest.fixture
    def store_url(self, sqlite_url: str) -> str:
        return sqlite_url

    def test_the_poll_is_an_index_seek(self, store: JobHistoryStorage) -> None:
        with store.engine.connect() as connection:
            plan = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT * FROM jobs WHERE revision > 7 "
                "ORDER BY revision LIMIT 500").all()
        assert [row[-1] for row in plan] == [
            "SEARCH jobs USING INDEX ix_jobs_revision (revision>?)"]


class TestChangeFeedPostgres(ChangeFeedContract):
    @pytest.fixture
    def store_url(self, postgres_url: str) -> str:
        return postgres_url
