"""docs/architecture.md prints the engine's decision table: it must be the code's."""

from __future__ import annotations

from pathlib import Path

from seisproc.jobs.decisions import table_markdown

PAGE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_the_decision_table_on_the_architecture_page_is_the_engines() -> None:
    text = PAGE.read_text(encoding="utf-8")
    printed = text.split("<!-- decision-table:start -->\n", 1)[1].split(
        "\n<!-- decision-table:end -->", 1)[0]
    assert printed == table_markdown(), "regenerate it: python -c 'from seisproc.jobs." \
        "decisions import table_markdown; print(table_markdown())'"
