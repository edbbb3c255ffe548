"""Heat maps in the window: overlay panel, controls, background cache per model version, grid, sheet."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from galview.qt.grid import HeatRole
from tests.qt.conftest import random_npz

N = 120
SHAPE = (16, 16, 3)


def _npz(path, n=N, seed=0, shape=SHAPE):
    return random_npz(path, n, seed, shape)


@pytest.fixture
def explained(window, qtbot, tiny_model, tmp_path):
    """A window with the tiny model active, a small labelled collection scored, cutout 0 current."""
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.open_path(_npz(tmp_path / "small.npz"))
    qtbot.waitUntil(
        lambda: not window.runner.busy and window.state.scores is not None and window.state.scores.complete,
        timeout=20000,
    )
    return window


def _expected(window, index, method="gradcam", class_index=None):
    from galview.ml.gradcam import explain

    cutout = window.state.collection.get_batch([index])
    return explain(window.state.model, cutout, method=method, class_index=class_index)[0]


def _wait_heat(qtbot, window, index):
    overlay = window.detail.overlay
    qtbot.waitUntil(lambda: window.state.current == index and overlay.heat is not None, timeout=20000)
    return overlay.heat


def test_overlay_panel_shows_the_current_cutouts_grad_cam(explained, qtbot):
    overlay = explained.detail.overlay
    assert overlay.isVisible()
    heat = _wait_heat(qtbot, explained, 0)
    assert heat.shape == SHAPE[:2] and heat.dtype == np.float32
    np.testing.assert_allclose(heat, _expected(explained, 0), atol=1 / 255 + 1e-6)
    assert "Grad-CAM" in overlay.caption.text() and "computing" not in overlay.caption.text()
    explained.state.set_current(5)
    heat = _wait_heat(qtbot, explained, 5)
    np.testing.assert_allclose(heat, _expected(explained, 5), atol=1 / 255 + 1e-6)


def test_neighbours_are_prefetched_and_maps_are_cached_per_method(explained, qtbot):
    from galview.qt.explaining import PREFETCH

    cache = explained.explaining.heatmaps
    _wait_heat(qtbot, explained, 0)
    qtbot.waitUntil(cache.idle, timeout=20000)
    assert all(cache.get(i, request=False) is not None for i in range(1, PREFETCH + 1))
    explained.explain_controls.method_combo.setCurrentIndex(
        explained.explain_controls.method_combo.findData("saliency")
    )
    assert explained.state.explain.method == "saliency"
    assert cache.get(0, request=False) is None  # another key
    heat = _wait_heat(qtbot, explained, 0)
    np.testing.assert_allclose(heat, _expected(explained, 0, "saliency"), atol=1 / 255 + 1e-6)
    explained.state.update_explain(method="gradcam")
    assert cache.get(0, request=False) is not None  # back to Grad-CAM: from the cache, at once
    assert explained.detail.overlay.heat is not None


def test_class_selector_lists_the_models_classes(explained, qtbot):
    combo = explained.explain_controls.class_combo
    names = [combo.itemText(i) for i in range(combo.count())]
    assert names[0] == "predicted class" and names[1:] == list(explained.state.model.card.class_names)
    _wait_heat(qtbot, explained, 0)
    combo.setCurrentIndex(1)
    assert explained.state.explain.class_index == 0
    heat = _wait_heat(qtbot, explained, 0)
    np.testing.assert_allclose(heat, _expected(explained, 0, class_index=0), atol=1 / 255 + 1e-6)
    assert explained.state.model.card.class_names[0] in explained.detail.overlay.caption.text()


def test_opacity_colour_map_and_contour_controls(explained, qtbot):
    controls, overlay = explained.explain_controls, explained.detail.overlay
    _wait_heat(qtbot, explained, 0)
    controls.opacity_slider.setValue(80)
    assert explained.state.explain.opacity == pytest.approx(0.8)
    assert overlay.heat_item.opacity() == pytest.approx(0.8)
    controls.colormap_combo.setCurrentText("viridis")
    assert overlay.colormap == "viridis"
    assert tuple(overlay.heat_item.lut[-1]) == (253, 231, 37, 255)
    controls.contour_check.setChecked(True)
    assert all(curve.data is not None for curve in overlay.contours)
    controls.contour_check.setChecked(False)
    assert all(curve.data is None for curve in overlay.contours)
    explained.state.update_explain(opacity=0.3)  # the state drives the widgets too
    assert controls.opacity_slider.value() == 30
    controls.show_check.setChecked(False)
    assert not overlay.isVisible() and not explained.beside_action.isChecked()
    explained.beside_action.trigger()
    assert overlay.isVisible() and controls.show_check.isChecked()


def test_grid_paints_overlays_when_asked(explained, qtbot):
    grid_model = explained.grid.grid_model
    cell = grid_model.cell_at_position(3)
    assert grid_model.data(cell, HeatRole) is None
    explained.grid_overlay_action.trigger()
    assert explained.state.explain.grid
    qtbot.waitUntil(lambda: grid_model.data(cell, HeatRole) is not None, timeout=20000)
    image, opacity = grid_model.data(cell, HeatRole)
    assert image.width() == SHAPE[1] and opacity == explained.state.explain.opacity
    explained.state.update_explain(grid=False)
    assert grid_model.data(cell, HeatRole) is None


def test_explanation_sheet_is_shown_and_saved(explained, qtbot, tmp_path):
    # (The untrained tiny model is rarely confident: the groups may be empty; the sheet says so.)
    assert explained.explaining.make_sheet()
    qtbot.waitUntil(lambda: explained.explaining.sheet_dialog is not None, timeout=30000)
    dialog = explained.explaining.sheet_dialog
    path = dialog.save(tmp_path / "sheet.png")
    with Image.open(path) as image:
        assert image.size == (dialog.sheet.shape[1], dialog.sheet.shape[0])
    assert "Explanation sheet of small.npz" in explained.statusBar().currentMessage()
    assert dialog.windowTitle().startswith(
        "Explanation sheet of small.npz — "
    )  # named: another may be open by now
    dialog.close()


def test_the_sheet_says_how_many_cutouts_could_not_be_read(window, qtbot, tiny_model, tmp_path):
    """A damaged file of a labelled folder has no score, so is not on the sheet: the status bar says so."""
    from tests.ml.tiny_models import blob_pngs

    folder, labels = blob_pngs(tmp_path / "pngs", damaged=2, n=12)
    rows = "".join(f"c{i:03d}.png,{label}\n" for i, label in enumerate(labels))
    (folder / "labels.csv").write_text("filename,label\n" + rows)
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.open_path(folder)
    qtbot.waitUntil(
        lambda: not window.runner.busy and window.state.scores is not None and window.state.scores.complete,
        timeout=20000,
    )
    assert window.state.scores.unreadable.tolist() == [i == 2 for i in range(12)]
    assert window.explaining.make_sheet()
    qtbot.waitUntil(lambda: window.explaining.sheet_dialog is not None, timeout=30000)
    message = window.statusBar().currentMessage()
    assert message.startswith("Explanation sheet of pngs: ")
    assert message.endswith("; 1 cutout could not be read and is not on it"), message
    window.explaining.sheet_dialog.close()


def test_sheet_needs_scores_and_labels(window, qtbot, tiny_model, tmp_path):
    def refused(expected: str) -> None:
        assert not window.explaining.make_sheet()
        assert expected in window.statusBar().currentMessage()
        assert not window.runner.busy and window.explaining.sheet_dialog is None

    refused("needs a collection and a model")
    window.scoring.auto_limit = 0  # nothing is scored on opening
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    unlabelled = tmp_path / "unlabelled.npz"
    np.savez(unlabelled, images=np.zeros((10, *SHAPE), np.uint8))
    window.open_path(unlabelled)
    refused("needs labelled cutouts")
    window.open_path(_npz(tmp_path / "labelled.npz", n=10))
    refused("Score the whole collection first")
    window.scoring.batch_size = 4
    assert window.scoring.score()
    qtbot.waitUntil(lambda: not window.runner.busy and window.state.scores.complete, timeout=20000)
    assert window.explaining.make_sheet()  # everything it needs is there: it starts
    qtbot.waitUntil(lambda: window.explaining.sheet_dialog is not None, timeout=30000)
    window.explaining.sheet_dialog.close()


def test_a_model_that_does_not_fit_reports_and_the_app_keeps_running(window, qtbot, tiny_model, tmp_path):
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.open_path(_npz(tmp_path / "big.npz", n=6, shape=(24, 24, 3)))  # the model takes 16×16
    overlay = window.detail.overlay
    qtbot.waitUntil(lambda: overlay.caption.text().startswith("No heat map"), timeout=20000)
    assert overlay.heat is None
    window.state.set_current(3)  # nothing is queued again, nothing breaks
    assert overlay.caption.text().startswith("No heat map")
    # The pane collapses to one line under the cutout instead of repeating the plain cutout.
    assert not overlay.isVisibleTo(window) and window.detail.note.isVisibleTo(window)
    assert window.detail.note.text().startswith("No heat map: ") and "16×16" in window.detail.note.text()


def test_the_sheet_judges_by_the_current_labels(explained, qtbot, monkeypatch):
    import galview.ml.jobs as jobs

    given = []

    def fake_job(loaded, collection, probs, labels, settings, display, on_progress, cancel):
        given.append(labels)
        return np.zeros((8, 8, 3), np.uint8), {"TP": np.array([], int)}

    monkeypatch.setattr(jobs, "render_sheet", fake_job)
    explained.labelling.label(1, indices=list(range(0, N, 2)))  # every artifact of the file → LSBG
    assert explained.explaining.make_sheet()
    qtbot.waitUntil(lambda: explained.explaining.sheet_dialog is not None, timeout=30000)
    assert (given[0] == 1).all()  # the relabelled labels, not the file's alternating 0/1
    explained.explaining.sheet_dialog.close()


def test_a_map_without_positive_evidence_says_so(explained, qtbot, monkeypatch):
    """An all-zero Grad-CAM (no channel raises the class score) is captioned, not shown as a blank map."""
    from galview.qt.explaining import NO_EVIDENCE

    _wait_heat(qtbot, explained, 0)
    controller = explained.explaining
    overlay = explained.detail.overlay
    assert NO_EVIDENCE not in overlay.caption.text()
    monkeypatch.setattr(
        controller.heatmaps, "get", lambda index, request=True: np.zeros(SHAPE[:2], np.float32)
    )
    controller.show_current(0)
    assert NO_EVIDENCE in overlay.caption.text()


def test_maps_computed_for_a_collection_left_meanwhile_are_not_shown_on_the_next(explained, qtbot, tmp_path):
    """The worker's maps reach the window queued: those of the collection just closed must not be
    taken for the same cutout numbers of the next one (same model, same method: same key before)."""
    import time

    cache = explained.explaining.heatmaps
    qtbot.waitUntil(cache.idle, timeout=20000)
    explained.state.set_current(40)
    cache.request(list(range(40, 48)))
    deadline = time.monotonic() + 20
    while not cache.idle() and time.monotonic() < deadline:  # no event processing: results stay queued
        time.sleep(0.01)
    explained.open_path(_npz(tmp_path / "other.npz", seed=9))
    qtbot.wait(300)  # the old collection's maps arrive now
    assert all(cache.get(i, request=False) is None for i in range(40, 48))
    heat = _wait_heat(qtbot, explained, explained.state.current)
    np.testing.assert_allclose(heat, _expected(explained, explained.state.current), atol=1 / 255 + 1e-6)


def test_a_damaged_image_in_a_folder_gets_no_map_and_the_others_still_do(window, qtbot, tiny_model, tmp_path):
    from galview.qt.explaining import PREFETCH
    from tests.ml.tiny_models import blob_pngs

    folder, _ = blob_pngs(tmp_path / "pngs", damaged=3)
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.open_path(folder)
    cache = window.explaining.heatmaps
    _wait_heat(qtbot, window, 0)
    qtbot.waitUntil(cache.idle, timeout=20000)
    assert cache.error is None and PREFETCH >= 3
    assert cache.get(3, request=False) is None
    assert all(cache.get(i, request=False) is not None for i in range(1, PREFETCH + 1) if i != 3)
    cache.request([3])  # known unreadable: not asked for again
    assert cache.idle()
    window.state.set_current(20)  # further on: maps keep coming
    np.testing.assert_allclose(_wait_heat(qtbot, window, 20), _expected(window, 20), atol=1 / 255 + 1e-6)


def test_the_sheet_window_fits_the_screen_and_a_failed_save_is_said(qtbot, tmp_path, monkeypatch):
    """A tall sheet opened a 900-px window whatever the screen; a save that failed was written into the
    window's title bar, where nobody looks."""
    from PyQt6.QtWidgets import QFileDialog, QMessageBox

    from galview.qt.sheet_dialog import SheetDialog

    dialog = SheetDialog(np.zeros((3000, 700, 3), np.uint8), "sheet")
    qtbot.addWidget(dialog)
    room = dialog.screen().availableGeometry()
    assert dialog.height() <= room.height() and dialog.width() <= room.width()
    assert dialog.height() >= room.height() * 0.8 or dialog.height() == 900  # as tall as it sensibly can be
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: said.append(text))
    target = tmp_path / "missing" / "sheet.png"  # its folder does not exist: the PNG cannot be written
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), "PNG (*.png)"))
    dialog._ask_save()
    assert said and str(target) in said[0]
    assert dialog.windowTitle() == "sheet"
