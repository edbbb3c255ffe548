"""One-click retraining in the window: the Retrain panel's logic (issue 12).

:class:`RetrainController` turns the panel's Retrain button into a job on the window's one
:class:`~galview.qt.workers.JobRunner`: fine-tuning in a child process
(:func:`galview.ml.finetune_process.finetune_in_process`), which also scores the collection with the
new version into the score cache, while the user goes on labelling and browsing. The new model is
loaded only when the user chooses "Use this model". Where the child cannot score (a collection too
large for :data:`COMPARE_LIMIT`, or retraining in this process), the chain goes on here: load the
new version, score the collection with it. The new model's scores are kept beside the active
model's (``ViewerState.kept_scores``), so "Use this model" and "Back to the previous model" switch
without rescoring. The comparison of the two (:mod:`galview.core.retrain_compare`) fills the change
histogram and the "flipped first" ranking, and the user's labels say which model they agree with.

The same comparison works for any two models (Model ▸ Retrained versions ▸ Compare the active model
with): :meth:`RetrainController.compare_with` loads the other one in the background, brings its kept
scores or scores the collection with it, and fills the same panel, with "Use this model" switching
to it.

A failed or stopped run writes nothing and leaves the active model as it was (the job guarantees
it; the controller only says what happened).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from galview.core.label_values import retrained_class_names
from galview.core.model_names import model_name, path_name
from galview.core.retrain_compare import FLIPPED, NEW_TASK, NewTaskScores, compare_scores, label_agreement
from galview.core.scores import Scores
from galview.core.training_labels import human_labels, learnt_from
from galview.core.words import count
from galview.qt.elide import breakable
from galview.qt.retrain_texts import describe_card, describe_metrics, same_file
from galview.qt.scoring import EMBEDDING_BUDGET
from galview.qt.workers import CANCELLED, DONE, FAILED

logger = logging.getLogger(__name__)

FINETUNE, LOADING, SCORING = "finetune", "load_model", "score"
#: The new model scores the whole collection after training while it has at most this many cutouts.
COMPARE_LIMIT = 20_000
SCORE_BATCH = 256


class RetrainController(QObject):
    """Runs retraining from the panel and shows its progress and result.

    Signals
    -------
    message(str), error(str)
        For the status bar and the error dialog.
    version_added(str)
        Path of a new model version (the Model menu lists it).
    comparison_changed()
        A comparison of two models is ready, or the last one was cleared (a new run or comparison
        started): the metadata panel and the Explain menu follow it.
    """

    message = pyqtSignal(str)
    error = pyqtSignal(str)
    version_added = pyqtSignal(str)
    comparison_changed = pyqtSignal()

    def __init__(self, state, runner, labelling, panel, parent: QObject | None = None):
        super().__init__(parent)
        self.state, self.runner, self.labelling, self.panel = state, runner, labelling, panel
        self.plan = None  # TrainingLabels of the last refresh
        self.result = None  # FinetuneResult of the last run
        self.parent_model = None  # the model the last run started from
        self.new_model = None  # the last run's model, loaded
        self.new_scores: Scores | None = None
        self.comparison = None
        self._new_path = None  # the model file compared with the starting model
        self._next = None  # the job to start when the runner is free
        self._use_when_loaded = False  # "Use this model" pressed before the new model was loaded
        panel.retrain_button.clicked.connect(self.start)
        panel.stop_button.clicked.connect(self.stop)
        panel.use_button.clicked.connect(self.use_new_model)
        panel.back_button.clicked.connect(self.back_to_parent)
        panel.flipped_button.clicked.connect(self._sort_by_result)
        panel.mode.currentIndexChanged.connect(lambda _i: self.refresh())
        panel.epochs.valueChanged.connect(lambda _v: self.refresh())
        panel.folds.valueChanged.connect(lambda _v: self.refresh())
        runner.finished.connect(self._on_job_finished)
        state.collection_changed.connect(self._forget_comparison)
        for signal in (state.collection_changed, state.model_changed, state.labels_changed):
            signal.connect(lambda *_: self.refresh() if panel.isVisible() else None)

    # -- the plan ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recount the labels that would be used and say which recipe would run."""
        panel, state, model = self.panel, self.state, self.state.model
        panel.parent_label.setText(
            breakable(model_name(model)) if model is not None else "no model is active"
        )
        if state.collection is None:
            self.plan = None
            panel.labels_label.setText("Open a collection and label some cutouts")
            panel.why_label.setText("")
            return
        self.plan = human_labels(state.collection, self.labelling.store, model.card if model else None)
        text = self.plan.summary(self.labelling.classes)
        if model is not None:
            renamed = retrained_class_names(model.card.class_names, state.collection.class_names)[1]
            text += f". New model's {renamed}" if renamed else ""
        panel.labels_label.setText(text)
        panel.why_label.setText(self._recipe_text())
        self._epochs_apply()

    def _epochs_apply(self) -> None:
        """Epochs mean nothing to a probe: the box is off (with the reason) when a probe would run."""
        panel = self.panel
        probe = panel.chosen_mode() == "probe"
        if panel.chosen_mode() is None and self.plan is not None and len(self.plan.indices):
            try:
                probe = self._recipe().mode == "probe"
            except ValueError:
                probe = False
        running = not panel.retrain_button.isEnabled()
        panel.epochs.setEnabled(not probe and not running)
        panel.epochs.setToolTip(
            "A probe fits a logistic regression: it has no epochs"
            if probe
            else "Most epochs per fit (early stopping may end sooner); 'default': the recipe's"
        )

    def _recipe_text(self) -> str:
        if self.plan is None or len(self.plan.indices) == 0:
            return ""
        try:
            recipe = self._recipe()
        except ValueError as exc:
            return str(exc)
        return recipe.why or f"{recipe.mode}: {count(recipe.epochs, 'epoch')} at most, {recipe.folds} folds"

    def _recipe(self):
        from galview.ml.finetune import default_recipe

        panel = self.panel
        return default_recipe(
            len(self.plan.indices),
            panel.chosen_mode(),
            epochs=panel.chosen_epochs(),
            folds=panel.chosen_folds(),
        )

    # -- running --------------------------------------------------------------------------------
    def start(self) -> bool:
        """Start fine-tuning the active model on the human labels; False (and a message) if it cannot."""
        self.refresh()
        state, model = self.state, self.state.model
        if model is None:
            self.error.emit("No model is active: choose one in the Model menu to retrain")
            return False
        if self.plan is None or len(self.plan.counts) < 2 or min(self.plan.counts.values()) < 2:
            self.error.emit("Retraining needs at least two human labels of each of two classes")
            return False
        if self.runner.busy:
            self.message.emit(self.runner.busy_message())
            return False
        try:
            recipe = self._recipe()
        except ValueError as exc:
            self.error.emit(str(exc))
            return False
        from galview.ml.adapt import adapt_for
        from galview.ml.errors import ModelError

        try:  # the job's first step: refused at once, not after it has started
            adapt_for(model, state.collection)
        except ModelError as exc:
            self.error.emit(f"Cannot retrain on these cutouts: {exc}")
            return False
        self.parent_model, self.result, self.new_model, self.new_scores = model, None, None, None
        self.comparison, self._use_when_loaded = None, False
        self.comparison_changed.emit()
        collection = state.collection
        self.runner.start(
            FINETUNE,
            model,
            collection,
            self.plan.indices,
            self.plan.labels,
            recipe,
            left_out=self.plan.left_out,
            score_limit=COMPARE_LIMIT,
            embedding_budget=EMBEDDING_BUDGET,
            on_progress=self._on_progress,
            on_returned=lambda result: self._on_trained(result, collection),
            on_errored=self._on_error,
        )
        self.panel.set_running(True, curves=recipe.mode != "probe")
        self.message.emit(
            f"Retraining {model_name(model)} ({recipe.mode}) on {self.plan.summary(self.labelling.classes)}"
        )
        return True

    def stop(self) -> None:
        """Stop the running retraining after its current batch."""
        if self.runner.running(FINETUNE):
            self.runner.cancel()

    def _on_progress(self, progress) -> None:
        self.panel.show_progress(progress)
        if progress.payload is not None:
            self.panel.curves.add(progress.payload)

    def _on_trained(self, result, collection) -> None:
        self.result, self._new_path = result, result.path
        self.panel.show_result(result.verdict, describe_metrics(result))
        self.version_added.emit(str(result.path))
        if result.counts.get("unreadable"):  # labelled cutouts it could not read were left out
            self.error.emit(result.counts["unreadable"])
        state = self.state
        if collection is not state.collection:  # the user opened another collection while it trained
            self.panel.change_label.setText(
                f"Trained on {collection.source.name}, which is no longer open: not compared with this "
                "collection (the new version is in the Model menu)"
            )
            self.message.emit(f"Retrained on {collection.source.name}: {result.verdict}")
            return
        self.message.emit(f"Retrained: {result.verdict}")
        kept = None
        if result.scored_version is not None and state.collection is not None:
            kept = state.kept_scores.get(state.fingerprint, result.scored_version)
        if kept is not None and kept.complete:  # scored by the training process: compare now, load on use
            self.new_scores = kept
            self._compare()
            self.panel.use_button.setEnabled(True)
        else:
            self._next = self._load_new_model

    def _on_error(self, exc: Exception) -> None:
        self.error.emit(f"Retraining failed; the active model is unchanged. {exc}")

    def _on_job_finished(self, name: str, outcome: str) -> None:
        if name == FINETUNE:
            self.panel.set_running(False)
            self._epochs_apply()
            if outcome == CANCELLED:
                self.panel.show_stopped("Stopped: nothing was written; the active model is unchanged")
                self.message.emit("Retraining stopped; the active model is unchanged")
            elif outcome == FAILED:
                self.panel.show_stopped("Failed: nothing was written; the active model is unchanged")
        elif name == SCORING and self.new_scores is not None and outcome == DONE:
            self._compare()
        step, self._next = self._next, None
        if step is not None and outcome == DONE:
            if self.runner.busy:  # another job got in first: try again when it ends
                self._next = step
            else:
                step()

    # -- after training: load, score, compare -------------------------------------------------
    def _load_new_model(self) -> None:
        failed = self._on_error if self.result is not None else self._on_compare_error
        self.runner.start(LOADING, self._new_path, on_returned=self._on_new_model, on_errored=failed)

    def _on_new_model(self, loaded) -> None:
        self.new_model = loaded
        self.panel.use_button.setEnabled(True)
        if self.result is None:  # a comparison: say what the other model is
            self.panel.metrics_label.setText(describe_card(loaded.card))
        state = self.state
        if self._use_when_loaded:
            self._use_when_loaded = False
            self.use_new_model()
            return
        if state.collection is None or self.new_scores is not None:
            return
        kept = state.kept_scores.get(state.fingerprint, loaded.version)
        if kept is not None and kept.complete:
            self.new_scores = kept
            self._compare()
        elif state.n <= COMPARE_LIMIT or self.result is None:  # a comparison the user asked for: any size
            self._next = self._score_new_model
            if self.result is None:
                self.panel.change_label.setText(
                    f"Scoring {count(state.n, 'cutout')} with {path_name(self._new_path)} (Cancel in the status bar)…"
                )
        else:
            self.panel.change_label.setText(
                f"{count(state.n, 'cutout')}: use the new model and score the collection to see what changed"
            )

    def _score_new_model(self) -> None:
        loaded, state = self.new_model, self.state
        self.new_scores = Scores.for_model(loaded, state.n)
        collection = state.collection
        self.runner.start(
            SCORING,
            loaded,
            collection,
            np.arange(state.n),
            SCORE_BATCH,
            on_progress=lambda progress: self._on_new_rows(progress, collection),
            on_errored=self._on_error,
        )

    def _on_new_rows(self, progress, collection) -> None:
        rows = progress.payload
        if (
            rows is not None
            and collection is self.state.collection
            and self.new_scores is not None
            and rows.model_version == self.new_scores.model_version
        ):
            self.new_scores.set_rows(rows.indices, rows.probs)

    def _forget_comparison(self, _collection=None) -> None:
        """Another collection is open: the comparison (the new model's scores, what flipped) was of the
        last one, and its scores must not be read with this one's cutout numbers."""
        if self.new_scores is None and self.comparison is None:
            return
        self.new_scores, self.comparison = None, None
        if self._next == self._score_new_model:
            self._next = None
        self.panel.clear_changes()
        self.panel.flipped_button.setEnabled(False)
        self.panel.change_label.setText("Another collection was opened: the comparison was of the last one")
        self.comparison_changed.emit()

    def _compare(self) -> None:
        self.refresh()  # the labels of the collection open now (the agreement with the user's labels)
        state, before = self.state, self._parent_scores()
        if self.new_scores is None or before is None:
            self.panel.change_label.setText(
                "The starting model has not scored this collection: nothing to compare"
            )
            return
        if before.class_names != self.new_scores.class_names:
            # a version retrained on another task's labels names its classes after them
            if self.result is not None and len(before.class_names) == len(self.new_scores.class_names):
                self._show_new_task()
            else:
                self.panel.change_label.setText(
                    f"The models tell different classes apart ({', '.join(before.class_names)} against "
                    f"{', '.join(self.new_scores.class_names)}): nothing to compare"
                )
            return
        state.kept_scores.put(state.fingerprint, self.new_scores)
        self.comparison = compare_scores(before, self.new_scores)
        if self.result is None:  # a comparison of two existing models
            state.set_ranking(self.comparison.ranking(f"class changed by {path_name(self._new_path)} first"))
        else:
            state.set_ranking(self.comparison.ranking())
        self.panel.show_changes(self.comparison.change, self.comparison.summary())
        self.panel.flipped_button.setEnabled(True)
        self.panel.show_agreement(self._agreement_text(before))
        self.comparison_changed.emit()

    def _show_new_task(self) -> None:
        """A version retrained on another task: no class can flip, so the panel shows the new model's
        probabilities and the grid lists its positive class first; the user's labels against it."""
        state, scores = self.state, self.new_scores
        state.kept_scores.put(state.fingerprint, scores)
        said = NewTaskScores.of(scores)
        ranking = said.ranking()
        state.set_ranking(ranking)
        self.panel.show_probabilities(
            said.probs, said.summary(), f"probability of {said.measured}, new model"
        )
        first = (f"{said.measured[:1].upper()}{said.measured[1:]} first", f"Sort the grid: {ranking.title}")
        self.panel.set_first_button(first, enabled=True)
        plan = self.plan
        if plan is not None and len(plan.indices):
            agreement = label_agreement(scores, scores, plan.indices, plan.labels)
            self.panel.show_agreement(
                f"Your {agreement.n:,} labels: {agreement.after:,} agree with {self._second_name()}, which "
                "learnt from them (the cross-validated figures above are the fair measure)"
            )

    def _sort_by_result(self) -> None:
        """The result's ranking: the flipped cutouts first, or a new task's positive class first."""
        self.state.set_sorting(sort=FLIPPED if self.comparison is not None else NEW_TASK)

    def other_opinion(self, index: int) -> tuple[str, str] | None:
        """The compared model's score of cutout ``index`` when one of the two compared models is active:
        ``("0.548 → LSBG by the compared model", "deepshadows_des_sim")`` (the line for the panel, whose
        rows are short, and the model's name for its tooltip); None otherwise."""
        active, first = self.state.model, self.parent_model
        if self.comparison is None or self.new_scores is None or active is None or first is None:
            return None
        if active.version == first.version:
            other, name = self.new_scores, self._second_name()
        elif active.version == self.new_scores.model_version:
            other, name = self._parent_scores(), model_name(first)
        else:
            return None
        if other is None or not 0 <= index < len(other) or other.predicted_name(index) is None:
            return None
        return f"{other.prob_of(index):.3f} → {other.predicted_name(index)} by the compared model", name

    def other_model(self):
        """The loaded model the active one is being compared with (either way round), or None."""
        active, first, second = self.state.model, self.parent_model, self.new_model
        if self.comparison is None or active is None or first is None or second is None:
            return None
        if active.version == first.version:
            return second
        return first if active.version == second.version else None

    def _second_name(self) -> str:
        return model_name(self.new_model) if self.new_model is not None else path_name(self._new_path)

    def _agreement_text(self, before: Scores) -> str:
        """The user's labels against both models (empty without labels)."""
        plan = self.plan
        if plan is None or len(plan.indices) == 0:
            return ""
        agreement = label_agreement(before, self.new_scores, plan.indices, plan.labels)
        first = self.parent_model
        second = self.new_model if self.new_model is not None else self.result
        collection = self.state.collection
        learnt = tuple(learnt_from(m.card, collection, plan.indices) for m in (first, second))
        return agreement.text(model_name(first), self._second_name(), learnt)

    def _parent_scores(self) -> Scores | None:
        state, parent = self.state, self.parent_model
        if parent is None or state.collection is None:
            return None
        if state.scores is not None and state.scores.model_version == parent.version:
            return state.scores
        return state.kept_scores.get(state.fingerprint, parent.version)

    # -- comparing the active model with any other ---------------------------------------------------
    def compare_with(self, path) -> bool:
        """Compare the active model with the model at ``path``; False (and a message) if it cannot.

        The other model is loaded in the background; its kept scores of this collection are used, or
        the collection is scored with it (whatever its size: the user asked; Cancel stops it). The panel
        then shows the change histogram, the flipped-first ranking and both models against the user's
        labels.
        """
        state = self.state
        if state.model is None or state.collection is None:
            self.error.emit("Open a collection and choose a model before comparing models")
            return False
        if same_file(state.model.path, path):
            self.error.emit("That is the active model: choose another one to compare it with")
            return False
        if self.runner.busy:
            self.message.emit(self.runner.busy_message())
            return False
        self.refresh()
        self.parent_model, self.result, self.new_model, self.new_scores = state.model, None, None, None
        self.comparison, self._use_when_loaded, self._new_path = None, False, Path(path)
        self.comparison_changed.emit()
        self.panel.show_comparing(model_name(state.model), path_name(path))
        self._load_new_model()
        self.message.emit(f"Comparing {model_name(state.model)} with {path_name(path)}…")
        return True

    def _on_compare_error(self, exc: Exception) -> None:
        self.panel.change_label.setText("Not compared: the model could not be loaded")
        self.error.emit(f"{self._new_path}: could not be compared with the active model. {exc}")

    # -- switching --------------------------------------------------------------------------------
    def use_new_model(self) -> None:
        """Make the retrained model active (its scores are kept, so nothing is rescored).

        When the training process scored the collection, the new model is loaded only now (in the
        background: loading stalls the event loop while Keras builds it), and made active when ready.
        """
        if self.new_model is None:
            if self.result is None:
                return
            self._use_when_loaded = True
            if self.runner.running(LOADING):
                return
            if self.runner.busy:
                self._next = self._load_new_model
                self.message.emit(self.runner.busy_message())
            else:
                self._load_new_model()
            self.message.emit("Loading the retrained model…")
            return
        self.state.set_model(self.new_model)
        self.panel.back_button.setEnabled(self.parent_model is not None)
        self.message.emit(f"Model {model_name(self.new_model)} is active")

    def back_to_parent(self) -> None:
        """Make the model the run started from active again."""
        if self.parent_model is not None:
            self.state.set_model(self.parent_model)
            self.message.emit(f"Model {model_name(self.parent_model)} is active again")
