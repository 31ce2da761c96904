"""Synthetic 2-D shot gathers: realistic enough to test processing, fast enough for 1 GB.

Each shot has split-spread receivers centred on the source and holds hyperbolic primary
reflections (Ricker wavelet, amplitude decaying with travel time), a linear direct wave,
strong low-frequency ground roll and random noise. Events are placed as sub-sample spikes
and convolved with their wavelet by FFT, one convolution per wavelet per gather, so a
192,000-trace survey is made in seconds. Headers are complete: FFID, channel, offset,
source and receiver X/Y, CDP and CDP X/Y, sample count and interval.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seisproc.io.headers import TRACE_HEADER_BYTES, header_field, write_column
from seisproc.io.samples import IBM, IEEE, sample_format
from seisproc.io.segy import SegyLayout
from seisproc.io.textheader import make_text_header
from seisproc.io.writer import SegyWriter, commit_output, create_output, discard_output

__all__ = ["SurveyGeometry", "synthesize_survey", "shot_gather", "ricker_spectrum", "spikes_at",
           "convolve_wavelet", "ShotMaker"]

ShotMaker = Callable[["SurveyGeometry", int, int], np.ndarray]
"""Makes one shot's samples from (geometry, shot number, seed): :func:`shot_gather`, or
:func:`seisproc.io.synth_geology.geology_shot_gather` for a line to image."""


@dataclass(frozen=True)
class SurveyGeometry:
    """A 2-D line of shots with split-spread receivers."""

    shots: int = 20
    channels: int = 120
    samples: int = 1001
    dt_ms: float = 4.0
    group_interval_m: float = 25.0
    shot_interval_m: float = 50.0

    def offsets_m(self) -> np.ndarray:
        """Signed offsets of the channels, the same for every shot."""
        return (np.arange(self.channels) - (self.channels - 1) / 2) * self.group_interval_m


# Primary reflections: zero-offset time (s), stacking velocity (m/s), reflection coefficient.
_REFLECTORS = np.array([
    (0.30, 1700.0, 0.12), (0.55, 1850.0, -0.08), (0.80, 2000.0, 0.15),
    (1.10, 2200.0, 0.10), (1.45, 2400.0, -0.12), (1.80, 2600.0, 0.09),
    (2.20, 2850.0, 0.11), (2.70, 3100.0, -0.07), (3.20, 3300.0, 0.10),
])


def ricker_spectrum(n_fft: int, dt_s: float, peak_hz: float) -> np.ndarray:
    """rfft of a zero-phase Ricker wavelet with peak frequency ``peak_hz``, peak amplitude 1."""
    import scipy.fft  # on first use: half a second a command need not pay

    f = scipy.fft.rfftfreq(n_fft, dt_s)
    spectrum = (f / peak_hz) ** 2 * np.exp(-((f / peak_hz) ** 2))
    peak = float(scipy.fft.irfft(spectrum, n_fft)[0])
    return np.asarray(spectrum / peak)


def spikes_at(times_s: np.ndarray, amps: np.ndarray, n_samples: int, dt_s: float) -> np.ndarray:
    """Spikes at fractional sample times, shared linearly between two samples."""
    n_traces = times_s.shape[-1]
    out = np.zeros((n_traces, n_samples), dtype=np.float64)
    pos = times_s / dt_s
    i0 = np.floor(pos).astype(np.int64)
    frac = pos - i0
    rows = np.broadcast_to(np.arange(n_traces), pos.shape)
    for i, w in ((i0, 1.0 - frac), (i0 + 1, frac)):
        ok = (i >= 0) & (i < n_samples)
        np.add.at(out, (rows[ok], i[ok]), (amps * w)[ok])
    return out


def convolve_wavelet(spikes: np.ndarray, spectrum: np.ndarray, n_fft: int) -> np.ndarray:
    n = spikes.shape[1]
    import scipy.fft  # on first use: half a second a command need not pay

    out = scipy.fft.irfft(scipy.fft.rfft(spikes, n_fft, axis=1) * spectrum, n_fft, axis=1)
    return np.asarray(out[:, :n])


def shot_gather(geometry: SurveyGeometry, shot: int, seed: int = 0) -> np.ndarray:
    """Samples of one shot gather, float32 ``(channels, samples)``."""
    g = geometry
    dt_s = g.dt_ms / 1000.0
    rng = np.random.default_rng([seed, shot])
    x = np.abs(g.offsets_m())
    import scipy.fft  # on first use: half a second a command need not pay

    n_fft = scipy.fft.next_fast_len(g.samples + 256, real=True)
    t0, v, rc = (_REFLECTORS[:, i : i + 1] for i in range(3))
    t0 = t0 * (1 + 0.02 * np.sin(shot / 7.0))  # gentle structure along the line
    t_refl = np.sqrt(t0**2 + (x / v) ** 2)
    refl = spikes_at(t_refl, rc / np.maximum(t_refl, 0.05), g.samples, dt_s)
    direct = spikes_at((x / 1800.0)[None, :], np.full((1, len(x)), 0.4), g.samples, dt_s)
    shifted = 0.05 + x / 450.0
    roll = spikes_at(np.stack([shifted, 0.08 + x / 380.0]),
                   np.stack([1.5 / (1 + x / 500.0), -1.0 / (1 + x / 500.0)]), g.samples, dt_s)
    data = convolve_wavelet(refl + direct, ricker_spectrum(n_fft, dt_s, 30.0), n_fft)
    data += convolve_wavelet(roll, ricker_spectrum(n_fft, dt_s, 8.0), n_fft)
    data += rng.normal(0.0, 0.004, data.shape)
    return data.astype(np.float32)


def _headers(geometry: SurveyGeometry, shot: int, endian: str) -> np.ndarray:
    g = geometry
    n = g.channels
    offsets = g.offsets_m()
    sx = 10_000.0 + shot * g.shot_interval_m
    gx = sx + offsets
    cdp_x = (sx + gx) / 2
    # Bins of half a group interval from the first source; with an even number of channels
    # midpoints fall half-way, and floor (not rint, which rounds half to even) keeps one
    # midpoint per CDP number.
    cdp = np.floor((cdp_x - 10_000.0) / (g.group_interval_m / 2)).astype(np.int64) + 1
    columns = {
        "TRACE_SEQUENCE_LINE": shot * n + np.arange(1, n + 1),
        "TRACE_SEQUENCE_FILE": shot * n + np.arange(1, n + 1),
        "FieldRecord": np.full(n, 1001 + shot),
        "TraceNumber": np.arange(1, n + 1),
        "EnergySourcePoint": np.full(n, shot + 1),
        "CDP": cdp,
        "TraceIdentificationCode": np.ones(n),
        "offset": np.rint(offsets),
        "ElevationScalar": np.ones(n),
        "SourceGroupScalar": np.ones(n),
        "SourceX": np.full(n, np.rint(sx)),
        "SourceY": np.full(n, 50_000),
        "GroupX": np.rint(gx),
        "GroupY": np.full(n, 50_000),
        "CoordinateUnits": np.ones(n),
        "TRACE_SAMPLE_COUNT": np.full(n, g.samples),
        "TRACE_SAMPLE_INTERVAL": np.full(n, round(g.dt_ms * 1000)),
        "CDP_X": np.rint(cdp_x),
        "CDP_Y": np.full(n, 50_000),
    }
    headers = np.zeros((n, TRACE_HEADER_BYTES), dtype=np.uint8)
    for name, values in columns.items():
        write_column(headers, header_field(name), values, endian)
    return headers


def _binary_header(geometry: SurveyGeometry, format_code: int, endian: str) -> bytes:
    g = geometry
    header = bytearray(400)
    c = ">" if endian == "big" else "<"
    for byte, value in ((3213, g.channels), (3217, round(g.dt_ms * 1000)),
                        (3219, round(g.dt_ms * 1000)), (3221, g.samples), (3223, g.samples),
                        (3225, format_code), (3227, g.channels), (3229, 1),
                        (3255, 1), (3501, 0x0100), (3503, 1)):
        header[byte - 3201 : byte - 3199] = np.array(value, dtype=c + "u2").tobytes()
    return bytes(header)


def synthesize_survey(
    path: str | os.PathLike[str],
    geometry: SurveyGeometry = SurveyGeometry(),
    *,
    sample_format_name: str = "ieee",
    endian: str = "big",
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    shot_maker: ShotMaker | None = None,
    title: str = "SEISPROC SYNTHETIC 2-D LINE",
) -> Path:
    """Write a synthetic survey to ``path`` (SEG-Y rev 1) and return the path.

    ``sample_format_name`` is ``"ieee"`` or ``"ibm"``; ``progress(done, total)`` is called
    after each shot; ``shot_maker`` makes each shot's samples (:func:`shot_gather` by
    default) and ``title`` is the textual header's first line. The file appears under
    ``path`` only once complete.

    >>> synthesize_survey("shots.sgy", SurveyGeometry(shots=4, channels=24))  # doctest: +SKIP
    PosixPath('shots.sgy')
    """
    path = Path(path)
    code = {"ieee": IEEE, "ibm": IBM}[sample_format_name.lower()]
    layout = SegyLayout(endian, sample_format(code), geometry.samples, geometry.dt_ms,
                        3600, geometry.shots * geometry.channels)
    text = make_text_header([
        title,
        f"SHOTS {geometry.shots}  CHANNELS {geometry.channels}  SPLIT SPREAD",
        f"SAMPLES {geometry.samples}  INTERVAL {geometry.dt_ms} MS  SEED {seed}",
        f"GROUP INTERVAL {geometry.group_interval_m} M  SHOT INTERVAL "
        f"{geometry.shot_interval_m} M",
    ])
    make = shot_gather if shot_maker is None else shot_maker
    partial = path.with_name(f".{path.name}.partial")
    create_output(partial, text + _binary_header(geometry, code, endian), layout)
    try:
        with SegyWriter(partial, layout) as writer:
            for shot in range(geometry.shots):
                first = shot * geometry.channels
                writer.write(np.arange(first, first + geometry.channels),
                             _headers(geometry, shot, endian), make(geometry, shot, seed))
                if progress is not None:
                    progress(shot + 1, geometry.shots)
        commit_output(partial, path, overwrite=True)
    except BaseException:
        discard_output(partial)
        raise
    return path
