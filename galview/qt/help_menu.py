"""Help ▸ Keyboard shortcuts (F1) and Help ▸ About GalView.

The shortcut sheet is read from the window's own menus, so it lists every key that is bound, named as
its menu names it; the keys of the grid and the cutout view, which no menu holds, are added by hand.
About says what a bug report needs: GalView's version, Qt, the Keras backend, the active model and
where GalView keeps its data and its log.
"""

from __future__ import annotations

import platform
import sys

from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR, Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenu,
    QMenuBar,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from galview import __version__

#: Keys no menu holds: (keys, what they do, where).
VIEW_KEYS = (
    ("Arrow keys", "Move through the grid (Left and Right go on to the next or previous row)", "Grid"),
    ("Home / End", "First / last cutout in the grid's order", "Grid"),
    (
        "Shift+click / Ctrl+click",
        "Select a range / add a cutout to the selection (keys then label all)",
        "Grid",
    ),
    (
        "Mouse wheel / drag",
        "Zoom / pan the cutout (the heat map and the reference beside it follow)",
        "Cutout",
    ),
)


def menu_shortcuts(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(key, action, menu path) of every menu action with a shortcut, in menu order."""
    return [(key, text, path) for key, text, path, _action in bindings(menu_bar)]


def bindings(menu_bar: QMenuBar) -> list[tuple[str, str, str, QAction]]:
    """(key, action text, menu path, the action) of every key bound in the menus."""
    rows: list = []
    for action in menu_bar.actions():
        if action.menu() is not None:
            _walk(action.menu(), _plain(action.menu().title()), rows)
    return rows


def _walk(menu: QMenu, path: str, rows: list) -> None:
    for action in menu.actions():
        if action.menu() is not None:
            _walk(action.menu(), f"{path} ▸ {_plain(action.menu().title())}", rows)
        elif not action.isSeparator():
            for key in action.shortcuts():
                text = key_text(key)
                if text:
                    rows.append((text, _plain(action.text()), path, action))


def key_text(key: QKeySequence | str) -> str:
    """A key as the menus show it (``"Ctrl+Shift+Z"``)."""
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def shared_keys(rows) -> dict[str, list[str]]:
    """Keys bound to more than one action (Qt then runs none of them): key → the actions."""
    actions: dict[str, list[str]] = {}
    for key, action, path in rows:
        actions.setdefault(key, []).append(f"{path} ▸ {action}")
    return {key: names for key, names in actions.items() if len(names) > 1}


class ShortcutSheet(QDialog):
    """Every key of the window in one table: key, what it does, where it lives."""

    def __init__(self, menu_bar: QMenuBar, parent=None):
        super().__init__(parent)
        self.setWindowTitle("GalView — keyboard shortcuts")
        rows = menu_shortcuts(menu_bar) + list(VIEW_KEYS)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Key", "Does", "Where"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(760, 620)


def about_text(model_name: str | None) -> str:
    """GalView's version, its libraries, the active model and where data and log are kept."""
    from galview.core.logs import log_path
    from galview.core.paths import data_dir

    keras = sys.modules.get("keras")  # never imported here: that takes seconds
    try:
        backend = f"Keras {keras.__version__}, {keras.backend.backend()} backend"
    except AttributeError:  # not imported, or a worker thread is importing it right now
        backend = "Keras not loaded yet (it loads with the first model)"
    lines = [
        f"GalView {__version__}: triage of low-surface-brightness galaxy candidates",
        f"Python {platform.python_version()}, Qt {QT_VERSION_STR} (PyQt {PYQT_VERSION_STR}), {backend}",
        f"Model: {model_name or 'none'}",
        f"Data folder: {data_dir()}",
        f"Log file: {log_path()}",
    ]
    return "\n".join(lines)


class HelpMenu:
    """The window's Help menu."""

    def __init__(self, window):
        self.window = window
        self.sheet: ShortcutSheet | None = None
        self.about_box: QMessageBox | None = None
        menu = window.menuBar().addMenu("&Help")
        self.shortcuts_action = window._action(menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self.about_action = window._action(menu, "&About GalView", self.show_about)

    def show_shortcuts(self) -> None:
        """The sheet, read afresh: the label keys take the open collection's class names."""
        if self.sheet is not None:
            self.sheet.close()
            self.sheet.deleteLater()
        self.sheet = ShortcutSheet(self.window.menuBar(), self.window)
        self.sheet.show()

    def show_about(self) -> None:
        from galview.core.model_names import model_name

        model = self.window.state.model
        text = about_text(model_name(model) if model is not None else None)
        box = QMessageBox(QMessageBox.Icon.Information, "About GalView", text, parent=self.window)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # paths can be copied
        self.about_box = box
        box.open()
