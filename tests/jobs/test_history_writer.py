"""The history writer: saves in order, retries a failing store, announces only what it
saved, and never lets a progress record hold up an event or overwrite a later state."""

from __future__ import annotations

import dataclasses
import time

from engine_faults import FaultyStore
from seisproc.jobs.events import EventBus, JobEvent, JobEventKind
from seisproc.jobs.history_writer import HistoryWriter, RetryPolicy
from seisproc.jobs.memory import MemoryJobStore
from seisproc.jobs.model import Job, JobProgress, JobState

S = JobState


def job(job_id: str, state: JobState = S.RUNNING, units: int = 0) -> Job:
    return Job(id=job_id, name=job_id, state=state,
               progress=JobProgress(units_done=units, units_total=10))


class SlowStore(MemoryJobStore):
    def save_job(self, job: Job) -> None:
        time.sleep(0.05)
        super().save_job(job)


def test_a_store_failing_for_a_while_is_retried_and_the_event_follows_the_save() -> None:
    store = FaultyStore(MemoryJobStore())
    until = time.monotonic() + 0.3
    store.failing = lambda j: time.monotonic() < until
    heard: list[Job | None] = []
    bus = EventBus()
    bus.subscribe(lambda e: heard.append(store.inner.get_job(e.job.id)))
    writer = HistoryWriter(store, bus, retry=RetryPolicy(retry_s=5))
    record = job("a1")
    saved = writer.save(record, JobEvent(JobEventKind.SUBMITTED, record))
    assert saved.result(timeout=5) is True
    assert store.refused and heard == [record]  # announced once saved, not before
    writer.close(1)


def test_a_store_that_keeps_failing_is_reported_and_nothing_announced() -> None:
    store = FaultyStore(MemoryJobStore())
    store.failing = lambda j: True
    failures: list[str] = []
    heard: list[JobEvent] = []
    bus = EventBus()
    bus.subscribe(heard.append)
    writer = HistoryWriter(store, bus, retry=RetryPolicy(retry_s=0.3),
                           on_failure=lambda j, exc: failures.append(j.id))
    assert writer.save(job("b1"), JobEvent(JobEventKind.SUBMITTED, job("b1"))).result(5) is False
    assert failures == ["b1"] and heard == [] and writer.settled("b1") is None
    writer.close(1)


def test_events_do_not_wait_behind_progress_records() -> None:
    heard: list[float] = []
    bus = EventBus()
    bus.subscribe(lambda e: heard.append(time.monotonic()))
    writer = HistoryWriter(SlowStore(), bus)
    for i in range(20):  # one second of saves on this store
        writer.save_progress(job(f"p{i}", units=1))
    began = time.monotonic()
    writer.announce(JobEvent(JobEventKind.PROGRESS, job("p0", units=1)))
    assert writer.flush(5)
    assert heard and heard[0] - began < 0.3  # after at most a save or two, not twenty
    writer.close(1)


def test_a_progress_record_never_overwrites_a_later_state_of_its_job() -> None:
    store = SlowStore()
    writer = HistoryWriter(store, EventBus())
    writer.save(job("x0"))  # keeps the writer busy while the next two queue up
    writer.save_progress(job("c1", S.RUNNING, units=3))
    paused = dataclasses.replace(job("c1", S.PAUSED, units=3))
    writer.save(paused)
    assert writer.flush(5)
    time.sleep(0.1)
    assert store.get_job("c1").state is S.PAUSED
    writer.close(1)


def test_a_subscriber_that_raises_stops_neither_the_saves_nor_later_events() -> None:
    store = MemoryJobStore()
    heard: list[str] = []
    bus = EventBus()

    def fussy(event: JobEvent) -> None:
        if event.job.id == "f1":
            raise RuntimeError("a subscriber's bug")
        heard.append(event.job.id)

    bus.subscribe(fussy)
    writer = HistoryWriter(store, bus)
    assert writer.save(job("f1"), JobEvent(JobEventKind.SUBMITTED, job("f1"))).result(5)
    writer.announce(JobEvent(JobEventKind.PROGRESS, job("f2", units=1)))
    assert writer.save(job("f3"), JobEvent(JobEventKind.SUBMITTED, job("f3"))).result(5)
    assert writer.flush(5) and heard == ["f2", "f3"] and store.get_job("f3").id == "f3"
    writer.close(1)
