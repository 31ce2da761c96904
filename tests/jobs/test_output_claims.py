"""Output claims taken off submit()'s thread: a conflict is still refused at once where it
can be seen, a claim another process takes in the instant after is a FAILED job naming
it, and a job that ended before its claim was created leaves none behind."""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.io.claim import OutputClaimed, claim_output, claim_path, read_claim
from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.events import JobEventKind
from seisproc.jobs.manager import JobManager
from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
from seisproc.jobs.model import Job, JobState
from seisproc.jobs.plan import partial_path_for
from seisproc.processing.flow import Flow

S = JobState
STEPS = [{"agc": {"window_ms": 200}}]


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("survey")
    return synthesize_survey(folder / "shots.sgy",
                             SurveyGeometry(shots=4, channels=24, samples=251, dt_ms=4.0))


def engine(folder: Path) -> JobManager:
    return JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=2),
                      CheckpointStore(folder / "ckpt"), max_running=4, gathers_per_unit=2)


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[JobManager]:
    m = engine(tmp_path)
    yield m
    m.close(active="cancel")


@pytest.fixture
def other_process() -> Iterator[str]:
    """The ``host:pid`` of a live process that is not this one (another terminal)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield f"{socket.gethostname()}:{child.pid}"
    child.kill()
    child.wait()


def flow_to(survey: Path, out: Path) -> Flow:
    return Flow.from_mapping({"name": out.stem, "input": str(survey), "output": str(out),
                              "steps": STEPS})


def hold_the_claim_thread(manager: JobManager, survey: Path, folder: Path) -> Job:
    """Submit a job whose output has an empty claim file, as one whose creator has not
    written it yet: the claim thread reads it again for a second before judging it
    (``io.claim``'s torn-read wait), so the claims submitted next wait that long."""
    blocker = folder / "blocker.sgy"
    claim_path(blocker).write_bytes(b"")
    return manager.submit(flow_to(survey, blocker))


@pytest.mark.parametrize("waiting", [False, True], ids=["queued", "waiting"])
def test_a_claim_another_process_takes_just_after_submit_fails_the_job_naming_it(
        manager: JobManager, survey: Path, tmp_path: Path, other_process: str,
        waiting: bool) -> None:
    ends: dict[str, str] = {}
    manager.subscribe(lambda e: ends.update({e.job.id: e.detail.get("from", "")})
                      if e.kind is JobEventKind.STATE_CHANGED and e.job.state is S.FAILED
                      else None)
    blocker = hold_the_claim_thread(manager, survey, tmp_path)
    raced = tmp_path / "raced.sgy"
    job = manager.submit(flow_to(survey, raced), after=[blocker.id] if waiting else [])
    assert not claim_path(raced).exists()  # still being taken: the check saw none
    theirs = claim_output(raced, "0a1b2c3d", other_process)  # another terminal, meanwhile
    failed = manager.wait(job.id, 30)
    assert failed.state is S.FAILED and failed.error is not None
    assert failed.error.message == (
        f"{raced}: job 0a1b2c3d ({other_process}) is already writing this output; wait "
        "for it, or cancel it: seisproc cancel 0a1b2c3d")
    if waiting:  # at once, not once what it waits for has ended
        assert ends[job.id] == "WAITING"
    assert read_claim(raced) == theirs  # theirs is left alone
    assert not raced.exists() and not partial_path_for(raced, job.id).exists()
    assert manager.wait(blocker.id, 60).state is S.COMPLETED


def test_a_second_job_on_an_output_whose_claim_is_being_created_is_refused_at_once(
        manager: JobManager, survey: Path, tmp_path: Path) -> None:
    hold_the_claim_thread(manager, survey, tmp_path)
    same = tmp_path / "same.sgy"
    first = manager.submit(flow_to(survey, same))
    assert not claim_path(same).exists()
    second_engine = engine(tmp_path / "second")
    try:
        for other in (manager, second_engine):  # this engine, or another in this process
            with pytest.raises(OutputClaimed, match=(
                    f"{same}: job {first.id} .* is already writing this output")):
                other.submit(flow_to(survey, same))
    finally:
        second_engine.close()
    assert manager.wait(first.id, 60).state is S.COMPLETED
    assert [j.id for j in manager.list() if j.output == str(same)] == [first.id]


def test_a_job_that_ended_before_its_claim_was_created_leaves_no_claim_behind(
        manager: JobManager, survey: Path, tmp_path: Path) -> None:
    blocker = hold_the_claim_thread(manager, survey, tmp_path)
    gone = tmp_path / "gone.sgy"
    job = manager.submit(flow_to(survey, gone), after=[blocker.id])  # holds no slot
    manager.cancel(job.id)
    assert manager.wait(job.id, 10).state is S.CANCELLED
    assert manager.wait(blocker.id, 60).state is S.COMPLETED  # its claim came first
    manager.close()  # every promised claim decided
    assert not claim_path(gone).exists()


def test_an_output_folder_the_user_cannot_write_is_refused_before_anything_is_recorded(
        survey: Path, tmp_path: Path) -> None:
    """In a process of its own, without root's right to write anywhere (dropped before
    it starts when the tests run as root): the claim, created a moment later, would fail
    on the folder."""
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    script = textwrap.dedent(f"""
        from pathlib import Path
        from seisproc.jobs.checkpoints import CheckpointStore
        from seisproc.jobs.manager import JobManager
        from seisproc.jobs.memory import MemoryJobStore, ThreadExecutor
        from seisproc.processing.flow import Flow
        m = JobManager(MemoryJobStore(), lambda: ThreadExecutor(workers=1),
                       CheckpointStore(Path({str(scratch)!r}) / "ckpt"))
        try:
            m.submit(Flow.from_mapping({{"name": "x", "input": {str(survey)!r},
                     "output": {str(locked / "out.sgy")!r}, "steps": {STEPS!r}}}))
        except Exception as exc:
            print(type(exc).__name__, exc)
        print("recorded:", len(m.list()))
        m.close()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=scratch,
                          preexec_fn=_without_dac_override if os.geteuid() == 0 else None)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"OutputError {locked}: the output folder is not writable by you; write the output "
        "where you may", "recorded: 0"]
    assert list(locked.iterdir()) == []


def _without_dac_override() -> None:
    """Drop CAP_DAC_OVERRIDE from the capabilities the exec'd child may have: a root
    that folders' permissions bind, as they bind any user."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(24, 1, 0, 0, 0) != 0:  # PR_CAPBSET_DROP, CAP_DAC_OVERRIDE
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")
