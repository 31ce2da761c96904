"""What a job records to be reproducible, and how a changed input is named."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import scipy

from seisproc._version import __version__
from seisproc.io.segy import open_segy
from seisproc.processing.flow import Flow
from seisproc.production.provenance import (
    device_record,
    environment_differences,
    input_differences,
    input_record,
    record_provenance,
)


def flow_on(path: Path, device: str = "auto") -> Flow:
    return Flow.from_mapping(
        {
            "name": "agc",
            "input": str(path),
            "output": "out.sgy",
            "device": device,
            "steps": [{"agc": {"window_ms": 500}}],
        },
        path.parent,
    )


def test_the_record_holds_versions_device_and_the_input_identity(small_survey: Path) -> None:
    record = record_provenance(
        flow_on(small_survey), device=device_record(flow_on(small_survey), [], None)
    )
    assert record["seisproc"] == __version__
    assert record["packages"]["numpy"] == np.__version__
    assert record["packages"]["scipy"] == scipy.__version__
    assert set(record["packages"]) == {"numpy", "scipy", "segyio", "torch"}
    assert record["device"] == {"requested": "auto", "gpus": [], "workers": "cpu"}
    identity = record["input"]
    assert identity["size"] == small_survey.stat().st_size
    assert identity["mtime_ns"] == small_survey.stat().st_mtime_ns
    assert len(identity["header_sha256"]) == len(identity["traces_sha256"]) == 64


def test_a_cluster_address_leaves_the_worker_kind_to_the_cluster(small_survey: Path) -> None:
    record = device_record(flow_on(small_survey, "cpu"), ["NVIDIA H100"], "10.0.0.1:6379")
    assert record == {
        "requested": "cpu",
        "gpus": ["NVIDIA H100"],
        "workers": None,
        "cluster": "10.0.0.1:6379",
    }


def test_recording_versions_does_not_import_torch() -> None:
    code = (
        "import sys; from seisproc.production.provenance import environment; "
        "environment(); print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "False"


def test_a_sample_changed_in_place_shows_in_the_traces_hash(
    small_survey: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "shots.sgy"
    shutil.copy(small_survey, copy)
    before = input_record(copy)
    with open_segy(copy) as segy:
        layout = segy.layout
    stat = copy.stat()
    with open(copy, "r+b") as f:  # the first trace's first sample: a sampled trace
        f.seek(layout.data_offset + layout.trace_header_bytes)
        f.write(b"\x42\x00\x00\x00")
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the time put back
    after = input_record(copy)
    assert after["header_sha256"] == before["header_sha256"]
    assert input_differences(before, after) == [
        f"the input {copy} changed since the job ran (same size and headers, its sampled "
        "traces differ)"
    ]


def test_a_rewritten_input_is_named_with_its_new_time(small_survey: Path, tmp_path: Path) -> None:
    copy = tmp_path / "shots.sgy"
    shutil.copy(small_survey, copy)
    before = input_record(copy)
    copy.write_bytes(copy.read_bytes())
    os.utime(copy, ns=(before["mtime_ns"] + 10**9, before["mtime_ns"] + 10**9))
    (change,) = input_differences(before, input_record(copy))
    assert change.startswith(
        f"the input {copy} changed since the job started (same size, modified "
    )


def test_an_unreadable_input_is_recorded_with_why(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sgy"
    bad.write_bytes(b"not seg-y")
    record = input_record(bad)
    assert record["path"] == str(bad) and "shorter than the 3600-byte" in record["unreadable"]


def test_environment_differences_name_each_package_and_the_device() -> None:
    a = {
        "seisproc": "1.0",
        "packages": {"numpy": "1.26.4", "torch": None},
        "device": {"workers": "cpu"},
    }
    b = {
        "seisproc": "1.0",
        "packages": {"numpy": "2.1.3", "torch": "2.5.1"},
        "device": {"workers": "cuda"},
    }
    assert environment_differences(a, b) == [
        "numpy 1.26.4 -> 2.1.3",
        "torch None -> 2.5.1",
        "device.workers cpu -> cuda",
    ]
