"""Text that never sets a widget's width: labels and a status bar that elide, full text in the tooltip;
progress texts shortened to their bar; long names that may wrap, and are copied without their breaks."""

from __future__ import annotations

import logging

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence, QTextDocumentFragment
from PyQt6.QtWidgets import QApplication, QLabel, QMenu, QSizePolicy, QStatusBar

logger = logging.getLogger(__name__)


class ElidedLabel(QLabel):
    """A one-line label that shortens its text with "…" to the width it is given; the tooltip has it all."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(20)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        self._full = str(text)
        self.setToolTip(self._full if self._full else "")
        self._elide()

    def text(self) -> str:
        """The whole text (what is drawn may be shortened)."""
        return self._full

    def shown_text(self) -> str:
        return super().text()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(0, self.width() - 4)
        super().setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width))


class ElidingStatusBar(QStatusBar):
    """A status bar whose messages are shortened to the room the permanent widgets leave (never drawn
    under them); the whole message is in the tooltip, in :meth:`currentMessage` and in the log."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._full = ""
        self._permanent: list = []

    def addPermanentWidget(self, widget, stretch: int = 0) -> None:  # noqa: N802 (Qt API)
        self._permanent.append(widget)
        super().addPermanentWidget(widget, stretch)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802
        self._full = str(text)
        if self._full:
            logger.info("status: %s", self._full)
        self.setToolTip(self._full)
        super().showMessage(self._shortened(self._full), timeout)

    def currentMessage(self) -> str:  # noqa: N802
        """The whole message (the bar may show it shortened); empty once it has timed out."""
        return self._full if super().currentMessage() else ""

    def room(self) -> int:
        """Pixels left for the message beside the visible permanent widgets."""
        taken = sum(w.sizeHint().width() + 8 for w in self._permanent if w.isVisibleTo(self))
        return max(40, self.width() - taken - 40)

    def _shortened(self, text: str) -> str:
        return self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, self.room())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if super().currentMessage():
            super().showMessage(self._shortened(self._full))


def set_progress_text(bar, text: str) -> None:
    """Show ``text`` on the progress bar ``bar``, shortened in the middle to its width (the start and
    the counts at the end stay): a longer text is drawn on two lines and cut off. Callers put the whole
    text in the bar's tooltip. ``%`` is escaped (QProgressBar reads it as a placeholder)."""
    room = max(bar.contentsRect().width(), bar.minimumWidth()) - 12  # before its first layout: its minimum
    metrics = bar.fontMetrics()
    shown = (
        text
        if metrics.horizontalAdvance(text) <= room
        else metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, room)
    )
    bar.setFormat(shown.replace("%", "%%"))


#: Characters after which a long name (a model file, a path) may wrap onto the next line.
_BREAK_AFTER = "-_/.\\"


def breakable(text: str) -> str:
    """``text`` with zero-width spaces after ``- _ / . \\``, so a word-wrapped label can fold long names."""
    return "".join(ch + "\u200b" if ch in _BREAK_AFTER else ch for ch in str(text))


class SelectableLabel(QLabel):
    """A word-wrapped label whose text can be selected and copied, without the zero-width spaces of
    :func:`breakable`: a version's name copied from the fields and pasted into a command is the name."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)

    def copy(self) -> None:
        """Put the selection (or, with none, the whole text) on the clipboard as plain text."""
        text = self.selectedText()
        if not text:
            text = self.text()
            if Qt.mightBeRichText(text):
                text = QTextDocumentFragment.fromHtml(text).toPlainText()
        QApplication.clipboard().setText(text.replace("\u200b", ""))

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            return
        super().keyPressEvent(event)

    def _menu(self, position) -> None:
        menu = QMenu(self)
        menu.addAction("Copy", self.copy)
        menu.addAction("Select all", lambda: self.setSelection(0, len(self.text())))
        menu.exec(self.mapToGlobal(position))
        menu.deleteLater()  # one menu per right-click: not kept as a child of the label
