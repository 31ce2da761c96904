"""Writing SEG-Y outputs: pre-create the whole file, then fill trace records in any order.

An output is created under a temporary ("partial") name at its full size with the input's
file headers, then units of work write their traces at their own positions (disjoint
ranges, so parallel writers in several processes are safe, and a unit redone after a
crash writes identical bytes). Only :func:`commit_output` gives it its final name, so a
file under the final name is always complete, and it never replaces a file that appeared
there while the job ran unless the user asked to overwrite.

Durability is the writer's job, not the driver's: a unit is announced done only after
:meth:`SegyWriter.sync` (``fdatasync``) returned on the node that wrote its traces. On a
shared file system (NFS) a node's written pages sit in that node's own cache until it
flushes them; an ``fsync`` by the driver on another host flushes only the driver's cache,
so a worker host that crashed after the unit was announced would lose traces the job's
checkpoint records as done.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import logging
import os
import shutil
import struct
import sys
from pathlib import Path

import numpy as np

from seisproc.errors import OutputError
from seisproc.io.fileheaders import (
    FILE_HEADER_BYTES,
    STANZA_BYTES,
    VARIABLE,
    BinaryHeaderFacts,
    FileHeaderError,
    binary_header_facts,
    file_headers_size,
)
from seisproc.io.samples import IBM, IEEE, encode_into, sample_format
from seisproc.io.segy import TEXT_HEADER_BYTES, SegyFile, SegyLayout, contiguous_runs
from seisproc.io.textheader import stamp_provenance

__all__ = [
    "sync_path",
    "SegyWriter",
    "output_layout",
    "output_file_header",
    "check_file_header",
    "create_output",
    "commit_output",
    "discard_output",
]

_FORMAT_OFFSET = 3225 - 1
log = logging.getLogger(__name__)
_FILE_HEADERS = "3200-byte textual, 400-byte binary, 3200 bytes per extended textual header"
_BEYOND_2_24 = ("integers beyond 2**24 (16,777,216) in magnitude were read as the nearest "
                "4-byte float, to about 7 significant digits")
_PRECISION_LOST = {
    6: ("8-byte IEEE floats", "about 7 significant digits are kept, magnitudes above 3.4e38 "
        "become infinite"),
    2: ("4-byte signed integers", _BEYOND_2_24),
    9: ("8-byte signed integers", _BEYOND_2_24),
    10: ("4-byte unsigned integers", _BEYOND_2_24),
    12: ("8-byte unsigned integers", _BEYOND_2_24),
}
"""Input formats whose values 4-byte floats do not all hold: what the samples are, and
what is lost. The others (1- to 3-byte integers, IBM floats) read to float32 exactly."""


def output_layout(source: SegyLayout) -> SegyLayout:
    """The layout of a processed copy of ``source``: its trace-header extensions, and
    IEEE floats (format 5) unless it holds IBM floats (format 1).

    IBM and 4-byte IEEE inputs keep their format. Integer inputs, of every width, signed
    or not, are written as 4-byte IEEE floats, since processed amplitudes (after AGC or a
    filter, say) would not survive rounding to integers, and an unsigned format cannot
    hold the negative ones a filter makes; so are 8-byte IEEE inputs, since seisproc
    processes in 4-byte floats.
    """
    code = source.format.code if source.format.code in (IBM, IEEE) else IEEE
    return dataclasses.replace(source, format=sample_format(code))


def output_file_header(source: SegyFile, provenance: list[str]) -> bytes:
    """The input's file headers, with provenance stamped and the format code updated.

    An input whose samples 4-byte floats do not all hold (8-byte floats, 4- and 8-byte
    integers) is processed and written in 4-byte floats (format 5), a loss of precision
    the user is told of (logged as a warning) rather than left to find in the output's
    binary header.
    """
    lost = _PRECISION_LOST.get(source.layout.format.code)
    if lost is not None:
        log.warning("%s: samples are %s (format %d); the output's are 4-byte IEEE floats "
                    "(format 5), as seisproc processes in 4-byte floats: %s", source.path,
                    lost[0], source.layout.format.code, lost[1])
    stamped = stamp_provenance(source.text_header_bytes, provenance)
    head = bytearray(stamped + source.file_header_bytes[TEXT_HEADER_BYTES:])
    code = output_layout(source.layout).format.code
    struct.pack_into((">" if source.layout.endian == "big" else "<") + "h", head,
                     _FORMAT_OFFSET, code)
    return bytes(head)


def create_output(path: str | os.PathLike[str], file_header: bytes, layout: SegyLayout) -> None:
    """Create ``path`` at its full size, file headers written, disk space reserved.

    The file headers are checked first (:func:`check_file_header`): no trace is ever
    written behind headers of the wrong size. Space is reserved up front
    (``posix_fallocate``) so that a full disk is reported before any work is done, naming
    the file and the sizes, instead of mid-job.
    """
    path = Path(path)
    check_file_header(path, file_header, layout)
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


def check_file_header(path: Path, file_header: bytes, layout: SegyLayout) -> None:
    """Refuse headers that would make ``path`` unreadable, as seisproc reads files
    (:mod:`seisproc.io.fileheaders`): a 3200-byte textual header and a 400-byte binary
    header, followed by the extended textual headers the binary header declares (bytes
    3505-3506: that many, or for -1 stanzas up to one that begins ``((SEG: EndText))``);
    and a binary header that gives the traces' sample format, sample count and
    trace-header extensions (bytes 3507-3510, SEG-Y rev 2). A header one card too long (a
    line feed split into two lines) once moved the binary header and gave a file nobody
    could open.

    Raises
    ------
    OutputError
        Naming ``path``, what the headers hold and what they should.

    >>> with open_segy("shots.sgy") as src:                     # doctest: +SKIP
    ...     check_file_header(Path("out.sgy"), src.file_header_bytes, src.layout)
    """
    facts = _check_header_size(path, file_header, layout)
    if (facts.format_code, facts.n_samples) != (layout.format.code, layout.n_samples):
        raise OutputError(
            f"{path}: the output's binary header gives format code {facts.format_code} and "
            f"{facts.n_samples} samples per trace (bytes 3225-3226, 3221-3222); its traces "
            f"are format {layout.format.code} with {layout.n_samples} samples: nothing was "
            "written")
    if facts.trace_header_extensions != layout.trace_header_extensions:
        raise OutputError(
            f"{path}: the output's binary header gives {facts.trace_header_extensions} "
            f"trace-header extensions (bytes 3507-3510, read in SEG-Y rev 2 and later; this "
            f"header is rev {facts.revision}); its traces have "
            f"{layout.trace_header_extensions}: nothing was written")


def _check_header_size(path: Path, file_header: bytes, layout: SegyLayout
                       ) -> BinaryHeaderFacts:
    """The binary header's facts, once the headers are the size they declare."""
    if len(file_header) < FILE_HEADER_BYTES:
        raise OutputError(
            f"{path}: the output's file headers are {len(file_header)} bytes and its traces "
            f"would start at byte {layout.data_offset}; both must be at least "
            f"{FILE_HEADER_BYTES} ({_FILE_HEADERS}): nothing was written")
    try:
        facts = binary_header_facts(file_header, layout.endian)
        expected = file_headers_size(facts, lambda n: _stanza(file_header, n),
                                     where="the output's file headers end")
    except FileHeaderError as exc:
        raise OutputError(f"{path}: {exc}: nothing was written") from None
    if len(file_header) != expected or layout.data_offset != expected:
        count = ("a variable number of extended textual headers (-1) up to the EndText "
                 "stanza" if facts.extended_text == VARIABLE
                 else f"{max(facts.extended_text, 0)} extended textual headers")
        raise OutputError(
            f"{path}: the output's file headers are {len(file_header)} bytes and its traces "
            f"would start at byte {layout.data_offset}; with {count} both must be "
            f"{expected} ({_FILE_HEADERS}): nothing was written")
    return facts


