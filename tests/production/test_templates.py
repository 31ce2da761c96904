"""``--each`` inputs and output templates: one flow per input, or one line and nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from seisproc.production.templates import (
    TemplateError,
    expand_inputs,
    flows_for_inputs,
    render_output,
)

FLOW = """\
name: decon
output: "{output}"
gather_by: ffid
steps:
  - agc: {{window_ms: 500}}
"""
DAY = date(2026, 12, 7)


def project(tmp_path: Path, output: str, lines: int = 3) -> Path:
    (tmp_path / "raw").mkdir()
    for n in range(1, lines + 1):
        (tmp_path / "raw" / f"line_{n:02d}.sgy").write_bytes(b"")
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW.format(output=output))
    return flow


def test_every_field_renders_from_the_input_the_flow_and_the_day() -> None:
    assert (
        render_output("{name}/{date}/{stem}_d.sgy", Path("/raw/line_07.sgy"), "decon", DAY)
        == "decon/2026-12-07/line_07_d.sgy"
    )


def test_a_glob_gives_one_flow_per_input_with_its_own_output(tmp_path: Path) -> None:
    flow_file = project(tmp_path, "{stem}_decon.sgy")
    flows = flows_for_inputs(flow_file, expand_inputs("raw/line_*.sgy", tmp_path), DAY)
    assert [f.input.name for f in flows] == ["line_01.sgy", "line_02.sgy", "line_03.sgy"]
    assert [f.output for f in flows] == [tmp_path / f"line_0{n}_decon.sgy" for n in (1, 2, 3)]


def test_a_list_file_names_inputs_relative_to_itself_in_its_order(tmp_path: Path) -> None:
    project(tmp_path, "{stem}.out.sgy")
    (tmp_path / "lines.txt").write_text("# tonight\nraw/line_03.sgy\n\nraw/line_01.sgy\n")
    inputs = expand_inputs("@lines.txt", tmp_path)
    assert inputs == [tmp_path / "raw" / "line_03.sgy", tmp_path / "raw" / "line_01.sgy"]


def test_an_unknown_template_field_is_one_line_naming_it(tmp_path: Path) -> None:
    flow_file = project(tmp_path, "{line}_decon.sgy")
    with pytest.raises(
        TemplateError,
        match=r"names unknown field \{line\} \(known: "
        r"\{stem\}, \{name\}, \{date\}\)",
    ):
        flows_for_inputs(flow_file, expand_inputs("raw/*.sgy", tmp_path), DAY)


def test_a_glob_matching_nothing_names_the_pattern(tmp_path: Path) -> None:
    project(tmp_path, "{stem}.sgy")
    with pytest.raises(
        TemplateError,
        match=r"--each 'raw/lines_\*.sgy': the pattern "
        "matches no file",
    ):
        expand_inputs("raw/lines_*.sgy", tmp_path)


def test_a_list_naming_a_missing_file_names_its_line(tmp_path: Path) -> None:
    project(tmp_path, "{stem}.sgy")
    (tmp_path / "lines.txt").write_text("raw/line_01.sgy\nraw/gone.sgy\n")
    with pytest.raises(TemplateError, match=r"input 2 \(raw/gone.sgy\) is not a file"):
        expand_inputs("@lines.txt", tmp_path)


def test_a_template_without_stem_over_several_inputs_is_refused(tmp_path: Path) -> None:
    flow_file = project(tmp_path, "{name}.sgy")
    with pytest.raises(
        TemplateError,
        match=r"does not name \{stem\}: all 3 jobs would "
        "write the same file",
    ):
        flows_for_inputs(flow_file, expand_inputs("raw/*.sgy", tmp_path), DAY)


def test_two_inputs_with_one_stem_are_refused_naming_both(tmp_path: Path) -> None:
    flow_file = project(tmp_path, "{stem}.sgy", lines=1)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "line_01.sgy").write_bytes(b"")
    inputs = [tmp_path / "raw" / "line_01.sgy", tmp_path / "other" / "line_01.sgy"]
    with pytest.raises(
        TemplateError, match="inputs .*raw/line_01.sgy and .*other/line_01.sgy would both write"
    ):
        flows_for_inputs(flow_file, inputs, DAY)
