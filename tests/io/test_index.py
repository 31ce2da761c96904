"""Gather indexes: the traces of each gather in file order, whatever the file's sort, and a
cache in SEISPROC_HOME that is used when valid and ignored when not."""

from __future__ import annotations

import io
import os
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import segyio

import seisproc.io.index as index_module
from seisproc.io import build_index, gather_index, open_segy

DATA = Path(__file__).resolve().parents[1] / "data"


def reference_gathers(values: np.ndarray) -> dict[int, list[int]]:
    """Positions per header value with a plain dict of lists, in file order."""
    gathers: dict[int, list[int]] = defaultdict(list)
    for position, value in enumerate(values.tolist()):
        gathers[value].append(position)
    return gathers


def assert_matches_reference(index: index_module.GatherIndex, values: np.ndarray) -> None:
    reference = reference_gathers(values)
    assert index.keys.tolist() == sorted(reference)
    assert index.n_traces == len(values)
    for i, key in enumerate(index.keys.tolist()):
        assert index.positions(i).tolist() == reference[key]


def traces_by_ffid(path: Path) -> dict[int, list[tuple[int, int]]]:
    """(channel, offset) of each trace of each FFID gather, in gather order."""
    with open_segy(path) as segy:
        index = gather_index(segy, "ffid")
        channel, offset = segy.header_values("channel"), segy.header_values("offset")
    return {int(k): [(int(channel[p]), int(offset[p])) for p in index.positions(i)]
            for i, k in enumerate(index.keys)}


def test_ffid_gathers_of_a_sorted_and_an_interleaved_file_hold_the_same_traces() -> None:
    assert traces_by_ffid(DATA / "ieee.sgy") == traces_by_ffid(DATA / "unsorted_ffid.sgy")


def test_ffid_gathers_of_an_interleaved_file_keep_file_order() -> None:
    path = DATA / "unsorted_ffid.sgy"
    with open_segy(path) as segy, segyio.open(path, ignore_geometry=True) as f:
        index = gather_index(segy, "ffid")
        assert_matches_reference(index, f.attributes(segyio.TraceField.FieldRecord)[:])
    assert index.key == "FieldRecord"
    assert index.keys.tolist() == [1001, 1002, 1003]
    assert index.positions(index.find(1003)).tolist() == [0, 3, 6, 9]
    assert index.sizes().tolist() == [4, 4, 4]
    assert sorted(index.order.tolist()) == list(range(12))


def test_cdp_gathers_of_the_synthetic_survey_match_segyio_headers(small_survey: Path) -> None:
    with open_segy(small_survey) as segy, \
            segyio.open(small_survey, ignore_geometry=True) as f:
        index = gather_index(segy, "cdp")
        values = f.attributes(segyio.TraceField.CDP)[:]
    assert_matches_reference(index, values)
    assert index.key == "CDP" and len(index) == len(np.unique(values))


def test_build_index_of_200000_values_matches_a_dict_of_lists() -> None:
    rng = np.random.default_rng(5)
    values = rng.integers(-3000, 3000, 200_000)
    values[::7] = 42  # one very large gather among many small ones
    assert_matches_reference(build_index(values, "CDP"), values)


def test_find_raises_key_error_for_a_value_with_no_gather() -> None:
    index = build_index(np.array([5, 3, 5, 9]), "FieldRecord")
    assert index.find(5) == 1
    with pytest.raises(KeyError, match="FieldRecord = 4"):
        index.find(4)
    with pytest.raises(KeyError):
        index.find(10)


def test_build_index_of_no_traces_is_empty() -> None:
    index = build_index(np.array([], dtype=np.int64), "FieldRecord")
    assert len(index) == 0 and index.n_traces == 0


# --- the cache ----------------------------------------------------------------------------


@pytest.fixture
def survey_copy(tmp_path: Path) -> Path:
    path = tmp_path / "shots.sgy"
    shutil.copyfile(DATA / "unsorted_ffid.sgy", path)
    return path


