"""Alert rules from a TOML file (``<seisproc home>/alerts.toml``), without ``eval``.

A declarative rule names a metric (a dotted name from
:data:`~seisproc.monitoring.snapshot.SNAPSHOT_METRICS`, or ``job.<name>`` from
:data:`~seisproc.monitoring.snapshot.JOB_METRICS` for a per-job rule), a comparison from
a fixed operator table, and a threshold. Nothing in the file is executed: conditions are
built from the lookup and the operator, and message templates may only name plain values.
A mistake gives one :class:`AlertConfigError` line naming the file, the rule and the field.

>>> config = parse_alert_config('''
... [[rules]]
... name = "home_disk"
... metric = "disk.home.percent"
... comparison = ">"
... threshold = 80
... ''')
>>> config.rules[0].to_rule().name
'home_disk'
"""

from __future__ import annotations

import fnmatch
import json
import logging
import operator
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from seisproc.alerts.actions import JOB_ACTIONS, redact_url
from seisproc.alerts.rules import AlertRule, Severity, default_rules, template_fields
from seisproc.errors import SeisprocError
from seisproc.monitoring.snapshot import JOB_METRICS, SNAPSHOT_METRICS, JobMetrics
from seisproc.paths import seisproc_home

__all__ = [
    "COMPARISONS",
    "AlertConfig",
    "AlertConfigError",
    "RuleSpec",
    "alerts_path",
    "dump_alert_config",
    "known_metric",
    "load_alert_config",
    "parse_alert_config",
]

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "==": operator.eq, "!=": operator.ne,
}
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
log = logging.getLogger("seisproc.alerts")
_TEXT_FIELDS = frozenset({"rule", "metric", "comparison", "job_id", "job_name", "job_state",
                          "disk_fullest", "error", "event", "node"})
"""Template names that hold text, not numbers (checked with a text sample)."""


class AlertConfigError(SeisprocError):
    """An alert rule file that cannot be read, or a rule in it that is wrong."""


def alerts_path() -> Path:
    """Where the rule file lives: ``alerts.toml`` in the seisproc home."""
    return seisproc_home() / "alerts.toml"


def known_metric(name: str) -> bool:
    """Whether ``name`` is a metric rules can watch (``job.`` prefix for job metrics)."""
    if name.startswith("job."):
        return name.removeprefix("job.") in JOB_METRICS
    parts = name.split(".")
    return any(len(p.split(".")) == len(parts)
               and all(w == "*" or w == s for w, s in zip(p.split("."), parts, strict=True))
               for p in SNAPSHOT_METRICS)


@dataclass(frozen=True)
class RuleSpec:
    """One rule as written in the file; :meth:`to_rule` makes the :class:`AlertRule`."""

    name: str
    metric: str
    comparison: str
    threshold: float
    for_seconds: float = 0.0
    severity: str = "warning"
    message: str = "{rule}: {metric} is {value:.4g} ({comparison} {threshold:g})"
    cooldown_seconds: float = 60.0
    actions: tuple[str, ...] = ("toast", "log")
    job: str | None = None
    """Shell-style pattern on job name or id; only for ``job.`` metrics."""

    def to_rule(self) -> AlertRule:
        compare, threshold = COMPARISONS[self.comparison], self.threshold
        message = self.message.replace("{comparison}", self.comparison)
        common: dict[str, Any] = dict(
            severity=self.severity, message_template=message,
            cooldown_seconds=self.cooldown_seconds, actions=list(self.actions),
            for_seconds=self.for_seconds, metric=self.metric, threshold=threshold)
        if self.metric.startswith("job."):
            key = self.metric.removeprefix("job.")

            def job_holds(job: JobMetrics) -> bool:
                value = job.values().get(key)
                return value is not None and compare(value, threshold)

            return AlertRule(self.name, None, job_condition=job_holds, job_filter=self.job,
                             **common)
        metric = self.metric
        return AlertRule(self.name, lambda s: (v := s.values().get(metric)) is not None
                         and compare(v, threshold), **common)


@dataclass(frozen=True)
class AlertConfig:
    """The whole file: rules, named action settings, and which built-in rules stay."""

    rules: tuple[RuleSpec, ...] = ()
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``[actions.NAME]`` tables: ``type`` (default: NAME) and that action's settings."""
    include_defaults: bool = True
    disabled: tuple[str, ...] = ()
    """Built-in rules switched off by name."""

    def __repr__(self) -> str:
        actions = {name: _redacted(settings) for name, settings in self.actions.items()}
        return (f"{type(self).__name__}(rules={self.rules!r}, actions={actions!r}, "
                f"include_defaults={self.include_defaults!r}, disabled={self.disabled!r})")

    def alert_rules(self) -> list[AlertRule]:
        """Built-in rules (unless disabled or redefined here), then this file's rules."""
        own = {spec.name for spec in self.rules}
        builtin = [r for r in default_rules() if r.name not in own
                   and r.name not in self.disabled] if self.include_defaults else []
        return builtin + [spec.to_rule() for spec in self.rules]


