"""The 3200-byte textual file header: decoding, and stamping seisproc's provenance.

The header is 40 card images of 80 bytes, in EBCDIC by the standard and in ASCII in many
modern files. Cards are fixed slices of the 3200 bytes, not lines: a line feed byte
(0x0A, or EBCDIC 0x25) inside a card is just a byte of that card. seisproc writes the flow
that made an output on cards C31-C38, in the header's own encoding, and keeps every other
byte as it came (C39-C40 hold the revision and end markers of SEG-Y rev 1 and 2; other
tools' Latin-1 letters and tabs stay as they are).
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
_BYTES = LINES * WIDTH
PROVENANCE_LINES = range(31, 39)
_EBCDIC = "cp037"
# What an ASCII header is decoded as for display: every byte is a character, so a
# Latin-1 letter another tool wrote shows as itself, not as "?".
_ASCII_DISPLAY = "latin-1"


def is_ebcdic(raw: bytes) -> bool:
    """True when the header reads as EBCDIC: card images start with 'C' (0xC3)."""
    if raw[:1] == b"\xc3":
        return True
    if raw[:1] == b"C":
        return False
    printable_ascii = sum(32 <= b < 127 for b in raw)
    return printable_ascii < len(raw) * 0.75


def _cards(raw: bytes) -> list[bytes]:
    """The 40 card images, 80 bytes each, as stored."""
    if len(raw) != _BYTES:
        raise ValueError(f"a textual header is {_BYTES} bytes; got {len(raw)}")
    return [raw[i : i + WIDTH] for i in range(0, _BYTES, WIDTH)]


def _printable(text: str) -> str:
    """Control characters (a line feed, a tab, EBCDIC's NEL) shown as spaces, so that one
    card is one line on a terminal."""
    return "".join(c if c.isprintable() else " " for c in text)


def decode_text_header(raw: bytes) -> str:
    """The 40 cards as 40 lines of text, whatever the encoding: for reading, not for
    writing back (control characters show as spaces, trailing blanks are dropped).

    >>> decode_text_header(make_text_header(["LINE 7"])).split("\\n")[:2]
    ['C 1 LINE 7', 'C 2']
    """
    encoding = _EBCDIC if is_ebcdic(raw) else _ASCII_DISPLAY
    return "\n".join(_printable(card.decode(encoding)).rstrip() for card in _cards(raw))


def _encode_card(card: str, ebcdic: bool) -> bytes:
    """One card of text as 80 bytes in the header's encoding (both are one byte per
    character, "?" for what the encoding cannot hold)."""
    text = _printable(card)[:WIDTH].ljust(WIDTH)
    return text.encode(_EBCDIC if ebcdic else "ascii", errors="replace")


def make_text_header(lines: list[str], *, ebcdic: bool = True) -> bytes:
    """A fresh textual header: ``lines`` on C1.. onwards, C39/C40 as rev 1 asks."""
    cards = [f"C{n:2d} " for n in range(1, LINES + 1)]
    for n, line in enumerate(lines[:38], start=1):
        cards[n - 1] += line
    cards[38] += "SEG Y REV1"
    cards[39] += "END TEXTUAL HEADER"
    return b"".join(_encode_card(card, ebcdic) for card in cards)


def stamp_provenance(raw: bytes, summary: list[str]) -> bytes:
    """Copy of the header ``raw`` with ``summary`` written on cards C31-C38, in ``raw``'s
    encoding; every byte of the other cards is kept.

    Lines longer than a card are wrapped; what does not fit in eight cards is cut and the
    last card says so. The result is always 3200 bytes.

    >>> header = stamp_provenance(make_text_header([]), ["SEISPROC 1.0"])
    >>> len(header), decode_text_header(header).split("\\n")[30]
    (3200, 'C31 SEISPROC 1.0')
    """
    ebcdic = is_ebcdic(raw)
    cards = _cards(raw)
    wrapped: list[str] = []
    for line in summary:
        wrapped.extend(textwrap.wrap(line, WIDTH - 4, subsequent_indent="  ") or [""])
    if len(wrapped) > len(PROVENANCE_LINES):
        wrapped = wrapped[: len(PROVENANCE_LINES) - 1] + ["(flow continues; see the job history)"]
    for i, n in enumerate(PROVENANCE_LINES):
        text = f"C{n:2d} " + (wrapped[i] if i < len(wrapped) else "")
        cards[n - 1] = _encode_card(text, ebcdic)
    return b"".join(cards)
