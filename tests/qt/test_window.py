"""The main window offscreen: open, navigate, change the display, survive bad input."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt

from tests.qt.conftest import random_npz, wait_thumbnails


def test_opens_real_des_cutouts_and_renders_thumbnails(window, qtbot, shared_data):
    assert window.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")
    collection = window.state.collection
    assert len(collection) == 112
    wait_thumbnails(qtbot, window)
    image = window.cache.get(0)
    assert image is not None and image.width() == 96
    # uint8 RGB is shown as stored: the thumbnail's centre pixel matches the data (up to smoothing).
    assert window.detail.image_item.image.shape == (64, 64, 3)
    np.testing.assert_array_equal(window.detail.image_item.image, collection.get(0))
    assert "112 cutouts" in window.statusBar().currentMessage()


def test_keyboard_navigation_moves_selection(window, qtbot, shared_data):
    window.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")
    grid = window.grid
    grid.setFocus()
    columns = grid.grid_model.columns
    assert columns >= 2
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert window.state.current == 1
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    assert window.state.current == 1 + columns
    qtbot.keyClick(grid, Qt.Key.Key_End)
    assert window.state.current == 111
    qtbot.keyClick(grid, Qt.Key.Key_Home)
    assert window.state.current == 0
    qtbot.keyClick(grid, Qt.Key.Key_PageDown)
    assert window.state.current > columns
    assert window.metadata.fields["Index"].text().startswith(f"{window.state.current} of 112")


def test_right_arrow_wraps_to_next_row(window, qtbot, shared_data):
    window.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")
    columns = window.grid.grid_model.columns
    window.state.set_current(columns - 1)
    window.grid.setFocus()
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    assert window.state.current == columns


def test_changing_stretch_updates_grid_and_detail(window, qtbot, shared_data):
    window.open_path(shared_data / "legacy_dwarfs")
    wait_thumbnails(qtbot, window)
    before_detail = window.detail.image_item.image.copy()
    before_thumb = window.cache.get(0).copy()
    window.controls.stretch_combo.setCurrentText("linear")
    window.controls.interval_combo.setCurrentText("minmax")
    assert window.state.display.stretch == "linear"
    assert window.state.display.interval == "minmax"
    assert not np.array_equal(before_detail, window.detail.image_item.image)
    wait_thumbnails(qtbot, window)
    assert window.cache.get(0) != before_thumb


def test_state_changes_update_controls(window, shared_data):
    window.open_path(shared_data / "legacy_dwarfs")
    window.state.update_display(stretch="log", mode="band", band=2, bin2=True)
    assert window.controls.stretch_combo.currentText() == "log"
    assert window.controls.view_combo.currentText() == "band z"
    assert window.controls.bin_check.isChecked()
    assert window.detail.image_item.image.shape == (128, 128, 3)


def test_band_view_selects_single_band(window, shared_data):
    window.open_path(shared_data / "legacy_dwarfs")
    window.controls.view_combo.setCurrentText("band r")
    assert window.state.display.mode == "band"
    assert window.state.display.band == 1
    image = window.detail.image_item.image
    np.testing.assert_array_equal(image[..., 0], image[..., 1])


def test_pixel_readout_reports_value_and_sky_position(window, shared_data):
    window.open_path(shared_data / "legacy_dwarfs")
    raw = window.state.collection.get(0)
    text = window.detail.readout_at(128.5, 128.5)
    assert f"g={raw[128, 128, 0]:.4g}" in text
    assert "RA=151.70" in text and "Dec=-8.35" in text
    assert window.detail.readout_at(-5, 3) == ""


def test_bad_file_shows_message_and_keeps_current_collection(window, tmp_path, shared_data):
    window.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")
    bad = tmp_path / "broken.npy"
    bad.write_bytes(b"\x93NUMPY garbage")
    assert not window.open_path(bad)
    assert "broken.npy" in window.last_error
    assert len(window.state.collection) == 112


def test_unreadable_cutout_is_marked_not_fatal(window, qtbot, tmp_path):
    images = np.ones((6, 16, 16, 2), dtype=np.float32)
    images[3] = np.nan
    path = tmp_path / "nan.npy"
    np.save(path, images)
    window.open_path(path)
    wait_thumbnails(qtbot, window)
    assert 3 in window.cache.errors and "no finite pixel" in window.cache.errors[3]
    assert window.cache.get(2) is not None
    window.state.set_current(3)
    assert "nan.npy" in window.last_error and "nan.npy" in window.statusBar().currentMessage()
    assert window.detail.caption.text() == "Cutout 3 · 3 · could not be read"
    from PyQt6.QtWidgets import QMessageBox

    assert not [
        w for w in window.findChildren(QMessageBox) if w.isVisible()
    ]  # no dialog in the way of the keys
    window.state.set_current(4)
    assert window.detail.image_item.image is not None


def test_recent_files_and_settings_persist(window, shared_data, isolated_home):
    from galview.qt.window import app_settings

    window.open_path(shared_data / "gz_decals_rings")
    window.open_path(shared_data / "des_lsbg" / "des_lsbg_dev.npz")
    recent = window.recent_files()
    assert recent[0].endswith("des_lsbg_dev.npz") and recent[1].endswith("gz_decals_rings")
    assert [a.text() for a in window.recent_menu.actions()] == recent
    window.dark_action.trigger()
    window.close()
    settings = app_settings()
    assert settings.value("dark_theme", type=bool) is True
    assert str(isolated_home) in settings.fileName()


def test_legacy_viewer_link_needs_coordinates(window, shared_data, monkeypatch):
    from PyQt6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    window.open_path(shared_data / "legacy_dwarfs")
    url = window.open_in_legacy_viewer()
    assert "ra=151.704810" in url and "dec=-8.351460" in url
    assert opened == [url]
    window.open_path(shared_data / "gz_decals_rings")
    assert window.open_in_legacy_viewer() is None
    assert not window.legacy_action.isEnabled()


def test_drop_opens_file(window, qtbot, shared_data):
    from PyQt6.QtCore import QMimeData, QPointF, QUrl
    from PyQt6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(shared_data / "gz_decals_rings"))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.state.collection is not None, timeout=10000)  # read in a thread
    assert len(window.state.collection) == 100


def test_viewing_leaves_the_data_folder_untouched(tmp_path, monkeypatch):
    """Opening a collection (and looking for its label store) writes nothing beside the data."""
    import os
    import subprocess
    import sys

    data = tmp_path / "data"
    data.mkdir()
    path = random_npz(data / "cutouts.npz", 8)
    os.utime(data, (1_000_000_000, 1_000_000_000))
    before = (os.stat(data).st_mtime_ns, sorted(p.name for p in data.iterdir()))
    env = {k: v for k, v in os.environ.items() if k != "GALVIEW_LABEL_STORES"}  # the real store rule
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "galview",
            "view",
            str(path),
            "--offscreen",
            "--screenshot",
            str(tmp_path / "s.png"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (os.stat(data).st_mtime_ns, sorted(p.name for p in data.iterdir())) == before


def test_model_start_with_the_active_model_makes_it_the_default(window, qtbot, tiny_model):
    from galview.assets import chosen_model, shipped_default_path

    assert not window.make_active_the_default()  # no model yet: said, nothing chosen
    assert "No model file" in window.last_error and chosen_model() is None
    window.scoring.load_model(tiny_model)
    qtbot.waitUntil(lambda: window.state.model is not None and not window.runner.busy, timeout=20000)
    window.default_action.trigger()
    assert chosen_model() == tiny_model.resolve()
    window.scoring.load_model(shipped_default_path())  # choosing the shipped model clears the choice
    qtbot.waitUntil(
        lambda: window.state.model is not None and "deepshadows" in str(window.state.model.path),
        timeout=30000,
    )
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)
    assert window.make_active_the_default() and chosen_model() is None
