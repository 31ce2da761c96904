"""The ``seisproc`` command as a user meets it: output, exit codes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import segyio
from click.testing import CliRunner

from seisproc.cli.main import cli

FLOW = """\
name: bandpass-agc
input: shots.sgy
output: shots_bp_agc.sgy
gather_by: {key}
steps:
  - bandpass: {{f1: 5, f2: 10, f3: 60, f4: 80}}
  - agc: {{window_ms: 500}}
"""


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    result = invoke("synth", str(tmp_path / "shots.sgy"), "--shots", "4", "--channels", "24",
                    "--samples", "251")
    assert result.exit_code == 0, result.output
    (tmp_path / "flow.yaml").write_text(FLOW.format(key="ffid"))
    return tmp_path


def assert_one_line_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[-1], (fragment, lines[-1])


def test_synth_writes_a_survey_segyio_reads(tmp_path: Path) -> None:
    out = tmp_path / "s.sgy"
    result = invoke("synth", str(out), "--shots", "3", "--channels", "10", "--samples", "101",
                    "--dt-ms", "2", "--format", "ibm")
    assert result.exit_code == 0
    assert "30 traces" in result.output
    with segyio.open(out, ignore_geometry=True) as f:
        assert f.tracecount == 30 and segyio.tools.dt(f) == 2000
        assert f.bin[segyio.BinField.Format] == 1


def test_run_processes_the_flow_and_reports_where_the_output_is(project: Path) -> None:
    result = invoke("run", str(project / "flow.yaml"))
    assert result.exit_code == 0, result.output
    assert "shots_bp_agc.sgy" in result.output and "96" in result.output
    worker_time = next(line for line in result.output.splitlines() if "worker time" in line)
    assert all(stage in worker_time for stage in ("bandpass", "agc")), worker_time
    with segyio.open(project / "shots_bp_agc.sgy", ignore_geometry=True) as f:
        assert f.tracecount == 96


def test_run_refuses_an_existing_output_without_overwrite(project: Path) -> None:
    assert invoke("run", str(project / "flow.yaml")).exit_code == 0
    assert_one_line_error(invoke("run", str(project / "flow.yaml")), "already exists",
                          "--overwrite")
    assert invoke("run", str(project / "flow.yaml"), "--overwrite").exit_code == 0


def test_output_equal_to_input_is_refused(project: Path) -> None:
    (project / "flow.yaml").write_text(FLOW.format(key="ffid").replace("shots_bp_agc", "shots"))
    before = (project / "shots.sgy").read_bytes()
    assert_one_line_error(invoke("run", str(project / "flow.yaml"), "--overwrite"),
                          "never overwrites its input")
    assert (project / "shots.sgy").read_bytes() == before


def test_unknown_header_key_is_one_line(project: Path) -> None:
    (project / "flow.yaml").write_text(FLOW.format(key="fldrr"))
    assert_one_line_error(invoke("run", str(project / "flow.yaml")), "unknown trace-header key",
                          "'fldrr'", "fldr")
    assert not (project / "shots_bp_agc.sgy").exists()


def test_unknown_processor_is_one_line(project: Path) -> None:
    (project / "flow.yaml").write_text(FLOW.format(key="ffid").replace("- agc", "- gain_control"))
    assert_one_line_error(invoke("run", str(project / "flow.yaml")), "flow.yaml", "step 2",
                          "unknown processor 'gain_control'")


def test_wrong_parameter_names_step_field_and_allowed(project: Path) -> None:
    (project / "flow.yaml").write_text(FLOW.format(key="ffid").replace("f4: 80", "f5: 80"))
    assert_one_line_error(invoke("run", str(project / "flow.yaml")), "step 1", "'f5'",
                          "allowed: f1, f2, f3, f4")


@pytest.mark.parametrize(("content", "expected"), [
    (b"this is not seismic data\n" * 200, "not a SEG-Y file"),
    (b"", "not a SEG-Y file"),
])
def test_input_that_is_not_segy_is_named(project: Path, content: bytes, expected: str) -> None:
    (project / "shots.sgy").write_bytes(content)
    assert_one_line_error(invoke("run", str(project / "flow.yaml")), "shots.sgy", expected)


def test_truncated_input_is_named(project: Path) -> None:
    data = (project / "shots.sgy").read_bytes()
    (project / "shots.sgy").write_bytes(data[:-1000])
    assert_one_line_error(invoke("run", str(project / "flow.yaml")), "shots.sgy", "truncated")


def test_missing_input_is_named(project: Path) -> None:
    (project / "shots.sgy").unlink()
    assert_one_line_error(invoke("run", str(project / "flow.yaml")), "shots.sgy", "no such file")


def test_missing_flow_file_is_named(tmp_path: Path) -> None:
    assert_one_line_error(invoke("run", str(tmp_path / "absent.yaml")), "absent.yaml",
                          "no such flow file")


def test_debug_shows_the_traceback(project: Path) -> None:
    (project / "shots.sgy").unlink()
    result = CliRunner().invoke(cli, ["--debug", "run", str(project / "flow.yaml")])
    assert result.exit_code == 1
    assert "Traceback" in result.output


def test_info_describes_layout_and_gathers(project: Path) -> None:
    result = invoke("info", str(project / "shots.sgy"), "--gather-by", "ffid", "--trace", "0")
    assert result.exit_code == 0
    assert "96 traces x 251 samples" in result.output
    assert "4 gathers by FieldRecord" in result.output
    assert "FieldRecord" in result.output and "1001" in result.output


def test_processors_lists_every_processor_with_parameters() -> None:
    result = invoke("processors")
    assert result.exit_code == 0
    for name in ("bandpass", "butterworth", "agc", "tpow", "exp_gain", "spherical_divergence",
                 "top_mute", "normalize", "spiking_decon", "window_ms", "f1"):
        assert name in result.output


def test_demo_runs_end_to_end_in_a_folder(tmp_path: Path) -> None:
    result = invoke("demo", "--dir", str(tmp_path), "--shots", "3", "--channels", "20",
                    "--samples", "201")
    assert result.exit_code == 0, result.output
    assert f"Processed survey: {tmp_path / 'shots_bp_agc.sgy'}" in result.output
    with segyio.open(tmp_path / "shots_bp_agc.sgy", ignore_geometry=True) as f:
        assert f.tracecount == 60


def test_console_entry_point_runs_as_a_module(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "seisproc", "--version"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0 and "seisproc" in done.stdout


def test_the_command_leaves_with_its_exit_code_and_every_line_written(tmp_path: Path) -> None:
    """The console script ends with ``os._exit`` once the command is done: the streams
    are flushed first, and the exit code is the command's."""
    missing = subprocess.run([sys.executable, "-m", "seisproc", "run",
                              str(tmp_path / "nope.yaml")], capture_output=True, text=True,
                             check=False)
    assert missing.returncode == 1 and "nope.yaml" in missing.stderr
    usage = subprocess.run([sys.executable, "-m", "seisproc", "nosuch"], capture_output=True,
                           text=True, check=False)
    assert usage.returncode == 2 and "No such command 'nosuch'" in usage.stderr
    listing = subprocess.run([sys.executable, "-m", "seisproc", "processors"],
                             capture_output=True, text=True, check=False,
                             env={**os.environ, "SEISPROC_HOME": str(tmp_path)})
    assert listing.returncode == 0 and listing.stdout.rstrip().splitlines()[-1].strip()
    assert "agc" in listing.stdout


def test_a_broken_history_database_is_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SEISPROC_HOME", str(tmp_path))
    (tmp_path / "job_history.db").write_bytes(b"this is not a database" * 100)
    assert_one_line_error(invoke("jobs"), "the job history database failed")
