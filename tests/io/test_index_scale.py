"""Gather indexes of surveys of any size: 4-byte positions, a memory-mapped cache, and a
header scan cut into ranges that other processes read and this one merges."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import seisproc.io.index as index_module
from seisproc.io import build_index, gather_index, open_segy
from seisproc.io.scan import read_header_column, read_header_range, split_ranges

DATA = Path(__file__).resolve().parents[1] / "data"


def test_positions_are_four_bytes_and_the_index_costs_under_five_bytes_a_trace() -> None:
    values = np.repeat(np.arange(2_000, dtype=np.int32), 480)  # 960,000 traces
    values = np.random.default_rng(3).permutation(values)
    index = build_index(values, "FieldRecord")
    assert index.order.dtype == np.uint32 and index.starts.dtype == np.uint32
    assert index.nbytes / index.n_traces <= 5.0
    assert sorted(index.positions(7).tolist()) == np.flatnonzero(values == 7).tolist()


def test_positions_beyond_four_billion_traces_are_int64() -> None:
    assert index_module.position_dtype(2**32 - 1) == np.uint32
    assert index_module.position_dtype(2**32) == np.int64


def test_a_file_sorted_by_its_key_is_indexed_without_a_sort(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sort(*args: object, **kwargs: object) -> None:
        raise AssertionError("argsort called for a sorted column")

    monkeypatch.setattr(np, "argsort", no_sort)
    index = build_index(np.array([3, 3, 4, 9, 9, 9], np.int32), "FieldRecord")
    assert index.keys.tolist() == [3, 4, 9] and index.sizes().tolist() == [2, 1, 3]
    assert index.order.tolist() == list(range(6))


def test_a_cached_index_of_ten_million_traces_opens_mapped_in_under_a_fifth_of_a_second(
        tmp_path: Path) -> None:
    n = 10_000_000
    index = build_index(np.arange(n, dtype=np.int32) // 480, "CDP")
    path = tmp_path / "big.index"
    index_module._store(path, index)
    started = time.perf_counter()
    cached = index_module._load(path, "CDP")
    opened_s = time.perf_counter() - started
    assert cached is not None and isinstance(cached.order, np.memmap)
    assert opened_s < 0.2, f"opening took {opened_s:.3f} s"
    assert cached.n_traces == n and len(cached) == len(index)
    assert cached.positions(len(cached) - 1).tolist() == index.positions(len(index) - 1).tolist()


def test_gather_index_returns_the_cache_mapped_after_building_it(small_survey: Path) -> None:
    with open_segy(small_survey) as segy:
        built = gather_index(segy, "ffid")
        again = gather_index(segy, "ffid")
    assert isinstance(built.order, np.memmap) and isinstance(again.order, np.memmap)
    np.testing.assert_array_equal(built.order, again.order)


def test_a_header_range_is_the_same_words_a_whole_file_read_gives(small_survey: Path) -> None:
    with open_segy(small_survey) as segy:
        whole = segy.header_values("cdp")
    assert read_header_range(small_survey, "cdp", 30, 101).tolist() == whole[30:101].tolist()
    assert read_header_range(small_survey, "cdp", 5, 5).tolist() == []
    with pytest.raises(ValueError, match="traces 100-145 are not within the file's 144"):
        read_header_range(small_survey, "cdp", 100, 145)


def reversed_scan(path: Path, key: str, n_traces: int) -> Iterator[tuple[int, np.ndarray]]:
    """A scanner whose ranges come back last first, each read on its own."""
    for first, stop in reversed(split_ranges(n_traces, 3)):
        yield first, read_header_range(path, key, first, stop)


def test_ranges_merged_in_any_order_give_the_index_one_process_builds(
        small_survey: Path) -> None:
    heard: list[tuple[int, int]] = []
    with open_segy(small_survey) as segy:
        serial = gather_index(segy, "cdp", cache=False)
        merged = gather_index(segy, "cdp", cache=False, scan=reversed_scan,
                              on_scanned=lambda done, total: heard.append((done, total)))
    for name in ("keys", "order", "starts"):
        np.testing.assert_array_equal(getattr(serial, name), getattr(merged, name))
    assert len(heard) == 6 and heard[-1] == (144, 144)
    assert [done for done, _ in heard] == sorted(done for done, _ in heard)


def test_ranges_split_the_traces_exactly_at_least_two_per_worker() -> None:
    for n, workers in ((1, 4), (144, 2), (10_000_000, 2), (3_000_000, 64)):
        ranges = split_ranges(n, workers)
        assert ranges[0][0] == 0 and ranges[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
        assert len(ranges) >= min(n, 2 * workers)
        assert max(b - a for a, b in ranges) <= 1 << 20


@pytest.mark.parametrize("ranges", [
    [(0, 72)],
    [(0, 72), (0, 72), (72, 144)],
    [(0, 80), (72, 136)],
], ids=["a-range-missing", "a-range-twice", "overlap-and-gap"])
def test_a_scan_that_does_not_cover_every_trace_once_is_refused(
        small_survey: Path, ranges: list[tuple[int, int]]) -> None:
    def scan(path: Path, key: str, n_traces: int) -> Iterator[tuple[int, np.ndarray]]:
        return ((a, read_header_range(path, key, a, b)) for a, b in ranges)

    with open_segy(small_survey) as segy, pytest.raises(ValueError, match="small.sgy: "):
        read_header_column(segy.path, segy.layout, index_module.header_field("cdp"),
                           scan=scan)


def test_the_interleaved_fixture_scanned_in_ranges_keeps_file_order_in_gathers() -> None:
    def single_traces(path: Path, key: str, n: int) -> Iterator[tuple[int, np.ndarray]]:
        return ((i, read_header_range(path, key, i, i + 1)) for i in range(n))

    with open_segy(DATA / "unsorted_ffid.sgy") as segy:
        index = gather_index(segy, "ffid", cache=False, scan=single_traces)
    assert index.positions(index.find(1003)).tolist() == [0, 3, 6, 9]
