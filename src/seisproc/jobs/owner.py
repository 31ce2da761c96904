"""Which process owns a job, for how long, and whether that process is still alive.

A job's ``owner`` is ``host:pid``. Ownership is a lease kept in the job store: the owner
renews it every :data:`LEASE_RENEW_S` (a :class:`~seisproc.jobs.lease.LeaseKeeper`
thread that does nothing else), and it runs out :data:`LEASE_TTL_S` after the last
renewal, measured by the *database's* clock. Another process takes a job over only with
:meth:`~seisproc.jobs.ports.JobStore.take_over`, which raises the job's fencing token
(``Job.lease``); the store then refuses the old owner's saves
(:class:`~seisproc.jobs.ports.StaleOwner`).

On the same host a dead pid settles it at once (:func:`owner_alive` is ``False``, and
``take_over(..., owner_dead=True)`` need not wait for the lease). For another host this
host's clock proves nothing (it may be skewed, the owner's NFS may be slow), so the
store's lease decides: ``owner_alive(job, store)`` or ``store.lease_expired(job_id)`` to
show or judge it, ``store.take_over(...)`` to act.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

from seisproc.jobs.model import Job

if TYPE_CHECKING:
    from seisproc.jobs.ports import JobStore

__all__ = ["this_owner", "owner_alive", "LEASE_TTL_S", "LEASE_RENEW_S", "HEARTBEAT_S"]

LEASE_TTL_S = 30.0
"""Seconds a lease lasts after its last renewal (database clock): a crashed owner on
another host is taken over this long after it stopped."""
LEASE_RENEW_S = 5.0
"""Seconds between renewals: six chances to renew before the lease runs out."""
HEARTBEAT_S = 10.0
"""Deprecated: how often the JobManager refreshed ``updated_at`` before leases; kept
until the manager no longer imports it. No longer used to judge ownership."""


def this_owner() -> str:
    """``host:pid`` of this process, as written in a job's ``owner``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(job: Job, store: JobStore | None = None) -> bool:
    """False when the process recorded as running ``job`` has gone.

    On this host, that is a pid that no longer runs (or a zombie); an owner that is not
    ``host:pid`` at all counts as gone. For another host this host cannot tell: with
    ``store``, the answer is whether the job's lease is still live by the database's
    clock (``not store.lease_expired(job.id)``); without, ``True`` (unknown). To act on
    a job of another host, call ``store.take_over(...)``, which decides atomically.

    >>> owner_alive(Job(id="a1", name="demo", owner="not-an-owner"))
    False
    """
    host, _, pid_text = job.owner.rpartition(":")
    if not host or not pid_text.isdigit():
        return False
    if host != socket.gethostname():
        return store is None or not store.lease_expired(job.id)
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False
