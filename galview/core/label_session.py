"""Labelling without a window: label keys, undo and redo, the blind re-check, store ↔ state syncing.

:class:`LabelSession` owns the open collection's label store (anything implementing
:class:`~galview.core.label_api.LabelStoreAPI`, opened by a function the caller passes in, so core
never imports ``galview.io``) and keeps the state's ``labels`` and ``user_labels`` equal to it.
Every change is committed to the store before the state shows it. The Qt controller only turns
keys into calls and the session's messages into the status bar.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

import numpy as np
from psygnal import Signal

from galview.core.consistency import SelfConsistencyCheck
from galview.core.errors import DamagedStore, StoreOfAnotherCollection, UserFacingError
from galview.core.label_api import LabelStoreAPI
from galview.core.label_filter import class_show
from galview.core.label_values import UNSURE, class_names_for, label_name, labels_in_use
from galview.core.note_undo import NoteEdit, NoteEdits

logger = logging.getLogger(__name__)

#: Reloading more changed cutouts than this reads the whole store at once.
RELOAD_ONE_BY_ONE = 1000

#: ``open_store(collection, create, force=False)``: the collection's store, or None when ``create``
#: is False and there is none yet. Raises UserFacingError (or OSError) when it cannot be opened,
#: :class:`~galview.core.errors.StoreOfAnotherCollection` when it belongs to another collection
#: (``force=True`` re-binds it).
StoreOpener = Callable[..., LabelStoreAPI | None]

#: ``salvage(collection)``: recover the readable labels of the collection's damaged store into a new
#: store in its place (:func:`galview.io.label_salvage.salvage_store`); returns the report's lines.
#: Raises UserFacingError (or OSError) when it cannot.
StoreSalvager = Callable[..., list[str]]


class LabelSession:
    """The labels of the state's collection, kept in step with its label store.

    Parameters
    ----------
    state : ViewerState
    open_store : StoreOpener
        Opens the collection's store; called with ``create=False`` when a collection is opened
        (nothing is written until the first label) and ``create=True`` at the first label.
    undo_mine : bool
        Undo and redo only this user's actions (default: the store's last action, anyone's).

    Signals
    -------
    message(str), error(str)
        For the status bar and the error dialog.
    recheck_done(str)
        The blind re-check is complete; the summary.
    rebind_asked(object)
        The collection's store belongs to another collection of the same size (the
        :class:`~galview.core.errors.StoreOfAnotherCollection`); labelling is off until
        :meth:`rebind` is called.
    salvage_offered(object)
        The collection's store is damaged (the :class:`~galview.core.errors.DamagedStore`) and a
        ``salvage`` function was given; labelling is off until :meth:`salvage` succeeds. Without
        ``salvage`` the problem goes to ``error``.
    """

    message = Signal(str)
    error = Signal(str)
    recheck_done = Signal(str)
    rebind_asked = Signal(object)
    salvage_offered = Signal(object)

    def __init__(
        self, state, open_store: StoreOpener, undo_mine: bool = False, salvage: StoreSalvager | None = None
    ):
        self.state = state
        self.open_store = open_store
        self.salvage_store = salvage
        self.undo_mine = undo_mine
        self.store: LabelStoreAPI | None = None
        self.broken: str | None = None  # why the store cannot be opened, if it cannot
        self.damaged: DamagedStore | None = None  # the store's damage, until it is salvaged
        self.auto_advance = True
        self.recheck: SelfConsistencyCheck | None = None
        self.user: str | None = None  # None: the login name (the store's default)
        self._seen_seq = 0
        self._seen_note_seq = 0
        self.note_edits = NoteEdits()  # notes written here, for Ctrl+Z (labels' undo is the store's)
        self._shown_at = time.monotonic()
        state.collection_changed.connect(self._on_collection)
        state.current_changed.connect(self._on_current)

    # -- names --------------------------------------------------------------------------------
    @property
    def classes(self) -> tuple[str, ...]:
        """Class names by label value: the collection's (:func:`class_names_for`), never the model's."""
        return class_names_for(self.state.collection, self.state.labels)

    # -- the store -----------------------------------------------------------------------------
    def _on_collection(self, collection) -> None:
        self.close()
        self.recheck = None
        self.broken = self.damaged = None
        if collection is None:
            return
        try:
            self.store = self.open_store(collection, False)
        except StoreOfAnotherCollection as exc:
            self.store, self.broken = None, str(exc)
            logger.warning("label store of another collection: %s", exc)
            self.rebind_asked.emit(exc)
        except DamagedStore as exc:
            self.store, self.broken, self.damaged = None, str(exc), exc
            logger.warning("label store damaged: %s", exc)
            if self.salvage_store is None:
                self.error.emit(f"Labels cannot be saved, so labelling is off: {exc}")
            else:
                self.salvage_offered.emit(exc)
        except (UserFacingError, OSError, ValueError) as exc:
            self.store, self.broken = None, str(exc)
            self.error.emit(f"Labels cannot be saved, so labelling is off: {exc}")
        if self.store is not None:
            self._seen_seq = self.store.last_seq()
            self.reload()

    def rebind(self) -> bool:
        """Re-bind the store that belongs to another collection to this one (recorded in its history)."""
        if self.state.collection is None:
            return False
        try:
            self.store = self.open_store(self.state.collection, True, force=True)
        except (UserFacingError, OSError, ValueError) as exc:
            self.error.emit(f"The label store could not be re-bound: {exc}")
            return False
        self.broken = None
        self._seen_seq = self.store.last_seq()
        self.reload()
        self.message.emit(f"Label store {self.store.path} now belongs to this collection")
        return True

    def salvage(self) -> bool:
        """Recover the readable labels of the damaged store into a new one and label on with it
        (here, in this thread; the window runs ``salvage`` as a job and calls :meth:`salvaged`)."""
        collection = self.state.collection
        if collection is None or self.salvage_store is None:
            return False
        try:
            report = self.salvage_store(collection)
        except (UserFacingError, OSError, ValueError) as exc:
            self.error.emit(f"The labels could not be recovered: {exc}")
            return False
        return self.salvaged(report, collection)

    def salvaged(self, report: list[str], collection) -> bool:
        """The damaged store of ``collection`` was salvaged (``report``, its lines): open the new one."""
        logger.info("label store salvaged: %s", "; ".join(report))
        if collection is not self.state.collection:  # another collection was opened meanwhile
            self.message.emit("; ".join(report[:2]))
            return False
        try:
            self.store = self.open_store(collection, False)
        except (UserFacingError, OSError, ValueError) as exc:
            self.broken = str(exc)
            self.error.emit(f"{report[0]}, but the new store cannot be opened, so labelling is off: {exc}")
            return False
        self.broken = self.damaged = None
        if self.store is not None:
            self._seen_seq = self.store.last_seq()
            self.reload()
        self.message.emit("; ".join(report[:2]))
        return True

    def ensure_store(self) -> bool:
        """Open the store, creating it if needed (at the first label); False, with a message, if not."""
        if self.store is not None:
            return True
        if self.broken is None and self.state.collection is not None:
            try:
                self.store = self.open_store(self.state.collection, True)
            except (UserFacingError, OSError, ValueError) as exc:
                self.broken = str(exc)
                logger.warning("label store cannot be opened: %s", exc)
                self.error.emit(f"Labels cannot be saved, so labelling is off: {exc}")
                return False
            self._seen_seq = self.store.last_seq()
            self.reload()
            return True
        return False

    def reload(self, indices=None) -> None:
        """Labels from the store into the state: all of them, or only ``indices`` (cheap for many)."""
        store, state = self.store, self.state
        if indices is None:
            self._reload_notes()
        if indices is None or len(indices) > RELOAD_ONE_BY_ONE:
            user = store.current()
            state.set_labels(labels_in_use(state.collection, store, user), indices, user_labels=user)
            return
        labels, user = state.labels.copy(), state.user_labels.copy()
        for i in indices:
            info = store.get(int(i))
            labels[i] = np.nan if info["label"] is None else info["label"]
            user[i] = np.nan if info["user_label"] is None else info["user_label"]
        state.set_labels(labels, indices, user_labels=user)

    def _reload_notes(self, indices=None) -> None:
        """The store's notes into the state (``indices``: the cutouts whose note changed, if known)."""
        try:
            self._seen_note_seq = self.store.last_note_seq()
            notes = self.store.notes()
        except UserFacingError as exc:  # a damaged notes table: the labels stay usable
            self._note_damage(exc)
            self.error.emit(f"The notes on cutouts cannot be read: {exc}")
            notes, indices = {}, None
        self.state.set_notes(notes, indices)

    def poll(self) -> bool:
        """Take in label changes and notes another program made to the same store; True if there were any.
        Skipped (False) while another thread uses the store: the next poll looks again."""
        if self.store is None:
            return False
        try:
            with self.store.held_if_free() as free:
                if not free:
                    return False
                if self.store.last_note_seq() > self._seen_note_seq:
                    self._reload_notes()
                seq = self.store.last_seq()
                if seq <= self._seen_seq:
                    return False
                changed = self.store.changed_since(self._seen_seq)
                self._seen_seq = seq
        except UserFacingError as exc:
            self._note_damage(exc)
            self.error.emit(str(exc))
            return False
        self.reload(changed)
        return True

    def _note_damage(self, exc: Exception) -> None:
        """A store found damaged while in use can be salvaged too (Labels ▸ Recover labels…)."""
        if isinstance(exc, DamagedStore):
            self.damaged = exc

    def close(self) -> None:
        self.note_edits.clear()
        if self.store is not None:
            self.store.close()
            self.store = None

    # -- labelling -----------------------------------------------------------------------------
    def label(self, value: int | None, indices=None) -> bool:
        """Label ``indices`` (default: the selection or the current cutout) with ``value`` (None clears).

        Returns True once the store has committed the change; during a blind re-check the key
        answers the re-check instead and nothing is written.
        """
        indices = self.state.label_targets() if indices is None else [int(i) for i in indices]
        if not indices:
            return False
        if self.recheck is not None and value is not None:
            return self._answer_recheck(indices[0], value)
        indices = list(dict.fromkeys(indices))
        if not self._commit(dict.fromkeys(indices, value), self._provenance(indices)):
            return False
        what = label_name(value, self.classes) if value is not None else "its original label"
        self.message.emit(
            f"{len(indices)} cutouts → {what}" if len(indices) > 1 else f"#{indices[0]} → {what}"
        )
        if self.auto_advance and len(indices) == 1 and indices[0] == self.state.current:
            self.advance()
        return True

    def label_each(self, changes: dict[int, int | None], description: str) -> bool:
        """Give each cutout its own label (``{index: value}``; None clears) as one undoable action.

        ``description`` says where the labels came from in the history ("labels of bob.sqlite").
        Returns True once the store has committed them.
        """
        changes = {int(i): changes[i] for i in sorted(changes)}
        if not changes:
            return False
        return self._commit(changes, self._provenance(list(changes)) | {"description": description})

    def _commit(self, changes: dict[int, int | None], extra: dict) -> bool:
        """Write ``changes`` to the store as one action and show them; False, with the reason said, when
        the store cannot take them (nothing is shown then)."""
        saved = "The label was" if len(changes) == 1 else "The labels were"
        if not self.ensure_store():
            self.error.emit(f"{saved} NOT saved: the label store cannot be opened ({self.broken})")
            return False
        try:
            self.store.set_many(list(changes.items()), user=self.user, **extra)
        except (UserFacingError, OSError) as exc:
            logger.warning("label not saved: %s", exc)
            self._note_damage(exc)
            self.error.emit(f"{saved} NOT saved: {exc}")
            return False
        self._seen_seq = self.store.last_seq()
        self.note_edits.labelled()
        self.reload(list(changes))
        return True

    def _provenance(self, indices) -> dict:
        model, scores = self.state.model, self.state.scores
        extra = {"seconds": round(time.monotonic() - self._shown_at, 3)}
        if len(indices) > 1 and self.state.sorting.sort != "file":  # a selection out of a ranking
            extra["description"] = f"{len(indices)} selected in the grid sorted by {self.state.sort_title()}"
        if model is not None:
            extra["model_id"] = model.version
            if scores is not None and scores.model_version == model.version:
                probs = scores.positive_prob()[indices]
                extra["prob"] = [None if np.isnan(p) else float(p) for p in probs]
        return extra

    def advance(self) -> None:
        """Make the next cutout of the display order current."""
        following = self.state.next_after(self.state.current)
        if following >= 0:
            self.state.set_current(following)

    def undo(self) -> bool:
        return self._step(undo=True)

    def redo(self) -> bool:
        return self._step(undo=False)

    def _step(self, undo: bool) -> bool:
        """Undo or redo the newest label action or note written here, whichever came last (first for redo)."""
        nothing = "Nothing to undo" if undo else "Nothing to redo"
        if self.store is None:
            self.message.emit(nothing)
            return False
        user = self.user_name if self.undo_mine else None
        try:
            edit = self.note_edits.next(undo, self.store.next_step_at(undo, user))
            if edit is not None:
                return self._step_note(edit, undo)
            step = self.store.undo if undo else self.store.redo
            changed = step(user=user) if user is not None else step()
        except UserFacingError as exc:
            self._note_damage(exc)
            self.error.emit(str(exc))
            return False
        if changed is None:
            self.message.emit(nothing)
            return False
        self._seen_seq = self.store.last_seq()
        if not changed:  # an action of mine whose cutouts others have relabelled since
            self.message.emit(
                f"{'Undid' if undo else 'Redid'} your last action, but others relabelled its cutouts since:"
                " their labels stay"
            )
            return True
        self.reload(changed)
        self.state.set_current(changed[0])  # show what changed back
        self.message.emit(f"{'Undid' if undo else 'Redid'} the label of {len(changed)} cutout(s)")
        return True

    def _step_note(self, edit: NoteEdit, undo: bool) -> bool:
        """Write back the notes ``edit`` replaced (undo) or wrote (redo), where nobody changed them since."""
        texts, expected = (edit.before, edit.after) if undo else (edit.after, edit.before)
        written = self.store.change_notes(texts, user=self.user, expected=expected)
        self.note_edits.stepped(undo)
        changed = [index for index, _seq, _before in written]
        kept = len(texts) - len(changed)
        verb = "Undid" if undo else "Redid"
        if changed:
            self._reload_notes(changed)
            self.state.set_current(changed[0])
        text = f"{verb} the note on {edit.describe()}"
        if kept:
            text += (
                f"; {kept:,} written since by someone else stay"
                if changed
                else ", but others wrote there since: theirs stay"
            )
        self.message.emit(text)
        return True

    # -- notes ----------------------------------------------------------------------------------
    def note(self, index: int) -> str:
        """Cutout ``index``'s note (``""``: none; hidden during a blind re-check, as labels are)."""
        return "" if self.state.blind else self.state.notes.get(int(index), "")

    def set_note(self, text: str, indices=None) -> bool:
        """Write the note of ``indices`` (an index or several; default: the selection when several are
        selected, else the current cutout); ``""`` clears it.

        Returns True once the store has committed it (or it was already so); earlier versions stay
        in the store's note history.
        """
        if indices is None:
            indices = self.state.label_targets()
        indices = [int(i) for i in np.atleast_1d(indices)]
        if not indices or not all(0 <= i < self.state.n for i in indices):
            return False
        if not self.ensure_store():
            self.error.emit(f"The note was NOT saved: the label store cannot be opened ({self.broken})")
            return False
        try:
            written = self.store.change_notes(dict.fromkeys(indices, text), user=self.user)
        except ValueError as exc:
            self.error.emit(f"The note was NOT saved: {exc}")
            return False
        except (UserFacingError, OSError) as exc:
            logger.warning("note not saved: %s", exc)
            self._note_damage(exc)
            self.error.emit(f"The note was NOT saved: {exc}")
            return False
        where = f"#{indices[0]}" if len(indices) == 1 else f"{len(indices):,} cutouts"
        if not written:
            self.message.emit(f"The note on {where} is unchanged")
            return True
        changed = {index: before for index, _seq, before in written}
        self.note_edits.wrote(NoteEdit(time.time(), changed, dict.fromkeys(changed, text.strip())))
        self._reload_notes(list(changed))
        self.message.emit(f"Note on {where} saved" if text.strip() else f"Note on {where} cleared")
        return True

    def note_history_text(self, index: int, last: int = 4) -> str:
        """The cutout's earlier notes, newest first, one per line ("" when it has had none)."""
        try:
            rows = self.store.note_history(index)[-last - 1 : -1] if self.store is not None else []
        except UserFacingError as exc:  # a damaged notes table: said once where the notes are read
            logger.warning("note history not read: %s", exc)
            return ""
        lines = []
        for row in reversed(rows):
            when = datetime.fromtimestamp(row["at"]).strftime("%Y-%m-%d %H:%M")
            text = " ".join(row["text"].split()) or "(cleared)"
            lines.append(f"{when} {row['user']}: {text}")
        return "\n".join(lines)

    def own_labels(self, indices=None):
        """(len(indices),) float64: the labels you set yourself on cutouts ``indices`` (all when None), as
        the people of the store are compared (:meth:`LabelStoreAPI.labels_by_user`); None without a store."""
        if self.store is None:
            return None
        return self.store.labels_of_user(self.user_name, indices)

    @property
    def user_name(self) -> str:
        """The name your labels are recorded under: the one given, else your login name."""
        return self.user or _login()

    def store_to_import_into(self):
        """The store an import writes into (made now if there is none yet); OSError when labels cannot
        be saved. The window imports into it in a job (``store.import_csv``), then calls :meth:`imported`."""
        if not self.ensure_store():
            raise OSError(f"labels cannot be saved: {self.broken}")
        return self.store

    def imported(self, changed) -> None:
        """Show the labels an import just wrote into the store (``changed``: the indices it changed)."""
        self._seen_seq = self.store.last_seq()
        self.reload(changed)

    def export(self, path):
        """Write the labels to .csv, .fits or .h5; None when nothing was labelled in GalView yet."""
        return None if self.store is None else self.store.export(path)

    def _on_current(self, _index: int) -> None:
        self._shown_at = time.monotonic()

    # -- what a panel shows ---------------------------------------------------------------------
    def counts_text(self) -> str:
        """``"artifact: 54 · LSBG: 58 · unsure: 1 · unlabelled: 0"``."""
        return " · ".join(text for _show, text in self.count_parts())

    def count_parts(self) -> list[tuple[str, str]]:
        """Each count of :meth:`counts_text` with the label filter that shows those cutouts
        (:mod:`galview.core.label_filter`): ``[("class:0", "artifact: 54"), …, ("unlabelled", "unlabelled: 0")]``,
        then ``("noted", "with a note: 2")`` when cutouts have notes."""
        labels = self.state.labels
        if not len(labels):
            return []
        parts = [
            (class_show(k), f"{name}: {int(np.sum(labels == k)):,}") for k, name in enumerate(self.classes)
        ]
        parts.append(("unsure", f"unsure: {int(np.sum(labels == UNSURE)):,}"))
        parts.append(("unlabelled", f"unlabelled: {int(np.isnan(labels).sum()):,}"))
        if self.state.notes and not self.state.blind:
            parts.append(("noted", f"with a note: {len(self.state.notes):,}"))
        return parts

    def describe(self, index: int) -> tuple[str, str]:
        """What the panel says of cutout ``index``: its label with origin, and its latest changes."""
        if self.state.blind:
            return "hidden (blind re-check)", ""
        if self.store is None:
            text = label_name(self.state.labels[index], self.classes)
            return text + (" · from the file" if text != "unlabelled" else ""), "no changes"
        info = self.store.get(index)
        text = label_name(info["label"], self.classes)
        if info["origin"] == "changed":
            text += f" · changed (file: {label_name(info['original'], self.classes)})"
        elif info["origin"] != "original":
            text += f" · {info['origin']}"
        return text, self.history_text(index)

    def history_text(self, index: int, last: int = 4) -> str:
        """The cutout's latest label changes, newest first, one per line."""
        rows = self.store.history(index)[-last:] if self.store is not None else []
        lines = []
        for row in reversed(rows):
            when = datetime.fromtimestamp(row["at"]).strftime("%Y-%m-%d %H:%M")
            old, new = (
                label_name(row[k], self.classes) if row[k] is not None else "—" for k in ("old", "new")
            )
            kind = f", {row['kind']}" if row["kind"] != "set" else ""
            why = f"; {row['description']}" if row.get("description") else ""
            lines.append(f"{when} {old} → {new} ({row['user']}{kind}{why})")
        return "\n".join(lines) or "no changes"

    # -- the blind re-check (self-consistency) --------------------------------------------------------
    def start_recheck(self, size: int, seed=None) -> SelfConsistencyCheck | None:
        """Show a random sample of labelled cutouts with labels and probabilities hidden."""
        try:
            check = SelfConsistencyCheck.sample(self.state.labels, size, seed)
        except ValueError as exc:
            self.message.emit(f"No re-check: {exc}")
            return None
        self.recheck = check
        self.state.set_blind(True)
        self.state.set_order(check.indices)
        self.state.set_current(int(check.indices[0]))
        self.message.emit(f"Blind re-check: label these {len(check)} cutouts again")
        return check

    def stop_recheck(self) -> None:
        """Leave the re-check: labels show again and the grid returns to its sort order."""
        self.recheck = None
        self.state.set_blind(False)
        self.state.refresh_order(force=True)

    def _answer_recheck(self, index: int, value: int) -> bool:
        try:
            done = self.recheck.answer(index, value)
        except ValueError as exc:
            self.message.emit(str(exc))
            return False
        self.message.emit(f"Re-check: {self.recheck.answered} of {len(self.recheck)} answered")
        if done:
            summary = self.recheck.summary(self.classes)
            self.stop_recheck()
            self.message.emit(summary)
            self.recheck_done.emit(summary)
        else:
            self.advance()
        return True


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
