"""Where seisproc keeps its own files: history, index caches, demo data; and how it
creates them so that only their owner can read them.

The seisproc home holds flows, input paths, tracebacks and the job history: on a shared
processing server none of it is for other users. Folders seisproc creates are ``0700``
and files ``0600``, whatever the umask. Use :func:`private_dir` and
:func:`open_private` (or :func:`create_private_file`) for anything written there.

>>> import tempfile
>>> folder = private_dir(Path(tempfile.mkdtemp()) / "logs")
>>> oct(folder.stat().st_mode & 0o777)
'0o700'
>>> oct(create_private_file(folder / "run.log").stat().st_mode & 0o777)
'0o600'
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
from pathlib import Path

__all__ = [
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "create_private_file",
    "open_private",
    "private_dir",
    "seisproc_home",
    "service_temp_dir",
]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_GROUP_OTHER = 0o077

log = logging.getLogger("seisproc.paths")


def seisproc_home() -> Path:
    """``$SEISPROC_HOME``, or ``~/.seisproc``; created ``0700`` on first use.

    An existing home that others may read (``0755``, as older versions made it) is
    tightened to ``0700`` when it belongs to this user: everything in it is seisproc's.
    """
    home = Path(os.environ.get("SEISPROC_HOME") or Path.home() / ".seisproc").expanduser()
    private_dir(home)
    _tighten_dir(home)
    return home


def service_temp_dir(home: Path) -> Path:
    """``/tmp/seisproc-<uid>-<8 hex of home>``: the folder of the local Ray service and
    the command server of ``home``, one per user and seisproc home, and short enough for
    the Unix socket paths below it (107 bytes at most)."""
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:8]
    base = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())
    return base / f"seisproc-{os.getuid()}-{digest}"


def private_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as a folder, creating it and any missing parents ``0700`` (umask or not).

    A folder that already exists keeps its mode: :func:`seisproc_home` is already
    private, so what is inside it cannot be reached by others.

    >>> import tempfile
    >>> oct(private_dir(Path(tempfile.mkdtemp()) / "a" / "b").stat().st_mode & 0o777)
    '0o700'
    """
    folder = Path(path)
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for part in reversed(missing):
        try:
            part.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # made by another process meanwhile: it is theirs to set
            continue
        os.chmod(part, PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} exists and is not a folder")
    return folder


def open_private(path: str | os.PathLike[str],
                 flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """``os.open(path, flags)``; a file it creates is ``0600`` whatever the umask.

    ``O_CREAT`` is always added. An existing file keeps its mode. Returns the file
    descriptor: wrap it with ``os.fdopen(fd, "a")`` for a text stream.

    >>> import tempfile
    >>> log_path = Path(tempfile.mkdtemp()) / "job.log"
    >>> with os.fdopen(open_private(log_path, os.O_WRONLY | os.O_APPEND), "a") as stream:
    ...     _ = stream.write("started\\n")
    >>> oct(log_path.stat().st_mode & 0o777)
    '0o600'
    """
    flags |= os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        if flags & os.O_EXCL:
            raise
        return os.open(path, flags, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # the umask may have taken bits off
    except BaseException:
        os.close(fd)
        raise
    return fd


def create_private_file(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` empty and ``0600`` if it does not exist (never truncates), so
    that what writes it next (SQLite, a log handler) finds it private."""
    os.close(open_private(path, os.O_RDONLY))
    return Path(path)


def _tighten_dir(folder: Path) -> None:
    """Take group and other permissions off ``folder`` if this user owns it."""
    info = folder.stat()
    getuid = getattr(os, "getuid", None)
    if not info.st_mode & _GROUP_OTHER or getuid is None or info.st_uid != getuid():
        return
    os.chmod(folder, PRIVATE_DIR_MODE)
    log.info("%s was readable by other users (mode %s): set to 0700", folder,
             oct(stat.S_IMODE(info.st_mode)))
