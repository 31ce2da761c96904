"""Numbers as a person reads them: durations, byte counts, shares.

Shared by the report, the CLI tables and the GUI, so a figure reads the same everywhere.
"""

from __future__ import annotations

__all__ = ["human_bytes", "human_duration", "human_percent"]


def human_duration(seconds: float | None) -> str:
    """``"-"``, ``"850 ms"``, ``"42.0 s"``, ``"3 min 05 s"``, ``"2 h 07 min"``, ``"3 d 4 h"``.

    >>> human_duration(0.85), human_duration(185), human_duration(7_620)
    ('850 ms', '3 min 05 s', '2 h 07 min')
    """
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def human_bytes(count: float) -> str:
    """Decimal units, as disks are sold and MB/s are quoted: ``"1.5 GB"``.

    >>> human_bytes(999), human_bytes(1_580_000_000)
    ('999 B', '1.6 GB')
    """
    value = float(count)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} PB"


def human_percent(share: float | None) -> str:
    """A 0-1 share as ``"86.4 %"``; ``"-"`` when there is nothing to divide.

    >>> human_percent(0.8642), human_percent(None)
    ('86.4 %', '-')
    """
    return "-" if share is None else f"{100 * share:.1f} %"
