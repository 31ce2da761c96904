"""What the engine does when something happens to a job: every event in every state.

The scheduler never decides inline. It turns what happened (a user's pause, a unit's
error, a lost store, the last unit landing) into an :class:`Event`, asks :func:`decide`
for the job's next state and the effects to carry out, moves the job, and only then acts,
outside any lock, each effect with a defined outcome when it fails. Because the table
below answers every event in every state, nothing can arrive that the engine has no
answer for: the first engine raised ``IllegalTransition`` when an error came back for a
paused job, and dropped the other jobs' completions with it.

``docs/architecture.md`` prints this table; ``tests/jobs/test_decisions.py`` feeds every
event to every state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from seisproc.jobs.model import JobState
from seisproc.jobs.transitions import ALLOWED

__all__ = ["Event", "Effect", "Decision", "decide", "TABLE", "table_markdown"]

S = JobState


class Event(StrEnum):
    """Something that happened to a job."""

    PAUSE = "pause"
    """A user, an alert or another terminal asked to pause it."""
    RESUME = "resume"
    CANCEL = "cancel"
    START = "start"
    """A running slot is free and the job has no plan yet: plan it."""
    CONTINUE = "continue"
    """A running slot is free and the job was planned before (paused, then resumed)."""
    PLANNED = "planned"
    PLAN_FAILED = "plan_failed"
    """The input could not be indexed, the output not claimed or created, or the
    checkpoint does not match the job's plan any more (the input changed)."""
    UNIT_DONE = "unit_done"
    UNIT_FAILED = "unit_failed"
    """A unit raised: the data or the flow is at fault, so the job fails."""
    WORKER_LOST = "worker_lost"
    """A unit's worker died; the unit is retried elsewhere."""
    RETRIES_EXHAUSTED = "retries_exhausted"
    ALL_DONE = "all_done"
    """Every unit is done and checkpointed: commit the output."""
    COMMITTED = "committed"
    """The output has its final name and the history says COMPLETED."""
    COMMIT_FAILED = "commit_failed"
    DRAINED = "drained"
    """No unit of the job is in flight any more."""
    STORE_FAILED = "store_failed"
    """The history refused to record the job after every retry."""
    LEASE_LOST = "lease_lost"
    """Another process took the job over (its lease expired): hands off."""
    WORKERS_FAILED = "workers_failed"
    """The workers could not start, or took no more units (Ray gone)."""
    CLOSE_PAUSE = "close_pause"
    """The process running it is closing and keeps the job for later."""
    CLOSE_CANCEL = "close_cancel"
    DEPENDENCIES_MET = "dependencies_met"
    """Every job a waiting job waits for ended well (:mod:`seisproc.jobs.dependencies`)."""


class Effect(StrEnum):
    """What the scheduler does after moving the job; each is idempotent."""

    PLAN = "plan"
    """Index the input and create (or reopen) the partial output, off the scheduler."""
    STOP_UNITS = "stop_units"
    """Tell the workers to drop the job's units between gathers."""
    KEEP_UNIT = "keep_unit"
    """Checkpoint the unit and announce its progress."""
    DROP_UNIT = "drop_unit"
    """Forget the unit's result: the job is stopping or over."""
    RETRY_UNIT = "retry_unit"
    COMMIT = "commit"
    """Give the output its final name, off the scheduler."""
    REMOVE_FILES = "remove_files"
    """Remove the partial output and the checkpoint."""
    RELEASE = "release"
    """The job's run is over: workers close its files, the output claim is released."""
    FORGET = "forget"
    """Drop the job from memory without touching its files or its history."""


@dataclass(frozen=True)
class Decision:
    """The answer to one event: the next state (``None``: unchanged) and the effects."""

    to: JobState | None = None
    effects: tuple[Effect, ...] = ()
    refusal: str = ""
    """For a request that cannot be granted in this state: why, in a user's words.
    ``{job}`` is replaced by the job's id."""


E, X = Event, Effect
_STOP = (X.STOP_UNITS, X.REMOVE_FILES, X.RELEASE)
"""A job that fails: its units stop, its files go, its run ends."""
_FAIL = Decision(S.FAILED, _STOP)
_IGNORE = Decision()
_HANDS_OFF = Decision(None, (X.STOP_UNITS, X.FORGET))
_ENDED = "job {job} has finished: there is nothing to {action}"


