"""The base of the window's feature controllers: what they say, and what they work on.

A controller (similarity, cross-matching, counterparts, measuring, other inspectors…) turns menu
actions into work on the window's state, through the window's one job runner, and tells the user
how it went through two signals the window connects once: ``message`` to the status bar, ``error``
to the error dialog.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, pyqtSignal


class WindowController(QObject):
    """A controller of ``window``: ``self.window``, ``self.state`` and ``self.runner`` are the window's.

    Signals
    -------
    message(str), error(str)
        For the status bar and the error dialog.
    """

    message = pyqtSignal(str)
    error = pyqtSignal(str)

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(parent)
        self.window, self.state, self.runner = window, window.state, window.runner
