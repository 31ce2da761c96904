"""A grid that puts its widgets in as many columns as the width allows.

A docked view is as wide as the user leaves it: at a 1400 px window the analytics panel
may have 600 px or the full width. A fixed three-column grid of charts then either
scrolls sideways or squeezes charts below legibility. :class:`ReflowGrid` picks the
number of columns from the width it is given (:meth:`ReflowGrid.reflow`, called by the
owner with its scroll area's visible width) and re-places the widgets row by row, so the
content is never wider than the view.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QWidget

__all__ = ["ReflowGrid"]


class ReflowGrid(QWidget):
    """Widgets placed row by row in ``columns(width)`` columns.

    Parameters
    ----------
    column_width
        The narrowest a column may be (px): the widgets' own minimum width.
    max_columns
        Columns at most; a widget spans ``span`` of them when there are that many, one
        when there are fewer.

    Examples
    --------
    >>> grid = ReflowGrid(column_width=300, max_columns=3)       # doctest: +SKIP
    >>> grid.add(pie); grid.add(timeline, span=2)                # doctest: +SKIP
    >>> grid.reflow(700)  # two columns: pie | timeline          # doctest: +SKIP
    """

    def __init__(self, column_width: int, max_columns: int, *, spacing: int = 10,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column_width = column_width
        self.max_columns = max_columns
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(spacing)
        self._items: list[tuple[QWidget, int]] = []
        self._columns = 0

    @property
    def columns(self) -> int:
        """Columns in use (0 before the first :meth:`reflow`)."""
        return self._columns

    def add(self, widget: QWidget, span: int = 1) -> None:
        self._items.append((widget, span))
        self._place(self._columns or self.max_columns)

    def columns_for(self, width: int) -> int:
        """How many columns of at least :attr:`column_width` fit in ``width``."""
        spacing = self._grid.spacing()
        fit = (width + spacing) // (self.column_width + spacing)
        return max(1, min(self.max_columns, fit))

    def reflow(self, width: int) -> None:
        """Re-place the widgets for ``width`` (px), if that changes the columns."""
        columns = self.columns_for(width)
        if columns != self._columns:
            self._place(columns)

    def _place(self, columns: int) -> None:
        for widget, _ in self._items:
            self._grid.removeWidget(widget)
        for column in range(self._grid.columnCount()):
            self._grid.setColumnStretch(column, 0)
        row = column = 0
        for widget, span in self._items:
            cells = span if columns >= self.max_columns else 1
            if column + cells > columns:
                row, column = row + 1, 0
            self._grid.addWidget(widget, row, column, 1, cells)
            column += cells
        for column in range(columns):
            self._grid.setColumnStretch(column, 1)
        self._columns = columns
