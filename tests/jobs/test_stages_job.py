"""Flows with stages run as one job: shots filtered by FFID, then NMO and stack by CDP.

The reference is the kernels applied by hand in this test (bandpass on each shot, then
NMO and :func:`stack_gather` on each CMP gathered from the filtered shots), never the
engine's own output.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import segyio

from engine_faults import sleepy_processor
from seisproc.io.headers import header_field, read_column
from seisproc.io.index import gather_index
from seisproc.io.segy import open_segy
from seisproc.io.synth import SurveyGeometry
from seisproc.io.synth_geology import LayeredEarth, synthesize_imaging_line
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import JobState
from seisproc.jobs.ports import Completion, JobSpec
from seisproc.jobs.units import WorkUnit, gather_context
from seisproc.processing import create_processor
from seisproc.processing.flow import Flow, Step
from seisproc.processing.imaging import VelocityTable, stack_gather, write_velocity_table

S = JobState
GEOMETRY = SurveyGeometry(shots=12, channels=24, samples=401, dt_ms=4.0)
EARTH = LayeredEarth(dipping=None, diffractor=None, noise=0.05)
BANDPASS = {"f1": 4, "f2": 8, "f3": 60, "f4": 80}


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small geology line (``seisproc synth --geology``) and its true velocity table."""
    folder = tmp_path_factory.mktemp("line")
    shots = synthesize_imaging_line(folder / "shots.sgy", GEOMETRY, EARTH)
    times = np.concatenate([[0.0], EARTH.zero_offset_times_ms()])
    vrms = np.concatenate([[EARTH.velocities_m_s[0]], EARTH.rms_velocities_m_s()])
    table = write_velocity_table(folder / "vel.csv",
                                 VelocityTable.from_picks(np.full(times.size, 1), times, vrms))
    return shots, table


def stack_flow(line: tuple[Path, Path], out: Path, slow_ms: float = 0.0,
               **extra: object) -> Flow:
    shots, table = line
    second = [{"nmo": {"velocities": str(table), "stretch_mute_percent": 30}}, {"stack": {}}]
    if slow_ms:
        second.insert(0, {"test_sleepy": {"ms": slow_ms}})
    return Flow.from_mapping({
        "name": "line-stack", "input": str(shots), "output": str(out), **extra,
        "stages": [{"gather_by": "ffid", "steps": [{"bandpass": BANDPASS}]},
                   {"gather_by": "cdp", "steps": second}]})


def engine(tmp_path: Path, store: MemoryJobStore | None = None) -> JobManager:
    return JobManager(store or MemoryJobStore(), lambda: ThreadExecutor(workers=2),
                      CheckpointStore(tmp_path / "ckpt"), gathers_per_unit=1)


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[JobManager]:
    m = engine(tmp_path)
    yield m
    m.close(active="cancel")


