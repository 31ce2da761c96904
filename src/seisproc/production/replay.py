"""Re-running a recorded job exactly: its flow, on its input as it was, to a new output.

A replay is refused when the input is not the one the job read (:func:`replay_plan`
names what differs, in one line); forced, it runs anyway and its provenance keeps the
differences (``forced_changes``), so the record never claims a faithful re-run it was
not. A difference of software or device is not a refusal: it is what a replay is often
for, and ``seisproc diff`` shows it beside the outputs' difference (``seisproc replay``
names it as it starts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seisproc.errors import SeisprocError
from seisproc.jobs.model import Job
from seisproc.processing.flow import Flow
from seisproc.production.provenance import input_differences, input_record

__all__ = ["ReplayRefused", "ReplayPlan", "replay_plan", "default_replay_output"]


class ReplayRefused(SeisprocError):
    """The job cannot be replayed as it ran: its input changed, or was never identified."""


@dataclass(frozen=True)
class ReplayPlan:
    """What a replay submits."""

    flow: Flow
    """The job's flow with the new output."""
    extra: dict[str, Any]
    """Provenance keys of the replay: ``replay_of``, and ``forced_changes`` when forced."""
    input_changes: tuple[str, ...]
    """What differs in the input (empty unless forced)."""


def default_replay_output(job: Job) -> Path:
    """``<output stem>.replay-<job id><suffix>`` beside the job's output."""
    output = Path(job.output)
    return output.with_name(f"{output.stem}.replay-{job.id}{output.suffix}")


def replay_plan(job: Job, output: Path | None = None, *, force: bool = False) -> ReplayPlan:
    """The replay of ``job`` to ``output`` (default :func:`default_replay_output`).

    Raises :class:`ReplayRefused`, one line naming the job and each difference, when the
    input is not the one recorded and ``force`` is not given.
    """
    if not job.flow:
        raise ReplayRefused(f"job {job.id}: no flow recorded; nothing to replay")
    flow = Flow.from_mapping(job.flow, None, f"job {job.id}'s flow")
    target = (output or default_replay_output(job)).expanduser().resolve()
    flow = flow.model_copy(update={"output": target})
    recorded = job.provenance.get("input") or {"path": job.input}
    changes = input_differences(recorded, input_record(flow.input))
    if changes and not force:
        raise ReplayRefused(
            f"job {job.id}: cannot replay: {'; '.join(changes)}; "
            f"replay anyway with: seisproc replay --force {job.id}"
        )
    extra: dict[str, Any] = {"replay_of": job.id}
    if changes:
        extra["forced_changes"] = changes
    return ReplayPlan(flow, extra, tuple(changes))
