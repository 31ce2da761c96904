"""Alert actions: delivered off the checking thread, fast, and never stalling anything."""

from __future__ import annotations

import io
import json
import logging
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise

import pytest
from alert_helpers import FakeClock, Recorder, local_http_server, make_snapshot, wait_for

from seisproc.alerts import (
    ActionDispatcher,
    ActionError,
    ActionRegistry,
    Alert,
    AlertManager,
    AlertRule,
    AlertStatus,
    DesktopAction,
    Severity,
    SoundAction,
    ToastBus,
    WebhookAction,
)
from seisproc.monitoring import ResourceMonitor


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, self.headers["Content-Type"],  # type: ignore[attr-defined]
                                     json.loads(body)))
        status = self.server.statuses.pop(0) if self.server.statuses else 200  # type: ignore[attr-defined]
        self.send_response(status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        return


@pytest.fixture
def hook_server() -> Iterator[ThreadingHTTPServer]:
    """A webhook receiver on 127.0.0.1, an ephemeral port, in a thread."""
    with local_http_server(_Hook, received=[], statuses=[]) as server:
        yield server


def url_of(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/hooks/seisproc"


@pytest.fixture
def closed_port_url() -> str:
    """A local port with nothing listening: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that accepts connections (kernel backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


def alert(rule: str = "high_memory", status: AlertStatus = AlertStatus.FIRING,
          actions: tuple[str, ...] = ()) -> Alert:
    return Alert(rule=rule, severity=Severity.WARNING, status=status,
                 message="Memory usage at 90%", actions=actions)


def always(name: str, actions: list[str]) -> AlertRule:
    return AlertRule(name, lambda s: True, "warning", f"{name} fired", cooldown_seconds=0,
                     actions=actions)


# ---------------------------------------------------------------------- webhook
def test_webhook_posts_the_alert_as_json(hook_server: ThreadingHTTPServer) -> None:
    WebhookAction(url_of(hook_server))(alert())
    [(path, content_type, body)] = hook_server.received  # type: ignore[attr-defined]
    assert path == "/hooks/seisproc" and content_type == "application/json"
    assert body["rule"] == "high_memory" and body["severity"] == "warning"
    assert body["status"] == "firing" and body["message"] == "Memory usage at 90%"
    assert body["source"] == "seisproc" and body["host"]


def test_webhook_slack_payload_is_a_text_line(hook_server: ThreadingHTTPServer) -> None:
    hook = WebhookAction(url_of(hook_server), slack=True)
    hook(alert())
    hook(alert(status=AlertStatus.RESOLVED))
    bodies = [b for _, _, b in hook_server.received]  # type: ignore[attr-defined]
    assert bodies == [{"text": "[WARNING] high_memory: Memory usage at 90%"},
                      {"text": "[resolved] high_memory: Memory usage at 90%"}]


def test_webhook_retries_a_server_error_then_delivers(hook_server: ThreadingHTTPServer) -> None:
    hook_server.statuses[:] = [503, 500]  # type: ignore[attr-defined]
    WebhookAction(url_of(hook_server), retries=2, backoff_s=0.01)(alert())
    assert len(hook_server.received) == 3  # type: ignore[attr-defined]


def test_webhook_does_not_retry_a_client_error(hook_server: ThreadingHTTPServer) -> None:
    hook_server.statuses[:] = [404]  # type: ignore[attr-defined]
    with pytest.raises(ActionError, match="HTTP 404"):
        WebhookAction(url_of(hook_server), retries=3, backoff_s=0.01)(alert())
    assert len(hook_server.received) == 1  # type: ignore[attr-defined]


def test_webhook_to_a_closed_port_fails_after_its_retries(closed_port_url: str) -> None:
    start = time.monotonic()
    with pytest.raises(ActionError, match=r"refused.*3 attempts"):
        WebhookAction(closed_port_url, retries=2, backoff_s=0.01)(alert())
    assert time.monotonic() - start < 2


def test_webhook_delivered_through_the_alert_manager(hook_server: ThreadingHTTPServer) -> None:
    registry = ActionRegistry({"webhook": WebhookAction(url_of(hook_server))})
    alerts = AlertManager([always("hot", ["webhook"])], dispatcher=ActionDispatcher(registry))
    try:
        alerts.check(make_snapshot())
        assert wait_for(lambda: len(hook_server.received) == 1)  # type: ignore[attr-defined]
    finally:
        alerts.close()
    assert hook_server.received[0][2]["rule"] == "hot"  # type: ignore[attr-defined]


def test_a_dead_url_stalls_neither_sampling_nor_other_actions(
        silent_url: str, closed_port_url: str, recorder: Recorder,
        caplog: pytest.LogCaptureFixture) -> None:
    registry = ActionRegistry({"silent": WebhookAction(silent_url, timeout_s=1, retries=0),
                               "refused": WebhookAction(closed_port_url, retries=0),
                               "record": recorder})
    alerts = AlertManager([always("hot", ["silent", "refused", "record"])],
                          dispatcher=ActionDispatcher(registry))
    monitor = ResourceMonitor(interval_s=0.05, gpus=lambda: ())
    monitor.subscribe(alerts.check)
    with caplog.at_level(logging.ERROR, logger="seisproc.alerts"), monitor:
        time.sleep(0.6)
        snapshots = monitor.history()
    alerts.close(timeout_s=0.1)
    assert len(snapshots) >= 9  # 12 due; the silent webhook blocks its own lane only
    gaps = [b.monotonic_s - a.monotonic_s for a, b in pairwise(snapshots)]
    assert max(gaps) < 0.2
    assert len(recorder.alerts) >= len(snapshots) - 1
    assert "refused" in caplog.text


# ---------------------------------------------------------------------- dispatching
def test_actions_start_within_100_ms_of_the_triggering_snapshot(recorder: Recorder) -> None:
    alerts = AlertManager([always("hot", ["record"])],
                          dispatcher=ActionDispatcher(ActionRegistry({"record": recorder})))
    monitor = ResourceMonitor(interval_s=0.02, gpus=lambda: ())
    monitor.subscribe(alerts.check)
    try:
        taken = [monitor.sample() for _ in range(30)]
        assert wait_for(lambda: len(recorder.times) == 30)
    finally:
        alerts.close()
    latencies = [t - s.monotonic_s for t, s in zip(recorder.times, taken, strict=True)]
    assert max(latencies) < 0.1, latencies
    assert statistics.median(latencies) < 0.02


def test_a_failing_action_is_logged_and_the_others_still_run(
        recorder: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    def broken(_: Alert) -> None:
        raise RuntimeError("speaker on fire")

    dispatcher = ActionDispatcher(ActionRegistry({"broken": broken, "record": recorder}))
    with caplog.at_level(logging.ERROR, logger="seisproc.alerts"):
        dispatcher.dispatch(alert(actions=("broken", "record")))
        dispatcher.dispatch(alert(actions=("broken", "record")))
        assert wait_for(lambda: len(recorder.alerts) == 2)
        dispatcher.close()
    assert [r.getMessage() for r in caplog.records] == [
        "alert action 'broken' failed for high_memory: speaker on fire"] * 2


def test_an_unknown_action_is_reported_once(recorder: Recorder,
                                            caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = ActionDispatcher(ActionRegistry({"record": recorder}))
    with caplog.at_level(logging.WARNING, logger="seisproc.alerts"):
        for _ in range(3):
            dispatcher.dispatch(alert(actions=("pager", "record")))
        assert wait_for(lambda: len(recorder.alerts) == 3)
        dispatcher.close()
    assert caplog.text.count("'pager' is not configured") == 1


def test_a_full_lane_drops_alerts_instead_of_growing(caplog: pytest.LogCaptureFixture) -> None:
    release = threading.Event()
    dispatcher = ActionDispatcher(ActionRegistry({"slow": lambda a: release.wait(5)}),
                                  lane_size=2)
    with caplog.at_level(logging.WARNING, logger="seisproc.alerts"):
        for _ in range(6):
            dispatcher.dispatch(alert(actions=("slow",)))
    release.set()
    dispatcher.close()
    assert "dropped" in caplog.text


def test_actions_are_pluggable_by_name(clock: FakeClock) -> None:
    heard: list[str] = []
    registry = ActionRegistry()
    registry.register("pager", lambda a: heard.append(a.rule))
    alerts = AlertManager([always("hot", ["pager"])], dispatcher=ActionDispatcher(registry),
                          clock=clock)
    alerts.check(make_snapshot())
    assert wait_for(lambda: heard == ["hot"])
    alerts.close()


# ---------------------------------------------------------------------- local actions
def test_toast_reaches_every_listener_until_unsubscribed() -> None:
    bus, got = ToastBus(), []
    unsubscribe = bus.subscribe(got.append)
    bus.subscribe(lambda a: 1 / 0)  # a broken GUI listener does not stop the others
    bus(alert())
    unsubscribe()
    bus(alert())
    assert [a.rule for a in got] == ["high_memory"]


def test_log_action_uses_the_alert_severity(caplog: pytest.LogCaptureFixture) -> None:
    from seisproc.alerts import log_action

    with caplog.at_level(logging.INFO, logger="seisproc.alerts"):
        log_action(alert())
        log_action(alert(status=AlertStatus.RESOLVED))
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "[high_memory] Memory usage at 90%"),
        ("INFO", "resolved: [high_memory] Memory usage at 90%")]


def test_sound_rings_the_terminal_bell_without_a_player() -> None:
    stream = io.StringIO()
    sound = SoundAction(stream=stream)
    sound.player = None
    sound(alert())
    sound(alert(status=AlertStatus.RESOLVED))
    assert stream.getvalue() == "\a"


def test_desktop_notification_is_skipped_without_notify_send() -> None:
    action = DesktopAction(command="no-such-notifier-here")
    assert action.command is None
    action(alert())  # neither raises nor blocks
