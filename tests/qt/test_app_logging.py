"""The window's error hook logs unexpected exceptions with their traceback and shows them in a dialog."""

from __future__ import annotations

import sys
import threading


def test_unexpected_error_is_logged_and_shown(window, qtbot, monkeypatch, capsys):
    from PyQt6.QtWidgets import QMessageBox

    from galview.core.logs import ensure_logging, log_path
    from galview.qt.app import install_excepthook

    ensure_logging()
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    install_excepthook(window)
    try:
        raise ValueError("a bug in a slot")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: window.last_error == "ValueError: a bug in a slot", timeout=5000)
    text = log_path().read_text()
    assert "unexpected error in the window" in text and "Traceback" in text
    assert "ValueError: a bug in a slot" in text
    assert "Traceback" in capsys.readouterr().err
    (box,) = window.findChildren(QMessageBox)
    assert "a bug in a slot" in box.detailedText()
    box.close()


def test_an_error_in_a_worker_thread_is_shown_from_the_gui_thread(window, qtbot, monkeypatch):
    """A dialog made in a worker thread is never shown (and can hang the app): the error travels to the
    GUI thread first."""
    from PyQt6.QtWidgets import QApplication, QMessageBox

    from galview.qt.app import install_excepthook

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    install_excepthook(window)

    def fails():
        raise RuntimeError("raised in a worker")

    worker = threading.Thread(target=fails)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: window.last_error == "RuntimeError: raised in a worker", timeout=5000)
    (box,) = window.findChildren(QMessageBox)
    assert box.thread() is QApplication.instance().thread()
    box.close()


def test_an_unexpected_error_while_drawing_thumbnails_marks_the_cutout_and_the_app_goes_on(
    window, qtbot, monkeypatch
):
    """Readers raise CollectionError for what they know; anything else in the thumbnail thread must not
    abort the application (PyQt aborts on an exception leaving a thread's run)."""
    import numpy as np

    import galview.qt.thumbnails as thumbnails
    from galview.core.collection import ArrayCollection

    real_render = thumbnails.render

    def render(cutout, *args, **kwargs):
        if cutout[0, 0, 0] == 3:  # cutout 3 only
            raise RuntimeError("something no reader expected")
        return real_render(cutout, *args, **kwargs)

    monkeypatch.setattr(thumbnails, "render", render)
    images = np.arange(8, dtype=np.uint8)[:, None, None, None] * np.ones((8, 8, 8, 3), np.uint8)
    window.state.set_collection(ArrayCollection("memory", images, "NHWC"))
    cache = window.grid.grid_model.cache
    qtbot.waitUntil(lambda: 3 in cache.errors and cache.get(2) is not None, timeout=10000)
    assert "RuntimeError" in cache.errors[3]
    window.state.set_current(5)  # the window still works
    assert window.state.current == 5
