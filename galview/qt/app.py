"""Start the application: QApplication, error hook, main window, optional screenshot."""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QIcon
from PyQt6.QtWidgets import QApplication, QMessageBox

from galview.assets import resource_path
from galview.core.logs import FILE_ONLY, ensure_logging

logger = logging.getLogger(__name__)

SCREENSHOT_TIMEOUT_S = 60.0  # loading TensorFlow and scoring may come first
APP_ICON = "galview.png"  # rendered from resources/galview.svg by tools/render_icon.py
_APP: QApplication | None = None


def make_app() -> QApplication:
    """The QApplication (created once) with pyqtgraph configured for row-major images."""
    import pyqtgraph as pg

    from galview.core.display import warm_up

    warm_up()

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    global _APP
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("GalView")
    app.setDesktopFileName("galview")  # resources/galview.desktop, once installed
    app.setWindowIcon(app_icon())
    _APP = app  # a QApplication that is garbage-collected takes every widget down with it
    return app


def app_icon() -> QIcon:
    """GalView's icon (every window shows it), from the shipped resources; empty if they are missing."""
    try:
        return QIcon(str(resource_path(APP_ICON)))
    except FileNotFoundError:
        logger.warning("no application icon", exc_info=True)
        return QIcon()


class ErrorRelay(QObject):
    """Carries unexpected errors from any thread to the GUI thread, where the dialog is shown.

    A dialog built in a worker thread is never shown (and can hang the application): hooks call
    :meth:`report` from wherever the error happened; the queued signal runs :meth:`_show` on the
    thread that owns this object, the GUI thread.
    """

    raised = pyqtSignal(str, str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.raised.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def report(self, kind, value, tb) -> None:
        # logger.exception needs an active ``except``; a hook gets the exception as arguments.
        logger.error("unexpected error in the window", exc_info=(kind, value, tb))
        self.raised.emit(f"{kind.__name__}: {value}", "".join(traceback.format_exception(kind, value, tb)))

    def _show(self, message: str, details: str) -> None:
        self.window.last_error = message
        box = QMessageBox(
            QMessageBox.Icon.Critical, "GalView — unexpected error", message, parent=self.window
        )
        box.setDetailedText(details)
        box.open()


def install_excepthook(window) -> ErrorRelay:
    """Log unexpected errors with their traceback and show them in a dialog on the GUI thread instead of
    letting them end the application: errors of the GUI thread (``sys.excepthook``) and of Python threads
    (``threading.excepthook``) alike."""
    relay = ErrorRelay(window)
    sys.excepthook = relay.report
    threading.excepthook = lambda args: relay.report(args.exc_type, args.exc_value, args.exc_traceback)
    window.error_relay = relay
    return relay


def thumbnails_ready(window) -> bool:
    """True once the grid cells on screen have their thumbnails (or failed to render)."""
    grid = window.grid
    model = grid.grid_model
    if model.count() == 0:
        return True
    first = max(0, grid.rowAt(0))
    last = grid.rowAt(grid.viewport().height() - 1)
    last = model.rowCount() - 1 if last < 0 else last
    for row in range(first, last + 1):
        for column in range(model.columns):
            cutout = model.cutout_at_position(row * model.columns + column)
            if cutout < 0:
                return True
            if model.cache.get(cutout) is None and cutout not in model.cache.errors:
                return False
    return True


def window_ready(window) -> bool:
    """True once thumbnails are drawn, no model job (loading, scoring) runs, the histogram is current,
    no heat map is being computed and no other collection waits to be shown beside the cutouts."""
    return (
        not window.runner.busy
        and window.counterparts.pending is None
        and not window.histogram.pending
        and window.explaining.heatmaps.idle()
        and thumbnails_ready(window)
    )


def save_screenshot_when_ready(window, path: str, on_done) -> None:
    """Poll until thumbnails and scores are in (or a timeout), then save the window to ``path`` as PNG."""
    started = time.monotonic()

    def poll():
        if window_ready(window) or time.monotonic() - started > SCREENSHOT_TIMEOUT_S:
            window.grid.viewport().repaint()
            window.grab().save(path, "PNG")
            on_done()
        else:
            QTimer.singleShot(50, poll)

    QTimer.singleShot(50, poll)


def run_app(
    paths: list[str],
    open_options: dict | None = None,
    screenshot: str | None = None,
    class_names=None,
    beside: str | None = None,
) -> int:
    """Open the window on ``paths`` and run the event loop; returns the exit status.

    ``beside``: another collection of the same objects, shown beside each cutout of the first path.

    Sets up logging (:func:`galview.core.logs.ensure_logging`) unless the command line has done so.
    """
    ensure_logging()
    logger.info("window opening %s", paths or "no collection")
    app = make_app()
    from galview.qt.window import MainWindow

    window = MainWindow(open_options=open_options, class_names=class_names)
    install_excepthook(window)
    window.show()
    if beside is not None:
        window.counterparts.pair_when_ready(beside)
    # a screenshot waits for the collection; otherwise the window is usable while the files are read
    opened = window.open_paths(paths, background=not screenshot) if paths else True
    if screenshot:
        if opened:  # a failed run writes no picture of an empty window
            save_screenshot_when_ready(window, screenshot, app.quit)
            app.exec()
        window.close()
        if not opened:
            logger.error("%s", window.last_error, extra=FILE_ONLY)
            print(f"galview: error: {window.last_error}", file=sys.stderr)
        status = 0 if opened else 2
    else:
        status = app.exec()
    _tear_down(app, window)
    return status


def _tear_down(app, window) -> None:
    """Delete the window and its objects now, while Qt runs, and not in PyQt's exit clean-up.

    That clean-up walks every remaining wrapper after the interpreter starts to finalise; with worker
    threads' objects among them it crashed now and then (SIGSEGV in ``cleanup_on_exit``).
    """
    import gc

    from PyQt6.QtCore import QCoreApplication, QEvent

    window.close()  # waits for its jobs to end
    app.processEvents()  # their last signals (a job's end) reach objects still alive
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    app.processEvents()
    gc.collect()
