"""The documentation's examples run, as a reader would type them.

Each page of ``docs/`` runs in a fresh folder with a fresh ``SEISPROC_HOME``, its blocks
in page order:

* a ```` ```python ```` block is executed; the blocks of one page share a namespace. A
  block written as a script (``if __name__ == "__main__":``, a ``multiprocessing`` pool)
  runs as one, with this interpreter, in the page's folder;
* a ```` ```console ```` block runs its ``$ seisproc …`` commands (the ``seisproc``
  command in-process). A command whose shown output has an ``error: …`` line must fail
  with exit status 1 and print that line (``...`` stands for any text); a click usage
  error (``Error: …``) must exit 2 the same way; any other command must succeed;
* a ```` ```yaml ```` / ```` ```toml ```` block preceded by ``<!-- write: NAME -->`` is
  written to NAME first, so the flow a page shows is the flow it runs.

``<!-- no-run: reason -->`` before a block skips running it (a GPU, a cluster, a second
terminal). Every ``seisproc`` command line of every ``bash`` or ``console`` block, run or
not, must still parse (the command and its options exist and take the values given),
unless the page shows it failing with a usage error.

Ray starts once for the session; the jobs are tiny, so the pages take seconds each.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from seisproc.cli.main import cli
from seisproc.jobs.manager import JobManager
from seisproc.orchestration import connect, ray_shutdown_if_started

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
_FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[^`]*$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>no-run|write):\s*(?P<value>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    """1-based line of the opening fence."""
    lang: str
    text: str
    no_run: str | None = None
    """Why the block is not run, from ``<!-- no-run: reason -->``."""
    write_to: str | None = None

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of ``page`` with the marker comment before each, if any."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, start = len(fence["indent"]), i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][indent:])
            i += 1
        marker = _marker_before(lines, start)
        found.append(Block(page.name, start + 1, fence["lang"], "\n".join(body) + "\n",
                           no_run=marker[1] if marker[0] == "no-run" else None,
                           write_to=marker[1] if marker[0] == "write" else None))
        i += 1
    return found


def _marker_before(lines: list[str], fence: int) -> tuple[str, str]:
    j = fence - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    match = _MARKER.match(lines[j]) if j >= 0 else None
    return (match["kind"], match["value"]) if match else ("", "")


@dataclass(frozen=True)
class Command:
    args: list[str]
    shown: list[str]
    """The output lines shown under the command in the page."""


def console_commands(block: Block) -> list[Command]:
    """``$ ...`` lines (``\\`` continues a line) with the output shown below each."""
    commands: list[Command] = []
    pending = ""
    for line in block.text.splitlines():
        if pending or line.startswith("$ "):
            text = pending + (line[2:] if not pending else line)
            if text.endswith("\\"):
                pending = text[:-1] + " "
                continue
            pending = ""
            commands.append(Command(shlex.split(text, comments=True), []))
        elif commands:
            commands[-1].shown.append(line)
    return commands


def seisproc_lines(block: Block) -> Iterator[list[str]]:
    """The arguments of every ``seisproc`` command in a bash or console block, except
    those shown failing with a usage error on purpose (the troubleshooting page's)."""
    if block.lang == "console":
        candidates = [c.args for c in console_commands(block)
                      if not any(line.startswith("Error: ") for line in c.shown)]
    else:
        text = re.sub(r"\\\n", " ", block.text)
        candidates = [shlex.split(line, comments=True) for line in text.splitlines()]
    for tokens in candidates:
        while tokens and re.match(r"^[A-Z_][A-Z0-9_]*=", tokens[0]):  # VAR=value seisproc …
            tokens = tokens[1:]
        if tokens and tokens[0] == "seisproc":
            cut = [i for i, t in enumerate(tokens) if t in ("|", "&&", ";", ">", "&")]
            yield tokens[1:cut[0]] if cut else tokens[1:]


def parse_command(args: list[str]) -> click.Context:
    """Parse ``seisproc ARGS`` as the command would, without running it."""
    context = cli.make_context("seisproc", list(args))
    group: click.Group = cli
    # click keeps the subcommand's name apart from its arguments (``protected_args``,
    # read through its private name: the public one warns as deprecated in click 8.2+).
    rest = [*context._protected_args, *context.args]
    while True:
        name, command, rest = group.resolve_command(context, rest)
        assert command is not None and name is not None
        context = command.make_context(name, rest, parent=context)
        if not isinstance(command, click.Group):
            return context
        rest = [*context._protected_args, *context.args]
        if not rest:
            return context
        group = command


def _all_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


@pytest.fixture(scope="session")
def ray_for_docs() -> Iterator[None]:
    """One local Ray of 2 CPUs for every page (the engine joins it, as it would a
    cluster); stopped at the end of the session, like the other suites' Ray."""
    connect(num_cpus=2)
    yield
    ray_shutdown_if_started()


def test_the_pages_have_examples_to_run() -> None:
    """Guards the extraction: without it every test below would pass on nothing."""
    runnable = [b for b in _all_blocks() if b.lang in ("python", "console") and not b.no_run]
    assert len([b for b in runnable if b.lang == "python"]) >= 10
    assert len([b for b in runnable if b.lang == "console"]) >= 10
    commands = {c.args[1] for b in runnable if b.lang == "console"
                for c in console_commands(b) if len(c.args) > 1}
    assert {"synth", "info", "processors", "run", "jobs", "history"} <= commands


@pytest.mark.parametrize("args", [args for block in _all_blocks()
                                  if block.lang in ("bash", "console", "sh")
                                  for args in seisproc_lines(block)],
                         ids=lambda args: " ".join(args)[:60])
def test_every_documented_command_line_parses(args: list[str]) -> None:
    try:
        parse_command(args)
    except click.exceptions.Exit:  # --help, --version
        pass
    except click.UsageError as exc:
        pytest.fail(f"seisproc {' '.join(args)}: {exc.format_message()}")


@pytest.mark.parametrize("page", [p.name for p in PAGES])
def test_page_examples_run(page: str, ray_for_docs: None, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs.{page}"}
    try:
        for block in blocks(DOCS / page):
            if block.write_to:
                (tmp_path / block.write_to).write_text(block.text, encoding="utf-8")
            if block.no_run:
                continue
            if block.lang == "python":
                _run_python(block, namespace)
            elif block.lang == "console":
                for command in console_commands(block):
                    _run_console(block, command)
    finally:
        for value in list(namespace.values()):  # an example that failed half-way
            if isinstance(value, JobManager):
                value.close(active="cancel")


def _run_python(block: Block, namespace: dict[str, object]) -> None:
    if 'if __name__ == "__main__":' in block.text:
        _run_script(block)
        return
    code = compile(block.text, block.where, "exec")
    try:
        exec(code, namespace)
    except Exception:
        pytest.fail(f"the python example at {block.where} failed:\n{traceback.format_exc()}")


def _run_console(block: Block, command: Command) -> None:
    assert command.args[:1] == ["seisproc"], (
        f"{block.where}: only seisproc commands run here; mark other blocks no-run")
    result = CliRunner().invoke(cli, command.args[1:], catch_exceptions=False)
    shown = " ".join(command.args)
    expected_error = next((line for line in command.shown
                           if line.startswith(("error: ", "Error: "))), None)
    if expected_error is None:
        assert result.exit_code == 0, f"{block.where}: `{shown}` failed:\n{result.output}"
        return
    status = 1 if expected_error.startswith("error: ") else 2
    assert result.exit_code == status, (
        f"{block.where}: `{shown}` exited {result.exit_code}, not {status}:\n{result.output}")
    pattern = ".*".join(re.escape(" ".join(part.split()))
                        for part in expected_error.split("..."))
    printed = [" ".join(line.split()) for line in result.output.splitlines()]
    assert any(re.fullmatch(pattern, line) for line in printed), (
        f"{block.where}: `{shown}` printed no line like {expected_error!r}:\n{result.output}")


def _run_script(block: Block) -> None:
    script = Path(f"example_{block.line}.py")
    script.write_text(block.text, encoding="utf-8")
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": path}, check=False)
    assert result.returncode == 0, (
        f"the script at {block.where} failed:\n{result.stdout}\n{result.stderr}")
