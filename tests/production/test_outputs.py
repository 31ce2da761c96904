"""Two SEG-Y files compared per gather, checked against segyio and numpy on whole files."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import segyio

from seisproc.io.segy import open_segy
from seisproc.plots.diff import plot_worst_gather
from seisproc.production.outputs import OutputsNotComparable, diff_outputs


def perturbed(source: Path, target: Path, seed: int = 1) -> Path:
    """A copy of ``source`` with noise added to three traces of two gathers."""
    shutil.copy(source, target)
    with segyio.open(target, "r+", ignore_geometry=True) as f:
        rng = np.random.default_rng(seed)
        for trace in (30, 31, 100):
            f.trace[trace] = f.trace[trace] + rng.normal(0, 0.05, f.samples.size).astype(np.float32)
    return target


def reference(a: Path, b: Path) -> dict[int, tuple[float, float, int, int]]:
    """Per ffid: relative RMS, max |A-B|, its trace within the gather and sample."""
    with segyio.open(a, ignore_geometry=True) as fa, segyio.open(b, ignore_geometry=True) as fb:
        ffid = fa.attributes(segyio.TraceField.FieldRecord)[:]
        data_a, data_b = fa.trace.raw[:], fb.trace.raw[:]
    out = {}
    for key in np.unique(ffid):
        ga, gb = data_a[ffid == key].astype(np.float64), data_b[ffid == key].astype(np.float64)
        d = np.abs(ga - gb)
        trace, sample = np.unravel_index(np.argmax(d), d.shape)
        out[int(key)] = (
            math.sqrt((d**2).sum() / (ga**2).sum()),
            float(d.max()),
            int(trace),
            int(sample),
        )
    return out


def test_identical_files_are_identical(small_survey: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.sgy"
    shutil.copy(small_survey, copy)
    result = diff_outputs(small_survey, copy)
    assert result.identical and result.worst() is None
    assert result.lines() == ["outputs identical (6 gathers, every byte the same)"]


def test_per_gather_figures_match_a_whole_file_reference(
    small_survey: Path, tmp_path: Path
) -> None:
    other = perturbed(small_survey, tmp_path / "b.sgy")
    with open_segy(small_survey) as segy:
        trace_bytes = segy.layout.trace_bytes
    # 7 traces per chunk: every gather of 24 is split across chunks
    result = diff_outputs(small_survey, other, chunk_bytes=7 * trace_bytes)
    expected = reference(small_survey, other)
    assert not result.identical and result.trace_headers_differ == 0
    for gather in result.gathers:
        rel, biggest, trace, sample = expected[gather.key]
        assert gather.relative_rms == pytest.approx(rel, rel=1e-4, abs=1e-12)
        assert gather.max_abs_diff == pytest.approx(biggest, rel=1e-6)
        if biggest:
            assert (gather.max_trace, gather.max_sample) == (trace, sample)
    assert [g.key for g in result.differing()] == sorted(
        (k for k in expected if expected[k][1]), key=lambda k: -expected[k][0]
    )
    worst = result.worst()
    assert worst is not None and worst.positions().tolist() == list(
        range(24 * (worst.key - 1001), 24 * (worst.key - 1000))
    )


def test_the_plot_draws_the_worst_gather(small_survey: Path, tmp_path: Path) -> None:
    result = diff_outputs(small_survey, perturbed(small_survey, tmp_path / "b.sgy"))
    assert plot_worst_gather(result, tmp_path / "diff.png")
    assert (tmp_path / "diff.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_files_of_different_lengths_are_refused_in_one_line(
    small_survey: Path, tmp_path: Path
) -> None:
    with open_segy(small_survey) as segy:
        cut = segy.layout.data_offset + 10 * segy.layout.trace_bytes
    short = tmp_path / "short.sgy"
    short.write_bytes(small_survey.read_bytes()[:cut])
    with pytest.raises(OutputsNotComparable, match="traces 144 vs 10"):
        diff_outputs(small_survey, short)
