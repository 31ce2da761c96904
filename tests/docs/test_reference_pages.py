"""The reference pages list everything there is: commands and options, processors and
their parameters, alert metrics, rules and actions.

Each list is read from the code, so a new option, processor parameter or metric fails
here until its page documents it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from seisproc.alerts import default_rules
from seisproc.alerts.actions import JOB_ACTIONS, default_registry
from seisproc.alerts.config import COMPARISONS
from seisproc.cli.main import cli
from seisproc.monitoring import JOB_METRICS, SNAPSHOT_METRICS
from seisproc.processing.base import available_processors

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _text(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def _commands(group: click.Group = cli, prefix: str = "seisproc"
              ) -> Iterator[tuple[str, click.Command]]:
    context = click.Context(group)
    for name in sorted(group.list_commands(context)):  # the lazy group loads each on request
        command = group.get_command(context, name)
        assert command is not None, name
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


def _options(command: click.Command) -> list[str]:
    return [max(p.opts, key=len) for p in command.params
            if isinstance(p, click.Option) and not p.hidden]


def test_the_command_scan_sees_the_commands() -> None:
    names = {path for path, _ in _commands()}
    assert {"seisproc run", "seisproc history cleanup", "seisproc monitor"} <= names


@pytest.mark.parametrize("path", [path for path, _ in _commands()])
def test_every_command_and_option_is_in_the_cli_reference(path: str) -> None:
    command = dict(_commands())[path]
    page = _text("cli_reference.md")
    heading = re.search(rf"^#+ `{re.escape(path)}( [A-Z_]+)?`", page, re.MULTILINE)
    assert heading, f"docs/cli_reference.md has no section for `{path}`"
    section = page[heading.end():].split("\n#", 1)[0]
    missing = [option for option in _options(command) if f"`{option}" not in section]
    assert not missing, f"docs/cli_reference.md: `{path}` does not describe {missing}"


@pytest.mark.parametrize("name", list(available_processors()))
def test_every_processor_and_parameter_is_in_the_flow_reference(name: str) -> None:
    page = _text("flows_and_processors.md")
    rows = [line for line in page.splitlines() if line.startswith(f"| `{name}`")]
    assert rows, f"docs/flows_and_processors.md has no row for the processor {name}"
    cls = available_processors()[name]
    missing = [f for f in cls.Params.model_fields if f"`{f}`" not in rows[0]]
    missing += [a for a in cls.aliases if f"`{a}`" not in rows[0]]
    assert not missing, f"docs/flows_and_processors.md: {name} does not describe {missing}"


def test_every_metric_rule_action_and_operator_is_in_the_alerts_reference() -> None:
    page = _text("alerts_reference.md")
    expected = [*SNAPSHOT_METRICS, *(f"job.{m}" for m in JOB_METRICS),
                *(rule.name for rule in default_rules()), *default_registry().names(),
                *JOB_ACTIONS, "webhook"]
    missing = [name for name in expected if f"`{name}`" not in page]
    missing += [op for op in COMPARISONS if op not in page]
    assert not missing, f"docs/alerts_reference.md does not describe {missing}"


def test_every_built_in_rule_is_in_the_user_guide() -> None:
    page = _text("user_guide_job_management.md")
    missing = [rule.name for rule in default_rules() if f"`{rule.name}`" not in page]
    assert not missing, f"docs/user_guide_job_management.md does not list {missing}"
