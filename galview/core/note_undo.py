"""Undo and redo of the notes written in a labelling session, in one line with the labels' undo.

The label store keeps every version of every note, so nothing needs undoing to be safe; but a
person who writes a note on the wrong cutout, or on a whole selection by mistake, presses Ctrl+Z as
for a label. :class:`NoteEdits` remembers each note written in this session (which cutouts, the
note each had before, the text written and when) and gives :class:`~galview.core.label_session.
LabelSession` the edit to undo or redo. Which comes first, a note or a label action, follows the
time each was made, so Ctrl+Z walks back through labels and notes as they were done.

Undoing writes the earlier note back as a new version (the store stays append-only), and only on
cutouts whose note is still the one written: a note a colleague wrote since is kept, as their labels
are. The edits live as long as the session's store; labels' undo survives a restart, notes' does not
(their earlier versions stay in the store's note history).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoteEdit:
    """One note written on one or more cutouts.

    Attributes
    ----------
    at : float
        Unix time it was written.
    before, after : dict of int to str
        Each cutout's note before and after (``""``: none).
    """

    at: float
    before: dict[int, str]
    after: dict[int, str]

    def describe(self) -> str:
        """``"#12"`` or ``"3 cutouts"``."""
        return f"#{next(iter(self.after))}" if len(self.after) == 1 else f"{len(self.after):,} cutouts"


class NoteEdits:
    """The session's note edits: a stack to undo and one to redo (a new edit empties the second)."""

    def __init__(self):
        self.done: list[NoteEdit] = []
        self.undone: list[NoteEdit] = []

    def clear(self) -> None:
        """Forget every edit (another store was opened)."""
        self.done.clear()
        self.undone.clear()

    def wrote(self, edit: NoteEdit) -> None:
        """A new note was written: it can be undone, and nothing undone can be redone past it."""
        self.done.append(edit)
        self.undone.clear()

    def labelled(self) -> None:
        """A label was set: as the store drops its undone actions, no undone note is redone past it."""
        self.undone.clear()

    def next(self, undo: bool, label_at: float | None) -> NoteEdit | None:
        """The note edit to undo (or redo) before the labels' next action, made at ``label_at``
        (None: the labels have none); None when the labels' action comes first or there is no edit.

        Undo takes the newer of the newest note edit and the label action; redo the older of the
        edit undone last and the label action redo would take (the one undone last of the labels).
        """
        stack = self.done if undo else self.undone
        if not stack:
            return None
        edit = stack[-1]
        if label_at is None or (edit.at > label_at if undo else edit.at < label_at):
            return edit
        return None

    def stepped(self, undo: bool) -> None:
        """The edit :meth:`next` gave was undone (or redone): move it to the other stack."""
        source, target = (self.done, self.undone) if undo else (self.undone, self.done)
        target.append(source.pop())
