"""The display order of a collection: cutout indices after sorting by score and filtering.

Pure numpy, O(N log N) at most, so a million cutouts take a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from galview.core.scores import Scores

#: Sort keys and their menu text.
SORTS = {
    "file": "file order",
    "prob_desc": "probability high → low",
    "prob_asc": "probability low → high",
    "uncertain": "most uncertain first",
    "unlabelled": "unlabelled first",
    "suspects": "suspected label errors first",
    "random": "random (blind re-check)",
}

#: Sorts that need model scores (the others work on labels alone).
SCORE_SORTS = ("prob_desc", "prob_asc", "uncertain")


@dataclass(frozen=True)
class Sorting:
    """How the grid orders and filters cutouts: a :data:`SORTS` key and a probability range."""

    sort: str = "file"
    p_min: float = 0.0
    p_max: float = 1.0

    def __post_init__(self):
        if self.sort not in SORTS:
            raise ValueError(f"sort must be one of {tuple(SORTS)}, got {self.sort!r}")
        if not (0.0 <= self.p_min <= self.p_max <= 1.0):
            raise ValueError(f"need 0 <= p_min <= p_max <= 1, got {self.p_min}, {self.p_max}")

    @property
    def full_range(self) -> bool:
        return self.p_min <= 0.0 and self.p_max >= 1.0

    @property
    def identity(self) -> bool:
        """True when the order is plain file order whatever the scores."""
        return self.sort == "file" and self.full_range

    def with_changes(self, **changes) -> Sorting:
        return replace(self, **changes)


def make_order(
    n: int,
    scores: Scores | None,
    sort: str = "file",
    p_min: float = 0.0,
    p_max: float = 1.0,
    labels: np.ndarray | None = None,
    suspects: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Cutout indices in display order.

    Parameters
    ----------
    n : int
        Number of cutouts in the collection.
    scores : Scores or None
        Model scores (NaN rows are unscored); None when nothing is scored.
    sort : str, one of :data:`SORTS`
        File order; positive-class probability high → low or low → high; most uncertain first
        (unscored cutouts last, in file order); unlabelled first (then the labelled, both in file
        order); suspected label errors first (``suspects`` high → low, unranked last); random (a
        permutation fixed by ``seed``). Ties keep file order (stable sort).
    p_min, p_max : float
        Keep cutouts whose probability lies in ``[p_min, p_max]``. Unscored cutouts are kept
        only when the range is the full ``[0, 1]``.
    labels : ndarray (N,), optional
        Current labels, NaN where none (for "unlabelled").
    suspects : ndarray (N,), optional
        Suspected-label-error score per cutout, NaN where not ranked (for "suspects").
    seed : int
        Of the random order.

    Returns
    -------
    ndarray, (M,) int64
        Indices into the collection, M <= n.
    """
    sorting = Sorting(sort, float(p_min), float(p_max))
    if scores is not None and len(scores) != n:
        raise ValueError(f"scores cover {len(scores)} cutouts; the collection has {n}")
    if sorting.full_range:
        keep = np.arange(n, dtype=np.int64)
    elif scores is None:
        keep = np.arange(0, dtype=np.int64)
    else:
        prob = scores.positive_prob()
        low, high = np.float32(sorting.p_min), np.float32(sorting.p_max)  # 0.3 keeps a float32 0.3
        keep = np.flatnonzero(~np.isnan(prob) & (prob >= low) & (prob <= high))
    if sorting.sort == "file":
        return keep
    if sorting.sort == "random":
        return keep[np.random.default_rng(seed).permutation(len(keep))]
    key = _sort_key(n, scores, sorting.sort, labels, suspects)
    if key is None:
        return keep
    key = np.where(np.isnan(key[keep]), np.inf, key[keep])  # unscored / unranked last
    return keep[np.argsort(key, kind="stable")]


def _sort_key(n, scores, sort: str, labels, suspects) -> np.ndarray | None:
    """Ascending key per cutout (NaN: last) for a sort other than file and random order; None: file."""
    if sort == "unlabelled":
        return None if labels is None else np.where(np.isnan(labels), 0.0, 1.0)
    if sort == "suspects":
        return None if suspects is None else -np.asarray(suspects, np.float64)
    if scores is None:
        return None
    prob = scores.positive_prob()
    if sort == "prob_desc":
        return -prob
    if sort == "prob_asc":
        return prob
    return -scores.uncertainty()


def inverse_order(order: np.ndarray, n: int) -> np.ndarray:
    """(n,) int64 position of each cutout in ``order``; -1 for cutouts filtered out."""
    position = np.full(n, -1, dtype=np.int64)
    position[order] = np.arange(len(order), dtype=np.int64)
    return position
