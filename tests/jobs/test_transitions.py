"""The life cycle: every legal move works and stamps times; every other move raises."""

from __future__ import annotations

import itertools

import pytest

from seisproc.jobs.model import Job, JobError, JobProgress, JobState, JobType
from seisproc.jobs.transitions import ALLOWED, IllegalTransition, transition

S = JobState
LEGAL = {
    (S.QUEUED, S.RUNNING), (S.QUEUED, S.PAUSED), (S.QUEUED, S.CANCELLING),
    (S.QUEUED, S.FAILED), (S.QUEUED, S.INTERRUPTED),
    (S.RUNNING, S.PAUSED), (S.RUNNING, S.CANCELLING), (S.RUNNING, S.COMPLETED),
    (S.RUNNING, S.FAILED), (S.RUNNING, S.INTERRUPTED),
    (S.PAUSED, S.QUEUED), (S.PAUSED, S.CANCELLING), (S.PAUSED, S.FAILED),
    (S.PAUSED, S.INTERRUPTED),
    (S.CANCELLING, S.CANCELLED),
    (S.INTERRUPTED, S.QUEUED), (S.INTERRUPTED, S.CANCELLING),
    (S.WAITING, S.QUEUED), (S.WAITING, S.CANCELLING), (S.WAITING, S.FAILED),
    (S.FAILED, S.QUEUED), (S.FAILED, S.CANCELLED),
}


def job_in(state: JobState) -> Job:
    return Job(id="abc123", name="t", state=state)


@pytest.mark.parametrize(("src", "dst"), sorted(LEGAL))
def test_legal_transition_changes_state(src: JobState, dst: JobState) -> None:
    assert transition(job_in(src), dst).state is dst


@pytest.mark.parametrize(("src", "dst"), sorted(
    set(itertools.product(S, S)) - LEGAL, key=lambda p: (p[0].value, p[1].value)))
def test_illegal_transition_raises_naming_the_job(src: JobState, dst: JobState) -> None:
    with pytest.raises(IllegalTransition, match=f"abc123.*is {src.value}.*{dst.value}"):
        transition(job_in(src), dst)


def test_table_matches_the_design() -> None:
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == LEGAL


def test_terminal_states_are_exactly_completed_failed_cancelled() -> None:
    assert {s for s in S if s.is_terminal()} == {S.COMPLETED, S.FAILED, S.CANCELLED}


def test_start_and_finish_times_are_stamped_once() -> None:
    running = transition(job_in(S.QUEUED), S.RUNNING)
    assert running.started_at is not None and running.finished_at is None
    paused = transition(running, S.PAUSED)
    again = transition(transition(paused, S.QUEUED), S.RUNNING)
    assert again.started_at == running.started_at
    done = transition(again, S.COMPLETED)
    assert done.finished_at is not None and done.finished_at >= done.started_at


def test_a_failed_job_run_again_starts_a_fresh_record() -> None:
    failed = transition(transition(job_in(S.QUEUED), S.RUNNING), S.FAILED,
                        error=JobError("E", "boom"))
    again = transition(failed, S.QUEUED, message="resumed")
    assert (again.started_at, again.finished_at, again.error) == (None, None, None)
    given_up = transition(failed, S.CANCELLED)
    assert given_up.error == failed.error and given_up.finished_at is not None


def test_job_round_trips_through_a_plain_dict() -> None:
    job = Job(id="x1", name="n", type=JobType.QC, state=S.FAILED, priority=3,
              progress=JobProgress(2, 4, 20, 40, 100.0, 0.2),
              error=JobError("ProcessingError", "boom", "tb", "ffid=7"),
              flow={"name": "n"}, nodes=("a", "b"), tags=("t",), waits_for=("j1", "j2"))
    data = job.to_dict()
    assert data["state"] == "FAILED" and data["progress"]["fraction"] == 0.5
    assert Job.from_dict(data) == job