def _stanza(file_header: bytes, number: int) -> bytes:
    start = FILE_HEADER_BYTES + STANZA_BYTES * number
    return file_header[start : start + STANZA_BYTES]


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
        self.write_records(positions, self.pack(headers, samples))

    def pack(self, headers: np.ndarray, samples: np.ndarray) -> np.ndarray:
        """Trace records as the output stores them: raw headers ``(n, 240)`` and float32
        samples encoded in the output's sample format and byte order."""
        records = np.empty(len(headers), dtype=self._dtype)
        records["header"] = headers
        encode_into(records["samples"], samples, self.layout.format)
        return records

    def write_records(self, positions: np.ndarray, records: np.ndarray) -> None:
        """Write :meth:`pack`'s ``records`` at ``positions``, one system call per run of
        consecutive positions, straight from the array (no copy)."""
        positions = np.asarray(positions, dtype=np.int64)
        raw = np.ascontiguousarray(records).view(np.uint8).reshape(len(records), -1)
        for start, stop in contiguous_runs(positions):
            offset = self.layout.data_offset + int(positions[start]) * self.layout.trace_bytes
            data = raw[start:stop].data.cast("B")
            self._pwrite(data, offset)
            _start_writeback(self._fd, offset, len(data))

    def _pwrite(self, data: bytes | memoryview, offset: int) -> None:
        try:
            view = memoryview(data)
            while view:
                written = os.pwrite(self._fd, view, offset)
                view, offset = view[written:], offset + written
        except OSError as exc:
            raise OutputError(
                f"{self.path}: write failed at byte {offset}: {exc.strerror}") from None

    def sync(self) -> None:
        """Make the traces written so far durable, before anyone records them as done.

        ``fdatasync`` where the system has it: the file's size never changes after
        :func:`create_output`, so the data (and the block map needed to read it back) is
        all that must reach the disk, not timestamps. Called on the node that wrote: on
        NFS only the writing client can flush its cache (see the module's docstring).
        """
        try:
            _data_sync(self._fd)
        except OSError as exc:
            raise OutputError(
                f"{self.path}: cannot make the written traces durable: {exc.strerror}") from None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> SegyWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Start writing these bytes to disk now, without waiting (Linux starts write-back
    of dirty pages on ``POSIX_FADV_DONTNEED``, and drops them from the page cache once
    written: an output is not read back). The unit's :meth:`SegyWriter.sync` then waits
    for little, and the disk sees a steady stream instead of a burst per unit: measured,
    a 15.8 MB unit's ``fdatasync`` burst delayed other processes' I/O (the progress p99
    went from 9 to 50 ms with per-unit syncs)."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        with contextlib.suppress(OSError):
            advise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def commit_output(partial: str | os.PathLike[str], final: str | os.PathLike[str], *,
                  overwrite: bool = False) -> None:
    """Flush ``partial`` to disk and give it its final name.

    With ``overwrite`` the rename replaces whatever is at ``final`` (the user asked for
    that when the job was submitted). Without it, a file that appeared at ``final`` while
    the job ran (another program, another host on a shared disk) is never replaced: the
    name is taken with a hard link, which fails if anything is there, or, where the file
    system has no hard links, with a rename that refuses to replace (see
    :func:`_rename_no_replace`). The folder is flushed after, so the name survives a crash.

    Raises
    ------
    OutputError
        When a file is at ``final`` and ``overwrite`` is false. ``partial`` is left in
        place, complete and durable: the caller decides whether to keep or discard it.

    >>> commit_output(".shots_agc.sgy.0a1b.seisproc-partial", "shots_agc.sgy")  # doctest: +SKIP
    """
    partial, final = Path(partial), Path(final)
    sync_path(partial)
    if overwrite:
        os.replace(partial, final)
    else:
        try:
            _take_name(partial, final)
        except FileExistsError:
            raise OutputError(
                f"{final}: a file appeared at the output's name while the job ran; it was "
                "left untouched and the job's output was not committed") from None
    sync_path(final.parent)


