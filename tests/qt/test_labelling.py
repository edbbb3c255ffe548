"""Labelling in the window: keys, auto-advance, undo/redo, multi-select, persistence, another
instance's changes, rebinding, the blind re-check, the triage queues and a broken store."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QPalette
from PyQt6.QtWidgets import QApplication, QLabel, QMessageBox

from galview.core.label_values import UNSURE
from galview.io.label_store import open_label_store, store_path_for
from galview.qt.grid import UserSetRole
from tests.qt.conftest import random_npz

N = 40


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, 16, 16, 3), dtype=np.uint8)
    labels = np.arange(N) % 2  # even: artifact (0), odd: LSBG (1)
    path = tmp_path / "cutouts.npz"
    np.savez(path, images=images, labels=labels)
    return path


@pytest.fixture
def labelling(window, data):
    assert window.open_path(data)
    window.grid.setFocus()
    return window


def press(window, key, modifier=Qt.KeyboardModifier.NoModifier):
    from PyQt6.QtTest import QTest

    QTest.keyClick(window.grid, key, modifier)
    QApplication.processEvents()


def stored(window):
    return open_label_store(window.state.collection)


def cell_label(window, cutout):
    model = window.grid.grid_model
    return model.data(model.cell_of(cutout), Qt.ItemDataRole.DisplayRole)


def test_opening_writes_nothing_and_a_key_labels_commits_and_advances(labelling):
    win = labelling
    assert not store_path_for(win.state.collection.source).exists()  # no file until the first label
    # The file names no classes: neutral names, never the model's (issue 11).
    assert win.label_counts.text() == "0: 20 · 1: 20 · unsure: 0 · unlabelled: 0"
    win.state.set_current(2)  # an artifact in the file
    press(win, Qt.Key.Key_1)
    with stored(win) as store:
        info = store.get(2)
        assert (info["label"], info["origin"], info["original"]) == (1, "changed", 0)
        (row,) = store.history(2)
        assert row["new"] == 1 and row["old"] is None and row["seconds"] >= 0 and row["user"]
    assert win.state.labels[2] == 1 and cell_label(win, 2) == 1
    assert win.grid.grid_model.data(win.grid.grid_model.cell_of(2), UserSetRole)
    assert win.state.current == 3  # auto-advance
    assert win.label_counts.text().startswith("0: 19 · 1: 21")
    win.state.set_current(2)
    assert win.metadata.fields["Label"].text() == "1 · changed (file: 0)"
    assert "0 → 1" not in win.metadata.fields["History"].text()  # old user label was none
    assert "— → 1" in win.metadata.fields["History"].text()


def test_unsure_clear_undo_and_redo(labelling):
    win = labelling
    win.state.set_current(5)
    press(win, Qt.Key.Key_U)
    assert win.state.labels[5] == UNSURE and "unsure: 1" in win.label_counts.text()
    press(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.state.labels[5] == 1 and win.state.current == 5  # back to the file's label, shown
    press(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert win.state.labels[5] == UNSURE
    win.state.set_current(5)
    press(win, Qt.Key.Key_Backspace)  # clear: the file's label again
    assert win.state.labels[5] == 1
    with stored(win) as store:
        assert [r["kind"] for r in store.history(5)] == ["set", "undo", "redo", "set"]


def test_multi_select_labels_the_whole_selection_in_one_action(labelling):
    win = labelling
    assert win.label_menu.select_top(6) == [0, 1, 2, 3, 4, 5]
    press(win, Qt.Key.Key_0)
    assert (win.state.labels[:6] == 0).all() and win.state.labels[7] == 1
    press(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.state.labels[:6].tolist() == [0, 1, 0, 1, 0, 1]


def test_labels_and_undo_survive_a_restart(qtbot, labelling, data):
    from galview.qt.window import MainWindow

    win = labelling
    win.state.set_current(0)
    press(win, Qt.Key.Key_1)
    win.close()
    again = MainWindow()
    qtbot.addWidget(again)
    try:
        again.open_path(data)
        assert again.state.labels[0] == 1 and cell_label(again, 0) == 1
        assert again.labelling.undo()
        assert again.state.labels[0] == 0
    finally:
        again.close()


def test_another_instances_changes_appear(labelling):
    win = labelling
    press(win, Qt.Key.Key_1)  # creates the store
    with stored(win) as other:  # a second GalView (same file, own connection)
        other.set([10, 11], 0)
    win.labelling.poll()
    assert win.state.labels[10] == 0 and win.state.labels[11] == 0 and cell_label(win, 11) == 0


def test_keys_can_be_rebound_and_are_remembered(labelling):
    win = labelling
    win.label_menu.set_keys({"class_1": "L"})
    assert win.label_menu.actions["class_1"].shortcut().toString() == "L"
    win.state.set_current(4)
    press(win, Qt.Key.Key_L)
    assert win.state.labels[4] == 1
    assert win.settings.value("keys/class_1") == "L"


def test_a_key_another_action_holds_is_refused(labelling):
    """Qt runs neither of two actions that share a key: rebinding a label to S (the similarity key) or
    two labels to one key is refused, nothing changes, and the message names the holder."""
    win = labelling
    assert not win.label_menu.set_keys({"unsure": "S"})
    assert "S is already Similarity ▸ Rank by similarity to this cutout" in win.last_error
    assert not win.label_menu.set_keys({"class_0": "1"})
    assert "1 was chosen for both" in win.last_error
    assert (
        win.label_menu.actions["unsure"].shortcut().toString() == "U"
        and win.settings.value("keys/unsure") is None
    )
    assert win.label_menu.set_keys({"unsure": "Y", "class_0": "U"})  # a swap through a free key is fine
    assert win.label_menu.actions["class_0"].shortcut().toString() == "U"


def test_blind_recheck_hides_labels_and_reports_agreement(labelling, monkeypatch):
    win = labelling
    shown = []
    monkeypatch.setattr(QMessageBox, "open", lambda box: shown.append(box.text()))
    check = win.label_menu.start_recheck(size=4, seed=1)
    assert sorted(win.state.order.tolist()) == sorted(check.indices.tolist())
    assert all(cell_label(win, int(i)) is None for i in check.indices)  # labels hidden
    assert win.metadata.fields["Label"].text().startswith("hidden")
    for k, index in enumerate(check.indices):
        assert win.state.current == index
        old = int(check.old[k])
        press(win, Qt.Key.Key_1 if (old == 0) == (k == 0) else Qt.Key.Key_0)  # the first answer differs
    assert shown and "3 of 4" in shown[0]
    assert win.state.order.tolist() == list(range(N)) and cell_label(win, 1) == 1  # back to normal
    assert not store_path_for(win.state.collection.source).exists()  # answers never became labels


def test_unlabelled_and_random_queues(labelling):
    win = labelling
    win.state.set_labels(np.where(np.arange(N) < 30, win.state.labels, np.nan))
    win.sort_controls.sort_combo.setCurrentIndex(win.sort_controls.sort_combo.findData("unlabelled"))
    assert win.state.order[:10].tolist() == list(range(30, 40))
    win.state.set_sorting(sort="random")
    assert sorted(win.state.order.tolist()) == list(range(N)) and win.state.order.tolist() != list(range(N))


def test_the_show_box_filters_by_label_and_the_grid_exports_as_shown(labelling, tmp_path, monkeypatch):
    import csv

    from PyQt6.QtWidgets import QFileDialog

    win = labelling
    show = win.sort_controls.show_combo
    assert show.itemText(show.findData("class:1")) == "labelled 1"  # the collection names no classes
    win.state.set_current(2)
    press(win, Qt.Key.Key_1)  # cutout 2: artifact → 1 (changed); auto-advances to 3
    press(win, Qt.Key.Key_U)  # cutout 3: unsure
    show.setCurrentIndex(show.findData("class:1"))
    odd = [i for i in range(N) if i % 2 and i != 3]
    assert win.state.order.tolist() == sorted([2, *odd])
    assert win.sort_controls.count_label.text() == f"{len(odd) + 1} of {N} shown"
    assert win.grid.grid_model.rowCount() * win.grid.grid_model.columnCount() >= len(odd) + 1
    show.setCurrentIndex(show.findData("changed"))
    assert win.state.order.tolist() == [2, 3]
    assert win.state.current == 2  # the cutout shown is one the filter keeps
    win.label_menu.set_class_names("artifact, LSBG")
    assert show.itemText(show.findData("class:1")) == "labelled LSBG"  # the names follow
    assert show.currentData() == "changed"  # and the filter stays

    out = tmp_path / "shown.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    win.export_grid_action.trigger()
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["rank"], r["index"], r["label_name"], r["origin"]) for r in rows] == [
        ("1", "2", "LSBG", "changed"),
        ("2", "3", "unsure", "changed"),
    ]
    message = win.statusBar().currentMessage()
    assert (
        message
        == f"2 cutouts written to {out} (file order; only those whose label a person changed from the file's)"
    )
    tip = show.itemData(show.findData("changed"), Qt.ItemDataRole.ToolTipRole)
    assert tip == "Show only the cutouts whose label a person changed from the file's"
    assert win.grid.empty_text() == ""
    show.setCurrentIndex(
        show.findData("unlabelled")
    )  # every cutout has a label: the grid says why it is empty
    assert len(win.state.order) == 0
    assert win.grid.empty_text().startswith("No cutout with no label.\n\nShow all cutouts, or widen")
    win.state.set_sorting(show="all")
    assert len(win.state.order) == N

    bad = tmp_path / "no_such_folder" / "shown.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(bad), "")))
    win.export_grid_action.trigger()
    assert "no_such_folder does not exist" in win.last_error and not bad.exists()


def test_a_count_in_the_status_bar_shows_those_cutouts(labelling):
    from galview.qt.theme import apply_theme

    win = labelling
    win.state.set_current(2)
    press(win, Qt.Key.Key_U)  # cutout 2: unsure
    counts = win.label_counts
    assert counts.text() == "0: 19 · 1: 20 · unsure: 1 · unlabelled: 0"
    counts.linkActivated.emit("unsure")  # as a click on "unsure: 1"
    assert win.state.order.tolist() == [2] and win.sort_controls.show_combo.currentData() == "unsure"
    counts.linkActivated.emit("class:1")
    assert win.state.order.tolist() == list(range(1, N, 2))
    light = QApplication.instance().palette().color(QPalette.ColorRole.WindowText).name()
    assert f"color: {light}" in QLabel.text(counts)  # drawn as text, not as blue links
    apply_theme(QApplication.instance(), True)
    try:
        dark = QApplication.instance().palette().color(QPalette.ColorRole.WindowText).name()
        assert dark != light and f"color: {dark}" in QLabel.text(counts)  # and in the dark theme
    finally:
        apply_theme(QApplication.instance(), False)


def test_the_grid_is_saved_as_a_figure_as_it_is_drawn(labelling, qtbot, tmp_path, monkeypatch):
    from PIL import Image
    from PyQt6.QtWidgets import QFileDialog, QInputDialog

    from galview.core.display import render
    from galview.core.mosaic import PAD
    from galview.qt.grid_export import save_figure

    win = labelling
    win.state.update_display(stretch="sqrt", interval="minmax")  # as the window draws them
    out = tmp_path / "figure.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    asked = []
    monkeypatch.setattr(
        QInputDialog, "getInt", staticmethod(lambda *a, **k: asked.append(a[3:]) or (5, True))
    )
    win.state.set_sorting(sort="random")
    saved = f"A figure of 5 cutouts saved to {out}"
    win.save_figure_action.trigger()
    assert asked == [(min(N, 48), 1, N)]  # how many, from the top of the grid
    qtbot.waitUntil(lambda: win.statusBar().currentMessage() == saved, timeout=10000)  # a job drew it
    columns = win.grid.grid_model.columns
    figure = np.asarray(Image.open(out).convert("RGB"))
    assert figure.shape[1] == PAD + min(5, columns) * (128 + PAD)  # as many per row as the grid
    first = win.state.order[0]
    expected = render(
        win.state.collection.get(int(first)), win.state.display, win.state.collection.bands, np.uint8
    )
    np.testing.assert_array_equal(figure[PAD : PAD + 128 : 8, PAD : PAD + 128 : 8], expected)

    win.state.set_selection([9, 4, 30])  # several selected: those, without asking
    win.save_figure_action.trigger()
    saved = f"A figure of 3 cutouts saved to {out}"
    qtbot.waitUntil(lambda: win.statusBar().currentMessage() == saved, timeout=10000)
    assert len(asked) == 1
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "f.jpg"), ""))
    )
    win.save_figure_action.trigger()
    assert "expected .png" in win.last_error and not (tmp_path / "f.jpg").exists()

    from tests.ml.tiny_models import blob_pngs

    folder, _ = blob_pngs(tmp_path / "pngs", damaged=1, n=6)
    assert win.open_path(folder)
    assert save_figure(win, out, [0, 1, 2])
    qtbot.waitUntil(lambda: win.statusBar().currentMessage().startswith("A figure of"), timeout=10000)
    message = win.statusBar().currentMessage()
    assert message.startswith(
        f"A figure of 3 cutouts saved to {out}; 1 cutout could not be read and is a dark"
    )


def test_go_to_a_cutout_by_index_even_when_the_filters_hide_it(labelling, monkeypatch):
    from PyQt6.QtWidgets import QInputDialog

    win = labelling
    answers = iter(["#7", "4", "nonsense"])
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: (next(answers), True)))
    win.go_to_action.trigger()
    assert win.state.current == 7 and win.grid.current_cutout() == 7
    assert win.statusBar().currentMessage() == "Went to cutout 7 (by its index)"
    win.state.set_sorting(show="class:1")  # odd cutouts only
    win.go_to_action.trigger()
    assert win.state.current == 4  # shown in the detail view, though not in the grid
    assert (
        win.statusBar()
        .currentMessage()
        .endswith("it is not in the grid, which shows only the cutouts labelled 1")
    )
    win.go_to_action.trigger()
    assert win.state.current == 4 and win.last_error.startswith("Go to: ")
    assert (
        "'nonsense' is not an index (0–39), a position (RA Dec) or in a note; the cutouts have no ids"
        in win.last_error
    )
    win.labelling.set_note("Tidal tail to the NE?", 12)
    answers = iter(["tidal"])
    win.go_to_action.trigger()  # a word of a note
    assert win.state.current == 12
    assert win.statusBar().currentMessage().startswith("Went to cutout 12 (the one note that holds 'tidal')")


def test_suspects_queue_is_computed_in_the_background(window, qtbot, tiny_model, data):
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.scoring.auto_limit = 0
    window.open_path(data)
    window.state.set_sorting(sort="suspects")
    qtbot.waitUntil(lambda: "suspects" in window.state.rankings, timeout=30000)
    assert "suspected label errors among 40" in window.statusBar().currentMessage()
    ranking = window.state.rankings["suspects"]
    rank = ranking.values
    assert np.isfinite(rank).all() and len(np.unique(rank)) == N
    assert window.state.order.tolist() == np.argsort(-rank, kind="stable").tolist()
    # The thumbnails show the ranking's score (the label margin), not the queue position.
    from galview.qt.grid import RankingRole

    model = window.grid.grid_model
    top = int(window.state.order[0])
    assert model.data(model.cell_of(top), RankingRole) == f"err {ranking.shown[top]:.2f}"
    assert window.state.current == top  # the queue arrived: its top is shown
    window.state.set_sorting(sort="file")
    assert model.data(model.cell_of(top), RankingRole) is None


def test_a_damaged_store_is_reported_left_alone_and_labelling_refused_unless_recovered(window, data):
    path = store_path_for(data)
    path.write_bytes(b"this is not an SQLite database" * 10)
    before = path.read_bytes()
    assert window.open_path(data)  # the collection still opens
    assert "Labelling is off" in window.statusBar().currentMessage()
    window.labelling.salvage_dialog.button(QMessageBox.StandardButton.No).click()  # not recovered
    assert window.labelling.salvage_dialog is None
    window.label_menu.actions["recover"].trigger()  # asked again from the Labels menu
    window.labelling.salvage_dialog.button(QMessageBox.StandardButton.No).click()
    window.state.set_current(1)
    assert not window.labelling.label(0)
    assert "NOT saved" in window.last_error
    assert path.read_bytes() == before


def test_a_locked_store_refuses_the_label_visibly_and_recovers(window, data, monkeypatch):
    import sqlite3

    import galview.io.label_store as label_store

    monkeypatch.setattr(label_store, "DEFAULT_TIMEOUT", 0.3)
    window.open_path(data)
    assert window.labelling.label(1, [0])  # creates the store
    blocker = sqlite3.connect(store_path_for(data))
    blocker.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        assert not window.labelling.label(1, [2])
        assert "NOT saved" in window.last_error and "locked" in window.last_error
        assert window.state.labels[2] == 0  # the window does not show what is not on disk
    finally:
        blocker.rollback()
        blocker.close()
    assert window.labelling.label(1, [2])
    assert window.state.labels[2] == 1


def test_a_store_of_another_collection_of_the_same_size_asks_before_rebinding(window, qtbot, tmp_path):
    from PyQt6.QtWidgets import QMessageBox

    from galview.io import open_collection

    first = random_npz(tmp_path / "first.npz", N, seed=1)
    second = random_npz(tmp_path / "second.npz", N, seed=2)
    with open_collection(first) as collection, open_label_store(collection, store_path_for(second)) as store:
        store.set([0], 1)  # a store at the second file's place, made for the first file
    before = store_path_for(second).read_bytes()
    assert window.open_path(second)
    dialog = window.labelling.rebind_dialog
    assert (
        dialog is not None
        and "first.npz" in dialog.text()
        and "Labelling is off" in window.statusBar().currentMessage()
    )
    dialog.button(QMessageBox.StandardButton.No).click()
    assert not window.labelling.label(1, [3])  # refused, and the store is untouched
    assert "NOT saved" in window.last_error and store_path_for(second).read_bytes() == before
    window.open_path(second)  # asked again on opening
    window.labelling.rebind_dialog.button(QMessageBox.StandardButton.Yes).click()
    assert window.labelling.label(1, [3])
    with open_label_store(window.state.collection) as store:
        (rebinding,) = store.rebindings()
        assert rebinding["old_source"].endswith("first.npz") and rebinding["source"].endswith("second.npz")
        assert store.get(3)["label"] == 1


def test_class_names_come_from_the_collection_never_from_the_model(window, qtbot, tiny_model, data):
    window.scoring.load_model(tiny_model)  # its classes: artifact, LSBG
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.scoring.auto_limit = 0
    assert window.open_path(data)
    assert window.labelling.classes == ("0", "1")
    assert window.label_menu.actions["class_1"].text() == "Label as 1"
    assert window.label_menu.set_class_names("no ring, ring")
    assert window.labelling.classes == ("no ring", "ring")
    assert window.label_counts.text().startswith("no ring: 20 · ring: 20")
    assert window.label_menu.actions["class_1"].text() == "Label as ring"
    window.state.set_current(3)
    assert window.metadata.fields["Label"].text() == "ring · from the file"
    assert window.open_path(data)  # remembered for this collection
    assert window.labelling.classes == ("no ring", "ring")
    assert not window.label_menu.set_class_names("only one")
    assert "two or more distinct names" in window.last_error


def test_view_classes_names_the_labels(qtbot, data):
    from galview.qt.app import make_app
    from galview.qt.window import MainWindow

    make_app()
    win = MainWindow(class_names="artifact,LSBG")
    qtbot.addWidget(win)
    try:
        assert win.open_path(data)
        assert win.label_counts.text().startswith("artifact: 20 · LSBG: 20")
    finally:
        win.close()


def test_a_similarity_range_is_selected_sent_to_the_review_queue_and_kept(labelling, data, monkeypatch):
    """Select a ranking's cutouts by value, press Q: they wait in the review queue (a ranking of its
    own, first sent first), with no label changed, and are there again when the collection reopens."""
    from galview.core.rankings import Ranking
    from galview.core.review_queue import REVIEW

    window, state = labelling, labelling.state
    similarity = np.linspace(1.0, 0.0, N)  # cutout 0 most similar
    state.set_ranking(Ranking("closest", "most similar to cutout 0", similarity, badge="sim"))
    state.set_sorting(sort="closest")
    asked = []
    monkeypatch.setattr(
        "galview.qt.label_menu.QInputDialog.getDouble", lambda *args: asked.append(args) or (0.9, True)
    )
    window.label_menu.ask_select_value()  # the dialog starts at the 10th value, with enough decimals
    assert asked[0][3] == pytest.approx(similarity[9]) and asked[0][-1] == 3
    assert (
        list(state.selection) == [0, 1, 2, 3] and "4 cutouts selected" in window.statusBar().currentMessage()
    )
    chosen = window.label_menu.select_value(0.9)
    assert chosen == [0, 1, 2, 3]
    labels_before = state.labels.copy()
    press(window, Qt.Key.Key_Q)
    assert window.review.queue.indices == (0, 1, 2, 3)
    np.testing.assert_array_equal(state.labels, labels_before)  # nothing labelled
    assert "review queue (4 cutouts)" in [
        window.sort_controls.sort_combo.itemText(i) for i in range(window.sort_controls.sort_combo.count())
    ]
    window.review.send([9, 2])
    state.set_sorting(sort=REVIEW)
    assert list(state.order[:5]) == [0, 1, 2, 3, 9]
    state.set_current(9)
    assert window.metadata.fields["Review"].text() == "5 of 5 in the review queue"
    state.set_current(20)
    assert window.metadata.fields["Review"].text() == "not queued (5 in the review queue)"
    window.review.remove([1])
    assert list(state.order[:4]) == [0, 2, 3, 9]
    assert window.open_path(data)  # reopened: the queue is read back
    assert window.review.queue.indices == (0, 2, 3, 9) and REVIEW in state.rankings
    window.review.remove([0, 2, 3, 9])
    assert REVIEW not in state.rankings and window.last_error is None
    assert window.metadata.fields["Review"].text() == "—"


def test_a_damaged_store_is_offered_for_recovery_and_labelling_goes_on(window, qtbot, data):
    from PyQt6.QtWidgets import QMessageBox

    from galview.io import open_collection

    with open_collection(data) as collection, open_label_store(collection) as store:
        store.set([0, 1], 1)
        path = store.path
    with open(path, "r+b") as handle:  # the SQLite header's magic string, damaged
        handle.write(b"X" * 16)
    damaged = path.read_bytes()
    assert window.open_path(data)
    dialog = window.labelling.salvage_dialog
    assert dialog is not None and "is damaged" in dialog.text() and "nothing is deleted" in dialog.text()
    assert "Labelling is off" in window.statusBar().currentMessage()
    dialog.button(QMessageBox.StandardButton.Yes).click()  # a job: the window stays responsive
    assert window.labelling.salvage_dialog is None
    qtbot.waitUntil(lambda: not window.runner.busy and window.labelling.store is not None, timeout=10000)
    assert "recovered 2 labels" in window.statusBar().currentMessage()
    assert window.state.user_labels[0] == 1 and window.state.user_labels[1] == 1
    assert window.labelling.label(0, [2])  # labelling is on again, in the new store
    (aside,) = path.parent.glob(path.name + ".damaged-*[0-9]")
    assert aside.read_bytes() == damaged
    with open_label_store(window.state.collection) as store:
        assert store.get(2)["user_label"] == 0 and store.get(0)["user_label"] == 1


def test_a_recovery_asked_for_while_a_job_runs_starts_when_it_ends(window, qtbot, data, monkeypatch):
    from galview.io import open_collection

    with open_collection(data) as collection, open_label_store(collection) as store:
        store.set([0], 1)
        path = store.path
    with open(path, "r+b") as handle:
        handle.write(b"X" * 16)
    assert window.open_path(data)
    started, real_start = [], window.runner.start

    def busy_the_first_time(name, *args, **kwargs):
        started.append(name)
        return None if len(started) == 1 else real_start(name, *args, **kwargs)

    monkeypatch.setattr(window.runner, "start", busy_the_first_time)
    window.labelling.salvage_dialog.button(QMessageBox.StandardButton.Yes).click()
    assert "will be recovered when another job has finished" in window.statusBar().currentMessage()
    window.runner.finished.emit("score", "done")  # the job that was running ends
    qtbot.waitUntil(lambda: window.labelling.store is not None and not window.runner.busy, timeout=10000)
    assert started == ["salvage", "salvage"] and window.state.user_labels[0] == 1


def test_recovering_a_sound_store_says_there_is_nothing_to_recover(window, data):
    assert window.open_path(data)
    window.label_menu.actions["recover"].trigger()
    assert window.labelling.salvage_dialog is None
    assert "not damaged" in window.statusBar().currentMessage()


def test_a_store_found_damaged_while_in_use_can_be_recovered_from_the_menu(window, qtbot, data):
    from galview.io.label_schema import DamagedLabelStore

    assert window.open_path(data)
    assert window.labelling.label(1, [0])
    store = window.labelling.store
    path = store.path

    def damaged(*_args, **_kwargs):
        raise DamagedLabelStore(path, "is damaged (database disk image is malformed); it was left untouched")

    store.last_seq = damaged
    window.labelling.poll()  # another program's change is looked for: the store is damaged now
    assert "is damaged" in window.last_error
    del store.last_seq
    with open(path, "r+b") as handle:
        handle.write(b"X" * 16)
    window.label_menu.actions["recover"].trigger()
    window.labelling.salvage_dialog.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: not window.runner.busy and window.labelling.store is not None, timeout=10000)
    assert window.labelling.store is not store and window.state.user_labels[0] == 1
    assert list(path.parent.glob(path.name + ".damaged-*[0-9]"))


def test_n_writes_a_note_that_the_panel_grid_show_box_and_export_carry(labelling, tmp_path, monkeypatch):
    import csv

    from PyQt6.QtWidgets import QFileDialog

    from galview.qt import note_dialog
    from galview.qt.grid import NoteRole

    win = labelling
    asked = []
    answers = iter(
        [("  tidal tail to the NE?\n", True), ("tidal tail, confirmed in DR10", True), ("x", False)]
    )
    monkeypatch.setattr(note_dialog, "ask_note_text", lambda *a, **k: asked.append(a[1:]) or next(answers))
    win.state.set_current(5)
    press(win, Qt.Key.Key_N)
    assert asked[0][0] == "Note on #5" and asked[0][2] == ""  # nothing to edit yet
    with stored(win) as store:  # on disk once the dialog is closed; the first note makes the store
        assert store.note(5) == "tidal tail to the NE?"
    assert win.metadata.fields["Note"].text().replace("\u200b", "") == "tidal tail to the NE?"
    model = win.grid.grid_model
    assert model.data(model.cell_of(5), NoteRole) and not model.data(model.cell_of(4), NoteRole)
    assert "Note: tidal tail to the NE?" in model.data(model.cell_of(5), Qt.ItemDataRole.ToolTipRole)
    assert win.state.current == 5  # a note does not advance
    press(win, Qt.Key.Key_N)
    assert asked[1][2] == "tidal tail to the NE?"  # the note to edit
    assert "tidal tail to the NE?" in win.metadata.fields["Note"].toolTip()  # the earlier version
    press(win, Qt.Key.Key_N)  # cancelled: unchanged
    with stored(win) as store:
        assert [row["text"] for row in store.note_history(5)] == [
            "tidal tail to the NE?",
            "tidal tail, confirmed in DR10",
        ]
    assert win.label_counts.text().endswith(" · with a note: 1")
    show = win.sort_controls.show_combo
    show.setCurrentIndex(show.findData("noted"))
    assert win.state.order.tolist() == [5]
    out = tmp_path / "noted.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    win.export_grid_action.trigger()
    with open(out, newline="") as handle:
        assert [(r["index"], r["note"]) for r in csv.DictReader(handle)] == [
            ("5", "tidal tail, confirmed in DR10")
        ]
    win.state.set_blind(True)  # a note may give the label away: hidden in a blind re-check
    assert not model.data(model.cell_of(5), NoteRole)


def test_another_galviews_note_appears(labelling):
    win = labelling
    win.state.set_current(6)
    press(win, Qt.Key.Key_1)  # this window has the store open; advances to 7
    with open_label_store(win.state.collection) as other:
        other.set_note(7, "same object as #812")
    win.labelling.poll()
    assert win.state.notes == {7: "same object as #812"}
    assert "same object as #812" in win.metadata.fields["Note"].text().replace("\u200b", "")


def test_the_note_dialog_adds_to_the_note_enter_saves_and_shift_enter_breaks_the_line(qtbot):
    from PyQt6.QtTest import QTest

    from galview.qt.note_dialog import NoteDialog

    dialog = NoteDialog(None, "Note on #4", "Note on #4 (J0001)", "tidal tail")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.editor.setFocus()
    QTest.keyClicks(dialog.editor, "?")  # the cursor is at the end and nothing is selected
    QTest.keyClick(dialog.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(dialog.editor, "check DR10")
    assert dialog.text() == "tidal tail?\ncheck DR10" and dialog.isVisible()
    QTest.keyClick(dialog.editor, Qt.Key.Key_Return)
    assert dialog.result() == NoteDialog.DialogCode.Accepted and not dialog.isVisible()


def test_a_large_grid_is_exported_in_the_background_and_a_cancel_leaves_no_file(
    labelling, qtbot, tmp_path, monkeypatch
):
    import csv

    from galview.io import writers
    from galview.qt import grid_export

    win = labelling
    monkeypatch.setattr(grid_export, "BACKGROUND_ROWS", 10)  # 40 rows count as large here
    out = tmp_path / "large.csv"
    assert grid_export.export_grid(win, out)
    assert win.statusBar().currentMessage().startswith(f"Writing 40 cutouts to {out} in the background")
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=10000)
    with open(out, newline="") as handle:
        assert [int(r["index"]) for r in csv.DictReader(handle)] == list(range(N))
    assert win.statusBar().currentMessage().startswith(f"40 cutouts written to {out}")

    started = []
    real = writers.write_table
    monkeypatch.setattr(
        writers,
        "write_table",
        lambda *a, **k: started.append(1) or win.runner.cancel() or real(*a, chunk=5, **k),
    )
    cancelled = tmp_path / "cancelled.csv"
    assert grid_export.export_grid(win, cancelled)
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=10000)
    assert started and not cancelled.exists() and not list(tmp_path.glob("*.partial"))


def test_n_on_a_selection_writes_one_note_on_every_selected_cutout(labelling, monkeypatch):
    from galview.qt import note_dialog

    win = labelling
    win.labelling.set_note("tidal features", [4])
    win.labelling.set_note("faint", [6])
    asked = []
    answers = iter([("tidal features", True)])
    monkeypatch.setattr(note_dialog, "ask_note_text", lambda *a, **k: asked.append(a[1:]) or next(answers))
    win.state.set_selection([4, 5, 6])
    press(win, Qt.Key.Key_N)
    title, prompt, text = asked[0]
    assert title == "Note on 3 cutouts" and text == "" and "(their notes differ)" in prompt
    assert win.state.notes == {4: "tidal features", 5: "tidal features", 6: "tidal features"}
    assert win.statusBar().currentMessage() == "Note on 3 cutouts saved"
    with stored(win) as store:
        assert [row["text"] for row in store.note_history(6)] == ["faint", "tidal features"]  # kept


def test_ctrl_z_undoes_a_note_on_the_wrong_selection_and_ctrl_shift_z_brings_it_back(labelling, monkeypatch):
    from galview.qt import note_dialog
    from galview.qt.grid import NoteRole

    win = labelling
    press(win, Qt.Key.Key_1)  # a label first: Ctrl+Z takes the note, the newer
    monkeypatch.setattr(note_dialog, "ask_note_text", lambda *a, **k: ("ring galaxy?", True))
    win.state.set_selection([4, 5, 6])
    press(win, Qt.Key.Key_N)
    assert set(win.state.notes) == {4, 5, 6}
    press(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.state.notes == {} and win.statusBar().currentMessage() == "Undid the note on 3 cutouts"
    with stored(win) as store:
        assert store.notes() == {} and store.get(0)["user_label"] == 1  # on disk; the label stays
    model = win.grid.grid_model
    assert not model.data(model.cell_of(5), NoteRole)
    press(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert set(win.state.notes) == {4, 5, 6} and model.data(model.cell_of(5), NoteRole)
