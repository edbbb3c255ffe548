"""Confident learning: which given labels do out-of-sample probabilities dispute? (numpy only).

Northcutt, Jiang & Chuang 2021, "Confident Learning: Estimating Uncertainty in Dataset Labels",
JAIR 70, 1373. This module reproduces cleanlab's default, ``find_label_issues(labels, pred_probs,
filter_by="prune_by_noise_rate")``:

1. Per-class thresholds ``t_j`` = mean ``p_j`` over the examples labelled ``j``: how sure the model
   typically is of class ``j`` where it is the label (this corrects for classes the model is
   systematically more or less confident about).
2. The confident joint ``C[i, j]``: examples labelled ``i`` whose probability for ``j`` reaches
   ``t_j`` (the most probable of those classes when several do), calibrated so each row sums to the
   number of examples labelled ``i``.
3. Prune by noise rate: for every off-diagonal ``(i, j)``, flag the ``C[i, j]`` examples labelled
   ``i`` with the largest margin ``p_j - p_i``; then unflag any example whose arg-max is its label.

Why this filter rather than the plain off-diagonal rule (flag whatever lands off the diagonal of
the confident joint): it is cleanlab's default and the paper's best-performing variant; the
count it flags is an estimate of the number of errors, and *which* examples it takes is decided
by the margin, so a class the model is over-confident about does not flood the queue. Both agree
on most examples; the off-diagonal set is :func:`off_diagonal_issues`.

The ranking score is the normalised margin ``max_{j != y} p_j - p_y`` in [-1, 1] (higher: the
model prefers another class more strongly); :func:`rank_suspects` puts flagged examples first.
"""

from __future__ import annotations

import numpy as np

_TOLERANCE = 1e-6  # cleanlab's slack when comparing a probability with its class threshold


def check_inputs(labels, probs) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert: labels int64 (N,) in 0..K-1, probs float64 (N, K) finite in [0, 1].

    Raises
    ------
    ValueError
        Wrong shapes, labels that are not whole numbers in range, NaN/inf or out-of-range probs.
    """
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probs must be (N, K) with K >= 2 classes, got shape {p.shape}")
    if y.ndim != 1 or len(y) != len(p):
        raise ValueError(f"labels must be (N,) with N = {len(p)}, got shape {y.shape}")
    if not np.isfinite(p).all():
        raise ValueError("probs contain NaN or inf: give out-of-sample probabilities for every example")
    if p.size and (p.min() < -_TOLERANCE or p.max() > 1 + _TOLERANCE):
        raise ValueError("probs must lie in [0, 1]")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.isfinite(y.astype(np.float64)).all() or (y != np.round(y)).any():
            raise ValueError("labels must be whole class indices (no NaN: leave unlabelled ones out)")
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= p.shape[1]):
        raise ValueError(f"labels must lie in 0..{p.shape[1] - 1}, got {y.min()}..{y.max()}")
    return y, p


def confident_thresholds(labels, probs) -> np.ndarray:
    """Per-class thresholds ``t_j`` = mean of ``probs[:, j]`` over examples labelled ``j``.

    Returns
    -------
    ndarray, float64, shape (K,)
        ``inf`` for a class nobody is labelled with: without examples there is no estimate of the
        model's confidence in it, so no example is ever confidently counted into it.
    """
    y, p = check_inputs(labels, probs)
    k = p.shape[1]
    counts = np.bincount(y, minlength=k)
    sums = np.zeros(k)
    np.add.at(sums, y, p[np.arange(len(y)), y])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.inf)


def confident_guesses(labels, probs) -> np.ndarray:
    """The class each example confidently belongs to (``p_j >= t_j``), or -1 where there is none.

    When several classes reach their threshold, the most probable of them is taken (cleanlab takes
    the overall arg-max, which differs only when that class is below its own threshold).
    """
    y, p = check_inputs(labels, probs)
    above = p >= confident_thresholds(y, p) - _TOLERANCE
    guess = np.where(above, p, -np.inf).argmax(axis=1)
    return np.where(above.any(axis=1), guess, -1)


def confident_joint(labels, probs, calibrate: bool = True) -> np.ndarray:
    """The (K, K) confident joint: rows given label, columns confident guess.

    Each present class keeps at least 1 on its diagonal (as cleanlab). With ``calibrate`` the rows
    are rescaled to the label counts and rounded to integers that keep each row's total.
    """
    y, p = check_inputs(labels, probs)
    k = p.shape[1]
    guess = confident_guesses(y, p)
    joint = np.zeros((k, k), dtype=np.int64)
    np.add.at(joint, (y[guess >= 0], guess[guess >= 0]), 1)
    counts = np.bincount(y, minlength=k)
    present = counts > 0
    joint[present, present] = np.maximum(joint[present, present], 1)
    if not calibrate:
        return joint
    scaled = joint / np.maximum(joint.sum(axis=1, keepdims=True), 1) * counts[:, None]
    return _round_rows(scaled)


def _round_rows(matrix: np.ndarray) -> np.ndarray:
    """Round to integers keeping each row's (rounded) total: largest remainders get the extra ones."""
    floors = np.floor(matrix).astype(np.int64)
    short = np.round(matrix.sum(axis=1)).astype(np.int64) - floors.sum(axis=1)
    order = np.argsort(-(matrix - floors), axis=1, kind="stable")
    for row, missing in enumerate(short):
        floors[row, order[row, : max(int(missing), 0)]] += 1
    return floors


