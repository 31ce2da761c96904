"""Small SEG-Y files built byte by byte, for headers no SEG-Y writer would produce (a line
feed inside a card, Latin-1 letters, disagreeing sample intervals, odd format codes) and
for SEG-Y rev 2 files segyio cannot write (trace-header extensions, a variable number of
extended textual headers, the integer sample formats of rev 2).

Every field is packed where SEG-Y rev 1 (and rev 2.1, for its additions) puts it, with
:mod:`struct`, so a test states the exact bytes it feeds seisproc; nothing here goes
through seisproc or segyio.
"""

from __future__ import annotations

import struct

import numpy as np

CARD = 80
N_TRACES = 6
N_SAMPLES = 10
INTERVAL_US = 2000
# numpy type of one sample by format code; the bytes of the codes seisproc does not read
# (4, 10, 16, and 4 bytes for codes SEG-Y does not define) are never decoded.
SAMPLE_TYPES = {1: "u4", 2: "i4", 3: "i2", 4: "u4", 5: "f4", 6: "f8", 8: "i1", 9: "i8",
                10: "u4", 11: "u2", 12: "u8", 16: "u1"}
STRUCT_CODES = {2: "i", 3: "h", 5: "f", 6: "d", 8: "b", 9: "q", 10: "I", 11: "H", 12: "Q",
                16: "B"}
"""struct's code for one sample of each format but IBM and the 3-byte ones (7, 15)."""
REV_1 = 0x0100
REV_2_1 = 0x0201


def ascii_cards(**cards: bytes) -> bytes:
    """An ASCII textual header: card ``n`` is ``b"C n "`` and blanks, or ``cards["c<n>"]``
    (padded to 80 bytes) where given."""
    out = bytearray()
    for n in range(1, 41):
        card = cards.get(f"c{n}", f"C{n:2d} CARD {n} WRITTEN BY ANOTHER TOOL".encode("ascii"))
        assert len(card) <= CARD
        out += card.ljust(CARD, b" ")
    return bytes(out)


def ebcdic_cards(**cards: bytes) -> bytes:
    """An EBCDIC (cp037) textual header; ``cards`` as for :func:`ascii_cards`, already in
    EBCDIC."""
    out = bytearray()
    for n in range(1, 41):
        card = cards.get(f"c{n}", f"C{n:2d} CARD {n} WRITTEN BY ANOTHER TOOL".encode("cp037"))
        assert len(card) <= CARD
        out += card.ljust(CARD, b"\x40")  # EBCDIC blank
    return bytes(out)


def ascii_stanza(*lines: str) -> bytes:
    """One 3200-byte extended textual header: 40 lines of 80 ASCII characters."""
    return b"".join(line.encode("ascii").ljust(CARD) for line in lines).ljust(3200, b" ")


def binary_header(*, endian: str = "big", format_code: int = 5, interval_us: int = INTERVAL_US,
                  n_samples: int = N_SAMPLES, extended: int = 0, revision: int = REV_1,
                  extensions: int = 0, first_trace_offset: int = 0) -> bytes:
    """400 bytes: traces per ensemble, interval (3217), samples (3221), format (3225),
    revision (3501-3502 as one word, 0x0100 for rev 1), fixed length (3503), extended
    textual header count (3505), and rev 2's trace-header extensions (3507-3510, 4 bytes)
    and first-trace offset (3521-3528)."""
    c = ">" if endian == "big" else "<"
    out = bytearray(400)
    for byte, fmt, value in ((3213, "h", N_TRACES), (3217, "h", interval_us),
                             (3219, "h", interval_us), (3221, "H", n_samples),
                             (3223, "H", n_samples), (3225, "h", format_code),
                             (3501, "H", revision), (3503, "h", 1), (3505, "h", extended),
                             (3507, "i", extensions), (3521, "Q", first_trace_offset)):
        struct.pack_into(c + fmt, out, byte - 3201, value)
    return bytes(out)


