"""Velocity analysis: semblance panels of super-gathers at chosen CDPs, and their picks.

``seisproc velan`` and the desktop app's velocity panel both read a location the same
way: the CDP's traces and those of its neighbours (``super_cdps`` CDPs in all, the
nearest CDP numbers the survey has), read through the CDP gather index, so a shot-sorted
file needs no sort. :func:`analyse_locations` is the work of one cluster task; the
results travel back as :class:`VelanLocation` and are kept as :class:`VelanResult`, a
``.npz`` file the panel opens, or as the picked velocity table (CSV).
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seisproc.errors import OutputError, ParameterError, SeisprocError
from seisproc.io.index import GatherIndex, gather_index
from seisproc.io.segy import SegyFile, open_segy
from seisproc.jobs.units import gather_context
from seisproc.processing.base import GatherContext
from seisproc.processing.imaging import (
    VelocityTable,
    pick_velocity_function,
    semblance_panel,
    write_velocity_table,
)
from seisproc.processing.imaging.semblance import velocity_scan

__all__ = [
    "VelanRequest",
    "VelanLocation",
    "VelanResult",
    "parse_cdps",
    "check_velan",
    "analyse_locations",
    "cdp_index",
    "read_cmp",
    "super_gather_cdps",
    "save_velocity_table",
    "write_atomically",
    "PANELS_FORMAT",
]

PANELS_FORMAT = "seisproc-velan-1"
"""Written in every panels file, so the panel refuses a ``.npz`` of anything else."""


@dataclass(frozen=True)
class VelanRequest:
    """What to analyse and how: the scan, the window and the super-gather size."""

    input: Path
    vmin_m_s: float
    vmax_m_s: float
    vstep_m_s: float = 20.0
    window_ms: float = 40.0
    super_cdps: int = 5
    """CDPs in a super-gather: the location and its nearest neighbours (odd)."""
    stretch_mute_percent: float | None = 50.0
    """Samples stretched more than this are left out of the semblance, as NMO would."""
    auto: bool = False
    """Pick a monotone velocity function at each location (on the worker)."""

    @property
    def velocities_m_s(self) -> np.ndarray:
        return velocity_scan(self.vmin_m_s, self.vmax_m_s, self.vstep_m_s)


@dataclass(frozen=True, eq=False)
class VelanLocation:
    """The semblance of one location and, when asked for, its picks."""

    cdp: int
    cdps: np.ndarray
    """The CDPs of the super-gather, ascending."""
    traces: int
    """Traces in the super-gather."""
    semblance: np.ndarray
    """float32 ``(n_times, n_velocities)``, 0 to 1."""
    times_ms: np.ndarray
    """Zero-offset time of each row of the panel, ms."""
    pick_times_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pick_velocities_m_s: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True, eq=False)
class VelanResult:
    """Every location's panel, on one time and velocity axis."""

    request: VelanRequest
    times_ms: np.ndarray
    velocities_m_s: np.ndarray
    locations: list[VelanLocation]

    def velocity_table(self, source: str = "velocity table") -> VelocityTable:
        """The picks of every location as one table; refused if no location has any."""
        picked = [loc for loc in self.locations if loc.pick_times_ms.size]
        if not picked:
            raise SeisprocError(
                f"{self.request.input}: no location has a semblance peak to pick (is the "
                "velocity range right for this line?)"
            )
        return VelocityTable.from_picks(
            np.concatenate([np.full(loc.pick_times_ms.size, loc.cdp) for loc in picked]),
            np.concatenate([loc.pick_times_ms for loc in picked]),
            np.concatenate([loc.pick_velocities_m_s for loc in picked]),
            source=source,
        )

    def save(self, path: Path, *, overwrite: bool = False) -> Path:
        """Write the panels as ``.npz`` (atomically) for the desktop app's panel."""
        r = self.request
        arrays: dict[str, Any] = {
            "format": np.array(PANELS_FORMAT),
            "input": np.array(str(r.input)),
            "scan_m_s": np.array([r.vmin_m_s, r.vmax_m_s, r.vstep_m_s]),
            "window_ms": np.array(r.window_ms),
            "super_cdps": np.array(r.super_cdps),
            "stretch_mute_percent": np.array(
                np.nan if r.stretch_mute_percent is None else r.stretch_mute_percent
            ),
            "times_ms": self.times_ms,
            "velocities_m_s": self.velocities_m_s,
            "cdps": np.array([loc.cdp for loc in self.locations], dtype=np.int64),
            "traces": np.array([loc.traces for loc in self.locations], dtype=np.int64),
            "semblance": np.stack([loc.semblance for loc in self.locations]),
        }

        def write(partial: Path) -> None:
            with partial.open("wb") as stream:
                np.savez(stream, **arrays)

        return write_atomically(path, write, overwrite)

    @classmethod
    def load(cls, path: Path) -> VelanResult:
        """Read panels :meth:`save` wrote; anything else is refused in one line."""
        try:
            with Path(path).open("rb") as stream, np.load(stream, allow_pickle=False) as data:
                if str(data.get("format", "")) != PANELS_FORMAT:
                    raise SeisprocError(
                        f"{path}: not a velocity-analysis panels file "
                        f"(written by seisproc velan without --auto)"
                    )
                vmin, vmax, vstep = (float(v) for v in data["scan_m_s"])
                mute = float(data["stretch_mute_percent"])
                request = VelanRequest(
                    Path(str(data["input"])),
                    vmin,
                    vmax,
                    vstep,
                    float(data["window_ms"]),
                    int(data["super_cdps"]),
                    None if np.isnan(mute) else mute,
                )
                semblance, traces = data["semblance"], data["traces"]
                times = data["times_ms"]
                locations = [
                    VelanLocation(int(cdp), np.array([cdp]), int(traces[i]), semblance[i], times)
                    for i, cdp in enumerate(data["cdps"])
                ]
                return cls(request, times, data["velocities_m_s"], locations)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise SeisprocError(
                f"{path}: cannot read the velocity-analysis panels: {exc}"
            ) from None


