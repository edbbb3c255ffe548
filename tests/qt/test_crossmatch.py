"""Cutout ▸ Match a catalogue…: the real Legacy Survey FITS cutouts matched with a catalogue of positions."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QFileDialog, QInputDialog

from tests.qt.conftest import random_npz


@pytest.fixture
def dwarfs(window, qtbot, shared_data):
    assert window.open_path(shared_data / "legacy_dwarfs")
    return window


def ask(window, qtbot, monkeypatch, path, radius=3.0):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    monkeypatch.setattr(QInputDialog, "getDouble", staticmethod(lambda *a, **k: (radius, True)))
    window.crossmatch_action.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)


def test_a_catalogue_sorts_the_grid_by_the_match_and_the_panel_names_the_source(
    dwarfs, qtbot, monkeypatch, shared_data, tmp_path
):
    win = dwarfs
    ra, dec = (np.asarray(c, float) for c in win.state.collection.readable_coords())
    catalogue = tmp_path / "known.csv"
    with open(catalogue, "w", newline="") as handle:  # 3 of the 12, 1.2″ north; one far away; one unreadable
        writer = csv.writer(handle)
        writer.writerow(["Name", "RAJ2000", "DEJ2000", "mu_g"])
        for k, i in enumerate([7, 2, 10]):
            writer.writerow([f"KDG {k}", ra[i], dec[i] + 1.2 / 3600, 26.5 + k])
        writer.writerow(["far", 10.0, 10.0, 27])
        writer.writerow(["broken", "not an angle", "", 27])
    ask(win, qtbot, monkeypatch, catalogue)

    assert win.state.sorting.sort == "catalogue"
    assert sorted(win.state.order[:3].tolist()) == [2, 7, 10]  # matched first, nearest first
    title = win.state.ranking("catalogue").title
    combo = win.sort_controls.sort_combo
    assert "known.csv" in title and combo.toolTip().startswith(f"Sorted: {title}\n")  # whole where cut
    assert combo.itemData(combo.currentIndex(), Qt.ItemDataRole.ToolTipRole) == title
    assert win.state.ranking("catalogue").values[[2, 7, 10]] == pytest.approx(1.2, abs=1e-6)
    message = win.statusBar().currentMessage()
    assert message.startswith("Sorted by the match: 3 of 12 cutouts have a source of known.csv within 3″")
    assert "1 catalogue rows have no readable position (first: row 5)" in message
    win.state.set_current(7)
    field = win.metadata.fields["Match"]
    assert field.text() == "KDG 0 · 1.20″ (known.csv)"
    assert "mu_g=26.5" in field.toolTip()
    win.state.set_current(0)
    assert field.text() == "none within 3″ in known.csv"
    model = win.grid.grid_model
    from galview.qt.grid import RankingRole

    assert model.data(model.cell_of(2), RankingRole) == "sep 1.20"
    out = tmp_path / "shown.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    win.export_grid_action.trigger()
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    first = {r["index"]: (r["catalogue_name"], r["separation_arcsec"]) for r in rows[:3]}
    assert first == {"2": ("KDG 1", "1.2"), "7": ("KDG 0", "1.2"), "10": ("KDG 2", "1.2")}
    assert (rows[3]["catalogue_name"], rows[3]["separation_arcsec"]) == ("", "")


def test_the_real_candidates_catalogue_matches_all_twelve(dwarfs, qtbot, monkeypatch, shared_data):
    ask(dwarfs, qtbot, monkeypatch, shared_data / "legacy_dwarfs" / "candidates.csv", radius=1.0)
    ranking = dwarfs.state.ranking("catalogue")
    assert (ranking.row >= 0).all() and np.nanmax(ranking.values) < 0.01
    assert "12 of 12 cutouts have a source of candidates.csv within 1″ (12 of its 24 rows)" in (
        dwarfs.statusBar().currentMessage()
    )


def test_what_cannot_be_matched_is_said_and_nothing_changes(
    window, qtbot, monkeypatch, tmp_path, shared_data
):
    assert window.open_path(random_npz(tmp_path / "plain.npz", n=6))
    window.crossmatch_action.trigger()
    assert "has no sky positions (RA, Dec) to match a catalogue with" in window.last_error
    assert window.open_path(shared_data / "legacy_dwarfs")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,x,y\na,1,2\n")
    ask(window, qtbot, monkeypatch, bad)
    assert (
        "bad.csv" in window.last_error
        and "has no RA and Dec columns (found: name, x, y)" in window.last_error
    )
    assert window.state.sorting.sort == "file" and window.state.ranking("catalogue") is None