def extension_bytes(trace: int, extensions: int, endian: str = "big") -> bytes:
    """A trace's ``extensions`` 240-byte trace-header extensions: extension 1 gives their
    number at bytes 157-158 and its name ``SEG00001`` at 233-240, as rev 2 lays it out;
    every other byte is a pattern of the trace and the byte's place, so that a test sees
    any byte moved, lost or zeroed."""
    out = bytearray((trace * 31 + i * 7 + 1) % 251 for i in range(240 * extensions))
    if extensions:
        struct.pack_into((">" if endian == "big" else "<") + "H", out, 156, extensions)
        out[232:240] = b"SEG00001"
    return bytes(out)


def pack_samples(values: np.ndarray, format_code: int, endian: str) -> bytes:
    """``values`` (integers, or floats for formats 5 and 6) packed one by one with
    :mod:`struct`, or ``int.to_bytes`` for the 3-byte formats (7 signed, 15 unsigned)."""
    c = ">" if endian == "big" else "<"
    if format_code in (7, 15):
        return b"".join(int(v).to_bytes(3, endian, signed=format_code == 7) for v in values)
    code = STRUCT_CODES[format_code]
    return b"".join(struct.pack(c + code, v if code in "fd" else int(v)) for v in values)


def trace_records(*, endian: str = "big", format_code: int = 5, interval_us: int = INTERVAL_US,
                  n_samples: int = N_SAMPLES, n_traces: int = N_TRACES, extensions: int = 0,
                  samples: np.ndarray | None = None) -> bytes:
    """``n_traces`` traces: a 240-byte header (sequence, ffid 1 for the first half and 2
    for the rest, channel, samples at 115, interval at 117), ``extensions`` 240-byte
    trace-header extensions (:func:`extension_bytes`), and samples: ``samples[trace]``
    packed by :func:`pack_samples` where given, else ``trace + k/8`` (k = 0..n_samples-1),
    exact in every float format."""
    c = ">" if endian == "big" else "<"
    out = bytearray()
    for trace in range(n_traces):
        header = bytearray(240)
        for byte, fmt, value in ((1, "i", trace + 1), (5, "i", trace + 1),
                                 (9, "i", 1 + 2 * trace // n_traces), (13, "i", trace + 1),
                                 (115, "H", n_samples), (117, "h", interval_us)):
            struct.pack_into(c + fmt, header, byte - 1, value)
        out += header + extension_bytes(trace, extensions, endian)
        if samples is not None:
            out += pack_samples(samples[trace], format_code, endian)
        else:
            ramp = trace + np.arange(n_samples) / 8.0
            out += ramp.astype(c + SAMPLE_TYPES.get(format_code, "u4")).tobytes()
    return bytes(out)


def segy_file(text: bytes | None = None, *, endian: str = "big", format_code: int = 5,
              binary_interval_us: int = INTERVAL_US, trace_interval_us: int = INTERVAL_US,
              revision: int = REV_1, extensions: int = 0, stanzas: tuple[bytes, ...] = (),
              extended: int | None = None, samples: np.ndarray | None = None,
              first_trace_offset: int = 0) -> bytes:
    """A whole file: ``text`` (3200 bytes, :func:`ascii_cards` by default), the binary
    header, the extended textual headers ``stanzas`` (their count, or ``extended``, at
    bytes 3505-3506) and :data:`N_TRACES` traces with ``extensions`` trace-header
    extensions each and ``samples`` (see :func:`trace_records`)."""
    text = ascii_cards() if text is None else text
    assert len(text) == 3200 and all(len(stanza) == 3200 for stanza in stanzas)
    n_samples = N_SAMPLES if samples is None else samples.shape[1]
    binary = binary_header(endian=endian, format_code=format_code, n_samples=n_samples,
                           interval_us=binary_interval_us, revision=revision,
                           extensions=extensions, first_trace_offset=first_trace_offset,
                           extended=len(stanzas) if extended is None else extended)
    return (text + binary + b"".join(stanzas)
            + trace_records(endian=endian, format_code=format_code, n_samples=n_samples,
                            interval_us=trace_interval_us, extensions=extensions,
                            samples=samples))