def parse_cdps(text: str) -> list[int]:
    """``200:1800:100`` (first, last, step; the last included where the step lands on
    it) or ``200,450,700`` as CDP numbers.

    >>> parse_cdps("200:600:200"), parse_cdps("7, 9")
    ([200, 400, 600], [7, 9])
    """
    try:
        if ":" in text:
            first, last, step = (int(part) for part in text.split(":"))
            if step <= 0 or last < first:
                raise ValueError
            return list(range(first, last + 1, step))
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ParameterError(
            f"--cdps: {text!r} is not FIRST:LAST:STEP (e.g. 200:1800:100, "
            "a step > 0) nor a list such as 200,450,700"
        ) from None
    if not values or len(set(values)) < len(values):
        raise ParameterError(f"--cdps: {text!r} names no CDP or one twice")
    return values


def check_velan(request: VelanRequest, cdps: Sequence[int]) -> None:
    """Everything refused before any work, each in one line: the scan, the window, the
    super-gather size, a file without CDP numbers, a CDP the survey does not have."""
    request.velocities_m_s  # noqa: B018 (raises on a scan that does not run upwards)
    if request.super_cdps < 1 or request.super_cdps % 2 == 0:
        raise ParameterError(
            f"--super: {request.super_cdps} CDPs; a super-gather is the "
            "CDP and as many neighbours either side: give an odd number"
        )
    with open_segy(request.input) as segy:
        if request.window_ms < segy.layout.sample_interval_ms:
            raise ParameterError(
                f"--window-ms: {request.window_ms:g} ms is shorter than one sample of "
                f"{request.input.name} ({segy.layout.sample_interval_ms:g} ms)"
            )
        index = cdp_index(segy)
        keys = index.keys
        for cdp in cdps:
            if not keys[0] <= cdp <= keys[-1]:
                raise SeisprocError(
                    f"{request.input}: CDP {cdp} is outside the survey (its CDPs run from "
                    f"{keys[0]} to {keys[-1]})"
                )
            try:
                index.find(cdp)
            except KeyError:
                raise SeisprocError(
                    f"{request.input}: no trace has cdp = {cdp} (the survey's "
                    f"CDPs run from {keys[0]} to {keys[-1]})"
                ) from None


