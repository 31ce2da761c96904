"""Normal moveout: flatten the reflection hyperbolas of a CMP gather, or put them back."""

from __future__ import annotations

import numpy as np
import pydantic

from seisproc.errors import ProcessingError
from seisproc.processing._backend import Array, as_gather, from_numpy, precise_dtype
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register
from seisproc.processing.imaging._interp import sample_rows, trace_offsets
from seisproc.processing.imaging.velocity import ReadsVelocityTable, VelocityTable

__all__ = ["NMO", "NMOParams", "moveout_times_ms", "trace_cdps"]


class NMOParams(ProcessorParams):
    """The velocity table, the stretch mute and the direction of an NMO correction."""

    velocities: str = pydantic.Field(
        min_length=1, description="Velocity table CSV (cdp,time_ms,vrms_m_s)."
    )
    stretch_mute_percent: float | None = pydantic.Field(
        30.0, gt=0, description="Zero samples stretched more than this, %; null: no mute."
    )
    inverse: bool = pydantic.Field(False, description="Undo a correction made with the table.")


def moveout_times_ms(t0_ms: np.ndarray, offsets_m: np.ndarray, vrms_m_s: np.ndarray) -> np.ndarray:
    """Hyperbolic travel time ``sqrt(t0**2 + (1000 x / v)**2)``, ms, per trace and t0.

    ``t0_ms`` and ``vrms_m_s`` are ``(n_traces, n_t0)``; ``offsets_m`` ``(n_traces,)``.
    """
    slowness_ms = 1000.0 * offsets_m[:, None] / vrms_m_s
    out: np.ndarray = np.sqrt(t0_ms**2 + slowness_ms**2)
    return out


def trace_cdps(
    name: str, table: VelocityTable, n_traces: int, context: GatherContext
) -> np.ndarray:
    """Each trace's CDP; a table of one location needs none (it holds everywhere)."""
    if context.cdps is not None:
        cdps = np.asarray(context.cdps, dtype=np.int64).reshape(-1)
        if cdps.shape == (n_traces,):
            return cdps
        raise ProcessingError(
            f"{name}: {cdps.size} CDP numbers for a gather of {n_traces} "
            "traces; expected one per trace"
        )
    if table.locations.size == 1:
        return np.full(n_traces, int(table.locations[0]))
    raise ProcessingError(
        f"{name} needs the `cdp` trace header to look up {table.source}, which has picks at "
        f"{table.locations.size} CDPs, but no CDP numbers came with this gather"
    )


@register
class NMO(ReadsVelocityTable, Processor):
    """Normal-moveout correction from a velocity table, with a stretch mute.

    Each output sample at zero-offset time ``t0`` (ms, counted from time zero: the first
    sample is at the trace's ``delrt``) takes the input at ``t = sqrt(t0**2 + (1000 x /
    v)**2)``, read between samples linearly; ``x`` is the trace's offset (m) and ``v``
    the table's RMS velocity (m/s) at the trace's CDP and ``t0``. Samples whose stretch
    ``100 (t - t0) / t0`` exceeds ``stretch_mute_percent`` are zeroed: they would hold a
    wavelet stretched to low frequencies. ``inverse: true`` maps the other way, each
    recorded time ``t`` taking the corrected sample at the ``t0`` whose moveout time is
    ``t``, so a gather corrected and then uncorrected with the same table returns where
    nothing was muted and the moveout time grows with ``t0`` (where a velocity rising
    fast makes it fold back, at early times on far offsets, the stretch mute removes
    the samples). Relative table paths are taken from the working directory
    (:attr:`path_fields` lets a flow resolve them against its own folder).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from seisproc.processing import GatherContext, create_processor
    >>> from seisproc.processing.imaging import VelocityTable, write_velocity_table
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "vel.csv"
    >>> _ = write_velocity_table(table, VelocityTable.from_picks([1], [0], [2000]))
    >>> nmo = create_processor("nmo", {"velocities": str(table)})
    >>> gather = np.zeros((1, 300), np.float32)
    >>> gather[0, 125] = 1.0  # 500 ms at 600 m: t0 = sqrt(500**2 - 300**2) = 400 ms
    >>> out = nmo.apply(gather, GatherContext(4.0, offsets_m=np.array([600.0])))
    >>> int(np.argmax(out[0]))
    100
    """

    name = "nmo"
    Params = NMOParams
    params: NMOParams

    def apply(self, gather: Array, context: GatherContext) -> Array:
        _, x = as_gather(gather)
        positions = self.read_positions(x.shape, context)
        return sample_rows(x, from_numpy(positions, x, dtype=precise_dtype(x)))

    def read_positions(self, shape: tuple[int, int], context: GatherContext) -> np.ndarray:
        """Where each output sample is read from, in input samples (NaN: muted)."""
        n_traces, n_samples = shape
        dt_ms = context.sample_interval_ms
        offsets = trace_offsets(self.name, n_traces, context)
        delays = context.trace_delays_ms(n_traces)
        t0_ms = delays[:, None] + np.arange(n_samples) * dt_ms
        vrms = self._velocities(t0_ms, trace_cdps(self.name, self.table(), n_traces, context))
        t_ms = moveout_times_ms(t0_ms, offsets, vrms)
        muted = self._stretched(t0_ms, t_ms)
        if self.params.inverse:
            t0_ms = np.stack(
                [_inverse_moveout(*trace) for trace in zip(t0_ms, t_ms, muted, strict=True)]
            )
            return np.asarray((t0_ms - delays[:, None]) / dt_ms)
        return np.where(muted, np.nan, (t_ms - delays[:, None]) / dt_ms)

    def _velocities(self, t0_ms: np.ndarray, cdps: np.ndarray) -> np.ndarray:
        """The table's RMS velocity at each trace's CDP and output times, m/s."""
        table = self.table()
        out = np.empty_like(t0_ms)
        keys = np.stack([cdps.astype(np.float64), t0_ms[:, 0]], axis=1)
        unique, which = np.unique(keys, axis=0, return_inverse=True)
        for k, (cdp, _) in enumerate(unique):
            rows = which.reshape(-1) == k
            out[rows] = table.rms_velocity([cdp], t0_ms[np.flatnonzero(rows)[0]])[0]
        return out

    def _stretched(self, t0_ms: np.ndarray, t_ms: np.ndarray) -> np.ndarray:
        """Samples stretched past the mute; with no mute, only times before zero."""
        limit = self.params.stretch_mute_percent
        with np.errstate(divide="ignore", invalid="ignore"):
            stretch = np.where(t_ms > t0_ms, 100.0 * (t_ms - t0_ms) / t0_ms, 0.0)
        before_zero = t0_ms < 0
        if limit is None:
            return before_zero
        return before_zero | (t0_ms <= 0) & (t_ms > t0_ms) | (stretch > limit)


def _inverse_moveout(t0_ms: np.ndarray, t_ms: np.ndarray, muted: np.ndarray) -> np.ndarray:
    """The zero-offset time whose moveout time is each of the trace's recorded times
    (the same grid as ``t0_ms``); NaN where no unmuted ``t0`` maps there."""
    kept = ~muted
    if not kept.any():
        return np.full_like(t0_ms, np.nan)
    moveout = np.maximum.accumulate(t_ms[kept])  # a velocity inversion may fold it back
    out: np.ndarray = np.interp(t0_ms, moveout, t0_ms[kept], left=np.nan, right=np.nan)
    return out
