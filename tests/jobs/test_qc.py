"""QC of processed gathers: figures against independent references, the thumbnail, the
job's running QC, and what units and the JobManager carry of it."""

from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.fft

from seisproc.io.segy import open_segy
from seisproc.io.synth import ricker_spectrum
from seisproc.io.writer import SegyWriter
from seisproc.jobs import units
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import JobEvent, JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import JobState
from seisproc.jobs.plan import plan_job
from seisproc.jobs.qc import (
    QC_GATHERS_KEPT,
    THUMBNAIL_SAMPLES,
    THUMBNAIL_TRACES,
    GatherQc,
    JobQc,
    Thumbnail,
    gather_qc,
    thumbnail,
)
from seisproc.jobs.units import UnitProcessor, UnitResult
from seisproc.processing.flow import Flow

DT_MS = 4.0


def sine_gather(freq_hz: float, traces: int = 12, samples: int = 1001) -> np.ndarray:
    t = np.arange(samples) * DT_MS / 1000.0
    phases = np.linspace(0, np.pi, traces)[:, None]
    return np.sin(2 * np.pi * freq_hz * t[None, :] + phases).astype(np.float32)


def with_nan(survey: Path, dest: Path, first_trace: int, n_traces: int) -> Path:
    """A copy of ``survey`` whose traces ``first_trace...`` hold NaN in samples 100-109."""
    shutil.copy(survey, dest)
    positions = np.arange(first_trace, first_trace + n_traces)
    with open_segy(dest) as segy:
        samples, headers = segy.read(positions)
        layout = segy.layout
    samples[:, 100:110] = np.nan
    with SegyWriter(dest, layout) as writer:
        writer.write(positions, headers, samples)
    return dest


# ---------------------------------------------------------------------- gather figures
def test_rms_dead_and_non_finite_counts_match_a_direct_count() -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(0, 2.0, (10, 300)).astype(np.float32)
    data[2] = 0.0                  # dead: all zeros
    data[5] = 3.5                  # dead: constant
    data[7, 10:13] = np.nan        # not dead: broken
    data[8, 0] = np.inf
    qc = gather_qc(data, DT_MS, 1017)
    finite = data[np.isfinite(data)].astype(np.float64)
    assert qc.key_value == 1017 and qc.traces == 10
    assert qc.non_finite == 4
    assert qc.dead_traces == 2
    assert qc.rms == pytest.approx(np.sqrt(np.mean(finite ** 2)), rel=1e-5)


def test_the_dominant_frequency_of_a_sine_is_its_frequency() -> None:
    qc = gather_qc(sine_gather(23.7), DT_MS, 1)
    assert qc.dominant_hz == pytest.approx(23.7, abs=0.15)  # bins are 0.24 Hz apart


def test_the_dominant_frequency_of_a_ricker_wavelet_is_its_peak_frequency() -> None:
    n_fft = 1024
    wavelet = scipy.fft.irfft(ricker_spectrum(n_fft, DT_MS / 1000, 30.0), n_fft)
    gather = np.tile(np.roll(wavelet, 300)[:1001], (20, 1)).astype(np.float32)
    assert gather_qc(gather, DT_MS, 1).dominant_hz == pytest.approx(30.0, abs=0.5)


def test_a_dc_offset_does_not_pass_for_the_dominant_frequency() -> None:
    gather = sine_gather(40.0) + np.float32(5.0)
    assert gather_qc(gather, DT_MS, 1).dominant_hz == pytest.approx(40.0, abs=0.15)


def test_a_gather_without_live_traces_has_no_dominant_frequency() -> None:
    dead = gather_qc(np.zeros((6, 200), dtype=np.float32), DT_MS, 3)
    assert (dead.dead_traces, dead.rms, dead.dominant_hz) == (6, 0.0, None)
    broken = gather_qc(np.full((2, 50), np.nan, dtype=np.float32), DT_MS, 4)
    assert (broken.non_finite, broken.rms, broken.dominant_hz) == (100, 0.0, None)
    empty = gather_qc(np.zeros((0, 50), dtype=np.float32), DT_MS, 5)
    assert (empty.traces, empty.dominant_hz) == (0, None)


