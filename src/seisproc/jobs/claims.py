"""Claiming a job's output off the submitting caller's thread, refusing conflicts at once.

Creating the claim file (``O_CREAT | O_EXCL``, then its content; :mod:`seisproc.io.claim`)
writes to the output's folder, and while running jobs' workers ``fdatasync`` that write
waits for the filesystem's journal: 11-35 ms at worst here, which held ``submit()`` p99
at 7-9 ms against a 5 ms target. So :meth:`OutputClaimer.take`, on the caller's thread,
only checks, writing nothing: a claim being taken by a job of this process (any engine in
it) or a claim file naming a job that has not ended refuses the job at once, with the
message a refused claim always had. The claim file is then created on the
``seisproc-claim`` thread, a moment later and in turn; the job is planned, and its
partial output created, only once that is done (:func:`await_claim`).

The exclusive create still decides who writes, across processes and hosts: two processes
that submit the same output within the same few milliseconds both pass the check, and
the job whose claim is refused ends FAILED (``plan_failed``) with that message, having
written nothing. A job that ended before its claim was created (cancelled at once) has
the claim removed again, so an ended job never leaves one behind.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from seisproc.io.claim import (
    OutputClaim,
    check_unclaimed,
    claim_output,
    claimed_error,
    release_claim,
)
from seisproc.jobs.model import Job

__all__ = ["OutputClaimer", "await_claim"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Taking:
    """A claim this process has promised a job and not created yet."""

    claim: OutputClaim
    created: Future[None] = field(default_factory=Future)
    """Resolves once the claim file is there (or raises why it cannot be)."""


_lock = threading.Lock()
_taking: dict[str, _Taking] = {}
"""Claims being taken in this process, by job id: every engine of the process sees them,
as every process sees a claim file."""


class OutputClaimer:
    """Takes the output claims of one engine's jobs; see the module docstring.

    ``stale`` judges a claim found on disk (its job ended, or its process is gone);
    ``refused`` hears of a job whose claim could not be taken after all, with the
    exception to fail it with; ``ended`` says whether a job has ended meanwhile.
    """

    def __init__(self, stale: Callable[[OutputClaim], bool], *,
                 refused: Callable[[Job, Exception], None],
                 ended: Callable[[str], bool]) -> None:
        self._stale = stale
        self._refused = refused
        self._ended = ended
        self._queue: queue.SimpleQueue[tuple[Job, Future[None]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="seisproc-claim")
        self._closed = False

    def start(self) -> None:
        """Start the thread with the engine's: not at a first submit, which would wait
        for a new thread to run."""
        self._thread.start()

    def take(self, job: Job) -> None:
        """Promise ``job`` its output, writing nothing; :meth:`create` makes the file.

        Raises :class:`~seisproc.io.claim.OutputClaimed` at once, promising nothing, when
        a job of this process is claiming the output or a claim file of a job that has
        not ended holds it.
        """
        output = Path(job.output)
        with _lock:
            held = next((t.claim for t in _taking.values() if t.claim.output == output),
                        None)
            if held is not None:
                raise claimed_error(held)
            _taking[job.id] = _Taking(OutputClaim(output, job.id, job.owner, ""))
        try:
            check_unclaimed(output, stale=self._stale)
        except BaseException:
            _forget(job.id)
            raise

    def create(self, job: Job) -> None:
        """Create the claim file promised to ``job`` on the claim thread; call it once the
        engine knows the job, so that a refusal can fail it."""
        with _lock:
            taking = _taking[job.id]
        if self._closed or not self._thread.is_alive():  # created here, as it always was
            self._create(job, taking.created)
        else:
            self._queue.put((job, taking.created))

    def close(self) -> None:
        """Create the claims already promised, then stop the thread."""
        self._closed = True
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        with contextlib.suppress(queue.Empty):  # promised by a submit racing the close
            while item := self._queue.get_nowait():
                self._create(*item)

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._create(*item)
            except Exception:  # a claim left behind is judged stale later; go on
                log.exception("job %s: the output claim could not be settled", item[0].id)

    def _create(self, job: Job, created: Future[None]) -> None:
        try:
            claim_output(Path(job.output), job.id, job.owner, stale=self._stale)
        except Exception as exc:  # refused, or the folder not writable: the job fails
            created.set_exception(exc)
            _forget(job.id)
            self._refused(job, exc)
            return
        created.set_result(None)
        _forget(job.id)
        if self._ended(job.id):  # ended before its claim was there: nothing may hold it
            release_claim(Path(job.output), job.id)


def await_claim(job_id: str) -> None:
    """Wait until the claim this process is taking for ``job_id`` is created, if one is
    being taken; raises why it could not be. Planning calls it before the job writes."""
    with _lock:
        taking = _taking.get(job_id)
    if taking is not None:
        taking.created.result()


def _forget(job_id: str) -> None:
    with _lock:
        _taking.pop(job_id, None)
