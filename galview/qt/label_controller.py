"""Labelling in the window: keys → the collection's SQLite label store → the state, grid and panels.

Every label key commits one transaction to :class:`~galview.io.label_store.LabelStore` before the
window shows the change, so what the user sees labelled is on disk. Another GalView working on the
same store is noticed by polling the store's last history number.
"""

from __future__ import annotations

import time
from datetime import datetime

import numpy as np
from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QApplication

from galview.core.errors import UserFacingError
from galview.core.label_values import DEFAULT_CLASSES, UNSURE, label_name

POLL_MS = 1500  # how often another instance's changes are looked for
SUSPECTS = "Finding suspected label errors"


def suspects_job(loaded, collection, labels, cancel):
    """Confident learning on k-fold out-of-sample probabilities (a logistic head on the model's
    embeddings): returns (order, flagged) for :meth:`LabellingController.find_suspects`."""
    from galview.ml.suspects import suspect_ranking

    order, _scores, flagged = suspect_ranking(collection, labels, method="head", loaded=loaded, cancel=cancel)
    return order, flagged


class LabellingController(QObject):
    """Owns the label store of the open collection and applies label, undo and redo.

    Signals
    -------
    message(str), error(str)
        For the status bar and the error dialog.
    counts_changed(str)
        "artifact 54 · LSBG 58 · unsure 1 · unlabelled 0", for the status bar.
    """

    message = pyqtSignal(str)
    error = pyqtSignal(str)
    counts_changed = pyqtSignal(str)

    def __init__(self, state, grid, metadata, runner, parent: QObject | None = None):
        super().__init__(parent)
        self.state, self.grid, self.metadata, self.runner = state, grid, metadata, runner
        self.store = None
        self.user_labels = np.zeros(0)  # the user's labels, NaN where none (the store's current())
        self.auto_advance = True
        self.broken: str | None = None  # why the store cannot be opened, if it cannot
        self.recheck = None  # a SelfConsistencyCheck while one runs: keys answer it instead
        self.on_recheck_done = None  # called when every cutout of the re-check is answered
        self._seen_seq = 0
        self._asked_suspects = None  # (collection, model version) the queue was last computed for
        self._shown_at = time.monotonic()
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)
        state.collection_changed.connect(self._on_collection)
        state.labels_changed.connect(self._on_labels)
        state.current_changed.connect(self._on_current)
        state.order_changed.connect(self._on_order)
        runner.finished.connect(lambda *_: self._on_order(None))  # asked for while another job ran

    # -- names --------------------------------------------------------------------------------
    @property
    def classes(self) -> tuple[str, ...]:
        """Class names by label value: the active model's, else LSBG/artifact."""
        model = self.state.model
        return tuple(model.card.class_names) if model is not None else DEFAULT_CLASSES

    # -- the store -----------------------------------------------------------------------------
    def _on_collection(self, collection) -> None:
        from galview.io.label_store import store_path_for

        self._close_store()
        self.recheck = None
        self.broken = None
        if collection is None:
            return
        self.user_labels = np.full(len(collection), np.nan)
        try:
            exists = store_path_for(collection.source).exists()
        except (UserFacingError, OSError) as exc:
            exists, self.broken = False, str(exc)
        if exists:  # a new store is only made when the first label is set: opening writes nothing
            self._open_store()
        else:
            self.state.set_labels(self.state.labels)

    def _open_store(self) -> bool:
        """Open (or create) the collection's store; False, with a message, if that fails."""
        from galview.io.label_store import LabelStore

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # ~4 s for a million cutouts
        try:
            self.store = LabelStore.for_collection(self.state.collection)
        except (UserFacingError, OSError, ValueError) as exc:
            QApplication.restoreOverrideCursor()
            self.broken = str(exc)
            self.error.emit(f"Labels cannot be saved, so labelling is off: {exc}")
            self.state.set_labels(self.state.labels)
            return False
        QApplication.restoreOverrideCursor()
        self._seen_seq = self.store.last_seq()
        self._reload()
        self._poll.start()
        return True

    def _reload(self, indices=None) -> None:
        """Labels from the store: all of them, or only ``indices`` (cheap for a million cutouts)."""
        if indices is None or len(indices) > 1000:
            self.user_labels = self.store.current()
            self.state.set_labels(self.store.effective(), indices)
            return
        labels = self.state.labels.copy()
        for i in indices:
            info = self.store.get(int(i))
            labels[i] = np.nan if info["label"] is None else info["label"]
            self.user_labels[i] = np.nan if info["user_label"] is None else info["user_label"]
        self.state.set_labels(labels, indices)

    def poll(self) -> None:
        """Take in label changes another GalView made to the same store."""
        if self.store is None:
            return
        try:
            seq = self.store.last_seq()
            if seq > self._seen_seq:
                changed = self.store.changed_since(self._seen_seq)
                self._seen_seq = seq
                self._reload(changed)
        except UserFacingError as exc:
            self._poll.stop()
            self.error.emit(str(exc))

    def _close_store(self) -> None:
        self._poll.stop()
        if self.store is not None:
            self.store.close()
            self.store = None

    # -- labelling -----------------------------------------------------------------------------
    def targets(self) -> list[int]:
        """The selected cutouts, or the current one."""
        selected = self.grid.selected_cutouts()
        if len(selected) > 1:
            return selected
        return [self.state.current] if self.state.current >= 0 else []

    def label(self, value: int | None, indices=None) -> bool:
        """Label ``indices`` (default: the selection or the current cutout) with ``value`` (None clears).

        Returns True once the store has committed the change.
        """
        indices = self.targets() if indices is None else [int(i) for i in indices]
        if not indices:
            return False
        if self.recheck is not None and value is not None:
            return self._answer_recheck(indices[0], value)
        if self.store is None and (self.broken or not self._open_store()):
            self.error.emit(f"The label was NOT saved: the label store cannot be opened ({self.broken})")
            return False
        try:
            self.store.set(indices, value, **self._provenance(indices))
        except (UserFacingError, OSError) as exc:
            self.error.emit(f"The label was NOT saved: {exc}")
            return False
        self._seen_seq = self.store.last_seq()
        self._reload(indices)
        what = label_name(value, self.classes) if value is not None else "its original label"
        self.message.emit(
            f"{len(indices)} cutouts → {what}" if len(indices) > 1 else f"#{indices[0]} → {what}"
        )
        if self.auto_advance and len(indices) == 1 and indices[0] == self.state.current:
            self.advance()
        return True

    def _provenance(self, indices) -> dict:
        model, scores = self.state.model, self.state.scores
        extra = {"seconds": round(time.monotonic() - self._shown_at, 3)}
        if model is not None:
            extra["model_id"] = model.version
            if scores is not None and scores.model_version == model.version:
                probs = scores.positive_prob()[indices]
                extra["prob"] = [None if np.isnan(p) else float(p) for p in probs]
        return extra

    def advance(self) -> None:
        """Make the next cutout of the display order current."""
        grid_model = self.grid.grid_model  # keeps the inverse of the display order: no O(N) scan per key
        position = grid_model.position_of(self.state.current)
        following = grid_model.cutout_at_position(position + 1) if position >= 0 else -1
        if following >= 0:
            self.state.set_current(following)

    def undo(self) -> bool:
        return self._step(undo=True)

    def redo(self) -> bool:
        return self._step(undo=False)

    def _step(self, undo: bool) -> bool:
        if self.store is None:
            self.message.emit("Nothing to undo" if undo else "Nothing to redo")
            return False
        try:
            changed = self.store.undo() if undo else self.store.redo()
        except UserFacingError as exc:
            self.error.emit(str(exc))
            return False
        if not changed:
            self.message.emit("Nothing to undo" if undo else "Nothing to redo")
            return False
        self._seen_seq = self.store.last_seq()
        self._reload(changed)
        self.state.set_current(changed[0])  # show what changed back
        self.message.emit(f"{'Undid' if undo else 'Redid'} the label of {len(changed)} cutout(s)")
        return True

    # -- what the window shows ----------------------------------------------------------------------
    def _on_labels(self, indices) -> None:
        user_set = ~np.isnan(self.user_labels) if len(self.user_labels) == self.state.n else None
        self.grid.grid_model.set_labels(self.state.labels, user_set, indices)
        self.counts_changed.emit(self.counts_text())
        if indices is None or self.state.current in set(np.asarray(indices).tolist()):
            self._show_label(self.state.current)

    def _on_current(self, index: int) -> None:
        self._shown_at = time.monotonic()
        self._show_label(index)

    def counts_text(self) -> str:
        labels = self.state.labels
        if not len(labels):
            return ""
        parts = [f"{name} {int(np.sum(labels == k)):,}" for k, name in enumerate(self.classes)]
        parts.append(f"unsure {int(np.sum(labels == UNSURE)):,}")
        parts.append(f"unlabelled {int(np.isnan(labels).sum()):,}")
        return " · ".join(parts)

    def _show_label(self, index: int) -> None:
        if index < 0 or index >= self.state.n:
            return
        if self.recheck is not None:
            self.metadata.show_label("hidden (blind re-check)", "")
            return
        if self.store is None:
            text = label_name(self.state.labels[index], self.classes)
            self.metadata.show_label(
                text + (" · from the file" if text != "unlabelled" else ""), "no changes"
            )
            return
        info = self.store.get(index)
        text = label_name(info["label"], self.classes)
        if info["origin"] != "original":
            text += f" · {info['origin']}" + (
                f" (file: {label_name(info['original'], self.classes)})"
                if info["origin"] == "changed"
                else ""
            )
        self.metadata.show_label(text, self.history_text(index))

    def history_text(self, index: int, last: int = 4) -> str:
        """The cutout's latest label changes, newest first, one per line."""
        rows = self.store.history(index)[-last:] if self.store is not None else []
        lines = []
        for row in reversed(rows):
            when = datetime.fromtimestamp(row["at"]).strftime("%Y-%m-%d %H:%M")
            old, new = (
                label_name(row[k], self.classes) if row[k] is not None else "—" for k in ("old", "new")
            )
            lines.append(
                f"{when} {old} → {new} ({row['user']}{', ' + row['kind'] if row['kind'] != 'set' else ''})"
            )
        return "\n".join(lines) or "no changes"

    # -- the suspected-label-errors queue -----------------------------------------------------------
    def _on_order(self, _order) -> None:
        """Start the suspects job once per collection and model when that queue is asked for."""
        state = self.state
        if state.sorting.sort != "suspects" or state.suspects is not None or self.runner.busy:
            return
        key = (state.collection, None if state.model is None else state.model.version)
        if key != self._asked_suspects:
            self._asked_suspects = key
            self.find_suspects()

    def find_suspects(self) -> bool:
        """Rank labelled cutouts by how strongly the active model disputes their label, in the background."""
        state = self.state
        if state.collection is None or state.model is None:
            self.message.emit("Finding suspected label errors needs a model (Model menu)")
            return False
        labels = state.labels.copy()
        usable = np.isfinite(labels) & (labels >= 0)
        if usable.sum() < 8 or len(np.unique(labels[usable])) < 2:
            self.message.emit(
                "Finding suspected label errors needs at least 8 labelled cutouts of two classes"
            )
            return False
        job = self.runner.start(
            SUSPECTS,
            suspects_job,
            state.model,
            state.collection,
            labels,
            on_returned=self._on_suspects,
            on_errored=lambda exc: self.error.emit(f"Finding suspected label errors failed: {exc}"),
        )
        if job is None:
            self.message.emit(self.runner.busy_message())
            return False
        self.message.emit("Finding suspected label errors (4-fold cross-validation on the model's features)…")
        return True

    def _on_suspects(self, result) -> None:
        order, flagged = result
        rank = np.full(self.state.n, np.nan)
        rank[order] = np.arange(len(order), 0, -1, dtype=np.float64)  # higher: more suspect
        self.state.set_suspects(rank)
        self.message.emit(
            f"{int(flagged.sum()):,} suspected label errors among {len(order):,} labelled cutouts "
            "(confident learning); sort by 'suspected label errors first' to review them"
        )

    # -- the blind re-check (self-consistency) --------------------------------------------------------
    def _answer_recheck(self, index: int, value: int) -> bool:
        try:
            done = self.recheck.answer(index, value)
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self.message.emit(f"Re-check: {self.recheck.answered} of {len(self.recheck)} answered")
        if done and self.on_recheck_done is not None:
            self.on_recheck_done()
        elif not done:
            self.advance()
        return True

    def import_csv(self, path) -> list[int]:
        """Import labels from a CSV file as one undoable action; returns the indices changed."""
        if self.store is None and not self._open_store():
            raise OSError(f"labels cannot be saved: {self.broken}")
        changed = self.store.import_csv(path, self.classes)
        self._seen_seq = self.store.last_seq()
        self._reload(changed)
        return changed

    def close(self) -> None:
        self._close_store()
