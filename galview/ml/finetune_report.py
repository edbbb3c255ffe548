"""Before/after of a retraining in numbers and in one honest sentence (no Keras here).

"Before" is the parent's predictions on the labelled cutouts, "after" the out-of-fold predictions
of the models fine-tuned without each cutout's label. The verdict calls a difference only when the
95% interval of the paired bootstrap excludes zero.
"""

from __future__ import annotations

import numpy as np

from galview.core.scores import is_positive
from galview.ml.metrics import binary_metrics, multiclass_metrics, paired_accuracy_difference


def predicted(probs: np.ndarray) -> np.ndarray:
    """Class per row of (n, K) class probabilities: two classes by p(class 1) > 0.5, else arg-max."""
    if probs.shape[1] == 2:
        return is_positive(probs[:, 1]).astype(np.int64)
    return probs.argmax(axis=1).astype(np.int64)


def evaluate(labels: np.ndarray, probs: np.ndarray, seed: int = 0) -> dict:
    """Accuracy (ROC AUC, precision, recall for two classes) with bootstrap 95% intervals."""
    if probs.shape[1] == 2:
        return binary_metrics(labels, probs[:, 1], seed=seed)
    return multiclass_metrics(labels, probs, seed=seed)


def compare(labels: np.ndarray, before: np.ndarray, after: np.ndarray, seed: int = 0):
    """(before metrics, after metrics, paired difference) of two (n, K) probability arrays."""
    difference = paired_accuracy_difference(labels, predicted(before), predicted(after), seed=seed)
    return evaluate(labels, before, seed), evaluate(labels, after, seed), difference


def verdict(difference: dict, folds: int, baseline: str | None = None) -> str:
    """One sentence that never claims a difference the interval does not support.

    ``baseline`` names what "before" was when it was not the parent model (e.g. guessing).
    """
    low, high = difference["ci95"]
    before = f"by {baseline}" if baseline else "before"
    numbers = (
        f"accuracy {difference['accuracy_after']:.3f} after vs {difference['accuracy_before']:.3f} {before} "
        f"({_points(difference['difference'])}, 95% interval {_points(low)} to {_points(high)}; "
        f"{folds}-fold cross-validation on {difference['n']} labels)"
    )
    if difference["supported"] and difference["difference"] > 0:
        return f"Better: {numbers}."
    if difference["supported"] and difference["difference"] < 0:
        return f"Worse: {numbers}" + ("." if baseline else "; keep the parent model.")
    return f"No difference the labels can show: {numbers}; the interval includes 0."


def _points(value: float) -> str:
    return f"{100 * value:+.1f} points"
