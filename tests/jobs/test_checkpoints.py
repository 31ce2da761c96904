"""CheckpointStore: the durable record of done units that resume starts from."""

from __future__ import annotations

import stat
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seisproc.jobs.checkpoints import CheckpointStore, UnitSet
from seisproc.jobs.fingerprint import InputIdentity, PlanFingerprint


def test_units_appended_one_by_one_and_in_batches_are_all_loaded(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.append("job1", 0)
    store.append_many("job1", [5, 2, 7])
    store.append("job1", 1)
    store.close("job1")
    assert store.load("job1") == {0, 1, 2, 5, 7}
    assert store.path("job1").read_bytes() == bytes([0b10100111])  # one bit per unit


def test_a_million_units_done_in_any_order_take_125_kb_and_all_load(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.begin("job1", fingerprint(n_units=1_000_000))
    numbers = np.random.default_rng(1).permutation(1_000_000).tolist()
    for first in range(0, len(numbers), 5_000):
        store.append_many("job1", numbers[first : first + 5_000])
    store.append_many("job1", numbers[:10])  # redone units cost nothing more
    assert store.path("job1").stat().st_size == 125_000
    done = CheckpointStore(tmp_path).load("job1")
    assert len(done) == 1_000_000 and done.numbers().tolist() == list(range(1_000_000))


def test_reopened_store_adds_to_the_units_another_store_wrote(tmp_path: Path) -> None:
    CheckpointStore(tmp_path).append_many("job1", [3, 4])
    later = CheckpointStore(tmp_path)  # a resumed job's process
    later.append_many("job1", [5, 12])
    assert later.load("job1") == {3, 4, 5, 12}


def test_a_legacy_units_file_resumes_and_moves_into_the_bitmap(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.begin("job1", fingerprint(n_units=6))
    legacy = np.array([0, 2, 5, 9], dtype="<u4").tobytes() + b"\x03\x00"  # torn last record
    store.legacy_path("job1").write_bytes(legacy)  # as the version before bitmaps left it
    assert CheckpointStore(tmp_path).load("job1") == {0, 2, 5}  # 9 is not of this plan
    assert not store.legacy_path("job1").exists()
    store.append("job1", 1)
    assert store.load("job1") == {0, 1, 2, 5}


def test_a_unit_set_counts_each_number_once_and_cuts_at_a_plan_size() -> None:
    done = UnitSet.of([0, 7, 8, 15, 16])
    assert not done.add(8) and done.add(9) and len(done) == 6
    assert done.below(9) == {0, 7, 8} and done.below(16) == {0, 7, 8, 9, 15}
    assert -1 not in done and "a" not in done and 10**9 not in done


def test_an_empty_batch_writes_nothing_and_remove_forgets_the_job(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.append_many("job1", [])
    assert not store.path("job1").exists() and store.load("job1") == set()
    store.append_many("job1", [1])
    store.legacy_path("job1").write_bytes(b"\x01\x00\x00\x00")
    store.remove("job1")
    assert not store.legacy_path("job1").exists()
    assert not store.path("job1").exists() and store.load("job1") == set()


def fingerprint(n_units: int = 6) -> PlanFingerprint:
    return PlanFingerprint(InputIdentity("/data/line.sgy", 182_736, 1_700_000_000 * 10**9,
                                         "ab" * 32),
                           "cd" * 32, gathers_per_unit=1, n_units=n_units, n_traces=144)


def test_a_recorded_plan_round_trips(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.begin("job1", fingerprint())
    assert CheckpointStore(tmp_path).plan("job1") == fingerprint()
    assert store.plan_path("job1").name == "job1.plan.json"


def test_a_checkpoint_without_a_plan_file_is_reported_as_having_no_plan(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.append_many("job1", [0, 1])  # as a version before plans were recorded left it
    assert store.plan("job1") is None
    assert store.plan("never-started") is None


def test_an_unreadable_plan_file_is_reported_as_no_plan(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    for junk in (b'{"input": {"path": "/d/a.sgy"', b"[1, 2]", b'{"n_units": 6}', b"\xff\xfe"):
        store.plan_path("job1").write_bytes(junk)
        assert store.plan("job1") is None


def test_load_ignores_unit_numbers_beyond_the_recorded_plan(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.begin("job1", fingerprint(n_units=6))
    store.append_many("job1", [0, 5, 6, 23])  # 6 and 23: units of some other cut
    assert store.load("job1") == {0, 5}


def test_begin_discards_the_units_of_the_previous_run(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.begin("job1", fingerprint())
    store.append_many("job1", [0, 1, 2])  # the file stays open in the store
    store.begin("job1", fingerprint(n_units=2))
    assert store.load("job1") == set() and not store.path("job1").exists()
    store.append("job1", 1)  # lands in the new file, not the old open one
    assert store.load("job1") == {1} and store.plan("job1") == fingerprint(n_units=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job1.done", "job1.plan.json"]


def test_remove_removes_the_units_and_the_plan(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.begin("job1", fingerprint())
    store.append_many("job1", [0, 1])
    store.remove("job1")
    assert list(tmp_path.iterdir()) == []
    assert store.plan("job1") is None and store.load("job1") == set()


def test_checkpoint_files_are_private_to_the_user(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.begin("job1", fingerprint())
    store.append("job1", 0)
    assert stat.S_IMODE(store.plan_path("job1").stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path("job1").stat().st_mode) == 0o600


class SlowDiskCheckpoints(CheckpointStore):
    """Each job's record takes 0.2 s, as an fsync does on a disk busy with other writers;
    the jobs being recorded at the same time are counted."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.at_once = self.most_at_once = 0
        self._count = threading.Lock()

    def append_many(self, job_id: str, unit_numbers: Sequence[int]) -> None:
        with self._count:
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        try:
            time.sleep(0.2)
            super().append_many(job_id, unit_numbers)
        finally:
            with self._count:
                self.at_once -= 1


def test_a_batch_of_four_jobs_is_recorded_at_once_not_one_after_another(
        tmp_path: Path) -> None:
    store = SlowDiskCheckpoints(tmp_path)
    began = time.perf_counter()
    assert store.append_batch({f"job{i}": [i, 10 + i] for i in range(4)}) == {}
    assert time.perf_counter() - began < 0.6  # one after another: 0.8 s
    assert store.most_at_once == 4
    reopened = CheckpointStore(tmp_path)
    assert [sorted(reopened.load(f"job{i}")) for i in range(4)] == [
        [i, 10 + i] for i in range(4)]


def test_a_job_whose_record_fails_in_a_batch_is_named_and_the_others_are_durable(
        tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.path("bad").mkdir()  # its file cannot be opened for writing
    failures = store.append_batch({"good": [1], "bad": [2], "also": [3]})
    assert list(failures) == ["bad"] and isinstance(failures["bad"], IsADirectoryError)
    reopened = CheckpointStore(tmp_path)
    assert reopened.load("good") == {1} and reopened.load("also") == {3}

