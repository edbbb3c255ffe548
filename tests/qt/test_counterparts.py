"""Cutout ▸ Show the same object from another collection…: the real Legacy Survey dwarfs beside another
file of the same objects (one band, coarser, shuffled, one object missing), paired by sky position."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtWidgets import QFileDialog

from galview.core.display import render


@pytest.fixture
def dwarfs(window, shared_data):
    assert window.open_path(shared_data / "legacy_dwarfs")
    return window


def deeper_survey(collection, path, order):
    ra, dec = (np.asarray(c, float) for c in collection.readable_coords())
    images = np.stack([collection.get(int(i))[::4, ::4, :1] for i in order])
    ids = np.array([f"deep-{i}" for i in order])
    np.savez(path, images=images, ra=ra[order], dec=dec[order] + 0.3 / 3600, ids=ids)
    return path


def pair(window, qtbot, monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    window.counterpart_action.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)


def test_each_cutouts_counterpart_is_shown_beside_it_until_stopped(dwarfs, qtbot, monkeypatch, tmp_path):
    win, collection = dwarfs, dwarfs.state.collection
    order = np.array([5, 0, 9, 3, 11, 1, 7, 2, 10, 4, 6])  # cutout 8 has no counterpart
    pair(win, qtbot, monkeypatch, deeper_survey(collection, tmp_path / "deeper.npz", order))
    panel = win.detail.counterpart
    assert panel.isVisibleTo(win) and win.stop_counterpart_action.isEnabled()
    assert win.statusBar().currentMessage() == (
        "Shown beside each cutout: 11 of 12 cutouts have a counterpart in deeper.npz, paired by sky position"
        " within 3″"
    )
    win.state.set_current(3)
    assert panel.caption.text() == "#3 (deep-3) · 0.30″ in deeper.npz"
    other = win.counterparts.other
    expected = render(other.get(3), win.state.display, other.bands, other.dtype)
    np.testing.assert_array_equal(panel.rgb, expected)  # the same display settings, its own one band
    assert "its own 64 × 64 pixels" in panel.toolTip()
    value = other.get(3)[10, 20, 0]  # under the mouse at the cutout's (81, 41): the counterpart's (20, 10)
    assert (
        win.detail.counterpart_readout_at(81.5, 41.5)
        == f"deeper.npz: x=20 y=10  {other.bands[0]}={value:.4g}"
    )
    win.state.set_current(8)
    assert panel.caption.text() == "none within 3″ in deeper.npz" and panel.rgb is None
    assert win.detail.counterpart_readout_at(81.5, 41.5) == ""  # nothing there to read
    win.stop_counterpart_action.trigger()
    assert not panel.isVisibleTo(win) and not win.stop_counterpart_action.isEnabled()
    win.state.set_current(3)
    assert panel.rgb is None  # stopped: nothing drawn any more


def test_a_file_that_cannot_be_paired_is_said_and_nothing_changes(dwarfs, qtbot, monkeypatch, tmp_path):
    win = dwarfs
    nowhere = tmp_path / "nowhere.npz"
    np.savez(nowhere, images=np.zeros((5, 8, 8, 3), np.uint8))
    errors = []
    win.counterparts.error.connect(errors.append)
    pair(win, qtbot, monkeypatch, nowhere)
    assert "nowhere.npz: cannot be paired with /" in errors[0] and "legacy_dwarfs: the two files" in errors[0]
    assert "cannot tell which cutout is which" in errors[0]
    assert win.counterparts.other is None and not win.detail.counterpart.isVisibleTo(win)


def test_opening_another_collection_forgets_the_pairing(dwarfs, qtbot, monkeypatch, tmp_path, shared_data):
    win = dwarfs
    pair(win, qtbot, monkeypatch, deeper_survey(win.state.collection, tmp_path / "deeper.npz", np.arange(12)))
    assert win.counterparts.other is not None
    assert win.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")
    assert win.counterparts.other is None and not win.detail.counterpart.isVisibleTo(win)


def test_view_beside_pairs_once_the_collection_is_open_and_scored(window, qtbot, tiny_model, tmp_path):
    """``galview view DATA --beside OTHER``: asked before the collection opens, done after the scoring job."""
    from tests.qt.conftest import random_npz

    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.counterparts.pair_when_ready(random_npz(tmp_path / "other.npz", 40, seed=3))
    assert window.counterparts.pending is not None  # nothing open yet: it waits
    window.open_path(random_npz(tmp_path / "first.npz", 40), background=True)
    qtbot.waitUntil(lambda: window.counterparts.other is not None and not window.runner.busy, timeout=30000)
    assert window.state.scores is not None and window.state.scores.complete  # the scoring was not refused
    assert window.counterparts.pairing.by == "order" and window.detail.counterpart.isVisibleTo(window)
    assert window.detail.counterpart.caption.text() == "#0 in other.npz"


def test_the_grid_saved_as_a_figure_puts_each_counterpart_beside_its_cutout(
    dwarfs, qtbot, monkeypatch, tmp_path
):
    from PIL import Image

    from galview.core.mosaic import PAD
    from galview.qt.grid_export import save_figure

    win = dwarfs
    order = np.array([1, 0, 2])
    pair(win, qtbot, monkeypatch, deeper_survey(win.state.collection, tmp_path / "deeper.npz", order))
    out = tmp_path / "figure.png"
    assert save_figure(win, out, [0, 1, 5], columns=3)
    qtbot.waitUntil(lambda: win.statusBar().currentMessage().startswith("A figure of"), timeout=10000)
    figure = np.asarray(Image.open(out).convert("RGB"))
    assert figure.shape[1] == PAD + 6 * (128 + PAD)  # three cutouts a row, each followed by its counterpart
    other = win.counterparts.other
    expected = render(other.get(1), win.state.display, other.bands, other.dtype)  # cutout 0's counterpart
    np.testing.assert_array_equal(figure[PAD : PAD + 128 : 2, 2 * PAD + 128 : 2 * PAD + 256 : 2], expected)
    assert (figure[PAD : PAD + 128, 6 * PAD + 5 * 128 : 6 * PAD + 6 * 128] == 40).all()  # cutout 5: none


def test_the_mouse_over_the_counterpart_reads_out_its_own_pixels(dwarfs, qtbot, monkeypatch, tmp_path):
    from PyQt6.QtCore import QPoint, QPointF
    from PyQt6.QtTest import QTest

    win = dwarfs
    pair(win, qtbot, monkeypatch, deeper_survey(win.state.collection, tmp_path / "deeper.npz", np.arange(12)))
    win.state.set_current(3)
    panel = win.detail.counterpart
    qtbot.wait(100)
    point = panel.plot.mapFromScene(
        panel.view.mapViewToScene(QPointF(82.0, 42.0))
    )  # the centre of its pixel (20, 10)
    QTest.mouseMove(panel.plot.viewport(), QPoint(int(point.x()), int(point.y())))
    value = win.counterparts.other.get(3)[10, 20, 0]
    qtbot.waitUntil(
        lambda: win.detail.readout.text() == f"deeper.npz: x=20 y=10  band0={value:.4g}", timeout=2000
    )
