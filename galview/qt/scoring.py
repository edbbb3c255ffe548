"""The window's model and scoring logic: load a model, score the collection in the background.

:class:`ScoringController` turns menu actions into jobs on a :class:`JobRunner` and job results
into :class:`ViewerState` changes. Scores stream into the state batch by batch; the display
order (which may sort by them) is recomputed at most :data:`ORDER_REFRESH_MS` apart.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from galview.core.errors import CollectionError
from galview.core.scores import Scores
from galview.ml.errors import ModelError
from galview.qt.workers import CANCELLED, DONE, JobRunner, load_model_job, scoring_job

#: Collections up to this size are scored as soon as they are opened (with a model active).
AUTO_SCORE_LIMIT = 20_000
SCORE_BATCH = 256
ORDER_REFRESH_MS = 200
LOADING, SCORING = "Loading model", "Scoring"


def model_name(loaded) -> str:
    """Short display name of a LoadedModel: file stem (folder name for ``model.keras``) and version."""
    path = Path(loaded.path)
    name = path.parent.name if path.stem == "model" and path.parent.name else path.stem
    return f"{name} ({loaded.version[:6]})"


class ScoringController(QObject):
    """Loads models and scores the state's collection with a :class:`JobRunner`.

    Signals
    -------
    message(str)
        A status-bar message.
    error(str)
        Something the user must be told (bad model file, unreadable cutouts).
    """

    message = pyqtSignal(str)
    error = pyqtSignal(str)

    def __init__(self, state, runner: JobRunner | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.runner = runner or JobRunner(self)
        self.batch_size = SCORE_BATCH
        self.auto_limit = AUTO_SCORE_LIMIT
        self.last_duration_s: float | None = None
        self._auto_tried: set[str] = set()  # model versions auto-scoring was tried for, this collection
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(ORDER_REFRESH_MS)
        self._refresh_timer.timeout.connect(self._refresh_order)
        self.refreshing = False  # True while the order follows new scores (the grid keeps its scroll)
        self._stale_job = None  # a scoring job whose collection was replaced: its errors do not matter
        state.collection_changed.connect(self._on_collection)
        state.model_changed.connect(self._on_model)
        self.runner.finished.connect(self._on_job_finished)

    # -- models ---------------------------------------------------------------------------
    def load_model(self, path: str | Path) -> bool:
        """Open a model file in the background; it becomes active when loaded."""
        job = self.runner.start(
            LOADING, load_model_job, Path(path), on_returned=self.state.set_model, on_errored=self._on_error
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
        todo = np.flatnonzero(~scores.scored)
        if todo.size == 0:
            self.message.emit(f"Already scored with {model_name(model)}")
            return False
        self.runner.start(
            SCORING,
            scoring_job,
            model,
            state.collection,
            todo,
            self.batch_size,
            on_yielded=self._on_rows,
            on_returned=self._on_scored,
            on_errored=self._on_error,
        )
        self.message.emit(f"Scoring {todo.size:,} cutouts with {model_name(model)}…")
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
        card = model.card
        return Scores.empty(
            self.state.n,
            card.n_outputs,
            model.version,
            task=card.task,
            class_names=tuple(card.class_names),
            positive_class=card.positive_class if card.positive_class is not None else 0,
            model_name=model_name(model),
        )

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
                f"{state.n:,} cutouts: not scored automatically (more than {self.auto_limit:,}). "
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
    def _on_rows(self, rows) -> None:
        if self.state.update_scores(rows.indices, rows.probs, rows.model_version, refresh=False):
            if not self.state.sorting.identity and not self._refresh_timer.isActive():
                self._refresh_timer.start()

    def _refresh_order(self) -> None:
        """Re-sort by the scores so far; the next re-sort waits at least five times as long as this one.

        (Sorting a million cutouts takes about 0.2 s: the GUI thread stays free 5/6 of the time.)
        """
        started = time.perf_counter()
        self.refreshing = True
        try:
            self.state.refresh_order()
        finally:
            self.refreshing = False
        took_ms = (time.perf_counter() - started) * 1000
        self._refresh_timer.setInterval(max(ORDER_REFRESH_MS, int(5 * took_ms)))

    def _on_scored(self, result) -> None:
        count, seconds = result
        self.last_duration_s = seconds
        self.message.emit(f"Scored {count:,} cutouts in {seconds:.1f} s")

    def _on_error(self, exc: Exception) -> None:
        if self._stale_job is not None and self.runner.job is self._stale_job:
            return
        if isinstance(exc, (ModelError, CollectionError)):
            self.error.emit(str(exc))
        else:  # a bug or an unexpected library error: say what it was
            self.error.emit(f"{type(exc).__name__}: {exc}")

    def _on_job_finished(self, name: str, outcome: str) -> None:
        self._stale_job = None
        if name == SCORING:
            self._refresh_timer.stop()
            self._refresh_order()
            if outcome == CANCELLED and self.state.scores is not None:
                s = self.state.scores
                self.message.emit(f"Scoring cancelled: {s.n_scored:,} of {len(s):,} cutouts scored")
        elif name == LOADING and outcome == DONE and self.state.model is not None:
            self.message.emit(f"Model {model_name(self.state.model)} is active")
        self._maybe_autoscore()
