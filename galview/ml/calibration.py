"""Platt scaling of a binary model on held-out cutouts, folded into its output layer.

A model trained on augmented batches (flips, another cutout's surroundings) meets the cutouts as they are at
prediction time, and its probabilities can lean to one class there (issue 14: a model settled by a cosine
learning-rate decay called 30% of its own simulated test artifacts LSBGs). Platt scaling fits
``z' = a·z + c`` to the pre-sigmoid logit ``z`` on held-out labelled cutouts; since ``z = w·f + b`` for the
output layer's weights ``w`` and bias ``b``, the fit is kept by replacing them with ``a·w`` and ``a·b + c``:
the saved model keeps its architecture. Needs numpy and Keras only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OUTPUT_LAYER = "probability"


@dataclass(frozen=True)
class Calibration:
    """A fitted ``z' = a·z + c`` and the held-out log loss before and after (nats per cutout)."""

    a: float
    c: float
    n: int
    log_loss_before: float
    log_loss_after: float

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "c": self.c,
            "fitted_on": f"the validation split ({self.n} cutouts)",
            "log_loss_before": self.log_loss_before,
            "log_loss_after": self.log_loss_after,
        }


def logits(probabilities: np.ndarray) -> np.ndarray:
    """The pre-sigmoid logit of each probability (clipped to 1e-7 from 0 and 1)."""
    p = np.clip(np.asarray(probabilities, np.float64), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def log_loss(z: np.ndarray, labels: np.ndarray) -> float:
    """Mean binary cross-entropy of logits ``z`` against 0/1 ``labels``."""
    y = np.asarray(labels, np.float64)
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def fit_platt(
    z: np.ndarray, labels: np.ndarray, iterations: int = 100, ridge: float = 1e-6
) -> tuple[float, float]:
    """The ``(a, c)`` that minimise the log loss of ``a·z + c`` (Newton's method with step halving).

    As Platt (1999) prescribes, the targets are ``(N₊ + 1)/(N₊ + 2)`` and ``1/(N₋ + 2)`` rather than 1 and
    0, so that a few cleanly separated cutouts do not drive ``a`` to infinity. A fit that would turn the
    model's ranking round (``a`` ≤ 0, a few noisy cutouts) is refused: then only the shift ``c`` is fitted,
    with ``a`` = 1.
    """
    z, y = np.asarray(z, np.float64), np.asarray(labels, np.float64)
    if len(z) != len(y) or not len(z):
        raise ValueError("calibration needs one 0/1 label per logit, and at least one")
    positives = float((y > 0.5).sum())
    y = np.where(y > 0.5, (positives + 1) / (positives + 2), 1 / (len(y) - positives + 2))
    a, c = _newton(np.column_stack([z, np.ones_like(z)]), np.zeros_like(z), y, [1.0, 0.0], iterations, ridge)
    if a <= 0:
        a, (c,) = 1.0, _newton(np.ones((len(z), 1)), z, y, [0.0], iterations, ridge)
    return float(a), float(c)


def _newton(
    x: np.ndarray, offset: np.ndarray, y: np.ndarray, start, iterations: int, ridge: float
) -> np.ndarray:
    """Parameters minimising the mean log loss of ``offset + x @ params`` against soft targets ``y``, from
    ``start`` (the model as it is)."""

    def loss(params: np.ndarray) -> float:
        t = offset + x @ params
        return float(np.mean(np.logaddexp(0.0, t) - y * t) + 0.5 * ridge * params @ params)

    params = np.asarray(start, np.float64)
    current = loss(params)
    for _ in range(iterations):
        p = 0.5 * (1.0 + np.tanh(0.5 * (offset + x @ params)))  # the sigmoid, without overflow
        gradient = x.T @ (p - y) / len(y) + ridge * params
        hessian = (x.T * (p * (1 - p))) @ x / len(y) + ridge * np.eye(x.shape[1])
        step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        scale = 1.0
        while loss(params - scale * step) > current and scale > 1e-8:  # halve until the loss falls
            scale /= 2
        if scale <= 1e-8:
            break
        params = params - scale * step
        previous, current = current, loss(params)
        if previous - current < 1e-12:
            break
    return params


def fold_into_output(model, a: float, c: float, layer_name: str = OUTPUT_LAYER) -> None:
    """Make ``model``'s one-unit sigmoid output compute ``sigmoid(a·z + c)`` instead of ``sigmoid(z)``."""
    layer = model.get_layer(layer_name)
    kernel, bias = layer.get_weights()
    if kernel.shape[-1] != 1:
        raise ValueError(
            f"Platt scaling needs a one-unit sigmoid output; '{layer_name}' has {kernel.shape[-1]}"
        )
    layer.set_weights([kernel * a, bias * a + c])


def calibrate(model, batches) -> Calibration:
    """Fit Platt scaling on labelled ``batches`` (indexable ``(x, y)`` pairs) and fold it into ``model``."""
    z, y = [], []
    for k in range(len(batches)):
        x, targets = batches[k][:2]
        z.append(logits(np.asarray(model.predict_on_batch(x))[:, 0]))
        y.append(np.asarray(targets).reshape(-1))
    z, y = np.concatenate(z), np.concatenate(y)
    if not np.all(np.isfinite(z)):
        raise ValueError("the model gives non-finite outputs on the validation split; nothing to calibrate")
    a, c = fit_platt(z, y)
    fold_into_output(model, a, c)
    return Calibration(a, c, len(z), log_loss(z, y), log_loss(a * z + c, y))
