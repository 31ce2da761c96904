"""The synthetic survey: valid SEG-Y for segyio and ObsPy, consistent geometry headers,
deterministic data, and reflections with the moveout of the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import obspy
import pytest
import segyio

from seisproc.io import SurveyGeometry, open_segy, synthesize_survey

TINY = SurveyGeometry(shots=2, channels=8, samples=101, dt_ms=4.0)
SMALL = SurveyGeometry(shots=6, channels=24, samples=251, dt_ms=4.0)  # tests/conftest.py
F = segyio.TraceField


def attributes(path: Path, *fields: int, endian: str = "big") -> list[np.ndarray]:
    with segyio.open(path, ignore_geometry=True, endian=endian) as f:
        return [f.attributes(field)[:] for field in fields]


def test_segyio_reads_the_survey_with_its_size_and_sample_interval(small_survey: Path) -> None:
    with segyio.open(small_survey, ignore_geometry=True) as f:
        assert f.tracecount == SMALL.shots * SMALL.channels
        assert len(f.samples) == SMALL.samples
        assert segyio.tools.dt(f) == 4000.0
        assert f.bin[segyio.BinField.Format] == 5
        assert f.bin[segyio.BinField.Samples] == SMALL.samples
        data = f.trace.raw[:]
        assert set(f.attributes(F.TRACE_SAMPLE_COUNT)[:]) == {SMALL.samples}
        assert set(f.attributes(F.TRACE_SAMPLE_INTERVAL)[:]) == {4000}
    assert np.all(np.isfinite(data)) and np.abs(data).max() > 0.1


def test_obspy_reads_the_survey_with_the_same_samples_and_headers(small_survey: Path) -> None:
    stream = obspy.read(str(small_survey), format="SEGY", unpack_trace_headers=True)
    with segyio.open(small_survey, ignore_geometry=True) as f:
        data = f.trace.raw[:]
        ffid, offset = f.attributes(F.FieldRecord)[:], f.attributes(F.offset)[:]
        sx, gx = f.attributes(F.SourceX)[:], f.attributes(F.GroupX)[:]
    assert len(stream) == SMALL.shots * SMALL.channels
    assert stream.stats.binary_file_header.data_sample_format_code == 5
    for i in (0, 13, 70, 143):
        trace = stream[i]
        header = trace.stats.segy.trace_header
        assert trace.stats.npts == SMALL.samples and trace.stats.delta == pytest.approx(0.004)
        np.testing.assert_array_equal(trace.data, data[i])
        assert header.original_field_record_number == ffid[i]
        assert (header.distance_from_center_of_the_source_point_to_the_center_of_the_receiver_group
                == offset[i])
        assert header.source_coordinate_x == sx[i] and header.group_coordinate_x == gx[i]


def test_ffid_and_channel_number_the_shots_and_their_traces(small_survey: Path) -> None:
    ffid, channel = attributes(small_survey, F.FieldRecord, F.TraceNumber)
    shots, channels = SMALL.shots, SMALL.channels
    np.testing.assert_array_equal(ffid, np.repeat(1001 + np.arange(shots), channels))
    np.testing.assert_array_equal(channel, np.tile(np.arange(1, channels + 1), shots))


def test_offsets_are_a_symmetric_split_spread_consistent_with_coordinates(
        small_survey: Path) -> None:
    offset, sx, gx = attributes(small_survey, F.offset, F.SourceX, F.GroupX)
    per_shot = offset.reshape(SMALL.shots, SMALL.channels)
    assert (per_shot == per_shot[0]).all()  # the same spread for every shot
    np.testing.assert_array_equal(per_shot[0], -per_shot[0][::-1])
    assert (per_shot[0][:12] < 0).all() and (per_shot[0][12:] > 0).all()
    assert per_shot[0][-1] == pytest.approx(11.5 * SMALL.group_interval_m, abs=1)
    # Whole metres in the headers: the receiver sits at source + offset within rounding.
    assert np.abs(gx - sx - offset).max() <= 1
    np.testing.assert_array_equal(np.diff(sx.reshape(SMALL.shots, -1)[:, 0]),
                                  SMALL.shot_interval_m)


def test_cdp_numbers_bin_midpoints_at_half_the_group_interval(small_survey: Path) -> None:
    cdp, cdp_x, sx, gx = attributes(small_survey, F.CDP, F.CDP_X, F.SourceX, F.GroupX)
    assert np.abs(cdp_x - (sx + gx) / 2).max() <= 1
    per_shot = cdp.reshape(SMALL.shots, SMALL.channels)
    np.testing.assert_array_equal(np.diff(per_shot, axis=1), 1)  # one CDP per channel
    step = SMALL.shot_interval_m / (SMALL.group_interval_m / 2)
    np.testing.assert_array_equal(np.diff(per_shot[:, 0]), step)
    for value in np.unique(cdp):  # every trace of a CDP shares one midpoint
        assert len(np.unique(cdp_x[cdp == value])) == 1, value
    fold = np.unique(cdp, return_counts=True)[1]
    assert fold.max() == SMALL.channels * SMALL.group_interval_m / (2 * SMALL.shot_interval_m)


def test_the_same_seed_gives_the_same_file_and_another_seed_other_noise(
        tmp_path: Path) -> None:
    a = synthesize_survey(tmp_path / "a.sgy", TINY, seed=3)
    b = synthesize_survey(tmp_path / "b.sgy", TINY, seed=3)
    c = synthesize_survey(tmp_path / "c.sgy", TINY, seed=4)
    assert a.read_bytes() == b.read_bytes()
    with segyio.open(a, ignore_geometry=True) as fa, segyio.open(c, ignore_geometry=True) as fc:
        data_a, data_c = fa.trace.raw[:], fc.trace.raw[:]
        assert all(fa.header[i] == fc.header[i] for i in range(fa.tracecount))
    assert not np.array_equal(data_a, data_c)
    assert np.abs(data_a - data_c).max() < 0.1  # only the noise differs


def test_ibm_and_little_endian_options_write_the_same_data(tmp_path: Path) -> None:
    ieee = synthesize_survey(tmp_path / "ieee.sgy", TINY)
    ibm = synthesize_survey(tmp_path / "ibm.sgy", TINY, sample_format_name="ibm")
    little = synthesize_survey(tmp_path / "le.sgy", TINY, endian="little")
    with segyio.open(ieee, ignore_geometry=True) as f:
        reference, headers = f.trace.raw[:], [f.header[i] for i in range(f.tracecount)]
    with segyio.open(ibm, ignore_geometry=True) as f:
        assert f.bin[segyio.BinField.Format] == 1
        np.testing.assert_allclose(f.trace.raw[:], reference, rtol=2.0**-20, atol=1e-30)
    with segyio.open(little, ignore_geometry=True, endian="little") as f:
        assert f.bin[segyio.BinField.Format] == 5
        np.testing.assert_array_equal(f.trace.raw[:], reference)
        assert [f.header[i] for i in range(f.tracecount)] == headers
    with open_segy(little) as segy:
        assert segy.layout.endian == "little"
    little_stream = obspy.read(str(little), format="SEGY", unpack_trace_headers=True)
    assert little_stream[9].stats.segy.trace_header.original_field_record_number == 1002
    np.testing.assert_array_equal(little_stream[9].data, reference[9])


def test_text_header_describes_the_survey_in_ebcdic(small_survey: Path) -> None:
    raw = small_survey.read_bytes()
    assert raw[0] == 0xC3  # 'C' in EBCDIC
    with open_segy(small_survey) as segy:
        lines = segy.text_header().split("\n")
    assert len(lines) == 40
    assert lines[0] == "C 1 SEISPROC SYNTHETIC 2-D LINE"
    assert "SHOTS 6  CHANNELS 24" in lines[1]
    assert lines[38:] == ["C39 SEG Y REV1", "C40 END TEXTUAL HEADER"]


def peak_time_s(trace: np.ndarray, dt_s: float, window_s: tuple[float, float]) -> float:
    first, last = (int(round(t / dt_s)) for t in window_s)
    return (first + int(np.argmax(trace[first:last]))) * dt_s


def test_first_reflection_arrives_later_on_the_far_offset_trace(small_survey: Path) -> None:
    """First reflector: t0 = 0.3 s, v = 1700 m/s, so t(x) = sqrt(t0**2 + (x / v)**2)."""
    with open_segy(small_survey) as segy:
        samples, _ = segy.read(np.arange(SMALL.channels))  # shot 0, where t0 is exactly 0.3 s
        offsets = np.abs(segy.header_values("offset")[: SMALL.channels])
    near, far = int(np.argmin(offsets)), int(np.argmax(offsets))
    window = (0.25, 0.42)  # clear of the direct wave, the ground roll and the next reflector
    t_near = peak_time_s(samples[near], 0.004, window)
    t_far = peak_time_s(samples[far], 0.004, window)
    expected_far = np.hypot(0.3, offsets[far] / 1700.0)
    assert t_near == pytest.approx(0.3, abs=0.008)
    assert t_far == pytest.approx(expected_far, abs=0.008)
    assert t_far - t_near > 0.03


def test_the_file_appears_under_its_name_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "s.sgy"
    seen: list[tuple[int, int, bool]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total, target.exists()))

    synthesize_survey(target, TINY, progress=progress)
    assert seen == [(1, 2, False), (2, 2, False)]
    assert [p.name for p in tmp_path.iterdir()] == ["s.sgy"]


def test_an_interrupted_synthesis_leaves_no_file_behind(tmp_path: Path) -> None:
    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        synthesize_survey(tmp_path / "s.sgy", TINY, progress=interrupt)
    assert list(tmp_path.iterdir()) == []
