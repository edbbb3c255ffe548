"""A scroll area as tall as its wrapped text needs when there is room, and scrolling when there is not."""

from __future__ import annotations

from PyQt6.QtCore import QSize
from PyQt6.QtWidgets import QScrollArea, QSizePolicy


class FieldsScroll(QScrollArea):
    """Holds ``widget``; asks its layout for the height the widget needs at the width it has.

    A plain :class:`QScrollArea` asks for its widget's size hint, which ignores labels that wrap onto a
    second line at the width they are given, so the last field would be cut off even with room to spare.
    It never scrolls sideways; it shrinks to ``minimum_height`` before anything else around it does.
    """

    def __init__(self, widget, minimum_height: int, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(self.horizontalScrollBarPolicy().ScrollBarAlwaysOff)
        self.setWidget(widget)
        self.setMinimumHeight(minimum_height)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._width = -1

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        hint = super().sizeHint()
        widget = self.widget()
        if widget is None:
            return hint
        width = self.viewport().width() if self._width > 0 else widget.sizeHint().width()
        needed = widget.sizeHint().height()
        if widget.hasHeightForWidth():
            needed = max(needed, widget.heightForWidth(width))
        return QSize(hint.width(), needed + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        """As narrow as the widget can be (it never scrolls sideways), as short as ``minimum_height``."""
        widget = self.widget()
        width = widget.minimumSizeHint().width() if widget is not None else 0
        width += self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
        return QSize(width, self.minimumHeight())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if event.size().width() != self._width:  # wrapped lines change with the width: ask again
            self._width = event.size().width()
            self.updateGeometry()
