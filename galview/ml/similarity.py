"""The ``embedding`` similarity space: the active model's penultimate-layer activations.

:func:`embedding_space` wraps a loaded model as a :class:`~galview.core.spaces.Space`, so a
collection is indexed by the same job as the other spaces (:func:`galview.core.feature_index.build_index`)
and references, external or not, go through the same forward pass as the cutouts (the model's
adapter included). Where the scoring job already computed the embeddings (kept in
:class:`~galview.core.scores.Scores`), :func:`galview.core.feature_index.index_from_features` takes
them as they are. :func:`collection_embeddings` and :func:`reference_embeddings` are the plain
functions for callers that want the arrays.
"""

from __future__ import annotations

import keras
import numpy as np

from galview.core.jobs import CancelToken
from galview.core.spaces import Space
from galview.ml.adapt import adapt_for
from galview.ml.inputs import model_input
from galview.ml.scoring import penultimate_layer, score_batches


def _embedder(model):
    """A model from the same input to the penultimate layer's output (built once per space)."""
    return keras.Model(model.input, penultimate_layer(model).output, name=f"{model.name}_embedding")


def reference_embeddings(loaded, images: np.ndarray, batch_size: int = 256, embedder=None) -> np.ndarray:
    """Penultimate-layer embeddings of images shaped like the collection's cutouts.

    Parameters
    ----------
    loaded : LoadedModel
        Already adapted to the collection (:func:`galview.ml.adapt.adapt_for`), so a reference
        prepared to the collection's cutouts (:func:`galview.core.reference.prepare_reference`)
        goes through the same adapter as they do.
    images : ndarray, (Q, H, W, C)
        In the collection's value range (float32 is fine for uint8 collections).
    batch_size : int
    embedder : keras.Model, optional
        The model up to its penultimate layer, when the caller has built it already.

    Returns
    -------
    ndarray, (Q, D) float32
    """
    embedder = embedder or _embedder(loaded.model)
    out = []
    for start in range(0, len(images), batch_size):
        batch = model_input(images[start : start + batch_size], loaded.card.input)
        out.append(np.asarray(embedder.predict_on_batch(batch), np.float32).reshape(len(batch), -1))
    return np.concatenate(out)


def collection_embeddings(
    loaded, collection, batch_size: int = 256, *, on_progress=None, cancel: CancelToken | None = None
) -> np.ndarray:
    """(N, D) float32 embeddings of every cutout, from the scoring job's forward pass
    (:func:`galview.ml.scoring.score_batches`: reading overlaps computing; progress in cutouts)."""
    parts = [
        batch.embeddings
        for batch in score_batches(loaded, collection, batch_size, on_progress=on_progress, cancel=cancel)
    ]
    return np.concatenate(parts)


def embedding_space(loaded, collection=None, batch_size: int = 256, adapt: bool = True, **_ignored) -> Space:
    """The ``embedding`` space of a model, for ``collection``'s cutouts.

    Parameters
    ----------
    loaded : LoadedModel
    collection : Collection, optional
        When given, the model is adapted to it (:func:`galview.ml.adapt.adapt_for`; ``adapt``
        False refuses the physical adapter). A card that already carries an adapter is kept.
    batch_size : int
        Cutouts per forward pass.

    Returns
    -------
    Space
        Keyed by the model's version and its adapter; tries the reference's orientations.

    Raises
    ------
    ModelError
        If the collection's cutouts do not fit the model.
    """
    if collection is not None:
        loaded, _note = adapt_for(loaded, collection, adapt=adapt)
    embedder = _embedder(loaded.model)

    def features(images: np.ndarray) -> np.ndarray:
        return reference_embeddings(loaded, images, batch_size, embedder)

    return Space(
        "embedding",
        features,
        {"adapter": loaded.card.input.adapter},
        version=loaded.version,
        orientations=True,
        batch_size=batch_size,
        description=f"embedding ({loaded.path.name}, version {loaded.version})",
    )
