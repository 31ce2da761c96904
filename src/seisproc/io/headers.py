"""Trace-header fields by name: segyio's names, Seismic Unix names and friendly aliases.

Byte positions come from segyio's ``TraceField`` table (each value is the field's first
byte, 1-based); a field's width is the gap to the next field, which reproduces the 2- and
4-byte words of the SEG-Y standard. Header words are read and written as whole columns
with numpy, never trace by trace.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import segyio
import segyio.su.words as su_words

from seisproc.errors import HeaderKeyError

__all__ = ["HeaderField", "header_field", "known_header_keys", "ALIASES", "TRACE_HEADER_BYTES",
           "trace_header_values"]

TRACE_HEADER_BYTES = 240

ALIASES: dict[str, str] = {
    "ffid": "FieldRecord",
    "shot": "FieldRecord",
    "fieldrecord": "FieldRecord",
    "channel": "TraceNumber",
    "cmp": "CDP",
    "inline": "INLINE_3D",
    "iline": "INLINE_3D",
    "crossline": "CROSSLINE_3D",
    "xline": "CROSSLINE_3D",
    "source_x": "SourceX",
    "source_y": "SourceY",
    "receiver_x": "GroupX",
    "receiver_y": "GroupY",
}


@dataclass(frozen=True)
class HeaderField:
    """One trace-header word."""

    name: str
    """segyio's name for it, e.g. ``FieldRecord``."""
    byte: int
    """First byte, 1-based, as the SEG-Y standard numbers them."""
    size: int
    """Width in bytes: 2 or 4 (signed integers)."""

    def dtype(self, endian: str) -> np.dtype:
        return np.dtype(f"{'>' if endian == 'big' else '<'}i{self.size}")


def _segyio_fields() -> dict[str, HeaderField]:
    members = sorted(
        ((name, int(value)) for name, value in vars(segyio.TraceField).items()
         if not name.startswith("_") and isinstance(value, int)),
        key=lambda item: item[1],
    )
    fields = {}
    for i, (name, byte) in enumerate(members):
        end = members[i + 1][1] if i + 1 < len(members) else TRACE_HEADER_BYTES + 1
        fields[name] = HeaderField(name, byte, end - byte)
    return fields


_FIELDS = _segyio_fields()
_BY_BYTE = {f.byte: f for f in _FIELDS.values()}
_LOOKUP: dict[str, HeaderField] = {name.lower(): f for name, f in _FIELDS.items()}
_LOOKUP.update(
    {name.lower(): _BY_BYTE[int(value)] for name, value in vars(su_words).items()
     if not name.startswith("_") and isinstance(value, int) and int(value) in _BY_BYTE}
)
_LOOKUP.update({alias: _FIELDS[name] for alias, name in ALIASES.items()})


def known_header_keys() -> list[str]:
    """Every name :func:`header_field` accepts, lower-case, sorted."""
    return sorted(_LOOKUP)


def header_field(key: str | int) -> HeaderField:
    """The header word a user means by ``key``.

    Accepts segyio names (``FieldRecord``), Seismic Unix names (``fldr``, ``cdp``,
    ``offset``), aliases (``ffid``, ``channel``, ``cmp``), case-insensitively, or a byte
    position (``189``) of a known field.

    >>> header_field("ffid")
    HeaderField(name='FieldRecord', byte=9, size=4)
    """
    if isinstance(key, int) or (isinstance(key, str) and key.strip().isdigit()):
        byte = int(key)
        if byte in _BY_BYTE:
            return _BY_BYTE[byte]
        raise HeaderKeyError(f"no trace-header field starts at byte {byte}")
    found = _LOOKUP.get(key.strip().lower())
    if found is None:
        close = difflib.get_close_matches(key.lower(), _LOOKUP, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        common = "ffid, channel, cdp, offset, inline, crossline, sx, gx, tracf"
        raise HeaderKeyError(
            f"unknown trace-header key {key!r}.{hint} Common keys: {common}; "
            "any segyio TraceField or Seismic Unix name works too"
        )
    return found


def read_column(headers: np.ndarray, field: HeaderField, endian: str) -> np.ndarray:
    """One header word from raw headers, shape ``(n, 240)`` uint8, as int64 values."""
    cols = np.ascontiguousarray(headers[:, field.byte - 1 : field.byte - 1 + field.size])
    return cols.view(field.dtype(endian)).reshape(-1).astype(np.int64)


def trace_header_values(header: np.ndarray, endian: str) -> dict[str, int]:
    """Every field of one standard 240-byte trace header by segyio name, as segyio's
    ``f.header[i]`` gives them (bytes 233-240, unassigned before rev 2 and a header name
    in rev 2, are left out)."""
    raw = np.asarray(header, dtype=np.uint8)[:TRACE_HEADER_BYTES].reshape(1, -1)
    return {name: int(read_column(raw, field, endian)[0]) for name, field in _FIELDS.items()
            if not name.startswith("Unassigned")}


def write_column(headers: np.ndarray, field: HeaderField, values: np.ndarray, endian: str) -> None:
    """Set one header word in raw headers ``(n, 240)`` uint8 for every trace at once."""
    encoded = np.asarray(values).astype(field.dtype(endian)).reshape(-1, 1).view(np.uint8)
    headers[:, field.byte - 1 : field.byte - 1 + field.size] = encoded
