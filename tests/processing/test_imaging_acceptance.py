"""Issue 17's acceptance on a synthetic line of known velocities (a layered earth traced
ray by ray, noise added): automatic picks, the stack with the true velocities, its
signal-to-noise gain, and a diffractor collapsing under migration.

NMO runs as a job's units run it (``UnitProcessor``, the trace headers giving each
gather's offsets and CDPs), over gathers by CDP read through the gather index.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from seisproc.io.index import gather_index
from seisproc.io.segy import SegyFile, open_segy
from seisproc.io.synth import SurveyGeometry
from seisproc.io.synth_geology import (
    LayeredEarth,
    PointDiffractor,
    midpoint_x_m,
    synthesize_imaging_line,
)
from seisproc.jobs.plan import plan_job
from seisproc.jobs.units import UnitProcessor
from seisproc.processing.flow import Flow
from seisproc.processing.imaging import (
    VelocityTable,
    phase_shift_migration,
    pick_velocity_function,
    semblance_panel,
    stack_gather,
    write_velocity_table,
)
from seisproc.processing.imaging.semblance import velocity_scan

GEOMETRY = SurveyGeometry(shots=40, channels=96, samples=451, dt_ms=4.0)
FLAT = LayeredEarth(dipping=None, diffractor=None, noise=0.05)


def _true_table(path: Path, earth: LayeredEarth) -> Path:
    times = np.concatenate([[0.0], earth.zero_offset_times_ms()])
    vrms = np.concatenate([[earth.velocities_m_s[0]], earth.rms_velocities_m_s()])
    return write_velocity_table(path, VelocityTable.from_picks(np.full(times.size, 1), times, vrms))


def _nmo_by_cdp(line: Path, table: Path, out: Path) -> Path:
    """The line NMO-corrected by a one-stage job's units, gathered by CDP."""
    flow = Flow.from_mapping(
        {
            "name": "nmo",
            "input": str(line),
            "output": str(out),
            "gather_by": "cdp",
            "steps": [{"nmo": {"velocities": str(table), "stretch_mute_percent": 30}}],
        }
    )
    plan = plan_job(flow)
    with UnitProcessor(plan.flow, plan.partial_path, plan.output_layout) as worker:
        for unit in plan.units:
            assert worker.run(unit) is not None
    return plan.partial_path


def _gathers(path: Path) -> tuple[SegyFile, np.ndarray, list[np.ndarray]]:
    segy = open_segy(path)
    index = gather_index(segy, "cdp", cache=False)
    return segy, np.asarray(index.keys), [index.positions(i) for i in range(len(index))]