def by_hand(shots: Path, table: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CDPs, stacked traces and folds: bandpass per shot, then NMO and stack per CDP."""
    bandpass = create_processor("bandpass", BANDPASS)
    nmo = create_processor("nmo", {"velocities": str(table), "stretch_mute_percent": 30})
    with open_segy(shots) as segy:
        filtered = np.zeros((segy.layout.n_traces, segy.layout.n_samples), np.float32)
        shot_index = gather_index(segy, "ffid", cache=False)
        for g in range(len(shot_index)):
            positions = shot_index.positions(g).astype(np.int64)
            samples, headers = segy.read(positions)
            filtered[positions] = bandpass.apply(samples, gather_context(segy, headers))
        cdp_index = gather_index(segy, "cdp", cache=False)
        stacks, folds = [], []
        for g in range(len(cdp_index)):
            positions = cdp_index.positions(g).astype(np.int64)
            _, headers = segy.read(positions)
            corrected = nmo.apply(filtered[positions], gather_context(segy, headers))
            stacked = stack_gather(np.asarray(corrected, dtype=np.float32))
            stacks.append(stacked.samples)
            folds.append(stacked.fold)
        return np.asarray(cdp_index.keys), np.stack(stacks), np.array(folds)


def hidden_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_two_stages_give_one_trace_per_cdp_equal_to_the_kernels_by_hand(
        manager: JobManager, line: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "stack.sgy"
    job = manager.wait(manager.submit(stack_flow(line, out)).id, timeout_s=120)
    assert job.state is S.COMPLETED, job.message
    cdps, expected, folds = by_hand(*line)
    with segyio.open(out, ignore_geometry=True) as f:
        assert f.tracecount == len(cdps)
        got_cdps = f.attributes(segyio.TraceField.CDP)[:]
        assert list(got_cdps) == sorted(got_cdps) == list(cdps)
        assert set(f.attributes(segyio.TraceField.offset)[:]) == {0}
        assert list(f.attributes(segyio.TraceField.NStackedTraces)[:]) == list(folds)
        got = f.trace.raw[:]
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(got, expected, atol=1e-5 * scale, rtol=0)
    assert job.progress.units_done == job.progress.units_total
    assert job.progress.traces_total == GEOMETRY.shots * GEOMETRY.channels * 2
    assert hidden_files(tmp_path) == []  # the intermediate is removed on completion


def test_a_stack_opens_in_obspy_with_one_trace_per_cdp_in_order(
        manager: JobManager, line: tuple[Path, Path], tmp_path: Path) -> None:
    obspy = pytest.importorskip("obspy")
    out = tmp_path / "stack.sgy"
    job = manager.wait(manager.submit(stack_flow(line, out)).id, timeout_s=120)
    assert job.state is S.COMPLETED, job.message
    cdps = by_hand(*line)[0]
    stream = obspy.read(str(out), format="SEGY", unpack_trace_headers=True)
    got = [t.stats.segy.trace_header.ensemble_number for t in stream]
    assert len(stream) == len(cdps) and got == sorted(got) == list(cdps)


def test_stack_keeps_the_first_live_traces_headers_with_offset_zero(
        manager: JobManager, line: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "stack.sgy"
    manager.wait(manager.submit(stack_flow(line, out)).id, timeout_s=120)
    with open_segy(line[0]) as shots, open_segy(out) as stacked:
        index = gather_index(shots, "cdp", cache=False)
        first = shots.read_records(index.positions(3).astype(np.int64)[:1])["header"]
        header = stacked.read_records(np.array([3]))["header"]
        endian = shots.layout.endian
        for key in ("cdp", "cdpx", "cdpy", "ffid"):
            field = header_field(key)
            assert read_column(header, field, endian)[0] == read_column(first, field, endian)[0]


def test_keep_intermediate_keeps_the_first_stages_output(
        manager: JobManager, line: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "kept.sgy"
    job = manager.wait(manager.submit(stack_flow(line, out, keep_intermediate=True)).id, 120)
    assert job.state is S.COMPLETED
    kept = hidden_files(tmp_path)
    assert kept == [f".kept.sgy.{job.id}.stage1.seisproc-intermediate"]
    with segyio.open(tmp_path / kept[0], ignore_geometry=True) as f:
        assert f.tracecount == GEOMETRY.shots * GEOMETRY.channels


def test_paused_mid_stage_two_and_resumed_by_another_process_is_byte_identical(
        line: tuple[Path, Path], tmp_path: Path) -> None:
    out, direct = tmp_path / "resumed.sgy", tmp_path / "direct.sgy"
    with sleepy_processor():
        first = engine(tmp_path)
        job = first.submit(stack_flow(line, out, slow_ms=15))
        first.wait(job.id, 60, until=lambda j: "stage 2" in j.message
                   and j.progress.units_done >= GEOMETRY.shots + 3)
        first.close(active="pause")
        assert first.get(job.id).state is S.PAUSED
        assert not out.exists()
        second = JobManager(first.store, lambda: ThreadExecutor(2),
                            CheckpointStore(tmp_path / "ckpt"), gathers_per_unit=4)
        try:
            taken = second.store.take_over(job.id, second.owner, 30, owner_dead=True)
            second.store.save_job(taken or job)
            resumed = second.resume(job.id)
            assert second.wait(resumed.id, 120).state is S.COMPLETED
            again = second.wait(second.submit(stack_flow(line, direct, slow_ms=15)).id, 120)
            assert again.state is S.COMPLETED
        finally:
            second.close(active="cancel")
    assert out.read_bytes()[3200:] == direct.read_bytes()[3200:]
    assert hidden_files(tmp_path) == []


def test_cancel_mid_stage_two_removes_the_intermediate_and_the_partial(
        manager: JobManager, line: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "cancelled.sgy"
    with sleepy_processor():
        job = manager.submit(stack_flow(line, out, slow_ms=15))
        manager.wait(job.id, 60, until=lambda j: "stage 2" in j.message)
        assert any(".stage1.seisproc-intermediate" in n for n in hidden_files(tmp_path))
        manager.cancel(job.id)
        assert manager.wait(job.id, 30).state is S.CANCELLED
    assert hidden_files(tmp_path) == [] and not out.exists()


def test_a_stack_gathered_by_ffid_fails_before_any_work(line: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    from seisproc.errors import FlowError
    mapping = stack_flow(line, tmp_path / "x.sgy").to_mapping()
    mapping["stages"][1]["gather_by"] = "ffid"
    with pytest.raises(FlowError, match="stack averages the traces of a CMP: put it in a "
                                        "stage with gather_by: cdp"):
        Flow.from_mapping(mapping)
    assert list(tmp_path.iterdir()) == []


class LosesStageTwoWorkers(ThreadExecutor):
    """Loses the worker of every third stage-2 unit once, as a node dying mid-stage."""

    def __init__(self) -> None:
        super().__init__(workers=2)
        self.lost: set[int] = set()
        self._lost_lock = threading.Lock()

    def _run(self, spec: JobSpec, unit: WorkUnit, stop: threading.Event) -> None:
        with self._lost_lock:
            lose = spec.flow.gather_by == "cdp" and unit.number % 3 == 1 \
                and unit.number not in self.lost
            if lose:
                self.lost.add(unit.number)
        if lose:
            self._done.put(Completion(spec.job_id, unit, worker_lost=True, node="node-9"))
            return
        super()._run(spec, unit, stop)


def test_workers_lost_in_stage_two_are_retried_to_the_same_stack(
        line: tuple[Path, Path], tmp_path: Path) -> None:
    losing = LosesStageTwoWorkers()
    m = JobManager(MemoryJobStore(), lambda: losing, CheckpointStore(tmp_path / "ckpt"),
                   gathers_per_unit=1)
    try:
        job = m.wait(m.submit(stack_flow(line, tmp_path / "lossy.sgy")).id, 120)
        clean = m.wait(m.submit(stack_flow(line, tmp_path / "clean.sgy")).id, 120)
    finally:
        m.close(active="cancel")
    assert job.state is S.COMPLETED and clean.state is S.COMPLETED, job.message
    assert len(losing.lost) > 5
    lossy, direct = (tmp_path / "lossy.sgy").read_bytes(), (tmp_path / "clean.sgy").read_bytes()
    assert lossy[3200:] == direct[3200:]


def test_a_checkpoint_of_an_ended_stage_starts_the_next_one(tmp_path: Path) -> None:
    """A crash between a stage's hand-over (its intermediate whole) and the next stage's
    plan: the resume starts the next stage, not the first."""
    from seisproc.jobs.fingerprint import InputIdentity, PlanFingerprint
    from seisproc.jobs.staging import intermediate_path, stage_partial_path, stage_to_run
    flow = Flow.from_mapping({"name": "s", "input": str(tmp_path / "in.sgy"),
                              "output": str(tmp_path / "out.sgy"), "stages": [
                                  {"gather_by": "ffid", "steps": [{"agc": {"window_ms": 200}}]},
                                  {"gather_by": "cdp", "steps": [{"stack": {}}]}]})
    stage_one = PlanFingerprint(InputIdentity("in", 1, 0, "0"), "f", 1, 2, 8, stage=1)
    assert stage_to_run(flow, "j", None) == (1, False)
    assert stage_to_run(flow, "j", stage_one) == (1, False)  # nothing on disk: start over
    stage_partial_path(flow, "j", 1).write_bytes(b"")
    assert stage_to_run(flow, "j", stage_one) == (1, True)
    stage_partial_path(flow, "j", 1).rename(intermediate_path(flow.output, "j", 1))
    assert stage_to_run(flow, "j", stage_one) == (2, False)
    stage_two = PlanFingerprint(InputIdentity("i", 1, 0, "0"), "f", 1, 2, 8, stage=2)
    stage_partial_path(flow, "j", 2).write_bytes(b"")
    assert stage_to_run(flow, "j", stage_two) == (2, True)


def test_a_third_stage_by_section_migrates_the_stack_as_phase_shift_migration_does(
        manager: JobManager, line: tuple[Path, Path], tmp_path: Path) -> None:
    from seisproc.processing.imaging import phase_shift_migration
    from seisproc.processing.imaging.migration import migration_velocity
    from seisproc.processing.imaging.velocity import read_velocity_table
    shots, table = line
    mapping = stack_flow(line, tmp_path / "migrated.sgy").to_mapping()
    spacing = GEOMETRY.group_interval_m / 2
    mapping["stages"].append({"gather_by": "section", "steps": [{"phase_shift_migration": {
        "velocities": str(table), "trace_spacing_m": spacing}}]})
    job = manager.wait(manager.submit(Flow.from_mapping(mapping)).id, timeout_s=120)
    assert job.state is S.COMPLETED, job.message
    cdps, section, _ = by_hand(shots, table)
    vrms = migration_velocity(read_velocity_table(table), cdps, GEOMETRY.samples, GEOMETRY.dt_ms)
    expected = phase_shift_migration(section, GEOMETRY.dt_ms, spacing, vrms)
    with segyio.open(tmp_path / "migrated.sgy", ignore_geometry=True) as f:
        assert list(f.attributes(segyio.TraceField.CDP)[:]) == list(cdps)
        got = f.trace.raw[:]
    np.testing.assert_allclose(got, expected, atol=1e-4 * float(np.abs(expected).max()), rtol=0)
    assert hidden_files(tmp_path) == []


def test_migration_in_a_stage_gathered_by_cdp_is_refused(line: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    from seisproc.errors import FlowError
    mapping = stack_flow(line, tmp_path / "x.sgy").to_mapping()
    mapping["stages"].append({"gather_by": "cdp", "steps": [{"phase_shift_migration": {
        "velocities": str(line[1]), "trace_spacing_m": 12.5}}]})
    with pytest.raises(FlowError, match="stage 3: step 1 .*put it in a stage with "
                                        "gather_by: section"):
        Flow.from_mapping(mapping)


def test_panels_refuse_a_flow_with_stages_saying_what_to_write(line: tuple[Path, Path],
                                                               tmp_path: Path) -> None:
    from seisproc.errors import SeisprocError
    from seisproc.jobs.panels import check_panels
    with pytest.raises(SeisprocError, match="write the stage to test as a one-stage flow"):
        check_panels([stack_flow(line, tmp_path / "x.sgy")], [1])


def test_a_one_stage_flow_is_its_own_stage_with_the_files_and_plan_it_always_had(
        line: tuple[Path, Path], tmp_path: Path) -> None:
    from seisproc.jobs.plan import partial_path_for
    from seisproc.jobs.staging import job_files, stage_flow
    flow = Flow.from_mapping({"name": "bp", "input": str(line[0]),
                              "output": str(tmp_path / "bp.sgy"),
                              "steps": [{"bandpass": BANDPASS}]})
    assert stage_flow(flow, 1, "j") is flow
    assert job_files(flow, "j") == [partial_path_for(flow.output, "j")]
    slow = flow.model_copy(update={"steps": [Step(processor="test_sleepy",
                                                  params={"ms": 50}), *flow.steps]})
    checkpoints = CheckpointStore(tmp_path / "ckpt")
    m = JobManager(MemoryJobStore(), lambda: ThreadExecutor(2), checkpoints,
                   gathers_per_unit=1)
    with sleepy_processor():
        try:
            job = m.submit(slow)
            m.wait(job.id, 60, until=lambda j: j.progress.units_done >= 1)
            assert "stage" not in checkpoints.plan_path(job.id).read_text()  # as before
            assert m.wait(job.id, 60).state is S.COMPLETED
        finally:
            m.close(active="cancel")


def test_the_stacks_textual_header_records_the_whole_flow(
        manager: JobManager, line: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "stack.sgy"
    manager.wait(manager.submit(stack_flow(line, out)).id, timeout_s=120)
    with segyio.open(out, ignore_geometry=True) as f:
        text = segyio.tools.wrap(f.text[0])
    assert "2 stages" in text and "STAGE 2 by cdp" in text and "stack()" in text
