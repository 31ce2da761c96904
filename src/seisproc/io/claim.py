"""One writer per output: a claim file beside the output, created exclusively.

Two ``seisproc run`` in two terminals, or on two hosts sharing a disk, may be given the
same output. Each job writes its own partial file, so without a claim both would run to
the end and the last commit would win (or, without ``--overwrite``, fail after hours of
work). A job therefore claims its output before creating the partial: the claim is a
small JSON file, ``.{name}.seisproc-claim``, made with ``O_CREAT | O_EXCL``, which exactly
one process can succeed at, on a local disk and on NFS (v3 and later) alike. The job
removes it when it ends (:func:`release_claim`); a claim left by a crashed job is replaced
once the caller knows that job ended (``stale``).

The claim holds no lock and needs no running process: it survives a crash, so a paused or
interrupted job keeps its output until it is resumed, cancelled or judged ended.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seisproc.errors import OutputError

__all__ = ["OutputClaim", "OutputClaimed", "check_unclaimed", "claim_path", "claim_output",
           "claimed_error", "read_claim", "release_claim"]

_TORN_READ_WAIT_S = 1.0
"""How long a claim found empty or half-written is read again before it counts as
corrupt: its creator writes the content right after creating the file."""
_ATTEMPTS = 5
"""Rounds of create / read / judge before giving up on a claim that keeps changing."""


@dataclass(frozen=True)
class OutputClaim:
    """Who is writing an output."""

    output: Path
    """The final output path (not the partial, not the claim file)."""
    job_id: str
    """The job that holds the output; empty for a claim file that cannot be read."""
    owner: str
    """``host:pid`` of the process that claimed it (see :mod:`seisproc.jobs.owner`)."""
    created_at: str
    """When it was claimed, ISO 8601 in UTC."""

    def to_dict(self) -> dict[str, str]:
        return {**asdict(self), "output": str(self.output)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutputClaim:
        return cls(Path(data["output"]), str(data["job_id"]), str(data["owner"]),
                   str(data["created_at"]))


class OutputClaimed(OutputError):
    """Another job is writing this output (or a claim file that cannot be read says so).

    ``claim`` is the claim found; its ``job_id`` is empty for an unreadable claim file.
    """

    def __init__(self, message: str, claim: OutputClaim | None = None) -> None:
        super().__init__(message)
        self.claim = claim

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (str(self), self.claim)


def claim_path(output: Path) -> Path:
    """The claim file of ``output``: hidden, beside it, so that every host that can see
    the output sees the claim.

    >>> claim_path(Path("/data/shots_agc.sgy"))
    PosixPath('/data/.shots_agc.sgy.seisproc-claim')
    """
    output = Path(output)
    return output.with_name(f".{output.name}.seisproc-claim")


def claim_output(output: Path, job_id: str, owner: str, *,
                 stale: Callable[[OutputClaim], bool] = lambda claim: False) -> OutputClaim:
    """Claim ``output`` for ``job_id``, or raise :class:`OutputClaimed`.

    Idempotent: a job that already holds the claim (a resumed job) gets it back as it
    was. A claim held by another job is replaced only if ``stale(claim)`` says that job
    has ended; ``stale`` also judges a claim file that cannot be read (given with an
    empty ``job_id``).

    Replacing a stale claim is remove-then-create: the claim is read again just before
    the removal and left alone if it changed, but two processes that both judged the same
    claim stale within that instant could each remove the other's fresh one. Judging a
    claim stale (a dead pid, a job recorded as ended) is rare enough for that to be
    accepted.

    >>> claim_output(Path("shots_agc.sgy"), "0a1b2c3d", "node1:4242")  # doctest: +SKIP
    OutputClaim(output=PosixPath('shots_agc.sgy'), job_id='0a1b2c3d', ...)
    """
    output = Path(output)
    wanted = OutputClaim(output, job_id, owner, _now())
    for _ in range(_ATTEMPTS):
        if _create(wanted):
            return wanted
        held = _read_settled(output)
        if held is None:
            continue  # released between our create and our read: try again
        if held.job_id == job_id and job_id:
            return held
        if not stale(held):
            raise claimed_error(held)
        _remove_if_unchanged(output, held)
    raise OutputClaimed(f"{claim_path(output)}: the claim on {output} kept changing while "
                        "this job tried to take it; another job is starting on the same "
                        "output: wait for it or cancel it")


def check_unclaimed(output: Path, *,
                    stale: Callable[[OutputClaim], bool] = lambda claim: False) -> None:
    """Raise :class:`OutputClaimed` if a readable claim of a job that has not ended
    (``stale`` says no) holds ``output``; writes nothing.

    A look-up, not a claim: it refuses at once what :func:`claim_output` would refuse,
    without creating a file, which on a disk busy with other writers' ``fdatasync`` waits
    for the filesystem's journal (11-35 ms). Two jobs checked at the same instant both
    pass; the exclusive create in :func:`claim_output` still lets exactly one of them
    write. A claim file that cannot be read is left to :func:`claim_output`, which reads
    it again while its creator may still be writing it.

    >>> check_unclaimed(Path("shots_agc.sgy"))  # doctest: +SKIP
    """
    held = read_claim(output)
    if held is not None and held.job_id and not stale(held):
        raise claimed_error(held)


def read_claim(output: Path) -> OutputClaim | None:
    """The claim on ``output``, ``None`` if there is none; a claim file that cannot be
    read as one is returned as a claim by an unknown job (empty ``job_id`` and owner)."""
    try:
        text = claim_path(output).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return _unknown(output)
    try:
        return OutputClaim.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError):
        return _unknown(output)


def release_claim(output: Path, job_id: str) -> bool:
    """Remove the claim on ``output`` if ``job_id`` holds it; ``True`` if it was removed.

    Another job's claim, an unreadable one or none at all is left as it is (``False``):
    a job that ends never frees an output it did not hold.
    """
    held = read_claim(output)
    if held is None or not job_id or held.job_id != job_id:
        return False
    return _remove_if_unchanged(output, held)


def _create(claim: OutputClaim) -> bool:
    """Create the claim file exclusively; ``False`` if one is there. Readable by all
    (0o644): it sits beside the user's data and says who writes.

    Not fsync'd: a claim excludes *live* writers, and the exclusive create is what does
    that (at once for every process, on NFS by the server). A power cut that loses the
    claim also stopped every writer, and a resumed job claims again before it writes.
    The two fsyncs cost ``submit()`` 5-20 ms on an idle disk."""
    path = claim_path(claim.output)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    except OSError as exc:
        raise OutputError(f"{path}: cannot claim the output: {exc.strerror}") from None
    try:
        os.write(fd, json.dumps(claim.to_dict()).encode("utf-8"))
    except OSError as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot claim the output: {exc.strerror}") from None
    os.close(fd)
    return True


def _read_settled(output: Path) -> OutputClaim | None:
    """:func:`read_claim`, read again for a moment while the file looks half-written (its
    creator writes right after creating it)."""
    deadline = time.monotonic() + _TORN_READ_WAIT_S
    while True:
        held = read_claim(output)
        if held is None or held.job_id or time.monotonic() > deadline:
            return held
        time.sleep(0.02)


def _remove_if_unchanged(output: Path, held: OutputClaim) -> bool:
    """Remove the claim file if it still holds ``held``; ``True`` if removed."""
    if read_claim(output) != held:
        return False
    path = claim_path(output)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def claimed_error(held: OutputClaim) -> OutputClaimed:
    """The refusal of a job whose output ``held`` claims: one line naming the output and
    the job holding it (or the claim file, when it cannot be read)."""
    output = held.output
    if not held.job_id:
        return OutputClaimed(
            f"{claim_path(output)}: this file claims {output} for a job but cannot be read; "
            "if no seisproc job is writing that output, remove the file", held)
    return OutputClaimed(
        f"{output}: job {held.job_id} ({held.owner}) is already writing this output; "
        f"wait for it, or cancel it: seisproc cancel {held.job_id}", held)


def _unknown(output: Path) -> OutputClaim:
    return OutputClaim(Path(output), "", "", "")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
