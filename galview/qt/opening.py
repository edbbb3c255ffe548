"""Opening a collection in a thread, so that the window stays usable while the files are read.

:class:`BackgroundOpener` runs job ``"open"`` (:func:`galview.io.opening.open_for_viewing`) in its
own :class:`~galview.qt.workers.JobThread`, beside whatever job the runner has (a retraining need not
end before another collection can be opened). Only the newest opening counts: a collection that
arrives after another was asked for, or after the window began closing, is closed unseen.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal

from galview.core.errors import UserFacingError
from galview.jobs import get_job
from galview.qt.workers import JobThread


class BackgroundOpener(QObject):
    """Opens collections off the GUI thread, one at a time (the newest request wins).

    Signals
    -------
    opened(str, object)
        The path asked for and the open collection (the receiver owns it).
    failed(str)
        The one-line reason it could not be opened.
    """

    opened = pyqtSignal(str, object)
    failed = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._newest: JobThread | None = None
        self._threads: list[JobThread] = []
        self._closing = False

    @property
    def busy(self) -> bool:
        """Whether an opening is under way."""
        return self._newest is not None

    def open(self, path: str | Path, open_options: dict | None = None, class_names=None) -> None:
        """Start opening ``path``; an opening still under way is superseded."""
        thread = JobThread(get_job("open"), (str(path), open_options, class_names), {}, self)
        self._newest = thread
        self._threads.append(thread)
        thread.returned.connect(lambda collection, t=thread: self._arrived(t, str(path), collection))
        thread.errored.connect(lambda exc, t=thread: self._went_wrong(t, str(path), exc))
        thread.finished.connect(lambda t=thread: self._ended(t))
        thread.start()

    def supersede(self) -> None:
        """Forget the opening under way (a collection opened otherwise comes after it): what it
        opens is closed unseen."""
        self._newest = None

    def shutdown(self) -> None:
        """Wait for the threads (an HDF5 file's first look ends within its time limit); what they
        open from now on is closed."""
        self._closing = True
        self._newest = None
        for thread in list(self._threads):
            thread.wait()

    def _arrived(self, thread: JobThread, path: str, collection) -> None:
        if thread is not self._newest or self._closing:
            collection.close()
            return
        self._newest = None
        self.opened.emit(path, collection)

    def _went_wrong(self, thread: JobThread, path: str, exc: BaseException) -> None:
        if thread is not self._newest or self._closing:
            return
        self._newest = None
        if isinstance(exc, UserFacingError):
            self.failed.emit(str(exc))
        else:  # logged with its traceback by the thread
            self.failed.emit(f"{path}: could not be opened ({type(exc).__name__}: {exc})")

    def _ended(self, thread: JobThread) -> None:
        if thread in self._threads:
            self._threads.remove(thread)
        thread.deleteLater()
