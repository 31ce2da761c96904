"""Job events: what observers (history, CLI, GUI, alerts) hear about jobs.

Events are plain data delivered synchronously on the thread that produced them, always
after the change they announce has been persisted. A subscriber that must not block the
driver (the GUI) re-queues them onto its own thread; a subscriber that raises is logged
and never stops delivery to the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from seisproc.jobs.model import Job, utcnow
from seisproc.observers import Subscribers

__all__ = ["JobEventKind", "JobEvent", "EventBus", "Subscriber"]

log = logging.getLogger(__name__)


class JobEventKind(StrEnum):
    SUBMITTED = "submitted"
    STATE_CHANGED = "state_changed"
    PROGRESS = "progress"
    UNIT_COMPLETED = "unit_completed"
    """After a unit's ``PROGRESS``: ``detail`` has ``unit``, ``seconds``, ``traces``,
    ``node``, ``non_finite``, ``qc`` (a :meth:`~seisproc.jobs.qc.GatherQc.to_dict` per
    gather) and ``stages`` (seconds per stage, see :mod:`seisproc.jobs.stages`); the
    thumbnail stays in ``JobManager.qc(job_id)``. Not persisted."""
    UNIT_RETRIED = "unit_retried"
    WORKER_LOST = "worker_lost"


@dataclass(frozen=True)
class JobEvent:
    """Something that happened to a job; ``job`` is its state right after."""

    kind: JobEventKind
    job: Job
    at: datetime = field(default_factory=utcnow)
    detail: dict[str, Any] = field(default_factory=dict)
    """Kind-specific figures: unit number and seconds, the lost worker, the old state."""


Subscriber = Callable[[JobEvent], None]


class EventBus:
    """Thread-safe publish/subscribe for :class:`JobEvent`."""

    def __init__(self) -> None:
        self._subscribers: Subscribers[JobEvent] = Subscribers()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add ``subscriber``; returns a function that removes it."""
        return self._subscribers.add(subscriber)

    def emit(self, event: JobEvent) -> None:
        for subscriber in self._subscribers.current():
            try:
                subscriber(event)
            except Exception:
                log.exception("job event subscriber %r failed on %s", subscriber, event.kind)
