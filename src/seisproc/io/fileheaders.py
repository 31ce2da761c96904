"""Where a SEG-Y file's traces start and how long each is, from its file headers alone.

The binary header (bytes 3201-3600) gives the sample format and count and the number of
extended textual headers. SEG-Y rev 2 adds trace-header extensions (extra 240-byte
headers after each trace's standard one), a variable number of extended textual headers
(count -1) ended by a ``((SEG: EndText))`` stanza, and wider counts. The fields rev 2 added
are read only from a file whose major revision (bytes 3501-3502, in the file's byte order)
is 2 or more: rev 0 and rev 1 leave those bytes unassigned, and some tools put other things
there. One set of functions sizes a file being read and a header about to be written
(:func:`~seisproc.io.writer.check_file_header`), so an output is read back as it was meant.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "BinaryHeaderFacts",
    "FileHeaderError",
    "binary_header_facts",
    "binary_header_fields",
    "file_headers_size",
    "is_end_text",
    "STANZA_BYTES",
    "VARIABLE",
    "TEXT_HEADER_BYTES",
    "BINARY_HEADER_BYTES",
    "FILE_HEADER_BYTES",
]

TEXT_HEADER_BYTES = 3200
BINARY_HEADER_BYTES = 400
FILE_HEADER_BYTES = TEXT_HEADER_BYTES + BINARY_HEADER_BYTES
"""The textual and the binary header: where extended textual headers, or traces, begin."""
STANZA_BYTES = 3200
VARIABLE = -1
"""The extended textual header count of a variable number ended by an EndText stanza."""
_END_TEXT = re.compile(r"\s*\(\(\s*SEG\s*:\s*EndText\s*\)\)", re.IGNORECASE)

# (name, first byte, struct code, rev 2 only); segyio's names where segyio has the field.
_BINARY_FIELDS = (
    ("JobID", 3201, "i", False), ("LineNumber", 3205, "i", False),
    ("ReelNumber", 3209, "i", False), ("Traces", 3213, "h", False),
    ("AuxTraces", 3215, "h", False), ("Interval", 3217, "h", False),
    ("IntervalOriginal", 3219, "h", False), ("Samples", 3221, "H", False),
    ("SamplesOriginal", 3223, "H", False), ("Format", 3225, "h", False),
    ("EnsembleFold", 3227, "h", False), ("SortingCode", 3229, "h", False),
    ("VerticalSum", 3231, "h", False), ("SweepFrequencyStart", 3233, "h", False),
    ("SweepFrequencyEnd", 3235, "h", False), ("SweepLength", 3237, "h", False),
    ("Sweep", 3239, "h", False), ("SweepChannel", 3241, "h", False),
    ("SweepTaperStart", 3243, "h", False), ("SweepTaperEnd", 3245, "h", False),
    ("Taper", 3247, "h", False), ("CorrelatedTraces", 3249, "h", False),
    ("BinaryGainRecovery", 3251, "h", False), ("AmplitudeRecovery", 3253, "h", False),
    ("MeasurementSystem", 3255, "h", False), ("ImpulseSignalPolarity", 3257, "h", False),
    ("VibratoryPolarity", 3259, "h", False), ("ExtTraces", 3261, "i", True),
    ("ExtAuxTraces", 3265, "i", True), ("ExtSamples", 3269, "i", True),
    ("ExtSamplesOriginal", 3289, "i", True), ("ExtEnsembleFold", 3293, "i", True),
    ("ByteOrderConstant", 3297, "i", True), ("SEGYRevision", 3501, "B", False),
    ("SEGYRevisionMinor", 3502, "B", False), ("TraceFlag", 3503, "h", False),
    ("ExtendedHeaders", 3505, "h", False), ("MaxTraceHeaderExtensions", 3507, "i", True),
    ("TimeBasis", 3511, "h", True), ("TraceCount", 3513, "Q", True),
    ("FirstTraceOffset", 3521, "Q", True), ("TrailerStanzas", 3529, "i", True),
)


class FileHeaderError(ValueError):
    """File headers that do not say where the traces are; the message names the bytes
    and the values read, not the file (the caller knows which file it is)."""


@dataclass(frozen=True)
class BinaryHeaderFacts:
    """What a binary header says about the layout of the file it heads."""

    endian: str
    """``"big"`` or ``"little"``, as told from the format code."""
    format_code: int
    """Bytes 3225-3226."""
    n_samples: int
    """Samples per trace: bytes 3221-3222 (unsigned), or rev 2's 3269-3272 when set."""
    revision: int
    """The major revision: byte 3501 of a big-endian file (3502 of a little-endian one)."""
    extended_text: int
    """Bytes 3505-3506: extended textual headers after the binary header; -1 for a
    variable number ended by a ``((SEG: EndText))`` stanza."""
    trace_header_extensions: int
    """Rev 2's bytes 3507-3510: 240-byte headers after each trace's standard one."""
    first_trace_offset: int
    """Rev 2's bytes 3521-3528: where trace 0 starts, 0 when not given."""

    @property
    def trace_header_bytes(self) -> int:
        """Bytes of header before each trace's samples: 240 per header."""
        return 240 * (1 + self.trace_header_extensions)


