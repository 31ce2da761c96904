"""The engine's decision table: every event in every state has an answer, and the
answers the first engine got wrong are the ones the design says."""

from __future__ import annotations

import itertools

import pytest

from seisproc.jobs.decisions import TABLE, Decision, Effect, Event, decide
from seisproc.jobs.model import JobState
from seisproc.jobs.transitions import ALLOWED

S, E, X = JobState, Event, Effect


@pytest.mark.parametrize(("state", "event"), list(itertools.product(S, E)))
def test_every_event_in_every_state_has_an_allowed_answer(state: JobState,
                                                          event: Event) -> None:
    for committing in (False, True):
        decision = decide(state, event, committing=committing)
        assert decision.to is None or decision.to in ALLOWED[state]
        assert not (decision.refusal and (decision.to or decision.effects))
        if decision.refusal:
            assert "{job}" in decision.refusal


def test_the_table_lists_every_event_for_every_state() -> None:
    assert set(TABLE) == set(S)
    assert all(set(answers) == set(E) for answers in TABLE.values())


@pytest.mark.parametrize("state", [S.QUEUED, S.RUNNING, S.PAUSED])
@pytest.mark.parametrize("event", [E.UNIT_FAILED, E.RETRIES_EXHAUSTED, E.STORE_FAILED,
                                   E.WORKERS_FAILED, E.PLAN_FAILED])
def test_a_failure_for_a_live_job_fails_it_and_removes_its_files(state: JobState,
                                                                 event: Event) -> None:
    decision = decide(state, event)
    assert decision.to is S.FAILED
    assert set(decision.effects) == {X.STOP_UNITS, X.REMOVE_FILES, X.RELEASE}


@pytest.mark.parametrize("state", [S.CANCELLING, S.CANCELLED, S.FAILED, S.COMPLETED])
@pytest.mark.parametrize("event", [E.UNIT_DONE, E.UNIT_FAILED, E.WORKER_LOST])
def test_units_of_a_job_stopping_or_over_are_dropped(state: JobState, event: Event) -> None:
    assert decide(state, event).effects == (X.DROP_UNIT,)
    assert decide(state, event).to is None


def test_a_cancellation_ends_only_once_its_units_drained() -> None:
    assert decide(S.RUNNING, E.CANCEL).to is S.CANCELLING
    assert decide(S.CANCELLING, E.UNIT_DONE).to is None
    assert decide(S.CANCELLING, E.DRAINED).to is S.CANCELLED
    assert X.REMOVE_FILES in decide(S.CANCELLING, E.DRAINED).effects


def test_a_resumed_job_waits_for_a_slot_and_a_paused_one_holds_none() -> None:
    assert decide(S.PAUSED, E.RESUME).to is S.QUEUED
    assert decide(S.PAUSED, E.START).to is None and decide(S.PAUSED, E.CONTINUE).to is None
    assert decide(S.QUEUED, E.CONTINUE).to is S.RUNNING
    assert decide(S.QUEUED, E.START).effects == (X.PLAN,)


def test_a_job_taken_over_elsewhere_is_left_without_touching_its_files() -> None:
    for state in (S.QUEUED, S.RUNNING, S.PAUSED, S.CANCELLING, S.INTERRUPTED):
        decision = decide(state, E.LEASE_LOST, committing=state is S.RUNNING)
        assert X.FORGET in decision.effects and X.REMOVE_FILES not in decision.effects


def test_while_committing_pause_and_cancel_are_refused_and_failures_are_moot() -> None:
    assert "being committed" in decide(S.RUNNING, E.PAUSE, committing=True).refusal
    assert "being committed" in decide(S.RUNNING, E.CANCEL, committing=True).refusal
    for event in (E.CLOSE_PAUSE, E.CLOSE_CANCEL, E.STORE_FAILED, E.WORKERS_FAILED):
        assert decide(S.RUNNING, event, committing=True).to is None
    assert decide(S.RUNNING, E.COMMITTED, committing=True).to is S.COMPLETED
    assert decide(S.RUNNING, E.COMMIT_FAILED, committing=True).to is S.FAILED


@pytest.mark.parametrize(("state", "event"), [
    (S.COMPLETED, E.PAUSE), (S.COMPLETED, E.RESUME), (S.COMPLETED, E.CANCEL),
    (S.CANCELLED, E.PAUSE), (S.CANCELLED, E.RESUME), (S.CANCELLED, E.CANCEL),
    (S.FAILED, E.PAUSE)])
def test_requests_for_a_finished_job_are_refused_saying_so(state: JobState,
                                                           event: Event) -> None:
    assert "has finished" in decide(state, event).refusal


def test_a_failed_job_can_run_again_or_be_given_up_on() -> None:
    assert decide(S.FAILED, E.RESUME).to is S.QUEUED
    assert decide(S.FAILED, E.CANCEL) == Decision(S.CANCELLED)  # its files are gone already


def test_a_waiting_job_holds_nothing_and_goes_on_only_when_its_jobs_ended_well() -> None:
    assert decide(S.WAITING, E.DEPENDENCIES_MET).to is S.QUEUED
    assert decide(S.WAITING, E.START).to is None  # no slot until then
    assert decide(S.WAITING, E.CANCEL).to is S.CANCELLING
    assert "waiting for other jobs" in decide(S.WAITING, E.PAUSE).refusal
    for state in S:
        if state is not S.WAITING:
            assert decide(state, E.DEPENDENCIES_MET).to is None


def test_a_waiting_job_whose_output_claim_is_refused_fails() -> None:
    assert decide(S.WAITING, E.PLAN_FAILED) == Decision(S.FAILED, (X.RELEASE,))
