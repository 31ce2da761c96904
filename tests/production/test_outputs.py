"""Two SEG-Y files compared per gather, checked against segyio and numpy on whole files."""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import segyio

from seisproc.errors import SeisprocError
from seisproc.io.segy import open_segy
from seisproc.io.synth import SurveyGeometry, synthesize_survey
from seisproc.plots.diff import plot_worst_gather
from seisproc.production.outputs import (
    CHUNK_BYTES,
    GatherDiff,
    OutputDiff,
    OutputsNotComparable,
    _chunks,
    diff_outputs,
)


def perturbed(source: Path, target: Path, seed: int = 1) -> Path:
    """A copy of ``source`` with noise added to three traces of two gathers."""
    shutil.copy(source, target)
    with segyio.open(target, "r+", ignore_geometry=True) as f:
        rng = np.random.default_rng(seed)
        for trace in (30, 31, 100):
            f.trace[trace] = f.trace[trace] + rng.normal(0, 0.05, f.samples.size).astype(np.float32)
    return target


def reference(
    a: Path, b: Path, field: int = segyio.TraceField.FieldRecord
) -> dict[int, tuple[float, float, int, int]]:
    """Per gather of header ``field``: relative RMS, max |A-B|, its trace within the
    gather and sample."""
    with segyio.open(a, ignore_geometry=True) as fa, segyio.open(b, ignore_geometry=True) as fb:
        keys = fa.attributes(field)[:]
        data_a, data_b = fa.trace.raw[:], fb.trace.raw[:]
    out = {}
    for key in np.unique(keys):
        ga, gb = data_a[keys == key].astype(np.float64), data_b[keys == key].astype(np.float64)
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
    matches_reference(result, expected)
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


IBM_GEOMETRY = SurveyGeometry(shots=6, channels=24, samples=251, dt_ms=4.0)
"""The ``small_survey`` fixture's geometry, for an IBM twin."""


def matches_reference(
    result: OutputDiff, expected: dict[int, tuple[float, float, int, int]]
) -> None:
    for gather in result.gathers:
        rel, biggest, trace, sample = expected[gather.key]
        assert gather.relative_rms == pytest.approx(rel, rel=1e-4, abs=1e-12)
        assert gather.max_abs_diff == pytest.approx(biggest, rel=1e-6)
        if biggest:
            assert (gather.max_trace, gather.max_sample) == (trace, sample)


def test_ibm_outputs_compared_in_chunks_match_a_whole_file_reference(
    tmp_path: Path,
) -> None:
    """40 shots of 24 traces of 1,244 bytes, read, compared and decoded in five chunks
    of 210 traces (256 KiB), the first differing from its 31st trace on."""
    geometry = SurveyGeometry(shots=40, channels=24, samples=251, dt_ms=4.0)
    a = synthesize_survey(tmp_path / "a.sgy", geometry, sample_format_name="ibm")
    b = perturbed(a, tmp_path / "b.sgy", seed=7)
    with (
        open_segy(a) as segy,
        open_segy(b) as other,
        closing(_chunks(segy, other, CHUNK_BYTES)) as chunks,
    ):
        steps = [(c.start, len(c.records_a), c.samples_b is None) for c in chunks]
    assert steps == [
        (0, 210, False),
        (210, 210, True),
        (420, 210, True),
        (630, 210, True),
        (840, 120, True),
    ]
    result = diff_outputs(a, b)
    assert not result.identical
    assert [g.key for g in result.differing()] == [1002, 1005]
    matches_reference(result, reference(a, b))


def test_figures_do_not_depend_on_the_chunk_size(small_survey: Path, tmp_path: Path) -> None:
    other = perturbed(small_survey, tmp_path / "b.sgy", seed=3)
    with open_segy(small_survey) as segy:
        trace_bytes, n_traces = segy.layout.trace_bytes, segy.layout.n_traces

    def figures(gather: GatherDiff) -> dict[str, object]:
        """Everything but the sums of squares: A's is left at 0 where the samples agree
        and only their ratio is reported, rounded by a summation order that follows the
        chunks."""
        fields = dataclasses.asdict(gather)
        del fields["sum_squares_a"], fields["sum_squares_diff"]
        return fields

    results = [
        diff_outputs(small_survey, other, chunk_bytes=size)
        for size in (trace_bytes, 7 * trace_bytes, CHUNK_BYTES, (n_traces + 1) * trace_bytes)
    ]
    first = results[0]
    assert len(first.differing()) == 2
    for result in results[1:]:
        assert [figures(g) for g in result.gathers] == [figures(g) for g in first.gathers]
        assert [g.relative_rms for g in result.gathers] == pytest.approx(
            [g.relative_rms for g in first.gathers], rel=1e-12
        )
        assert result.lines() == first.lines()


def test_gathers_of_a_key_the_file_is_not_sorted_by_match_the_reference(
    small_survey: Path, tmp_path: Path
) -> None:
    other = perturbed(small_survey, tmp_path / "b.sgy")
    with open_segy(small_survey) as segy:
        trace_bytes = segy.layout.trace_bytes
    result = diff_outputs(small_survey, other, "channel", chunk_bytes=10 * trace_bytes)
    assert len(result.gathers) == 24 and all(g.traces == 6 for g in result.gathers)
    matches_reference(result, reference(small_survey, other, segyio.TraceField.TraceNumber))
    worst = result.worst()
    assert worst is not None
    assert worst.positions().tolist() == [worst.key - 1 + 24 * shot for shot in range(6)]


def test_trace_headers_that_differ_are_counted_apart_from_samples(
    small_survey: Path, tmp_path: Path
) -> None:
    other = tmp_path / "b.sgy"
    shutil.copy(small_survey, other)
    with segyio.open(other, "r+", ignore_geometry=True) as f:
        for trace in (5, 6, 140):
            f.header[trace] = {segyio.TraceField.SourceX: 99_999}
    result = diff_outputs(small_survey, other)
    assert not result.identical and result.worst() is None
    assert (result.trace_headers_differ, result.file_headers_differ) == (3, False)
    assert result.lines() == ["outputs differ: 0 of 6 gathers' samples, 3 trace headers"]


def test_files_of_different_sample_formats_are_refused_naming_both(
    small_survey: Path, tmp_path: Path
) -> None:
    ibm = synthesize_survey(tmp_path / "ibm.sgy", IBM_GEOMETRY, sample_format_name="ibm")
    with pytest.raises(OutputsNotComparable, match="sample format 4-byte IEEE float vs 4-byte IBM"):
        diff_outputs(small_survey, ibm)


def test_a_file_cut_short_while_compared_is_named_with_the_trace_it_stopped_at(
    small_survey: Path, tmp_path: Path
) -> None:
    other = tmp_path / "b.sgy"
    shutil.copy(small_survey, other)
    with (
        open_segy(small_survey) as a,
        open_segy(other) as b,
        closing(_chunks(a, b, 10 * a.layout.trace_bytes)) as chunks,
    ):
        first = next(chunks)
        assert (first.start, first.samples_b) == (0, None)
        os.truncate(other, a.layout.data_offset + 15 * a.layout.trace_bytes)
        with pytest.raises(SeisprocError, match=f"{other}: short read at trace 10"):
            next(chunks)
