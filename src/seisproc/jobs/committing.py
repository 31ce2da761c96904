"""Finishing a job: its output gets its final name, and the history says COMPLETED.

Both or neither. The output is made durable and linked under its final name (never over
a file that appeared there meanwhile, unless the job was submitted with overwrite); then
the COMPLETED record is saved through the history writer, retried as any record. If the
history still refuses it, the rename is rolled back, so the history (which then says
RUNNING, INTERRUPTED once this process is gone) never contradicts the file on disk. The
first engine swallowed that save's error: ``wait()`` never returned, and on close the
history said CANCELLED beside a complete output under its final name.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from seisproc.errors import OutputError
from seisproc.io.writer import commit_output
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.history_writer import HistoryWriter
from seisproc.jobs.model import Job, JobError, JobState
from seisproc.jobs.staging import finish_stage, flow_of, remove_intermediates
from seisproc.jobs.transitions import transition

__all__ = ["CommitOutcome", "commit_job", "hand_over"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommitOutcome:
    """How a commit ended: ``job`` COMPLETED and saved (the scheduler announces it), or
    ``error`` (the job fails)."""

    job: Job | None = None
    error: JobError | None = None
    kept: Path | None = None
    """Where the processed traces were left when the final name was taken by another
    file: the partial output, kept so that hours of processing are not thrown away."""
    next_stage: bool = False
    """A stage before the last ended: its output is the next stage's input, to plan."""


def commit_job(job: Job, partial: Path, writer: HistoryWriter,
               checkpoints: CheckpointStore) -> CommitOutcome:
    """Commit ``job``'s output and record it COMPLETED; see the module docstring."""
    final = Path(job.output)
    try:
        commit_output(partial, final, overwrite=job.overwrite)
    except OutputError as exc:
        kept = partial if partial.exists() else None
        where = f"; the processed traces are kept in {kept}" if kept else ""
        return CommitOutcome(error=JobError("OutputError", f"{exc}{where}"), kept=kept)
    except OSError as exc:
        return CommitOutcome(error=JobError("OutputError", (
            f"{final}: cannot finish the output: {exc.strerror or exc}")))
    completed = transition(job, JobState.COMPLETED, message="completed")
    if writer.save(completed, report_failure=False, settle=False).result():
        with contextlib.suppress(OSError):
            checkpoints.remove(job.id)  # the output is whole: a resume would redo it all
        flow = flow_of(job.flow)
        if flow is not None:
            remove_intermediates(flow, job.id)
        return CommitOutcome(job=completed)
    _roll_back(final, partial)
    return CommitOutcome(error=JobError("HistoryError", (
        f"job {job.id}: the history could not record its completion, so its output was "
        f"not kept under {final}")))


def hand_over(job: Job, stage: int) -> CommitOutcome:
    """Stage ``stage`` (not the last) of ``job`` is done: its output becomes the next
    stage's input (:func:`~seisproc.jobs.staging.finish_stage`: synced, renamed), or
    the error the job fails with."""
    flow = flow_of(job.flow)
    try:
        if flow is None:
            raise OutputError("the job's record holds no flow with stages")
        finish_stage(flow, job.id, stage)
    except (OSError, OutputError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        return CommitOutcome(error=JobError("OutputError", (
            f"job {job.id}: stage {stage} could not hand its output on: {reason}")))
    return CommitOutcome(next_stage=True)


def _roll_back(final: Path, partial: Path) -> None:
    """Take the output back from its final name: the history could not say COMPLETED."""
    try:
        os.rename(final, partial)
    except OSError as exc:
        log.error("%s: could not take the uncommitted output back (%s); remove it by hand",
                  final, exc.strerror)
