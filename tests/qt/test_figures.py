"""Figures saved from the window are drawn by a job, not in the window's thread; a failure is said."""

from __future__ import annotations

import threading

from tests.qt.conftest import random_npz


def test_the_grid_figure_is_drawn_outside_the_windows_thread(window, qtbot, tmp_path, monkeypatch):
    from galview.io import writers
    from galview.qt.grid_export import save_figure

    assert window.open_path(random_npz(tmp_path / "c.npz", 20))
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)
    drawn_in, real = [], writers.write_png

    def recorded(image, path):
        drawn_in.append(threading.current_thread() is threading.main_thread())
        return real(image, path)

    monkeypatch.setattr(writers, "write_png", recorded)
    out = tmp_path / "grid.png"
    assert save_figure(window, out, list(range(12)))
    assert window.statusBar().currentMessage() == f"Drawing 12 cutouts for {out}…"
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("A figure of 12"), timeout=10000)
    assert drawn_in == [False] and out.is_file()


def test_a_figure_that_cannot_be_written_is_said_naming_the_file(window, qtbot, tmp_path, monkeypatch):
    from galview.io import writers
    from galview.qt.grid_export import save_figure

    assert window.open_path(random_npz(tmp_path / "c.npz", 20))
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30000)

    def disk_full(image, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers, "write_png", disk_full)
    out = tmp_path / "grid.png"
    assert save_figure(window, out, [0, 1, 2])
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10000)
    assert window.last_error == f"{out}: cannot be written (No space left on device)"
