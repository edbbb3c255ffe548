"""Which cutouts the grid shows by their labels: all, one class, unsure, unlabelled, set in GalView…

A *show* key names the filter: ``"all"``, ``"class:K"`` (labelled with class K), ``"unsure"``,
``"unlabelled"``, ``"set"`` (labelled by a person in GalView), ``"changed"`` (a person's label
differs from the file's), ``"disagree"`` (the model's class differs from the label) and ``"noted"``
(a person wrote a note on it). Pure numpy:
a million cutouts take milliseconds.
"""

from __future__ import annotations

import numpy as np

from galview.core.label_values import UNSURE

ALL = "all"

#: The filters that are not one class: their short text in the window (after the classes) and the
#: cutouts they keep, in words that follow "the cutouts".
OTHER_SHOWS = {
    "unsure": ("unsure", "labelled unsure"),
    "unlabelled": ("unlabelled", "with no label"),
    "set": ("set in GalView", "labelled by a person in GalView (confirming the file's label or not)"),
    "changed": ("changed label", "whose label a person changed from the file's"),
    "disagree": ("model ≠ label", "whose label is not the active model's class"),
    "noted": ("with a note", "with a note"),
}


def class_show(value: int) -> str:
    """The show key of one class, e.g. ``"class:1"``."""
    return f"class:{int(value)}"


def show_choices(classes) -> list[tuple[str, str, str]]:
    """``(key, text, meaning)`` of every filter, in the order the window offers them; ``meaning``
    follows "the cutouts" (``"labelled LSBG"``, ``"with no label"``).

    Parameters
    ----------
    classes : sequence of str
        Class names by label value (``"labelled LSBG"`` for class 1 named LSBG).
    """
    choices = [(ALL, "all cutouts", "whatever their label")]
    choices += [(class_show(k), f"labelled {name}", f"labelled {name}") for k, name in enumerate(classes)]
    return choices + [(key, text, meaning) for key, (text, meaning) in OTHER_SHOWS.items()]


def check_show(show: str) -> str:
    """``show`` if it is a show key, else ValueError naming the keys."""
    if show == ALL or show in OTHER_SHOWS:
        return show
    if isinstance(show, str) and show.startswith("class:") and show[6:].isdigit():
        return show
    raise ValueError(f"show must be all, class:K or one of {', '.join(OTHER_SHOWS)}; got {show!r}")


def shown_by_labels(
    show: str,
    labels: np.ndarray,
    user_labels: np.ndarray | None = None,
    file_labels: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
    noted=None,
) -> np.ndarray:
    """(N,) bool: the cutouts the filter ``show`` keeps.

    Parameters
    ----------
    show : str
        A show key (module docstring).
    labels : ndarray (N,)
        Labels in use (NaN: none; -1: unsure).
    user_labels : ndarray (N,), optional
        Labels a person set in GalView (NaN where none), for ``"set"`` and ``"changed"``.
    file_labels : ndarray (N,), optional
        The file's own labels (NaN where none), for ``"changed"``.
    predicted : ndarray (N,), optional
        The model's class per cutout (negative where not scored or unreadable), for ``"disagree"``;
        without it ``"disagree"`` keeps nothing.
    noted : iterable of int, optional
        The cutouts with a note, for ``"noted"`` (none without it).
    """
    show = check_show(show)
    labels = np.asarray(labels, dtype=np.float64)
    n = len(labels)
    if show == ALL:
        return np.ones(n, dtype=bool)
    if show.startswith("class:"):
        return labels == int(show[6:])
    if show == "unsure":
        return labels == UNSURE
    if show == "unlabelled":
        return np.isnan(labels)
    user = _or_missing(user_labels, n)
    if show == "set":
        return ~np.isnan(user)
    if show == "changed":
        original = _or_missing(file_labels, n)
        return ~np.isnan(user) & ~np.isnan(original) & (user != original)
    if show == "noted":
        keep = np.zeros(n, dtype=bool)
        keep[np.fromiter(noted or (), dtype=np.int64)] = True
        return keep
    if predicted is None:
        return np.zeros(n, dtype=bool)
    predicted = np.asarray(predicted)
    return (labels >= 0) & (predicted >= 0) & (predicted != labels)


def _or_missing(values, n: int) -> np.ndarray:
    """``values`` as float64 (N,), or all NaN when there are none."""
    return np.full(n, np.nan) if values is None else np.asarray(values, dtype=np.float64)


def filters_in_words(sorting, classes) -> str:
    """The cutouts a :class:`~galview.core.ordering.Sorting` keeps, in words that follow "the cutouts":
    ``"labelled LSBG, with P 0.50–1.00"``; ``""`` when it keeps every cutout."""
    parts = []
    if sorting.show != ALL:
        meanings = {key: meaning for key, _text, meaning in show_choices(classes)}
        parts.append(meanings.get(sorting.show, sorting.show))
    if not sorting.full_range:
        parts.append(f"with P {sorting.p_min:.2f}–{sorting.p_max:.2f}")
    return ", ".join(parts)
