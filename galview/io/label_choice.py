"""Which labels to use for a collection: the label store's where it has one, else the file's.

:func:`current_labels` is the one place this rule is written; ``galview train``, ``galview
explain --sheet`` and the window use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from galview.core.label_values import labels_in_use

SOURCES = ("auto", "file", "store")


@dataclass(frozen=True)
class LabelChoice:
    """Labels chosen for a collection and where they came from.

    Attributes
    ----------
    labels : ndarray
        (N,) float64: class index, :data:`~galview.core.label_values.UNSURE` (-1), NaN where none.
    source : str
        ``"store"`` (the label store's effective labels: the user's where set, else the file's as
        recorded in the store), ``"file"`` (the collection file's) or ``"none"`` (all NaN).
    path : Path or None
        The store file when ``source`` is ``"store"``.
    changed : int
        Cutouts whose label was set in GalView (0 unless from the store).
    unsure : int
        Cutouts labelled unsure (training leaves them out).
    """

    labels: np.ndarray
    source: str
    path: Path | None = None
    changed: int = 0
    unsure: int = 0

    @property
    def any(self) -> bool:
        """Whether any cutout has a label (unsure counts)."""
        return bool(np.isfinite(self.labels).any())


def current_labels(collection, store_path=None, source="auto", *, force=False, timeout=None) -> LabelChoice:
    """The labels to use for ``collection``: the store's, else the file's.

    Parameters
    ----------
    collection : Collection
        The cutouts (its ``labels``, ``source`` and fingerprint are used).
    store_path : str or Path, optional
        The store file; default where :func:`~galview.io.label_paths.store_path_for` puts it.
    source : {"auto", "store", "file"}
        ``"auto"``: the store's labels when the store file exists, else the file's (creates
        nothing). ``"store"``: the store's, creating the store if there is none. ``"file"``: the
        file's, never opening a store.
    force : bool
        Re-bind a store made for another collection of the same size (see
        :func:`~galview.io.label_store.open_label_store`).
    timeout : float, optional
        Seconds to wait for another program's lock on the store.

    Returns
    -------
    LabelChoice
        ``source`` ``"none"`` with all-NaN labels when neither store nor file has labels.

    Raises
    ------
    LabelStoreError
        If the store exists but cannot be opened (damaged, another collection, locked).
    ValueError
        For an unknown ``source``.
    """
    from galview.io.label_store import has_label_store, open_label_store

    if source not in SOURCES:
        raise ValueError(f"labels source must be one of {', '.join(SOURCES)}, got {source!r}")
    if source == "store" or (source == "auto" and has_label_store(collection, store_path)):
        with open_label_store(collection, store_path, force=force, timeout=timeout) as store:
            user = store.current()
            labels, path = labels_in_use(collection, store, user), store.path
        return LabelChoice(labels, "store", path, int(np.isfinite(user).sum()), _unsure(labels))
    if collection.labels is None:
        return LabelChoice(np.full(len(collection), np.nan), "none")
    labels = labels_in_use(collection)
    return LabelChoice(labels, "file", unsure=_unsure(labels))


def _unsure(labels: np.ndarray) -> int:
    return int((np.nan_to_num(labels, nan=0.0) < 0).sum())
