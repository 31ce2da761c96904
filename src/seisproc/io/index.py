"""Gathers: the traces that share a header value, found in one vectorised pass.

A stable sort of one header column groups the traces of each gather while keeping their
file order, whether the file is sorted by that key or not; 192,000 traces index in tens of
milliseconds. The index is cached in the seisproc home, keyed by the file's path, size and
modification time, so re-opening a large survey is instant and an edited file is
re-indexed.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seisproc.io.headers import header_field
from seisproc.io.segy import SegyFile
from seisproc.paths import open_private, private_dir, seisproc_home

__all__ = ["GatherIndex", "build_index", "gather_index"]

_CACHE_VERSION = 1


@dataclass(frozen=True, eq=False)
class GatherIndex:
    """Trace positions of every gather of one file, by one header key.

    >>> index = gather_index(segy, "ffid")         # doctest: +SKIP
    >>> index.keys[:3], index.positions(0)[:3]     # doctest: +SKIP
    (array([1, 2, 3]), array([0, 1, 2]))
    """

    key: str
    """segyio name of the header field, e.g. ``FieldRecord``."""
    keys: np.ndarray
    """The header value of each gather, ascending."""
    order: np.ndarray
    """Trace positions grouped by gather, file order within a gather."""
    starts: np.ndarray
    """Gather ``i`` is ``order[starts[i]:starts[i + 1]]``; ``len(keys) + 1`` entries."""

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def n_traces(self) -> int:
        return len(self.order)

    def positions(self, gather: int) -> np.ndarray:
        """Trace positions of the ``gather``-th gather (0-based, in key order)."""
        return self.order[self.starts[gather] : self.starts[gather + 1]]

    def sizes(self) -> np.ndarray:
        return np.diff(self.starts)

    def find(self, value: int) -> int:
        """The gather number whose header value is ``value``."""
        i = int(np.searchsorted(self.keys, value))
        if i == len(self.keys) or self.keys[i] != value:
            raise KeyError(f"no gather with {self.key} = {value}")
        return i


def build_index(values: np.ndarray, key: str) -> GatherIndex:
    """Group trace positions by ``values`` (one header word per trace)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    boundaries = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    starts = np.concatenate(([0], boundaries, [len(values)])).astype(np.int64)
    keys = ordered[starts[:-1]] if len(values) else ordered[:0]
    return GatherIndex(key, keys.astype(np.int64), order.astype(np.int64), starts)


def gather_index(segy: SegyFile, key: str, *, cache: bool = True) -> GatherIndex:
    """The gathers of ``segy`` by header ``key`` (any name :func:`header_field` takes)."""
    field = header_field(key)
    path = _cache_path(segy.path, field.name) if cache else None
    if path is not None and path.exists():
        cached = _load(path, field.name)
        if cached is not None:
            return cached
    index = build_index(segy.header_values(field), field.name)
    if path is not None:
        _store(path, index)
    return index


def _cache_path(source: Path, key: str) -> Path | None:
    try:
        stat = source.resolve().stat()
    except OSError:
        return None
    ident = f"{_CACHE_VERSION}|{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{key}"
    digest = hashlib.sha1(ident.encode()).hexdigest()[:20]
    return seisproc_home() / "index-cache" / f"{source.stem}-{key}-{digest}.npz"


def _load(path: Path, key: str) -> GatherIndex | None:
    """The cached index, or None for a cache that cannot be read (it is then rebuilt)."""
    try:
        # Opened here, not by np.load, which leaves its own handle open on a broken zip.
        with open(path, "rb") as fh:
            data = np.load(fh)
            if not isinstance(data, np.lib.npyio.NpzFile):
                return None
            with data:
                return GatherIndex(key, data["keys"], data["order"], data["starts"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def _store(path: Path, index: GatherIndex) -> None:
    """Write the cache atomically; a cache that cannot be written is only a lost speed-up."""
    try:
        private_dir(path.parent)  # it names the user's files: private, as the home is
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with os.fdopen(open_private(tmp), "wb") as fh:
            np.savez(fh, keys=index.keys, order=index.order, starts=index.starts)
        os.replace(tmp, path)
    except OSError:
        return
