"""The "suspected label errors" queue: labelled cutouts whose label out-of-sample models dispute most.

Labels follow the label store's convention: a float array (N,) of class indices, NaN for
unlabelled and -1 for unsure (``galview.core.label_values.UNSURE``); anything below 0 or NaN is left
out. Out-of-sample probabilities come from k-fold cross-validation (:mod:`galview.ml.crossval`),
the ranking from confident learning (:mod:`galview.core.confident`).

Methods
-------
``"head"``
    Embeddings of a loaded model's penultimate layer, computed once, then k-fold logistic
    regression on them: seconds for thousands of cutouts, fit for the window. Optimistic when the
    loaded model was trained on these very labels (it has then seen them).
``"cnn"``
    A fresh architecture trained on k-1 folds predicts the k-th: truly out-of-sample, k trainings.

The loaded model is never modified: ``head`` builds a second model over its layers for the
embeddings, ``cnn`` only borrows its input description.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from galview.core.confident import label_issue_scores, stratified_folds, suspect_order
from galview.core.errors import UserFacingError
from galview.core.jobs import CancelToken, Progress
from galview.ml.training import TrainConfig

METHODS = ("head", "cnn")


def usable_labels(labels) -> np.ndarray:
    """Boolean (N,): labels that are class indices (finite, >= 0), not NaN (unlabelled) or -1 (unsure)."""
    values = np.asarray(labels, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values >= 0)


def _checked_labels(collection, labels) -> np.ndarray:
    values = collection.labels if labels is None else labels
    if values is None:
        raise UserFacingError(collection.source, "has no labels; label some cutouts first")
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(collection),):
        raise ValueError(f"labels must be one per cutout, shape ({len(collection)},), got {values.shape}")
    usable = usable_labels(values)
    if (values[usable] != np.round(values[usable])).any():
        raise ValueError("labels must be whole class indices (NaN for unlabelled, -1 for unsure)")
    if len(np.unique(values[usable])) < 2:
        raise UserFacingError(
            collection.source, "finding suspected label errors needs labelled cutouts of at least two classes"
        )
    return values


def _checked_folds(collection, y: np.ndarray, fold: np.ndarray) -> None:
    """Refuse folds one of which leaves a single class to learn from (a class with one readable label, or
    none readable at all)."""
    if len(y) and all(len(np.unique(y[fold != f])) >= 2 for f in np.unique(fold)):
        return
    classes, counts = np.unique(y, return_counts=True)
    have = ", ".join(f"class {c}: {n}" for c, n in zip(classes, counts, strict=True)) or "none readable"
    raise UserFacingError(
        collection.source,
        "finding suspected label errors needs at least 2 readable labelled cutouts of each of two "
        f"classes (it learns each fold from the others); labelled: {have}",
    )


def _n_classes(labels: np.ndarray, loaded, architecture: str | None) -> int:
    k = max(int(labels.max()) + 1, 2)
    if loaded is not None and loaded.card.task != "multilabel":
        k = max(k, len(loaded.card.class_names))
    if architecture is not None:
        from galview.ml.architectures import get_architecture

        arch = get_architecture(architecture)
        if arch.task == "multiclass":
            k = max(k, len(arch.default_class_names))
    return k


def _embeddings(loaded, collection, indices, kept, on_progress, cancel) -> np.ndarray:
    """(n, D) embeddings of the labelled cutouts ``indices``: the ``kept`` rows where given and
    finite, the others computed; NaN rows for cutouts that cannot be read."""
    from galview.ml.scoring import score_batches

    missing = np.arange(len(indices)) if kept is None else np.flatnonzero(~np.isfinite(kept).all(axis=1))
    if not len(missing):
        return kept

    def embedding_step(progress: Progress) -> None:
        on_progress(Progress(progress.done, len(missing), "embedding the labelled cutouts", unit="cutouts"))

    step = embedding_step if on_progress else None
    batches = score_batches(loaded, collection, 256, indices[missing], step, cancel, skip_unreadable=True)
    computed = np.concatenate([batch.embeddings for batch in batches])
    if kept is None:
        return computed
    out = kept.copy()
    out[missing] = computed
    return out


def _readable(collection, indices, cancel) -> np.ndarray:
    """(n,) bool: which of ``indices`` can be read (each read once, batch by batch)."""
    readable = np.ones(len(indices), dtype=bool)
    for start in range(0, len(indices), 256):
        cancel.raise_if_cancelled()
        unreadable = collection.get_batch_skipping(indices[start : start + 256])[1]
        readable[[start + position for position in unreadable]] = False
    return readable


def _cnn_setup(collection, loaded, config: TrainConfig | None):
    """The training config and the input spec (the loaded model's, else as train_model would make)."""
    from galview.ml.architectures import ARCHITECTURES, get_architecture
    from galview.ml.inputs import check_compatible
    from galview.ml.training import _input_spec  # the same input convention as train_model

    if config is None:
        name = loaded.card.architecture if loaded is not None else "deepshadows"
        config = TrainConfig(architecture=name if name in ARCHITECTURES else "deepshadows")
    if loaded is None:
        return config, _input_spec(collection, get_architecture(config.architecture))
    spec = loaded.card.input
    check_compatible(collection.shape, collection.dtype, collection.bands, spec, where=str(collection.source))
    return config, spec


def out_of_sample_probabilities(
    collection,
    labels=None,
    *,
    method: str = "head",
    loaded=None,
    folds: int = 4,
    seed: int = 0,
    config: TrainConfig | None = None,
    embeddings=None,
    on_progress=None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Class probabilities of every labelled cutout from a classifier that never saw its label.

    Parameters
    ----------
    collection : Collection
    labels : array of float, shape (N,), optional
        Current labels (default: the collection's); NaN unlabelled, -1 unsure.
    method : {'head', 'cnn'}
        See the module docstring. ``head`` needs ``loaded``.
    loaded : LoadedModel, optional
        ``head``: the embedding model. ``cnn``: supplies the input spec (and the architecture when
        ``config`` is None); its weights are not used.
    folds : int
        k of the k-fold split (stratified by label).
    seed : int
        Seeds the folds and, for ``cnn``, the training (it replaces ``config.seed``).
    config : TrainConfig, optional
        ``cnn`` only: what to train per fold (default: the recipe of the architecture).
    embeddings : ndarray (N, D), optional
        ``head`` only: ``loaded``'s embeddings of every cutout, kept from scoring, so they are not
        computed again (NaN rows are computed where labelled).
    on_progress : callable(Progress), optional
    cancel : CancelToken, optional
        Raises :class:`~galview.core.jobs.Cancelled` at the next batch once cancelled.

    Returns
    -------
    ndarray, float64, shape (N, K)
        K = number of classes (2 for a binary model); rows of unlabelled and unsure cutouts NaN, and
        of labelled cutouts that cannot be read (left out).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    values = _checked_labels(collection, labels)
    indices = np.flatnonzero(usable_labels(values))
    cancel = cancel or CancelToken()
    if method == "head":
        from galview.ml.crossval import head_probabilities

        if loaded is None:
            raise ValueError(
                "method 'head' needs a loaded model (its penultimate layer gives the embeddings)"
            )
        if embeddings is not None and len(embeddings) != len(collection):
            raise ValueError(f"{len(embeddings)} embeddings for a collection of {len(collection)}")
        kept = None if embeddings is None else np.asarray(embeddings, np.float32)[indices]
        embedded = _embeddings(loaded, collection, indices, kept, on_progress, cancel)
        readable = np.isfinite(embedded).all(axis=1)  # a cutout that cannot be read is left out
        indices, embedded = indices[readable], embedded[readable]
        y = values[indices].astype(np.int64)
        fold = stratified_folds(y, folds, seed)
        _checked_folds(collection, y, fold)
        probs = head_probabilities(embedded, y, fold, _n_classes(y, loaded, None), on_progress, cancel)
    else:
        from galview.ml.crossval import cnn_probabilities

        config, spec = _cnn_setup(collection, loaded, config)
        indices = indices[_readable(collection, indices, cancel)]
        y = values[indices].astype(np.int64)
        fold = stratified_folds(y, folds, seed)
        _checked_folds(collection, y, fold)
        n_classes = _n_classes(y, None, config.architecture)
        config = dataclasses.replace(config, seed=seed)
        probs = cnn_probabilities(collection, indices, y, fold, n_classes, spec, config, on_progress, cancel)
    out = np.full((len(collection), probs.shape[1]), np.nan)
    out[indices] = probs
    return out


def suspects_from_probabilities(labels, probs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank labelled cutouts given out-of-sample probabilities (NaN rows for the others).

    Parameters
    ----------
    labels : array of float, shape (N,)
        NaN unlabelled, -1 unsure.
    probs : array of float, shape (N, K)
        From :func:`out_of_sample_probabilities`; a NaN row (a cutout that could not be read) leaves
        its cutout out.

    Returns
    -------
    order : ndarray, int64, shape (n_labelled,)
        Collection indices of the labelled cutouts with probabilities, most suspect first (flagged
        ones first).
    scores : ndarray, float64, shape (N,)
        Margin ``max_{j != label} p_j - p_label`` (higher: more suspect); NaN where not labelled.
    flagged : ndarray, bool, shape (N,)
        Confident learning's label issues; False where not labelled.
    """
    values = np.asarray(labels, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) != len(values):
        raise ValueError(f"probs must be (N, K) with N = {len(values)}, got shape {p.shape}")
    indices = np.flatnonzero(usable_labels(values) & np.isfinite(p).all(axis=1))
    local_scores, local_flagged = label_issue_scores(values[indices], p[indices])
    local_order = suspect_order(local_scores, local_flagged)
    scores = np.full(len(values), np.nan)
    flagged = np.zeros(len(values), dtype=bool)
    scores[indices], flagged[indices] = local_scores, local_flagged
    return indices[local_order].astype(np.int64), scores, flagged


def suspect_ranking(collection, labels=None, **options) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-sample probabilities, then confident learning: the suspected-label-errors queue.

    Takes the arguments of :func:`out_of_sample_probabilities` and returns what
    :func:`suspects_from_probabilities` does: ``(order, scores, flagged)``.
    """
    values = _checked_labels(collection, labels)
    probs = out_of_sample_probabilities(collection, values, **options)
    return suspects_from_probabilities(values, probs)