def _refuse(text: str) -> Decision:
    return Decision(refusal=text)


_COMMON: dict[Event, Decision] = {
    E.LEASE_LOST: _HANDS_OFF,
    E.STORE_FAILED: _FAIL,
    E.WORKERS_FAILED: _FAIL,
    E.UNIT_FAILED: _FAIL,
    E.RETRIES_EXHAUSTED: _FAIL,
    E.WORKER_LOST: Decision(None, (X.RETRY_UNIT,)),
    E.UNIT_DONE: Decision(None, (X.KEEP_UNIT,)),
    E.DRAINED: _IGNORE,
    E.CANCEL: Decision(S.CANCELLING, (X.STOP_UNITS,)),
    E.CLOSE_CANCEL: Decision(S.CANCELLING, (X.STOP_UNITS,)),
    E.PLAN_FAILED: _FAIL,
    E.DEPENDENCIES_MET: _IGNORE,  # only a waiting job waits
}
"""Answers shared by the live states (queued, running, paused)."""

TABLE: dict[JobState, dict[Event, Decision]] = {
    S.QUEUED: {
        **_COMMON,
        E.PAUSE: Decision(S.PAUSED),
        E.RESUME: _refuse("job {job} is queued, not paused: it starts when a slot is free"),
        E.START: Decision(S.RUNNING, (X.PLAN,)),
        E.CONTINUE: Decision(S.RUNNING),
        E.PLANNED: _IGNORE,  # cannot happen: planning runs in RUNNING or PAUSED
        E.ALL_DONE: _IGNORE,  # commits only when running
        E.COMMITTED: _IGNORE,
        E.COMMIT_FAILED: _IGNORE,
        E.CLOSE_PAUSE: Decision(S.PAUSED),
    },
    S.WAITING: {
        **{event: _IGNORE for event in Event},
        E.PAUSE: _refuse("job {job} is waiting for other jobs and holds no slot: cancel it, "
                         "or pause what it waits for"),
        E.RESUME: _IGNORE,  # a resume adopts a waiting job whose process ended: it waits on
        E.CANCEL: Decision(S.CANCELLING),
        E.CLOSE_CANCEL: Decision(S.CANCELLING),
        E.DEPENDENCIES_MET: Decision(S.QUEUED),
        E.STORE_FAILED: Decision(S.FAILED, (X.RELEASE,)),
        E.PLAN_FAILED: Decision(S.FAILED, (X.RELEASE,)),  # its output claim was refused
        E.LEASE_LOST: _HANDS_OFF,
        E.UNIT_DONE: Decision(None, (X.DROP_UNIT,)),
        E.UNIT_FAILED: Decision(None, (X.DROP_UNIT,)),
        E.WORKER_LOST: Decision(None, (X.DROP_UNIT,)),
    },
    S.RUNNING: {
        **_COMMON,
        E.PAUSE: Decision(S.PAUSED),
        E.RESUME: _refuse("job {job} is running: only paused or interrupted jobs resume"),
        E.START: _IGNORE,
        E.CONTINUE: _IGNORE,
        E.PLANNED: _IGNORE,  # the scheduler installs the run
        E.ALL_DONE: Decision(None, (X.COMMIT,)),
        E.COMMITTED: Decision(S.COMPLETED, (X.RELEASE,)),
        E.COMMIT_FAILED: _FAIL,
        E.CLOSE_PAUSE: Decision(S.PAUSED),
    },
    S.PAUSED: {
        **_COMMON,
        E.PAUSE: _refuse("job {job} is already paused"),
        E.RESUME: Decision(S.QUEUED),
        E.START: _IGNORE,
        E.CONTINUE: _IGNORE,
        E.PLANNED: _IGNORE,  # paused while planning: the run is kept for the resume
        E.ALL_DONE: _IGNORE,  # the last units landed after the pause: commit on resume
        E.COMMITTED: _IGNORE,
        E.COMMIT_FAILED: _IGNORE,
        E.CLOSE_PAUSE: _IGNORE,
    },
    S.CANCELLING: {
        E.PAUSE: _refuse("job {job} is being cancelled"),
        E.RESUME: _refuse("job {job} is being cancelled"),
        E.CANCEL: _IGNORE,
        E.START: _IGNORE,
        E.CONTINUE: _IGNORE,
        E.PLANNED: _IGNORE,  # the planned files go with the drain
        E.PLAN_FAILED: _IGNORE,
        E.UNIT_DONE: Decision(None, (X.DROP_UNIT,)),
        E.UNIT_FAILED: Decision(None, (X.DROP_UNIT,)),
        E.WORKER_LOST: Decision(None, (X.DROP_UNIT,)),
        E.RETRIES_EXHAUSTED: _IGNORE,
        E.ALL_DONE: _IGNORE,
        E.COMMITTED: _IGNORE,
        E.COMMIT_FAILED: _IGNORE,
        E.DRAINED: Decision(S.CANCELLED, (X.REMOVE_FILES, X.RELEASE)),
        E.STORE_FAILED: _IGNORE,  # it ends CANCELLED all the same: its files go
        E.LEASE_LOST: _HANDS_OFF,
        E.WORKERS_FAILED: _IGNORE,
        E.CLOSE_PAUSE: _IGNORE,
        E.CLOSE_CANCEL: _IGNORE,
        E.DEPENDENCIES_MET: _IGNORE,
    },
    S.INTERRUPTED: {
        **{event: _IGNORE for event in Event},
        E.PAUSE: _refuse("job {job} is interrupted (its process stopped): resume or cancel it"),
        E.RESUME: Decision(S.QUEUED),
        E.CANCEL: Decision(S.CANCELLING),
        E.LEASE_LOST: _HANDS_OFF,
    },
}
for _ended in (S.COMPLETED, S.FAILED, S.CANCELLED):
    TABLE[_ended] = {
        **{event: _IGNORE for event in Event},
        E.UNIT_DONE: Decision(None, (X.DROP_UNIT,)),
        E.UNIT_FAILED: Decision(None, (X.DROP_UNIT,)),
        E.WORKER_LOST: Decision(None, (X.DROP_UNIT,)),
        E.PAUSE: _refuse(_ENDED.replace("{action}", "pause")),
        E.RESUME: _refuse(_ENDED.replace("{action}", "resume")),
        E.CANCEL: _refuse(_ENDED.replace("{action}", "cancel")),
    }
