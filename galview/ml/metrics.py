"""Classifier metrics with bootstrap 95% intervals, in numpy alone.

DeepShadows and DeepMerge quote accuracy, precision, recall and ROC AUC with 95% intervals from
1,000 bootstrap resamples of the test set; :func:`binary_metrics` reproduces that. AUC is the
Mann–Whitney statistic on mid-ranks (ties count one half), equal to ``sklearn.metrics.roc_auc_score``.
Each bootstrap resample is expressed as integer weights on the original samples, so one resample
costs O(N) after a single sort.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from galview.core.scores import DECISION_THRESHOLD, is_positive

_EPS = 1e-7  # Keras' clipping for binary cross-entropy


def binary_metrics(
    labels: Any, probs: Any, threshold: float = DECISION_THRESHOLD, n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Accuracy, precision, recall, ROC AUC and confusion matrix, with bootstrap 95% intervals.

    Parameters
    ----------
    labels : array-like of {0, 1}, shape (N,)
        True classes; 1 is the positive class.
    probs : array-like of float, shape (N,) or (N, 1)
        Predicted probability of the positive class.
    threshold : float
        ``probs > threshold`` is predicted positive (:func:`galview.core.scores.is_positive`, the
        rule of Keras' binary accuracy): at the default 0.5, a probability of exactly 0.5 is negative.
    n_boot : int
        Bootstrap resamples (0 for none).
    seed : int
        Seed of the resampling generator.

    Returns
    -------
    dict
        ``accuracy``, ``precision``, ``recall``, ``roc_auc`` (NaN where undefined), ``confusion``
        ``[[tn, fp], [fn, tp]]``, ``n``, ``n_positive``, ``threshold`` and ``ci95``: a dict of
        ``(low, high)`` 2.5/97.5 percentile intervals for accuracy, precision, recall and roc_auc.
    """
    y = _binary_labels(labels)
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if p.shape != y.shape:
        raise ValueError(f"labels have shape {y.shape} but probs {p.shape}")
    cells = 2 * y + is_positive(p, threshold)  # 0 tn, 1 fp, 2 fn, 3 tp
    groups = np.unique(p, return_inverse=True)[1]  # tied scores share a group
    point = _binary_from_weights(np.ones(len(y)), y, cells, groups)
    tn, fp, fn, tp = (int(v) for v in np.bincount(cells, minlength=4))
    result = {**point, "confusion": [[tn, fp], [fn, tp]], "n": len(y), "n_positive": int(y.sum())}
    result["threshold"] = float(threshold)
    rows = [_binary_from_weights(w, y, cells, groups) for w in _bootstrap_weights(len(y), n_boot, seed)]
    result["ci95"] = {key: _interval([row[key] for row in rows]) for key in point}
    return result


