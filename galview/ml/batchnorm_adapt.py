"""Adapting a model to a collection without labels: its BatchNorm statistics taken from the cutouts.

A CNN trained on one survey normalises each BatchNorm layer's input by statistics (a mean and a
variance per channel) of *that* survey's images. :func:`adapt_batchnorm` recomputes them on a sample
of the user's own collection — in layer order, each layer's input computed with the earlier layers
already adapted — and leaves every learnt weight as it was (adaptive batch normalisation, Li et al.
2016). No label is read. :func:`adapt_to_collection` writes the result as a new model version whose
card names the collection, so scoring, heat maps and the score cache treat it as any other model.

Measured (BENCHMARKS.md, issue 14): the shipped model on HSC-like simulations 0.781 → 0.828 accuracy,
on fresh DES-like ones 0.819 → 0.815, on the 112 real DES cutouts unchanged (0.759).
"""

from __future__ import annotations

import datetime
import uuid

import numpy as np

from galview.core.jobs import CancelToken, Progress
from galview.ml.errors import ModelError

MIN_CUTOUTS = 64  # fewer give per-channel statistics too noisy to replace the trained ones
SAMPLE = 4096  # cutouts the statistics are taken from (all of them in a smaller collection)
BATCH = 256


def batchnorm_layers(model) -> list:
    """The model's BatchNormalization layers, in the order the input reaches them."""
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def adapt_batchnorm(
    loaded,
    collection,
    *,
    sample: int = SAMPLE,
    seed: int = 0,
    on_progress=None,
    cancel=None,
    on_unreadable=None,
):
    """A copy of ``loaded``'s model with BatchNorm statistics from (a sample of) ``collection``.

    Parameters
    ----------
    loaded : LoadedModel
        The model; it is not changed.
    collection : Collection
        Its cutouts go through the same input path as scoring (:func:`galview.ml.adapt.adapt_for`).
    sample : int
        At most this many cutouts, drawn without replacement with ``seed``.
    on_progress, cancel : optional
        The job protocol (:mod:`galview.core.jobs`); progress in cutouts, per layer.
    on_unreadable : callable, optional
        ``on_unreadable(index, reason)`` once for each sampled cutout that cannot be read.

    Returns
    -------
    (keras.Model, int)
        The adapted copy, and the number of cutouts its statistics come from (cutouts that cannot be
        read are left out).

    Raises
    ------
    ModelError
        The model has no BatchNorm layer, or the collection has fewer than :data:`MIN_CUTOUTS` cutouts.
    """
    import keras

    from galview.ml.adapt import adapt_for
    from galview.ml.inputs import model_input

    layers = batchnorm_layers(loaded.model)
    if not layers:
        raise ModelError(loaded.path, "has no BatchNorm layer; there are no statistics to adapt")
    n = len(collection)
    if n < MIN_CUTOUTS:
        raise ModelError(
            collection.source,
            f"has {n} cutouts; adapting a model's BatchNorm statistics needs at least {MIN_CUTOUTS}",
        )
    ready, _note = adapt_for(loaded, collection)
    chosen = np.sort(np.random.default_rng(seed).choice(n, size=min(n, sample), replace=False))
    try:
        model = keras.models.clone_model(loaded.model)
        model.set_weights(loaded.model.get_weights())
    except (TypeError, ValueError) as exc:  # a layer Keras cannot rebuild from its config
        raise ModelError(loaded.path, f"cannot be copied to adapt it ({exc})") from exc
    cancel = cancel or CancelToken()
    used = len(chosen)
    for number, layer in enumerate(batchnorm_layers(model), start=1):
        upstream = keras.Model(model.inputs, layer.input)
        axes = _channel_axes(layer)
        total, squares, count = 0.0, 0.0, 0
        for start in range(0, len(chosen), BATCH):
            cancel.raise_if_cancelled()
            cutouts, unreadable = collection.get_batch_skipping(chosen[start : start + BATCH])
            if unreadable:  # a damaged image of a folder: its statistics come from the others
                cutouts = np.delete(cutouts, list(unreadable), axis=0)
                if number == 1:
                    used -= len(unreadable)
                    for position, reason in unreadable.items():
                        if on_unreadable is not None:
                            on_unreadable(int(chosen[start + position]), reason)
            if not len(cutouts):
                continue
            batch = model_input(cutouts, ready.card.input)
            values = np.asarray(upstream.predict_on_batch(batch), np.float64)
            reduce = tuple(a for a in range(values.ndim) if a not in axes)
            total = total + values.sum(axis=reduce)
            squares = squares + (values**2).sum(axis=reduce)
            count += values.size // np.prod([values.shape[a] for a in axes])
            if on_progress is not None:
                done = min(start + BATCH, len(chosen))
                on_progress(
                    Progress(done, len(chosen), f"BatchNorm layer {number} of {len(layers)}", unit="cutouts")
                )
        mean = total / count
        variance = np.maximum(squares / count - mean**2, 0.0)
        gamma, beta, *_ = layer.get_weights()
        layer.set_weights([gamma, beta, mean.astype(np.float32), variance.astype(np.float32)])
    return model, used


def _channel_axes(layer) -> tuple[int, ...]:
    """The axes a BatchNorm layer keeps statistics for, as non-negative axes of its input."""
    rank = len(layer.input.shape)
    axes = layer.axis if isinstance(layer.axis, list | tuple) else [layer.axis]
    return tuple(a % rank for a in axes)


def adapted_card(loaded, collection, cutouts: int):
    """The card of the adapted model: the parent's, with a new id, the collection named, no metrics."""
    import dataclasses

    from galview.core.collection import fingerprint

    card = loaded.card
    training = {
        "method": "BatchNorm statistics from unlabelled cutouts (AdaBN)",
        "parent_id": card.id,
        "source": str(collection.source),
        "cutouts": int(cutouts),
        "date": datetime.date.today().isoformat(),
    }
    return dataclasses.replace(
        card,
        id=uuid.uuid4().hex[:12],
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        parent=str(loaded.path),
        metrics={},
        training=training,
        data_fingerprint=fingerprint(collection),
        description=(
            f"{loaded.path.name} with its BatchNorm statistics taken from {cutouts} unlabelled cutouts of "
            f"{collection.source}; every learnt weight unchanged."
        ),
    )


def adapt_to_collection(
    loaded,
    collection,
    folder=None,
    *,
    sample: int = SAMPLE,
    on_progress=None,
    cancel=None,
    on_unreadable=None,
):
    """Adapt ``loaded`` to ``collection`` (:func:`adapt_batchnorm`) and write it as a new model version.

    ``folder`` defaults to a new folder among the versions (:func:`galview.ml.versions.new_version_dir`,
    named after the parent with ``-adapted``). Returns the new ``model.keras``. ``on_unreadable`` is
    :func:`adapt_batchnorm`'s.
    """
    from galview.ml.versions import new_version_dir, write_version

    model, cutouts = adapt_batchnorm(
        loaded, collection, sample=sample, on_progress=on_progress, cancel=cancel, on_unreadable=on_unreadable
    )
    if cancel is not None:
        cancel.raise_if_cancelled()
    card = adapted_card(loaded, collection, cutouts)
    name = loaded.path.parent.name if loaded.path.stem == "model" else loaded.path.stem  # a version's folder
    folder = folder if folder is not None else new_version_dir(f"{name}-adapted")
    return write_version(model, card, folder)