def binary_header_facts(head: bytes, endian: str) -> BinaryHeaderFacts:
    """The layout facts of the binary header in ``head`` (the file's first 3600 bytes
    or more), read in ``endian`` byte order.

    Raises
    ------
    FileHeaderError
        For a trace-header extension count below 0.

    >>> facts = binary_header_facts(bytes(3224) + b"\\x00\\x05" + bytes(374), "big")
    >>> facts.format_code, facts.trace_header_extensions
    (5, 0)
    """
    fields = binary_header_fields(head, endian)
    rev2 = fields["SEGYRevision"] >= 2
    n_samples = fields["Samples"]
    if rev2 and fields["ExtSamples"] > 0:
        n_samples = fields["ExtSamples"]
    extensions = fields["MaxTraceHeaderExtensions"] if rev2 else 0
    if extensions < 0:
        raise FileHeaderError(
            f"the binary header's count of trace-header extensions (bytes 3507-3510, SEG-Y "
            f"rev 2) reads {extensions}; a count is 0 or more")
    return BinaryHeaderFacts(endian, fields["Format"], n_samples, fields["SEGYRevision"],
                             fields["ExtendedHeaders"], extensions,
                             fields["FirstTraceOffset"] if rev2 else 0)


def binary_header_fields(head: bytes, endian: str) -> dict[str, int]:
    """Every integer field of the binary header by name (segyio's names where segyio
    has the field); rev 2's fields read 0 in a file of an earlier revision, and the
    revision is read as :func:`_revision` says."""
    char = ">" if endian == "big" else "<"
    revision = _revision(head, endian)
    fields = {}
    for name, byte, code, rev2_only in _BINARY_FIELDS:
        if code == "B":
            value = revision[0] if name == "SEGYRevision" else revision[1]
        elif rev2_only and revision[0] < 2:
            value = 0
        else:
            (value,) = struct.unpack_from(char + code, head, byte - 1)
        fields[name] = int(value)
    return fields


def _revision(head: bytes, endian: str) -> tuple[int, int]:
    """(major, minor) from bytes 3501-3502. A big-endian file holds them in that order
    whether its writer saw two bytes (as rev 2 defines them) or one word (0x0100 for
    rev 1). A little-endian writer of a word puts the minor first (segyio reads it so), of
    two bytes the major first: of two revision-sized bytes, the larger is the major."""
    first, second = head[3500], head[3501]
    if endian == "big" or max(first, second) > 3:
        return (first, second) if endian == "big" else (second, first)
    return max(first, second), min(first, second)


def file_headers_size(facts: BinaryHeaderFacts, stanza: Callable[[int], bytes], *,
                      where: str = "the file ends") -> int:
    """Bytes from the start of the file to trace 0: 3600, and 3200 for each extended
    textual header. ``stanza(i)`` gives the ``i``-th 3200 bytes after the binary header
    (fewer where the bytes end): a count of -1 is resolved by reading stanzas up to and
    including the one that begins ``((SEG: EndText))``. ``where`` says what ends the
    bytes ``stanza`` reads, for the message.

    Raises
    ------
    FileHeaderError
        When no EndText stanza ends a variable count, and when a rev 2 first-trace
        offset disagrees with the headers' size.
    """
    count = facts.extended_text
    if count == VARIABLE:
        size = FILE_HEADER_BYTES + STANZA_BYTES * _stanzas_to_end_text(stanza, where)
    else:  # another negative count is read as none, as before rev 2
        size = FILE_HEADER_BYTES + STANZA_BYTES * max(count, 0)
    offset = facts.first_trace_offset
    if offset and offset != size:
        raise FileHeaderError(
            f"the binary header gives trace 0's byte offset (bytes 3521-3528, SEG-Y rev 2) "
            f"as {offset}, but its file headers end at byte {size} (3600 bytes and "
            f"{(size - FILE_HEADER_BYTES) // STANZA_BYTES} extended textual headers of 3200); "
            "seisproc reads files where the two agree")
    return size


def _stanzas_to_end_text(stanza: Callable[[int], bytes], where: str) -> int:
    """How many stanzas, the EndText one included, follow the binary header."""
    count = 0
    while True:
        record = stanza(count)
        if len(record) < STANZA_BYTES or not _is_text(record):
            at = FILE_HEADER_BYTES + STANZA_BYTES * count
            why = where if len(record) < STANZA_BYTES else "the next 3200 bytes are not text"
            raise FileHeaderError(
                "the binary header gives a variable number of extended textual headers (-1 "
                "at bytes 3505-3506), which must end with a stanza that begins "
                f"((SEG: EndText)); none is among the {count} stanzas before byte {at}, "
                f"where {why}")
        count += 1
        if is_end_text(record):
            return count


def is_end_text(record: bytes) -> bool:
    """True for a stanza that begins ``((SEG: EndText))``, in ASCII or EBCDIC, after
    blanks, in any letter case."""
    return any(_END_TEXT.match(record[:80].decode(encoding))
               for encoding in ("latin-1", "cp037"))


_ASCII_TEXT = bytes([9, 10, 13, *range(32, 127), *range(160, 256)])
_EBCDIC_TEXT = bytes(b for b in range(256)
                     if b in (0x05, 0x0D, 0x15, 0x25) or bytes([b]).decode("cp037").isprintable())


def _is_text(record: bytes) -> bool:
    """Whether 3200 bytes read as a text stanza (90 % printable, ASCII or EBCDIC): what
    tells extended textual headers from the traces after them, so that a file whose
    EndText stanza is missing is refused at its first trace, not read to its end. Zero
    bytes do not count as text: trace headers and quiet samples are mostly zeros, and the
    standard pads stanzas with blanks."""
    limit = len(record) // 10
    return (len(record.translate(None, _ASCII_TEXT)) <= limit
            or len(record.translate(None, _EBCDIC_TEXT)) <= limit)
