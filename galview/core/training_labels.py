"""Which labels a retraining may learn from: labels a person gave, never a model's, never unsure.

The file's labels count as human, and so do the labels set in the label store, except those a model
set. A model that sets labels (accepting its own suggestions, say) records them with the user
``"model:<version>"`` (:func:`model_user`); the store's ``model_id`` column is not used for this,
because a person's label records the model that was active when it was given. The model card of a
retrained model keeps the labels it learnt from, so the next retraining can say how many changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from galview.core.label_values import UNSURE, file_labels

#: Prefix of the ``user`` recorded with labels that a model, not a person, set.
MODEL_USER_PREFIX = "model:"
#: :func:`learnt_from` of a model trained on the collection without a record of which cutouts.
TRAINED_ON_COLLECTION = -1
#: Label history kinds that set a value (undo and redo only move between values set before).
_SETTING_KINDS = ("set", "import")


def model_user(version: str) -> str:
    """The ``user`` to record with labels set by the model ``version`` (they never train a model)."""
    return f"{MODEL_USER_PREFIX}{version}"


@dataclass(frozen=True)
class TrainingLabels:
    """The human labels of a collection, and what was left out.

    Attributes
    ----------
    indices : ndarray of int64, shape (n,)
        Cutouts with a human class label, ascending.
    labels : ndarray of int64, shape (n,)
        Their class indices.
    counts : dict of int to int
        Labels per class index.
    left_out : dict of str to int
        ``"unsure"``, ``"set by a model"`` and ``"unlabelled"`` cutouts.
    changed_since : int or None
        Cutouts whose human label differs from the labels the parent model was retrained on (added,
        changed or removed); None when the parent's card does not record them.
    """

    indices: np.ndarray
    labels: np.ndarray
    counts: dict[int, int]
    left_out: dict[str, int]
    changed_since: int | None

    def __len__(self) -> int:
        return len(self.indices)

    def summary(self, class_names) -> str:
        """``"112 human labels: 56 LSBG, 56 artifact; 3 unsure left out"``."""
        names = tuple(class_names)

        def name(k: int) -> str:  # a bare number reads as a count: "58 labelled 1", not "58 1"
            text = names[k] if 0 <= k < len(names) else str(k)
            return f"labelled {text}" if text.isdigit() else text

        per_class = ", ".join(f"{n} {name(k)}" for k, n in sorted(self.counts.items(), key=lambda kv: -kv[1]))
        text = f"{len(self)} human labels" + (f": {per_class}" if per_class else "")
        dropped = [f"{n} {what}" for what, n in self.left_out.items() if n and what != "unlabelled"]
        if dropped:
            text += f"; {', '.join(dropped)} left out"
        if self.changed_since is not None:
            text += f"; {self.changed_since} changed since the parent"
        return text


def human_labels(collection, store=None, parent_card=None) -> TrainingLabels:
    """The labels a person gave to ``collection``'s cutouts.

    Parameters
    ----------
    collection : Collection
        Its file labels count as human.
    store : LabelStoreAPI, optional
        The collection's label store: its effective labels are used (the user's where set, else the
        file's), except those set by a model (history user :data:`MODEL_USER_PREFIX`…).
    parent_card : ModelCard, optional
        The card of the model to retrain; its ``training["labels_used"]`` (when recorded) gives
        :attr:`TrainingLabels.changed_since`.

    Returns
    -------
    TrainingLabels
    """
    if store is None:
        values, by_model = file_labels(collection), np.zeros(len(collection), dtype=bool)
    else:
        values = np.asarray(store.effective(), dtype=np.float64)
        by_model = set_by_model(store)
    finite = np.isfinite(values)
    unsure = finite & (values == UNSURE)
    usable = finite & (values >= 0) & ~by_model
    indices = np.flatnonzero(usable).astype(np.int64)
    labels = values[indices].astype(np.int64)
    found, number = np.unique(labels, return_counts=True)
    return TrainingLabels(
        indices=indices,
        labels=labels,
        counts={int(k): int(c) for k, c in zip(found, number, strict=True)},
        left_out={
            "unsure": int((unsure & ~by_model).sum()),
            "set by a model": int((by_model & finite).sum()),
            "unlabelled": int((~finite).sum()),
        },
        changed_since=_changed_since(indices, labels, parent_card),
    )


def set_by_model(store) -> np.ndarray:
    """(N,) bool: cutouts whose current user label was set by a model (see :func:`model_user`).

    The value a cutout holds now was written by the newest ``set``/``import`` row that gave it that
    value (undo and redo return to earlier values); that row's user decides.
    """
    current = np.asarray(store.current(), dtype=np.float64)
    setter: dict[tuple[int, int], str] = {}
    for row in store.history():
        if row.get("kind") in _SETTING_KINDS and row.get("new") is not None:
            setter[(int(row["idx"]), int(row["new"]))] = str(row.get("user") or "")
    flags = np.zeros(len(current), dtype=bool)
    for i in np.flatnonzero(np.isfinite(current)):
        user = setter.get((int(i), int(current[i])), "")
        flags[i] = user.startswith(MODEL_USER_PREFIX)
    return flags


def labels_record(indices, labels) -> dict:
    """What a model card keeps of the labels a model learnt from: ``{"n", "indices", "labels"}``."""
    return {"n": len(indices), "indices": [int(i) for i in indices], "labels": [int(v) for v in labels]}


def _changed_since(indices: np.ndarray, labels: np.ndarray, parent_card) -> int | None:
    training = getattr(parent_card, "training", None) or {}
    record = training.get("labels_used") if isinstance(training, dict) else None
    if not isinstance(record, dict) or "indices" not in record or "labels" not in record:
        return None
    try:
        before = {int(i): int(v) for i, v in zip(record["indices"], record["labels"], strict=True)}
    except (TypeError, ValueError):
        return None
    now = dict(zip(indices.tolist(), labels.tolist(), strict=True))
    return sum(1 for i in before.keys() | now.keys() if before.get(i) != now.get(i))


def learnt_from(card, collection, indices) -> int:
    """How many of ``indices`` (cutouts of ``collection``) the model of ``card`` learnt the labels of.

    Read from the card's ``training.source`` and, for a retrained version, ``labels_used``. A model
    trained on this very collection whose card does not say which cutouts it used (a model trained
    from scratch) gives :data:`TRAINED_ON_COLLECTION`; any other model or collection 0.
    """
    training = getattr(card, "training", None) or {}
    if not isinstance(training, dict) or not training.get("source") or collection is None:
        return 0
    try:
        same = Path(training["source"]).resolve() == Path(collection.source).resolve()
    except (OSError, TypeError, ValueError):
        return 0
    if not same:
        return 0
    record = training.get("labels_used")
    if not isinstance(record, dict):
        return TRAINED_ON_COLLECTION
    try:
        used = {int(i) for i in record.get("indices", ())}
    except (TypeError, ValueError):
        return TRAINED_ON_COLLECTION
    return sum(1 for i in np.asarray(indices).tolist() if i in used)
