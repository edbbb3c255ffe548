"""The grid as shown, as a table: one row per cutout in display order, with what the window knows of it.

What File ▸ Export the grid as shown… writes (e.g. the 50 cutouts most similar to LEDA 074886, or
every cutout labelled LSBG, sorted by probability, with RA/Dec for a follow-up list). Columns:

``rank`` (1 = first shown), ``index``, ``id``, ``ra``, ``dec`` (degrees, when the collection has
positions), ``label`` (value; -1 unsure; empty: none), ``label_name``, ``origin`` (original, mine,
changed), ``note`` (what a person wrote on the cutout; empty: none), then with scores ``p_<class>`` and ``predicted`` (the model's class) and ``model``, and when
the grid is sorted by a ranking that shows a number on the thumbnails, that number (``similarity``,
``label_error``, ``separation_arcsec``…) and, for a cross-match, ``catalogue_name``. Cells are Python numbers and text, an empty text where a value is missing;
probabilities and rankings are rounded to 6 decimals, RA/Dec to 7 (0.4 mas).
"""

from __future__ import annotations

import numpy as np

from galview.core.label_filter import shown_by_labels
from galview.core.label_values import UNSURE, file_labels
from galview.core.scores import UNREADABLE

#: Column names of the rankings' thumbnail numbers (by their badge); others are called ``ranking``.
RANKING_COLUMNS = {
    "sim": "similarity",
    "err": "label_error",
    "Δp": "change_in_p",
    "p": "p_other_model",
    "sep": "separation_arcsec",
    "μe": "mean_mu_eff",
    "≠": "disagreement",
    **{f"{blue}−{red}": f"{blue}_{red}" for blue, red in ("gr", "gi", "gz", "ri", "rz", "iz")},  # colours
}


def shown_table(state, classes) -> dict[str, np.ndarray]:
    """Columns (module docstring) of the cutouts ``state.order`` shows, as object arrays of cells.

    Parameters
    ----------
    state : ViewerState
        The window's state: collection, order, labels, scores and the ranking sorted by.
    classes : sequence of str
        Names of the label values (the labelling session's).
    """
    order = np.asarray(state.order, dtype=np.int64)
    collection = state.collection
    table = {
        "rank": _cells(np.arange(1, len(order) + 1)),
        "index": _cells(order),
        "id": np.asarray(collection.ids, dtype=object)[order],
    }
    coords = collection.readable_coords()
    if coords is not None:
        table["ra"] = _cells(np.asarray(coords[0], np.float64)[order], 7)
        table["dec"] = _cells(np.asarray(coords[1], np.float64)[order], 7)
    labels = np.asarray(state.labels, np.float64)[order]
    table["label"] = _cells(labels, 0)
    table["label_name"] = _label_names(labels, classes)
    table["origin"] = _origins(
        np.asarray(state.user_labels, np.float64)[order], file_labels(collection)[order]
    )
    notes = np.full(len(order), "", dtype=object)
    for row in np.flatnonzero(np.isin(order, list(state.notes))) if state.notes else ():
        notes[row] = state.notes[int(order[row])]
    table["note"] = notes
    if state.scores is not None:
        table.update(_score_columns(state.scores, order))
    ranking = state.sort_ranking
    if ranking is not None and ranking.badge:
        values = ranking.shown if ranking.shown is not None else ranking.values
        table[RANKING_COLUMNS.get(ranking.badge, "ranking")] = _cells(values[order], 6)
    names = getattr(ranking, "matched_names", None)
    if names is not None:  # a cross-match: the source each cutout matched
        table["catalogue_name"] = np.asarray(names, dtype=object)[order]
    theirs = getattr(ranking, "their_names", None)
    if theirs is not None:  # another inspector's labels
        table["other_label"] = theirs[order]
    return table


def table_rows(table: dict[str, np.ndarray]):
    """The rows of :func:`shown_table`, for :func:`galview.io.writers.write_csv`."""
    return zip(*table.values(), strict=True)


def _cells(values: np.ndarray, decimals: int | None = None) -> np.ndarray:
    """Numbers as Python numbers (floats rounded to ``decimals``), NaN as an empty cell."""
    values = np.asarray(values)
    if values.dtype.kind != "f":
        return values.astype(np.int64).astype(object)
    missing = np.isnan(values)
    if decimals is not None:
        values = np.round(values.astype(np.float64), decimals)
    cells = values.astype(object)
    cells[missing] = ""
    if decimals == 0:
        cells[~missing] = values[~missing].astype(np.int64).astype(object)
    return cells


def _label_names(labels: np.ndarray, classes) -> np.ndarray:
    names = np.full(len(labels), "unlabelled", dtype=object)
    names[labels == UNSURE] = "unsure"
    for k, name in enumerate(classes):
        names[labels == k] = str(name)
    other = ~np.isnan(labels) & (labels >= len(classes))
    names[other] = labels[other].astype(np.int64).astype(str)
    return names


def _origins(user: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Where each label came from, as :func:`galview.core.label_values.origin` says it."""
    origins = np.full(len(user), "original", dtype=object)
    origins[~np.isnan(user) & np.isnan(original)] = "mine"
    origins[shown_by_labels("changed", user, user, original)] = "changed"  # the Show box's rule
    return origins


def _score_columns(scores, order: np.ndarray) -> dict[str, np.ndarray]:
    probs = np.asarray(scores.probs, np.float64)[order]
    if scores.binary:
        columns = {f"p_{scores.positive_name}": _cells(probs[:, 0], 6)}
    else:
        columns = {f"p_{name}": _cells(probs[:, k], 6) for k, name in enumerate(scores.class_names)}
    predicted = np.asarray(scores.predicted)[order]
    names = np.full(len(order), "", dtype=object)
    for k, name in enumerate(scores.class_names):
        names[predicted == k] = str(name)
    names[predicted == UNREADABLE] = "unreadable"
    columns["predicted"] = names
    columns["model"] = np.full(len(order), scores.model_name or scores.model_version, dtype=object)
    return columns
