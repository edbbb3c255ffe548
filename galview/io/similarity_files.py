"""Write a similarity search's result as a table: one row per cutout, most similar first."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from galview.core.orientations import orientation_name
from galview.io.writers import write_csv

#: Columns of the table (``reference`` only when there are several references).
COLUMNS = ("rank", "index", "id", "similarity", "orientation")


def similarity_rows(result, ids, order: np.ndarray | None = None) -> list[dict]:
    """Rows (rank from 1, index, id, similarity, orientation[, reference]) for cutouts ``order``.

    Parameters
    ----------
    result : galview.core.similarity.SimilarityResult
    ids : sequence of str, (N,)
        Identifier per cutout.
    order : ndarray of int, optional
        Which cutouts, in which order (default: every ranked cutout, most similar first, then the
        unranked ones with an empty rank and similarity).
    """
    if order is None:
        ranked = result.top(len(result.scores))
        order = np.concatenate([ranked, np.setdiff1d(np.arange(len(result.scores)), ranked)])
    several = len(result.references) > 1
    rows = []
    for rank, index in enumerate(order, start=1):
        score = float(result.scores[index])
        row = {
            "rank": rank if math.isfinite(score) else "",
            "index": int(index),
            "id": str(ids[index]),
            "similarity": f"{score:.6f}" if math.isfinite(score) else "",
            "orientation": "" if result.orientation is None else orientation_name(result.orientation[index]),
        }
        if several:
            row["reference"] = result.references[int(result.best_reference[index])].name
        rows.append(row)
    return rows


def write_similarities(path: str | Path, result, ids, top: int | None = None) -> Path:
    """Write the rows (see :func:`similarity_rows`) of the ``top`` most similar cutouts, or of every cutout
    when None, as CSV (:func:`galview.io.writers.write_csv`: LF line endings, written under a temporary
    name and renamed)."""
    rows = similarity_rows(result, ids, None if top is None else result.top(top))
    header = list((rows or similarity_rows(result, ids))[0])  # nothing ranked: the header alone
    return write_csv(path, header, (list(row.values()) for row in rows))
