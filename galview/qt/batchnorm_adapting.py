"""Model ▸ Adapt the model to this collection: the active model's BatchNorm statistics from the cutouts.

Runs :func:`galview.ml.batchnorm_adapt.adapt_to_collection` as a job (no label is read) and loads the
new version it writes; the version then also appears under Model ▸ Retrained versions.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, QTimer

from galview.core.words import unreadable_cutouts
from galview.qt.controller import WindowController

ADAPT_JOB = "adapt_batchnorm"


class BatchNormAdapting(WindowController):
    """Starts the adaptation and loads its result (its ``message`` and ``error``: :class:`WindowController`)."""

    def __init__(self, window, scoring, parent: QObject | None = None):
        super().__init__(window, parent)
        self.scoring = scoring

    def start(self) -> bool:
        """Adapt the active model to the open collection; False (with a message) if nothing started."""
        model, collection = self.state.model, self.state.collection
        if model is None or collection is None:
            self.error.emit("Open a collection and load a model to adapt it to the collection")
            return False
        unreadable: dict[int, str] = {}  # filled by the job's thread, read once it has returned
        job = self.runner.start(
            ADAPT_JOB,
            model,
            collection,
            on_unreadable=unreadable.__setitem__,
            on_returned=lambda path: QTimer.singleShot(
                0, lambda: self._adapted(path, collection, unreadable)
            ),
            on_errored=lambda exc: self.error.emit(f"The model could not be adapted: {exc}"),
        )
        if job is None:
            self.message.emit(self.runner.busy_message())
            return False
        self.message.emit(
            "Adapting the model's BatchNorm statistics to this collection (no labels are read)…"
        )
        return True

    def _adapted(self, path, collection, unreadable: dict[int, str]) -> None:
        """The new version is written: load it (after the job's end has freed the runner), unless another
        collection was opened meanwhile — the version belongs to the one it was adapted to. Cutouts that
        could not be read (left out of the statistics) are named in the error dialog."""
        if unreadable:
            self.error.emit(unreadable_cutouts(unreadable, left_out_of="the statistics"))
        if collection is not self.state.collection:
            self.message.emit(
                f"Adapted model for {collection.source.name} saved as {path.parent.name}; not made active "
                "(another collection is open: choose it in the Model menu when you need it)"
            )
            return
        self.message.emit(f"Adapted model saved as {path.parent.name}; loading it")
        self.scoring.load_model(path)
