"""QC in the loop on Ray: a job whose output holds NaN is paused by the qc_non_finite
alert rule, and can be resumed or cancelled after.

The issue's acceptance: the default engine (:func:`seisproc.engine.open_manager`, Ray
workers, SQLite history), a survey with NaN samples in its first gather, and an alert
manager whose built-in QC rule pauses the job through the ``pause_job`` action.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from ray_helpers import SLOW, make_flow

from seisproc.alerts import AlertManager, open_alert_manager, parse_alert_config
from seisproc.engine import open_manager
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.io.segy import open_segy
from seisproc.io.writer import SegyWriter
from seisproc.jobs.manager import JobManager
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.plan import partial_path_for
from seisproc.monitoring import JobTracker

S = JobState
NAN_GEOMETRY = SurveyGeometry(shots=240, channels=48, samples=501, dt_ms=4.0)
"""60 units of 4 gathers, about 1 s of work after the first unit here (the pause landed
after 2 or 3 units): room for a loaded machine to be slow."""
NAN_SAMPLES = 3


@pytest.fixture(scope="module")
def nan_survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The survey with NaN in 3 samples of channel 5 of the first shot."""
    path = synthesize_survey(tmp_path_factory.mktemp("qc") / "nan.sgy", NAN_GEOMETRY)
    with open_segy(path) as segy:
        samples, headers = segy.read(np.array([5]))
        layout = segy.layout
    samples[0, 200:200 + NAN_SAMPLES] = np.nan
    with SegyWriter(path, layout) as writer:
        writer.write(np.array([5]), headers, samples)
    return path


@dataclass
class Engine:
    manager: JobManager
    alerts: AlertManager


@pytest.fixture
def engine(ray_cluster: None) -> Iterator[Engine]:
    """The default engine on Ray hosting the built-in alert rules, as ``seisproc run``
    and the GUI do: job rules checked at each unit, ``pause_job`` acting on the manager."""
    manager = open_manager(workers=2)
    alerts = open_alert_manager(config=parse_alert_config(""), jobs=manager)
    tracker = JobTracker.following(manager)
    tracker.on_unit(alerts.check_job)
    yield Engine(manager, alerts)
    manager.close(active="cancel")
    tracker.close()
    alerts.close()


def paused_by_qc(manager: JobManager, job: Job) -> Job:
    """Wait for the job to leave RUNNING; it must be the QC alert that paused it."""
    moved = manager.wait(job.id, 120, until=lambda j: j.state not in (S.QUEUED, S.RUNNING))
    assert moved.state is S.PAUSED, f"{moved.state.value}: {moved.message}"
    assert moved.message.startswith("paused by alert qc_non_finite: ")
    assert f"({job.id}) wrote" in moved.message
    return moved


def test_a_job_writing_nan_is_paused_by_the_qc_alert_then_resumed_to_completion(
        engine: Engine, nan_survey: Path, tmp_path: Path) -> None:
    manager = engine.manager
    job = manager.submit(make_flow(nan_survey, tmp_path / "out.sgy", SLOW))
    paused_by_qc(manager, job)
    # In-flight units land and are kept; nothing more is dispatched.
    settled = manager.wait(job.id, 1.5, until=lambda j: False)
    assert settled.state is S.PAUSED
    assert settled.progress.units_done < settled.progress.units_total
    assert manager.qc(job.id).non_finite > 0

    manager.resume(job.id)
    done = manager.wait(job.id, 120)
    assert done.state is S.COMPLETED, done.message  # not paused again by the same rule
    qc = manager.qc(job.id)
    with open_segy(tmp_path / "out.sgy") as output:
        written = output.read_samples(np.arange(output.layout.n_traces))
    assert qc.non_finite == int(np.count_nonzero(~np.isfinite(written))) > 0
    assert qc.gathers_seen == NAN_GEOMETRY.shots and qc.thumbnail is not None
    assert [a.rule for a in engine.alerts.recent()] == ["qc_non_finite"]


def test_a_job_paused_by_the_qc_alert_can_be_cancelled(engine: Engine, nan_survey: Path,
                                                        tmp_path: Path) -> None:
    manager = engine.manager
    out = tmp_path / "cancelled.sgy"
    job = manager.submit(make_flow(nan_survey, out, SLOW))
    paused_by_qc(manager, job)
    manager.cancel(job.id)
    final = manager.wait(job.id, 30)
    assert final.state is S.CANCELLED, final.message
    assert not out.exists() and not partial_path_for(out, job.id).exists()
