"""Room for the wide panels: the side of the main window whose front panel needs the
width gets most of it, and gives it back when the table and the gauges are in front.

The main window keeps two dock columns: the job table (with the viewer behind its tab)
on the left, the gauges (with the flow editor and analytics behind theirs) on the right.
That split suits the table and the gauges; the gather viewer (three panels, spectra and
the header table) and analytics (cards and charts side by side) need nearly the whole
width. So when one of them comes to the front of its column, that column widens until
the other is at the width its front panel needs; when neither is in front, the split
the person last had for the table and gauges comes back. Each split the person drags is
kept for the next time the same panels are in front.
"""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QWidget

__all__ = ["DockRoom"]

_LEFT, _RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
_NARROW_SHARE = 0.28
"""The narrow column's width at most, as a share of the window, when its front panel
would like more than it needs (the gauges: 580 px wanted, 350 needed)."""
_DRAG_PX = 8
"""Narrower changes of the split than this are the layout's rounding, not a drag."""


class DockRoom(QObject):
    """Resizes the two dock columns of ``window`` for the panels in front (see the module
    docstring).

    Parameters
    ----------
    roomy
        Object names of the panels that need the width (``"gather_viewer"``...).
    table_share
        The left column's share of the width when no roomy panel is in front, until the
        person drags the split.

    >>> room = DockRoom(window, {"gather_viewer", "analytics"}, 0.6)  # doctest: +SKIP
    >>> room.watch(window.viewer_dock)                                 # doctest: +SKIP
    """

    def __init__(self, window: QMainWindow, roomy: Collection[str], table_share: float) -> None:
        super().__init__(window)
        self._window = window
        self._roomy = frozenset(roomy)
        self._table_share = table_share
        self._in_front: set[QDockWidget] = set()
        self._side: str | None = None
        """Which column has the room now: "left", "right" or "neither"; None at start."""
        self._left_width: dict[str, int] = {}
        """The left column's width the person chose, by the side that had the room."""
        self._set_width = -1
        """The left column's width after the last :meth:`apply`."""
        self._left_seen: int | None = None
        """The left column's width as the panel leaving its front last had it."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # a tab switch hides one panel, then shows the other
        self._timer.timeout.connect(self.apply)

    @property
    def side(self) -> str | None:
        """The column that has the room: ``"left"``, ``"right"`` or ``"neither"``."""
        return self._side

    def watch(self, dock: QDockWidget) -> None:
        """Follow ``dock`` coming to the front of its column and leaving it."""
        dock.visibilityChanged.connect(lambda shown: self._changed(dock, shown))

    def _changed(self, dock: QDockWidget, shown: bool) -> None:
        if shown:
            self._in_front.add(dock)
        else:
            self._in_front.discard(dock)
            if self._window.dockWidgetArea(dock) == _LEFT and not dock.isFloating():
                self._left_seen = dock.width()  # a tab coming to the front is not laid out yet
        self._timer.start()

    def apply(self) -> None:
        """Give the room to the column whose front panel needs it (or back to the table).

        A split the person dragged is remembered for the side that had the room; the one
        remembered for the side that gets it now comes back, held wide enough for the
        narrow column's front panel to show without scrolling sideways.
        """
        left, right = self._front(_LEFT), self._front(_RIGHT)
        if left is None or right is None:
            return  # one column, or panels moved elsewhere: the person's layout stands
        side = self._wanted_side(left, right)
        now = left.width() if self._left_seen is None else self._left_seen
        self._left_seen = None
        if self._side is not None and abs(now - self._set_width) > _DRAG_PX:
            self._left_width[self._side] = now  # the person dragged the split
        first, self._side = self._side is None, side
        if first and side == "neither":
            return  # the restored (or default) split is the table's
        width = self._window.width()
        target = self._left_width.get(side)
        if side == "left":
            most = width - self._narrow_width(right)
            target = most if target is None else min(target, most)
        elif side == "right":
            least = self._narrow_width(left)
            target = least if target is None else max(target, least)
        elif target is None:
            target = round(width * self._table_share)
        if abs(target - now) > _DRAG_PX:
            self._window.resizeDocks([left, right], [target, max(width - target, 1)],
                                     Qt.Orientation.Horizontal)
        self._set_width = target

    def _narrow_width(self, dock: QDockWidget) -> int:
        """The width left to the column without the room: what its front panel needs,
        and more up to :data:`_NARROW_SHARE` of the window if it would like more (a
        panel squeezed to its minimum is hard to read)."""
        wanted = min(_content(dock).sizeHint().width(),
                     round(self._window.width() * _NARROW_SHARE))
        return max(_needed_width(dock), wanted)

    def _front(self, area: Qt.DockWidgetArea) -> QDockWidget | None:
        docks = [dock for dock in self._in_front if not dock.isFloating()
                 and self._window.dockWidgetArea(dock) == area]
        return min(docks, key=lambda dock: dock.objectName()) if docks else None

    def _wanted_side(self, left: QDockWidget, right: QDockWidget) -> str:
        left_roomy, right_roomy = (dock.objectName() in self._roomy for dock in (left, right))
        if left_roomy == right_roomy:
            return "neither"
        return "left" if left_roomy else "right"


def _content(dock: QDockWidget) -> QWidget:
    """The panel in ``dock``, inside its scroll area if it has one."""
    content = dock.widget()
    inner = content.widget() if isinstance(content, QScrollArea) else None
    return inner if inner is not None else (content if content is not None else dock)


def _needed_width(dock: QDockWidget) -> int:
    """The width ``dock``'s panel needs to show without scrolling sideways."""
    content = dock.widget()
    needed = dock.minimumSizeHint().width()
    if isinstance(content, QScrollArea):
        scroll_bar = content.verticalScrollBar().sizeHint().width()
        needed = max(needed, _content(dock).minimumSizeHint().width() + scroll_bar
                     + 2 * content.frameWidth())
    margins = dock.contentsMargins()
    return needed + margins.left() + margins.right()
