"""``scripts/gpu_check.sh``, the one-command GPU check: on a machine without a GPU it says
so and exits 0 having installed nothing; its table comes from a real (tiny) benchmark run
and a real pytest JUnit file. The GPU path itself runs only where there is a GPU."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_without_a_gpu_the_check_says_so_and_exits_cleanly(tmp_path: Path) -> None:
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        pytest.skip("Apple silicon has a GPU (MPS)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    nvidia_smi = bin_dir / "nvidia-smi"  # what a machine with the tools but no GPU says
    nvidia_smi.write_text(
        "#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not "
        "communicate with the NVIDIA driver.' >&2\nexit 9\n"
    )
    nvidia_smi.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "SEISPROC_GPU_CHECK_DIR": str(tmp_path / "out"),
    }
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu_check.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("gpu_check: no GPU on this machine")
    assert "nothing installed" in done.stdout and done.stderr == ""
    assert not (tmp_path / "out").exists()  # no test, no benchmark, no download


def test_the_check_prints_one_table_of_the_tests_and_the_benchmark(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    junit = tmp_path / "tests.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(ROOT / "tests" / "gpu" / "test_device_choice.py"),
            f"--junitxml={junit}",
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        check=True,
    )
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "gpu_throughput.py"),
            "--shots",
            "1",
            "--repeats",
            "1",
            "--dir",
            str(tmp_path),
            "--table",
            "--tests-junit",
            str(junit),
            "--json-out",
            str(tmp_path / "report.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("| check") and all(line.startswith("|") for line in lines)
    text = "\n".join(lines)
    for part in (
        "CPU (torch)",
        "480 traces x 2,001 samples",
        "one GPU worker",
        "torch over numpy at least 0.5",
    ):
        assert part in text, part
    (tests_row,) = [line for line in lines if "GPU tests" in line]
    assert " passed, 0 failed, " in tests_row and "| 0 passed" not in tests_row
    assert (tmp_path / "report.json").read_text().startswith("{")
