"""Guided backpropagation (Springenberg et al. 2015) on a copy of a model, for any Keras backend.

Guided backpropagation changes only the backward pass of every ReLU: a gradient flows back through a
unit when the unit was active in the forward pass *and* the incoming gradient is positive. GalView
builds a separate copy of the serving model whose ReLUs (``activation="relu"`` on any layer, and
plain ``ReLU`` layers) are replaced by :func:`guided_relu`, a ``keras.ops.custom_gradient`` function,
so the same code runs under TensorFlow, JAX and PyTorch. The serving model is never touched; the copy
holds its own weights (copied once, when it is built).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.ops.custom_gradient
def guided_relu(x: Any) -> Any:
    """ReLU forward; backward passes ``upstream`` only where ``x > 0`` and ``upstream > 0``."""

    def grad(*args: Any, upstream: Any = None) -> Any:
        if upstream is None:
            (upstream,) = args
        gate = ops.cast(x > 0, upstream.dtype) * ops.cast(upstream > 0, upstream.dtype)
        return upstream * gate

    return ops.relu(x), grad


def _plain_relu_layer(layer: Any) -> bool:
    """A ``ReLU`` layer with the default parameters (so the guided ReLU is the same forward function)."""
    if not isinstance(layer, keras.layers.ReLU):
        return False
    config = layer.get_config()
    return not config.get("max_value") and not config.get("negative_slope") and not config.get("threshold")


def _guided_copy_of(layer: Any) -> Any:
    """A fresh layer like ``layer`` whose ReLU, if any, is the guided one (weights are set later)."""
    if _plain_relu_layer(layer):
        return keras.layers.Activation(guided_relu, name=layer.name)
    copy = layer.__class__.from_config(layer.get_config())
    if getattr(copy, "activation", None) is keras.activations.relu:
        copy.activation = guided_relu
    return copy


def guided_model(model: Any) -> Any:
    """A copy of ``model`` with guided ReLUs and the same weights; ``model`` is not modified.

    Parameters
    ----------
    model : keras.Model
        A flat functional model (GalView's architectures are).

    Returns
    -------
    keras.Model
        Same forward function, guided backward pass through every ReLU.
    """
    copy = keras.models.clone_model(model, clone_function=_guided_copy_of)
    copy.set_weights(model.get_weights())
    return copy


def count_guided(model: Any) -> int:
    """How many layers of ``model`` use the guided ReLU (a check that the copy took effect)."""
    return sum(getattr(layer, "activation", None) is guided_relu for layer in model.layers)