_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV,
                            errno.EMLINK})
"""``link`` errors of a file system that cannot (or may not) hard-link this file: FAT and
exFAT, some FUSE and SMB mounts, a directory at its link limit."""


def _take_name(partial: Path, final: Path) -> None:
    """Give ``partial`` the name ``final`` unless something is there (``FileExistsError``).

    A crash between the link and the unlink leaves the complete output under both names;
    the hidden partial name is then a second link to the same data, removed with the job.
    A "file exists" that is our own file is a link that did succeed (an NFS client that
    resent its request after a lost reply).
    """
    try:
        os.link(partial, final)
    except FileExistsError:
        if not _same_file(partial, final):
            raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        _rename_no_replace(partial, final)
        return
    partial.unlink(missing_ok=True)


def _rename_no_replace(partial: Path, final: Path) -> None:
    """Rename ``partial`` to ``final`` without replacing a file there.

    Linux's ``renameat2(RENAME_NOREPLACE)`` does it atomically. Elsewhere, or where the
    file system refuses that flag, an empty placeholder is created at ``final`` with
    ``O_EXCL`` (which fails if anything is there) and then replaced by the rename. Its
    window: a crash between the two leaves an empty file under the output's name (the
    partial is still there, complete); and a program that removes the placeholder and
    writes its own file there in that instant would have it replaced.
    """
    if _renameat2_no_replace(partial, final):
        return
    fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.close(fd)
    os.replace(partial, final)


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


def _renameat2_no_replace(partial: Path, final: Path) -> bool:
    """``renameat2(..., RENAME_NOREPLACE)``; ``False`` when this system or file system
    lacks it (not Linux, glibc before 2.28, ``EINVAL`` from an old NFS client)."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    status = renameat2(_AT_FDCWD, os.fsencode(partial), _AT_FDCWD, os.fsencode(final),
                       _RENAME_NOREPLACE)
    if status == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(partial), None, str(final))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _data_sync(fd: int) -> None:
    """``fdatasync`` where the system has it (not macOS), else ``fsync``."""
    sync = getattr(os, "fdatasync", os.fsync)
    sync(fd)


def sync_path(path: str | os.PathLike[str]) -> None:
    """``fsync`` a file or a folder (a folder's entries: a new or renamed name)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def discard_output(partial: str | os.PathLike[str]) -> None:
    """Remove a partial output; a missing file is fine."""
    Path(partial).unlink(missing_ok=True)


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"
