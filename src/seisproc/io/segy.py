"""Reading SEG-Y files: file headers decoded by seisproc, trace records in bulk by numpy.

seisproc reads SEG-Y itself, rev 0 to rev 2.1: where the traces start (after any extended
textual headers, a variable number of them ended by a ``((SEG: EndText))`` stanza
included), how long each is (a 240-byte header, the trace-header extensions of rev 2,
the samples) and the sample format, all from the file headers
(:mod:`seisproc.io.fileheaders`). segyio 1.9 cannot open files with rev 2's additions,
so it opens none here; it remains the independent reader the tests compare with. The
sample interval is seisproc's own decision too, made as Seismic Unix and ObsPy make it
(see :func:`_decide_sample_interval`). Bulk trace access goes through ``preadv`` and a
read-only numpy memory map of the trace records, which reads a whole gather, sorted or
scattered, in one vectorised step and hands back the raw headers too, so writers can copy
them byte for byte.
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seisproc.errors import SegyFormatError
from seisproc.io.fileheaders import (
    BINARY_HEADER_BYTES,
    FILE_HEADER_BYTES,
    STANZA_BYTES,
    TEXT_HEADER_BYTES,
    BinaryHeaderFacts,
    FileHeaderError,
    binary_header_facts,
    binary_header_fields,
    file_headers_size,
)
from seisproc.io.headers import (
    TRACE_HEADER_BYTES,
    HeaderField,
    header_field,
    read_column,
    trace_header_values,
)
from seisproc.io.samples import SUPPORTED_CODES, SampleFormat, decode, sample_format

__all__ = [
    "SegyFile",
    "SegyLayout",
    "open_segy",
    "detect_endian",
    "contiguous_runs",
    "TEXT_HEADER_BYTES",
]

_FORMAT_BYTE = 3225 - 1
_BINARY_INTERVAL_BYTE = 3217 - 1
_TRACE_INTERVAL_BYTE = 117 - 1
_SEGY_FORMATS = {
    1: "4-byte IBM float", 2: "4-byte signed integer", 3: "2-byte signed integer",
    4: "4-byte fixed point with gain, obsolete in the standard",
    5: "4-byte IEEE float", 6: "8-byte IEEE float",
    7: "3-byte signed integer", 8: "1-byte signed integer", 9: "8-byte signed integer",
    10: "4-byte unsigned integer", 11: "2-byte unsigned integer",
    12: "8-byte unsigned integer", 15: "3-byte unsigned integer", 16: "1-byte unsigned integer",
}
"""Every sample-format code SEG-Y rev 2.1 defines, to name the ones seisproc does not read."""
_HEADER_CHUNK = 65536

log = logging.getLogger(__name__)
_warned: set[str] = set()
"""Warnings already logged by this process: a file is opened several times per job."""


@dataclass(frozen=True)
class SegyLayout:
    """Where things are in a SEG-Y file with fixed-length traces."""

    endian: str
    """``"big"`` (the standard) or ``"little"``."""
    format: SampleFormat
    n_samples: int
    sample_interval_ms: float
    data_offset: int
    """Byte where the first trace header starts (3600 + 3200 per extended textual header)."""
    n_traces: int
    trace_header_extensions: int = 0
    """SEG-Y rev 2's extra 240-byte headers after each trace's standard one (binary header
    bytes 3507-3510); seisproc reads the standard header and carries these as they are."""

    @property
    def trace_header_bytes(self) -> int:
        """Header bytes of one trace: the standard 240 and its extensions."""
        return TRACE_HEADER_BYTES * (1 + self.trace_header_extensions)

    @property
    def trace_bytes(self) -> int:
        return self.trace_header_bytes + self.n_samples * self.format.itemsize

    def record_dtype(self) -> np.dtype:
        """One trace as stored: ``header`` (the standard 240 bytes, then any extensions,
        uint8) and ``samples``."""
        return np.dtype(
            [("header", np.uint8, (self.trace_header_bytes,)),
             ("samples", self.format.dtype(self.endian), (self.n_samples,))]
        )


def detect_endian(path: Path, head: bytes) -> str:
    """Byte order from the binary header's sample-format code, readable only one way."""
    if len(head) < TEXT_HEADER_BYTES + BINARY_HEADER_BYTES:
        raise SegyFormatError(
            f"{path}: not a SEG-Y file: {len(head)} bytes, shorter than the 3600-byte "
            "textual and binary file headers"
        )
    readings = {endian: struct.unpack_from(char + "h", head, _FORMAT_BYTE)[0]
                for endian, char in (("big", ">"), ("little", "<"))}
    for endian, code in readings.items():
        if code in SUPPORTED_CODES:
            return endian
    raise SegyFormatError(_unsupported_format(path, readings))


