"""Small SEG-Y files built byte by byte, for headers no SEG-Y writer would produce (a line
feed inside a card, Latin-1 letters, disagreeing sample intervals, odd format codes).

Every field is packed where SEG-Y rev 1 puts it, with :mod:`struct`, so a test states the
exact bytes it feeds seisproc; nothing here goes through seisproc or segyio.
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
SAMPLE_TYPES = {1: "u4", 2: "i4", 3: "i2", 4: "u4", 5: "f4", 6: "f8", 8: "i1", 10: "u4",
                16: "u1"}


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


def binary_header(*, endian: str = "big", format_code: int = 5, interval_us: int = INTERVAL_US,
                  n_samples: int = N_SAMPLES, extended: int = 0) -> bytes:
    """400 bytes: traces per ensemble, interval (3217), samples (3221), format (3225),
    revision 1 (3501), fixed length (3503), extended textual header count (3505)."""
    c = ">" if endian == "big" else "<"
    out = bytearray(400)
    for byte, fmt, value in ((3213, "h", N_TRACES), (3217, "h", interval_us),
                             (3219, "h", interval_us), (3221, "H", n_samples),
                             (3223, "H", n_samples), (3225, "h", format_code),
                             (3501, "H", 0x0100), (3503, "h", 1), (3505, "h", extended)):
        struct.pack_into(c + fmt, out, byte - 3201, value)
    return bytes(out)


def trace_records(*, endian: str = "big", format_code: int = 5, interval_us: int = INTERVAL_US,
                  n_samples: int = N_SAMPLES, n_traces: int = N_TRACES) -> bytes:
    """``n_traces`` traces: a 240-byte header (sequence, ffid 1 for the first half and 2
    for the rest, channel, samples at 115, interval at 117) and samples ``trace + k/8``
    (k = 0..n_samples-1), exact in every float format."""
    c = ">" if endian == "big" else "<"
    out = bytearray()
    for trace in range(n_traces):
        header = bytearray(240)
        for byte, fmt, value in ((1, "i", trace + 1), (5, "i", trace + 1),
                                 (9, "i", 1 + 2 * trace // n_traces), (13, "i", trace + 1),
                                 (115, "H", n_samples), (117, "h", interval_us)):
            struct.pack_into(c + fmt, header, byte - 1, value)
        samples = trace + np.arange(n_samples) / 8.0
        out += header + samples.astype(c + SAMPLE_TYPES.get(format_code, "u4")).tobytes()
    return bytes(out)


def segy_file(text: bytes | None = None, *, endian: str = "big", format_code: int = 5,
              binary_interval_us: int = INTERVAL_US, trace_interval_us: int = INTERVAL_US
              ) -> bytes:
    """A whole file: ``text`` (3200 bytes, :func:`ascii_cards` by default), the binary
    header and :data:`N_TRACES` traces."""
    text = ascii_cards() if text is None else text
    assert len(text) == 3200
    return (text + binary_header(endian=endian, format_code=format_code,
                                 interval_us=binary_interval_us)
            + trace_records(endian=endian, format_code=format_code,
                            interval_us=trace_interval_us))
