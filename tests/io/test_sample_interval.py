"""Where the binary header (bytes 3217-3218) and trace 0 (bytes 117-118) disagree on the
sample interval, seisproc takes trace 0's, as Seismic Unix and ObsPy do, and says so
naming both values; it refuses only a file where neither is a positive number, and then
says what both read."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from segy_bytes import segy_file
from seisproc.errors import SegyFormatError
from seisproc.io import open_segy

TRACE_FIRST = "trace headers first, as Seismic Unix and ObsPy read them"
# (binary header, trace 0): the interval used, and the end of the warning.
DISAGREEING = {
    "resampled-stale-binary-header": (32762, 32728, 32728, TRACE_FIRST),
    "binary-header-twice-the-trace": (2000, 4000, 4000, TRACE_FIRST),
    "binary-header-holds-ebcdic-text": (int.from_bytes(b"\xc1\xc2", "big", signed=True), 1000,
                                        1000, TRACE_FIRST),
    "trace-header-negative": (2000, -5, 2000, "trace 0's is not a positive number"),
}


@pytest.fixture
def segy_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="seisproc.io.segy")
    return caplog


def write(tmp_path: Path, binary_us: int, trace_us: int) -> Path:
    path = tmp_path / "intervals.sgy"
    path.write_bytes(segy_file(binary_interval_us=binary_us, trace_interval_us=trace_us))
    return path


@pytest.mark.parametrize("case", DISAGREEING)
def test_disagreeing_intervals_use_trace_0s_when_usable_and_warn_naming_both(
        tmp_path: Path, segy_log: pytest.LogCaptureFixture, case: str) -> None:
    binary_us, trace_us, used_us, why = DISAGREEING[case]
    path = write(tmp_path, binary_us, trace_us)
    with open_segy(path) as segy:
        assert segy.layout.sample_interval_ms == used_us / 1000
    assert [r.getMessage() for r in segy_log.records] == [
        f"{path}: the sample intervals disagree: trace 0's header (bytes 117-118) reads "
        f"{trace_us} µs, the binary header (bytes 3217-3218) {binary_us} µs; using {used_us} µs "
        f"({used_us / 1000:g} ms): {why}"]


def test_the_warning_is_given_once_per_file_not_at_every_open(
        tmp_path: Path, segy_log: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, 2000, 4000)
    for _ in range(3):
        open_segy(path).close()
    assert len(segy_log.records) == 1


@pytest.mark.parametrize(("binary_us", "trace_us"), [(0, 4000), (4000, 0), (4000, 4000)])
def test_an_interval_set_in_one_header_only_or_in_both_alike_is_used_without_a_word(
        tmp_path: Path, segy_log: pytest.LogCaptureFixture, binary_us: int,
        trace_us: int) -> None:
    with open_segy(write(tmp_path, binary_us, trace_us)) as segy:
        assert segy.layout.sample_interval_ms == 4.0
    assert segy_log.records == []


@pytest.mark.parametrize(("binary_us", "trace_us"), [(-2000, -25000), (0, 0), (0, -1)])
def test_a_file_with_no_usable_interval_is_refused_stating_both_values(
        tmp_path: Path, binary_us: int, trace_us: int) -> None:
    path = write(tmp_path, binary_us, trace_us)
    with pytest.raises(SegyFormatError) as info:
        open_segy(path)
    assert str(info.value) == (
        f"{path}: no usable sample interval: the binary header (bytes 3217-3218) reads "
        f"{binary_us} and trace 0's header (bytes 117-118) reads {trace_us}; an interval is a "
        "positive number of microseconds")


def test_seisproc_info_prints_the_warning_on_the_terminal(tmp_path: Path) -> None:
    path = write(tmp_path, 32762, 32728)
    done = subprocess.run([sys.executable, "-m", "seisproc", "info", str(path)],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "SEISPROC_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"{path}: the sample intervals disagree: trace 0's header (bytes 117-118) reads "
        "32728 µs, the binary header (bytes 3217-3218) 32762 µs; using 32728 µs (32.728 ms): "
        "trace headers first, as Seismic Unix and ObsPy read them"]
    assert "32.728 ms" in done.stdout
