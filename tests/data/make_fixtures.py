"""Regenerate the tiny SEG-Y fixtures in this folder: ``python tests/data/make_fixtures.py``.

Every file is written by segyio (``segyio.create``), a writer independent of seisproc's, so
the tests compare seisproc's reader with a file seisproc did not make. Each holds 3 shots x
4 channels = 12 traces of 50 samples at 2 ms (a few KB). segyio.create writes the
little-endian file itself (``spec.endian = "little"``) and the extended textual header
(``spec.ext_headers``). The only bytes not written by segyio are the ASCII textual header
of ``ascii_text.sgy``: segyio always writes EBCDIC, so that header is overwritten in place
with plain ASCII after segyio has closed the file.

Headers carry negative values in 2-byte (``SourceGroupScalar``) and 4-byte (``offset``)
words so that sign handling of both widths is exercised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import segyio
from segyio import BinField, TraceField

HERE = Path(__file__).resolve().parent
SHOTS = 3
CHANNELS = 4
SAMPLES = 50
DT_US = 2000
SHOT_X0 = 5000
GROUP_INTERVAL = 25
ASCII_LINES = {1: "ASCII TEXTUAL HEADER FIXTURE", 2: "WRITTEN BY SEGYIO, HEADER IN ASCII"}


def _text(lines: dict[int, str]) -> bytes:
    return segyio.tools.create_text_header(lines).encode("ascii")


def _samples(trace: int, fmt: int) -> np.ndarray:
    """A decaying sine with a sign change and a wide dynamic range, different per trace."""
    t = np.arange(SAMPLES)
    wave = np.sin(0.3 * t + trace) * np.exp(-t / 20.0) * (trace + 1)
    if fmt == 3:
        return np.rint(wave * 3000).astype(np.int16)
    if fmt == 2:
        return np.rint(wave * 1_000_000).astype(np.int32)
    if fmt == 8:
        return np.rint(wave * 10).astype(np.int8)
    wave = wave * 10.0 ** ((trace % 5) - 2)  # 1e-2 .. 1e2 across traces
    return wave.astype(np.float64 if fmt == 6 else np.float32)


def _headers(ffid: int, channel: int, sequence: int) -> dict[int, int]:
    offset = (channel - (CHANNELS + 1) / 2) * 2 * GROUP_INTERVAL  # -75, -25, 25, 75
    sx = SHOT_X0 + (ffid - 1001) * 2 * GROUP_INTERVAL
    gx = int(sx + offset)
    return {
        TraceField.TRACE_SEQUENCE_LINE: sequence,
        TraceField.TRACE_SEQUENCE_FILE: sequence,
        TraceField.FieldRecord: ffid,
        TraceField.TraceNumber: channel,
        TraceField.CDP: (sx + gx) // GROUP_INTERVAL,
        TraceField.TraceIdentificationCode: 1,
        TraceField.offset: int(offset),
        TraceField.ElevationScalar: -10,
        TraceField.SourceGroupScalar: -100,
        TraceField.SourceX: sx * 100,
        TraceField.SourceY: 70_000 * 100,
        TraceField.GroupX: gx * 100,
        TraceField.GroupY: 70_000 * 100,
        TraceField.TRACE_SAMPLE_COUNT: SAMPLES,
        TraceField.TRACE_SAMPLE_INTERVAL: DT_US,
        TraceField.CDP_X: (sx + gx) // 2,
        TraceField.CDP_Y: 70_000,
    }


def _trace_order(interleaved: bool) -> list[tuple[int, int]]:
    """(ffid, channel) of each trace in file order."""
    shots = [1001 + s for s in range(SHOTS)]
    if not interleaved:
        return [(ffid, ch) for ffid in shots for ch in range(1, CHANNELS + 1)]
    # Channel-major with the shots out of order: 1003, 1001, 1002, 1003, 1001, ...
    return [(ffid, ch) for ch in range(1, CHANNELS + 1) for ffid in (shots[2], shots[0], shots[1])]


def make(name: str, *, fmt: int, endian: str = "big", rev: int = 1,
         interleaved: bool = False, ext_headers: int = 0) -> Path:
    path = HERE / name
    order = _trace_order(interleaved)
    spec = segyio.spec()
    spec.format = fmt
    spec.samples = np.arange(SAMPLES) * DT_US / 1000.0
    spec.tracecount = len(order)
    spec.endian = endian
    spec.ext_headers = ext_headers
    with segyio.create(path, spec) as f:
        f.text[0] = segyio.tools.create_text_header({1: f"SEISPROC TEST FIXTURE {name.upper()}",
                                                     2: f"FORMAT {fmt} {endian.upper()}-ENDIAN"})
        for i in range(ext_headers):
            f.text[1 + i] = segyio.tools.create_text_header({1: f"EXTENDED HEADER {i + 1}"})
        f.bin.update({BinField.Traces: CHANNELS, BinField.SEGYRevision: rev,  # major byte (3501)
                      BinField.ExtendedHeaders: ext_headers})
        for i, (ffid, channel) in enumerate(order):
            f.header[i] = _headers(ffid, channel, i + 1)
            f.trace[i] = _samples(i, fmt)
    return path


def main() -> None:
    make("ibm_rev0.sgy", fmt=1, rev=0)
    make("ibm_rev1.sgy", fmt=1)
    make("ieee.sgy", fmt=5)
    make("ieee_little.sgy", fmt=5, endian="little")
    make("int32.sgy", fmt=2)
    make("int16.sgy", fmt=3)
    make("int8.sgy", fmt=8)
    make("ieee64.sgy", fmt=6)
    make("unsorted_ffid.sgy", fmt=5, interleaved=True)
    make("extended_text.sgy", fmt=5, ext_headers=1)
    ascii_path = make("ascii_text.sgy", fmt=5)
    with open(ascii_path, "r+b") as fh:
        fh.write(_text(ASCII_LINES))


if __name__ == "__main__":
    main()
