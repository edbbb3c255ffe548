"""Other inspectors' labels beside yours (Labels ▸ Compare with other inspectors' labels…).

The other people's label stores or CSV files are read without touching them
(:mod:`galview.io.other_labels`), as a job on the window's runner, so the window stays usable while a
store of a million cutouts is read (at once, under a wait cursor, while another job such as scoring
runs); a result for a collection no longer open is dropped. With one other inspector the grid sorts by
the ``inspector`` ranking — the cutouts the two of you gave different classes first, then those one of
you was unsure of — each thumbnail shows their label, and the status bar says how often you agree
(Cohen's κ with its interval). With several, the ranking puts split votes first (the closest votes
first), each thumbnail shows the majority and its votes, and the status bar gives Krippendorff's α of
the team. The metadata panel shows every inspector's label of the current cutout beside yours, with the
start of the note each wrote on it (their notes in full in its tooltip). "Take the other inspector's
label" gives the selection (or the current cutout) their label — with several, the label the majority
gives — as one undoable action. The order is the one computed when you compared: relabelling a
disagreement does not move it in the grid (Compare again for that), while its thumbnail's mark, the
exported grid and the metadata panel show where you stand now. Where a team shares one store, Labels ▸
Compare the people who labelled this store does the same with each person's own labels (the replay of
their actions still done) in place of files; your own row follows your relabelling there too (the others'
are as read: Compare again).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject
from PyQt6.QtWidgets import QFileDialog

from galview.core.agreement import RANKING, Agreement, inspector_names
from galview.core.consensus import Consensus
from galview.core.label_values import label_name
from galview.core.words import count
from galview.qt.controller import WindowController

#: What the file dialog offers: label stores or CSV files.
OTHER_LABELS_FILTER = "Labels (*.sqlite *.csv);;All files (*)"
#: Remembered in place of files: the people of the collection's own store were compared.
PEOPLE = ":people of the store:"
#: The most of another inspector's note the panel shows beside their label (the tooltip has it all).
NOTE_SHOWN = 40


class InspectorController(WindowController):
    """Compares the window's labels with other inspectors'."""

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(window, parent)
        self.others: list = []  # the OtherLabels compared with, for the open collection
        self.state.collection_changed.connect(self._forget)
        self.state.current_changed.connect(lambda _i: self.show_current())
        self.state.labels_changed.connect(self._follow)

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
        """Start reading the other inspectors' labels from ``paths`` (a job: a store of a million cutouts
        takes 0.65 s, a CSV file 2.3 s; read at once, under a wait cursor, while another job runs); the
        grid then sorts by disagreement. False without a collection."""
        collection, session = self.state.collection, self.window.labelling.session
        if collection is None:
            self.message.emit("Open a collection first")
            return False
        own = session.store.path if session.store is not None else None
        resolved = [str(Path(path).expanduser().resolve()) for path in paths]
        self.runner.start_or_run_here(
            "inspectors", collection, resolved, session.classes, own,
            on_returned=lambda others: self._read(others, collection, resolved),
            on_errored=lambda exc: self._failed(exc, collection),
        )  # fmt: skip
        return True

    def compare_people(self) -> bool:
        """Start comparing the people who labelled this collection's own store, each by their own labels
        (the replay of their actions still done), instead of other inspectors' files (a job, or at once
        while another runs). False without a store."""
        store = self.window.labelling.session.store
        if self.state.collection is None or store is None:
            self.message.emit("No labels in this collection's store yet")
            return False
        collection = self.state.collection
        self.runner.start_or_run_here(
            "store_people", store,
            on_returned=lambda people: self._read_people(people, collection),
            on_errored=lambda exc: self._failed(exc, collection),
        )  # fmt: skip
        return True

    def _failed(self, exc, collection) -> None:
        if collection is self.state.collection:  # else its store may have closed under the reading
            self.error.emit(str(exc))

    def _read(self, others, collection, paths) -> None:
        if collection is self.state.collection:  # else another collection was opened while it ran
            self._remember(paths)
            self._compared(others)

    def _read_people(self, people, collection) -> None:
        if collection is not self.state.collection:
            return
        if len(people) < 2:
            who = f"Only {people[0].name} has" if people else "Nobody has"
            self.message.emit(f"{who} labelled this collection's store: comparing its people needs two")
            return
        self._remember([PEOPLE])
        self._compared(people)

    def _compared(self, others) -> None:
        self.others = others
        names, labels = self._inspectors()
        if len(names) == 2:
            agreement = self.agreement()
            title = None if names[0] == "you" else f"disagreements between {names[0]} and {names[1]} first"
            self.state.set_ranking(agreement.ranking(names[1], title))
            described = others[0].description if names[0] == "you" else f"{names[0]} and {names[1]}"
            message = f"{described}: {agreement.summary(names[1], names[0])}"
        else:
            team = self.team()
            self.state.set_ranking(team.ranking())
            message = team.summary()
        self.state.set_sorting(sort=RANKING)
        self.show_current()  # the current cutout may have stayed where it was
        self.message.emit(message)

    def remembered(self) -> list[str]:
        """What was compared last with the open collection (kept in the settings, per collection): the files
        that still exist, or :data:`PEOPLE` for the people of its own store."""
        if self.state.collection is None:
            return []
        value = self.window.settings.value(f"inspectors/{self.state.fingerprint}", [])
        paths = [value] if isinstance(value, str) else list(value or [])
        if paths == [PEOPLE]:
            return paths
        return [str(path) for path in paths if path and Path(path).is_file()]

    def compare_again(self) -> bool:
        """Start comparing again with what was compared last with this collection (the labels read
        anew); False if nothing was, or it cannot start."""
        paths = self.remembered()
        if not paths:
            self.message.emit("No other inspectors' labels compared with this collection yet (Labels menu)")
            return False
        return self.compare_people() if paths == [PEOPLE] else self.compare_with(*paths)

    def _remember(self, paths) -> None:
        self.window.settings.setValue(f"inspectors/{self.state.fingerprint}", list(paths))

    def _inspectors(self) -> tuple[list[str], list]:
        """(names, labels) of everyone compared: "you" (the labels you set) and each file's inspector, or
        the people of the store; empty before a comparison."""
        if not self.others or any(len(other.values) != self.state.n for other in self.others):
            return [], []
        if self.others[0].person:
            return [other.name for other in self.others], [other.values for other in self.others]
        names = ["you", *inspector_names(other.path for other in self.others)]
        return names, [self.state.user_labels, *[other.values for other in self.others]]

    def agreement(self) -> Agreement | None:
        """The first inspector (you) against the other, now; None unless exactly two are compared."""
        names, labels = self._inspectors()
        return Agreement(labels[0], labels[1], self.window.labelling.classes) if len(names) == 2 else None

    def team(self) -> Consensus | None:
        """Everyone compared, now; None before a comparison."""
        names, labels = self._inspectors()
        return Consensus(names, np.vstack(labels), self.window.labelling.classes) if names else None

    def take_theirs(self) -> bool:
        """Give the selection (or the current cutout) the other inspector's label — with several, or among
        the people of the store, the label the majority gives (:attr:`Consensus.adopted`; none on a tie) —
        as one undoable action; cutouts without one are left alone."""
        if not self.others:
            self.message.emit("Compare with other inspectors' labels first (Labels menu)")
            return False
        targets = self.state.label_targets()
        one_file = len(self.others) == 1 and not self.others[0].person
        if one_file:
            source, values = f"{self.others[0].name}'s label", self.others[0].values
        else:
            source, values = "the majority label", self.team().adopted
        given = {i: int(values[i]) for i in targets if np.isfinite(values[i])}
        if not given:
            which = "these cutouts" if len(targets) > 1 else "this cutout"
            whose = f"{self.others[0].name} has no label" if one_file else "There is no majority label"
            self.message.emit(f"{whose} for {which}")
            return False
        origin = self.others[0].name if one_file else f"{len(self.team().names)} inspectors' majority"
        done = self.window.labelling.session.label_each(given, f"labels of {origin}")
        if done:
            skipped = len(targets) - len(given)
            left = f"; {count(skipped, 'cutout')} without one left alone" if skipped else ""
            self.message.emit(f"{count(len(given), 'cutout')} given {source} (Ctrl+Z undoes){left}")
        return done

    def show_current(self) -> None:
        """Every compared inspector's label of the current cutout, theirs first, then yours, in the panel."""
        index = self.state.current
        names, labels = self._inspectors()
        if not names or not 0 <= index < self.state.n:
            self.window.metadata.show_inspector("—")
            return
        if self.state.blind:
            self.window.metadata.show_inspector("hidden during the re-check")
            return
        classes = self.window.labelling.classes
        column = np.array([[values[index]] for values in labels])  # this cutout alone: cheap
        words = [f"{name}: {_name(value, classes)}" for name, value in zip(names, column[:, 0], strict=True)]
        notes = self._notes(index)
        for k, note in notes.items():
            line = " ".join(note.split())  # a note's lines on one
            words[k] += f" “{line if len(line) <= NOTE_SHOWN else line[: NOTE_SHOWN - 1] + '…'}”"
        if len(names) == 2:
            status = Agreement(column[0], column[1]).status_of(0)
            shown = ("agree", "disagree", "unsure", "both unsure")
        else:
            status, shown = Consensus(names, column, classes).statuses()[0], ("split", "unsure", "agree")
        text = " · ".join(words[1:] + words[:1])
        tooltip = "\n".join(f"{names[k]}'s note: {note}" for k, note in notes.items())
        self.window.metadata.show_inspector(text + (f" — {status}" if status in shown else ""), tooltip)

    def _notes(self, index: int) -> dict[int, str]:
        """The other inspectors' notes on cutout ``index``, by their place among :meth:`_inspectors`'
        names (after "you" for files; the people of one store carry none: its notes are in the Note row)."""
        first = 0 if self.others and self.others[0].person else 1
        return {k: other.notes[index] for k, other in enumerate(self.others, first) if other.notes.get(index)}

    def _follow(self, indices) -> None:
        """You relabelled: the thumbnails' marks (and the exported grid) follow at once; the order stays
        as compared. Among the people of a store, your own labels of those cutouts are read again (your
        undo may bring back an earlier label of yours, not the store's)."""
        ranking = self.state.rankings.get(RANKING)
        if ranking is not None and self.others:
            indices = np.arange(self.state.n) if indices is None else np.asarray(indices, dtype=np.int64)
            if not self.others[0].person:
                ranking.follow(indices, self.state.user_labels)
            else:
                self._follow_me_among_people(ranking, indices)
        self.show_current()

    def _follow_me_among_people(self, ranking, indices) -> None:
        """Your row among the people of the store brought up to your own labels of ``indices`` (nothing
        when you had labelled none of it when compared: you are not among them)."""
        session = self.window.labelling.session
        rows = [k for k, other in enumerate(self.others) if other.person == session.user_name]
        if not rows or session.store is None or len(self.others[rows[0]].values) != self.state.n:
            return
        mine = self.others[rows[0]].values
        mine[indices] = session.own_labels(indices)
        if len(self.others) == 2:
            ranking.follow(indices, self.others[0].values, theirs=self.others[1].values)
        else:
            ranking.follow(indices, mine, row=rows[0])

    def _forget(self, _collection) -> None:
        self.others = []
        self.show_current()


def _name(value, classes) -> str:
    """A label's name, or "no label" where that inspector set none (NaN)."""
    return "no label" if np.isnan(value) else label_name(value, classes)
