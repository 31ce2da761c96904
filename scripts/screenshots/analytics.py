"""Screenshot of the analytics view: docs/images/analytics.png (1400x900).

A temporary SQLite history is filled with ~60 days of jobs of every type and state,
predictions and resource samples (the generator the widget tests use), then the view is
shown for that range and grabbed once its refresh is on screen. Run under a display,
e.g. ``Xvfb :93 -screen 0 1600x1000x24 & DISPLAY=:93 python scripts/screenshots/analytics.py``.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "gui"))

from analytics_helpers import populate_history  # noqa: E402

from seisproc.gui.analytics import JobAnalyticsWidget  # noqa: E402
from seisproc.history import JobHistoryStorage  # noqa: E402
from seisproc.jobs.model import utcnow  # noqa: E402

OUT = ROOT / "docs" / "images" / "analytics.png"
DAYS = 60


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as folder:
        store = JobHistoryStorage(f"sqlite:///{folder}/history.db")
        history = populate_history(store, Path(folder) / "surveys", days=DAYS,
                                   jobs_per_day=6, sample_every_s=1800, seed=11)
        print(f"{len(history.jobs)} jobs, {history.samples} resource samples")
        view = JobAnalyticsWidget(store)
        view.setWindowTitle("seisproc — Analytics")
        view.resize(1400, 900)
        loop = QEventLoop()
        view.refreshed.connect(loop.quit)
        today = utcnow().date()
        view.show()
        view.set_custom_range(today - timedelta(days=DAYS - 1), today)
        QTimer.singleShot(20_000, loop.quit)
        loop.exec()
        view.wait_for_refresh()
        for _ in range(5):  # let layouts and pyqtgraph's deferred paints settle
            app.processEvents()
        OUT.parent.mkdir(parents=True, exist_ok=True)
        view.grab().save(str(OUT))
        print(f"saved {OUT}")
        view.close()
        store.close()


if __name__ == "__main__":
    main()
