"""Gathers: the traces that share a header value, found in one vectorised pass.

A stable sort of one header column groups the traces of each gather while keeping their
file order, whether the file is sorted by that key or not. The index costs what it must
for surveys of any size: trace positions are 4-byte ``uint32`` wherever the file has fewer
than 2**32 traces (``int64`` only beyond), so 10 million traces take 40 MB, not 80, plus a
key and a start per gather. The column itself is read by :mod:`seisproc.io.scan`, on the
workers when there are some.

The index is cached in the seisproc home, keyed by the file's path, size and modification
time, so re-opening a large survey is instant and an edited file is re-indexed. The cache
is three ``.npy`` arrays in one file, *memory-mapped* on open instead of loaded: opening
the index of 10 million traces reads a few hundred header bytes, and only the gathers a
job or the viewer touches are ever paged in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from seisproc.io.headers import header_field
from seisproc.io.scan import ScanRanges, read_header_column
from seisproc.io.segy import SegyFile
from seisproc.paths import open_private, private_dir, seisproc_home

__all__ = ["GatherIndex", "build_index", "gather_index", "position_dtype"]

_CACHE_VERSION = 2
_ARRAYS = ("keys", "starts", "order")
"""The cache file's arrays, in file order: the small ones first."""


@dataclass(frozen=True, eq=False)
class GatherIndex:
    """Trace positions of every gather of one file, by one header key.

    >>> index = gather_index(segy, "ffid")         # doctest: +SKIP
    >>> index.keys[:3], index.positions(0)[:3]     # doctest: +SKIP
    (array([1, 2, 3]), array([0, 1, 2], dtype=uint32))
    """

    key: str
    """segyio name of the header field, e.g. ``FieldRecord``."""
    keys: np.ndarray
    """The header value of each gather, ascending (int64)."""
    order: np.ndarray
    """Trace positions grouped by gather, file order within a gather
    (:func:`position_dtype`: uint32 below 2**32 traces)."""
    starts: np.ndarray
    """Gather ``i`` is ``order[starts[i]:starts[i + 1]]``; ``len(keys) + 1`` entries, of
    the positions' dtype."""

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def n_traces(self) -> int:
        return len(self.order)

    @property
    def nbytes(self) -> int:
        """Bytes of its three arrays: about 4 per trace, plus 12 per gather."""
        return int(self.keys.nbytes + self.order.nbytes + self.starts.nbytes)

    def positions(self, gather: int) -> np.ndarray:
        """Trace positions of the ``gather``-th gather (0-based, in key order)."""
        return self.order[self.starts[gather] : self.starts[gather + 1]]

    def sizes(self) -> np.ndarray:
        return np.diff(self.starts.astype(np.int64))

    def find(self, value: int) -> int:
        """The gather number whose header value is ``value``."""
        i = int(np.searchsorted(self.keys, value))
        if i == len(self.keys) or self.keys[i] != value:
            raise KeyError(f"no gather with {self.key} = {value}")
        return i


def position_dtype(n_traces: int) -> np.dtype:
    """uint32 for trace positions of a file with fewer than 2**32 traces, else int64."""
    return np.dtype(np.uint32 if n_traces < 2**32 else np.int64)


def build_index(values: np.ndarray, key: str) -> GatherIndex:
    """Group trace positions by ``values`` (one header word per trace).

    A column already in order (a file sorted by its key, the common case) needs no sort;
    otherwise a stable argsort keeps file order within each gather.
    """
    n = len(values)
    dtype = position_dtype(n)
    if n < 2 or bool(np.all(values[1:] >= values[:-1])):
        order = np.arange(n, dtype=dtype)
        ordered = values
    else:
        sort = np.argsort(values, kind="stable")
        ordered = values[sort]
        order = sort.astype(dtype)
        del sort
    boundaries = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    starts = np.concatenate(([0], boundaries, [n])).astype(dtype)
    keys = ordered[starts[:-1].astype(np.int64)] if n else ordered[:0]
    return GatherIndex(key, keys.astype(np.int64), order, starts)


def gather_index(segy: SegyFile, key: str, *, cache: bool = True,
                 scan: ScanRanges | None = None,
                 on_scanned: Callable[[int, int], None] | None = None) -> GatherIndex:
    """The gathers of ``segy`` by header ``key`` (any name :func:`header_field` takes).

    ``scan`` reads the header column over ranges of traces (the Ray executor's workers,
    see :mod:`seisproc.io.scan`); without it this process reads it. ``on_scanned(done,
    total)`` is told the traces read so far, for a job's progress.
    """
    field = header_field(key)
    path = _cache_path(segy.path, field.name) if cache else None
    if path is not None and path.exists():
        cached = _load(path, field.name)
        if cached is not None:
            return cached
    column = read_header_column(segy.path, segy.layout, field, scan=scan,
                                on_scanned=on_scanned)
    index = build_index(column, field.name)
    del column
    if path is not None:
        _store(path, index)
        cached = _load(path, field.name)  # the mapped copy: its pages belong to the cache
        if cached is not None:
            return cached
    return index


def _cache_path(source: Path, key: str) -> Path | None:
    try:
        stat = source.resolve().stat()
    except OSError:
        return None
    ident = f"{_CACHE_VERSION}|{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{key}"
    digest = hashlib.sha1(ident.encode()).hexdigest()[:20]
    return seisproc_home() / "index-cache" / f"{source.stem}-{key}-{digest}.index"


def _load(path: Path, key: str) -> GatherIndex | None:
    """The cached index, memory-mapped; None for a cache that cannot be trusted (it is
    then rebuilt): a torn or foreign file, arrays of the wrong type or shape."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            arrays = {name: _map_next(fh, path) for name in _ARRAYS}
            if fh.tell() != size:
                return None
    except (OSError, ValueError, EOFError):
        return None
    keys, starts, order = arrays["keys"], arrays["starts"], arrays["order"]
    if (keys.dtype != np.int64 or starts.dtype != order.dtype
            or order.dtype != position_dtype(len(order)) or keys.ndim != 1
            or len(starts) != len(keys) + 1 or int(starts[0]) != 0
            or int(starts[-1]) != len(order)):
        return None
    return GatherIndex(key, keys, order, starts)


def _map_next(fh: BinaryIO, path: Path) -> np.ndarray:
    """The ``.npy`` array at the file's position, mapped read-only; the position moves
    past it. Raises ValueError for anything but a plain 1-D array that is all there."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise ValueError(f"unknown .npy version {version}")
    if len(shape) != 1 or fortran or dtype.hasobject:
        raise ValueError("not a 1-D array of numbers")
    offset, nbytes = fh.tell(), shape[0] * dtype.itemsize
    if offset + nbytes > os.fstat(fh.fileno()).st_size:
        raise ValueError("the file is cut short")
    fh.seek(offset + nbytes)
    if nbytes == 0:
        return np.empty(0, dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


def _store(path: Path, index: GatherIndex) -> None:
    """Write the cache atomically; a cache that cannot be written is only a lost speed-up.

    Always a new file renamed into place, never one rewritten: a file cut short under a
    process that maps it would kill that process (SIGBUS) on its next read."""
    try:
        private_dir(path.parent)  # it names the user's files: private, as the home is
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with os.fdopen(open_private(tmp), "wb") as fh:
            for name in _ARRAYS:
                np.lib.format.write_array(fh, np.ascontiguousarray(getattr(index, name)),
                                          allow_pickle=False)
        os.replace(tmp, path)
    except OSError:
        return