def _stack(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CDP numbers, the stacked section and each CDP's fold."""
    segy, cdps, positions = _gathers(path)
    with segy:
        stacks = [stack_gather(segy.read(p)[0]) for p in positions]
    return cdps, np.stack([s.samples for s in stacks]), np.array([s.fold for s in stacks])


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("imaging")
    clean = LayeredEarth(dipping=None, diffractor=None, noise=0.0)
    table = _true_table(folder / "true.csv", FLAT)
    paths = {
        "noisy": synthesize_imaging_line(folder / "noisy.sgy", GEOMETRY, earth=FLAT),
        "clean": synthesize_imaging_line(folder / "clean.sgy", GEOMETRY, earth=clean),
        "table": table,
    }
    paths["noisy_nmo"] = _nmo_by_cdp(paths["noisy"], table, folder / "noisy_nmo.sgy")
    paths["clean_nmo"] = _nmo_by_cdp(paths["clean"], table, folder / "clean_nmo.sgy")
    return paths


def test_auto_picked_velocities_are_within_3_percent_of_the_truth(lines: dict[str, Path]) -> None:
    segy, cdps, positions = _gathers(lines["noisy"])
    sizes = np.array([p.size for p in positions])
    full = np.flatnonzero(sizes == sizes.max())
    scan = velocity_scan(1500, 3000, 20)
    with segy:
        for at in full[1:-1:8]:  # super-gathers of three CDPs, every 8th full-fold CDP
            picked = [segy.read(positions[i]) for i in (at - 1, at, at + 1)]
            gather = np.concatenate([samples for samples, _ in picked])
            offsets = np.concatenate([segy.offsets_m(headers) for _, headers in picked])
            panel = semblance_panel(
                gather, offsets, GEOMETRY.dt_ms, scan, window_ms=40.0, stretch_mute_percent=50
            )
            times, velocities = pick_velocity_function(panel)
            at_reflectors = np.interp(FLAT.zero_offset_times_ms(), times, velocities)
            error = np.abs(at_reflectors / FLAT.rms_velocities_m_s() - 1.0)
            assert error.max() < 0.03, f"CDP {cdps[at]}: picks {times} {velocities}"


def test_the_stack_puts_each_reflector_at_its_zero_offset_time_on_every_full_fold_cdp(
    lines: dict[str, Path],
) -> None:
    cdps, section, fold = _stack(lines["noisy_nmo"])
    full = fold == fold.max()
    assert fold.max() == GEOMETRY.channels * GEOMETRY.group_interval_m / (
        2 * GEOMETRY.shot_interval_m
    )
    expected = np.round(FLAT.zero_offset_times_ms() / GEOMETRY.dt_ms).astype(int)
    for cdp, trace in zip(cdps[full], section[full], strict=True):
        for sample in expected:
            window = np.abs(trace[sample - 8 : sample + 9])
            assert abs(int(np.argmax(window)) - 8) <= 1, f"CDP {cdp}, sample {sample}"


def test_the_stack_gains_at_least_0_7_sqrt_fold_in_signal_to_noise(lines: dict[str, Path]) -> None:
    _, noisy, fold = _stack(lines["noisy_nmo"])
    _, clean, _ = _stack(lines["clean_nmo"])
    full = fold == fold.max()
    deepest = round(FLAT.zero_offset_times_ms()[-1] / GEOMETRY.dt_ms)
    window = slice(deepest - 60, deepest + 61)
    stack_snr = np.abs(clean[full, deepest]).mean() / np.std(
        noisy[full, window] - clean[full, window]
    )
    # A single trace's figures after the same NMO (whose interpolation smooths noise).
    signal, noise = [], []
    for clean_trace, noisy_trace in zip(
        _full_fold_traces(lines["clean_nmo"], full),
        _full_fold_traces(lines["noisy_nmo"], full),
        strict=True,
    ):
        signal.append(np.abs(clean_trace[:, deepest]))
        noise.append(noisy_trace[:, window] - clean_trace[:, window])
    trace_snr = np.concatenate(signal).mean() / np.std(np.concatenate(noise))
    gain = stack_snr / trace_snr
    assert gain >= 0.7 * math.sqrt(fold.max()), f"gain {gain:.2f} for fold {fold.max()}"


def _full_fold_traces(path: Path, full: np.ndarray) -> list[np.ndarray]:
    segy, _, positions = _gathers(path)
    with segy:
        return [segy.read(positions[i])[0] for i in np.flatnonzero(full)]


def test_a_point_diffractor_collapses_under_phase_shift_migration(tmp_path: Path) -> None:
    diffractor = PointDiffractor(x_m=10_950.0, depth_m=1_150.0)
    earth = LayeredEarth(
        reflections=(0.0, 0.0, 0.0), dipping=None, diffractor=diffractor, noise=0.002
    )
    line = synthesize_imaging_line(tmp_path / "diffractor.sgy", GEOMETRY, earth=earth)
    times = np.arange(0.0, GEOMETRY.samples * GEOMETRY.dt_ms, 20.0)
    table = write_velocity_table(
        tmp_path / "v.csv",
        VelocityTable.from_picks(np.ones(times.size), times, earth.rms_velocity_at(times)),
    )
    cdps, section, _ = _stack(_nmo_by_cdp(line, table, tmp_path / "nmo.sgy"))
    assert (np.diff(cdps) == 1).all()
    vrms = earth.rms_velocity_at(np.arange(GEOMETRY.samples) * GEOMETRY.dt_ms)
    image = phase_shift_migration(section, GEOMETRY.dt_ms, GEOMETRY.group_interval_m / 2, vrms)
    apex_trace = int(np.argmin(np.abs(midpoint_x_m(GEOMETRY, cdps) - diffractor.x_m)))
    apex_sample = round(
        2000.0 * earth.one_way_time_s(np.zeros(1), diffractor.depth_m)[0] / GEOMETRY.dt_ms
    )

    def near_apex(a: np.ndarray) -> float:
        energy = a.astype(np.float64) ** 2
        return float(
            energy[apex_trace - 3 : apex_trace + 4, apex_sample - 5 : apex_sample + 6].sum()
            / energy.sum()
        )

    assert near_apex(section) < 0.15
    assert near_apex(image) > 0.6
    peak = np.unravel_index(np.argmax(np.abs(image)), image.shape)
    assert abs(peak[0] - apex_trace) <= 1 and abs(peak[1] - apex_sample) <= 1
