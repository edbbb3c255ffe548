"""Other inspectors' labels beside yours (Labels ▸ Compare with other inspectors' labels…).

The other people's label stores or CSV files are read without touching them
(:mod:`galview.io.other_labels`). With one other inspector the grid sorts by the ``inspector`` ranking —
the cutouts the two of you gave different classes first, then those one of you was unsure of — each
thumbnail shows their label, and the status bar says how often you agree (Cohen's κ with its interval).
With several, the ranking puts split votes first (the closest votes first), each thumbnail shows the
majority and its votes, and the status bar gives Krippendorff's α of the team. The metadata panel shows
every inspector's label of the current cutout beside yours. "Take the other inspector's label" gives the
selection (or the current cutout) their label — with several, the label the majority gives — as one
undoable action. The ranking is the one computed when you compared: relabelling a disagreement does not
move it in the grid (compare again for that), while the metadata panel always shows where you stand now.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, Qt
from PyQt6.QtWidgets import QApplication, QFileDialog

from galview.core.agreement import RANKING, Agreement, inspector_names
from galview.core.consensus import Consensus
from galview.core.errors import UserFacingError
from galview.core.label_values import label_name
from galview.core.words import count
from galview.qt.controller import WindowController

#: What the file dialog offers: label stores or CSV files.
OTHER_LABELS_FILTER = "Labels (*.sqlite *.csv);;All files (*)"


class InspectorController(WindowController):
    """Compares the window's labels with other inspectors'."""

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(window, parent)
        self.others: list = []  # the OtherLabels compared with, for the open collection
        self.state.collection_changed.connect(self._forget)
        self.state.current_changed.connect(lambda _i: self.show_current())
        self.state.labels_changed.connect(lambda _indices: self.show_current())

    def ask_files(self) -> None:
        """Ask for other inspectors' label stores or CSV files (one or several), then compare."""
        if self.state.collection is None:
            self.message.emit("Open a collection first")
            return
        paths, _ = QFileDialog.getOpenFileNames(
            self.window, "Other inspectors' labels (their label stores or CSV files)", "", OTHER_LABELS_FILTER
        )
        if paths:
            self.compare_with(*paths)

    def compare_with(self, *paths) -> bool:
        """Read the other inspectors' labels from ``paths`` and sort the grid by disagreement."""
        from galview.qt.label_controller import other_inspector_labels

        collection, session = self.state.collection, self.window.labelling.session
        if collection is None:
            self.message.emit("Open a collection first")
            return False
        own = session.store.path if session.store is not None else None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # 0.65 s a store of a million cutouts
        try:
            others = [
                other_inspector_labels(path, collection, session.classes, own_store=own) for path in paths
            ]
        except (UserFacingError, OSError) as exc:
            self.error.emit(str(exc))
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self.others = others
        self._remember([other.path for other in others])
        if len(others) == 1:
            agreement = self.agreement()
            self.state.set_ranking(agreement.ranking(others[0].name))
            message = f"{others[0].description}: {agreement.summary(others[0].name)}"
        else:
            team = self.team()
            self.state.set_ranking(team.ranking())
            message = team.summary()
        self.state.set_sorting(sort=RANKING)
        self.show_current()  # the current cutout may have stayed where it was
        self.message.emit(message)
        return True

    def remembered(self) -> list[str]:
        """The files compared last with the open collection (kept in the settings, per collection), that still exist."""
        if self.state.collection is None:
            return []
        value = self.window.settings.value(f"inspectors/{self.state.fingerprint}", [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [str(path) for path in paths if path and Path(path).is_file()]

    def compare_again(self) -> bool:
        """Compare with the files compared last with this collection (their labels read anew)."""
        paths = self.remembered()
        if not paths:
            self.message.emit("No other inspectors' labels compared with this collection yet (Labels menu)")
            return False
        return self.compare_with(*paths)

    def _remember(self, paths) -> None:
        self.window.settings.setValue(
            f"inspectors/{self.state.fingerprint}", [str(Path(p).resolve()) for p in paths]
        )

    def agreement(self) -> Agreement | None:
        """Your labels (those you set) against the one other inspector's, now; None unless one was compared."""
        if len(self.others) != 1 or len(self.others[0].values) != self.state.n:
            return None
        return Agreement(self.state.user_labels, self.others[0].values, self.window.labelling.classes)

    def team(self) -> Consensus | None:
        """Your labels and every compared inspector's, now; None before a comparison."""
        if not self.others or any(len(other.values) != self.state.n for other in self.others):
            return None
        names = ("you", *inspector_names(other.path for other in self.others))
        labels = np.vstack([self.state.user_labels, *[other.values for other in self.others]])
        return Consensus(names, labels, self.window.labelling.classes)

    def take_theirs(self) -> bool:
        """Give the selection (or the current cutout) the other inspector's label — with several, the label
        their majority and yours give (:attr:`Consensus.adopted`; none on a tie) — as one undoable action;
        cutouts without one are left alone."""
        if not self.others:
            self.message.emit("Compare with other inspectors' labels first (Labels menu)")
            return False
        targets = self.state.label_targets()
        if len(self.others) == 1:
            source, values = f"{self.others[0].name}'s label", self.others[0].values
        else:
            source, values = "the majority label", self.team().adopted
        given = {i: int(values[i]) for i in targets if np.isfinite(values[i])}
        if not given:
            which = "these cutouts" if len(targets) > 1 else "this cutout"
            whose = (
                f"{self.others[0].name} has no label"
                if len(self.others) == 1
                else "There is no majority label"
            )
            self.message.emit(f"{whose} for {which}")
            return False
        origin = (
            self.others[0].name if len(self.others) == 1 else f"{len(self.others) + 1} inspectors' majority"
        )
        done = self.window.labelling.session.label_each(given, f"labels of {origin}")
        if done:
            skipped = len(targets) - len(given)
            left = f"; {count(skipped, 'cutout')} without one left alone" if skipped else ""
            self.message.emit(f"{count(len(given), 'cutout')} given {source} (Ctrl+Z undoes){left}")
        return done

    def show_current(self) -> None:
        """The other inspectors' labels beside yours for the current cutout, in the metadata panel."""
        index = self.state.current
        if not self.others or not 0 <= index < self.state.n:
            self.window.metadata.show_inspector("—")
            return
        if self.state.blind:
            self.window.metadata.show_inspector("hidden during the re-check")
            return
        agreement = self.agreement()
        if agreement is None:
            self.window.metadata.show_inspector(self._votes_text(index))
            return
        classes = agreement.classes
        theirs, mine = agreement.theirs[index], agreement.mine[index]
        status = agreement.status_of(index)
        text = f"{self.others[0].name}: {_name(theirs, classes)} · you: {_name(mine, classes)}"
        if status in ("agree", "disagree", "unsure", "both unsure"):
            text += f" — {status}"
        self.window.metadata.show_inspector(text)

    def _votes_text(self, index: int) -> str:
        """Every inspector's label of cutout ``index``, theirs first, then yours; the status."""
        names = ("you", *inspector_names(other.path for other in self.others))
        column = np.array(
            [[self.state.user_labels[index]], *[[other.values[index]] for other in self.others]]
        )
        one = Consensus(names, column, self.window.labelling.classes)  # this cutout alone: cheap
        words = one.votes_text(0).split(" · ")
        status = one.statuses()[0]
        text = " · ".join(words[1:] + words[:1])
        return text + (f" — {status}" if status in ("split", "unsure", "agree") else "")

    def _forget(self, _collection) -> None:
        self.others = []
        self.show_current()


def _name(value, classes) -> str:
    """A label's name, or "no label" where that inspector set none (NaN)."""
    return "no label" if np.isnan(value) else label_name(value, classes)
