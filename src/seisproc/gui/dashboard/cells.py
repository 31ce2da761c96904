"""What each cell of the job table says, how it sorts and what its tooltip adds.

Pure functions of a :class:`~seisproc.jobs.model.Job` (no Qt), so the table model stays a
thin adapter and the wording is tested without a widget. Jobs of every process share
the same table, so a row carries what tells two runs of one flow apart: the job id,
when it was submitted, the process that runs it (``host:pid``) and its input file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import IntEnum
from pathlib import PurePath
from typing import Any

from seisproc.analytics.format import human_clock
from seisproc.jobs.model import Job, JobState

__all__ = ["Column", "HEADERS", "RIGHT_ALIGNED", "display", "format_clock", "format_submitted",
           "short_node", "sort_key", "state_tooltip", "tooltip"]

S = JobState


class Column(IntEnum):
    ID = 0
    NAME = 1
    STATE = 2
    PROGRESS = 3
    RATE = 4
    ETA = 5
    ELAPSED = 6
    SUBMITTED = 7
    OWNER = 8
    INPUT = 9
    NODES = 10
    TYPE = 11


HEADERS = {Column.ID: "Id", Column.NAME: "Name", Column.STATE: "State",
           Column.PROGRESS: "Progress", Column.RATE: "Traces/s", Column.ETA: "ETA",
           Column.ELAPSED: "Duration", Column.SUBMITTED: "Submitted", Column.OWNER: "Owner",
           Column.INPUT: "Input", Column.NODES: "Nodes", Column.TYPE: "Type"}
RIGHT_ALIGNED = frozenset({Column.RATE, Column.ETA, Column.ELAPSED})
_STATE_ORDER = {state: n for n, state in enumerate(
    (S.RUNNING, S.CANCELLING, S.PAUSED, S.QUEUED, S.WAITING, S.INTERRUPTED, S.FAILED,
     S.CANCELLED, S.COMPLETED))}
_NODE_ID_CHARS = 12
"""A Ray node id (56 hex digits) is shown by its first 12, as ``seisproc run`` prints it."""


def format_clock(seconds: float | None) -> str:
    """``"0:42"``, ``"12:05"``, ``"1:02:03"``; empty when unknown (a table cell left blank).

    >>> format_clock(42.4), format_clock(3723), format_clock(None)
    ('0:42', '1:02:03', '')
    """
    return human_clock(seconds, missing="")


def format_submitted(at: datetime, now: datetime | None = None) -> str:
    """Local time of day for a job submitted today, else the local date and minute.

    >>> from datetime import UTC
    >>> now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC).astimezone()
    >>> format_submitted(now.replace(hour=9, minute=5, second=7), now)
    '09:05:07'
    >>> format_submitted(datetime(2026, 11, 30, 22, 10, tzinfo=now.tzinfo), now)
    '2026-11-30 22:10'
    """
    local = at.astimezone()
    today = (now or datetime.now().astimezone()).astimezone().date()
    return local.strftime("%H:%M:%S" if local.date() == today else "%Y-%m-%d %H:%M")


def short_node(node: str) -> str:
    """A Ray node id cut to its first 12 characters; a host name as it is.

    >>> short_node("a1b2c3d4e5f6" + "0" * 44), short_node("node7")
    ('a1b2c3d4e5f6', 'node7')
    """
    return node[:_NODE_ID_CHARS] if len(node) > 2 * _NODE_ID_CHARS else node


def traces_per_s(job: Job) -> float | None:
    """The rate while a job runs; once it has ended, its last rate (else its average).
    ``None`` while it waits, is paused or stopping: a figure then would be stale."""
    progress = job.progress
    if job.state is S.RUNNING:
        return progress.traces_per_s or None
    if not job.state.is_terminal():
        return None
    if progress.traces_per_s:
        return progress.traces_per_s
    seconds = job.duration_s
    return progress.traces_done / seconds if seconds and progress.traces_done else None


def _rate_text(job: Job) -> str:
    rate = traces_per_s(job)
    return f"{rate:,.0f}" if rate else ""


_TEXT: dict[Column, Callable[[Job], str]] = {
    Column.ID: lambda job: job.id,
    Column.NAME: lambda job: job.name,
    Column.STATE: lambda job: job.state.value.capitalize(),
    Column.PROGRESS: lambda job: f"{100 * job.progress.fraction:.0f} %",
    Column.RATE: _rate_text,
    Column.ETA: lambda job: format_clock(job.progress.eta_s) if job.state is S.RUNNING else "",
    Column.ELAPSED: lambda job: format_clock(job.duration_s),
    Column.SUBMITTED: lambda job: format_submitted(job.created_at),
    Column.OWNER: lambda job: job.owner,
    Column.INPUT: lambda job: PurePath(job.input).name if job.input else "",
    Column.NODES: lambda job: ", ".join(short_node(node) for node in job.nodes),
    Column.TYPE: lambda job: job.type.value.capitalize(),
}
_SORT: dict[Column, Callable[[Job], Any]] = {
    Column.ID: lambda job: job.id,
    Column.NAME: lambda job: job.name.casefold(),
    Column.STATE: lambda job: _STATE_ORDER[job.state],
    Column.PROGRESS: lambda job: job.progress.fraction,
    Column.RATE: lambda job: traces_per_s(job) or -1.0,
    Column.ETA: lambda job: float("inf") if job.progress.eta_s is None else job.progress.eta_s,
    Column.ELAPSED: lambda job: job.duration_s or 0.0,
    Column.SUBMITTED: lambda job: job.created_at.timestamp(),
    Column.OWNER: lambda job: job.owner.casefold(),
    Column.INPUT: lambda job: _TEXT[Column.INPUT](job).casefold(),
    Column.NODES: _TEXT[Column.NODES],
    Column.TYPE: lambda job: job.type.value,
}


def display(job: Job, column: Column) -> str:
    """The cell's text."""
    return _TEXT[column](job)


def sort_key(job: Job, column: Column) -> Any:
    """A value that sorts the column as a person expects (numbers as numbers)."""
    return _SORT[column](job)


def tooltip(job: Job, column: Column, this_process: str = "") -> str:
    """More than the cell holds: full times, ids and paths, the state's reason."""
    if column is Column.STATE:
        return state_tooltip(job)
    if column is Column.PROGRESS:
        p = job.progress
        return f"{p.traces_done:,} of {p.traces_total:,} traces, {p.units_done} of " \
               f"{p.units_total} units"
    if column is Column.SUBMITTED:
        return job.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    if column is Column.OWNER:
        return _owner_tooltip(job.owner, this_process)
    if column is Column.NODES:
        return "\n".join(["Ray nodes that ran its units:", *job.nodes]) if job.nodes else ""
    return f"{job.name} (job {job.id})\n{job.input}\n→ {job.output}"


def state_tooltip(job: Job) -> str:
    """Why the job is where it is; a waiting job also names the jobs it waits for (its
    message may only count them)."""
    text = job.message or job.state.value
    if job.state is S.WAITING and job.waits_for:
        text += "\nwaits for job " + ", ".join(job.waits_for)
    return text


def _owner_tooltip(owner: str, this_process: str) -> str:
    host, _, pid = owner.rpartition(":")
    if not host or not pid.isdigit():
        return owner
    where = f"process {pid} on {host}"
    return f"{where} (this window)" if owner == this_process else where
