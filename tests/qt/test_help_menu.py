"""Help ▸ Keyboard shortcuts lists every bound key from the menus themselves, and no key is bound twice;
Help ▸ About says what a bug report needs."""

from __future__ import annotations

from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QMenuBar

from galview import __version__
from galview.core.paths import data_dir
from galview.qt.help_menu import VIEW_KEYS, about_text, menu_shortcuts, shared_keys


def test_the_sheet_lists_every_menu_key_and_no_key_is_bound_twice(window, shared_data, qtbot):
    window.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")
    qtbot.waitUntil(lambda: window.state.collection is not None, timeout=20000)
    rows = menu_shortcuts(window.menuBar())
    assert shared_keys(rows) == {}  # Qt runs neither action of a shared key: each must be unique
    assert ("S", "Rank by similarity to this cutout", "Similarity") in rows
    assert ("Ctrl+PgDown", "Next collection", "File ▸ Collections") in rows  # a submenu's path
    assert ("F1", "Keyboard shortcuts", "Help") in rows
    labels = {key: action for key, action, path in rows if path == "Labels"}
    assert labels["1"].startswith("Label as ") and labels["U"].startswith("Label as unsure")
    window.help_menu.shortcuts_action.trigger()
    sheet = window.help_menu.sheet
    assert sheet.isVisible() and sheet.table.rowCount() == len(rows) + len(VIEW_KEYS)
    shown = {
        sheet.table.item(r, 0).text(): sheet.table.item(r, 1).text() for r in range(sheet.table.rowCount())
    }
    assert shown["Q"] == "Send to the review queue" and shown["Home / End"].startswith("First / last")
    window.help_menu.shortcuts_action.trigger()  # read afresh, one sheet at a time
    assert window.help_menu.sheet is not sheet and window.help_menu.sheet.isVisible()


def test_a_key_bound_twice_is_found(qtbot):
    bar = QMenuBar()
    qtbot.addWidget(bar)
    menu = bar.addMenu("&View")
    for text in ("&First", "Se&cond"):
        action = QAction(text, menu)
        action.setShortcut(QKeySequence("G"))
        menu.addAction(action)
    menu.addAction(QAction("No key", menu))
    rows = menu_shortcuts(bar)
    assert rows == [("G", "First", "View"), ("G", "Second", "View")]
    assert shared_keys(rows) == {"G": ["View ▸ First", "View ▸ Second"]}


def test_about_names_the_version_the_data_folder_and_the_model(window, monkeypatch):
    text = about_text(None)
    assert f"GalView {__version__}" in text and f"Data folder: {data_dir()}" in text
    assert "Model: none" in text and "Log file: " in text and "Qt " in text
    assert "Model: deepshadows (1a2b3c)" in about_text("deepshadows (1a2b3c)")
    window.help_menu.about_action.trigger()
    box = window.help_menu.about_box
    assert box is not None and f"GalView {__version__}" in box.text()
    box.done(0)


def test_about_while_a_worker_thread_is_still_importing_keras(monkeypatch):
    """The first model loads in the background: Keras is in sys.modules, half imported, for seconds."""
    import sys
    import types

    monkeypatch.setitem(sys.modules, "keras", types.ModuleType("keras"))  # no __version__, no backend yet
    assert "Keras not loaded yet" in about_text(None)
