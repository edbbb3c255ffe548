"""The label counts in the status bar ("artifact: 54 · LSBG: 58 · unsure: 1 · unlabelled: 0"): clicking
a count shows only those cutouts in the grid (the Show box beside the sort follows)."""

from __future__ import annotations

from html import escape

from PyQt6.QtCore import QEvent, Qt
from PyQt6.QtGui import QPalette
from PyQt6.QtWidgets import QLabel


class LabelCounts(QLabel):
    """A status-bar label whose counts are links to the label filters they count."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self._plain = ""
        self._parts: list[tuple[str, str]] = []
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.setToolTip("Click a count to show only those cutouts in the grid")
        self.linkActivated.connect(self._clicked)

    def set_parts(self, parts: list[tuple[str, str]]) -> None:
        """Show ``(show key, text)`` counts, each a link to its filter (drawn as plain text)."""
        self._parts = list(parts)
        self._plain = " · ".join(text for _show, text in parts)
        colour = self.palette().color(QPalette.ColorRole.WindowText).name()  # not link blue, either theme
        links = [
            f'<a href="{escape(show)}" style="color: {colour}; text-decoration: none">{escape(text)}</a>'
            for show, text in parts
        ]
        super().setText(" · ".join(links))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the dark theme switched on or off
            self.set_parts(self._parts)

    def text(self) -> str:
        """The counts as plain text (what is drawn holds links)."""
        return self._plain

    def _clicked(self, show: str) -> None:
        if self.state.collection is not None:
            self.state.set_sorting(show=show)
