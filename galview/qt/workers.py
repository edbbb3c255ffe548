"""Run long jobs (model loading, scoring) in a thread, one at a time, with results on the GUI thread.

:class:`JobThread` runs a plain function or generator from ``core``/``ml`` that takes a
:class:`~galview.core.jobs.CancelToken` as ``cancel``; its signals are emitted from the worker
thread and, being queued, run their slots on the GUI thread. :class:`JobRunner` keeps at most
one job alive and says so through its own signals (for the status bar).
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QObject, QThread, pyqtSignal

from galview.core.jobs import Cancelled, CancelToken, Progress

#: How a job ended, as passed to ``JobRunner.finished``.
DONE, CANCELLED, FAILED = "done", "cancelled", "failed"


class JobThread(QThread):
    """Runs ``func(*args, cancel=token, **kwargs)``; a generator's items come out one by one.

    Signals
    -------
    yielded(object)
        Each item a generator job yields.
    progressed(Progress)
        The ``progress`` attribute of an item, when it has one.
    returned(object)
        The function's (or generator's) return value.
    errored(object)
        The exception that ended the job (never :class:`Cancelled`).
    """

    yielded = pyqtSignal(object)
    progressed = pyqtSignal(object)
    returned = pyqtSignal(object)
    errored = pyqtSignal(object)

    def __init__(self, name: str, func, *args, parent: QObject | None = None, **kwargs):
        super().__init__(parent)
        self.name = name
        self.token = CancelToken()
        self.outcome: str | None = None
        self._call = (func, args, kwargs)

    def cancel(self) -> None:
        """Ask the job to stop at its next step (after the current batch)."""
        self.token.cancel()

    def run(self) -> None:
        func, args, kwargs = self._call
        try:
            result = func(*args, cancel=self.token, **kwargs)
            if inspect.isgenerator(result):
                result = self._drain(result)
        except Cancelled:
            self.outcome = CANCELLED
        except Exception as exc:  # noqa: BLE001 -- every failure is reported, none kills the app
            self.outcome = FAILED
            self.errored.emit(exc)
        else:
            self.outcome = DONE
            self.returned.emit(result)

    def _drain(self, generator):
        try:
            while True:
                self.token.raise_if_cancelled()
                item = next(generator)
                self.yielded.emit(item)
                progress = getattr(item, "progress", None)
                if isinstance(progress, Progress):
                    self.progressed.emit(progress)
        except StopIteration as stop:
            return stop.value
        finally:
            generator.close()


class JobRunner(QObject):
    """Keeps at most one :class:`JobThread` running (GalView runs one ML job at a time).

    Signals
    -------
    started(str)
        Name of the job that started.
    progressed(Progress)
    finished(str, str)
        Name of the job and how it ended: ``"done"``, ``"cancelled"`` or ``"failed"``.
    """

    started = pyqtSignal(str)
    progressed = pyqtSignal(object)
    finished = pyqtSignal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.job: JobThread | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None

    def busy_message(self) -> str:
        """What to tell the user who asks for a job while another runs."""
        name = self.job.name.lower() if self.job is not None else "another job"
        return f"Busy ({name}): try again when it has finished"

    def start(self, name: str, func, *args, on_yielded=None, on_returned=None, on_errored=None, **kwargs):
        """Start ``func`` in a thread unless a job is running; returns the JobThread or None."""
        if self.job is not None:
            return None
        job = JobThread(name, func, *args, parent=self, **kwargs)
        for signal, slot in (
            (job.yielded, on_yielded),
            (job.returned, on_returned),
            (job.errored, on_errored),
        ):
            if slot is not None:
                signal.connect(slot)
        job.progressed.connect(self.progressed)
        job.finished.connect(lambda: self._on_finished(job))
        self.job = job
        job.start()
        self.started.emit(name)
        return job

    def cancel(self) -> None:
        if self.job is not None:
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


@dataclass
class ScoredRows:
    """Model outputs ``probs`` (B, K) for cutouts ``indices`` (B,) of a scoring job."""

    indices: np.ndarray
    probs: np.ndarray
    model_version: str
    progress: Progress


def scoring_job(loaded, collection, indices: np.ndarray, batch_size: int, cancel: CancelToken):
    """Score cutouts ``indices`` of ``collection``: yields :class:`ScoredRows`, returns (count, seconds).

    Runs :func:`galview.ml.scoring.score_batches`, which reads the next batch in its own thread
    while the model works on this one.
    """
    from galview.ml.scoring import score_batches

    started = time.monotonic()
    indices = np.asarray(indices, dtype=np.int64)
    for batch in score_batches(loaded, collection, batch_size, indices=indices, cancel=cancel):
        stop = batch.start + len(batch.probs)
        progress = Progress(stop, len(indices), "scoring")
        yield ScoredRows(indices[batch.start : stop], batch.probs, loaded.version, progress)
    return len(indices), time.monotonic() - started


def load_model_job(path, cancel: CancelToken):
    """Open a model file (imports Keras on first use, hence a thread); returns a LoadedModel."""
    from galview.ml.loading import load_model

    loaded = load_model(path)
    _ = loaded.version  # hash the files here, not on the GUI thread
    try:
        from galview.ml.gradcam import warm_up

        warm_up(loaded)  # trace the heat-map function here, not while the user waits for a map
    except Exception:  # noqa: BLE001 - a model Grad-CAM cannot explain still loads; the panel says why
        pass
    return loaded
