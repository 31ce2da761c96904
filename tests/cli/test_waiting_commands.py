"""Jobs that wait for jobs, as a user runs them: real processes on one history.

The production issue's acceptance: a job ``--after`` a batch with a failed line waits,
saying why, until the failure is resolved (here: given up on), then runs; a pipeline of
three flows killed (SIGKILL) in the middle of flow 2 is finished by ``seisproc resume
--batch``, flow 1 not redone, every output byte-identical to an uninterrupted run; and
a pipeline or ``--after`` that cannot run is one line, with nothing submitted.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from job_helpers import FLOW, seisproc, start, store

from reference_outputs import reference_output, same_data
from seisproc.io import SurveyGeometry, synthesize_survey
from seisproc.jobs.model import Job, JobState
from seisproc.processing.flow import load_flow

S = JobState
SMALL = """\
name: {name}
input: {input}
output: "{output}"
gather_by: ffid
steps:
  - agc: {{window_ms: 250}}
"""


def wait_job(env: dict[str, str], job_id: str, check: Callable[[Job], bool],
             timeout: float = 180) -> Job:
    history = store(env)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = history.get_job(job_id)
            if job is not None and check(job):
                return job
            time.sleep(0.1)
    finally:
        history.close()
    raise AssertionError(f"job {job_id} never reached the expected state")


def batch_of(env: dict[str, str], batch: str, count: int = 3) -> dict[str, Job]:
    """The batch's jobs by name, once its ``count`` jobs are in the history (a
    submission is saved in the background)."""
    history = store(env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            jobs = {job.name: job for job in history.query(batch=batch, limit=None)}
            if len(jobs) >= count:
                return jobs
            time.sleep(0.1)
    finally:
        history.close()
    raise AssertionError(f"batch {batch} never had {count} jobs")


def test_a_job_after_a_batch_waits_through_its_failure_until_it_is_given_up(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    for i in (1, 2):
        synthesize_survey(tmp_path / f"line_{i}.sgy",
                          SurveyGeometry(shots=3, channels=12, samples=201))
    (tmp_path / "line_3.sgy").write_bytes(b"not SEG-Y at all " * 400)
    (tmp_path / "each.yaml").write_text(SMALL.format(name="lines", input="line_1.sgy",
                                                     output="{stem}_agc.sgy"))
    (tmp_path / "merge.yaml").write_text(SMALL.format(name="merge", input="line_1_agc.sgy",
                                                      output="merged.sgy"))
    batch = seisproc(cli_env, "run", str(tmp_path / "each.yaml"), "--each",
                     str(tmp_path / "line_*.sgy"))
    assert batch.returncode == 1, batch.stdout + batch.stderr
    batch_id = re.search(r"batch (b[0-9a-f]{8})", batch.stderr + batch.stdout)[1]
    history = store(cli_env)
    try:
        failed = next(j for j in history.query(batch=batch_id, limit=None)
                      if j.state is S.FAILED)
    finally:
        history.close()

    after = start(cli_env, "run", str(tmp_path / "merge.yaml"), "--after", batch_id)
    try:
        merge_id = re.search(r"job ([0-9a-f]{12}) submitted", after.stdout.readline())[1]
        held = wait_job(cli_env, merge_id, lambda j: "failed" in j.message)
        assert held.state is S.WAITING
        assert held.message.startswith(f"job {failed.id} failed: ")
        time.sleep(2)  # it stays held: nothing starts while the failure stands
        assert wait_job(cli_env, merge_id, lambda j: True).state is S.WAITING
        assert not (tmp_path / "merged.sgy").exists()

        given_up = seisproc(cli_env, "cancel", failed.id)
        assert given_up.returncode == 0, given_up.stderr
        assert wait_job(cli_env, failed.id, lambda j: True).state is S.CANCELLED
        output, _ = after.communicate(timeout=180)
        assert after.returncode == 0, output
    finally:
        if after.poll() is None:
            after.kill()
    assert wait_job(cli_env, merge_id, lambda j: True).state is S.COMPLETED
    assert (tmp_path / "merged.sgy").exists()


@pytest.mark.slow
def test_a_pipeline_killed_in_flow_2_is_finished_by_resume_identically(
        job_project: Path, cli_env: dict[str, str]) -> None:
    slow = FLOW.format(output="b.sgy").replace("input: shots.sgy", "input: a.sgy").replace(
        "  - bandpass:", "  - spiking_decon: {operator_ms: 400}\n" * 4 + "  - bandpass:")
    (job_project / "first.yaml").write_text(SMALL.format(name="first", input="shots.sgy",
                                                         output="a.sgy"))
    (job_project / "second.yaml").write_text(slow.replace("decon-bandpass-agc", "second"))
    (job_project / "third.yaml").write_text(SMALL.format(name="third", input="b.sgy",
                                                         output="c.sgy"))
    (job_project / "line.yaml").write_text(
        "pipeline: line-12\nflows: [third.yaml, second.yaml, first.yaml]\n")

    proc = start(cli_env, "run", str(job_project / "line.yaml"))
    batch_id = re.search(r"batch (b[0-9a-f]{8})", proc.stdout.readline())[1]
    jobs = batch_of(cli_env, batch_id)
    assert {name: job.state for name, job in jobs.items()}["third"] is S.WAITING
    wait_job(cli_env, jobs["second"].id, lambda j: j.progress.fraction >= 0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    first_done = wait_job(cli_env, jobs["first"].id, lambda j: True)
    assert first_done.state is S.COMPLETED

    resumed = seisproc(cli_env, "resume", "--batch", batch_id, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = batch_of(cli_env, batch_id)
    assert {name: job.state for name, job in after.items()} == {
        "first": S.COMPLETED, "second": S.COMPLETED, "third": S.COMPLETED}
    assert after["first"].finished_at == first_done.finished_at  # not redone

    for name, produced in (("first", "a.sgy"), ("second", "b.sgy"), ("third", "c.sgy")):
        flow = load_flow(job_project / f"{name}.yaml")
        flow = flow.model_copy(update={"output": job_project / f"ref_{produced}"})
        assert same_data(reference_output(flow), job_project / produced), name


@pytest.mark.parametrize(("files", "args", "says"), [
    ({"a.yaml": ("a", "b.sgy", "a.sgy"), "b.yaml": ("b", "a.sgy", "b.sgy"),
      "p.yaml": "pipeline: p\nflows: [a.yaml, b.yaml]\n"},
     ["p.yaml"], "a cycle: a.yaml reads the output of b.yaml reads the output of a.yaml"),
    ({"a.yaml": ("a", "shots.sgy", "a.sgy")},
     ["a.yaml", "--after", "nosuchjob"], "--after nosuchjob: no job or batch 'nosuchjob'"),
])
def test_what_cannot_wait_is_one_line_and_nothing_is_submitted(
        tmp_path: Path, cli_env: dict[str, str], files: dict[str, object], args: list[str],
        says: str) -> None:
    synthesize_survey(tmp_path / "shots.sgy", SurveyGeometry(shots=2, channels=6, samples=101))
    for name, content in files.items():
        text = content if isinstance(content, str) else SMALL.format(
            name=content[0], input=content[1], output=content[2])
        (tmp_path / name).write_text(text)
    refused = seisproc(cli_env, "run", *(str(tmp_path / a) if a.endswith(".yaml") else a
                                         for a in args))
    assert refused.returncode == 1
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and says in errors[0], refused.stderr
    history = store(cli_env)
    try:
        assert history.get_recent(5) == []
    finally:
        history.close()