# ---------------------------------------------------------------------- reading
def load_alert_config(path: Path | None = None) -> AlertConfig:
    """Read ``path`` (default :func:`alerts_path`); a missing file means the defaults."""
    path = path or alerts_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AlertConfig()
    except OSError as exc:
        raise AlertConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    config = parse_alert_config(text, str(path))
    _warn_if_others_can_read(path, config)
    return config


def _warn_if_others_can_read(path: Path, config: AlertConfig) -> None:
    """A webhook's URL and headers are credentials: say so if the file is not private."""
    if not any(s.get("type", n) == "webhook" for n, s in config.actions.items()):
        return
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return
    if mode & 0o077:
        log.warning("%s holds webhook URLs (credentials) and other users can read it "
                    "(mode %s): chmod 600 %s", path, oct(mode), path)


def parse_alert_config(text: str, source: str = "alerts.toml") -> AlertConfig:
    """Parse a rule file's text; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AlertConfigError(f"{source}: not valid TOML: {exc}") from exc
    _only(data, {"include_defaults", "disabled", "rules", "actions"}, f"{source}:")
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        raise AlertConfigError(f"{source}: 'rules' must be an array of tables ([[rules]])")
    specs = tuple(_rule(raw, i, source) for i, raw in enumerate(rules, 1))
    _unique([s.name for s in specs], source)
    actions = _actions(data.get("actions", {}), source)
    _check_action_names(specs, actions, source)
    return AlertConfig(rules=specs, actions=actions,
                       include_defaults=_typed(data, "include_defaults", bool, True,
                                               f"{source}:"),
                       disabled=tuple(_strings(data, "disabled", (), f"{source}:")))


def _only(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise AlertConfigError(f"{where} unknown field {key!r} "
                                   f"(expected one of: {', '.join(sorted(allowed))})")


def _typed(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...],
           default: Any, where: str) -> Any:
    value = table.get(key, default)
    if value is default:
        return value
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise AlertConfigError(f"{where} field {key!r}: expected {names}, got {value!r}")
    return value


def _strings(table: Mapping[str, Any], key: str, default: tuple[str, ...],
             where: str) -> tuple[str, ...]:
    value = table.get(key, default)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise AlertConfigError(f"{where} field {key!r}: expected a list of strings, "
                               f"got {value!r}")
    return tuple(value)


def _rule(raw: Any, number: int, source: str) -> RuleSpec:
    where = f"{source}: rule #{number}"
    if not isinstance(raw, dict):
        raise AlertConfigError(f"{where}: expected a table ([[rules]])")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise AlertConfigError(f"{where}: field 'name': expected letters, digits, '_', "
                               f"'-' or '.', got {name!r}")
    where = f"{source}: rule {name!r}:"
    _only(raw, {f.name for f in fields(RuleSpec)}, where)
    for required in ("metric", "comparison", "threshold"):
        if required not in raw:
            raise AlertConfigError(f"{where} field {required!r} is missing")
    spec = RuleSpec(
        name=name, metric=_typed(raw, "metric", str, None, where),
        comparison=_typed(raw, "comparison", str, None, where),
        threshold=float(_typed(raw, "threshold", (int, float), None, where)),
        for_seconds=float(_typed(raw, "for_seconds", (int, float), 0.0, where)),
        severity=_typed(raw, "severity", str, "warning", where),
        message=_typed(raw, "message", str, RuleSpec.message, where),
        cooldown_seconds=float(_typed(raw, "cooldown_seconds", (int, float), 60.0, where)),
        actions=_strings(raw, "actions", RuleSpec.actions, where),
        job=_typed(raw, "job", str, None, where))
    _check_rule(spec, where)
    return spec


def _check_rule(spec: RuleSpec, where: str) -> None:
    """Values that parse but make no sense: unknown metric or operator, bad template..."""
    if not known_metric(spec.metric):
        raise AlertConfigError(
            f"{where} field 'metric': unknown metric {spec.metric!r} (known: "
            f"{', '.join(SNAPSHOT_METRICS)}, job.{', job.'.join(JOB_METRICS)})")
    if spec.comparison not in COMPARISONS:
        raise AlertConfigError(f"{where} field 'comparison': {spec.comparison!r} is not one "
                               f"of {' '.join(COMPARISONS)}")
    if spec.severity not in tuple(Severity):
        raise AlertConfigError(f"{where} field 'severity': {spec.severity!r} is not one of "
                               f"{', '.join(Severity)}")
    for key in ("for_seconds", "cooldown_seconds"):
        if getattr(spec, key) < 0:
            raise AlertConfigError(f"{where} field {key!r} must be >= 0")
    if spec.job is not None and not spec.metric.startswith("job."):
        raise AlertConfigError(f"{where} field 'job': a job filter needs a job.<name> metric, "
                               f"not {spec.metric!r}")
    _check_template(spec, where)


def _check_template(spec: RuleSpec, where: str) -> None:
    try:
        names = template_fields(spec.message)
    except ValueError as exc:
        raise AlertConfigError(f"{where} field 'message': malformed template: {exc}") from exc
    for name in names:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise AlertConfigError(f"{where} field 'message': {{{name}}} is not a plain name "
                                   "(no attributes, indexes or positions)")
    sample: dict[str, Any] = {name: "x" if name in _TEXT_FIELDS else 0.0 for name in names}
    try:
        spec.message.format_map(sample)
    except (ValueError, TypeError) as exc:
        raise AlertConfigError(f"{where} field 'message': {exc}") from exc


def _unique(names: list[str], source: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise AlertConfigError(f"{source}: rule {name!r}: field 'name': defined twice")
        seen.add(name)


_ACTION_SETTINGS: dict[str, set[str]] = {
    "webhook": {"url", "format", "timeout_s", "retries", "backoff_s", "headers",
                "allow_http"},
    "sound": {"player", "file"}, "desktop": {"command"}, "log": set(), "toast": set(),
}


def _actions(raw: Any, source: str) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise AlertConfigError(f"{source}: 'actions' must be tables ([actions.NAME])")
    out = {}
    for name, settings in raw.items():
        where = f"{source}: action {name!r}:"
        if not isinstance(settings, dict):
            raise AlertConfigError(f"{where} expected a table ([actions.{name}])")
        kind = settings.get("type", name)
        if kind not in _ACTION_SETTINGS:
            raise AlertConfigError(f"{where} field 'type': {kind!r} is not one of "
                                   f"{', '.join(_ACTION_SETTINGS)}")
        _only(settings, _ACTION_SETTINGS[kind] | {"type"}, where)
        if kind == "webhook":
            _check_webhook(settings, where)
        out[name] = dict(settings)
    return out


def _check_webhook(settings: Mapping[str, Any], where: str) -> None:
    """Types and values of a webhook table; its URL and headers never go in a message."""
    url = settings.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        shown = repr(redact_url(url)) if isinstance(url, str) else \
            "nothing" if url is None else f"a {type(url).__name__}"
        raise AlertConfigError(f"{where} field 'url': expected an http(s):// URL, got {shown}")
    if settings.get("format", "json") not in ("json", "slack"):
        raise AlertConfigError(f"{where} field 'format': {settings['format']!r} is not one "
                               "of json, slack")
    for key, kind in (("timeout_s", (int, float)), ("retries", int), ("backoff_s", (int, float)),
                      ("allow_http", bool)):
        _typed(settings, key, kind, None, where)
    headers = settings.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise AlertConfigError(f"{where} field 'headers': expected a table of strings "
                               "(headers = { Authorization = \"Bearer …\" })")
    if url.startswith("http://") and not settings.get("allow_http", False):
        raise AlertConfigError(f"{where} field 'url': plain http:// sends the alert, and "
                               "any token in the URL or headers, unencrypted; use https://, "
                               "or set allow_http = true")


def _redacted(settings: Mapping[str, Any]) -> dict[str, Any]:
    """An action's settings as they may be shown: URL and header values hidden."""
    shown = dict(settings)
    if isinstance(shown.get("url"), str):
        shown["url"] = redact_url(shown["url"])
    if isinstance(shown.get("headers"), dict):
        shown["headers"] = dict.fromkeys(shown["headers"], "…")
    return shown


