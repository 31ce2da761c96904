"""Whether a command server runs for this seisproc home, and ending it
(``seisproc service status|stop``)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from pathlib import Path

from seisproc.cli.warm import protocol
from seisproc.paths import seisproc_home

__all__ = ["running_server", "stop_server"]


def running_server(home: Path | None = None) -> int | None:
    """The pid of the command server of ``home`` (this seisproc home by default), or
    ``None``. A server holds its folder's lock for as long as it lives, so a pid left in
    its info file by a killed one is never taken for it."""
    folder = protocol.server_dir(home or seisproc_home())
    try:
        fd = os.open(folder / protocol.LOCK, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        pass  # held: a server runs
    else:
        return None
    finally:
        os.close(fd)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return int(json.loads((folder / protocol.INFO).read_text())["pid"])
    return None


def stop_server(wait_s: float = 5.0) -> int | None:
    """Ask the command server to stop (SIGTERM: it takes no more commands and ends once
    those it runs have ended); its pid, or ``None`` if none ran."""
    pid = running_server()
    if pid is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and running_server() == pid:
        time.sleep(0.05)
    return pid
