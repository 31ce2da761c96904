"""CheckpointStore: the durable record of done units that resume starts from."""

from __future__ import annotations

import stat
from pathlib import Path

from seisproc.jobs.checkpoints import CheckpointStore
from seisproc.jobs.fingerprint import InputIdentity, PlanFingerprint


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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job1.plan.json", "job1.units"]


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
