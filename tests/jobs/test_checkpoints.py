"""CheckpointStore: the durable record of done units that resume starts from."""

from __future__ import annotations

from pathlib import Path

from seisproc.jobs.checkpoints import CheckpointStore


def test_units_appended_one_by_one_and_in_batches_are_all_loaded(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.append("job1", 0)
    store.append_many("job1", [5, 2, 7])
    store.append("job1", 1)
    store.close("job1")
    assert store.load("job1") == {0, 1, 2, 5, 7}
    assert store.path("job1").stat().st_size == 5 * 4  # one 4-byte record per unit


def test_a_torn_last_record_is_ignored_so_that_unit_is_redone(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.append_many("job1", [3, 4])
    store.close("job1")
    with store.path("job1").open("ab") as fh:  # a process killed mid-append
        fh.write(b"\x09\x00")
    assert CheckpointStore(tmp_path).load("job1") == {3, 4}


def test_an_empty_batch_writes_nothing_and_remove_forgets_the_job(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.append_many("job1", [])
    assert not store.path("job1").exists() and store.load("job1") == set()
    store.append_many("job1", [1])
    store.remove("job1")
    assert not store.path("job1").exists() and store.load("job1") == set()