@pytest.fixture
def build_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every time gather_index builds an index instead of loading it."""
    calls: list[str] = []
    real = index_module.build_index

    def counting(values: np.ndarray, key: str) -> index_module.GatherIndex:
        calls.append(key)
        return real(values, key)

    monkeypatch.setattr(index_module, "build_index", counting)
    return calls


def cache_files() -> list[Path]:
    return sorted((Path(os.environ["SEISPROC_HOME"]) / "index-cache").glob("*"))


def index_of(path: Path, key: str = "ffid") -> index_module.GatherIndex:
    with open_segy(path) as segy:
        return gather_index(segy, key)


def assert_same_index(a: index_module.GatherIndex, b: index_module.GatherIndex) -> None:
    assert a.key == b.key
    for name in ("keys", "order", "starts"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_second_call_loads_the_index_from_the_cache_in_seisproc_home(
        survey_copy: Path, build_calls: list[str]) -> None:
    first = index_of(survey_copy)
    assert [p.suffix for p in cache_files()] == [".index"]
    second = index_of(survey_copy)
    assert build_calls == ["FieldRecord"]
    assert_same_index(first, second)


def test_each_key_has_its_own_cache_entry(survey_copy: Path, build_calls: list[str]) -> None:
    index_of(survey_copy, "ffid")
    index_of(survey_copy, "channel")
    index_of(survey_copy, "fldr")  # the same word as ffid
    assert build_calls == ["FieldRecord", "TraceNumber"]
    assert len(cache_files()) == 2


def test_a_touched_file_is_indexed_again(survey_copy: Path, build_calls: list[str]) -> None:
    index_of(survey_copy)
    stat = survey_copy.stat()
    os.utime(survey_copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    index_of(survey_copy)
    assert build_calls == ["FieldRecord", "FieldRecord"]


def test_a_rewritten_file_gets_an_index_of_its_new_headers(survey_copy: Path) -> None:
    index_of(survey_copy)
    with segyio.open(survey_copy, "r+", ignore_geometry=True) as f:
        for i in range(f.tracecount):
            f.header[i] = {segyio.TraceField.FieldRecord: 7 if i < 5 else 8}
    stat = survey_copy.stat()
    os.utime(survey_copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    index = index_of(survey_copy)
    assert index.keys.tolist() == [7, 8]
    assert index.positions(0).tolist() == [0, 1, 2, 3, 4]


def loaded(index: index_module.GatherIndex) -> index_module.GatherIndex:
    """The index in memory, not mapped from its cache file."""
    return index_module.GatherIndex(index.key, np.array(index.keys), np.array(index.order),
                                    np.array(index.starts))


def replace_file(path: Path, data: bytes) -> None:
    """Put ``data`` under ``path`` as a new file, as any writer of the cache does: a file
    still mapped by a reader is never cut short under it (that would be a SIGBUS)."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def valid_cache_bytes() -> bytes:
    buffer = io.BytesIO()
    for array in (np.array([1]), np.array([0, 1], np.uint32), np.array([0], np.uint32)):
        np.save(buffer, array)
    return buffer.getvalue()


def npy_bytes(*arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    for array in arrays:
        np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("corrupt", [
    b"",
    valid_cache_bytes()[:40],
    valid_cache_bytes()[:-3],
    valid_cache_bytes() + b"x",
    b"not an index at all\n" * 10,
    b"\x93NUMPY garbage",
    npy_bytes(np.arange(3)),
    npy_bytes(np.array([1]), np.array([0, 1], np.int64), np.array([0], np.uint32)),
    npy_bytes(np.array([1]), np.array([0, 2], np.uint32), np.array([0], np.uint32)),
    npy_bytes(np.array([1.5]), np.array([0, 1], np.uint32), np.array([0], np.uint32)),
], ids=["empty", "cut-head", "cut-tail", "trailing-byte", "text", "broken-npy", "plain-npy",
        "mixed-dtypes", "starts-beyond-order", "float-keys"])
def test_a_corrupt_cache_file_is_ignored_and_the_index_rebuilt(
        survey_copy: Path, build_calls: list[str], corrupt: bytes) -> None:
    good = loaded(index_of(survey_copy))
    (cache,) = cache_files()
    replace_file(cache, corrupt)
    assert_same_index(index_of(survey_copy), good)
    assert build_calls == ["FieldRecord", "FieldRecord"]


def test_a_cache_file_missing_arrays_is_ignored(survey_copy: Path) -> None:
    good = loaded(index_of(survey_copy))
    (cache,) = cache_files()
    replace_file(cache, npy_bytes(np.asarray(good.keys)))
    assert_same_index(index_of(survey_copy), good)


def test_cache_false_neither_reads_nor_writes_the_cache(survey_copy: Path,
                                                        build_calls: list[str]) -> None:
    with open_segy(survey_copy) as segy:
        gather_index(segy, "ffid", cache=False)
        gather_index(segy, "ffid", cache=False)
    assert build_calls == ["FieldRecord", "FieldRecord"]
    assert cache_files() == []
