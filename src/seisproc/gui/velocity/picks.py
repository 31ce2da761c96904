"""The picks being made in the velocity panel: RMS velocity against time, per location.

Plain Python, no Qt: the panel edits a :class:`PickSet` and draws what it holds. Times
within a location are kept strictly increasing, as the velocity table requires, so a
pick dragged past its neighbour swaps places with it instead of making a table that
would be refused.
"""

from __future__ import annotations

import numpy as np

from seisproc.processing.imaging import VelocityTable, dix_interval_velocities

__all__ = ["PickSet"]


class PickSet:
    """RMS velocity picks ``(time_ms, vrms_m_s)`` of each location (CDP).

    >>> picks = PickSet()
    >>> picks.add(100, 800.0, 2200.0), picks.add(100, 400.0, 1800.0)
    (0, 0)
    >>> picks.times(100), picks.velocities(100)
    (array([400., 800.]), array([1800., 2200.]))
    """

    def __init__(self) -> None:
        self._picks: dict[int, list[tuple[float, float]]] = {}

    @classmethod
    def from_table(cls, table: VelocityTable) -> PickSet:
        picks = cls()
        for cdp in table.locations:
            times, speeds = table.function(int(cdp))
            picks._picks[int(cdp)] = list(zip(times.tolist(), speeds.tolist(), strict=True))
        return picks

    def locations(self) -> list[int]:
        return sorted(cdp for cdp, picks in self._picks.items() if picks)

    def times(self, cdp: int) -> np.ndarray:
        return np.array([t for t, _ in self._picks.get(cdp, [])], dtype=np.float64)

    def velocities(self, cdp: int) -> np.ndarray:
        return np.array([v for _, v in self._picks.get(cdp, [])], dtype=np.float64)

    def interval_velocities(self, cdp: int) -> np.ndarray:
        """Dix interval velocity of the layer above each pick (NaN: no real layer gives
        these RMS velocities)."""
        times = self.times(cdp)
        return dix_interval_velocities(times, self.velocities(cdp)) if times.size else times

    def add(self, cdp: int, time_ms: float, vrms_m_s: float) -> int:
        """Add a pick; returns its place in time order. A pick at a time already picked
        replaces it."""
        picks = [p for p in self._picks.get(cdp, []) if p[0] != time_ms]
        picks.append((float(time_ms), float(vrms_m_s)))
        picks.sort()
        self._picks[cdp] = picks
        return picks.index((float(time_ms), float(vrms_m_s)))

    def move(self, cdp: int, which: int, time_ms: float, vrms_m_s: float) -> int:
        """Move pick ``which`` (time order); returns its new place."""
        self.remove(cdp, which)
        return self.add(cdp, time_ms, vrms_m_s)

    def remove(self, cdp: int, which: int) -> None:
        del self._picks[cdp][which]

    def table(self, source: str = "velocity picks") -> VelocityTable:
        """Every location's picks as one velocity table (refused if there are none)."""
        rows = [(cdp, t, v) for cdp in self.locations() for t, v in self._picks[cdp]]
        cdps, times, speeds = zip(*rows, strict=True) if rows else ((), (), ())
        return VelocityTable.from_picks(cdps, times, speeds, source=source)
