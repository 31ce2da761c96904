"""Webhook URLs and headers are credentials: never shown, never sent to another host,
never sent in clear text unless the rule file says so."""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from alert_helpers import local_http_server, wait_for

from seisproc.alerts import (
    ActionDispatcher,
    ActionError,
    ActionRegistry,
    Alert,
    AlertConfigError,
    AlertStatus,
    Severity,
    WebhookAction,
    load_alert_config,
    parse_alert_config,
)
from seisproc.alerts.actions import _SameHostRedirects, redact_url

SECRET = "s3cret"
"""In every test URL's path and query, and in the header value: must never be shown."""
HEADERS = {"Authorization": f"Bearer hdr-{SECRET}"}


class _Receiver(BaseHTTPRequestHandler):
    """Answers POSTs with the server's ``answer`` (a status, or a redirect target);
    records every request with its Authorization header."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        self._record()
        status, location = self.server.answer  # type: ignore[attr-defined]
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 (the request after a 302)
        self._record()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _record(self) -> None:
        self.server.requests.append(  # type: ignore[attr-defined]
            (self.command, self.path, self.headers.get("Authorization")))

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        return


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    """A receiver on 127.0.0.1 that answers 500 until the test says otherwise."""
    with local_http_server(_Receiver, requests=[], answer=(500, None)) as server:
        yield server


def port_of(server: ThreadingHTTPServer) -> int:
    return int(server.server_address[1])


def secret_url(server: ThreadingHTTPServer, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{port_of(server)}/services/T0/B0/{SECRET}?token={SECRET}"


def alert() -> Alert:
    return Alert(rule="home_disk", severity=Severity.WARNING, status=AlertStatus.FIRING,
                 message="disk at 91%", actions=("team",))


def shown_text(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the log shows: messages and any traceback."""
    formatter = logging.Formatter()
    return "\n".join(formatter.format(r) for r in caplog.records)


