"""Running ``seisproc`` as a user does, in real processes: a job-sized survey, a project
folder with flows, and waiting on the job history (shared by the CLI job tests)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from seisproc.history import JobHistoryStorage
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.jobs.model import Job

SEISPROC = [sys.executable, "-m", "seisproc"]
FLOW = """\
name: decon-bandpass-agc
input: shots.sgy
output: {output}
gather_by: ffid
steps:
  - spiking_decon: {{operator_ms: 160}}
  - bandpass: {{f1: 5, f2: 10, f3: 60, f4: 80}}
  - agc: {{window_ms: 500}}
"""


@pytest.fixture(scope="session")
def job_survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Big enough for a job of several seconds on 2 cores, with many units to kill between:
    24 units of 4 gathers; the slow flow is about 6 s of one core's processing, half the
    job still ahead after several progress saves (0.5 s apart). 160 shots made every
    job these tests finish 4 s of a core longer, and the kill no more certain."""
    folder = tmp_path_factory.mktemp("survey")
    return synthesize_survey(folder / "shots.sgy",
                             SurveyGeometry(shots=96, channels=96, samples=1001, dt_ms=4.0))


@pytest.fixture
def job_project(job_survey: Path, tmp_path: Path) -> Path:
    return project_on(job_survey, tmp_path)


def project_on(survey: Path, folder: Path) -> Path:
    """``folder`` with ``shots.sgy`` linked to ``survey`` and the flows out/ref (the
    decon-bandpass-agc flow) and slow/slow_ref (eight more long decons: with four, the job
    ended before a second terminal's ``pause`` landed once workers kept their freed
    memory and IBM samples were converted compiled), writing
    out.sgy/ref.sgy. A test whose job need not be caught running uses a small survey."""
    (folder / "shots.sgy").symlink_to(survey)
    for name in ("out", "ref"):
        (folder / f"{name}.yaml").write_text(FLOW.format(output=f"{name}.sgy"))
    for name, output in (("slow", "out.sgy"), ("slow_ref", "ref.sgy")):
        (folder / f"{name}.yaml").write_text(slower(FLOW.format(output=output), 8))
    return folder


def slower(flow: str, decons: int) -> str:
    """``flow`` with ``decons`` 400 ms spiking decons before its bandpass."""
    return flow.replace("  - bandpass:",
                        "  - spiking_decon: {operator_ms: 400}\n" * decons + "  - bandpass:")


def seisproc(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([*SEISPROC, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``seisproc`` in a session of its own, with Ctrl-C (SIGINT) at its default even when
    this test run was started in the background, where the shell ignores SIGINT and its
    children (Python included) inherit that: a user's terminal delivers Ctrl-C."""
    return subprocess.Popen([*SEISPROC, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=_default_sigint)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def store(env: dict[str, str]) -> JobHistoryStorage:
    return JobHistoryStorage(f"sqlite:///{env['SEISPROC_HOME']}/job_history.db")


def wait_for(env: dict[str, str], check: Callable[[Job], bool], timeout: float = 120) -> Job:
    deadline = time.monotonic() + timeout
    history = store(env)
    try:
        while time.monotonic() < deadline:
            jobs = history.get_recent(5)
            if jobs and check(jobs[0]):
                return jobs[0]
            time.sleep(0.05)
    finally:
        history.close()
    raise AssertionError("the job never reached the expected state")
