"""The self-supervised encoder, the projection head it trains with, and the NT-Xent loss (SimCLR).

The encoder is a flat functional Keras graph from a prepared cutout (``S × S × C``, see
:func:`galview.ml.contrastive_views.prepare`) to a ``D``-dimensional embedding: four stages of
3×3 convolution, batch normalisation and ReLU, each halving the image, then global average pooling
and a linear Dense layer. Training wraps it in a two-view model (:func:`pair_model`) whose output is
the two views' unit-norm projections side by side; :class:`NTXent` compares them. The loss is
written with ``keras.ops`` only, so training runs under TensorFlow, JAX and PyTorch.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops

#: Feature maps per stage, as multiples of ``width``.
STAGES = (1, 2, 4, 4)


def build_encoder(size: int, channels: int, embedding_dim: int = 128, width: int = 16) -> Any:
    """A fresh encoder: (B, size, size, channels) prepared cutouts → (B, embedding_dim) embeddings.

    Parameters
    ----------
    size : int
        Side of the working image; at least 16 (four halvings).
    channels : int
        Bands of the cutouts.
    embedding_dim : int
        D, the width of the embedding (output layer ``embedding``).
    width : int
        Feature maps of the first stage (the others have 2, 4 and 4 times as many).

    Returns
    -------
    keras.Model
        Named ``contrastive_encoder``; its last convolution is ``conv4``.
    """
    if size < 16 or channels < 1 or embedding_dim < 1 or width < 1:
        raise ValueError(f"encoder needs size >= 16 and positive sizes, got {size}, {channels}, "
                         f"{embedding_dim}, {width}")  # fmt: skip
    inputs = keras.Input(shape=(size, size, channels), name="cutout")
    x = inputs
    for stage, multiple in enumerate(STAGES, start=1):
        x = layers.Conv2D(width * multiple, 3, padding="same", use_bias=False, name=f"conv{stage}")(x)
        x = layers.BatchNormalization(name=f"bn{stage}")(x)
        x = layers.ReLU(name=f"relu{stage}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{stage}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(embedding_dim, name="embedding")(x)
    return keras.Model(inputs, outputs, name="contrastive_encoder")


def pair_model(encoder: Any, projection_dim: int = 64) -> Any:
    """The training model: two views through the shared ``encoder`` and a projection head.

    Parameters
    ----------
    encoder : keras.Model
        From :func:`build_encoder`; its layers are shared, not copied.
    projection_dim : int
        P, the width of the projections the loss compares.

    Returns
    -------
    keras.Model
        Inputs ``view_a`` and ``view_b`` (B, S, S, C); output (B, 2 P): the two views' unit-norm
        projections, concatenated.
    """
    shape = tuple(encoder.input.shape[1:])
    hidden = layers.Dense(int(encoder.output.shape[-1]), activation="relu", name="projection_hidden")
    project = layers.Dense(projection_dim, name="projection")
    unit = layers.UnitNormalization(name="unit_norm")
    views = [keras.Input(shape=shape, name=name) for name in ("view_a", "view_b")]
    projected = [unit(project(hidden(encoder(view)))) for view in views]
    outputs = layers.Concatenate(name="pairs")(projected)
    return keras.Model(views, outputs, name="contrastive_pairs")


def nt_xent(pairs: Any, temperature: float) -> Any:
    """Normalised temperature-scaled cross entropy (Chen et al. 2020) of each pair of views.

    Parameters
    ----------
    pairs : tensor, shape (B, 2 P)
        Unit-norm projections of view a (first P columns) and view b of the same B cutouts.
    temperature : float
        Softmax temperature of the cosine similarities.

    Returns
    -------
    tensor, shape (B,)
        For each cutout, the mean over its two views of ``-log`` (the softmax probability of the
        other view among all 2 B - 1 other views in the batch).
    """
    half = pairs.shape[-1] // 2
    views = ops.concatenate([pairs[:, :half], pairs[:, half:]], axis=0)
    logits = ops.matmul(views, ops.transpose(views)) / temperature
    n = ops.shape(views)[0]
    logits = logits - ops.eye(n, dtype=logits.dtype) * 1e9  # a view is not its own positive
    positive = ops.sum(pairs[:, :half] * pairs[:, half:], axis=-1) / temperature
    per_view = ops.reshape(ops.logsumexp(logits, axis=-1), (2, -1))
    return ops.mean(per_view, axis=0) - positive


@keras.saving.register_keras_serializable(package="galview")
class NTXent(keras.losses.Loss):
    """:func:`nt_xent` as a Keras loss; ``y_true`` is ignored (the batch is its own label)."""

    def __init__(self, temperature: float = 0.2, name: str = "nt_xent", **kwargs):
        super().__init__(name=name, **kwargs)
        self.temperature = float(temperature)

    def call(self, y_true, y_pred):
        return nt_xent(y_pred, self.temperature)

    def get_config(self) -> dict:
        return {**super().get_config(), "temperature": self.temperature}