def _check_action_names(specs: tuple[RuleSpec, ...], actions: Mapping[str, Any],
                        source: str) -> None:
    known = set(actions) | {"log", "toast", "sound", "desktop"} | set(JOB_ACTIONS)
    for spec in specs:
        for name in spec.actions:
            if name in JOB_ACTIONS and not spec.metric.startswith("job."):
                raise AlertConfigError(f"{source}: rule {spec.name!r}: field 'actions': "
                                       f"{name} acts on the job an alert is about, so it "
                                       f"needs a job.<name> metric, not {spec.metric!r}")
            if name not in known:
                hint = " (a webhook needs an [actions.NAME] table with its url)" \
                    if fnmatch.fnmatch(name, "*webhook*") else ""
                raise AlertConfigError(f"{source}: rule {spec.name!r}: field 'actions': "
                                       f"unknown action {name!r}{hint}")


# ---------------------------------------------------------------------- writing
def dump_alert_config(config: AlertConfig) -> str:
    """The TOML text :func:`parse_alert_config` reads back as ``config``."""
    lines = [f"include_defaults = {_toml(config.include_defaults)}"]
    if config.disabled:
        lines.append(f"disabled = {_toml(list(config.disabled))}")
    defaults = RuleSpec("", "", "", 0.0)
    for spec in config.rules:
        lines += ["", "[[rules]]"]
        for f in fields(RuleSpec):
            value = getattr(spec, f.name)
            if f.name in ("name", "metric", "comparison", "threshold") \
                    or (value is not None and value != getattr(defaults, f.name)):
                lines.append(f"{f.name} = {_toml(value)}")
    for name, settings in config.actions.items():
        lines += ["", f"[actions.{_toml_key(name)}]"]
        lines += [f"{_toml_key(k)} = {_toml(v)}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml(key)


def _toml(value: Any) -> str:
    """A TOML value: JSON's string escapes are valid TOML basic-string escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")