def margin_scores(labels, probs) -> np.ndarray:
    """Normalised margin ``max_{j != y} p_j - p_y`` per example, in [-1, 1]; higher is more suspect."""
    y, p = check_inputs(labels, probs)
    rows = np.arange(len(y))
    others = p.copy()
    others[rows, y] = -np.inf
    return others.max(axis=1) - p[rows, y]


def off_diagonal_issues(labels, probs) -> np.ndarray:
    """The simpler rule: flag examples whose confident guess exists and differs from the label."""
    y, p = check_inputs(labels, probs)
    guess = confident_guesses(y, p)
    return (guess >= 0) & (guess != y)


def prune_by_noise_rate(labels, probs) -> np.ndarray:
    """Boolean (N,) mask of label issues, as cleanlab's ``filter_by='prune_by_noise_rate'``."""
    y, p = check_inputs(labels, probs)
    joint = confident_joint(y, p)
    flagged = np.zeros(len(y), dtype=bool)
    for given in range(p.shape[1]):
        members = np.flatnonzero(y == given)
        if len(members) <= 1:  # leave a class with a single example alone (cleanlab's minimum)
            continue
        for other in range(p.shape[1]):
            n_prune = int(joint[given, other])
            if other == given or n_prune <= 0:
                continue
            margin = p[members, other] - p[members, given]
            flagged[members[np.argsort(-margin, kind="stable")[:n_prune]]] = True
    boosted = p.copy()
    boosted[np.arange(len(y)), y] += _TOLERANCE  # ties go to the given label
    return flagged & (boosted.argmax(axis=1) != y)


def label_issue_scores(labels, probs) -> tuple[np.ndarray, np.ndarray]:
    """Suspicion score and confident-learning flag for every example.

    Parameters
    ----------
    labels : array of int, shape (N,)
        Given class indices in ``0..K-1`` (whole-number floats are accepted).
    probs : array of float, shape (N, K)
        Out-of-sample class probabilities; for a one-sigmoid binary model pass
        ``np.column_stack([1 - p, p])``.

    Returns
    -------
    scores : ndarray, float64, shape (N,)
        :func:`margin_scores`: ``max_{j != y} p_j - p_y``, higher is more suspect.
    flagged : ndarray, bool, shape (N,)
        :func:`prune_by_noise_rate`: the examples confident learning calls label errors.
    """
    y, p = check_inputs(labels, probs)
    return margin_scores(y, p), prune_by_noise_rate(y, p)


def suspect_order(scores, flagged) -> np.ndarray:
    """Indices 0..N-1: flagged first, then the rest, each by score descending; ties in index order."""
    scores = np.asarray(scores, dtype=np.float64)
    return np.lexsort((np.arange(len(scores)), -scores, ~np.asarray(flagged, dtype=bool))).astype(np.int64)


def rank_suspects(labels, probs) -> np.ndarray:
    """Indices 0..N-1, most suspect first: flagged examples, then the rest, each by score descending.

    Ties keep index order, so the ranking is deterministic.
    """
    return suspect_order(*label_issue_scores(labels, probs))


def stratified_folds(labels, folds: int, seed: int = 0) -> np.ndarray:
    """Fold number 0..folds-1 per example, each class dealt round-robin over the folds in random order.

    Parameters
    ----------
    labels : array of int, shape (N,)
    folds : int
        At least 2.

    Returns
    -------
    ndarray, int64, shape (N,)
    """
    if int(folds) < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    y = np.asarray(labels)
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    offset = 0
    for value in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == value))
        fold[members] = (np.arange(len(members)) + offset) % folds
        offset += len(members)  # classes continue where the previous one stopped: folds stay even
    return fold