def _unsupported_format(path: Path, readings: dict[str, int]) -> str:
    """Why a format code was refused. A code SEG-Y defines reads as such in one byte order
    only (10 little-endian reads 2560 big-endian), so that reading is the one quoted."""
    for endian, code in readings.items():
        if code in _SEGY_FORMATS:
            return (f"{path}: unsupported sample format: the binary header's format code "
                    f"(bytes 3225-3226) reads {code} in {endian}-endian byte order "
                    f"({_SEGY_FORMATS[code]}); expected one of {SUPPORTED_CODES}")
    return (f"{path}: not a SEG-Y file, or an unsupported sample format: the binary "
            f"header's format code (bytes 3225-3226) reads {readings['big']} big-endian, "
            f"{readings['little']} little-endian; expected one of {SUPPORTED_CODES}")


class SegyFile:
    """An open SEG-Y file; use :func:`open_segy`.

    >>> with open_segy("shots.sgy") as segy:            # doctest: +SKIP
    ...     segy.layout.n_traces, segy.layout.sample_interval_ms
    (192000, 2.0)
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._head, facts, size = _read_file_headers(self.path)
        self.layout = _layout(self.path, self._head, facts, size)
        self._fd = os.open(self.path, os.O_RDONLY)

    # --- file headers -------------------------------------------------------------
    @property
    def file_header_bytes(self) -> bytes:
        """Textual, binary and extended textual headers: everything before trace 0."""
        return self._head[: self.layout.data_offset]

    @property
    def text_header_bytes(self) -> bytes:
        return self._head[:TEXT_HEADER_BYTES]

    def text_header(self) -> str:
        """The 3200-byte textual header as 40 lines of text (EBCDIC or ASCII)."""
        from seisproc.io.textheader import decode_text_header

        return decode_text_header(self.text_header_bytes)

    def binary_header(self) -> dict[str, int]:
        """Every integer field of the binary header, by segyio name where segyio has one
        (rev 2's fields too: ``MaxTraceHeaderExtensions``, ``FirstTraceOffset``, ...)."""
        return binary_header_fields(self._head, self.layout.endian)

    # --- traces -------------------------------------------------------------------
    def trace_header(self, position: int) -> dict[str, int]:
        """Every field of one trace's standard header (its first 240 bytes), by segyio
        name."""
        header = self.read_records(np.asarray([position]))["header"][0]
        return trace_header_values(header, self.layout.endian)

    def header_values(self, key: str | int | HeaderField) -> np.ndarray:
        """One header word for every trace, int64, in one vectorised pass.

        The file is mapped a chunk at a time so resident memory stays bounded on a
        many-gigabyte survey.
        """
        field = key if isinstance(key, HeaderField) else header_field(key)
        lay = self.layout
        column = np.dtype({
            "names": ["v"], "formats": [field.dtype(lay.endian)],
            "offsets": [field.byte - 1], "itemsize": lay.trace_bytes,
        })
        out = np.empty(lay.n_traces, dtype=np.int64)
        for first in range(0, lay.n_traces, _HEADER_CHUNK):
            count = min(_HEADER_CHUNK, lay.n_traces - first)
            view = np.memmap(self.path, dtype=column, mode="r", shape=(count,),
                             offset=lay.data_offset + first * lay.trace_bytes)
            out[first : first + count] = view["v"]
            del view
        return out

    def read(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Samples as float32 ``(n, n_samples)`` and raw headers ``(n, 240)`` uint8:
        ``(n, 240 * (1 + k))`` for a file with ``k`` trace-header extensions, the standard
        header first."""
        records = self.read_records(positions)
        return self.samples_of(records), records["header"]

    def samples_of(self, records: np.ndarray) -> np.ndarray:
        """The float32 samples ``(n, n_samples)`` of :meth:`read_records`' records."""
        return decode(records["samples"], self.layout.format)

    def read_records(self, positions: np.ndarray) -> np.ndarray:
        """Whole trace records as stored (:meth:`SegyLayout.record_dtype`), undecoded.

        Consecutive traces are read with one system call per run, so a gather of a file
        sorted by its key costs one read.
        """
        positions = np.asarray(positions, dtype=np.int64).reshape(-1)
        self._check_positions(positions)
        records = np.empty(len(positions), dtype=self.layout.record_dtype())
        buffer = memoryview(records.view(np.uint8).reshape(-1).data)
        size = self.layout.trace_bytes
        for start, stop in contiguous_runs(positions):
            offset = self.layout.data_offset + int(positions[start]) * size
            got = os.preadv(self._fd, [buffer[start * size : stop * size]], offset)
            if got != (stop - start) * size:
                raise SegyFormatError(f"{self.path}: short read at trace {positions[start]}: "
                                      "the file changed or was truncated while open")
        return records

    def read_samples(self, positions: np.ndarray) -> np.ndarray:
        return self.read(positions)[0]

    def offsets_m(self, headers: np.ndarray) -> np.ndarray:
        """Signed source-receiver offsets from raw headers (the ``offset`` word)."""
        return read_column(headers, header_field("offset"), self.layout.endian).astype(np.float64)

    def _check_positions(self, positions: np.ndarray) -> None:
        if positions.size and (positions.min() < 0 or positions.max() >= self.layout.n_traces):
            bad = int(positions[(positions < 0) | (positions >= self.layout.n_traces)][0])
            raise SegyFormatError(
                f"{self.path}: trace {bad} does not exist (the file has "
                f"{self.layout.n_traces} traces, numbered from 0)"
            )

    # --- life cycle ---------------------------------------------------------------
    def close(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> SegyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        lay = self.layout
        return (f"<SegyFile {self.path.name}: {lay.n_traces} traces x {lay.n_samples} samples, "
                f"dt {lay.sample_interval_ms} ms, {lay.format.name}, {lay.endian}-endian>")


def contiguous_runs(positions: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges of ``positions`` that are consecutive traces: one I/O call each."""
    if positions.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    edges = [0, *breaks.tolist(), len(positions)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def open_segy(path: str | os.PathLike[str]) -> SegyFile:
    """Open a SEG-Y file for reading, checking it is whole and self-consistent."""
    return SegyFile(path)


def _read_file_headers(path: Path) -> tuple[bytes, BinaryHeaderFacts, int]:
    """The file headers (everything before trace 0), what the binary header says, and the
    file's size."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(FILE_HEADER_BYTES)
            facts = binary_header_facts(head, detect_endian(path, head))

            def stanza(number: int) -> bytes:
                fh.seek(FILE_HEADER_BYTES + STANZA_BYTES * number)
                return fh.read(STANZA_BYTES)

            end = file_headers_size(facts, stanza)
            fh.seek(FILE_HEADER_BYTES)
            head += fh.read(end - FILE_HEADER_BYTES)
            return head, facts, os.fstat(fh.fileno()).st_size
    except FileNotFoundError:
        raise SegyFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SegyFormatError(f"{path}: is a folder, not a SEG-Y file") from None
    except PermissionError:
        raise SegyFormatError(f"{path}: permission denied") from None
    except FileHeaderError as exc:
        raise SegyFormatError(f"{path}: {exc}") from None


def _layout(path: Path, head: bytes, facts: BinaryHeaderFacts, size: int) -> SegyLayout:
    fmt = sample_format(facts.format_code)
    data_offset = len(head)
    if size <= data_offset:
        raise SegyFormatError(f"{path}: holds file headers but no traces")
    if facts.n_samples <= 0:
        where = "3221-3222 and 3269-3272" if facts.revision >= 2 else "3221-3222"
        raise SegyFormatError(
            f"{path}: the binary header gives 0 samples per trace (bytes {where})")
    probe = SegyLayout(facts.endian, fmt, facts.n_samples, 0.0, data_offset, 0,
                       facts.trace_header_extensions)
    n_traces, rest = divmod(size - data_offset, probe.trace_bytes)
    if rest or n_traces == 0:
        raise SegyFormatError(f"{path}: {_not_whole_traces(size - data_offset, probe)}")
    char = ">" if facts.endian == "big" else "<"
    (binary_us,) = struct.unpack_from(char + "h", head, _BINARY_INTERVAL_BYTE)
    with open(path, "rb") as fh:
        fh.seek(data_offset + _TRACE_INTERVAL_BYTE)
        (trace_us,) = struct.unpack(char + "h", fh.read(2))
    dt_us, warning = _decide_sample_interval(path, binary_us, trace_us)
    if warning:
        _warn_once(warning)
    return SegyLayout(facts.endian, fmt, facts.n_samples, dt_us / 1000.0, data_offset,
                      n_traces, facts.trace_header_extensions)


def _decide_sample_interval(path: Path, binary_us: int, trace_us: int) -> tuple[int, str]:
    """The sample interval in microseconds, and a warning when the headers disagree.

    Seismic Unix and ObsPy take each trace's own interval (trace header bytes 117-118)
    and ignore the binary header's (bytes 3217-3218): a resampled file whose binary
    header was left stale reads right. seisproc has one interval per file, so trace 0's
    is taken when it is usable (a positive signed 2-byte word, as both tools read it),
    else the binary header's. A 0 means "not set" and is passed over silently; any other
    disagreement is worth a warning naming both values. Neither usable is refused.
    """
    usable = [value for value in (trace_us, binary_us) if value > 0]
    if not usable:
        raise SegyFormatError(
            f"{path}: no usable sample interval: the binary header (bytes 3217-3218) reads "
            f"{binary_us} and trace 0's header (bytes 117-118) reads {trace_us}; an interval "
            "is a positive number of microseconds")
    chosen = usable[0]
    if 0 in (binary_us, trace_us) or binary_us == trace_us:
        return chosen, ""
    why = ("trace headers first, as Seismic Unix and ObsPy read them" if chosen == trace_us
           else "trace 0's is not a positive number")
    return chosen, (f"{path}: the sample intervals disagree: trace 0's header (bytes 117-118) "
                    f"reads {trace_us} µs, the binary header (bytes 3217-3218) {binary_us} µs; "
                    f"using {chosen} µs ({chosen / 1000:g} ms): {why}")


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


def _not_whole_traces(data_bytes: int, layout: SegyLayout) -> str:
    """Why the trace data is not whole traces; the length of one as the headers give it."""
    n, fmt, ext = layout.n_samples, layout.format, layout.trace_header_extensions
    each = f"{layout.trace_bytes} bytes each, {fmt.name}"
    if ext:
        each += (f", after a 240-byte trace header and {ext} trace-header extensions of 240 "
                 "bytes (bytes 3507-3510)")
    return (f"{data_bytes} bytes of trace data do not hold a whole number of traces of "
            f"{n} samples ({each}): the file is truncated or the sample count in the binary "
            "header (bytes 3221-3222) is wrong")
