"""Label values, their names and where a cutout's label came from. Pure Python, no I/O.

A label is an integer class index (0, 1, ...) or :data:`UNSURE`; "no label" is ``None``
(or NaN in float arrays).
"""

from __future__ import annotations

import math

import numpy as np

#: Label value for "unsure": kept in the store, excluded from training.
UNSURE = -1

#: Class names used when neither the model card nor the collection names them.
DEFAULT_CLASSES = ("artifact", "LSBG")

#: Where a cutout's current label came from (see :func:`origin`).
ORIGINAL, MINE, CHANGED = "original", "mine", "changed"

_UNSURE_WORDS = ("u", "unsure")


def is_missing(value) -> bool:
    """True for ``None`` and float NaN: no label."""
    return value is None or value != value  # NaN is the only value not equal to itself


def label_name(value, classes=DEFAULT_CLASSES) -> str:
    """Human name of a label value.

    Parameters
    ----------
    value : int, float, or None
        Class index, :data:`UNSURE`, or None/NaN for no label.
    classes : sequence of str
        Class names by index; default ``("artifact", "LSBG")``.

    Returns
    -------
    str
        ``"unlabelled"``, ``"unsure"``, the class name, or the number for an unnamed class.
    """
    if is_missing(value):
        return "unlabelled"
    number = int(value)
    if number == UNSURE:
        return "unsure"
    if 0 <= number < len(classes):
        return str(classes[number])
    return str(number)


def label_value(label) -> int | None:
    """Check a label value for storing: an integer >= -1 (NaN/None: no label, returned as None).

    Raises
    ------
    ValueError
        For fractions, text, booleans or values below :data:`UNSURE`.
    """
    if is_missing(label):
        return None
    if isinstance(label, bool | str | bytes) or not float(label).is_integer() or int(label) < UNSURE:
        raise ValueError(f"a label must be an integer class index, -1 (unsure) or None, got {label!r}")
    return int(label)


def _expected(classes) -> str:
    named = ", ".join(f"{i} or {name!r}" for i, name in enumerate(classes))
    return f"expected {named}, or 'u' (unsure)"


def parse_label(text, classes=DEFAULT_CLASSES) -> int:
    """Turn what a user typed (or a CSV cell) into a label value.

    Accepts a class index (``"1"``, ``"1.0"``, ``1``), a class name in any case
    (``"lsbg"``), or ``"u"``/``"unsure"``/``"-1"`` for :data:`UNSURE`.

    Raises
    ------
    ValueError
        With a message naming the text and the accepted values.
    """
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a label; {_expected(classes)}")
    word = str(text).strip()
    lowered = word.lower()
    if lowered in _UNSURE_WORDS:
        return UNSURE
    for index, name in enumerate(classes):
        if lowered == str(name).lower():
            return index
    try:
        number = float(word)
    except ValueError:
        number = math.nan
    if number.is_integer() and (int(number) == UNSURE or 0 <= int(number) < len(classes)):
        return int(number)
    raise ValueError(f"{word!r} is not a label; {_expected(classes)}")


def origin(original, current) -> str:
    """Where a cutout's label comes from.

    Parameters
    ----------
    original : int, float or None
        Label from the file (None/NaN if the file has none for this cutout).
    current : int, float or None
        Label the user set (None/NaN if the user has set none).

    Returns
    -------
    str
        ``"original"`` when the user set no label or confirmed the file's one,
        ``"mine"`` when the file had no label and the user set one, ``"changed"``
        when the user's label differs from the file's.
    """
    if is_missing(current):
        return ORIGINAL
    if is_missing(original):
        return MINE
    return ORIGINAL if float(current) == float(original) else CHANGED


def numeric_labels(values, classes=DEFAULT_CLASSES) -> np.ndarray:
    """A file's labels as float64 (N,): numbers as they are, text (``"LSBG"``, ``"artifact"``,
    bytes) parsed by class name, NaN where unknown."""
    values = np.asarray(values)
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    return np.array([_parse_or_nan(v, classes) for v in values], dtype=np.float64)


def _parse_or_nan(value, classes) -> float:
    try:
        return float(parse_label(value.decode() if isinstance(value, bytes) else value, classes))
    except ValueError:
        return float("nan")


def file_labels(collection) -> np.ndarray:
    """The collection file's labels as float64 (N,) (text parsed by class name), NaN where none."""
    if collection is None:
        return np.zeros(0, dtype=np.float64)
    if collection.labels is None:
        return np.full(len(collection), np.nan)
    return numeric_labels(collection.labels)


def labels_in_use(collection, store=None, user=None) -> np.ndarray:
    """The one rule for which labels count: the label store's where the collection has one (the
    user's label where set, else the file's as the store recorded it), else the file's.

    ``store`` is anything with ``effective()`` (see :class:`~galview.core.label_api.LabelStoreAPI`),
    or None. Used by the labelling session (the window) and by
    :func:`galview.io.label_choice.current_labels` (the CLI). ``user``: the store's ``current()`` labels
    where the caller has just read them (not read again).
    """
    return store.effective(user=user) if store is not None else file_labels(collection)


def class_names_for(collection, labels=None) -> tuple[str, ...]:
    """What the window and the CLI call the label values of ``collection``.

    The collection's own names (:attr:`~galview.core.collection.Collection.class_names`) when the file
    or the user gave them, else neutral ``"0"``, ``"1"``, … up to the largest label (at least two):
    never another task's names, such as the active model's.
    """
    names = None if collection is None else collection.class_names
    if names:
        return tuple(names)
    largest = 1
    if labels is not None and len(labels):
        finite = np.asarray(labels, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        if finite.size:
            largest = max(1, int(finite.max()))
    return tuple(str(k) for k in range(largest + 1))


def retrained_class_names(model_names, collection_names) -> tuple[tuple[str, ...], str | None]:
    """The classes a model retrained on a collection's labels is named with, and a note when they change.

    The collection's own names when it names as many classes as the model has and they differ: its
    labels teach the model that task (rings and not rings, say, from an LSBG model), and the new
    model must not call a ring an LSBG. Otherwise the model's own names, and no note.
    """
    model_names = tuple(str(n) for n in model_names)
    ours = tuple(str(n) for n in (collection_names or ()))
    if ours and len(ours) == len(model_names) and ours != model_names:
        note = (
            f"classes: {', '.join(ours)}, the collection's (the starting model tells "
            f"{', '.join(model_names)} apart; its class k is read as the collection's class k)"
        )
        return ours, note
    return model_names, None
