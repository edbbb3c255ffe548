"""Every menu action, triggered as the menu triggers it, answers without an exception.

Modal dialogs are answered "cancel" (file dialogs return no file, questions No, input dialogs Cancel),
so each action goes as far as it can without a person. Found this way: "Take off the review queue" with
no collection open, and "Blind re-check" from the menu (the menu's ``checked`` argument was taken for the
sample size).
"""

from __future__ import annotations

import pytest

from tests.qt.conftest import random_npz


def menu_actions(menu_bar) -> list[tuple[str, object]]:
    """(path, QAction) of every leaf action under the menu bar, in menu order."""
    found = []

    def walk(menu, path):
        for action in menu.actions():
            if action.isSeparator():
                continue
            if action.menu() is not None:
                walk(action.menu(), [*path, action.text()])
            else:
                found.append((" ▸ ".join([*path, action.text()]), action))

    for top in menu_bar.actions():
        if top.menu() is not None:
            walk(top.menu(), [top.text()])
    return found


@pytest.fixture
def no_person(monkeypatch):
    """Modal dialogs answered 'cancel'; links not opened. Returns the names of the dialogs asked."""
    from PyQt6 import QtGui, QtWidgets

    asked = []
    Box = QtWidgets.QMessageBox

    def refuse(name, answer):
        return staticmethod(lambda *args, **kwargs: asked.append(name) or answer)

    monkeypatch.setattr(QtWidgets.QDialog, "exec", lambda dialog: asked.append(type(dialog).__name__) or 0)
    monkeypatch.setattr(
        Box, "exec", lambda box: asked.append("QMessageBox") or int(Box.StandardButton.No.value)
    )
    for name in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(Box, name, refuse(name, Box.StandardButton.No))
    for name in ("getOpenFileName", "getSaveFileName", "getOpenFileNames"):
        monkeypatch.setattr(QtWidgets.QFileDialog, name, refuse(name, ("", "")))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", refuse("folder", ""))
    for name, value in (
        ("getInt", 0),
        ("getDouble", 0.0),
        ("getText", ""),
        ("getMultiLineText", ""),
        ("getItem", ""),
    ):
        monkeypatch.setattr(QtWidgets.QInputDialog, name, refuse(name, (value, False)))
    monkeypatch.setattr(QtGui.QDesktopServices, "openUrl", refuse("openUrl", True))
    return asked


def trigger_all(window, qtbot) -> list[str]:
    triggered = []
    for path, action in menu_actions(window.menuBar()):
        if "Quit" in path or not action.isEnabled():
            continue
        action.trigger()  # as a click or its key does: triggered(checked) reaches the slot
        qtbot.wait(20)
        triggered.append(path)
    return triggered


def test_every_action_with_nothing_open(window, qtbot, no_person):
    triggered = trigger_all(window, qtbot)
    assert any("Take off the review queue" in p for p in triggered)
    assert len(triggered) > 30


def test_every_action_on_a_scored_labelled_collection(window, qtbot, no_person, tiny_model, tmp_path):
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.open_path(random_npz(tmp_path / "cutouts.npz", 40))
    qtbot.waitUntil(lambda: window.state.scores is not None and not window.runner.busy, timeout=20000)
    triggered = trigger_all(window, qtbot)
    assert any("Blind re-check" in p for p in triggered) and any("Label as 1" in p for p in triggered)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=60000)  # jobs the actions started end cleanly
