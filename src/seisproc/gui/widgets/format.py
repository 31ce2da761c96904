"""Numbers as the monitor widgets print them: sizes like ``seisproc monitor`` does.

Sizes use binary multiples (1 GB = 1024**3 bytes) with the CLI's labels, so the GUI and
the terminal view of one machine show the same figures.

>>> format_bytes(9.8 * 1024**3)
'9.8 GB'
>>> format_bytes(None)
'-'
"""

from __future__ import annotations

__all__ = ["format_bytes", "short_id"]

_PREFIXES = ("", "K", "M", "G", "T", "P")


def format_bytes(n: float | None, unit: str = "B") -> str:
    """``n`` bytes with one decimal and a binary prefix; ``-`` when unknown."""
    if n is None:
        return "-"
    value, step = float(n), 0
    while abs(value) >= 1024 and step < len(_PREFIXES) - 1:
        value, step = value / 1024, step + 1
    return f"{value:.1f} {_PREFIXES[step]}{unit}" if step else f"{value:.0f} {unit}"


def short_id(identifier: str, length: int = 8) -> str:
    """The head of a long hex id (Ray node and actor ids are 56 and 32 characters)."""
    return identifier[:length] if identifier else "-"
