"""Widget tests run offscreen with an isolated QSettings store; engines for the dashboard
and main-window tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest.importorskip("PySide6", reason="the desktop application needs the gui extra")
pytest.importorskip("pytestqt", reason="widget tests need pytest-qt")

from dashboard_helpers import idle_engine, idle_submitter, long_survey_in  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from seisproc.jobs.manager import JobManager  # noqa: E402
from seisproc.jobs.model import Job  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Keep window layouts and preferences written by tests out of the user's settings."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    yield tmp_path


@pytest.fixture(scope="session")
def long_survey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:data:`dashboard_helpers.LONG_GEOMETRY` (58 MB, about 5 s to write), once for the
    session: the dashboard, window and QC tests only read it. Treat it as read-only."""
    return long_survey_in(tmp_path_factory.mktemp("long-survey"))


@pytest.fixture
def idle_manager(tmp_path: Path) -> Iterator[JobManager]:
    """A JobManager whose jobs wait in the queue (see ``dashboard_helpers.idle_engine``)."""
    yield from idle_engine(tmp_path)


@pytest.fixture
def submit_idle(idle_manager: JobManager, small_survey: Path, tmp_path: Path
                ) -> Callable[[str], Job]:
    """Submits a queued job of that name to :func:`idle_manager`."""
    return idle_submitter(idle_manager, small_survey, tmp_path)
