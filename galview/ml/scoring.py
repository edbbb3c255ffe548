"""Score a collection with a model: probabilities, predicted classes and embeddings, in bounded memory.

Batches are read (and brought to the model's input) by :data:`READERS` background threads while
the model works on the previous one, so reading, adapting and computing overlap.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import keras
import numpy as np

from galview.core.budget import MAX_SCORE_BATCH_BYTES, cutouts_per_read
from galview.core.jobs import CancelToken, Progress
from galview.core.scores import is_positive
from galview.ml.adapt import adapt_for, carrying
from galview.ml.inputs import model_input

#: Threads reading and adapting batches ahead of the model in :func:`score_to_file` (``galview
#: score``): two, because bringing survey fluxes to a colour model (the physical adapter) costs more
#: than the model itself (BENCHMARKS.md). The window's scoring job keeps one: its batches go to the
#: GUI thread one by one, and a faster producer starved the event loop's timers (a flaky CI test).
READERS = 2


@dataclass
class ScoreBatch:
    """Scores of cutouts ``start`` … ``start + len(probs) - 1``.

    Attributes
    ----------
    probs : ndarray, (B, K) float32
        Model outputs (K = 1 for binary models: the probability of the positive class).
    embeddings : ndarray, (B, D) float32
        Penultimate-layer activations, for similarity search.
    unreadable : dict
        Position in the batch → why that cutout could not be read (its rows are NaN); only with
        ``skip_unreadable``.
    """

    start: int
    probs: np.ndarray
    embeddings: np.ndarray
    unreadable: dict[int, str] = field(default_factory=dict)


def penultimate_layer(model):
    """The layer whose output feeds the classifier (a Dropout before it is skipped: identity at inference)."""
    penultimate = model.layers[-2]
    if isinstance(penultimate, keras.layers.Dropout):
        penultimate = model.layers[-3]
    return penultimate


def embedding_model(model):
    """A model returning (penultimate-layer output, model output) from the same forward pass."""
    penultimate = penultimate_layer(model)
    return keras.Model(
        model.input, [penultimate.output, model.outputs[0]], name=f"{model.name}_with_embedding"
    )


def predicted_classes(probs: np.ndarray, task: str, positive_class: int = 1) -> np.ndarray:
    """Class index per row: for binary models ``positive_class`` where
    :func:`~galview.core.scores.is_positive` (p > 0.5), the other class otherwise (as
    :meth:`Scores.set_rows`); arg-max for the others (multilabel: arg-max too)."""
    if probs.shape[1] == 1:
        positive = int(positive_class)
        classes = np.where(is_positive(probs[:, 0]), positive, 1 - positive).astype(np.int64)
    else:
        classes = np.nan_to_num(probs, nan=-np.inf).argmax(axis=1).astype(np.int64)
    classes[np.isnan(probs).any(axis=1)] = -1  # no score (a cutout that could not be read): no class
    return classes


def score_batches(
    loaded,
    collection,
    batch_size: int = 1024,
    indices=None,
    on_progress=None,
    cancel: CancelToken | None = None,
    *,
    skip_unreadable: bool = False,
    readers: int = 1,
) -> Iterator[ScoreBatch]:
    """Yield :class:`ScoreBatch` for consecutive batches of the collection (or of ``indices``):
    ``batch_size`` cutouts, or fewer where they are large (:data:`~galview.core.budget.MAX_SCORE_BATCH_BYTES`),
    read and adapted ahead of the model by ``readers`` threads.

    Cutouts that fit the model only through the physical adapter (survey fluxes with a WCS into a
    model of viewer colours) are adapted: :func:`galview.ml.adapt.adapt_for`. With
    ``skip_unreadable`` a cutout that cannot be read (all NaN, a damaged image in a folder) gets NaN
    rows and its reason in :attr:`ScoreBatch.unreadable` instead of stopping the run.

    Raises
    ------
    ModelError
        If the model's input does not fit the collection, the card names no adapter and no
        physical adapter can be built.
    """
    loaded, _note = adapt_for(loaded, collection)
    spec = loaded.card.input
    both = embedding_model(loaded.model)
    order = np.arange(len(collection)) if indices is None else np.asarray(indices, dtype=np.int64)
    batch_size = cutouts_per_read(collection.shape, collection.dtype, batch_size, MAX_SCORE_BATCH_BYTES)
    starts = list(range(0, len(order), batch_size))
    cancel = cancel or CancelToken()

    def read(start):
        chunk = order[start : start + batch_size]
        if skip_unreadable:
            cutouts, unreadable = collection.get_batch_skipping(chunk)
        else:
            cutouts, unreadable = collection.get_batch(chunk), {}
        return model_input(cutouts, spec), unreadable

    with ThreadPoolExecutor(max_workers=readers) as reader:
        pending = deque(reader.submit(read, start) for start in starts[:readers])
        for k, start in enumerate(starts):
            batch, unreadable = pending.popleft().result()
            if k + readers < len(starts):
                pending.append(reader.submit(read, starts[k + readers]))
            cancel.raise_if_cancelled()
            embeddings, probs = both.predict_on_batch(batch)
            probs = np.asarray(probs, np.float32)
            embeddings = np.asarray(embeddings, np.float32).reshape(len(batch), -1)
            if unreadable:  # copies: a backend's output may be read-only
                probs, embeddings = probs.copy(), embeddings.copy()
                probs[list(unreadable)] = np.nan
                embeddings[list(unreadable)] = np.nan
            yield ScoreBatch(start, probs, embeddings, unreadable)
            if on_progress is not None:
                on_progress(
                    Progress(min(start + batch_size, len(order)), len(order), "scoring", unit="cutouts")
                )


def score_to_file(
    loaded,
    collection,
    output,
    batch_size: int = 1024,
    on_progress=None,
    cancel: CancelToken | None = None,
    *,
    indices=None,
    attrs: dict | None = None,
    finish=None,
    on_unreadable=None,
):
    """Score every cutout (or those at ``indices``) and write ``output`` (.csv or .h5); nothing is left
    behind on error or cancel. A cutout that cannot be read gets an empty row (NaN, class -1) and
    ``on_unreadable(index, reason)`` is called for it.

    ``attrs`` are stored beside the provenance (HDF5). ``finish(writer)``, called after the last batch
    and before the file gets its name, may add datasets (:meth:`ScoreWriter.add_dataset`).
    """
    from galview.io.score_files import ScoreWriter

    card = loaded.card
    names = [card.class_names[card.positive_class]] if card.task == "binary" else list(card.class_names)
    provenance = {"model": str(loaded.path), "model_id": card.id, "collection": str(collection.source)}
    if card.input.adapter:
        provenance["adapter"] = json.dumps(card.input.adapter)
    order = np.arange(len(collection)) if indices is None else np.asarray(indices, dtype=np.int64)
    writer = ScoreWriter(output, len(order), names, provenance | dict(attrs or {}), index=order)
    positive = card.positive_class if card.positive_class is not None else 1
    try:
        batches = score_batches(
            loaded,
            collection,
            batch_size,
            order,
            on_progress=on_progress,
            cancel=cancel,
            skip_unreadable=True,
            readers=READERS,
        )
        for batch in batches:
            rows = order[batch.start : batch.start + len(batch.probs)]
            for position, reason in batch.unreadable.items():
                if on_unreadable is not None:
                    on_unreadable(int(rows[position]), reason)
            writer.write(
                batch.start,
                [collection.id_of(int(i)) for i in rows],
                batch.probs,
                predicted_classes(batch.probs, card.task, positive),
                batch.embeddings,
            )
        if finish is not None:
            finish(writer)
    except BaseException:
        writer.abort()
        raise
    return writer.close()


def with_adapter(loaded, collection, resize: bool = False, bands=None, greyscale: bool = False):
    """A copy of ``loaded`` whose card carries an explicit adapter from ``collection``'s cutouts.

    ``bands`` may hold channel indices or band names of the collection. Float cutouts into a model
    of uint8 colours are refused (a plain resize would feed it raw fluxes): the message says whether
    the physical adapter, applied without these options, would fit.
    """
    from galview.ml.errors import ModelError
    from galview.ml.inputs import make_adapter, plain_adapter_refusal

    if np.dtype(collection.dtype).kind == "f" and loaded.card.input.dtype == "uint8":
        raise ModelError(str(collection.source), _refusal(loaded, collection, plain_adapter_refusal))
    if bands is not None:
        names = list(collection.bands)
        bands = [names.index(b) if isinstance(b, str) and b in names else int(b) for b in bands]
    spec = loaded.card.input
    adapter = make_adapter(collection.shape, spec, resize=resize, bands=bands, greyscale=greyscale)
    return carrying(loaded, adapter)


def _refusal(loaded, collection, plain_adapter_refusal) -> str:
    """Why a plain adapter is refused, and whether the physical one would fit here."""
    from galview.ml.errors import ModelError

    text = plain_adapter_refusal(loaded.card.input)
    try:
        _, note = adapt_for(loaded, collection)
    except ModelError as exc:
        return f"{text}, which cannot be built here: {exc.problem.rpartition('no physical adapter: ')[2]}"
    if note:
        return f"{text}: drop --resize/--bands/--greyscale and GalView applies it ({note})"
    return text
