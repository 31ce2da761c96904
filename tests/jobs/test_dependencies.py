"""A waiting job starts only when everything it waits for ended well, and otherwise says,
in one line, what it waits for or what must be done."""

from __future__ import annotations

import dataclasses

from seisproc.jobs.dependencies import judge
from seisproc.jobs.model import Job, JobState

S = JobState


def jobs(*states: JobState, message: str = "") -> dict[str, Job]:
    return {f"j{i}": Job(id=f"j{i}", name=f"line-{i}", state=state, message=message)
            for i, state in enumerate(states)}


def test_it_starts_when_everything_it_waits_for_completed() -> None:
    found = jobs(S.COMPLETED, S.COMPLETED)
    verdict = judge(list(found), found)
    assert verdict.start and not verdict.blocked


def test_it_waits_while_anything_is_active_naming_them_and_their_states() -> None:
    for active in (S.QUEUED, S.RUNNING, S.PAUSED, S.INTERRUPTED, S.CANCELLING):
        found = jobs(S.COMPLETED, active)
        verdict = judge(list(found), found)
        assert not verdict.start and not verdict.blocked
        assert verdict.reason == f"waiting for job j1 ({active.value})"


def test_a_failure_blocks_it_and_says_how_to_go_on() -> None:
    found = jobs(S.COMPLETED, S.RUNNING)
    found["j1"] = dataclasses.replace(found["j1"], state=S.FAILED,
                                      message="line_7.sgy: not a SEG-Y file")
    verdict = judge(list(found), found)
    assert not verdict.start and verdict.blocked
    assert verdict.reason == ("job j1 failed: line_7.sgy: not a SEG-Y file; resume "
                              "(seisproc resume j1) or cancel (seisproc cancel j1) it to go on")


def test_a_failure_outranks_jobs_still_running() -> None:
    found = jobs(S.FAILED, S.RUNNING, S.FAILED)
    verdict = judge(list(found), found)
    assert verdict.blocked and verdict.reason.startswith("jobs j0, j2 failed; resume or cancel")


def test_a_batch_whose_failed_line_was_given_up_on_lets_it_start() -> None:
    found = jobs(*[S.COMPLETED] * 11, S.CANCELLED)
    assert judge(list(found), found).start


def test_nothing_left_to_wait_for_when_all_were_cancelled() -> None:
    found = jobs(S.CANCELLED)
    verdict = judge(list(found), found)
    assert not verdict.start and verdict.blocked
    assert verdict.reason == "job j0 cancelled: nothing to wait for any more; cancel this job"


def test_a_job_the_history_lost_blocks_it_by_name() -> None:
    verdict = judge(["gone"], {})
    assert verdict.blocked and verdict.reason.startswith("job gone is not in the job history")


def test_long_lists_are_counted_not_spelt_out() -> None:
    found = jobs(*[S.RUNNING] * 40)
    reason = judge(list(found), found).reason
    assert reason.endswith("and 37 more") and len(reason) < 100
