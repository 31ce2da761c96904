"""What an alert does: log, toast, sound, desktop notification, webhook, pause or cancel
the job it is about; by name.

Actions are plain callables taking an :class:`~seisproc.alerts.rules.Alert`, registered
under a name in an :class:`ActionRegistry`; a rule lists the names it wants. The
:class:`ActionDispatcher` runs them off the caller's thread (the monitor's sampling
thread, the JobManager's scheduler), on one lane per action name: a webhook stuck on a
dead URL delays only later webhook deliveries, never the log, a toast, or sampling. An
action that raises is logged; the others run regardless.

``pause_job`` and ``cancel_job`` act on whatever controls jobs (:class:`JobControl`: the
JobManager has that shape), which the composition root hands to
:func:`job_control_actions`; this package never imports the engine.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol, TextIO

from seisproc.alerts.rules import Alert, AlertStatus, Severity
from seisproc.errors import SeisprocError

__all__ = [
    "Action",
    "ActionDispatcher",
    "ActionError",
    "ActionRegistry",
    "DesktopAction",
    "JOB_ACTIONS",
    "JobControl",
    "JobControlAction",
    "SoundAction",
    "ToastBus",
    "WebhookAction",
    "default_registry",
    "job_control_actions",
    "log_action",
    "redact_url",
]

log = logging.getLogger("seisproc.alerts")

Action = Callable[[Alert], None]
_LEVELS = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING,
           Severity.CRITICAL: logging.CRITICAL}


class ActionError(SeisprocError):
    """An action could not deliver an alert (after its retries)."""


def redact_url(url: str) -> str:
    """``url`` as it may be shown: scheme and host (and port), never the user, path or
    query, where webhook services keep their tokens.

    >>> redact_url("https://hooks.slack.com/services/T000/B000/XXXX")
    'https://hooks.slack.com/…'
    >>> redact_url("http://user:secret@127.0.0.1:8080/hook?token=x")
    'http://127.0.0.1:8080/…'
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "…"
    if not parts.scheme or not host:
        return "…"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}/…"


def log_action(alert: Alert) -> None:
    """Log on ``seisproc.alerts`` at the alert's severity (INFO once resolved)."""
    level = logging.INFO if alert.status is AlertStatus.RESOLVED else _LEVELS[alert.severity]
    prefix = "resolved: " if alert.status is AlertStatus.RESOLVED else ""
    log.log(level, "%s[%s] %s", prefix, alert.rule, alert.message)


class ToastBus:
    """The ``toast`` action: hands alerts to in-process listeners (the GUI's toasts).

    Listeners run on the action lane's thread; the GUI re-queues onto its own thread.
    With no listener a toast goes nowhere, which is right for a headless run.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Action] = []

    def subscribe(self, listener: Action) -> Callable[[], None]:
        """Add ``listener``; returns the function that removes it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def __call__(self, alert: Alert) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(alert)
            except Exception:
                log.exception("toast listener %r failed", listener)


_SOUNDS = ("/usr/share/sounds/freedesktop/stereo/dialog-warning.oga",
           "/usr/share/sounds/freedesktop/stereo/bell.oga",
           "/usr/share/sounds/alsa/Front_Center.wav")


