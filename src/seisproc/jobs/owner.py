"""Which process owns a job, and whether that process is still alive.

A job's ``owner`` is ``host:pid``. On the same host a dead pid means the owner crashed;
for another host (a shared PostgreSQL history) a job not touched for ``stale_after_s``
counts as orphaned, since the owning manager refreshes its active jobs regularly.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from seisproc.jobs.model import Job, utcnow

__all__ = ["this_owner", "owner_alive", "HEARTBEAT_S", "STALE_AFTER_S"]

HEARTBEAT_S = 10.0
STALE_AFTER_S = 60.0


def this_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(job: Job, stale_after_s: float = STALE_AFTER_S) -> bool:
    """False when the process recorded as running ``job`` has gone."""
    host, _, pid_text = job.owner.rpartition(":")
    if not host or not pid_text.isdigit():
        return False
    if host != socket.gethostname():
        return utcnow() - job.updated_at < timedelta(seconds=stale_after_s)
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
