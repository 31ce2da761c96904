"""A synthetic line for imaging: reflectors and a diffractor in a layered earth whose
velocities are known, so that velocity analysis, NMO, stack and migration can be checked
against the truth.

The earth is a stack of flat layers of constant velocity, v(z). Travel times are traced
through it exactly (Snell's law: for a ray parameter ``p``, each layer of thickness ``h``
and velocity ``v`` adds ``h v p / sqrt(1 - v**2 p**2)`` of horizontal distance and ``h /
(v sqrt(1 - v**2 p**2))`` of time), not taken from the hyperbola that NMO assumes: the
data hold the same small non-hyperbolic moveout a real layered earth gives. Flat
reflectors lie at the layer boundaries; a dipping reflector and a point diffractor are
impedance contrasts that leave the velocities as they are. The dipping reflector is made
as a dense line of point scatterers (Kirchhoff modelling), so it carries its edge
diffractions too. Headers are those of :mod:`seisproc.io.synth`: CDP, offset and CDP X/Y
of every trace are consistent with its source and receiver, so a CDP sort gathers
traces of one midpoint, and every event depends on the midpoint, not on the shot.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from seisproc.io.synth import (
    SurveyGeometry,
    convolve_wavelet,
    ricker_spectrum,
    spikes_at,
    synthesize_survey,
)

__all__ = [
    "DippingReflector",
    "PointDiffractor",
    "LayeredEarth",
    "geology_shot_gather",
    "synthesize_imaging_line",
    "midpoint_x_m",
    "FIRST_SOURCE_X_M",
]

FIRST_SOURCE_X_M = 10_000.0
"""X of the first shot, as :mod:`seisproc.io.synth` lays the line out."""


@dataclass(frozen=True)
class DippingReflector:
    """A plane reflector, depth ``depth_m`` below line X ``x_m``, dipping ``dip_deg``
    (positive: deeper towards larger X), from ``x_start_m`` to ``x_end_m``."""

    x_m: float = 10_800.0
    depth_m: float = 700.0
    dip_deg: float = 12.0
    x_start_m: float = 10_300.0
    x_end_m: float = 11_300.0
    reflection: float = 0.08


@dataclass(frozen=True)
class PointDiffractor:
    """A point scatterer at line X ``x_m`` and depth ``depth_m``."""

    x_m: float = 10_700.0
    depth_m: float = 1_150.0
    amplitude: float = 0.6


@dataclass(frozen=True)
class LayeredEarth:
    """Flat layers of constant velocity and what lies in them.

    ``boundaries_m`` are the depths of the layer bottoms (each a flat reflector with the
    matching ``reflections`` coefficient); ``velocities_m_s`` has one more entry than
    ``boundaries_m``, the half-space below. ``noise`` is the standard deviation of the
    white noise added to every sample (the reflections' amplitudes are of order 0.1).
    """

    boundaries_m: tuple[float, ...] = (400.0, 900.0, 1_500.0)
    velocities_m_s: tuple[float, ...] = (1_800.0, 2_200.0, 2_700.0, 3_200.0)
    reflections: tuple[float, ...] = (0.12, -0.10, 0.14)
    dipping: DippingReflector | None = field(default_factory=DippingReflector)
    diffractor: PointDiffractor | None = field(default_factory=PointDiffractor)
    noise: float = 0.004
    peak_hz: float = 25.0

    def zero_offset_times_ms(self) -> np.ndarray:
        """Two-way vertical time of each flat reflector, ms."""
        return 2000.0 * np.cumsum(self._thicknesses() / self._velocities_above())

    def rms_velocities_m_s(self) -> np.ndarray:
        """The true RMS velocity down to each flat reflector, m/s (Dix's sum)."""
        one_way = self._thicknesses() / self._velocities_above()
        weighted = np.cumsum(one_way * self._velocities_above() ** 2)
        out: np.ndarray = np.sqrt(weighted / np.cumsum(one_way))
        return out

    def rms_velocity_at(self, times_ms: np.ndarray) -> np.ndarray:
        """The true RMS velocity down to each two-way vertical time, m/s (the half-space
        below the last boundary included): what a migration of this line should use."""
        times = np.asarray(times_ms, dtype=np.float64)
        velocities = np.asarray(self.velocities_m_s, dtype=np.float64)
        bases = np.concatenate([self.zero_offset_times_ms(), [np.inf]])
        tops = np.concatenate([[0.0], bases[:-1]])
        inside = np.clip(np.minimum(times[..., None], bases) - tops, 0.0, None)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_square = (inside * velocities**2).sum(axis=-1) / times
        out: np.ndarray = np.where(times > 0, np.sqrt(mean_square), velocities[0])
        return out

    def one_way_time_s(self, lateral_m: np.ndarray | float, depth_m: float) -> np.ndarray:
        """Travel time from the surface to a point ``depth_m`` deep, ``lateral_m`` away
        horizontally, by tracing rays through the layers above it."""
        reach, time, p_last = _ray_table(self, float(depth_m))
        lateral = np.abs(np.asarray(lateral_m, dtype=np.float64))
        beyond = time[-1] + (lateral - reach[-1]) * p_last  # past the table: a head wave
        out: np.ndarray = np.where(lateral <= reach[-1], np.interp(lateral, reach, time), beyond)
        return out

    def _thicknesses(self) -> np.ndarray:
        return np.diff(np.asarray(self.boundaries_m, dtype=np.float64), prepend=0.0)

    def _velocities_above(self) -> np.ndarray:
        return np.asarray(self.velocities_m_s[: len(self.boundaries_m)], dtype=np.float64)

    def _path_to(self, depth_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Thickness and velocity of each layer a ray crosses down to ``depth_m``."""
        tops = np.concatenate([[0.0], self.boundaries_m])
        bottoms = np.concatenate([self.boundaries_m, [np.inf]])
        crossed = np.clip(np.minimum(bottoms, depth_m) - tops, 0.0, None)
        keep = crossed > 0
        return crossed[keep], np.asarray(self.velocities_m_s, dtype=np.float64)[keep]


@functools.lru_cache(maxsize=4096)
def _ray_table(earth: LayeredEarth, depth_m: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Horizontal reach and time of rays to ``depth_m``, for ray parameters from vertical
    to just below critical in the fastest layer crossed; the last ray parameter. Cached:
    every shot asks again for the same depths."""
    thickness, velocity = earth._path_to(depth_m)
    p = np.sin(np.linspace(0.0, math.radians(89.95), 2001)) / velocity.max()
    cosine = np.sqrt(1.0 - (velocity[None, :] * p[:, None]) ** 2)
    reach = np.sum(thickness * velocity * p[:, None] / cosine, axis=1)
    time = np.sum(thickness / (velocity * cosine), axis=1)
    return reach, time, float(p[-1])


def midpoint_x_m(geometry: SurveyGeometry, cdp: np.ndarray) -> np.ndarray:
    """Line X of CDP numbers as :mod:`seisproc.io.synth` bins them (bins of half a group
    interval from the first source, midpoints half-way along each bin)."""
    return FIRST_SOURCE_X_M + (np.asarray(cdp) - 0.5) * geometry.group_interval_m / 2


def geology_shot_gather(
    geometry: SurveyGeometry, shot: int, seed: int = 0, earth: LayeredEarth = LayeredEarth()
) -> np.ndarray:
    """Samples of one shot over ``earth``, float32 ``(channels, samples)``."""
    g = geometry
    dt_s = g.dt_ms / 1000.0
    source_x = FIRST_SOURCE_X_M + shot * g.shot_interval_m
    receiver_x = source_x + g.offsets_m()
    import scipy.fft  # on first use: half a second a command need not pay

    n_fft = scipy.fft.next_fast_len(g.samples + 256, real=True)
    ricker = ricker_spectrum(n_fft, dt_s, earth.peak_hz)
    times, amplitudes = [], []
    for depth, reflection in zip(earth.boundaries_m, earth.reflections, strict=True):
        half = earth.one_way_time_s(np.abs(receiver_x - source_x) / 2, depth)
        times.append(2 * half)
        amplitudes.append(reflection / np.maximum(2 * half, 0.05))
    if earth.diffractor is not None:
        times.append(
            _scattered_times(
                earth, earth.diffractor.x_m, earth.diffractor.depth_m, source_x, receiver_x
            )
        )
        amplitudes.append(earth.diffractor.amplitude / np.maximum(times[-1], 0.05))
    data = convolve_wavelet(_spikes(times, amplitudes, g), ricker, n_fft)
    if earth.dipping is not None:
        data += convolve_wavelet(
            _dipping_spikes(earth, earth.dipping, g, source_x, receiver_x),
            ricker * _half_derivative(n_fft, dt_s, earth.peak_hz),
            n_fft,
        )
    rng = np.random.default_rng([seed, shot])
    data += rng.normal(0.0, earth.noise, data.shape) if earth.noise > 0 else 0.0
    return data.astype(np.float32)


def _scattered_times(
    earth: LayeredEarth, x_m: float, depth_m: float, source_x: float, receiver_x: np.ndarray
) -> np.ndarray:
    """Source to the point, then the point to each receiver, s."""
    down = earth.one_way_time_s(x_m - source_x, depth_m)
    up: np.ndarray = down + earth.one_way_time_s(x_m - receiver_x, depth_m)
    return up


def _spikes(
    times: list[np.ndarray], amplitudes: list[np.ndarray], geometry: SurveyGeometry
) -> np.ndarray:
    if not times:
        return np.zeros((geometry.channels, geometry.samples))
    return spikes_at(
        np.stack(times), np.stack(amplitudes), geometry.samples, geometry.dt_ms / 1000.0
    )


def _dipping_spikes(
    earth: LayeredEarth,
    reflector: DippingReflector,
    geometry: SurveyGeometry,
    source_x: float,
    receiver_x: np.ndarray,
) -> np.ndarray:
    """The dipping reflector as point scatterers an eighth of a group interval apart, so
    that their sum is a continuous reflection at the wavelet's frequencies."""
    spacing = geometry.group_interval_m / 8
    xs = np.arange(reflector.x_start_m, reflector.x_end_m + spacing / 2, spacing)
    depths = reflector.depth_m + (xs - reflector.x_m) * math.tan(math.radians(reflector.dip_deg))
    times, amplitudes = [], []
    for x, depth in zip(xs, depths, strict=True):
        if depth > 0:
            times.append(_scattered_times(earth, float(x), float(depth), source_x, receiver_x))
            amplitudes.append(
                reflector.reflection * _KIRCHHOFF_SCALE * spacing / np.maximum(times[-1], 0.05)
            )
    return _spikes(times, amplitudes, geometry)


_KIRCHHOFF_SCALE = 0.0078
"""Per metre of reflector: makes the sum of scatterers about as strong as a flat
reflector of the same coefficient at the same time (measured at 2 km/s, 25 Hz)."""


def _half_derivative(n_fft: int, dt_s: float, peak_hz: float) -> np.ndarray:
    """``sqrt(w / w_peak) exp(i pi/4)``: a line of scatterers sums to the wavelet's
    half-integral; this gives the wavelet back (the transpose of Kirchhoff migration's
    filter)."""
    import scipy.fft

    ratio = scipy.fft.rfftfreq(n_fft, dt_s) / peak_hz
    return np.asarray(np.sqrt(ratio) * np.exp(1j * math.pi / 4))


def synthesize_imaging_line(
    path: str | os.PathLike[str],
    geometry: SurveyGeometry = SurveyGeometry(),  # noqa: B008 (frozen)
    earth: LayeredEarth = LayeredEarth(),
    **options: Any,
) -> Path:
    """Write a line of shots over ``earth`` to ``path`` (options as
    :func:`~seisproc.io.synth.synthesize_survey`: format, endian, seed, progress).

    >>> synthesize_imaging_line("line.sgy", SurveyGeometry(shots=40))  # doctest: +SKIP
    PosixPath('line.sgy')
    """
    maker = partial(geology_shot_gather, earth=earth)
    return synthesize_survey(
        path,
        geometry,
        shot_maker=maker,
        title="SEISPROC SYNTHETIC 2-D LINE: LAYERED EARTH FOR IMAGING",
        **options,
    )
