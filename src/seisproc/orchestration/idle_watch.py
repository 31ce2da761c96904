"""The service's watchdog: leads the head's process group and ends it once idle.

Run as ``python .../idle_watch.py PORT TEMP_DIR IDLE_S COMMAND`` in a new
session (by :func:`~seisproc.orchestration.head.start_head`, with the head's token in
``RAY_AUTH_TOKEN``), it starts ``COMMAND`` (``ray start --head --block``, as JSON) as its
child, before any heavy import, so the whole
head is in its process group. Every few seconds it asks the head's GCS for its live
jobs, each of which is a connected driver (a ``seisproc`` command, the GUI); the GCS
marks a driver's job dead as soon as its process is gone, even after a SIGKILL. With
none for ``IDLE_S`` seconds it removes the state file and kills the group, itself
included. It does the same if the GCS stops answering for as long, or at once if
``ray start`` exits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

if __name__ == "__main__":  # start Ray before importing it (and seisproc): 2 s sooner
    _HEAD = subprocess.Popen(json.loads(sys.argv[4]), stdin=subprocess.DEVNULL)
    del sys.path[0]  # run as a script: its folder is no place to import from

import contextlib  # noqa: E402

from seisproc.orchestration.head import START_TIMEOUT_S, HeadState, end_group  # noqa: E402
from seisproc.orchestration.service import (  # noqa: E402
    IDLE_FILE,
    _remove_state,
    live_drivers,
    read_state,
)
from seisproc.paths import open_private, seisproc_home  # noqa: E402

__all__ = ["main", "poll_interval_s"]


def poll_interval_s(idle_s: float) -> float:
    """A tenth of the idle time, between 0.5 and 5 s."""
    return min(5.0, max(0.5, idle_s / 10))


def _record(state: HeadState, last_active: float, drivers: int) -> None:
    path = seisproc_home() / IDLE_FILE
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    with os.fdopen(open_private(partial), "w") as stream:
        json.dump({"pgid": state.pgid, "last_active": last_active, "drivers": drivers,
                   "polled_at": time.time()}, stream)
    os.replace(partial, path)


def watch(state: HeadState, head: subprocess.Popen[bytes]) -> None:
    """Watch ``state``'s head until it is idle, no longer recorded, or its ``ray start``
    ended; then end the group (this process too).

    The idle time counts from when the starting command recorded the head (it is up);
    until then the head has :data:`~seisproc.orchestration.head.START_TIMEOUT_S`.
    """
    started = time.time()
    last_active = last_answer = 0.0
    while head.poll() is None:
        now = time.time()
        recorded = read_state()
        if recorded is None or recorded.pgid != state.pgid:
            if last_active or now - started >= START_TIMEOUT_S:
                break  # replaced or forgotten (service stop), or never came up
            time.sleep(0.1)
            continue
        last_active, last_answer = last_active or now, last_answer or now
        try:
            drivers = len(live_drivers(state))
            last_answer = now
        except Exception:  # the GCS did not answer: count it as idle time
            drivers = 0
        if drivers:
            last_active = now
        with contextlib.suppress(OSError):
            _record(state, last_active, drivers)
        if now - last_active >= state.idle_s or now - last_answer >= state.idle_s:
            break
        time.sleep(poll_interval_s(state.idle_s))
    _remove_state(state)
    _remove_later(state.temp_dir)
    end_group(state.pgid)


def _remove_later(temp_dir: str) -> None:
    """Remove the head's temp folder once the group is gone (this process goes with it)."""
    subprocess.Popen(["sh", "-c", 'sleep 2; rm -rf -- "$0"', temp_dir],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)


def main(argv: list[str], head: subprocess.Popen[bytes]) -> int:
    """Watch the head ``head`` runs; ``argv`` is ``PORT TEMP_DIR IDLE_S COMMAND``."""
    port, temp_dir, idle_s = argv[:3]
    state = HeadState(f"127.0.0.1:{port}", os.getpgrp(), temp_dir, time.time(),
                      float(idle_s), os.environ["RAY_AUTH_TOKEN"])
    watch(state, head)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], _HEAD))
