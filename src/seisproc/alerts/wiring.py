"""From a rule file to a working :class:`AlertManager`: rules, actions, dispatcher.

Composition roots (``seisproc monitor``, the GUI) call :func:`open_alert_manager`; tests
and scripts may build the pieces themselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from seisproc.alerts.actions import (
    Action,
    ActionDispatcher,
    ActionRegistry,
    DesktopAction,
    JobControl,
    SoundAction,
    ToastBus,
    WebhookAction,
    default_registry,
    log_action,
)
from seisproc.alerts.config import AlertConfig, load_alert_config
from seisproc.alerts.manager import AlertManager

__all__ = ["build_registry", "make_action", "open_alert_manager"]


def make_action(kind: str, settings: Mapping[str, Any], toasts: ToastBus) -> Action:
    """One configured action from an ``[actions.NAME]`` table (already validated)."""
    if kind == "webhook":
        return WebhookAction(
            settings["url"], slack=settings.get("format", "json") == "slack",
            timeout_s=float(settings.get("timeout_s", 5.0)),
            retries=int(settings.get("retries", 2)),
            backoff_s=float(settings.get("backoff_s", 0.5)),
            headers={str(k): str(v) for k, v in settings.get("headers", {}).items()})
    if kind == "sound":
        file = settings.get("file")
        return SoundAction(player=settings.get("player"), sound=Path(file) if file else None)
    if kind == "desktop":
        return DesktopAction(settings.get("command", "notify-send"))
    return toasts if kind == "toast" else log_action


def build_registry(config: AlertConfig, toasts: ToastBus | None = None,
                   jobs: JobControl | None = None) -> ActionRegistry:
    """The default actions (with ``jobs``: ``pause_job`` and ``cancel_job`` too), plus (or
    replaced by) the file's ``[actions.NAME]`` tables."""
    toasts = toasts or ToastBus()
    registry = default_registry(toasts, jobs)
    for name, settings in config.actions.items():
        registry.register(name, make_action(settings.get("type", name), settings, toasts))
    return registry


def open_alert_manager(path: Path | None = None, *, toasts: ToastBus | None = None,
                       config: AlertConfig | None = None, jobs: JobControl | None = None,
                       clock: Callable[[], float] = time.monotonic) -> AlertManager:
    """An alert manager with the rules and actions of ``alerts.toml`` (or the defaults).

    Parameters
    ----------
    path
        The rule file; ``<seisproc home>/alerts.toml`` by default. A missing file means
        the built-in rules and actions; a wrong one raises
        :class:`~seisproc.alerts.config.AlertConfigError`.
    toasts
        The bus the GUI listens on for ``toast`` actions.
    config
        Use this configuration instead of reading a file.
    jobs
        What ``pause_job`` and ``cancel_job`` act on: the JobManager of the process that
        runs the jobs (the GUI, ``seisproc run``). Without it those actions are not
        registered, and a rule naming them logs that once.

    Examples
    --------
    >>> alerts = open_alert_manager(jobs=manager)               # doctest: +SKIP
    >>> tracker = JobTracker.following(manager)                 # doctest: +SKIP
    >>> unsubscribe = tracker.on_unit(alerts.check_job)         # doctest: +SKIP
    """
    config = config or load_alert_config(path)
    dispatcher = ActionDispatcher(build_registry(config, toasts, jobs))
    return AlertManager(config.alert_rules(), dispatcher=dispatcher, clock=clock)
