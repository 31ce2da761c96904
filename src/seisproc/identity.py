"""Which code this process runs: seisproc's version and a digest of its source files.

Warm things outlive the command that made them (the local Ray service's worker actors,
the command server's imports); they must never run units or commands for code other
than what the caller has on disk, an older release's or the same version's before a
file was edited (an editable install, a patched site-packages). Standard library only:
the command server and the service's checks use it before importing Ray.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from seisproc._version import __version__

__all__ = ["code_identity", "running_code", "source_digest"]


def source_digest() -> str:
    """8 hex digits from the path, size and modification time of every module of the
    installed package (about 150 ``stat`` calls, a few milliseconds): read again on
    every call."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=4)
    for path in sorted(package.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


@functools.cache
def code_identity() -> str:
    """:func:`source_digest` as it was when this process first asked (the code it
    imported)."""
    return source_digest()


def running_code() -> str:
    """``<version>+<code identity>``: what a warm service records it was started by."""
    return f"{__version__}+{code_identity()}"
