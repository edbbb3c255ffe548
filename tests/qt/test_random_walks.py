"""Random walks over the window: menu actions, collections, selections, keys and visible buttons.

Slow (a minute or two per ten walks), so they run only when asked for::

    GALVIEW_WALKS=10 QT_QPA_PLATFORM=offscreen python -m pytest tests/qt/test_random_walks.py

Each walk starts from a tiny model (and one more version of it), two random collections, a folder
of PNGs with one damaged image and collections of one and two cutouts, and the Retrain panel open; it takes random steps — a menu action (modal
dialogs answered "cancel"), another collection, the current cutout, a selection, a key, any visible
button — and checks after every step that the labels shown are the labels stored and that the scores
cover the open collection. Any exception in the window fails the walk (pytest-qt). Five bugs were found
this way or next to one found this way
(BENCHMARKS.md, "The window, driven without a person").
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QAbstractButton, QApplication

from tests.qt.conftest import random_npz
from tests.qt.test_every_action import menu_actions, no_person  # noqa: F401 (a fixture)

WALKS = int(os.environ.get("GALVIEW_WALKS", "0"))
STEPS = 150
KEYS = [Qt.Key.Key_0, Qt.Key.Key_1, Qt.Key.Key_U, Qt.Key.Key_Q, Qt.Key.Key_Right, Qt.Key.Key_Left]
KEYS += [Qt.Key.Key_Space, Qt.Key.Key_Escape, Qt.Key.Key_Z, Qt.Key.Key_H, Qt.Key.Key_G, Qt.Key.Key_N]
LEFT_ALONE = ("Quit", "Open &recent", "Delete")  # ends the walk, reopens the same, deletes versions

pytestmark = pytest.mark.skipif(not WALKS, reason="random walks run with GALVIEW_WALKS=N")


def check(window, steps) -> None:
    """The labels shown are those stored; the scores cover the open collection."""
    state, session = window.state, window.labelling.session
    if state.scores is not None:
        assert len(state.scores) == state.n, steps[-10:]
    if session.store is not None and state.collection is not None and not state.blind:
        stored, shown = session.store.current(), state.user_labels
        same = (np.isnan(stored) & np.isnan(shown)) | (stored == shown)
        assert same.all(), (steps[-10:], np.flatnonzero(~same)[:5])
        assert session.store.notes() == state.notes, steps[-10:]


def step(window, rng, files) -> str:
    """One random step; returns what it did."""
    chance, n = rng.random(), window.state.n
    if chance < 0.04:
        path = files[int(rng.integers(len(files)))]
        window.open_path(path)
        return f"open {path.name}"
    if chance < 0.12 and n:
        index = int(rng.integers(n))
        window.state.set_current(index)
        return f"current {index}"
    if chance < 0.18 and n:
        chosen = sorted(set(rng.integers(0, n, int(rng.integers(1, 6))).tolist()))
        window.state.set_selection(chosen)
        return f"select {chosen}"
    if chance < 0.22 and n:
        combo = window.sort_controls.show_combo if rng.random() < 0.5 else window.sort_controls.sort_combo
        row = int(rng.integers(combo.count()))
        combo.setCurrentIndex(row)
        return f"{'show' if combo is window.sort_controls.show_combo else 'sort'} {combo.itemData(row)}"
    if chance < 0.24 and n:
        index, text = int(rng.integers(n)), ["", "tidal tail?", "same object as #3"][int(rng.integers(3))]
        window.labelling.set_note(text, index)
        return f"note {index} {text!r}"
    if chance < 0.40:
        key = KEYS[int(rng.integers(len(KEYS)))]
        control = rng.random() < 0.2
        modifier = Qt.KeyboardModifier.ControlModifier if control else Qt.KeyboardModifier.NoModifier
        QTest.keyClick(QApplication.focusWidget() or window, key, modifier)
        return f"key {'Ctrl+' if control else ''}{key.name}"
    if chance < 0.55:
        buttons = [
            button
            for top in QApplication.topLevelWidgets()
            if top.isVisible()
            for button in top.findChildren(QAbstractButton)
            if button.isVisible() and button.isEnabled() and button.text()
        ]
        if buttons:
            button = buttons[int(rng.integers(len(buttons)))]
            button.click()
            return f"button {button.text()!r}"
    actions = [
        (path, action)
        for path, action in menu_actions(window.menuBar())
        if action.isEnabled() and not any(word in path for word in LEFT_ALONE)
    ]
    path, action = actions[int(rng.integers(len(actions)))]
    action.trigger()
    return path


def png_folder_with_a_damaged_image(folder, n: int):
    """A folder of ``n`` 16×16 PNGs whose third image is cut in half (unreadable)."""
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(n)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / f"c{i:03d}.png")
    data = (folder / "c002.png").read_bytes()
    (folder / "c002.png").write_bytes(data[: len(data) // 2])
    return folder


@pytest.mark.parametrize("seed", range(WALKS))
def test_random_walk(window, qtbot, no_person, tiny_model, tmp_path, seed):  # noqa: F811
    from galview.ml.loading import load_model
    from galview.ml.versions import new_version_dir, write_version

    rng = np.random.default_rng(seed)
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    other = load_model(tiny_model)
    kernel, bias = other.model.layers[-1].get_weights()
    other.model.layers[-1].set_weights([kernel, bias + 2.0])
    write_version(other.model, other.card, new_version_dir("tiny"))
    window.versions.fill()
    files = [random_npz(tmp_path / "a.npz", 40, seed=1), random_npz(tmp_path / "b.npz", 300, seed=2)]
    files.append(png_folder_with_a_damaged_image(tmp_path / "pngs", 30))
    files += [random_npz(tmp_path / "one.npz", 1, seed=3), random_npz(tmp_path / "two.npz", 2, seed=4)]
    window.open_path(files[0])
    window.show_retrain()
    steps = []
    for _ in range(STEPS):
        steps.append(step(window, rng, files))
        qtbot.wait(int(rng.integers(0, 80)))
        check(window, steps)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=120000)
