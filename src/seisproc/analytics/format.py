"""Numbers as a person reads them: durations, byte counts, shares.

Shared by the report, the CLI tables and the GUI, so a figure reads the same everywhere.
"""

from __future__ import annotations

__all__ = ["human_bytes", "human_clock", "human_duration", "human_percent"]


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


def human_clock(seconds: float | None, missing: str = "-") -> str:
    """A stopwatch reading, ``"0:42"``, ``"12:05"``, ``"1:02:03"``, for table columns of
    elapsed times and ETAs that tick: the width only changes past an hour, where
    :func:`human_duration`'s units would make a column jump. ``missing`` when unknown;
    a negative time (clock skew) reads as zero.

    >>> human_clock(42.4), human_clock(3723), human_clock(None), human_clock(None, "")
    ('0:42', '1:02:03', '-', '')
    """
    if seconds is None:
        return missing
    minutes, secs = divmod(int(round(max(seconds, 0.0))), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


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
