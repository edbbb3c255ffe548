"""Platt scaling: the fit, its folding into the output layer, and its use after training."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from galview.ml.calibration import calibrate, fit_platt, fold_into_output, log_loss, logits


def _tiny_binary_model(bias: float = 0.0):
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="probability")(hidden)
    model = keras.Model(inputs, outputs)
    kernel, _ = model.get_layer("probability").get_weights()
    model.get_layer("probability").set_weights([kernel, np.array([bias], np.float32)])
    return model


def test_the_fit_recovers_a_known_scale_and_shift():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 20000)
    y = rng.random(20000) < 1 / (1 + np.exp(-(1.7 * z - 0.8)))
    a, c = fit_platt(z, y)
    assert a == pytest.approx(1.7, abs=0.1) and c == pytest.approx(-0.8, abs=0.1)
    assert log_loss(a * z + c, y) < log_loss(z, y)


def test_folding_makes_the_model_compute_the_scaled_logit():
    model = _tiny_binary_model()
    x = np.random.default_rng(1).normal(size=(50, 4)).astype(np.float32)
    before = logits(model.predict_on_batch(x)[:, 0])
    fold_into_output(model, 2.0, -1.0)
    after = logits(model.predict_on_batch(x)[:, 0])
    np.testing.assert_allclose(after, 2.0 * before - 1.0, atol=1e-4)


def test_a_model_that_leans_to_one_class_is_brought_back():
    """The truth is the model's logit minus 2: it calls too many cutouts positive. The fit undoes the lean."""
    model = _tiny_binary_model(bias=2.0)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2000, 4)).astype(np.float32)
    z = logits(model.predict_on_batch(x)[:, 0])
    y = (rng.random(2000) < 1 / (1 + np.exp(-(z - 2.0)))).astype(np.float32)
    batches = [(x[k : k + 256], y[k : k + 256]) for k in range(0, 2000, 256)]
    fit = calibrate(model, batches)
    assert fit.n == 2000 and fit.log_loss_after < fit.log_loss_before - 0.1
    refit = model.predict_on_batch(x)[:, 0]
    assert abs(float(refit.mean()) - float(y.mean())) < 0.03  # leaned far above the rate before
    assert float((1 / (1 + np.exp(-z))).mean()) - float(y.mean()) > 0.2
    assert log_loss(logits(refit), y) == pytest.approx(
        fit.log_loss_after, abs=0.01
    )  # the model itself changed


def test_refuses_what_it_cannot_fit():
    with pytest.raises(ValueError, match="one 0/1 label per logit"):
        fit_platt(np.zeros(3), np.zeros(2))
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probability")(inputs))
    with pytest.raises(ValueError, match="one-unit sigmoid"):
        fold_into_output(model, 1.0, 0.0)


def test_a_fit_that_would_turn_the_ranking_round_only_shifts():
    """Six noisy cutouts against the model's ranking must not flip the model: a stays 1, c moves."""
    z = np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])
    y = np.array([1, 1, 0, 1, 0, 0])
    a, c = fit_platt(z, y)
    assert a == 1.0 and np.isfinite(c)
    a, c = fit_platt(z + 2.0, np.array([1, 0, 1, 0, 1, 0]))  # no ranking, a lean: the shift takes it back
    assert a == 1.0 and c < -1.0


def test_a_model_with_non_finite_outputs_is_not_calibrated():
    model = _tiny_binary_model()
    kernel, bias = model.get_layer("probability").get_weights()
    model.get_layer("probability").set_weights([kernel * np.nan, bias])
    x = np.ones((8, 4), np.float32)
    with pytest.raises(ValueError, match="non-finite outputs"):
        calibrate(model, [(x, np.ones(8))])