class SoundAction:
    """Plays a sound with ``paplay`` or ``aplay`` where present, else rings the terminal
    bell. Resolved alerts stay silent."""

    def __init__(self, player: str | None = None, sound: Path | None = None,
                 stream: TextIO | None = None) -> None:
        self.sound = sound or next((Path(p) for p in _SOUNDS if Path(p).exists()), None)
        self.player = player or next((p for p in ("paplay", "aplay")
                                      if shutil.which(p)), None)
        self.stream = stream

    def __call__(self, alert: Alert) -> None:
        if alert.status is AlertStatus.RESOLVED:
            return
        if self.player and self.sound:
            subprocess.run([self.player, str(self.sound)], check=False, timeout=10,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return
        stream = self.stream or sys.stderr
        stream.write("\a")
        stream.flush()


class DesktopAction:
    """A desktop notification through ``notify-send`` (Linux) where it is installed."""

    _URGENCY = {Severity.INFO: "low", Severity.WARNING: "normal", Severity.CRITICAL: "critical"}

    def __init__(self, command: str = "notify-send") -> None:
        self.command = shutil.which(command)

    def __call__(self, alert: Alert) -> None:
        if self.command is None:
            log.debug("no notify-send: desktop notification of %s skipped", alert.rule)
            return
        title = f"seisproc: {alert.rule}" + (" resolved" if alert.status is
                                              AlertStatus.RESOLVED else "")
        subprocess.run([self.command, "-u", self._URGENCY[alert.severity], "-a", "seisproc",
                        title, alert.message], check=True, timeout=10,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class WebhookAction:
    """HTTP POST of the alert as JSON, with a timeout and retries (stdlib ``urllib``).

    Parameters
    ----------
    url
        Where to post.
    slack
        Post Slack's incoming-webhook payload (``{"text": ...}``, also understood by
        Mattermost and Rocket.Chat) instead of the alert's own fields.
    timeout_s, retries, backoff_s
        Each attempt waits at most ``timeout_s``; a connection error, a timeout, a 429 or
        a 5xx is retried ``retries`` times, ``backoff_s`` doubling between attempts.
    headers
        Extra request headers (an ``Authorization`` token, say).

    The URL's path and query and the header values are secrets (Slack keeps its token in
    the path): logs, errors and ``repr`` show only the scheme and host
    (:func:`redact_url`). A redirect is followed only to the same host, and never from
    ``https`` to ``http``, so the headers go nowhere else.
    """

    def __init__(self, url: str, *, slack: bool = False, timeout_s: float = 5.0,
                 retries: int = 2, backoff_s: float = 0.5,
                 headers: Mapping[str, str] | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("webhook url must start with http:// or https://, not "
                             f"{redact_url(url)!r}")
        self.url, self.slack = url, slack
        self.timeout_s, self.retries, self.backoff_s = timeout_s, retries, backoff_s
        self.headers = {"Content-Type": "application/json", "User-Agent": "seisproc",
                        **(headers or {})}

    def __repr__(self) -> str:
        names = sorted(set(self.headers) - _PLAIN_HEADERS)  # their values are secrets
        return (f"{type(self).__name__}({redact_url(self.url)!r}, slack={self.slack}, "
                f"headers={names})")

    def payload(self, alert: Alert) -> dict[str, Any]:
        """The JSON body: the alert's fields and the host (several machines may post to
        one receiver), or one line of text for chat services."""
        if not self.slack:
            return {"source": "seisproc", "host": socket.gethostname(), **alert.to_dict()}
        mark = "resolved" if alert.status is AlertStatus.RESOLVED else alert.severity.upper()
        return {"text": f"[{mark}] {alert.rule}: {alert.message}"}

    def __call__(self, alert: Alert) -> None:
        body = json.dumps(self.payload(alert)).encode()
        for attempt, delay in enumerate(self._delays()):
            time.sleep(delay)
            try:
                self._post(body)
                return
            except Exception as exc:  # any failure's message may quote the URL: scrubbed
                error: Exception = exc
                if not _retryable(exc):
                    break
            log.debug("webhook %s attempt %d failed: %s", redact_url(self.url), attempt + 1,
                      self._scrub(_reason(error)))
        tries = attempt + 1
        raise ActionError(f"webhook {redact_url(self.url)}: {self._scrub(_reason(error))} "
                          f"(alert {alert.rule}, {tries} attempt{'s' if tries > 1 else ''})")

    def _scrub(self, text: str) -> str:
        """``text`` without the URL's secret parts or a header value, should an error
        from urllib quote them (``InvalidURL`` quotes the path)."""
        parts = urllib.parse.urlsplit(self.url)
        secrets = [self.url, parts.path, parts.query, parts.username, parts.password,
                   *(v for k, v in self.headers.items() if k not in _PLAIN_HEADERS)]
        for secret in sorted((s for s in secrets if s and len(s) > 1), key=len, reverse=True):
            text = text.replace(secret, "…")
        return text

    def _delays(self) -> Iterator[float]:
        yield 0.0
        for n in range(self.retries):
            yield self.backoff_s * 2 ** n

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(self.url, data=body, headers=self.headers,
                                         method="POST")
        try:
            opener = urllib.request.build_opener(_SameHostRedirects)
            with opener.open(request, timeout=self.timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the response's socket
            raise _HttpStatus(exc.code, str(exc.reason)) from None


_PLAIN_HEADERS = frozenset({"Content-Type", "User-Agent"})


class _HttpStatus(Exception):
    """The server answered with an error status."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"HTTP {code} {reason}")
        self.code = code


class _RedirectRefused(Exception):
    """A redirect to another host (or from https to http): the headers stay home."""


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the same host, keeping https; refuses it otherwise,
    naming the hosts only (the new location may carry a token too)."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        old, new = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(newurl)
        if (new.hostname or "").lower() != (old.hostname or "").lower():
            fp.close()
            raise _RedirectRefused(f"redirected (HTTP {code}) from {old.hostname} to "
                                   f"another host, {new.hostname}: not followed")
        if old.scheme == "https" and new.scheme != "https":
            fp.close()
            raise _RedirectRefused(f"redirected (HTTP {code}) from https to {new.scheme}: "
                                   "not followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _retryable(error: Exception) -> bool:
    """A connection error, a timeout, a 429 or a 5xx: worth another attempt."""
    if isinstance(error, _HttpStatus):
        return error.code == 429 or error.code >= 500
    return isinstance(error, urllib.error.URLError | http.client.HTTPException | OSError)


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) or type(error).__name__


class JobControl(Protocol):
    """What ``pause_job`` and ``cancel_job`` need: the JobManager's two calls."""

    def pause(self, job_id: str, message: str = ...) -> object: ...

    def cancel(self, job_id: str, message: str = ...) -> object: ...


JOB_ACTIONS: dict[str, Literal["pause", "cancel"]] = {"pause_job": "pause",
                                                      "cancel_job": "cancel"}
"""Action names that act on the alert's job, and what they do to it."""


class JobControlAction:
    """Pauses or cancels the job an alert is about (a job or job-event rule's alert).

    The job's message says which alert stopped it. Resolved alerts and alerts about no
    job do nothing; a job that can no longer be paused or cancelled (finished, already
    paused, run by another process) is left as it is, with a log line saying why.
    """

    def __init__(self, jobs: JobControl, verb: Literal["pause", "cancel"]) -> None:
        self.jobs, self.verb = jobs, verb

    def __call__(self, alert: Alert) -> None:
        if alert.status is AlertStatus.RESOLVED or alert.job_id is None:
            return
        done = "paused" if self.verb == "pause" else "cancelled"
        message = f"{done} by alert {alert.rule}: {alert.message}"
        act = self.jobs.pause if self.verb == "pause" else self.jobs.cancel
        try:
            act(alert.job_id, message)
        except SeisprocError as exc:
            log.info("alert %s: job %s not %s: %s", alert.rule, alert.job_id, done, exc)
            return
        log.info("job %s %s by alert %s", alert.job_id, done, alert.rule)


def job_control_actions(jobs: JobControl) -> dict[str, Action]:
    """``pause_job`` and ``cancel_job`` acting on ``jobs`` (a JobManager), to register.

    >>> registry = default_registry()
    >>> for name, action in job_control_actions(manager).items():  # doctest: +SKIP
    ...     registry.register(name, action)
    """
    return {name: JobControlAction(jobs, verb) for name, verb in JOB_ACTIONS.items()}


class ActionRegistry:
    """Actions by name; a rule's ``actions`` list picks from here."""

    def __init__(self, actions: Mapping[str, Action] | None = None) -> None:
        self._lock = threading.Lock()
        self._actions: dict[str, Action] = dict(actions or {})

    def register(self, name: str, action: Action) -> None:
        """Add or replace the action called ``name``."""
        with self._lock:
            self._actions[name] = action

    def get(self, name: str) -> Action | None:
        with self._lock:
            return self._actions.get(name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._actions)


def default_registry(toasts: ToastBus | None = None,
                     jobs: JobControl | None = None) -> ActionRegistry:
    """``log``, ``toast``, ``sound`` and ``desktop``, and with ``jobs`` (the process's
    JobManager) ``pause_job`` and ``cancel_job``; a ``webhook`` needs a URL, so it is
    added from the rule file's ``[actions.NAME]`` tables or by :meth:`ActionRegistry.register`."""
    actions: dict[str, Action] = {"log": log_action, "toast": toasts or ToastBus(),
                                  "sound": SoundAction(), "desktop": DesktopAction()}
    if jobs is not None:
        actions.update(job_control_actions(jobs))
    return ActionRegistry(actions)


class ActionDispatcher:
    """Runs alerts' actions on daemon threads, one lane (thread + queue) per action name.

    Parameters
    ----------
    registry
        The actions; :func:`default_registry` when ``None``.
    lane_size
        Alerts waiting per lane; beyond it new ones are dropped with a warning (a dead
        webhook must not grow memory without bound).
    """

    def __init__(self, registry: ActionRegistry | None = None, *, lane_size: int = 100) -> None:
        self.registry = registry or default_registry()
        self._lane_size = lane_size
        self._lanes: dict[str, queue.Queue[Alert | None]] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self._abandoned = threading.Event()
        """Set once close() gave up waiting: what is still queued is dropped."""

    def dispatch(self, alert: Alert) -> None:
        """Queue each of the alert's actions; returns at once (nothing once closed)."""
        if self._abandoned.is_set():
            log.debug("alert %s after the dispatcher closed: no action", alert.rule)
            return
        for name in alert.actions:
            lane = self._lane(name)
            try:
                lane.put_nowait(alert)
            except queue.Full:
                log.warning("alert action %r is %d alerts behind; dropped %s", name,
                            self._lane_size, alert.rule)

    def _lane(self, name: str) -> queue.Queue[Alert | None]:
        with self._lock:
            lane = self._lanes.get(name)
            if lane is None:
                lane = self._lanes[name] = queue.Queue(self._lane_size)
                thread = threading.Thread(target=self._drain, args=(name, lane), daemon=True,
                                          name=f"seisproc-alert-{name}")
                self._threads.append(thread)
                thread.start()
            return lane

    def _drain(self, name: str, lane: queue.Queue[Alert | None]) -> None:
        while (alert := lane.get()) is not None and not self._abandoned.is_set():
            action = self.registry.get(name)
            if action is None:
                if name not in self._warned:
                    self._warned.add(name)
                    log.warning("alert action %r is not configured (known: %s)", name,
                                ", ".join(self.registry.names()))
                continue
            try:
                action(alert)
            except Exception as exc:
                log.error("alert action %r failed for %s: %s", name, alert.rule, exc,
                          exc_info=not isinstance(exc, SeisprocError))

    def close(self, timeout_s: float = 2.0) -> None:
        """Let queued actions finish (up to ``timeout_s`` in all), then stop the lanes;
        a lane still busy then (a webhook waiting on a dead URL) drops what is queued."""
        with self._lock:
            lanes, threads = list(self._lanes.values()), list(self._threads)
            self._lanes, self._threads = {}, []
        deadline = time.monotonic() + timeout_s
        for lane in lanes:
            with contextlib.suppress(queue.Full):  # a lane stuck that long is left behind
                lane.put(None, timeout=max(0.0, deadline - time.monotonic()))
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._abandoned.set()
