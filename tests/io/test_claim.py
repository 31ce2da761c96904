"""One writer per output: of two processes claiming the same output exactly one wins, a
job gets its own claim back, a claim of an ended job is replaced, and only its holder
releases it."""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from seisproc.errors import OutputError
from seisproc.io import (
    OutputClaim,
    OutputClaimed,
    claim_output,
    claim_path,
    read_claim,
    release_claim,
)

ROUNDS = 20


def _race(folder: Path, job_id: str, barrier: Barrier, results: Any) -> None:
    """A ``seisproc run`` in another terminal: claims ``out<i>.sgy`` the instant the other
    one does, round after round."""
    for i in range(ROUNDS):
        barrier.wait(timeout=60)
        try:
            claim_output(folder / f"out{i}.sgy", job_id, f"host:{os.getpid()}")
            results.put((i, job_id, True))
        except OutputClaimed:
            results.put((i, job_id, False))


def test_of_two_processes_claiming_the_same_output_exactly_one_wins(tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2), spawn.Queue()
    racers = [spawn.Process(target=_race, args=(tmp_path, job, barrier, results))
              for job in ("job-a", "job-b")]
    for racer in racers:
        racer.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * ROUNDS)]
    for racer in racers:
        racer.join(timeout=60)
    assert [r.exitcode for r in racers] == [0, 0]
    for i in range(ROUNDS):
        winners = [job for round_, job, won in outcomes if round_ == i and won]
        assert len(winners) == 1, f"round {i}: {winners}"
        held = read_claim(tmp_path / f"out{i}.sgy")
        assert held is not None and held.job_id == winners[0]


def test_the_same_job_claiming_again_gets_its_claim_back(tmp_path: Path) -> None:
    output = tmp_path / "out.sgy"
    first = claim_output(output, "job-a", "node1:100")
    again = claim_output(output, "job-a", "node2:200")  # resumed in another process
    assert again == first == read_claim(output)
    assert first.output == output and first.owner == "node1:100" and first.created_at


def test_another_job_is_refused_with_a_message_naming_the_holder(tmp_path: Path) -> None:
    output = tmp_path / "out.sgy"
    held = claim_output(output, "0a1b2c3d", "node1:4242")
    with pytest.raises(OutputClaimed) as info:
        claim_output(output, "9f8e7d6c", "node2:77")
    assert str(info.value) == (
        f"{output}: job 0a1b2c3d (node1:4242) is already writing this output; wait for it, "
        "or cancel it: seisproc cancel 0a1b2c3d")
    assert isinstance(info.value, OutputError) and info.value.claim == held
    assert pickle.loads(pickle.dumps(info.value)).claim == held  # crosses Ray and processes
    assert read_claim(output) == held


def test_a_stale_claim_is_replaced_and_the_judge_sees_it(tmp_path: Path) -> None:
    output = tmp_path / "out.sgy"
    old = claim_output(output, "crashed", "node1:1")
    judged: list[OutputClaim] = []

    def ended(claim: OutputClaim) -> bool:
        judged.append(claim)
        return claim.job_id == "crashed"

    new = claim_output(output, "job-b", "node2:2", stale=ended)
    assert judged == [old]
    assert new.job_id == "job-b" and read_claim(output) == new
    with pytest.raises(OutputClaimed):
        claim_output(output, "job-c", "node3:3", stale=ended)  # job-b has not ended


def test_an_unreadable_claim_file_is_refused_naming_it_unless_judged_stale(
        tmp_path: Path) -> None:
    output = tmp_path / "out.sgy"
    claim_path(output).write_text("{not json")
    assert read_claim(output) == OutputClaim(output, "", "", "")
    with pytest.raises(OutputClaimed) as info:
        claim_output(output, "job-a", "node1:1")
    assert str(info.value) == (
        f"{claim_path(output)}: this file claims {output} for a job but cannot be read; "
        "if no seisproc job is writing that output, remove the file")
    judged: list[str] = []
    claim = claim_output(output, "job-a", "node1:1",
                         stale=lambda c: judged.append(c.job_id) or True)
    assert judged == [""] and read_claim(output) == claim


def test_only_the_holder_releases_a_claim(tmp_path: Path) -> None:
    output = tmp_path / "out.sgy"
    assert release_claim(output, "job-a") is False  # nothing to release
    claim_output(output, "job-a", "node1:1")
    assert release_claim(output, "job-b") is False
    assert read_claim(output) is not None
    assert release_claim(output, "job-a") is True
    assert read_claim(output) is None and not claim_path(output).exists()
    claim_output(output, "job-b", "node1:2")  # free again


def test_the_claim_is_a_hidden_json_file_beside_the_output(tmp_path: Path) -> None:
    output = tmp_path / "shots_agc.sgy"
    claim = claim_output(output, "job-a", "node1:1")
    path = claim_path(output)
    assert path == tmp_path / ".shots_agc.sgy.seisproc-claim"
    assert json.loads(path.read_text()) == {"output": str(output), "job_id": "job-a",
                                             "owner": "node1:1",
                                             "created_at": claim.created_at}
    assert OutputClaim.from_dict(claim.to_dict()) == claim
    assert path.stat().st_mode & 0o777 == 0o644 & ~_umask()


def test_an_output_folder_that_cannot_hold_a_claim_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot claim the output: No such file"):
        claim_output(tmp_path / "missing" / "out.sgy", "job-a", "node1:1")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
