"""Metrics agree with scikit-learn and Keras; bootstrap intervals behave like intervals."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn import metrics as skm

from galview.ml.metrics import binary_metrics, multiclass_metrics, multilabel_metrics, roc_auc
from galview.ml.scoring import predicted_classes


def _scores(n, seed, separation=0.3, decimals=2):
    """Noisy scores with many ties (rounded), positives higher on average."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 + separation * y + rng.normal(0, 0.25, n), 0, 1).round(decimals)
    return y, p


@pytest.mark.parametrize("seed", range(5))
def test_auc_equals_sklearn_with_ties(seed):
    y, p = _scores(300, seed, decimals=1 + seed % 3)
    assert roc_auc(y, p) == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert binary_metrics(y, p, n_boot=0)["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)


def test_auc_edge_cases():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert np.isnan(roc_auc([1, 1, 1], [0.2, 0.4, 0.9]))


def test_binary_point_metrics_equal_sklearn():
    y, p = _scores(500, 7)
    assert (p == 0.6).any()  # ties at the threshold: predicted negative, as in Keras
    result = binary_metrics(y, p.reshape(-1, 1), threshold=0.6, n_boot=10)
    pred = (p > 0.6).astype(int)
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert result["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert result["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert result["confusion"] == skm.confusion_matrix(y, pred).tolist()
    assert (result["n"], result["n_positive"], result["threshold"]) == (500, int(y.sum()), 0.6)
    nobody = binary_metrics([0, 1], [0.1, 0.2], n_boot=0)  # nothing predicted positive
    assert np.isnan(nobody["precision"]) and nobody["recall"] == 0


def test_bootstrap_intervals_contain_the_estimate_and_narrow_with_n():
    small = binary_metrics(*_scores(200, 1), seed=3)
    large = binary_metrics(*_scores(5000, 1), seed=3)
    for key in ("accuracy", "precision", "recall", "roc_auc"):
        for result in (small, large):
            low, high = result["ci95"][key]
            assert low < result[key] < high, (key, result[key], low, high)
        width_small = np.subtract(*small["ci95"][key][::-1])
        width_large = np.subtract(*large["ci95"][key][::-1])
        assert width_large < width_small / 3  # ~ 1/sqrt(25) = 1/5
    # a 95% interval spans ±1.96 standard errors: sqrt(a (1 - a) / n) for an accuracy a
    accuracy = large["accuracy"]
    expected = 2 * 1.96 * np.sqrt(accuracy * (1 - accuracy) / 5000)
    assert np.subtract(*large["ci95"]["accuracy"][::-1]) == pytest.approx(expected, rel=0.1)
    again = binary_metrics(*_scores(200, 1), seed=3)
    assert again["ci95"] == small["ci95"]
    assert binary_metrics(*_scores(200, 1), seed=4)["ci95"] != small["ci95"]


def test_predictions_and_confusion_decide_like_keras_at_one_half():
    """p = 0.5 exactly is negative in the score files' classes, in the confusion matrix and in Keras."""
    half = np.float32(0.5)
    below, above = np.nextafter(half, np.float32(0)), np.nextafter(half, np.float32(1))
    p = np.array([below, below, half, half, above, above], np.float32)
    y = np.array([0, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(predicted_classes(p[:, None], "binary"), [0, 0, 0, 0, 1, 1])
    # A card whose positive class is 0: the sigmoid gives P(class 0), so "positive" is class 0.
    np.testing.assert_array_equal(
        predicted_classes(p[:, None], "binary", positive_class=0), [1, 1, 1, 1, 0, 0]
    )
    result = binary_metrics(y, p, n_boot=0)
    assert result["confusion"] == [[3, 1], [1, 1]]  # [[tn, fp], [fn, tp]]: only `above` is positive
    keras_accuracy = keras.ops.convert_to_numpy(keras.metrics.binary_accuracy(y[:, None], p[:, None]))
    assert result["accuracy"] == pytest.approx(float(keras_accuracy.mean())) == pytest.approx(4 / 6)
    at_threshold = binary_metrics([0, 1], [0.7, 0.7], threshold=0.7, n_boot=0)
    assert at_threshold["confusion"] == [[1, 0], [1, 0]]


def test_binary_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="0 or 1"):
        binary_metrics([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="shape"):
        binary_metrics([0, 1, 1], [0.1, 0.2])


def test_multiclass_metrics_equal_sklearn():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 400)
    logits = rng.normal(size=(400, 3)) + 1.5 * np.eye(3)[y]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    result = multiclass_metrics(y, probs, n_boot=200)
    pred = probs.argmax(axis=1)
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    np.testing.assert_allclose(result["precision"], skm.precision_score(y, pred, average=None))
    np.testing.assert_allclose(result["recall"], skm.recall_score(y, pred, average=None))
    assert result["confusion"] == skm.confusion_matrix(y, pred).tolist()
    low, high = result["ci95"]["accuracy"]
    assert low < result["accuracy"] < high and high - low < 0.15
    with pytest.raises(ValueError, match="0..2"):
        multiclass_metrics([0, 3], probs[:2])


def test_multilabel_metrics_equal_keras():
    rng = np.random.default_rng(9)
    targets = rng.random((6, 37)).astype(np.float32)
    probs = rng.random((6, 37)).astype(np.float32)
    result = multilabel_metrics(targets, probs)
    keras_bce = keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(targets, probs)).mean()
    keras_mse = keras.ops.convert_to_numpy(keras.losses.mean_squared_error(targets, probs)).mean()
    assert result["bce"] == pytest.approx(float(keras_bce), rel=1e-4)
    assert result["mse"] == pytest.approx(float(keras_mse), rel=1e-5)
    assert result["rmse"] == pytest.approx(np.sqrt(result["mse"]))
    assert len(result["mse_per_output"]) == 37 and result["n"] == 6
    certain = multilabel_metrics([[1.0, 0.0]], [[0.0, 1.0]])  # confidently wrong: clipped, not infinite
    assert certain["bce"] == pytest.approx(-np.log(1e-7), rel=1e-6) and certain["mse"] == 1
    with pytest.raises(ValueError):
        multilabel_metrics(targets, probs[:, :5])
