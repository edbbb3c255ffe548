"""A background thread that serves queued cutout indices newest first, in small batches.

The grid's thumbnails and the heat maps both work this way: the widgets ask for what is on screen
(cheap, from the GUI thread), the thread takes the most recent requests first, so the cells on
screen win over those scrolled past, and a new job (other collection, settings or model) drops the
queue.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from PyQt6.QtCore import QObject, QThread, pyqtSignal

logger = logging.getLogger(__name__)


class NewestFirstThread(QThread):
    """Subclasses implement :meth:`process` ``(job, indices)``; ``job`` is what :meth:`set_job` gave.

    An exception :meth:`process` lets out does not end the thread or the application (PyQt aborts on
    an exception escaping ``run``): it is logged and sent as ``crashed(message)``, a queued signal
    whose slots run on the GUI thread; the thread goes on with the next batch.
    """

    crashed = pyqtSignal(str)

    def __init__(self, batch: int, max_pending: int, parent: QObject | None = None):
        super().__init__(parent)
        self.batch, self.max_pending = batch, max_pending
        self._cond = threading.Condition()
        self._pending: OrderedDict[int, None] = OrderedDict()
        self._job: tuple = ()
        self._stopping = False
        self._busy = False

    def set_job(self, *job) -> None:
        """Work for ``job`` from now on; drops queued requests."""
        with self._cond:
            self._job = job
            self._pending.clear()

    def request(self, indices) -> None:
        """Queue cutout indices; the last one given is served first."""
        with self._cond:
            for index in indices:
                self._pending.pop(int(index), None)
                self._pending[int(index)] = None
            while len(self._pending) > self.max_pending:
                self._pending.popitem(last=False)
            self._cond.notify()

    def drop_pending(self, job) -> None:
        """Forget queued requests if ``job`` is still the current one."""
        with self._cond:
            if self._job == job:
                self._pending.clear()

    def idle(self) -> bool:
        with self._cond:
            return not self._pending and not self._busy

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self.wait(10000)

    def _take_batch(self):
        with self._cond:
            while not self._pending and not self._stopping:
                self._busy = False
                self._cond.wait()
            if self._stopping:
                return None
            count = min(self.batch, len(self._pending))
            indices = [self._pending.popitem(last=True)[0] for _ in range(count)]
            self._busy = True
            return self._job, indices

    def run(self) -> None:
        while True:
            taken = self._take_batch()
            if taken is None:
                return
            try:
                self.process(*taken)
            except Exception as exc:  # noqa: BLE001 - reported on the GUI thread, the thread goes on
                logger.error(
                    "%s failed on %d cutouts: %s", type(self).__name__, len(taken[1]), exc, exc_info=True
                )
                self.crashed.emit(f"{type(exc).__name__}: {exc}")

    def process(self, job: tuple, indices: list[int]) -> None:
        raise NotImplementedError
