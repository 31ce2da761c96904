"""The batch summary: counts by state and each failure's one-line reason."""

from __future__ import annotations

from seisproc.jobs.model import Job, JobError, JobState
from seisproc.production.batches import new_batch_id, summarize


def job(n: int, state: JobState, error: JobError | None = None) -> Job:
    return Job(
        id=f"job{n:09d}",
        name="decon",
        state=state,
        batch="b1",
        input=f"/raw/line_{n:02d}.sgy",
        error=error,
    )


def test_summary_counts_each_state_and_gives_each_failure_on_one_line() -> None:
    failure = JobError("SegyFormatError", "/raw/line_03.sgy: not whole traces:\n 12 bytes")
    jobs = [job(n, JobState.COMPLETED) for n in (1, 2, 4)] + [job(3, JobState.FAILED, failure)]
    summary = summarize("b1", jobs)
    assert summary.ended and summary.failed == 1 and summary.total == 4
    assert summary.lines() == [
        "batch b1: 4 jobs: 3 COMPLETED, 1 FAILED",
        "  FAILED job000000003 line_03.sgy: SegyFormatError: /raw/line_03.sgy: not whole "
        "traces: 12 bytes",
    ]


def test_a_batch_with_a_running_job_has_not_ended() -> None:
    summary = summarize("b1", [job(1, JobState.COMPLETED), job(2, JobState.RUNNING)])
    assert not summary.ended and summary.failed == 0


def test_batch_ids_are_not_shaped_like_job_ids() -> None:
    ids = {new_batch_id() for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("b") and len(i) == 9 for i in ids)
