"""The window's model and scoring logic: load a model, score the collection in the background.

:class:`ScoringController` turns menu actions into jobs on the window's :class:`JobRunner` and job
results into :class:`ViewerState` changes. Scores (and, for collections that fit
:data:`EMBEDDING_BUDGET`, the embeddings of the same forward pass) stream into the state batch by
batch; the display order (which may sort by them) is recomputed at most :data:`ORDER_REFRESH_MS`
apart. When a scoring job ends, the state keeps its scores per (collection, model version), so a
model switched back to, or a collection opened again, needs no rescoring.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from galview.core import words
from galview.core.errors import CollectionError
from galview.core.model_names import model_name
from galview.core.scores import Scores
from galview.core.words import count
from galview.ml.errors import ModelError
from galview.qt.workers import CANCELLED, DONE, JobRunner

logger = logging.getLogger(__name__)

#: Collections up to this size are scored as soon as they are opened (with a model active).
AUTO_SCORE_LIMIT = 20_000
SCORE_BATCH = 256
ORDER_REFRESH_MS = 200
#: Embeddings are kept beside the scores while they take at most this many bytes (N × D × 4).
EMBEDDING_BUDGET = 256 * 2**20
LOADING, SCORING = "load_model", "score"


class ScoringController(QObject):
    """Loads models and scores the state's collection with the window's :class:`JobRunner`.

    Signals
    -------
    message(str)
        A status-bar message.
    error(str)
        Something the user must be told (bad model file, unreadable cutouts).
    refused(str)
        The model refused the collection's cutouts (another size, other bands): the window may
        offer an adapter (:mod:`galview.qt.adapting`) before it shows the message.
    """

    message = pyqtSignal(str)
    error = pyqtSignal(str)
    refused = pyqtSignal(str)

    def __init__(self, state, runner: JobRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.runner = runner
        self.batch_size = SCORE_BATCH
        self.auto_limit = AUTO_SCORE_LIMIT
        self.embedding_budget = EMBEDDING_BUDGET
        self.last_duration_s: float | None = None
        self._auto_tried: set[str] = set()  # model versions auto-scoring was tried for, this collection
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(ORDER_REFRESH_MS)
        self._refresh_timer.timeout.connect(self._refresh_order)
        self._stale_job = None  # a scoring job whose collection was replaced: its errors do not matter
        state.collection_changed.connect(self._on_collection)
        state.model_changed.connect(self._on_model)
        self.runner.finished.connect(self._on_job_finished)

    # -- models ---------------------------------------------------------------------------
    def load_model(self, path: str | Path) -> bool:
        """Open a model file in the background; it becomes active when loaded."""
        job = self.runner.start(
            LOADING, Path(path), on_returned=self.state.set_model, on_errored=self._on_error
        )
        if job is None:
            self.message.emit(self.runner.busy_message())
            return False
        self.message.emit(f"Loading model {Path(path).name}…")
        return True

    # -- scoring ----------------------------------------------------------------------------
    def score(self) -> bool:
        """Score every cutout the active model has not scored yet; False if nothing was started."""
        state, model = self.state, self.state.model
        if state.collection is None:
            self.message.emit("Open a collection to score")
            return False
        if model is None:
            self.error.emit("No model is active: choose one in the Model menu")
            return False
        if self.runner.busy:
            self.message.emit(self.runner.busy_message())
            return False
        scores = state.scores
        if scores is None or scores.model_version != model.version:
            scores = self._empty_scores(model)
            state.set_scores(scores)
        todo = np.flatnonzero(scores.todo)
        if todo.size == 0:
            unreadable = int(np.count_nonzero(scores.unreadable))
            note = f" ({count(unreadable, 'cutout')} could not be read)" if unreadable else ""
            self.message.emit(f"Already scored with {model_name(model)}{note}")
            return False
        collection = state.collection
        self.runner.start(
            SCORING,
            model,
            collection,
            todo,
            self.batch_size,
            on_progress=lambda progress: self._on_rows(progress, collection),
            on_returned=self._on_scored,
            on_errored=self._on_score_error,
        )
        self.message.emit(f"Scoring {count(todo.size, 'cutout')} with {model_name(model)}…")
        return True

    def cancel(self) -> None:
        self.runner.cancel()

    def stop_scoring(self, timeout_s: float = 30.0) -> None:
        """Cancel a scoring job and wait for it (call before the collection is closed)."""
        job = self.runner.job
        if job is not None and job.name == SCORING:
            job.cancel()
            job.wait(int(timeout_s * 1000))

    def shutdown(self) -> None:
        """Cancel whatever runs and wait for it: the window is closing."""
        self._refresh_timer.stop()
        self.runner.cancel()
        self.runner.wait()

    def _empty_scores(self, model) -> Scores:
        return Scores.for_model(model, self.state.n)

    # -- automatic scoring ----------------------------------------------------------------
    def _maybe_autoscore(self) -> None:
        state, model = self.state, self.state.model
        if state.collection is None or model is None or self.runner.busy:
            return
        if model.version in self._auto_tried:
            return
        self._auto_tried.add(model.version)
        scores = state.scores
        if scores is not None and scores.model_version == model.version and scores.complete:
            return
        if state.n > self.auto_limit:
            self.message.emit(
                f"{count(state.n, 'cutout')}: not scored automatically (more than {self.auto_limit:,}). "
                "Press Model ▸ Score collection (Ctrl+R) to score them."
            )
            return
        self.score()

    def _on_collection(self, _collection) -> None:
        job = self.runner.job
        if job is not None and job.name == SCORING:  # normally stopped already (MainWindow.open_path)
            job.cancel()
            self._stale_job = job
        self._auto_tried.clear()
        self._refresh_timer.stop()
        self._maybe_autoscore()

    def _on_model(self, _model) -> None:
        self._maybe_autoscore()

    # -- job results (GUI thread) -----------------------------------------------------------
    def _on_rows(self, progress, collection) -> None:
        """A batch of scores for ``collection``; dropped if another collection was opened since (its
        rows arrive queued after the switch, and the same model's scores of the new one must not take them)."""
        rows = progress.payload
        if rows is None or collection is not self.state.collection:
            return
        scores = self.state.scores
        if (
            scores is not None
            and scores.embeddings is None
            and scores.model_version == rows.model_version
            and len(scores) * rows.embeddings.shape[1] * 4 <= self.embedding_budget
        ):
            scores.embeddings = np.full((len(scores), rows.embeddings.shape[1]), np.nan, np.float32)
        if self.state.update_scores(
            rows.indices, rows.probs, rows.model_version, rows.embeddings, refresh=False
        ):
            if not self.state.sorting.identity and not self._refresh_timer.isActive():
                self._refresh_timer.start()

    def _refresh_order(self) -> None:
        """Re-sort by the scores so far; the next re-sort waits at least five times as long as this one.

        (Sorting a million cutouts takes about 0.2 s: the GUI thread stays free 5/6 of the time.)
        """
        started = time.perf_counter()
        self.state.refresh_order()
        took_ms = (time.perf_counter() - started) * 1000
        self._refresh_timer.setInterval(max(ORDER_REFRESH_MS, int(5 * took_ms)))

    def _on_scored(self, result) -> None:
        count, seconds, unreadable = result
        self.last_duration_s = seconds
        from galview.ml.adapt import adapter_note  # what the physical adapter did, if anything

        note = adapter_note(self.state.model, self.state.collection)
        text = f"Scored {words.count(count - len(unreadable), 'cutout')} in {seconds:.1f} s"
        if unreadable:
            self.error.emit(words.unreadable_cutouts(unreadable))
        self.message.emit(text + (f"; adapter: {note}" if note else ""))

    def _on_error(self, exc: Exception) -> None:
        if self._stale_job is not None and self.runner.job is self._stale_job:
            return
        if isinstance(exc, (ModelError, CollectionError)):
            self.error.emit(str(exc))
        else:  # a bug or an unexpected library error: say what it was (the log has the traceback)
            self.error.emit(f"{type(exc).__name__}: {exc}")

    def _on_score_error(self, exc: Exception) -> None:
        stale = self._stale_job is not None and self.runner.job is self._stale_job
        if isinstance(exc, ModelError) and not stale:
            self.refused.emit(str(exc))
        else:
            self._on_error(exc)

    def _on_job_finished(self, name: str, outcome: str) -> None:
        stale, self._stale_job = self._stale_job, None
        if name == SCORING and stale is None:
            self._refresh_timer.stop()
            self._refresh_order()
            self.state.keep_scores()
            if outcome == CANCELLED and self.state.scores is not None:
                s = self.state.scores
                self.message.emit(f"Scoring cancelled: {s.n_scored:,} of {len(s):,} cutouts scored")
        elif name == LOADING and outcome == DONE and self.state.model is not None:
            model = self.state.model
            problem = getattr(model, "explain_problem", None)
            self.message.emit(
                f"Model {model_name(model)} is active"
                + (f"; heat maps unavailable: {problem}" if problem else "")
            )
        self._maybe_autoscore()
