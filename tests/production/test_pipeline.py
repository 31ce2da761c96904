"""A pipeline file's flows are ordered by the data (a flow after the one whose output it
reads), and every mistake is one line naming its culprit before anything is submitted."""

from __future__ import annotations

from pathlib import Path

import pytest

from seisproc.errors import FlowError
from seisproc.production.pipeline import is_pipeline_file, load_pipeline

FLOW = """\
name: {name}
input: {input}
output: {output}
steps:
  - agc: {{window_ms: 500}}
"""


def write(folder: Path, name: str, input_: str, output: str) -> str:
    (folder / f"{name}.yaml").write_text(FLOW.format(name=name, input=input_, output=output))
    return f"{name}.yaml"


def pipeline(folder: Path, *flows: str) -> Path:
    path = folder / "line.yaml"
    path.write_text("pipeline: line-12\nflows:\n" + "".join(f"  - {f}\n" for f in flows))
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "shots.sgy").write_bytes(b"")
    return tmp_path


def test_flows_run_after_the_flows_whose_outputs_they_read(folder: Path) -> None:
    # listed backwards on purpose: the data decides, not the list
    c = write(folder, "c", "b.sgy", "c.sgy")
    b = write(folder, "b", "a.sgy", "b.sgy")
    a = write(folder, "a", "shots.sgy", "a.sgy")
    side = write(folder, "side", "shots.sgy", "side.sgy")
    loaded = load_pipeline(pipeline(folder, c, b, a, side))
    assert loaded.name == "line-12"
    names = [step.flow.name for step in loaded.steps]
    assert names == ["a", "side", "b", "c"]
    assert [step.after for step in loaded.steps] == [(), (), (0,), (2,)]
    assert is_pipeline_file(loaded.path)
    assert not is_pipeline_file(folder / a)


@pytest.mark.parametrize(
    ("flows", "says"),
    [
        ([("a", "b.sgy", "a.sgy"), ("b", "a.sgy", "b.sgy")], "a cycle: "),
        (
            [("a", "shots.sgy", "out.sgy"), ("b", "shots.sgy", "out.sgy")],
            "a.yaml and b.yaml both write",
        ),
        (
            [("a", "missing.sgy", "a.sgy")],
            "a.yaml reads {folder}/missing.sgy, which does not exist and which no flow of the "
            "pipeline writes",
        ),
    ],
)
def test_a_pipeline_that_cannot_run_is_refused_naming_the_culprit(
    folder: Path, flows: list[tuple[str, str, str]], says: str
) -> None:
    path = pipeline(folder, *(write(folder, *flow) for flow in flows))
    with pytest.raises(FlowError) as info:
        load_pipeline(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert says.format(folder=folder) in message
    if "cycle" in says:
        assert "a.yaml" in message and "b.yaml" in message


def test_a_flow_listed_twice_or_missing_is_named(folder: Path) -> None:
    a = write(folder, "a", "shots.sgy", "a.sgy")
    with pytest.raises(FlowError, match="a.yaml is listed twice"):
        load_pipeline(pipeline(folder, a, a))
    with pytest.raises(FlowError, match="nope.yaml: no such flow file"):
        load_pipeline(pipeline(folder, a, "nope.yaml"))


def test_the_pipeline_files_own_mistakes_are_named(folder: Path) -> None:
    path = folder / "p.yaml"
    path.write_text("pipeline: x\nflows: []\n")
    with pytest.raises(FlowError, match="'flows' must list the pipeline's flow files"):
        load_pipeline(path)
    path.write_text("pipeline: x\nflows: [a.yaml]\nretries: 3\n")
    with pytest.raises(FlowError, match="unknown field 'retries'"):
        load_pipeline(path)