def cdp_index(segy: SegyFile) -> GatherIndex:
    """The CDP gather index, refused when the file carries no CDP numbers."""
    index = gather_index(segy, "cdp")
    if len(index) < 2:
        value = int(index.keys[0]) if len(index) else 0
        raise SeisprocError(
            f"{segy.path}: every trace has cdp = {value}: the file has no CDP numbers (trace "
            "header bytes 21-24), and velocity analysis gathers traces by CDP; set them "
            "from the geometry first"
        )
    return index


def super_gather_cdps(keys: np.ndarray, cdp: int, count: int) -> np.ndarray:
    """``cdp`` and its nearest neighbours among the survey's CDPs, ``count`` in all
    where the survey has them (fewer at its ends), ascending.

    >>> super_gather_cdps(np.array([1, 2, 3, 5, 6]), 2, 5)
    array([1, 2, 3, 5])
    """
    at = int(np.searchsorted(keys, cdp))
    half = count // 2
    return np.asarray(keys[max(0, at - half) : at + half + 1])


def read_cmp(
    segy: SegyFile, index: GatherIndex, cdps: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, GatherContext]:
    """The traces of these CDPs, concatenated, and their context (offsets, CDPs)."""
    positions = np.concatenate([index.positions(index.find(int(c))) for c in cdps])
    records = segy.read_records(positions)
    return segy.samples_of(records), gather_context(segy, records["header"])


def analyse_locations(request: VelanRequest, cdps: Sequence[int]) -> list[VelanLocation]:
    """The semblance panel (and picks, when ``request.auto``) of each location: the work
    of one cluster task."""
    velocities = request.velocities_m_s
    out = []
    with open_segy(request.input) as segy:
        index = cdp_index(segy)
        for cdp in cdps:
            members = super_gather_cdps(index.keys, int(cdp), request.super_cdps)
            samples, context = read_cmp(segy, index, members)
            panel = semblance_panel(
                samples,
                _offsets(context, request.input, cdp),
                context.sample_interval_ms,
                velocities,
                request.window_ms,
                delay_ms=_delay(context, request.input, cdp),
                stretch_mute_percent=request.stretch_mute_percent,
            )
            picks = pick_velocity_function(panel) if request.auto else (np.zeros(0),) * 2
            out.append(
                VelanLocation(int(cdp), members, len(samples), panel.values, panel.times_ms, *picks)
            )
    return out


def _offsets(context: GatherContext, path: Path, cdp: int) -> np.ndarray:
    offsets = np.asarray(context.offsets_m, dtype=np.float64)
    if not np.any(offsets):
        raise SeisprocError(
            f"{path}: the traces of CDP {cdp} all have offset 0 (trace "
            "header bytes 37-40); semblance needs each trace's offset"
        )
    return offsets


def _delay(context: GatherContext, path: Path, cdp: int) -> float:
    delays = np.asarray(context.delays_ms, dtype=np.float64)
    if delays.size and np.any(delays != delays[0]):
        raise SeisprocError(
            f"{path}: the traces around CDP {cdp} start at different times "
            f"(delrt {delays.min():g} to {delays.max():g} ms); velocity "
            "analysis needs one start time per super-gather"
        )
    return float(delays[0]) if delays.size else 0.0


def write_atomically(path: Path, write: Callable[[Path], object], overwrite: bool) -> Path:
    """Write ``path`` through a hidden temporary file beside it, renamed into place once
    complete and synced: a reader never sees half a file, and a failure leaves what was
    there. ``write(partial)`` writes the file; an existing ``path`` needs ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputError(f"{path}: already exists; use --overwrite to replace it")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: no such folder {path.parent}")
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(descriptor)
    partial = Path(name)
    try:
        write(partial)
        with partial.open("rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def save_velocity_table(path: Path, table: VelocityTable, *, overwrite: bool) -> Path:
    """The table as CSV at ``path``, written atomically (:func:`write_atomically`)."""
    return write_atomically(path, lambda partial: write_velocity_table(partial, table), overwrite)
