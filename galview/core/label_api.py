"""The label store's interface: what callers (the labelling session, the CLI, training) may use.

:class:`galview.io.label_store.LabelStore` (SQLite, one file per collection) is the one backend
today; :func:`galview.io.label_store.open_label_store` opens it for a collection. A second backend
(a shared team store, say) implements this Protocol and callers do not change. Core code types
against this Protocol and never imports ``galview.io``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class LabelStoreAPI(Protocol):
    """Labels of one collection: the user's labels, the file's originals, history and undo.

    Every method that changes labels returns only once the change is durable. Label values are
    class indices, :data:`~galview.core.label_values.UNSURE`, or None (back to the file's label).
    """

    @property
    def path(self) -> Path:
        """Where the store lives (shown to the user)."""

    @property
    def n(self) -> int:
        """Number of cutouts."""

    @property
    def source(self) -> str:
        """The collection the store belongs to (its path as text)."""

    @property
    def fingerprint(self) -> str | None:
        """:func:`~galview.core.collection.fingerprint` of that collection; None if never recorded."""

    def set(self, indices, label, *, user=None, model_id=None, prob=None, seconds=None, description=""):
        """Set (or with None clear) the label of one or more cutouts as one undoable action."""

    def set_many(
        self, changes, *, user=None, model_id=None, prob=None, seconds=None, description="", kind="set",
        unless_changed_since=None,
    ):  # fmt: skip
        """Set different labels on several cutouts as one undoable action: ``changes`` is (index, label) pairs;
        with ``unless_changed_since`` (a ``last_seq()``), not those changed since. The action, or None."""

    def undo(self, user: str | None = None) -> list[int] | None:
        """Undo the last done action (the last of ``user``'s when given); indices changed or None.

        The labels stay the replay of the actions still done: cutouts a newer done action set
        keep their label (and are not in the returned list)."""

    def redo(self, user: str | None = None) -> list[int] | None:
        """Redo the oldest undone action (of ``user`` when given); indices changed or None."""

    def next_step_at(self, undo: bool, user: str | None = None) -> float | None:
        """Unix time the action :meth:`undo` (``undo``) or :meth:`redo` would take next was made; None if none."""

    def current(self) -> np.ndarray:
        """(N,) float64 user labels, NaN where the user set none."""

    def original_labels(self) -> np.ndarray:
        """(N,) float64 labels from the file, NaN where it had none."""

    def effective(self, original=None, user=None) -> np.ndarray:
        """(N,) float64: the user's label where set (``user``: :meth:`current`, if just read), else the
        original; NaN if neither."""

    def get(self, index: int) -> dict:
        """One cutout: index, id, label, user_label, original, origin, changed_at."""

    def history(self, index=None) -> list[dict]:
        """Every change in commit order (of one cutout when ``index`` is given)."""

    def labelled_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """(indices, ids) of the cutouts with a user label, as the store recorded them."""

    def labels_by_user(self) -> dict[str, np.ndarray]:
        """Each person's own labels (the replay of their done actions): user → (N,) float64, NaN for none."""

    def labels_of_user(self, user: str, indices=None) -> np.ndarray:
        """One person's own labels of cutouts ``indices`` (all when None), in their order; NaN for none."""

    def labelling_users(self) -> list[str]:
        """Who set or imported labels in the store (sorted)."""

    def rebindings(self) -> list[dict]:
        """Times the store was re-bound to another collection (``force``), oldest first."""

    def ids(self) -> np.ndarray:
        """(N,) cutout ids as text."""

    def last_seq(self) -> int:
        """Number of the newest change: poll it to notice another program's changes."""

    def changed_since(self, seq: int) -> np.ndarray:
        """Sorted indices changed after change number ``seq``."""

    def set_note(self, index: int, text: str, *, user: str | None = None) -> int | None:
        """Write cutout ``index``'s note (``""`` clears it), durable on return; None if unchanged.
        Earlier versions are kept (:meth:`note_history`)."""

    def set_notes(self, indices, text: str, *, user: str | None = None) -> list[tuple[int, int]]:
        """Write one note on several cutouts in one durable transaction; (index, number) of those changed."""

    def change_notes(self, texts, *, user=None, expected=None) -> list[tuple[int, int, str]]:
        """Write each cutout's own note (``{index: text}``) in one durable transaction, only where its
        note still is ``expected[index]`` when given; (index, number, note replaced) of those changed."""

    def note(self, index: int) -> str:
        """Cutout ``index``'s note, ``""`` when it has none."""

    def notes(self) -> dict[int, str]:
        """Every note that is not empty, by cutout index."""

    def note_history(self, index: int | None = None) -> list[dict]:
        """Every version of every note (of one cutout when ``index`` is given), oldest first."""

    def last_note_seq(self) -> int:
        """Number of the newest note: poll it to notice another program's notes."""

    def import_csv(self, path, classes=...) -> list[int]:
        """Import labels from a CSV file as one undoable action; indices changed."""

    def export(self, path) -> Path:
        """Write the labels to .csv, .fits or .h5."""

    def close(self) -> None:
        """Release the store; committed labels are already durable."""