def multiclass_metrics(labels: Any, probs: Any, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Accuracy, per-class precision and recall, confusion matrix, bootstrap interval for accuracy.

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        True class indices ``0..K-1``.
    probs : array-like of float, shape (N, K)
        Class probabilities (softmax); the prediction is the arg-max.

    Returns
    -------
    dict
        ``accuracy``, ``precision`` and ``recall`` (lists of K, NaN where undefined), ``confusion``
        (K × K, rows true, columns predicted), ``n`` and ``ci95 = {"accuracy": (low, high)}``.
    """
    y = np.asarray(labels).reshape(-1)
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != y.shape[0]:
        raise ValueError(f"probs must be (N, K) with N = {y.shape[0]}, got {p.shape}")
    k = p.shape[1]
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= k):
        raise ValueError(f"labels must be integers in 0..{k - 1}")
    pred = p.argmax(axis=1)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    correct = (pred == y).astype(np.float64)
    diagonal = np.diag(confusion).astype(np.float64)
    rows = [float(correct @ w / w.sum()) for w in _bootstrap_weights(len(y), n_boot, seed)]
    return {
        "accuracy": _ratio(correct.sum(), len(y)),
        "precision": [_ratio(d, s) for d, s in zip(diagonal, confusion.sum(axis=0), strict=True)],
        "recall": [_ratio(d, s) for d, s in zip(diagonal, confusion.sum(axis=1), strict=True)],
        "confusion": confusion.tolist(),
        "n": len(y),
        "ci95": {"accuracy": _interval(rows)},
    }


def multilabel_metrics(targets: Any, probs: Any) -> dict[str, Any]:
    """Mean squared error and mean binary cross-entropy of vote-fraction predictions.

    Parameters
    ----------
    targets, probs : array-like of float in [0, 1], shape (N, K)

    Returns
    -------
    dict
        ``mse``, ``rmse``, ``bce`` (Keras' clipped binary cross-entropy, averaged over all
        entries), ``mse_per_output`` (list of K) and ``n``.
    """
    t = np.asarray(targets, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    if t.shape != p.shape or t.ndim != 2:
        raise ValueError(f"targets and probs must both be (N, K), got {t.shape} and {p.shape}")
    squared = (p - t) ** 2
    q = np.clip(p, _EPS, 1 - _EPS)
    bce = -(t * np.log(q) + (1 - t) * np.log(1 - q))
    mse = float(squared.mean())
    return {
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "bce": float(bce.mean()),
        "mse_per_output": squared.mean(axis=0).tolist(),
        "n": int(t.shape[0]),
    }


def paired_accuracy_difference(
    labels: Any, pred_before: Any, pred_after: Any, n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Accuracy after minus accuracy before on the same cutouts, with a paired bootstrap 95% interval.

    Each resample draws cutouts (with replacement) and scores both predictions on the same draw,
    so the interval reflects the cutouts on which the two disagree, not two independent samples.

    Parameters
    ----------
    labels, pred_before, pred_after : array-like of int, shape (N,)
        True classes and the two predicted classes.

    Returns
    -------
    dict
        ``accuracy_before``, ``accuracy_after``, ``difference`` (after − before), ``ci95`` (low,
        high) of the difference, ``supported`` (the interval excludes 0), ``n``, ``n_better``
        (cutouts only the second gets right) and ``n_worse`` (only the first).
    """
    y = np.asarray(labels).reshape(-1)
    first = (np.asarray(pred_before).reshape(-1) == y).astype(np.float64)
    second = (np.asarray(pred_after).reshape(-1) == y).astype(np.float64)
    if first.shape != second.shape:
        raise ValueError(f"predictions have shapes {first.shape} and {second.shape}")
    gain = second - first
    rows = [float(gain @ w / w.sum()) for w in _bootstrap_weights(len(y), n_boot, seed)]
    low, high = _interval(rows)
    return {
        "accuracy_before": _ratio(first.sum(), len(y)),
        "accuracy_after": _ratio(second.sum(), len(y)),
        "difference": _ratio(gain.sum(), len(y)),
        "ci95": (low, high),
        "supported": bool(low > 0 or high < 0),
        "n": len(y),
        "n_better": int((gain > 0).sum()),
        "n_worse": int((gain < 0).sum()),
    }


def roc_auc(labels: Any, probs: Any) -> float:
    """ROC AUC by the Mann–Whitney U statistic (mid-ranks for ties); NaN with one class only."""
    y = _binary_labels(labels)
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    groups = np.unique(p, return_inverse=True)[1]
    return _weighted_auc(np.ones(len(y)), y, groups)


def _binary_from_weights(w: np.ndarray, y: np.ndarray, cells: np.ndarray, groups: np.ndarray) -> dict:
    tn, fp, fn, tp = np.bincount(cells, weights=w, minlength=4)
    return {
        "accuracy": _ratio(tp + tn, tn + fp + fn + tp),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "roc_auc": _weighted_auc(w, y, groups),
    }


def _weighted_auc(w: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """P(score of a positive > score of a negative) + ½ P(tie), each sample counted ``w`` times.

    ``groups`` numbers the distinct scores in increasing order.
    """
    n_groups = int(groups.max()) + 1 if groups.size else 0
    pos = np.bincount(groups, weights=w * (y == 1), minlength=n_groups)
    neg = np.bincount(groups, weights=w * (y == 0), minlength=n_groups)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    below = np.cumsum(neg) - neg  # negatives with a strictly lower score
    return float(pos @ (below + 0.5 * neg) / (n_pos * n_neg))


def _bootstrap_weights(n: int, n_boot: int, seed: int):
    """Yield ``n_boot`` resamples with replacement, each as how often every sample was drawn."""
    if n == 0:
        return
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        yield np.bincount(rng.integers(0, n, size=n), minlength=n).astype(np.float64)


def _interval(values: list[float]) -> tuple[float, float]:
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return (float("nan"), float("nan"))
    low, high = np.percentile(finite, [2.5, 97.5])
    return (float(low), float(high))


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else float("nan")


def _binary_labels(labels: Any) -> np.ndarray:
    y = np.asarray(labels).reshape(-1)
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError("binary labels must be 0 or 1")
    return y.astype(np.int64)
