"""``seisproc history``, ``history cleanup``, ``stats`` and ``report``: the job history from
the command line.

``history`` lists past jobs with filters (type, state, dates, text), as a table or JSON;
``stats`` prints the aggregate statistics as tables; ``report`` writes them as one
self-contained HTML file with charts, or as CSV / JSON. Every command reads the history
named by ``--database-url`` (default: ``SEISPROC_DATABASE_URL``, else SQLite in
``SEISPROC_HOME``), so it works the same on a laptop and against a team's PostgreSQL.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from seisproc.analytics.format import human_bytes, human_duration, human_percent
from seisproc.analytics.report import FORMATS, export_report
from seisproc.cli.report import job_json
from seisproc.cli.run import database_option
from seisproc.engine import open_store
from seisproc.history import JobHistoryStorage, JobStatistics
from seisproc.jobs.model import Job, JobState, JobType

__all__ = ["history", "parse_when", "report", "stats"]

_RELATIVE = re.compile(r"^(\d+)\s*([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_STYLE = {JobState.COMPLETED: "green", JobState.FAILED: "red", JobState.CANCELLED: "yellow",
          JobState.RUNNING: "cyan", JobState.INTERRUPTED: "red"}


def parse_when(text: str, *, end_of_day: bool = False, now: datetime | None = None) -> datetime:
    """A time given on the command line: ``7d`` / ``12h`` / ``30m`` ago, an ISO date
    (midnight UTC; with ``end_of_day``, the next midnight, so the day is included) or an
    ISO date-time (UTC unless it names a zone).

    >>> parse_when("2026-03-10").isoformat()
    '2026-03-10T00:00:00+00:00'
    >>> parse_when("2026-03-10", end_of_day=True).isoformat()
    '2026-03-11T00:00:00+00:00'
    """
    relative = _RELATIVE.match(text.strip())
    if relative:
        amount, unit = relative.groups()
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r}: use a date (2026-03-10), a date-time "
                                 "(2026-03-10T14:00) or an age (7d, 12h, 30m)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    date_only = "T" not in text and " " not in text.strip() and parsed.time() == time()
    return parsed + timedelta(days=1) if end_of_day and date_only else parsed


def _choices(enum: type[JobType] | type[JobState]) -> click.Choice[str]:
    return click.Choice([member.value for member in enum], case_sensitive=False)


@click.group(invoke_without_command=True)
@click.option("--type", "job_types", multiple=True, type=_choices(JobType),
              help="Only jobs of this type (repeat for several).")
@click.option("--state", "states", multiple=True, type=_choices(JobState),
              help="Only jobs in this state (repeat for several).")
@click.option("--since", help="Created at or after: 2026-03-01, 2026-03-01T08:00, 7d, 12h.")
@click.option("--until", help="Created before (a plain date includes that day).")
@click.option("--text", help="Case-insensitive text in the id, name, message, error or paths.")
@click.option("--limit", default=50, show_default=True, help="How many jobs to show.")
@click.option("--offset", default=0, show_default=True, help="Skip this many (next page).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of jobs.")
@database_option
@click.pass_context
def history(ctx: click.Context, job_types: tuple[str, ...], states: tuple[str, ...],
            since: str | None, until: str | None, text: str | None, limit: int, offset: int,
            as_json: bool, database_url: str | None) -> None:
    """Past and present jobs from the history, newest first, filtered."""
    ctx.obj = {"database_url": database_url}
    if ctx.invoked_subcommand is not None:
        return
    store = open_store(database_url)
    try:
        jobs = store.query(
            job_types=[JobType(t.upper()) for t in job_types] or None,
            states=[JobState(s.upper()) for s in states] or None,
            date_from=parse_when(since) if since else None,
            date_to=parse_when(until, end_of_day=True) if until else None,
            text=text, limit=limit, offset=offset)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([job_json(job) for job in jobs], indent=2))
    elif jobs:
        Console().print(_history_table(jobs))
    else:
        click.echo("no jobs match")


def _history_table(jobs: list[Job]) -> Table:
    table = Table("id", "created (UTC)", "type", "name", "state", "traces", "duration",
                  "note", box=None, padding=(0, 1))
    for job in jobs:
        style = _STYLE.get(job.state, "white")
        note = f"{job.error.type}: {job.error.message}" if job.error else job.message
        table.add_row(job.id, f"{job.created_at.astimezone(UTC):%Y-%m-%d %H:%M}",
                      job.type.value.lower(), job.name, f"[{style}]{job.state.value}[/]",
                      f"{job.progress.traces_done:,}", human_duration(job.duration_s),
                      note[:60])
    return table


@history.command()
@click.option("--keep-days", default=90, show_default=True, type=click.IntRange(min=0),
              help="Keep jobs created in the last N days.")
@database_option
@click.pass_context
def cleanup(ctx: click.Context, keep_days: int, database_url: str | None) -> None:
    """Delete ended jobs (completed, failed, cancelled) older than --keep-days.

    Queued, running, paused and interrupted jobs are kept, however old.
    """
    store = open_store(database_url or ctx.obj.get("database_url"))
    try:
        removed = store.cleanup(keep_days=keep_days)
    finally:
        store.close()
    click.echo(f"removed {removed:,} jobs created more than {keep_days} days ago")


@click.command()
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1),
              help="Statistics over the last N days (today included).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@database_option
def stats(days: int, as_json: bool, database_url: str | None) -> None:
    """Job statistics: outcomes, durations, failures, processors, resources."""
    figures = _statistics(database_url, days)
    if as_json:
        click.echo(json.dumps(figures.to_dict(), indent=2))
        return
    console = Console()
    for table in _stats_tables(figures):
        console.print(table)


def _statistics(database_url: str | None, days: int) -> JobStatistics:
    store: JobHistoryStorage = open_store(database_url)
    try:
        return store.get_statistics(days)
    finally:
        store.close()


def _stats_tables(figures: JobStatistics) -> list[Table]:
    summary = Table(title=f"Last {figures.days} days (since {figures.since:%Y-%m-%d} UTC)",
                    show_header=False, box=None, title_justify="left")
    accuracy = figures.predictions
    for label, value in [
            ("jobs", f"{figures.total_jobs:,}"),
            ("success rate", human_percent(figures.success_rate)),
            ("failure rate", human_percent(figures.failure_rate)),
            ("average duration", human_duration(figures.mean_duration_s)),
            ("traces processed", f"{figures.traces_processed:,}"),
            ("data processed", human_bytes(figures.bytes_processed)),
            ("prediction error", "-" if accuracy.error_pct is None else
             f"{accuracy.error_pct:.1f} % over {accuracy.jobs:,} jobs")]:
        summary.add_row(label, value)
    states = Table("state", "jobs", title="By state", title_justify="left")
    for state, count in figures.by_state.items():
        if count:
            states.add_row(state.value, f"{count:,}")
    durations = Table("type", "jobs", "mean", "median", "p95",
                      title="Durations of completed jobs", title_justify="left")
    for d in figures.durations:
        durations.add_row(d.job_type.value, f"{d.jobs:,}", human_duration(d.mean_s),
                          human_duration(d.median_s), human_duration(d.p95_s))
    return [summary, states, durations, *_usage_tables(figures)]


def _usage_tables(figures: JobStatistics) -> list[Table]:
    processors = Table("processor", "jobs", "traces", title="Top processors",
                       title_justify="left")
    for usage in figures.processors[:10]:
        processors.add_row(usage.processor, f"{usage.jobs:,}", f"{usage.traces:,}")
    failures = Table("error", "message starts", "jobs", title="Top failure reasons",
                     title_justify="left")
    for reason in figures.failure_reasons:
        failures.add_row(reason.error_type, reason.message, f"{reason.count:,}")
    days = Table("day", "jobs", "completed", "failed", "cancelled", "success",
                 title="Recent days", title_justify="left")
    for day in figures.per_day[-14:]:
        days.add_row(f"{day.day}", f"{day.total:,}", f"{day.completed:,}", f"{day.failed:,}",
                     f"{day.cancelled:,}", human_percent(day.success_rate))
    return [days, processors, failures]


@click.command()
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("report.html"), show_default=True, help="File to write.")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1),
              help="Report on the last N days (today included).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="html (charts), csv or json; default: from the file's suffix, else html.")
@database_option
def report(out_path: Path, days: int, fmt: str | None, database_url: str | None) -> None:
    """Write an analytics report: one self-contained HTML file with charts, or the raw
    figures as CSV or JSON."""
    written = export_report(_statistics(database_url, days), out_path, fmt)
    click.echo(f"report written to {written}")
