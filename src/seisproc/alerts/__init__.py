"""Alerts: rules over resource snapshots and job events, and what they do when they fire.

:class:`AlertManager` checks :class:`AlertRule` s (built-in, added in code, or read from
``<seisproc home>/alerts.toml`` without ``eval``) against each
:class:`~seisproc.monitoring.snapshot.ResourceSnapshot` and each job event, with
cooldowns, sustained conditions and "resolved" notices, and runs the rules' actions (log,
toast, sound, desktop, webhook) off the monitoring thread. Plain Python: no Qt, Ray or SQL.

>>> alerts = open_alert_manager()          # doctest: +SKIP
>>> monitor.subscribe(alerts.check)         # doctest: +SKIP
>>> manager.subscribe(alerts.handle_event)  # doctest: +SKIP

Given the process's JobManager (``open_alert_manager(jobs=manager)``), rules may also
pause or cancel the job they are about: the built-in ``qc_non_finite`` pauses a job whose
output holds NaN or Inf samples.
"""

from seisproc.alerts.actions import (
    Action,
    ActionDispatcher,
    ActionError,
    ActionRegistry,
    DesktopAction,
    JobControl,
    JobControlAction,
    SoundAction,
    ToastBus,
    WebhookAction,
    default_registry,
    job_control_actions,
    log_action,
)
from seisproc.alerts.config import (
    COMPARISONS,
    AlertConfig,
    AlertConfigError,
    RuleSpec,
    alerts_path,
    dump_alert_config,
    known_metric,
    load_alert_config,
    parse_alert_config,
)
from seisproc.alerts.manager import AlertManager, AlertSubscriber, get_default_rules
from seisproc.alerts.rules import (
    Alert,
    AlertRule,
    AlertStatus,
    Severity,
    default_rules,
    render_message,
)
from seisproc.alerts.wiring import build_registry, make_action, open_alert_manager

__all__ = [
    "COMPARISONS",
    "Action",
    "ActionDispatcher",
    "ActionError",
    "ActionRegistry",
    "Alert",
    "AlertConfig",
    "AlertConfigError",
    "AlertManager",
    "AlertRule",
    "AlertStatus",
    "AlertSubscriber",
    "DesktopAction",
    "JobControl",
    "JobControlAction",
    "RuleSpec",
    "Severity",
    "SoundAction",
    "ToastBus",
    "WebhookAction",
    "alerts_path",
    "build_registry",
    "default_registry",
    "default_rules",
    "dump_alert_config",
    "get_default_rules",
    "job_control_actions",
    "known_metric",
    "load_alert_config",
    "log_action",
    "make_action",
    "open_alert_manager",
    "parse_alert_config",
    "render_message",
]