def test_huge_but_finite_amplitudes_are_not_counted_as_overflow() -> None:
    data = np.full((4, 100), 3e30, dtype=np.float32)
    data[:, ::2] = -3e30  # squares overflow float32; the figures must not
    qc = gather_qc(data, DT_MS, 1)
    assert qc.non_finite == 0 and qc.rms == pytest.approx(3e30, rel=1e-5)


def test_a_torch_tensor_gives_the_same_figures_as_numpy() -> None:
    torch = pytest.importorskip("torch")
    data = sine_gather(31.0, traces=20)
    data[3] = 0.0
    data[4, 7] = np.nan
    on_torch, on_numpy = gather_qc(torch.from_numpy(data), DT_MS, 9), gather_qc(data, DT_MS, 9)
    assert on_torch.rms == pytest.approx(on_numpy.rms, rel=1e-6)
    assert on_torch.dominant_hz == pytest.approx(on_numpy.dominant_hz, rel=1e-6)
    assert dataclasses.replace(on_torch, rms=0.0, dominant_hz=0.0) == dataclasses.replace(
        on_numpy, rms=0.0, dominant_hz=0.0)
    assert thumbnail(torch.from_numpy(data), DT_MS, 9) == thumbnail(data, DT_MS, 9)


def test_gather_qc_survives_a_json_round_trip() -> None:
    qc = gather_qc(sine_gather(12.0), DT_MS, 44)
    assert GatherQc.from_dict(json.loads(json.dumps(qc.to_dict()))) == qc
    none = GatherQc(1, 2, 0.0, 2, 0, None)
    assert GatherQc.from_dict(json.loads(json.dumps(none.to_dict()))) == none


# ---------------------------------------------------------------------- thumbnail
def test_a_big_gather_shrinks_to_the_thumbnail_bounds_with_its_time_step() -> None:
    picture = thumbnail(np.random.default_rng(0).normal(size=(480, 1501)).astype(np.float32),
                        2.0, 7)
    assert picture.data.shape == (THUMBNAIL_TRACES, 126)  # 1501 samples by 12
    assert picture.data.shape[1] <= THUMBNAIL_SAMPLES
    assert picture.dt_ms == 24.0 and picture.key_value == 7
    assert picture.data.dtype == np.float32
    assert picture.data.min() >= -1.0 and picture.data.max() <= 1.0
    assert np.mean(np.abs(picture.data) == 1.0) < 0.05  # clipped at a high percentile


