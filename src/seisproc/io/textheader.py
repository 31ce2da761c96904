"""The 3200-byte textual file header: decoding, and stamping seisproc's provenance.

The header is 40 card images of 80 characters, in EBCDIC by the standard and in ASCII in
many modern files; it is written back in the encoding it came in. seisproc writes the flow
that made an output on lines C31-C38 and keeps C39-C40, which SEG-Y rev 1 and 2 reserve
for the revision and end markers.
"""

from __future__ import annotations

import textwrap

__all__ = [
    "decode_text_header",
    "is_ebcdic",
    "stamp_provenance",
    "PROVENANCE_LINES",
    "make_text_header",
]

LINES = 40
WIDTH = 80
PROVENANCE_LINES = range(31, 39)
_EBCDIC = "cp037"


def is_ebcdic(raw: bytes) -> bool:
    """True when the header reads as EBCDIC: card images start with 'C' (0xC3)."""
    if raw[:1] == b"\xc3":
        return True
    if raw[:1] == b"C":
        return False
    printable_ascii = sum(32 <= b < 127 for b in raw)
    return printable_ascii < len(raw) * 0.75


def decode_text_header(raw: bytes) -> str:
    """40 lines of text, one per card image, whatever the encoding."""
    text = raw.decode(_EBCDIC if is_ebcdic(raw) else "ascii", errors="replace")
    cards = [text[i : i + WIDTH].rstrip() for i in range(0, LINES * WIDTH, WIDTH)]
    return "\n".join(cards)


def _encode(cards: list[str], ebcdic: bool) -> bytes:
    text = "".join(card[:WIDTH].ljust(WIDTH) for card in cards)
    return text.encode(_EBCDIC if ebcdic else "ascii", errors="replace")


def make_text_header(lines: list[str], *, ebcdic: bool = True) -> bytes:
    """A fresh textual header: ``lines`` on C1.. onwards, C39/C40 as rev 1 asks."""
    cards = [f"C{n:2d} " for n in range(1, LINES + 1)]
    for n, line in enumerate(lines[:38], start=1):
        cards[n - 1] += line
    cards[38] += "SEG Y REV1"
    cards[39] += "END TEXTUAL HEADER"
    return _encode(cards, ebcdic)


def stamp_provenance(raw: bytes, summary: list[str]) -> bytes:
    """Copy of the header ``raw`` with ``summary`` written on lines C31-C38.

    Lines longer than a card are wrapped; what does not fit in eight cards is cut and the
    last card says so.
    """
    ebcdic = is_ebcdic(raw)
    cards = decode_text_header(raw).split("\n")
    wrapped: list[str] = []
    for line in summary:
        wrapped.extend(textwrap.wrap(line, WIDTH - 4, subsequent_indent="  ") or [""])
    if len(wrapped) > len(PROVENANCE_LINES):
        wrapped = wrapped[: len(PROVENANCE_LINES) - 1] + ["(flow continues; see the job history)"]
    for i, n in enumerate(PROVENANCE_LINES):
        cards[n - 1] = f"C{n:2d} " + (wrapped[i] if i < len(wrapped) else "")
    return _encode(cards, ebcdic)
