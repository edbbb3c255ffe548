"""The Labels menu: label keys (rebindable, kept in the settings), undo/redo, queues, re-check, files.

Every action calls the labelling session (through the window's :class:`LabelController`), the
triage controller or the state; the menu holds no state of its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QInputDialog,
    QKeySequenceEdit,
    QMessageBox,
)

from galview.core.consistency import SelfConsistencyCheck
from galview.core.errors import UserFacingError
from galview.core.label_values import UNSURE
from galview.core.words import count
from galview.qt import note_dialog
from galview.qt.dialog_buttons import answer_buttons
from galview.qt.review import select_by_value

RECHECK_SIZE = 20


def default_keys(classes) -> dict[str, str]:
    """Action name → key: digits for the classes (1 = LSBG, 0 = artifact), U, Backspace, undo/redo."""
    keys = {f"class_{k}": str(k) for k in range(min(len(classes), 10))}
    return keys | {
        "unsure": "U",
        "clear": "Backspace",
        "undo": "Ctrl+Z",
        "redo": "Ctrl+Shift+Z",
        "review": "Q",
        "note": "N",
    }


class LabelMenu(QObject):
    """Builds and keeps up to date the window's Labels menu over a :class:`LabelController`."""

    def __init__(self, window, controller, triage):
        super().__init__(window)
        self.window, self.controller, self.triage = window, controller, triage
        self.session = controller.session
        self.session.undo_mine = window.settings.value("labels/undo_mine", False, type=bool)
        self.menu = window.menuBar().addMenu("&Labels")
        self.actions: dict[str, QAction] = {}
        window.state.collection_changed.connect(self._collection_opened)
        window.state.blind_changed.connect(lambda on: self.actions["stop_recheck"].setEnabled(on))
        self.session.recheck_done.connect(self._recheck_done)
        self.rebuild()

    @property
    def check(self) -> SelfConsistencyCheck | None:
        """The blind re-check running, if one is."""
        return self.session.recheck

    def key(self, name: str) -> str:
        """The key bound to action ``name`` (the user's choice, else the default)."""
        default = default_keys(self.controller.classes).get(name, "")
        return str(self.window.settings.value(f"keys/{name}", default))

    def rebuild(self) -> None:
        """(Re)create the menu: the class actions follow the active model's classes."""
        self.menu.clear()
        self.actions.clear()
        for k, name in enumerate(self.controller.classes[:10]):
            self._add(f"class_{k}", f"Label as {name}", lambda _=False, k=k: self.controller.label(k))
        self._add("unsure", "Label as unsure (kept, not trained on)", lambda: self.controller.label(UNSURE))
        self._add("clear", "Back to the file's label", lambda: self.controller.label(None))
        self._add("note", "Write a &note on this cutout…", self.ask_note)
        self.menu.addSeparator()
        self._add("undo", "&Undo the last label or note", self.controller.undo)
        self._add("redo", "&Redo the last label or note undone", self.controller.redo)
        auto = self._add("auto_advance", "Auto-advance after labelling", self._set_auto_advance)
        auto.setCheckable(True)
        auto.setChecked(self.controller.auto_advance)
        mine = self._add("undo_mine", "Undo only my own labels", self._set_undo_mine)
        mine.setCheckable(True)
        mine.setChecked(self.session.undo_mine)
        mine.setToolTip("When several people label the same collection, Ctrl+Z undoes only what you did")
        self.menu.addSeparator()
        self._add("select_top", "Select the first k in the grid…", self.ask_select_top)
        self._add("select_value", "Select by the ranking's value…", self.ask_select_value)
        self._add("review", "Send to the review &queue", lambda: self.window.review.send())
        self._add("unreview", "Take off the review queue", lambda: self.window.review.remove())
        self._add("suspects", "Find suspected label errors", self.triage.find_suspects)
        self._add("compare", "&Compare with other inspectors' labels…", self.window.inspector.ask_files)
        self._add(
            "compare_again", "Compare &again with the same inspectors", self.window.inspector.compare_again
        )
        self._add(
            "compare_people",
            "Compare the &people who labelled this store",
            self.window.inspector.compare_people,
        )
        self._add(
            "take_theirs",
            "Take the other inspector's label (with several, the majority's)",
            self.window.inspector.take_theirs,
        )
        self._add(
            "recheck", f"Blind re-check of {RECHECK_SIZE} labelled cutouts", lambda: self.start_recheck()
        )
        self._add("stop_recheck", "Stop the re-check", self.stop_recheck).setEnabled(self.window.state.blind)
        self.menu.addSeparator()
        self._add("export", "&Export labels…", self.ask_export)
        self._add("import", "&Import labels from CSV…", self.ask_import)
        self._add("keys", "Label &keys…", self.ask_keys)
        self._add("class_names", "Class &names…", self.ask_class_names)
        self._add("recover", "Recover labels from a damaged store…", self.controller.offer_salvage)

    def _add(self, name: str, text: str, slot) -> QAction:
        action = QAction(text, self.window)
        key = self.key(name)
        if key:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(slot)
        self.menu.addAction(action)
        self.actions[name] = action
        return action

    def ask_note(self) -> None:
        """Ask for the note of the current cutout, or of the selection when several are selected (shown as
        it is to edit, or their common note); an empty note clears it."""
        state = self.window.state
        targets = state.label_targets()
        if state.collection is None or not targets:
            self.window.statusBar().showMessage("Choose a cutout to write a note on", 5000)
            return
        if state.blind:
            self.window.statusBar().showMessage("Notes are hidden during the blind re-check", 5000)
            return
        notes = {self.session.note(i) for i in targets}
        common = notes.pop() if len(notes) == 1 else ""
        if len(targets) == 1:
            index = targets[0]
            title = f"Note on #{index}"
            prompt = (
                f"Note on #{index} ({state.collection.id_of(index)}), kept with its label; earlier versions "
                "are kept too. Empty: no note."
            )
        else:
            title = f"Note on {len(targets):,} cutouts"
            differ = "" if common or not notes else " (their notes differ)"
            prompt = (
                f"One note on the {len(targets):,} selected cutouts{differ}: it replaces theirs, whose earlier "
                "versions are kept. Empty: no note."
            )
        text, ok = note_dialog.ask_note_text(self.window, title, prompt, common)
        if ok:
            self.controller.set_note(text, targets)

    def _set_auto_advance(self, on: bool) -> None:
        self.controller.auto_advance = bool(on)

    def _set_undo_mine(self, on: bool) -> None:
        self.session.undo_mine = bool(on)
        self.window.settings.setValue("labels/undo_mine", bool(on))

    # -- selection and re-check ------------------------------------------------------------------
    def ask_select_top(self) -> None:
        k, ok = QInputDialog.getInt(
            self.window, "Select the top of the grid", "How many cutouts?", 10, 1, 100000
        )
        if ok:
            self.select_top(k)

    def select_top(self, k: int) -> list[int]:
        """Select the first ``k`` cutouts shown (a ranking's top k); the next label key labels them all."""
        chosen = self.window.state.select_first(k)
        self.window.statusBar().showMessage(
            f"{count(len(chosen), 'cutout')} selected: a label key labels them all"
        )
        return [int(i) for i in chosen]

    def ask_select_value(self) -> None:
        """Ask for a threshold on the values of the ranking the grid is sorted by, and select."""
        state = self.window.state
        ranking = state.rankings.get(state.sorting.sort)
        if ranking is None:
            self.window.statusBar().showMessage("Sort the grid by a ranking (a similarity search, say) first")
            return
        finite = ranking.values[np.isfinite(ranking.values)]
        if not finite.size:
            return
        top = ranking.values[state.order[: min(10, len(state.order))]]
        start = float(np.nanmin(top) if ranking.descending else np.nanmax(top))
        word = "at least" if ranking.descending else "at most"
        value, ok = QInputDialog.getDouble(
            self.window, "Select by value", f"Select the cutouts whose value in '{ranking.title}' is {word}:",
            start, float(finite.min()), float(finite.max()), ranking.decimals + 1,
        )  # fmt: skip
        if ok:
            self.select_value(value)

    def select_value(self, threshold: float) -> list[int]:
        """Select the cutouts past ``threshold`` in the ranking shown; a label key or Q takes them all."""
        chosen = select_by_value(self.window.state, threshold)
        self.window.statusBar().showMessage(
            f"{count(len(chosen), 'cutout')} selected: a label key labels them all, Q sends them to the review queue"
        )
        return chosen

    def start_recheck(self, size: int = RECHECK_SIZE, seed=None) -> SelfConsistencyCheck | None:
        """Show a random sample of labelled cutouts with their labels hidden; keys answer the re-check."""
        return self.session.start_recheck(size, seed)

    def _recheck_done(self, summary: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Self-consistency", summary, parent=self.window)
        box.open()
        self.window.statusBar().showMessage(summary)

    def stop_recheck(self) -> None:
        """Leave the re-check: labels show again and the grid returns to its sort order."""
        self.session.stop_recheck()

    # -- files and keys -----------------------------------------------------------------------------
    def ask_export(self) -> None:
        """Ask for a file, then write the labels to it in the background."""
        if self.session.store is None:
            self.window.statusBar().showMessage("No labels set in GalView yet: nothing to export")
            return
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export labels", "labels.csv", "CSV (*.csv);;FITS table (*.fits);;HDF5 (*.h5)"
        )
        if path:
            self.controller.start_export(path)

    def ask_import(self) -> None:
        """Ask for a CSV file, then import its labels in the background (one undoable action)."""
        if self.window.state.collection is None:
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Import labels", "", "CSV (*.csv)")
        if path:
            self.controller.start_import(path)

    # -- class names -------------------------------------------------------------------------------
    def _settings_key(self, collection) -> str:
        import hashlib

        source = os.fsencode(Path(collection.source).resolve())  # file names need not be UTF-8
        return "class_names/" + hashlib.sha1(source).hexdigest()[:16]

    def _collection_opened(self, collection) -> None:
        """Names given earlier for this collection (Labels ▸ Class names…) come back; then the menu follows."""
        if collection is not None and collection.class_names is None:
            remembered = self.window.settings.value(self._settings_key(collection), "")
            if remembered:
                try:
                    collection.set_class_names(str(remembered))
                except UserFacingError:
                    pass  # settings from another version: the file's own (none) stay
        self.rebuild()
        self.window.state.set_labels(self.window.state.labels)  # panels and counts use the names

    def ask_class_names(self) -> None:
        collection = self.window.state.collection
        if collection is None:
            return
        text, ok = QInputDialog.getText(
            self.window,
            "Class names",
            "Names of the label values 0, 1, … separated by commas (e.g. artifact, LSBG):",
            text=", ".join(self.controller.classes),
        )
        if ok:
            self.set_class_names(text)

    def set_class_names(self, text: str) -> bool:
        """Name the open collection's label values (remembered for this collection)."""
        collection = self.window.state.collection
        try:
            collection.set_class_names(text)
        except UserFacingError as exc:
            self.window.show_error(str(exc))
            return False
        self.window.settings.setValue(self._settings_key(collection), ",".join(collection.class_names))
        self.rebuild()
        self.window.state.set_labels(self.window.state.labels)
        return True

    def ask_keys(self) -> None:
        dialog = KeyDialog(
            {name: (a.text(), self.key(name)) for name, a in self.actions.items()}, self.window
        )
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.set_keys(dialog.keys())

    def set_keys(self, keys: dict[str, str]) -> bool:
        """Bind actions to keys (saved in the settings) and rebuild the menu; False, with the reason
        shown and nothing changed, when a key is another action's (Qt would then run neither)."""
        clash = self._clash(keys)
        if clash:
            self.window.show_error(f"Label keys not changed: {clash}; choose another key")
            return False
        for name, key in keys.items():
            self.window.settings.setValue(f"keys/{name}", key)
        self.rebuild()
        return True

    def _clash(self, keys: dict[str, str]) -> str | None:
        """Why ``keys`` cannot be bound: a key another menu holds, or one key for two label actions."""
        from galview.qt.help_menu import bindings, key_text

        ours = set(self.actions.values())
        taken = {key: f"{path} ▸ {text}" for key, text, path, action in bindings(self.window.menuBar())
                 if action not in ours}  # fmt: skip
        wanted = {name: self.key(name) for name in self.actions} | dict(keys)
        chosen: dict[str, str] = {}
        for name, key in wanted.items():
            text = key_text(key)
            what = self.actions[name].text().replace("&", "") if name in self.actions else name
            if not text:
                continue
            if text in taken:
                return f"{text} is already {taken[text]}"
            if text in chosen:
                return f"{text} was chosen for both {chosen[text]!r} and {what!r}"
            chosen[text] = what
        return None


class KeyDialog(QDialog):
    """One key editor per action: ``{name: (text, key)}``."""

    def __init__(self, actions: dict[str, tuple[str, str]], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Label keys")
        form = QFormLayout(self)
        self.editors = {}
        for name, (text, key) in actions.items():
            editor = QKeySequenceEdit(QKeySequence(key))
            form.addRow(text.replace("&", ""), editor)
            self.editors[name] = editor
        buttons = answer_buttons(self)
        form.addRow(buttons)

    def keys(self) -> dict[str, str]:
        return {name: editor.keySequence().toString() for name, editor in self.editors.items()}
