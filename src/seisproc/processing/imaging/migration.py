"""Time migration of a stacked section: Gazdag's phase shift, and Kirchhoff per trace.

Both take the section as ``(n_traces, n_samples)`` (one trace per CDP, in CDP order, at a
constant spacing), the first sample at time 0, and RMS velocities in m/s. The phase
shift is exact for a velocity that varies with time only (a layered earth) and works on
the whole section at once; Kirchhoff sums along diffraction hyperbolas and makes each
output trace on its own, so a cluster can split a line among workers.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pydantic

from seisproc.errors import ParameterError
from seisproc.processing._backend import (
    Array,
    as_gather,
    device,
    fast_length,
    from_numpy,
    irfft,
    namespace,
    precise_dtype,
    rfft,
)
from seisproc.processing.base import GatherContext, Processor, ProcessorParams, register
from seisproc.processing.imaging._interp import sample_rows
from seisproc.processing.imaging.velocity import ReadsVelocityTable, VelocityTable

__all__ = [
    "PhaseShiftMigration",
    "PhaseShiftMigrationParams",
    "migration_velocity",
    "phase_shift_migration",
    "kirchhoff_time_migration",
]


def migration_velocity(
    table: VelocityTable, cdps: object, n_samples: int, sample_interval_ms: float
) -> np.ndarray:
    """The table's RMS velocity at each sample time, averaged over ``cdps``, m/s.

    Phase shift migration takes one v(t) for the whole section: a table that varies
    along the line is averaged over the section's CDPs.
    """
    times_ms = np.arange(n_samples) * sample_interval_ms
    out: np.ndarray = table.rms_velocity(cdps, times_ms).mean(axis=0)
    return out


def _interval_velocity(vrms_m_s: np.ndarray, sample_interval_ms: float) -> np.ndarray:
    """Dix interval velocity of the layer below each sample (down to the next one), m/s;
    where the RMS velocities are not reachable by any real layer, the RMS velocity."""
    times = np.arange(vrms_m_s.size) * sample_interval_ms
    interval_sq = np.diff(times * vrms_m_s**2, append=np.nan) / sample_interval_ms
    interval_sq[-1] = vrms_m_s[-1] ** 2  # below the last sample: nothing to continue into
    out: np.ndarray = np.where(interval_sq > 0, np.sqrt(np.abs(interval_sq)), vrms_m_s)
    return out


def _checked(name: str, vrms_m_s: np.ndarray, n_samples: int, spacing_m: float) -> np.ndarray:
    vrms = np.asarray(vrms_m_s, dtype=np.float64).reshape(-1)
    if vrms.shape != (n_samples,) or not (vrms > 0).all() or not spacing_m > 0:
        raise ParameterError(
            f"{name}: need one RMS velocity > 0 per sample ({vrms.size} for {n_samples} "
            f"samples) and a trace spacing > 0 (got {spacing_m:g} m)"
        )
    return vrms


def phase_shift_migration(
    section: Array, sample_interval_ms: float, trace_spacing_m: float, vrms_m_s: np.ndarray
) -> Array:
    """Gazdag phase-shift time migration of a zero-offset section.

    The section is transformed to frequency ``w`` and wavenumber ``k`` and continued
    down one sample of two-way time ``dtau`` at a time, multiplying by ``exp(i w dtau
    sqrt(1 - (v k / 2 w)**2))`` with ``v`` the Dix interval velocity of that sample's
    layer; the image at each ``tau`` is the wavefield at time 0 there (the sum over
    frequencies). Exact for a layered v(t); evanescent energy (``v |k| > 2 w``) is
    dropped. Traces and samples are zero-padded by half, so energy migrating past the
    section's edges does not wrap into it. Returns float32, the section's shape and
    namespace.

    >>> import numpy as np
    >>> flat = np.zeros((32, 64), np.float32); flat[:, 20] = 1.0
    >>> image = phase_shift_migration(flat, 4.0, 25.0, np.full(64, 2000.0))
    >>> int(np.argmax(image[16]))
    20
    """
    xp, x = as_gather(section)
    n_traces, n_samples = x.shape
    vrms = _checked("phase_shift_migration", vrms_m_s, n_samples, trace_spacing_m)
    n_t, n_x = fast_length(n_samples + n_samples // 2), fast_length(n_traces + n_traces // 2)
    complex_dtype = xp.complex128 if precise_dtype(x) == xp.float64 else xp.complex64
    padded = xp.zeros((n_x, n_samples), dtype=precise_dtype(x), device=device(x))
    padded[:n_traces, :] = xp.astype(x, precise_dtype(x))
    wavefield = xp.fft.fft(xp.fft.rfft(padded, n=n_t, axis=-1), axis=0)
    omega = 2 * math.pi * np.fft.rfftfreq(n_t, sample_interval_ms / 1000.0)
    k = 2 * math.pi * np.fft.fftfreq(n_x, trace_spacing_m)
    weights = np.full(omega.size, 2.0)
    weights[0] = 1.0
    if n_t % 2 == 0:
        weights[-1] = 1.0  # the Nyquist frequency appears once in the full spectrum
    weights = from_numpy(weights / n_t, x, dtype=complex_dtype)
    dtau_s = sample_interval_ms / 1000.0
    image = xp.zeros((n_x, n_samples), dtype=complex_dtype, device=device(x))
    shift, shift_velocity = None, math.nan  # reused down a layer of one velocity
    for j, velocity in enumerate(_interval_velocity(vrms, sample_interval_ms)):
        image[:, j] = xp.sum(wavefield * weights, axis=-1)
        if j + 1 < n_samples:
            if velocity != shift_velocity:
                shift = _phase_shift(omega, k, float(velocity), dtau_s, x, complex_dtype)
                shift_velocity = velocity
            wavefield = wavefield * shift
    migrated = xp.real(xp.fft.ifft(image, axis=0))[:n_traces, :]
    return xp.astype(migrated, xp.float32)


def _phase_shift(
    omega: np.ndarray,
    k: np.ndarray,
    velocity: float,
    dtau_s: float,
    like: Array,
    complex_dtype: object,
) -> Array:
    """``exp(i w dtau cos)`` over the ``(k, w)`` grid, 0 where the wave is evanescent."""
    with np.errstate(divide="ignore", invalid="ignore"):
        sine = velocity * np.abs(k)[:, None] / (2.0 * omega[None, :])
    sine = np.where(np.isnan(sine), 0.0, sine)  # k = 0 at w = 0: the vertical DC
    cosine = np.sqrt(np.clip(1.0 - sine**2, 0.0, None))
    shift = np.where(sine < 1.0, np.exp(1j * omega[None, :] * dtau_s * cosine), 0.0)
    xp = namespace(like)
    return xp.asarray(
        np.ascontiguousarray(shift, dtype=np.complex128), dtype=complex_dtype, device=device(like)
    )


def kirchhoff_time_migration(
    section: Array,
    sample_interval_ms: float,
    trace_spacing_m: float,
    vrms_m_s: np.ndarray,
    *,
    aperture_m: float | None = None,
    output_traces: np.ndarray | None = None,
) -> Array:
    """Kirchhoff time migration: each output sample is the sum along its diffraction.

    Output trace ``o`` at time ``tau`` sums every input trace ``i`` within
    ``aperture_m`` of it (all by default) at ``t = sqrt(tau**2 + (2 d / v)**2)``, ``d``
    their distance (m) and ``v`` the RMS velocity (m/s) at ``tau`` below ``o``. The 2-D
    weights of Yilmaz (2001, eq. 4-37) are used: the section is first filtered by
    ``sqrt(w) exp(-i pi/4)`` (the half-derivative that a line sum of a diffraction
    needs to give back the wavelet), each sample weighted by ``cos / sqrt(v r)``
    (obliquity ``tau / t``, ``r = v t / 2``) and the sum scaled by ``dx / sqrt(2 pi)``.
    ``vrms_m_s`` is ``(n_samples,)`` for the whole line or ``(n_traces, n_samples)`` per
    trace. ``output_traces`` (indices, all by default) are made independently of each
    other, which is what lets a line be split among workers. No anti-alias filter: steep
    events on coarse trace spacing leave migration noise.

    >>> import numpy as np
    >>> pulse = np.exp(-((np.arange(128) - 60) / 2.0) ** 2)
    >>> flat = np.repeat(pulse[None, :], 41, axis=0).astype(np.float32)
    >>> image = kirchhoff_time_migration(flat, 4.0, 12.5, np.full(128, 2000.0))
    >>> int(np.argmax(image[20]))
    60
    """
    xp, x = as_gather(section)
    n_traces, n_samples = x.shape
    vrms = np.asarray(vrms_m_s, dtype=np.float64)
    vrms = np.broadcast_to(vrms, (n_traces, n_samples)) if vrms.ndim == 1 else vrms
    if vrms.shape != (n_traces, n_samples):
        _checked("kirchhoff_time_migration", vrms.reshape(-1), n_samples, trace_spacing_m)
    for row in vrms[:1]:
        _checked("kirchhoff_time_migration", row, n_samples, trace_spacing_m)
    filtered = _half_derivative(x, sample_interval_ms)
    outputs = np.arange(n_traces) if output_traces is None else np.asarray(output_traces)
    tau_s = np.arange(n_samples) * sample_interval_ms / 1000.0
    traces = [
        _kirchhoff_trace(
            filtered, int(o), tau_s, vrms[int(o)], trace_spacing_m, sample_interval_ms, aperture_m
        )
        for o in outputs
    ]
    return xp.astype(xp.stack(traces), xp.float32)


def _half_derivative(x: Array, sample_interval_ms: float) -> Array:
    """Each trace filtered by ``sqrt(w) exp(-i pi/4)`` (causal half-derivative)."""
    n = x.shape[-1]
    n_fft = fast_length(2 * n)
    omega = 2 * math.pi * np.fft.rfftfreq(n_fft, sample_interval_ms / 1000.0)
    xp = namespace(x)
    complex_dtype = xp.complex128 if precise_dtype(x) == xp.float64 else xp.complex64
    response = xp.asarray(
        np.sqrt(omega) * np.exp(-1j * math.pi / 4), dtype=complex_dtype, device=device(x)
    )
    wide = xp.astype(x, precise_dtype(x))
    return irfft(rfft(wide, n_fft) * response, n_fft)[:, :n]


def _kirchhoff_trace(
    x: Array,
    output: int,
    tau_s: np.ndarray,
    vrms: np.ndarray,
    spacing_m: float,
    sample_interval_ms: float,
    aperture_m: float | None,
) -> Array:
    xp = namespace(x)
    distance = np.abs(np.arange(x.shape[0]) - output) * spacing_m
    inputs = np.flatnonzero(distance <= (np.inf if aperture_m is None else aperture_m))
    t_s = np.sqrt(tau_s[None, :] ** 2 + (2.0 * distance[inputs, None] / vrms[None, :]) ** 2)
    t_s = np.maximum(t_s, 0.5 * sample_interval_ms / 1000.0)  # no pole at t = 0
    weight = (tau_s[None, :] / t_s) / np.sqrt(vrms * vrms * t_s / 2.0)
    weight *= spacing_m / math.sqrt(2 * math.pi)
    positions = from_numpy(t_s * 1000.0 / sample_interval_ms, x, dtype=precise_dtype(x))
    moved = sample_rows(x[xp.asarray(inputs, device=device(x))], positions)
    return xp.sum(moved * from_numpy(weight, x, dtype=moved.dtype), axis=0)


class PhaseShiftMigrationParams(ProcessorParams):
    """The velocity table and the section's trace spacing."""

    velocities: str = pydantic.Field(
        min_length=1, description="Velocity table CSV (cdp,time_ms,vrms_m_s).")
    trace_spacing_m: float = pydantic.Field(
        gt=0, description="Distance between neighbouring CDPs of the section, m.")


@register
class PhaseShiftMigration(ReadsVelocityTable, Processor):
    """Gazdag phase-shift time migration (:func:`phase_shift_migration`) of a stacked
    section: the whole file as one gather (a stage with ``gather_by: section``), one
    trace per CDP in order at ``trace_spacing_m``, with the table's v(t) averaged over
    the section's CDPs (:func:`migration_velocity`)."""

    name: ClassVar[str] = "phase_shift_migration"
    Params: ClassVar[type[ProcessorParams]] = PhaseShiftMigrationParams
    params: PhaseShiftMigrationParams
    gather_by: ClassVar[tuple[str, ...]] = ("section",)
    gather_by_reason: ClassVar[str] = (
        "phase_shift_migration images a whole stacked section: put it in a stage with "
        "gather_by: section, after the stack")
    def apply(self, gather: Array, context: GatherContext) -> Array:
        _, x = as_gather(gather)
        table = self.table()
        cdps = context.cdps if context.cdps is not None else table.locations[:1]
        vrms = migration_velocity(table, np.unique(np.asarray(cdps)), x.shape[-1],
                                  context.sample_interval_ms)
        return phase_shift_migration(x, context.sample_interval_ms,
                                     self.params.trace_spacing_m, vrms)