def test_a_spike_survives_the_decimation_with_its_sign() -> None:
    data = np.zeros((10, 1000), dtype=np.float32)
    data[4, 503], data[7, 100] = -5.0, 2.0  # an average over 8 samples would show -5/8
    picture = thumbnail(data, DT_MS, 1)
    assert picture.data.shape == (10, 125)
    expected = np.zeros((10, 125), dtype=np.float32)
    expected[4, 503 // 8], expected[7, 100 // 8] = -1.0, 0.4
    assert np.allclose(picture.data, expected)


def test_nan_shows_as_zero_in_the_thumbnail() -> None:
    data = sine_gather(20.0, traces=4, samples=100)
    data[1] = np.nan
    picture = thumbnail(data, DT_MS, 1)
    assert np.all(np.isfinite(picture.data)) and np.all(picture.data[1] == 0)


def test_a_thumbnail_crosses_processes_as_float16() -> None:
    picture = thumbnail(sine_gather(20.0, traces=96, samples=512), DT_MS, 3)
    wire = pickle.dumps(picture)
    again = pickle.loads(wire)
    assert isinstance(again, Thumbnail) and again.data.dtype == np.float32
    assert np.allclose(again.data, picture.data, atol=1e-3)
    assert len(wire) < picture.data.nbytes * 0.6


# ---------------------------------------------------------------------- job QC
def result_with(qc: tuple[GatherQc, ...], picture: Thumbnail | None = None) -> UnitResult:
    return UnitResult(0, 10, len(qc), 0.1, 1.0, 1.0, qc=qc, thumbnail=picture)


def test_job_qc_accumulates_totals_and_keeps_the_latest_thumbnail() -> None:
    picture = Thumbnail(2, 8.0, np.zeros((2, 2), dtype=np.float32))
    first = JobQc().add(result_with((GatherQc(1, 10, 1.0, 2, 0, 20.0),
                                     GatherQc(2, 10, 1.5, 0, 7, None)), picture))
    second = first.add(result_with((GatherQc(3, 10, 0.5, 1, 1, 30.0),)))
    assert (second.gathers_seen, second.dead_traces, second.non_finite) == (3, 3, 8)
    assert second.thumbnail is picture and second.last == GatherQc(3, 10, 0.5, 1, 1, 30.0)
    assert first.gathers_seen == 2  # add returned a new QC; the old one is unchanged


def test_job_qc_keeps_the_last_gathers_but_counts_them_all() -> None:
    qc = JobQc()
    for start in range(0, QC_GATHERS_KEPT + 500, 100):
        qc = qc.extend([GatherQc(k, 1, 1.0, 1, 0, None) for k in range(start, start + 100)])
    assert len(qc.gathers) == QC_GATHERS_KEPT and qc.gathers_seen == QC_GATHERS_KEPT + 500
    assert qc.gathers[-1].key_value == QC_GATHERS_KEPT + 499
    assert qc.dead_traces == QC_GATHERS_KEPT + 500


# ---------------------------------------------------------------------- units and jobs
def flow_on(survey: Path, output: Path) -> Flow:
    return Flow.from_mapping({"name": "qc", "input": str(survey), "output": str(output),
                              "steps": [{"bandpass": {"f1": 5, "f2": 10, "f3": 60, "f4": 80}}]})


def test_a_unit_brings_back_the_qc_of_each_gather_and_one_thumbnail(
        small_survey: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(units, "THUMBNAIL_INTERVAL_S", 3600.0)
    survey = with_nan(small_survey, tmp_path / "nan.sgy", first_trace=24 * 3 + 5, n_traces=2)
    flow = flow_on(survey, tmp_path / "out.sgy")
    plan = plan_job(flow, gathers_per_unit=2)
    with UnitProcessor(flow, plan.partial_path, plan.output_layout) as worker:
        results = [worker.run(unit) for unit in plan.units]
    assert all(r is not None for r in results)
    first, second = results[0], results[1]
    assert first is not None and second is not None
    assert [q.key_value for q in first.qc] == [g.key_value for g in plan.units[0].gathers]
    assert first.thumbnail is not None
    assert first.thumbnail.key_value == plan.units[0].gathers[-1].key_value
    assert second.thumbnail is None  # one picture per interval per worker
    # The bandpass spreads the NaN of two traces over those whole traces.
    assert [q.non_finite for q in second.qc] == [0, 2 * 251]
    assert second.non_finite == 2 * 251


def test_the_unit_energy_still_matches_the_written_output(small_survey: Path,
                                                          tmp_path: Path) -> None:
    flow = flow_on(small_survey, tmp_path / "out.sgy")
    plan = plan_job(flow, gathers_per_unit=6)
    with UnitProcessor(flow, plan.partial_path, plan.output_layout) as worker:
        result = worker.run(plan.units[0])
    assert result is not None
    with open_segy(plan.partial_path) as written:
        samples = written.read_samples(np.arange(written.layout.n_traces)).astype(np.float64)
    assert result.sum_squares_out == pytest.approx(float(np.sum(samples ** 2)), rel=1e-4)


def test_the_manager_keeps_each_jobs_qc_and_announces_it_per_unit(
        small_survey: Path, tmp_path: Path) -> None:
    survey = with_nan(small_survey, tmp_path / "nan.sgy", first_trace=24 * 4, n_traces=1)
    manager = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=2),
                         CheckpointStore(tmp_path / "ck"), gathers_per_unit=2)
    events: list[JobEvent] = []
    manager.subscribe(lambda e: events.append(e) if e.kind is JobEventKind.UNIT_COMPLETED
                      else None)
    try:
        job = manager.submit(flow_on(survey, tmp_path / "out.sgy"))
        assert manager.wait(job.id, timeout_s=60).state is JobState.COMPLETED
        qc = manager.qc(job.id)
    finally:
        manager.close(active="cancel")
    assert qc.gathers_seen == 6 and qc.non_finite == 251 and qc.thumbnail is not None
    assert sorted(q.key_value for q in qc.gathers) == sorted(
        GatherQc.from_dict(d).key_value for e in events for d in e.detail["qc"])
    assert sorted(e.detail["unit"] for e in events) == [0, 1, 2]
    assert sum(e.detail["non_finite"] for e in events) == 251
    assert manager.qc("no-such-job") == JobQc()
