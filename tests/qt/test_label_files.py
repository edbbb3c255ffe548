"""Labels ▸ Export labels… and Import labels from CSV… run as jobs: the window answers meanwhile, the
import is one undoable action shown when it ends, a bad file is said, and the periodic look for another
GalView's changes does not wait on the store while an import writes into it."""

from __future__ import annotations

import csv
import threading

import numpy as np
import pytest
from PyQt6.QtWidgets import QFileDialog

from galview.io import label_export
from galview.io.label_store import open_label_store
from tests.qt.conftest import random_npz

N = 30


def finished(window, qtbot, started=True):
    assert started
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)


def test_export_then_import_in_the_background(window, qtbot, tmp_path, monkeypatch):
    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    window.labelling.auto_advance = False
    for index, value in {2: 1, 3: 0, 4: -1}.items():
        assert window.labelling.label(value, [index])
    out = tmp_path / "mine.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.label_menu.actions["export"].trigger()
    finished(window, qtbot)
    assert window.statusBar().currentMessage() == f"Labels exported to {out}"
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == N and [rows[i]["label"] for i in (2, 3, 4, 5)] == [
        "1",
        "0",
        "-1",
        "1",
    ]  # 5: the file's
    assert rows[5]["changed_at"] == "" and rows[2]["changed_at"] != ""

    theirs = tmp_path / "theirs.csv"
    theirs.write_text("index,label\n2,1\n3,1\n7,0\n")  # 2 already 1: not a change
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(theirs), ""))
    window.label_menu.actions["import"].trigger()
    finished(window, qtbot)
    np.testing.assert_array_equal(window.state.user_labels[[2, 3, 7]], [1, 1, 0])
    assert window.statusBar().currentMessage() == "2 labels imported from theirs.csv (Ctrl+Z undoes)"
    assert window.labelling.undo()  # one action
    np.testing.assert_array_equal(window.state.user_labels[[2, 3, 7]], [1, 0, np.nan])
    window.label_menu.actions["import"].trigger()
    finished(window, qtbot)
    window.label_menu.actions["import"].trigger()  # again: nothing differs now
    finished(window, qtbot)
    assert window.statusBar().currentMessage() == "theirs.csv: no label differs from yours; nothing imported"


def test_a_bad_file_is_said_and_nothing_is_imported(window, qtbot, tmp_path):
    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    errors = []
    window.labelling.error.connect(errors.append)
    bad = tmp_path / "bad.csv"
    bad.write_text("index,label\n3,1\n99,0\n")
    finished(window, qtbot, window.labelling.start_import(bad))
    assert errors and errors[0].startswith(f"{bad}: line 3: index 99 is out of range")
    assert np.isnan(window.state.user_labels).all()
    finished(window, qtbot, window.labelling.start_export(tmp_path / "out.txt"))  # refused by its suffix
    assert "unsupported export format" in errors[-1]
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.parametrize("written_first", [False, True])  # before or after the other collection opens
def test_an_import_does_not_keep_the_window_waiting_and_says_where_it_went_when_another_collection_opened(
    window, qtbot, tmp_path, monkeypatch, written_first
):
    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    window.labelling.label(1, [3])
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("index,label\n5,0\n")
    release, started = threading.Event(), threading.Event()
    importing = label_export.import_csv

    def slow(*args, **kwargs):
        changed = importing(*args, **kwargs) if written_first else None
        started.set()  # written first: only now may the window open the other collection
        assert release.wait(20)
        return changed if written_first else importing(*args, **kwargs)

    monkeypatch.setattr(label_export, "import_csv", slow)
    polled = []
    monkeypatch.setattr(window.labelling.session, "poll", lambda: polled.append(1))
    assert window.labelling.start_import(theirs)
    qtbot.waitUntil(started.is_set, timeout=5000)
    window.labelling.poll()  # the window's timer: not while the import may hold the store
    assert polled == []
    first = window.state.collection
    assert window.open_path(random_npz(tmp_path / "b.npz", N, seed=1))  # opened while it imports
    errors = []
    window.labelling.error.connect(errors.append)
    release.set()
    finished(window, qtbot)
    assert np.isnan(window.state.user_labels).all()  # not shown on the other collection
    window.labelling.poll()
    assert polled == [1]
    with open_label_store(first) as store:
        labels = store.current()
    assert errors == [] and labels[3] == 1
    if written_first:  # in the first collection's store, as said
        assert labels[5] == 0 and window.statusBar().currentMessage() == (
            "1 label imported from theirs.csv into the labels of a.npz (another collection is shown now)"
        )
    else:  # its store closed before the import could write: nothing written, as said
        assert np.isnan(labels[5]) and window.statusBar().currentMessage() == (
            "Nothing imported from theirs.csv: a.npz was closed first"
        )


def test_while_another_job_runs_export_and_import_happen_at_once(window, qtbot, tmp_path, monkeypatch):
    from galview.io import other_labels

    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    window.labelling.label(1, [2])
    release = threading.Event()
    reading = other_labels.read_inspectors
    monkeypatch.setattr(
        other_labels, "read_inspectors", lambda *a, **k: release.wait(20) and reading(*a, **k)
    )
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("index,label\n4,1\n")
    assert window.inspector.compare_with(theirs)  # a job that keeps the runner busy
    assert window.runner.busy
    assert window.labelling.start_export(tmp_path / "mine.csv")
    assert (tmp_path / "mine.csv").is_file()  # written before the call returned
    assert window.statusBar().currentMessage() == f"Labels exported to {tmp_path / 'mine.csv'}"
    assert window.labelling.start_import(theirs)
    assert window.state.user_labels[4] == 1
    assert window.statusBar().currentMessage() == "1 label imported from theirs.csv (Ctrl+Z undoes)"
    release.set()
    finished(window, qtbot)


def test_a_label_set_while_the_import_reads_is_kept_and_the_count_says_so(
    window, qtbot, tmp_path, monkeypatch
):
    assert window.open_path(random_npz(tmp_path / "a.npz", N))
    window.labelling.auto_advance = False
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("index,label\n4,1\n5,0\n")  # 4: file 0 → 1, 5: file 1 → 0
    release, inside, reading = threading.Event(), threading.Event(), label_export.csv_labels

    def slow(*args, **kwargs):
        inside.set()
        assert release.wait(20)
        return reading(*args, **kwargs)

    monkeypatch.setattr(label_export, "csv_labels", slow)
    assert window.labelling.start_import(theirs)
    qtbot.waitUntil(inside.is_set, timeout=5000)
    assert window.labelling.label(-1, [5])  # while the import reads its file
    release.set()
    finished(window, qtbot)
    np.testing.assert_array_equal(window.state.user_labels[[4, 5]], [1, -1])  # yours kept
    assert window.statusBar().currentMessage() == "1 label imported from theirs.csv (Ctrl+Z undoes)"
