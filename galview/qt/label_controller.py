"""Labelling in the window: keys → the labelling session → the label store; the panel and counts follow.

The work is done by :class:`~galview.core.label_session.LabelSession` (Qt-free, tested headless):
every label is committed to the collection's store before the state shows it. This controller
only polls the store for another GalView's changes, shows the current cutout's label and history
in the metadata panel, the counts in the status bar, and relays the session's messages.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QApplication, QMessageBox

from galview.core.label_session import LabelSession
from galview.core.words import count

POLL_MS = 1500  # how often another instance's changes are looked for
IMPORT_JOB, EXPORT_JOB = "import_labels", "export_labels"


def open_store(collection, create: bool, force: bool = False):
    """The collection's label store; None when there is none and ``create`` is False."""
    from galview.io.label_store import has_label_store, open_label_store

    if not create and not has_label_store(collection):
        return None  # nothing is written until the first label
    if not create:
        return open_label_store(collection)
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # a million cutouts: 0.7–1.8 s (BENCHMARKS.md)
    try:
        return open_label_store(collection, force=force)
    finally:
        QApplication.restoreOverrideCursor()


class LabelController(QObject):
    """Shows the labelling session's work in the window.

    Signals
    -------
    message(str), error(str)
        For the status bar and the error dialog.
    counts_changed(str)
        "artifact: 54 · LSBG: 58 · unsure: 1 · unlabelled: 0", for the status bar.
    """

    message = pyqtSignal(str)
    error = pyqtSignal(str)
    counts_changed = pyqtSignal(str)

    def __init__(self, state, metadata, parent: QObject | None = None, opener=open_store, runner=None):
        super().__init__(parent)
        self.state, self.metadata = state, metadata
        self.runner = runner  # runs the salvage of a damaged store as a job; without one, none is offered
        self.session = LabelSession(state, opener, salvage=None if runner is None else _salvage_here)
        self.session.message.connect(self.message.emit)
        self.session.error.connect(self.error.emit)
        self.session.rebind_asked.connect(self._ask_rebind)
        self.session.salvage_offered.connect(self._ask_salvage)
        self.rebind_dialog: QMessageBox | None = None
        self.salvage_dialog: QMessageBox | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)
        self._poll.start()
        state.labels_changed.connect(self._on_labels)
        state.collection_changed.connect(lambda _collection: self._on_labels(None))
        state.current_changed.connect(self._show_label)
        state.notes_changed.connect(self._on_notes)
        state.blind_changed.connect(lambda _on: self._show_label(state.current))
        state.model_changed.connect(lambda _model: self._on_labels(None))

    # The session does the work; these are what menus and keys call.
    @property
    def classes(self) -> tuple[str, ...]:
        return self.session.classes

    @property
    def store(self):
        return self.session.store

    @property
    def auto_advance(self) -> bool:
        return self.session.auto_advance

    @auto_advance.setter
    def auto_advance(self, on: bool) -> None:
        self.session.auto_advance = bool(on)

    def label(self, value: int | None, indices=None) -> bool:
        return self.session.label(value, indices)

    def undo(self) -> bool:
        return self.session.undo()

    def redo(self) -> bool:
        return self.session.redo()

    def start_import(self, path) -> bool:
        """Import the labels of CSV file ``path`` as a job (one undoable action; at once, under a wait
        cursor, while another job runs); False if it cannot start. The store's lock makes a label set
        meanwhile wait for the import's write to end."""
        if self.runner is None or self.state.collection is None:
            return False
        try:
            store = self.session.store_to_import_into()
        except OSError as exc:
            self.error.emit(str(exc))
            return False
        collection = self.state.collection
        self.runner.start_or_run_here(
            IMPORT_JOB, store, str(path), self.session.classes,
            on_returned=lambda changed: self._imported(changed, collection, path),
            on_errored=lambda exc: self._failed(exc, store, collection, f"Nothing imported from {Path(path).name}"),
        )  # fmt: skip
        return True

    def _failed(self, exc, store, collection, what: str) -> None:
        """A label file job failed: said as an error, unless its collection was closed under it."""
        if store.closed and collection is not self.state.collection:
            self.message.emit(f"{what}: {Path(collection.source).name} was closed first")
        else:
            self.error.emit(str(exc))

    def _imported(self, changed, collection, path) -> None:
        done = f"{count(len(changed), 'label')} imported from {Path(path).name}"
        if collection is not self.state.collection:  # written into that collection's store all the same
            name = Path(collection.source).name
            self.message.emit(f"{done} into the labels of {name} (another collection is shown now)")
            return
        self.session.imported(changed)
        self.message.emit(
            f"{done} (Ctrl+Z undoes)"
            if changed
            else f"{Path(path).name}: no label differs from yours; nothing imported"
        )

    def start_export(self, path) -> bool:
        """Write the labels to ``path`` (.csv, .fits, .h5) as a job (at once, under a wait cursor, while
        another job runs); False if there is nothing to export."""
        if self.session.store is None:
            self.message.emit("No labels set in GalView yet: nothing to export")
            return False
        if self.runner is None:
            return False
        store, collection = self.session.store, self.state.collection
        self.runner.start_or_run_here(
            EXPORT_JOB, store, str(path),
            on_returned=lambda written: self.message.emit(f"Labels exported to {written}"),
            on_errored=lambda exc: self._failed(exc, store, collection, "Labels not exported"),
        )  # fmt: skip
        return True

    def set_note(self, text: str, indices=None) -> bool:
        return self.session.set_note(text, indices)

    def poll(self) -> None:
        """Take in label changes another GalView made to the same store (not while an import writes into
        it: the store's lock would keep the window waiting; the import's labels are shown when it ends)."""
        if self.runner is None or not self.runner.running(IMPORT_JOB):
            self.session.poll()

    def counts_text(self) -> str:
        return self.session.counts_text()

    def _ask_rebind(self, problem) -> None:
        """The store belongs to another collection of this size: ask whether to re-bind it."""
        text = (
            f"The label store {problem.path} belongs to another collection of the same size:\n\n"
            f"  {problem.recorded_source}  ({problem.recorded_fingerprint})\n\n"
            f"not to this one ({problem.fingerprint}). Its labels may not describe these cutouts.\n\n"
            "Re-bind the store to this collection (recorded in its history)? Until then labelling is off."
        )
        self.rebind_dialog = self._ask(
            QMessageBox.Icon.Question, "Label store of another collection", text, self._rebind_answered
        )
        self.message.emit(f"Labelling is off: {problem}")

    def _ask(self, icon, title: str, text: str, answered, yes_default: bool = False) -> QMessageBox:
        """Open a window-modal Yes/No question; ``answered(yes)`` is called when it closes."""
        box = QMessageBox(icon, title, text)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.Yes if yes_default else QMessageBox.StandardButton.No)
        box.setParent(self.metadata.window(), box.windowFlags())
        box.finished.connect(lambda result: answered(result == QMessageBox.StandardButton.Yes.value))
        box.open()
        return box

    def _rebind_answered(self, yes: bool) -> None:
        self.rebind_dialog = None
        if yes:
            self.session.rebind()

    def offer_salvage(self) -> bool:
        """Labels ▸ Recover labels from a damaged store: ask again (after a No), or say there is none."""
        if self.session.damaged is None:
            self.message.emit("The label store of this collection is not damaged: nothing to recover")
            return False
        self._ask_salvage(self.session.damaged)
        return True

    def _ask_salvage(self, problem) -> None:
        """The store is damaged: offer to recover its readable labels into a new store."""
        text = (
            f"The label store\n\n  {problem.path}\n\n{problem.problem}.\n\n"
            "GalView can recover every label it can still read into a new store in its place. The damaged "
            "file is kept, unchanged, beside it (its name ends in .damaged-DATE) with its readable history "
            "in a CSV file; nothing is deleted.\n\nRecover the labels now? Until then labelling is off."
        )
        self.salvage_dialog = self._ask(
            QMessageBox.Icon.Warning, "Damaged label store", text, self._salvage_answered, yes_default=True
        )
        self.message.emit(f"Labelling is off: {problem}")

    def _salvage_answered(self, yes: bool) -> None:
        self.salvage_dialog = None
        if yes and self.state.collection is not None:
            self._start_salvage(self.state.collection)

    def _start_salvage(self, collection) -> None:
        """Run the salvage as a job; while another job runs (scoring), start it when that one ends."""
        if collection is not self.state.collection:
            return  # another collection was opened meanwhile
        self.session.close()  # a store found damaged while in use: no connection to the file being moved
        job = self.runner.start(
            "salvage",
            collection,
            on_returned=lambda report: self.session.salvaged(report.lines(), collection),
            on_errored=lambda exc: self.error.emit(f"The labels could not be recovered: {exc}"),
        )
        if job is not None:
            return
        title = self.runner.job.title.lower() if self.runner.job is not None else "another job"
        self.message.emit(f"The labels will be recovered when {title} has finished")

        def retry(*_ended) -> None:
            self.runner.finished.disconnect(retry)
            QTimer.singleShot(0, lambda: self._start_salvage(collection))  # once the runner is free

        self.runner.finished.connect(retry)

    # -- what the window shows ----------------------------------------------------------------------
    def _on_labels(self, indices) -> None:
        self.counts_changed.emit(self.counts_text())
        if indices is None or self.state.current in set(indices.tolist()):
            self._show_label(self.state.current)

    def _on_notes(self, indices) -> None:
        self.counts_changed.emit(self.counts_text())
        if indices is None or self.state.current in set(indices.tolist()):
            self._show_label(self.state.current)

    def _show_label(self, index: int) -> None:
        if 0 <= index < self.state.n:
            self.metadata.show_label(*self.session.describe(index))
            blind = self.state.blind
            self.metadata.show_note(
                self.session.note(index), "" if blind else self.session.note_history_text(index)
            )

    def close(self) -> None:
        self._poll.stop()
        self.session.close()


def _salvage_here(collection) -> list[str]:
    """The salvage in the calling thread (the session's own :meth:`~LabelSession.salvage`)."""
    from galview.io.label_salvage import salvage_store

    return salvage_store(collection).lines()
