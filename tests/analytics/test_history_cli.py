"""``seisproc history``, ``history cleanup``, ``stats`` and ``report`` on a crafted history.

These commands only read (or prune) the history database, so they run in-process through
click's runner, with no Ray. They live here, beside the report they print, rather than in
tests/cli with the commands that run jobs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from seisproc.cli.history import parse_when
from seisproc.cli.main import cli
from seisproc.history import JobHistoryStorage


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_commands_are_registered() -> None:
    help_text = run("--help").output
    assert all(name in help_text for name in ("history", "stats", "report"))


def test_history_lists_newest_first_as_json(history_url: str) -> None:
    result = run("history", "--json", "--database-url", history_url)
    assert result.exit_code == 0, result.output
    assert [j["id"] for j in json.loads(result.output)] == [f"job{i:03d}" for i in range(9, -1, -1)]


def test_history_filters_by_type_state_dates_and_text(history_url: str) -> None:
    def ids(*args: str) -> list[str]:
        result = run("history", "--json", "--database-url", history_url, *args)
        assert result.exit_code == 0, result.output
        return [job["id"] for job in json.loads(result.output)]

    assert ids("--type", "qc") == ["job007", "job006", "job003"]
    assert ids("--type", "qc", "--state", "failed") == ["job007"]
    assert ids("--state", "FAILED", "--state", "cancelled") == ["job007", "job004", "job001"]
    assert ids("--since", "2026-03-09", "--until", "2026-03-09") == ["job004", "job003",
                                                                       "job002"]
    assert ids("--text", "GATHER FFID") == ["job007", "job001"]
    assert ids("--limit", "2", "--offset", "1") == ["job008", "job007"]


def test_history_table_shows_jobs_and_their_errors(history_url: str) -> None:
    result = CliRunner().invoke(cli, ["history", "--state", "failed", "--database-url",
                                      history_url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "job007" in result.output and "ProcessingError: line7.sgy" in result.output
    assert "job000" not in result.output


def test_history_with_nothing_matching_says_so(history_url: str) -> None:
    result = run("history", "--text", "no such job", "--database-url", history_url)
    assert result.output.strip() == "no jobs match"


def test_bad_date_is_a_usage_error(history_url: str) -> None:
    result = CliRunner().invoke(cli, ["history", "--since", "last tuesday",
                                      "--database-url", history_url])
    assert result.exit_code == 2
    assert "'last tuesday': use a date" in result.output


def test_parse_when_accepts_ages_dates_and_times() -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert parse_when("7d", now=now) == datetime(2026, 3, 3, 12, tzinfo=UTC)
    assert parse_when("90m", now=now) == datetime(2026, 3, 10, 10, 30, tzinfo=UTC)
    assert parse_when("2026-03-10T08:30+02:00") == datetime(2026, 3, 10, 6, 30, tzinfo=UTC)
    assert parse_when("2026-03-10 08:30", end_of_day=True) == datetime(
        2026, 3, 10, 8, 30, tzinfo=UTC), "a time is taken as given"


def test_cleanup_removes_old_ended_jobs(history_url: str) -> None:
    result = run("history", "cleanup", "--keep-days", "1", "--database-url", history_url)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "removed 10 jobs created more than 1 days ago"
    store = JobHistoryStorage(history_url)
    try:
        assert store.get_recent() == []
    finally:
        store.close()


def test_cleanup_takes_the_url_given_to_history(history_url: str) -> None:
    result = run("history", "--database-url", history_url, "cleanup", "--keep-days", "1")
    assert "removed 10 jobs" in result.output


def test_stats_prints_tables(history_url: str) -> None:
    result = CliRunner().invoke(cli, ["stats", "--days", "3650", "--database-url",
                                      history_url], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for expected in ("success rate      70.0 %", "COMPLETED", "PROCESSING", "agc",
                     "ProcessingError", "Top failure reasons"):
        assert expected in result.output, expected


def test_stats_json(history_url: str) -> None:
    data = json.loads(run("stats", "--days", "3650", "--json", "--database-url",
                          history_url).output)
    assert data["total_jobs"] == 10 and data["days"] == 3650


@pytest.mark.parametrize(("name", "extra", "starts"), [
    ("report.html", [], "<!DOCTYPE html>"), ("figures.csv", [], "section,key,metric,value"),
    ("figures.txt", ["--format", "json"], "{")])
def test_report_writes_the_file(history_url: str, tmp_path: Path, name: str,
                                extra: list[str], starts: str) -> None:
    out = tmp_path / name
    result = run("report", "--out", str(out), "--days", "3650", "--database-url",
                 history_url, *extra)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"report written to {out}"
    assert out.read_text(encoding="utf-8").startswith(starts)
