"""The window's one job runner: a job from :mod:`galview.jobs` in a thread, results on the GUI thread.

:class:`JobThread` calls the job function with ``on_progress`` and ``cancel`` injected; its signals
are emitted from the worker thread and, being queued, run their slots on the GUI thread.
:class:`JobRunner` runs one job at a time and says so through its own signals (the status bar's
progress bar and Cancel button listen to them). Every failure is logged with its traceback and
handed to the caller's ``on_errored``; none ends the application.
"""

from __future__ import annotations

import logging
import time

from PyQt6.QtCore import QObject, Qt, QThread, pyqtSignal
from PyQt6.QtWidgets import QApplication

from galview.core.errors import UserFacingError
from galview.core.jobs import Cancelled, CancelToken, Progress
from galview.jobs import get_job

logger = logging.getLogger(__name__)

#: How a job ended, as passed to ``JobRunner.finished``.
DONE, CANCELLED, FAILED = "done", "cancelled", "failed"

#: Progress without a payload reaches the GUI at most this often (training reports every batch).
PROGRESS_INTERVAL_S = 0.05


class JobThread(QThread):
    """Runs one job: ``function(*args, on_progress=…, cancel=token, **kwargs)``.

    Signals
    -------
    progressed(Progress)
        A progress report (all that carry a payload, at most 20 a second of the others).
    returned(object)
        The function's return value.
    errored(object)
        The exception that ended the job (never :class:`Cancelled`).
    """

    progressed = pyqtSignal(object)
    returned = pyqtSignal(object)
    errored = pyqtSignal(object)

    def __init__(self, spec, args, kwargs, parent: QObject | None = None):
        super().__init__(parent)
        self.spec = spec
        self.name = spec.name
        self.title = spec.title
        self.token = CancelToken()
        self.outcome: str | None = None
        self.last_progress: Progress | None = None
        self._call = (spec.function, args, kwargs)
        self._last_emit = 0.0

    def cancel(self) -> None:
        """Ask the job to stop at its next step (after the current batch)."""
        self.token.cancel()

    def _report(self, progress: Progress) -> bool:
        """Pass ``progress`` on to the GUI unless it comes too soon after the last; True if passed."""
        now = time.monotonic()
        last = self.last_progress
        changed = last is None or (progress.unit, progress.message) != (last.unit, last.message)
        self.last_progress = progress
        if (
            progress.payload is not None
            or changed
            or progress.done >= progress.total
            or now - self._last_emit >= PROGRESS_INTERVAL_S
        ):
            self._last_emit = now
            self.progressed.emit(progress)
            return True
        return False

    def run(self) -> None:
        function, args, kwargs = self._call
        started = time.monotonic()
        logger.info("job %s started", self.name)
        try:
            result = function()(*args, on_progress=self._report, cancel=self.token, **kwargs)
        except Cancelled:
            self.outcome = CANCELLED
            logger.info("job %s cancelled after %.1f s", self.name, time.monotonic() - started)
        except Exception as exc:  # noqa: BLE001 -- every failure is reported, none kills the app
            self.outcome = FAILED
            if isinstance(exc, UserFacingError):  # a refusal the window explains: a warning, no traceback
                logger.warning("job %s refused: %s", self.name, exc)
            else:
                logger.error("job %s failed: %s", self.name, exc, exc_info=True)
            self.errored.emit(exc)
        else:
            self.outcome = DONE
            logger.info("job %s done in %.1f s", self.name, time.monotonic() - started)
            self.returned.emit(result)


class JobRunner(QObject):
    """Runs at most one :class:`JobThread` (GalView runs one job at a time).

    Signals
    -------
    started(str, str)
        Name and title of the job that started.
    progressed(Progress)
    finished(str, str)
        Name of the job and how it ended: ``"done"``, ``"cancelled"`` or ``"failed"``.
    """

    started = pyqtSignal(str, str)
    progressed = pyqtSignal(object)
    finished = pyqtSignal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.job: JobThread | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None

    def running(self, name: str) -> bool:
        """Whether the job called ``name`` is the one running."""
        return self.job is not None and self.job.name == name

    def busy_message(self) -> str:
        """What to tell the user who asks for a job while another runs."""
        title = self.job.title.lower() if self.job is not None else "another job"
        return f"Busy ({title}): try again when it has finished, or cancel it"

    def start(self, name: str, *args, on_progress=None, on_returned=None, on_errored=None, **kwargs):
        """Start job ``name`` of :data:`galview.jobs.JOBS` unless one is running.

        ``args`` and ``kwargs`` go to the job function; ``on_progress``, ``on_returned`` and
        ``on_errored`` are called on the GUI thread. Returns the JobThread, or None when busy.
        """
        if self.job is not None:
            return None
        job = JobThread(get_job(name), args, kwargs, parent=self)
        for signal, slot in (
            (job.progressed, on_progress),
            (job.returned, on_returned),
            (job.errored, on_errored),
        ):
            if slot is not None:
                signal.connect(slot)
        job.progressed.connect(self.progressed)
        job.finished.connect(lambda: self._on_finished(job))
        self.job = job
        job.start()
        self.started.emit(job.name, job.title)
        return job

    def start_or_run_here(self, name: str, *args, on_returned=None, on_errored=None) -> str:
        """Start job ``name`` as :meth:`start` does, or, while another job runs, run it here in the GUI
        thread under a wait cursor (short file work the user asked for: a label export, another
        inspector's file — better a moment's wait than "busy" until a long scoring ends).

        Returns ``"started"`` or ``"ran here"``; either way ``on_returned`` or ``on_errored`` is called
        (at once when it ran here).
        """
        if self.start(name, *args, on_returned=on_returned, on_errored=on_errored) is not None:
            return "started"
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            result = get_job(name).function()(*args)
        except Exception as exc:  # noqa: BLE001 -- as in a job: reported, never fatal
            if isinstance(exc, UserFacingError):
                logger.warning("%s refused: %s", name, exc)
            else:
                logger.error("%s failed: %s", name, exc, exc_info=True)
            if on_errored is not None:
                on_errored(exc)
        else:
            if on_returned is not None:
                on_returned(result)
        finally:
            QApplication.restoreOverrideCursor()
        return "ran here"

    def cancel(self) -> None:
        if self.job is not None:
            logger.info("cancel asked for job %s", self.job.name)
            self.job.cancel()

    def wait(self, timeout_s: float = 60.0) -> bool:
        """Block until the running job (if any) ends; True if none is left running."""
        job = self.job
        return job is None or job.wait(int(timeout_s * 1000))

    def _on_finished(self, job: JobThread) -> None:
        job.wait()  # ``finished`` is sent just before the thread ends; never delete a running QThread
        if self.job is job:
            self.job = None
        self.finished.emit(job.name, job.outcome or FAILED)
        job.deleteLater()
