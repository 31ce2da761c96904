"""Ray's token authentication as a driver joining a cluster meets it.

A Ray head started with ``RAY_AUTH_MODE=token`` refuses every request without its token.
``ray.init`` does not say so: it retries the refused join for 20 s, printing a warning a
second, then reports that it could not connect (measured on Ray 2.60). So before
``ray.init``, :func:`token_refusal` asks the head once whether it takes this process's
token, and says in words what to set when it does not. The token itself is never read
into a message.

>>> token_refusal("192.0.2.2", 6379, wait_s=3.0)         # doctest: +SKIP
"set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN (the head's, which 'ray get-auth-token' ..."
"""

from __future__ import annotations

import os
import threading

__all__ = ["AUTH_ENV", "AUTH_PROBE_S", "token_refusal"]

AUTH_ENV = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")
"""Ray's token settings: the user's own, never defaulted by seisproc when joining."""
AUTH_PROBE_S = 3.0
"""The longest the question may take: a Ray head answers in milliseconds, a port where
no Ray head listens never does (Ray's client gives up on it after 12 s by itself)."""
INVALID_TOKEN = "InvalidAuthToken"
"""How a Ray 2.60 head names a missing or wrong token (gRPC ``UNAUTHENTICATED``)."""

HEADS_TOKEN = "the head's, which 'ray get-auth-token' prints there"
TOKEN_NEEDED = f"set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN ({HEADS_TOKEN}) here, as on its nodes"
TOKEN_MISSING = ("RAY_AUTH_MODE is token but no token is set here: set RAY_AUTH_TOKEN "
                 f"({HEADS_TOKEN})")
TOKEN_REFUSED = ("it refused the token set here (RAY_AUTH_TOKEN, else RAY_AUTH_TOKEN_PATH, else "
                 f"~/.ray/auth_token): set RAY_AUTH_TOKEN to {HEADS_TOKEN}")
TOKEN_FILE_UNREADABLE = ("RAY_AUTH_TOKEN_PATH names no readable token ({path}): set "
                         f"RAY_AUTH_TOKEN to {HEADS_TOKEN}")


def token_refusal(host: str, port: int, wait_s: float) -> str | None:
    """What to set for the Ray head at ``host:port`` to take this process, or ``None``
    when it takes its token (or its lack of one) or does not answer within ``wait_s``
    seconds (``ray.init`` then says what it finds).
    """
    from ray._private.authentication.authentication_utils import is_token_auth_enabled
    from ray._raylet import AuthenticationTokenLoader  # type: ignore[attr-defined]
    from ray.exceptions import AuthenticationError

    token_mode = is_token_auth_enabled()
    if token_mode:  # Ray's client aborts the process on a request without the token
        try:
            has_token = AuthenticationTokenLoader.instance().has_token(ignore_auth_mode=True)
        except AuthenticationError:  # RAY_AUTH_TOKEN_PATH names no file, or an empty one
            return TOKEN_FILE_UNREADABLE.format(path=os.environ.get("RAY_AUTH_TOKEN_PATH", ""))
        if not has_token:
            return TOKEN_MISSING
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if not _refuses_this_token(address, wait_s):
        return None
    return TOKEN_REFUSED if token_mode else TOKEN_NEEDED


def _refuses_this_token(gcs_address: str, wait_s: float) -> bool:
    """Whether the GCS at ``gcs_address`` answers within ``wait_s`` that this process's
    token (or its lack of one) is invalid.

    Asked on a daemon thread, as Ray's client blocks 12 s on a port where no Ray head
    answers. The client is given a made-up cluster id, so that it sends one request and
    logs nothing: fetching the real id first, as ``ray.init`` does, prints Ray's own
    warning of the refusal on stderr. The head checks the token before the id, so a head
    that takes the token answers ``WrongClusterID`` instead.
    """
    answers: list[bool] = []
    answered = threading.Event()

    def ask() -> None:
        from ray._raylet import ClusterID, GcsClient  # type: ignore[attr-defined]
        from ray.exceptions import AuthenticationError

        refused = False
        try:
            client = GcsClient(address=gcs_address, cluster_id=ClusterID.from_random().hex())
            client.internal_kv_get(b"seisproc-auth-probe", None, timeout=AUTH_PROBE_S)
        except AuthenticationError as exc:
            refused = INVALID_TOKEN in str(exc)
        except Exception:  # noqa: S110  not a Ray head, or a busy one: ray.init will say
            pass
        answers.append(refused)
        answered.set()

    threading.Thread(target=ask, name="seisproc-ray-auth-probe", daemon=True).start()
    return answered.wait(wait_s) and answers[0]
