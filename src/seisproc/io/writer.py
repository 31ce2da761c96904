"""Writing SEG-Y outputs: pre-create the whole file, then fill trace records in any order.

An output is created under a temporary ("partial") name at its full size with the input's
file headers, then units of work write their traces at their own positions (disjoint
ranges, so parallel writers in several processes are safe, and a unit redone after a
crash writes identical bytes). Only :func:`commit_output` gives it its final name, so a
file under the final name is always complete.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import struct
from pathlib import Path

import numpy as np

from seisproc.errors import OutputError
from seisproc.io.samples import IBM, IEEE, encode, sample_format
from seisproc.io.segy import TEXT_HEADER_BYTES, SegyFile, SegyLayout, contiguous_runs
from seisproc.io.textheader import stamp_provenance

__all__ = [
    "SegyWriter",
    "output_layout",
    "output_file_header",
    "create_output",
    "commit_output",
    "discard_output",
]

_FORMAT_OFFSET = 3225 - 1


def output_layout(source: SegyLayout) -> SegyLayout:
    """The layout of a processed copy of ``source``.

    Float inputs keep their format; integer inputs are written as IEEE floats, since
    processed amplitudes (after AGC, say) would not survive rounding to integers.
    """
    code = source.format.code if source.format.code in (IBM, IEEE) else IEEE
    return dataclasses.replace(source, format=sample_format(code))


def output_file_header(source: SegyFile, provenance: list[str]) -> bytes:
    """The input's file headers, with provenance stamped and the format code updated."""
    head = bytearray(source.file_header_bytes)
    head[:TEXT_HEADER_BYTES] = stamp_provenance(source.text_header_bytes, provenance)
    code = output_layout(source.layout).format.code
    struct.pack_into((">" if source.layout.endian == "big" else "<") + "h", head,
                     _FORMAT_OFFSET, code)
    return bytes(head)


def create_output(path: str | os.PathLike[str], file_header: bytes, layout: SegyLayout) -> None:
    """Create ``path`` at its full size, file headers written, disk space reserved.

    Space is reserved up front (``posix_fallocate``) so that a full disk is reported
    before any work is done, naming the file and the sizes, instead of mid-job.
    """
    path = Path(path)
    total = len(file_header) + layout.n_traces * layout.trace_bytes
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the output: {exc.strerror}") from None
    if total > free:
        raise OutputError(f"{path}: not enough disk space: the output needs "
                          f"{_size(total)}, {_size(free)} free on that disk")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the output: {exc.strerror}") from None
    try:
        _reserve(fd, path, total)
        os.pwrite(fd, file_header, 0)
    except BaseException:
        os.close(fd)
        discard_output(path)
        raise
    os.close(fd)


def _reserve(fd: int, path: Path, total: int) -> None:
    try:
        os.posix_fallocate(fd, 0, total)
    except OSError as exc:
        if exc.errno in (95, 22):  # EOPNOTSUPP / EINVAL: the filesystem cannot reserve
            os.ftruncate(fd, total)
            return
        raise OutputError(f"{path}: cannot reserve {_size(total)}: {exc.strerror}") from None


class SegyWriter:
    """Writes whole trace records (header + samples) into a file made by
    :func:`create_output`. Safe to use from several processes on disjoint positions."""

    def __init__(self, path: str | os.PathLike[str], layout: SegyLayout) -> None:
        self.path = Path(path)
        self.layout = layout
        self._dtype = layout.record_dtype()
        self._fd = os.open(self.path, os.O_WRONLY)

    def write(self, positions: np.ndarray, headers: np.ndarray, samples: np.ndarray) -> None:
        """Write traces at ``positions``: raw headers ``(n, 240)``, float32 samples."""
        positions = np.asarray(positions, dtype=np.int64)
        records = np.empty(len(positions), dtype=self._dtype)
        records["header"] = headers
        records["samples"] = encode(samples, self.layout.format, self.layout.endian)
        for start, stop in contiguous_runs(positions):
            offset = self.layout.data_offset + int(positions[start]) * self.layout.trace_bytes
            self._pwrite(records[start:stop].tobytes(), offset)

    def _pwrite(self, data: bytes, offset: int) -> None:
        try:
            view = memoryview(data)
            while view:
                written = os.pwrite(self._fd, view, offset)
                view, offset = view[written:], offset + written
        except OSError as exc:
            raise OutputError(
                f"{self.path}: write failed at byte {offset}: {exc.strerror}") from None

    def sync(self) -> None:
        """Force written traces to disk (before a checkpoint records them as done)."""
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> SegyWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def commit_output(partial: str | os.PathLike[str], final: str | os.PathLike[str]) -> None:
    """Flush ``partial`` to disk and give it its final name in one atomic rename."""
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, final)
    dir_fd = os.open(Path(final).parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def discard_output(partial: str | os.PathLike[str]) -> None:
    """Remove a partial output; a missing file is fine."""
    Path(partial).unlink(missing_ok=True)


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"
