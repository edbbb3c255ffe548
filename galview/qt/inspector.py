"""Another inspector's labels beside yours (Labels ▸ Compare with another inspector's labels…).

The other person's label store or CSV file is read without touching it
(:mod:`galview.io.other_labels`); the grid then sorts by the ``inspector`` ranking — the cutouts
you gave different classes first, then those one of you was unsure of — the status bar says how
often you agree (Cohen's κ with its interval), and the metadata panel shows their label beside
yours for the current cutout. "Take the other inspector's label" gives the selection (or the
current cutout) their labels as one undoable action. The ranking is the one computed when you
compared: relabelling a disagreement does not move it in the grid (compare again for that), while
the metadata panel always shows where the two of you stand now.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtWidgets import QApplication, QFileDialog

from galview.core.agreement import RANKING, Agreement
from galview.core.errors import UserFacingError
from galview.core.label_values import label_name
from galview.core.words import count

#: What the file dialog offers: a label store or a CSV file.
OTHER_LABELS_FILTER = "Labels (*.sqlite *.csv);;All files (*)"


class InspectorController(QObject):
    """Compares the window's labels with another inspector's.

    Signals
    -------
    message(str), error(str)
        For the status bar and the error dialog.
    """

    message = pyqtSignal(str)
    error = pyqtSignal(str)

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(parent)
        self.window, self.state = window, window.state
        self.other = None  # the OtherLabels compared with, for the open collection
        self.state.collection_changed.connect(self._forget)
        self.state.current_changed.connect(lambda _i: self.show_current())
        self.state.labels_changed.connect(lambda _indices: self.show_current())

    def ask_file(self) -> None:
        """Ask for the other inspector's label store or CSV file, then compare."""
        if self.state.collection is None:
            self.message.emit("Open a collection first")
            return
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Another inspector's labels (their label store or CSV file)", "", OTHER_LABELS_FILTER
        )
        if path:
            self.compare_with(path)

    def compare_with(self, path) -> bool:
        """Read the other inspector's labels from ``path`` and sort the grid by disagreement."""
        from galview.qt.label_controller import other_inspector_labels

        collection, session = self.state.collection, self.window.labelling.session
        if collection is None:
            self.message.emit("Open a collection first")
            return False
        own = session.store.path if session.store is not None else None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # 0.8 s for a store of a million cutouts
        try:
            other = other_inspector_labels(path, collection, session.classes, own_store=own)
        except (UserFacingError, OSError) as exc:
            self.error.emit(str(exc))
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self.other = other
        agreement = self.agreement()
        self.state.set_ranking(agreement.ranking(other.name))
        self.state.set_sorting(sort=RANKING)
        self.message.emit(f"{other.description}: {agreement.summary(other.name)}")
        return True

    def agreement(self) -> Agreement | None:
        """Your labels (those you set) against theirs, now; None before a comparison."""
        if self.other is None or len(self.other.values) != self.state.n:
            return None
        return Agreement(self.state.user_labels, self.other.values, self.window.labelling.classes)

    def take_theirs(self) -> bool:
        """Give the selection (or the current cutout) the other inspector's labels, as one undoable action;
        cutouts they did not label are left alone."""
        if self.other is None:
            self.message.emit("Compare with another inspector's labels first (Labels menu)")
            return False
        targets = self.state.label_targets()
        theirs = {i: int(self.other.values[i]) for i in targets if np.isfinite(self.other.values[i])}
        if not theirs:
            self.message.emit(
                f"{self.other.name} has no label for {'these cutouts' if len(targets) > 1 else 'this cutout'}"
            )
            return False
        done = self.window.labelling.session.label_each(theirs, f"labels of {self.other.name}")
        if done:
            skipped = len(targets) - len(theirs)
            left = f"; {count(skipped, 'cutout')} they did not label left alone" if skipped else ""
            self.message.emit(
                f"{count(len(theirs), 'cutout')} given {self.other.name}'s label (Ctrl+Z undoes){left}"
            )
        return done

    def show_current(self) -> None:
        """Their label beside yours for the current cutout, in the metadata panel."""
        agreement, index = self.agreement(), self.state.current
        if agreement is None or not 0 <= index < self.state.n:
            self.window.metadata.show_inspector("—")
            return
        if self.state.blind:
            self.window.metadata.show_inspector("hidden during the re-check")
            return
        classes = agreement.classes
        theirs, mine = agreement.theirs[index], agreement.mine[index]
        status = agreement.status_of(index)
        text = f"{self.other.name}: {_name(theirs, classes)} · you: {_name(mine, classes)}"
        if status in ("agree", "disagree", "unsure", "both unsure"):
            text += f" — {status}"
        self.window.metadata.show_inspector(text)

    def _forget(self, _collection) -> None:
        self.other = None
        self.show_current()


def _name(value, classes) -> str:
    """A label's name, or "no label" where that inspector set none (NaN)."""
    return "no label" if np.isnan(value) else label_name(value, classes)
