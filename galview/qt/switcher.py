"""File ▸ Collections: switch between the collections given on the command line or opened this session.

``galview view A B`` opens A and lists both here; Ctrl+PgDown / Ctrl+PgUp go to the next / previous.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject
from PyQt6.QtGui import QAction, QActionGroup, QKeySequence


class CollectionSwitcher(QObject):
    """A menu of collections (paths) and the keys to step through them; opening goes through the window."""

    def __init__(self, window, menu):
        super().__init__(window)
        self.window = window
        self.menu = menu
        self.paths: list[str] = []
        self.group = QActionGroup(self)
        self.next_action = QAction("&Next collection", window)
        self.next_action.setShortcut(QKeySequence("Ctrl+PgDown"))
        self.next_action.triggered.connect(lambda: self.step(+1))
        self.previous_action = QAction("&Previous collection", window)
        self.previous_action.setShortcut(QKeySequence("Ctrl+PgUp"))
        self.previous_action.triggered.connect(lambda: self.step(-1))
        window.addAction(self.next_action)
        window.addAction(self.previous_action)
        window.state.collection_changed.connect(lambda _collection: self._rebuild())
        self._rebuild()

    def add(self, path) -> None:
        """List ``path`` (once)."""
        path = str(Path(path).resolve())
        if path not in self.paths:
            self.paths.append(path)
            self._rebuild()

    def current(self) -> int:
        """Position of the open collection in the list (-1 if it is not listed)."""
        collection = self.window.state.collection
        if collection is None:
            return -1
        source = str(Path(collection.source).resolve())
        return self.paths.index(source) if source in self.paths else -1

    def step(self, delta: int) -> bool:
        """Open the next (``+1``) or previous (``-1``) collection of the list."""
        if len(self.paths) < 2:
            return False
        here = max(0, self.current())
        return self.window.open_path(self.paths[(here + delta) % len(self.paths)], background=True)

    def _rebuild(self) -> None:
        self.menu.clear()
        for action in self.group.actions():
            self.group.removeAction(action)
        here = self.current()
        for k, path in enumerate(self.paths):
            action = QAction(f"{k + 1}. {Path(path).name}", self.window)
            action.setToolTip(path)
            action.setCheckable(True)
            action.setChecked(k == here)
            action.triggered.connect(lambda _checked=False, p=path: self.window.open_path(p, background=True))
            self.group.addAction(action)
            self.menu.addAction(action)
        if self.paths:
            self.menu.addSeparator()
        self.menu.addAction(self.next_action)
        self.menu.addAction(self.previous_action)
        enough = len(self.paths) >= 2
        self.next_action.setEnabled(enough)
        self.previous_action.setEnabled(enough)
        self.menu.setEnabled(bool(self.paths))
