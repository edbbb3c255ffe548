"""Triage queues that need a job: the suspected-label-errors ranking, computed in the background.

Asked for from the Labels menu, or when the grid is sorted by "suspected label errors first" and
the queue does not exist yet for this collection and model. The result is a ranking in the state
(:class:`~galview.core.rankings.Ranking` ``"suspects"``), sorted by through the grid's one path.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from galview.core.ordering import SORTS
from galview.core.rankings import Ranking, rank_positions
from galview.ml.jobs import SuspectsResult

SUSPECTS = "suspects"


class TriageController(QObject):
    """Runs the suspects job and puts its ranking in the state.

    Signals
    -------
    message(str), error(str)
    """

    message = pyqtSignal(str)
    error = pyqtSignal(str)

    def __init__(self, state, runner, parent: QObject | None = None):
        super().__init__(parent)
        self.state, self.runner = state, runner
        self._asked = None  # (collection, model version) the queue was last computed for
        state.order_changed.connect(self._maybe_start)
        runner.finished.connect(lambda *_: self._maybe_start())  # asked for while another job ran

    def _maybe_start(self, *_) -> None:
        """Start the suspects job once per collection and model when that queue is shown."""
        state = self.state
        if state.sorting.sort != SUSPECTS or SUSPECTS in state.rankings or self.runner.busy:
            return
        key = (state.collection, None if state.model is None else state.model.version)
        if key != self._asked:
            self._asked = key
            self.find_suspects()

    def find_suspects(self) -> bool:
        """Rank labelled cutouts by how strongly the active model disputes their label, in the background."""
        state = self.state
        if state.collection is None or state.model is None:
            self.message.emit("Finding suspected label errors needs a model (Model menu)")
            return False
        labels = state.labels.copy()
        usable = np.isfinite(labels) & (labels >= 0)
        _, per_class = np.unique(labels[usable], return_counts=True)
        if usable.sum() < 8 or np.count_nonzero(per_class >= 2) < 2:  # each fold learns from the others
            self.message.emit(
                "Finding suspected label errors needs at least 8 labelled cutouts, two or more of each of "
                "two classes"
            )
            return False
        scores = state.scores
        kept = None
        if scores is not None and scores.model_version == state.model.version:
            kept = scores.embeddings_of(np.flatnonzero(usable))
        embeddings = None
        if kept is not None:
            embeddings = np.full((state.n, kept.shape[1]), np.nan, np.float32)
            embeddings[usable] = kept
        job = self.runner.start(
            SUSPECTS,
            state.model,
            state.collection,
            labels,
            embeddings,
            on_returned=lambda result, asked=(state.collection, state.model): self._on_suspects(
                result, asked
            ),
            on_errored=lambda exc: self.error.emit(f"Finding suspected label errors failed: {exc}"),
        )
        if job is None:
            self.message.emit(self.runner.busy_message())
            return False
        how = "the embeddings kept from scoring" if kept is not None else "the model's features"
        self.message.emit(f"Finding suspected label errors (4-fold cross-validation on {how})…")
        return True

    def _on_suspects(self, result: SuspectsResult, asked) -> None:
        state = self.state
        if state.collection is not asked[0] or state.model is not asked[1]:  # changed meanwhile
            return
        # Thumbnails show (margin + 1) / 2: for two classes exactly the out-of-sample probability
        # of the class the label does not say, in [0, 1] (0.5: the model cannot tell).
        ranking = Ranking(
            SUSPECTS,
            SORTS[SUSPECTS],
            rank_positions(result.order, state.n),
            badge="err",
            shown=(result.scores + 1.0) / 2.0,
        )
        state.set_ranking(ranking)
        self.message.emit(
            f"{int(result.flagged.sum()):,} suspected label errors among {len(result.order):,} labelled "
            "cutouts (confident learning); sort by 'suspected label errors first' to review them"
        )
