"""A short read off the GUI thread, its result back on it: the newest call wins.

For file work a controller needs when something changes (the photometry kept for a collection that was
just opened): not a job of the window's one runner, which would make the user's next job wait or be
refused, and not worth a progress bar. The result of a call superseded by a newer one is dropped, so a
quick switch between collections never shows the first one's result for the second.
"""

from __future__ import annotations

import logging

from PyQt6.QtCore import QObject, QThread, pyqtSignal

logger = logging.getLogger(__name__)


class _CallThread(QThread):
    returned = pyqtSignal(object)
    errored = pyqtSignal(object)

    def __init__(self, function, args, parent: QObject | None = None):
        super().__init__(parent)
        self._call = (function, args)

    def run(self) -> None:
        function, args = self._call
        try:
            result = function(*args)
        except Exception as exc:  # noqa: BLE001 -- handed to the caller on the GUI thread, never fatal
            logger.warning("%s failed in the background: %s", getattr(function, "__name__", function), exc)
            self.errored.emit(exc)
        else:
            self.returned.emit(result)


class BackgroundCall(QObject):
    """Calls a function in a thread of its own; ``on_returned`` or ``on_errored`` run on the GUI thread,
    for the newest call only (:meth:`forget` drops the one under way too)."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._newest: _CallThread | None = None
        self._threads: list[_CallThread] = []

    @property
    def busy(self) -> bool:
        """Whether the newest call has not answered yet."""
        return self._newest is not None

    def call(self, function, *args, on_returned, on_errored) -> None:
        """Start ``function(*args)``; a call still under way is superseded (its result dropped)."""
        thread = _CallThread(function, args, self)
        self._newest = thread
        self._threads.append(thread)
        thread.returned.connect(lambda result, t=thread: self._answer(t, on_returned, result))
        thread.errored.connect(lambda exc, t=thread: self._answer(t, on_errored, exc))
        thread.finished.connect(lambda t=thread: self._ended(t))
        thread.start()

    def forget(self) -> None:
        """Drop the result of the call under way, if any."""
        self._newest = None

    def shutdown(self) -> None:
        """Drop every result and wait for the threads (a window closing)."""
        self._newest = None
        for thread in list(self._threads):
            thread.wait()

    def _answer(self, thread: _CallThread, slot, value) -> None:
        if thread is self._newest:
            self._newest = None
            slot(value)

    def _ended(self, thread: _CallThread) -> None:
        if thread in self._threads:
            self._threads.remove(thread)
        thread.deleteLater()
