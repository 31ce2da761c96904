"""Recovering jobs whose process died: whatever state it left them in, they end true.

A dead owner can leave a job QUEUED (killed while Ray started), RUNNING, PAUSED or
CANCELLING. The next seisproc command takes each over with the store's fencing token (so
two recovering processes never both act, and a live owner on another host whose lease is
still running is left alone), then marks it INTERRUPTED (resumable from its checkpoint),
or, if it was being cancelled, finishes the cancellation. A PAUSED job stays PAUSED:
nothing ran it before its process ended either (a window closed with "pause for later",
``seisproc run --on-interrupt pause``), and calling it INTERRUPTED read like a crash. It
is *parked*: saved with no owner, so later commands leave it alone until a resume adopts
it; so is a WAITING job, whose wait any later process can take up. A job that cannot be
recovered now (the database is locked, a row is damaged) is skipped and logged: recovery never
stops a command from starting. The first engine refused to start at all on a QUEUED job
of a dead process ("it cannot become INTERRUPTED"), bricking every command.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from seisproc.io.claim import release_claim
from seisproc.io.writer import discard_output
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.owner import owner_alive
from seisproc.jobs.plan import partial_path_for
from seisproc.jobs.ports import JobStore
from seisproc.jobs.transitions import IllegalTransition, transition

__all__ = ["recover_orphans", "adopt", "interrupted_note", "parked", "parked_note"]

log = logging.getLogger(__name__)
S = JobState
LIVE = (S.QUEUED, S.RUNNING, S.PAUSED)


def interrupted_note(job: Job) -> str:
    process = f"the process running it ({job.owner})" if job.owner else "its process"
    return f"{process} stopped; resume with: seisproc resume {job.id}"


def recover_orphans(store: JobStore, checkpoints: CheckpointStore, owner: str,
                    ttl_s: float) -> list[Job]:
    """Take over and settle every active job whose owner is gone; returns them."""
    try:
        candidates = store.list_jobs([S.QUEUED, S.WAITING, S.RUNNING, S.PAUSED,
                                      S.CANCELLING])
    except Exception as exc:
        log.warning("jobs of stopped processes could not be looked for: %s", exc)
        return []
    found = []
    for job in candidates:
        if job.owner == owner or parked(job):
            continue
        try:
            settled = _recover(store, checkpoints, job, owner, ttl_s)
        except Exception as exc:
            log.warning("job %s could not be recovered now (%s); the next command tries "
                        "again", job.id, exc)
            continue
        if settled is not None:
            found.append(settled)
    return found


def _recover(store: JobStore, checkpoints: CheckpointStore, job: Job, owner: str,
             ttl_s: float) -> Job | None:
    dead = not owner_alive(job)
    if not dead and not store.lease_expired(job.id):
        return None
    taken = store.take_over(job.id, owner, ttl_s, owner_dead=dead, expected_lease=job.lease)
    if taken is None:
        return None
    settled = _settle(taken, job.owner, checkpoints)
    store.save_job(settled)
    return settled


def _settle(job: Job, dead_owner: str, checkpoints: CheckpointStore) -> Job:
    """INTERRUPTED for a running or queued job, parked for a paused one, CANCELLED (files
    removed) for a cancellation."""
    if job.state is S.CANCELLING:
        remove_job_files(job, checkpoints)
        return transition(job, S.CANCELLED)
    if job.state in (S.PAUSED, S.WAITING):
        return dataclasses.replace(job, owner="", message=parked_note(job))
    note = interrupted_note(Job(id=job.id, name=job.name, owner=dead_owner))
    return transition(job, S.INTERRUPTED, message=note)


def parked(job: Job) -> bool:
    """A PAUSED or WAITING job that no process owns (its own ended): a resume adopts it."""
    return job.state in (S.PAUSED, S.WAITING) and not job.owner


def parked_note(job: Job) -> str:
    what = "waiting for other jobs" if job.state is S.WAITING else "paused"
    return f"{what}; no process runs it now: resume with: seisproc resume {job.id}"


def remove_job_files(job: Job, checkpoints: CheckpointStore) -> None:
    """The partial output, the checkpoint and the output claim of a job that ended."""
    if job.output:
        discard_output(partial_path_for(Path(job.output), job.id))
        release_claim(Path(job.output), job.id)
    checkpoints.remove(job.id)


def adopt(store: JobStore, job: Job, owner: str, ttl_s: float) -> Job:
    """Take ``job`` over for a resume or a cancel asked of this process.

    Raises :class:`IllegalTransition` when a live process still owns it (ask that
    process instead: ``seisproc pause/cancel`` do) or when it has ended, unless it
    FAILED: no process runs a failed job, so any may run it again or give it up.
    """
    if job.state in (S.COMPLETED, S.CANCELLED):
        raise IllegalTransition(f"job {job.id} ({job.name}) is {job.state.value}: it has "
                                "finished")
    if job.owner == owner:
        return job
    dead = job.state is S.FAILED or not owner_alive(job)
    taken = store.take_over(job.id, owner, ttl_s, owner_dead=dead, expected_lease=job.lease)
    if taken is None:
        raise IllegalTransition(f"job {job.id} is {job.state.value} in process {job.owner}")
    if taken.state in LIVE:  # its process died before a recovery marked it
        taken = transition(taken, S.INTERRUPTED, message=interrupted_note(job))
        store.save_job(taken)
    return taken
