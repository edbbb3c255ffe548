"""Confident learning in numpy: thresholds, confident joint, flags and ranking, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.confident import (
    confident_joint,
    confident_thresholds,
    label_issue_scores,
    off_diagonal_issues,
    rank_suspects,
    stratified_folds,
)

# Six examples, two classes; column 1 is p(class 1).
HAND_LABELS = np.array([0, 0, 0, 1, 1, 1])
HAND_P1 = np.array([0.1, 0.2, 0.9, 0.8, 0.7, 0.3])
HAND_PROBS = np.column_stack([1 - HAND_P1, HAND_P1])


def noisy_problem(n=2000, k=2, noise=0.1, seed=0):
    """True classes, model probabilities that mostly favour them, and labels with ``noise`` flipped."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), truth] += 2.5
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = truth.copy()
    flipped = rng.choice(n, int(noise * n), replace=False)
    labels[flipped] = (truth[flipped] + rng.integers(1, k, len(flipped))) % k
    return labels, probs, flipped


def test_thresholds_and_joint_by_hand():
    # t0 = mean p0 over labelled 0 = (0.9 + 0.8 + 0.1) / 3; t1 = (0.8 + 0.7 + 0.3) / 3
    np.testing.assert_allclose(confident_thresholds(HAND_LABELS, HAND_PROBS), [0.6, 0.6])
    # confident guesses: 0, 0, 1 | 1, 1, 0  → rows given label, columns guess
    np.testing.assert_array_equal(confident_joint(HAND_LABELS, HAND_PROBS, calibrate=False), [[2, 1], [1, 2]])
    np.testing.assert_array_equal(confident_joint(HAND_LABELS, HAND_PROBS), [[2, 1], [1, 2]])


def test_flags_scores_and_order_by_hand():
    scores, flagged = label_issue_scores(HAND_LABELS, HAND_PROBS)
    np.testing.assert_allclose(scores, [-0.8, -0.6, 0.8, -0.6, -0.4, 0.4])
    np.testing.assert_array_equal(np.flatnonzero(flagged), [2, 5])
    # flagged first (by score), then the rest by score, ties (1 and 3) in index order
    np.testing.assert_array_equal(rank_suspects(HAND_LABELS, HAND_PROBS), [2, 5, 4, 1, 3, 0])


def test_calibration_rescales_rows_to_label_counts():
    labels = np.array([0, 0, 0, 0, 1, 1])
    p1 = np.array([0.05, 0.1, 0.5, 0.9, 0.9, 0.8])  # example 2 is confident in neither class
    joint = confident_joint(labels, np.column_stack([1 - p1, p1]), calibrate=False)
    np.testing.assert_array_equal(joint, [[2, 1], [0, 1]])
    np.testing.assert_array_equal(confident_joint(labels, np.column_stack([1 - p1, p1])), [[3, 1], [0, 2]])


@pytest.mark.parametrize("k", [2, 3])
def test_flipped_labels_rank_first(k):
    labels, probs, flipped = noisy_problem(k=k)
    order = rank_suspects(labels, probs)
    top = order[: int(1.5 * len(flipped))]
    assert np.isin(flipped, top).mean() >= 0.9
    scores, flagged = label_issue_scores(labels, probs)
    assert np.isin(np.flatnonzero(flagged), flipped).mean() >= 0.8  # flags are mostly real errors
    assert scores[flipped].mean() > scores[np.setdiff1d(np.arange(len(labels)), flipped)].mean()


def test_under_confident_class_is_not_flagged_wholesale():
    # Class 1 is right everywhere, but the model never gives it more than ~0.45: argmax would call
    # every class-1 label wrong; per-class thresholds do not.
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], 200)
    p1 = np.where(labels == 1, rng.uniform(0.35, 0.48, 400), rng.uniform(0.0, 0.1, 400))
    probs = np.column_stack([1 - p1, p1])
    assert not label_issue_scores(labels, probs)[1].any()
    assert not off_diagonal_issues(labels, probs).any()
    assert (probs.argmax(axis=1) != labels).sum() == 200


def test_class_without_examples_gets_no_confident_guesses():
    labels = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1]])
    assert np.isinf(confident_thresholds(labels, probs)[2])
    assert confident_joint(labels, probs)[:, 2].sum() == 0
    scores, _ = label_issue_scores(labels, probs)
    assert rank_suspects(labels, probs)[0] == 1 and scores[1] == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("labels", "probs", "match"),
    [
        ([0, 1], [[0.5, np.nan], [0.2, 0.8]], "NaN"),
        ([0, 2], [[0.5, 0.5], [0.2, 0.8]], "0..1"),
        ([0, -1], [[0.5, 0.5], [0.2, 0.8]], "0..1"),
        ([0.0, 0.5], [[0.5, 0.5], [0.2, 0.8]], "whole"),
        ([0.0, np.nan], [[0.5, 0.5], [0.2, 0.8]], "whole"),
        ([0, 1, 1], [[0.5, 0.5], [0.2, 0.8]], "labels must be"),
        ([0, 1], [[0.5], [0.8]], "K >= 2"),
        ([0, 1], [[1.5, -0.5], [0.2, 0.8]], r"\[0, 1\]"),
    ],
)
def test_bad_inputs_are_refused(labels, probs, match):
    with pytest.raises(ValueError, match=match):
        label_issue_scores(np.array(labels), np.array(probs))


def test_stratified_folds_are_even_per_class_and_seeded():
    labels = np.array([0] * 10 + [1] * 7)
    fold = stratified_folds(labels, 3, seed=4)
    for value in (0, 1):
        counts = np.bincount(fold[labels == value], minlength=3)
        assert counts.max() - counts.min() <= 1
    assert np.bincount(fold).max() - np.bincount(fold).min() <= 1
    np.testing.assert_array_equal(fold, stratified_folds(labels, 3, seed=4))
    with pytest.raises(ValueError, match="at least 2"):
        stratified_folds(labels, 1)


@pytest.mark.parametrize("k", [2, 3])
def test_same_flags_as_cleanlab(k):
    filters = pytest.importorskip("cleanlab.filter")  # optional: not a GalView dependency
    labels, probs, _ = noisy_problem(n=1500, k=k, seed=3)
    ours = label_issue_scores(labels, probs)[1]
    theirs = filters.find_label_issues(labels, probs, filter_by="prune_by_noise_rate", n_jobs=1)
    np.testing.assert_array_equal(ours, theirs)