# ---------------------------------------------------------------------- redaction
@pytest.mark.parametrize(("url", "shown"), [
    ("https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/…"),
    ("http://user:pw@127.0.0.1:8080/hook?token=x", "http://127.0.0.1:8080/…"),
    ("https://[::1]:8443/x", "https://[::1]:8443/…"),
    ("hooks.slack.com/services/T000/B000/XXXX", "…"),
    ("https://127.0.0.1:notaport/x", "…"),
])
def test_redact_url_keeps_only_scheme_and_host(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_failing_webhook_never_shows_its_url_path_or_header_value(
        receiver: ThreadingHTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    hook = WebhookAction(secret_url(receiver), headers=HEADERS, retries=1, backoff_s=0.01)
    dispatcher = ActionDispatcher(ActionRegistry({"team": hook}))
    with caplog.at_level(logging.DEBUG, logger="seisproc.alerts"):
        dispatcher.dispatch(alert())
        assert wait_for(lambda: any(r.levelno == logging.ERROR for r in caplog.records))
        dispatcher.close()
    with pytest.raises(ActionError) as info:
        hook(alert())
    assert len(receiver.requests) == 4  # type: ignore[attr-defined]  # 2 attempts, twice
    shown = [shown_text(caplog), str(info.value), repr(info.value), repr(hook)]
    assert not [text for text in shown if SECRET in text]
    assert f"webhook http://127.0.0.1:{port_of(receiver)}/…: HTTP 500" in str(info.value)
    assert "Authorization" in repr(hook)


def test_an_error_that_quotes_the_url_is_scrubbed() -> None:
    """http.client's InvalidURL quotes the path; the message must not."""
    hook = WebhookAction(f"http://127.0.0.1:9/a {SECRET}", headers=HEADERS, retries=0)
    with pytest.raises(ActionError) as info:
        hook(alert())
    assert SECRET not in str(info.value)
    assert "webhook http://127.0.0.1:9/…:" in str(info.value)


def test_a_bad_webhook_url_in_python_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError) as info:
        WebhookAction(f"ftp://127.0.0.1/{SECRET}")
    assert SECRET not in str(info.value)


# ---------------------------------------------------------------------- redirects
def test_a_redirect_to_another_host_is_not_followed_and_names_only_the_hosts(
        receiver: ThreadingHTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    """``localhost`` and ``127.0.0.1`` are one server but two host names: the headers
    must not follow the redirect, which would reach the same receiver again."""
    target = f"{secret_url(receiver, host='localhost')}&landing=1"
    receiver.answer = (302, target)  # type: ignore[attr-defined]
    hook = WebhookAction(secret_url(receiver), headers=HEADERS, retries=2, backoff_s=0.01)
    with caplog.at_level(logging.DEBUG, logger="seisproc.alerts"), \
            pytest.raises(ActionError) as info:
        hook(alert())
    assert [method for method, _, _ in receiver.requests] == ["POST"]  # type: ignore[attr-defined]
    message = str(info.value)
    assert "from 127.0.0.1 to another host, localhost: not followed" in message
    assert "1 attempt)" in message  # a refused redirect is not retried
    assert SECRET not in message and SECRET not in shown_text(caplog)


def test_a_redirect_on_the_same_host_is_followed(receiver: ThreadingHTTPServer) -> None:
    receiver.answer = (302, "/landing")  # type: ignore[attr-defined]
    WebhookAction(secret_url(receiver), headers=HEADERS)(alert())
    assert [(m, p) for m, p, _ in receiver.requests][-1] == ("GET", "/landing")  # type: ignore[attr-defined]


class _Response:
    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(("new_url", "refusal"), [
    ("http://127.0.0.1/x", "from https to http"),
    ("https://localhost/x", "to another host, localhost"),
])
def test_a_redirect_from_https_to_http_or_another_host_is_refused(
        new_url: str, refusal: str) -> None:
    request = urllib.request.Request("https://127.0.0.1/hook", data=b"{}", headers=HEADERS)
    response = _Response()
    with pytest.raises(Exception, match=refusal):
        _SameHostRedirects().redirect_request(request, response, 302, "Found", {}, new_url)
    assert response.closed


# ---------------------------------------------------------------------- rule files
def webhook_file(url: str, extra: str = "") -> str:
    return (f'[actions.team]\ntype = "webhook"\nurl = "{url}"\n'
            f'headers = {{ Authorization = "Bearer hdr-{SECRET}" }}\n{extra}')


def test_a_plain_http_webhook_is_refused_naming_the_action(tmp_path: Path) -> None:
    path = tmp_path / "alerts.toml"
    path.write_text(webhook_file(f"http://127.0.0.1/{SECRET}"))
    with pytest.raises(AlertConfigError) as info:
        load_alert_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: action 'team': field 'url': plain http://")
    assert "allow_http = true" in message
    assert "\n" not in message and SECRET not in message


def test_a_plain_http_webhook_is_accepted_with_allow_http() -> None:
    config = parse_alert_config(webhook_file(f"http://127.0.0.1/{SECRET}",
                                             "allow_http = true\n"))
    assert config.actions["team"]["allow_http"] is True


def test_allow_http_must_be_a_boolean() -> None:
    with pytest.raises(AlertConfigError, match="field 'allow_http': expected bool"):
        parse_alert_config(webhook_file("http://127.0.0.1/x", 'allow_http = "yes"\n'))


@pytest.mark.parametrize("text", [
    webhook_file(f"127.0.0.1/{SECRET}"),
    f'[actions.team]\ntype = "webhook"\nurl = "https://127.0.0.1/x"\n'
    f'headers = "Bearer {SECRET}"\n',
    f'[actions.team]\ntype = "webhook"\nurl = "https://127.0.0.1/x"\n'
    f'headers = {{ Authorization = ["{SECRET}"] }}\n',
])
def test_a_wrong_webhook_table_is_reported_without_its_secrets(text: str) -> None:
    with pytest.raises(AlertConfigError) as info:
        parse_alert_config(text)
    assert "action 'team': field" in str(info.value) and SECRET not in str(info.value)


def test_a_rule_file_config_repr_hides_webhook_url_and_headers() -> None:
    config = parse_alert_config(webhook_file(f"https://127.0.0.1/{SECRET}"))
    assert SECRET not in repr(config)
    assert "'https://127.0.0.1/…'" in repr(config) and "Authorization" in repr(config)


def _load_with_mode(tmp_path: Path, text: str, mode: int,
                    caplog: pytest.LogCaptureFixture) -> list[Any]:
    path = tmp_path / "alerts.toml"
    path.write_text(text)
    os.chmod(path, mode)
    with caplog.at_level(logging.WARNING, logger="seisproc.alerts"):
        load_alert_config(path)
    return [r for r in caplog.records if r.levelno == logging.WARNING]


def test_a_webhook_file_others_can_read_gives_one_warning_with_the_chmod(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    [warning] = _load_with_mode(tmp_path, webhook_file(f"https://127.0.0.1/{SECRET}"), 0o644,
                                caplog)
    path = tmp_path / "alerts.toml"
    assert warning.getMessage() == (f"{path} holds webhook URLs (credentials) and other "
                                    f"users can read it (mode 0o644): chmod 600 {path}")
    assert SECRET not in warning.getMessage()


@pytest.mark.parametrize(("text", "mode"), [
    (webhook_file("https://127.0.0.1/x"), 0o600),
    ('[actions.sound]\nplayer = "aplay"\n', 0o644),
])
def test_no_permission_warning_for_a_private_file_or_one_without_a_webhook(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str, mode: int) -> None:
    assert _load_with_mode(tmp_path, text, mode, caplog) == []
