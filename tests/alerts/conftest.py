"""Fixtures for alert tests (the helpers themselves are in ``alert_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alert_helpers import FakeClock, Recorder

from seisproc.alerts import ActionDispatcher, ActionRegistry, log_action


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def dispatcher(recorder: Recorder) -> Iterator[ActionDispatcher]:
    """Actions ``record`` (the recorder) and ``log``: no sound or desktop side effects."""
    d = ActionDispatcher(ActionRegistry({"record": recorder, "log": log_action}))
    yield d
    d.close()
