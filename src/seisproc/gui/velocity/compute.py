"""What the velocity panel computes off the Qt thread: a location's semblance and CMP
gather, and that gather NMO-corrected with the current picks.

The semblance is :func:`~seisproc.jobs.velan.analyse_locations`, the same function a
``seisproc velan`` task runs; the correction is the ``nmo`` processor itself, reading
the picks as a velocity table like a job would, so what the panel shows is what the
flow will do.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from seisproc.io.segy import open_segy
from seisproc.jobs.velan import VelanRequest, analyse_locations, cdp_index, read_cmp
from seisproc.processing.base import GatherContext
from seisproc.processing.imaging import NMO, NMOParams, VelocityTable, write_velocity_table

__all__ = ["LocationData", "load_location", "nmo_corrected", "survey_cdps"]


@dataclass(frozen=True, eq=False)
class LocationData:
    """One location as the panel draws it."""

    cdp: int
    semblance: np.ndarray
    """``(n_times, n_velocities)``, 0 to 1."""
    times_ms: np.ndarray
    velocities_m_s: np.ndarray
    gather: np.ndarray
    """The CDP's own traces, float32 ``(n_traces, n_samples)``, by offset."""
    context: GatherContext
    super_traces: int


def survey_cdps(path: Path) -> np.ndarray:
    """The CDP numbers of a file (refused when it has none)."""
    with open_segy(path) as segy:
        return np.asarray(cdp_index(segy).keys)


def load_location(
    request: VelanRequest, cdp: int, computed: tuple[np.ndarray, int] | None = None
) -> LocationData:
    """Read the CDP gather and compute its semblance, or take ``computed`` (semblance and
    super-gather traces, from a panels file)."""
    if computed is None:
        location = analyse_locations(replace(request, auto=False), [cdp])[0]
        computed = (location.semblance, location.traces)
    semblance, traces = computed
    with open_segy(request.input) as segy:
        samples, context = read_cmp(segy, cdp_index(segy), [cdp])
    order = np.argsort(np.asarray(context.offsets_m), kind="stable")
    delays = context.trace_delays_ms(len(samples))[order]
    context = GatherContext(
        context.sample_interval_ms,
        np.asarray(context.offsets_m)[order],
        cdps=np.asarray(context.cdps)[order],
        delays_ms=delays,
    )
    delay = float(delays[0]) if delays.size else 0.0
    times = delay + np.arange(samples.shape[1]) * context.sample_interval_ms
    return LocationData(
        cdp, semblance, times, request.velocities_m_s, samples[order], context, traces
    )


def nmo_corrected(
    data: LocationData,
    times_ms: np.ndarray,
    vrms_m_s: np.ndarray,
    stretch_mute_percent: float | None,
) -> np.ndarray:
    """The location's gather after the ``nmo`` processor with these picks (zeros without
    a pick)."""
    if not len(times_ms):
        return np.zeros_like(data.gather)
    table = VelocityTable.from_picks(np.full(len(times_ms), data.cdp), times_ms, vrms_m_s)
    with tempfile.TemporaryDirectory(prefix="seisproc-velan-") as folder:
        path = write_velocity_table(Path(folder) / "picks.csv", table)
        nmo = NMO(
            NMOParams(
                velocities=str(path), stretch_mute_percent=stretch_mute_percent, inverse=False
            )
        )
        nmo.table()  # read while the file exists
    return np.asarray(nmo.apply(data.gather, data.context), dtype=np.float32)