# A failed job may run again from the start (resume), or be given up on (cancel), which
# lets the jobs waiting for it go on without it (seisproc.jobs.dependencies).
TABLE[S.FAILED][E.RESUME] = Decision(S.QUEUED)
TABLE[S.FAILED][E.CANCEL] = Decision(S.CANCELLED)


_MOOT_WHILE_COMMITTING = frozenset({E.CLOSE_PAUSE, E.CLOSE_CANCEL, E.STORE_FAILED,
                                    E.WORKERS_FAILED, E.ALL_DONE})


def decide(state: JobState, event: Event, *, committing: bool = False) -> Decision:
    """The answer to ``event`` for a job in ``state``.

    ``committing``: the job's output is being given its final name. A pause or cancel
    can no longer stop it, closing waits for it, and a failure elsewhere (a progress
    record the history refused, the workers gone) is moot: the commit's own outcome
    decides. Only another process taking the job over still hands it off.

    >>> decide(JobState.PAUSED, Event.UNIT_FAILED).to
    <JobState.FAILED: 'FAILED'>
    >>> decide(JobState.CANCELLING, Event.UNIT_FAILED).effects
    (<Effect.DROP_UNIT: 'drop_unit'>,)
    """
    if committing and event in (E.PAUSE, E.CANCEL):
        return _refuse("job {job} is finishing: its output is being committed")
    if committing and event in _MOOT_WHILE_COMMITTING:
        return _IGNORE
    decision = TABLE[state][event]
    assert decision.to is None or decision.to in ALLOWED[state], (state, event)
    return decision


def table_markdown() -> str:
    """The decision table as Markdown, one row per event and a column per state: what
    ``docs/architecture.md`` prints (a test keeps the two equal)."""
    states = list(JobState)

    def cell(decision: Decision) -> str:
        if decision.refusal:
            return "refused"
        parts = [f"→ **{decision.to.value}**"] if decision.to is not None else []
        if decision.effects:
            parts.append(", ".join(effect.value for effect in decision.effects))
        return "; ".join(parts) or "·"

    rows = ["| event | " + " | ".join(s.value for s in states) + " |",
            "|---|" + "---|" * len(states)]
    rows += [f"| `{event.value}` | " + " | ".join(cell(TABLE[s][event]) for s in states)
             + " |" for event in Event]
    return "\n".join(rows)
