"""Batches: the jobs one ``seisproc run --each`` submitted, and how the batch went.

A batch is not a record of its own: its jobs carry its id (``Job.batch``), so whatever the
history knows of them, from any process, is what the batch is. :func:`summarize` turns
them into the summary printed when the batch ends and by ``seisproc batch ID``: how many
ended each way, and each failure's one-line reason.

>>> jobs = [Job(id="a", name="f", state=JobState.COMPLETED, batch="b1"),
...         Job(id="b", name="f", state=JobState.FAILED, batch="b1", input="/raw/l2.sgy",
...             error=JobError("SegyFormatError", "l2.sgy: not whole traces"))]
>>> print("\\n".join(summarize("b1", jobs).lines()))
batch b1: 2 jobs: 1 COMPLETED, 1 FAILED
  FAILED b l2.sgy: SegyFormatError: l2.sgy: not whole traces
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from seisproc.jobs.model import Job, JobError, JobState

__all__ = ["BatchSummary", "new_batch_id", "summarize"]


def new_batch_id() -> str:
    """``b`` and 8 hex digits: short to type, and never mistaken for a job id (12 hex)."""
    return "b" + uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class BatchSummary:
    """How a batch's jobs stand."""

    batch: str
    counts: dict[JobState, int]
    """Jobs in each state (only states some job is in)."""
    problems: tuple[tuple[Job, str], ...]
    """Each failed, cancelled or interrupted job with its one-line reason."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def ended(self) -> bool:
        """Every job is COMPLETED, FAILED or CANCELLED."""
        return all(state.is_terminal() for state in self.counts)

    @property
    def failed(self) -> int:
        return self.counts.get(JobState.FAILED, 0) + self.counts.get(JobState.CANCELLED, 0)

    def lines(self) -> list[str]:
        """The summary as printed: a count line, then one line per problem."""
        order = [state for state in JobState if state in self.counts]
        counts = ", ".join(f"{self.counts[state]} {state.value}" for state in order)
        head = f"batch {self.batch}: {self.total} jobs: {counts or 'none'}"
        return [
            head,
            *(
                f"  {job.state.value} {job.id} {Path(job.input).name}: {reason}"
                for job, reason in self.problems
            ),
        ]


def summarize(batch: str, jobs: Sequence[Job]) -> BatchSummary:
    """The summary of ``batch`` from its jobs (as the history or a manager has them)."""
    counts = Counter(job.state for job in jobs)
    problems = tuple(
        (job, _reason(job))
        for job in sorted(jobs, key=lambda j: j.input)
        if job.state in (JobState.FAILED, JobState.CANCELLED, JobState.INTERRUPTED)
    )
    return BatchSummary(batch, dict(counts), problems)


def _reason(job: Job) -> str:
    error: JobError | None = job.error
    text = f"{error.type}: {error.message}" if error else job.message
    return " ".join(text.split()) or "no reason recorded"
