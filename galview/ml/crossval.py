"""K-fold out-of-sample class probabilities for labelled cutouts: a fresh CNN per fold, or a linear head.

Every probability comes from a classifier that never saw that cutout's label, which is what
confident learning needs (:mod:`galview.core.confident`). Folds are given as one fold number per
labelled cutout (:func:`galview.core.confident.stratified_folds`).

- :func:`cnn_probabilities`: train a new registered architecture on k-1 folds, predict the k-th.
  True out-of-sample, slow (k trainings).
- :func:`head_probabilities`: logistic regression on fixed embeddings (a loaded model's
  penultimate layer), k-fold. Seconds; out-of-sample only as far as the embedding model is (a
  model trained on these very labels has seen them).
"""

from __future__ import annotations

import warnings

import keras
import numpy as np

from galview.core.jobs import Cancelled, CancelToken, Progress
from galview.ml.augment import CutoutBatches
from galview.ml.training import (
    TrainConfig,
    _given,
    _loss,
    balanced_class_weights,
    stratified_split,
    training_batches,
)

_HEAD_C = 0.1  # inverse L2 strength on standardised embeddings: 1,024 features, a few thousand cutouts


class _FoldRelay(keras.callbacks.Callback):
    """Progress over all folds after every batch; stops training when the token is cancelled."""

    def __init__(self, on_progress, cancel: CancelToken, fold: int, folds: int, epochs: int, steps: int):
        super().__init__()
        self.on_progress, self.cancel = on_progress, cancel
        self.fold, self.folds, self.epochs, self.steps = fold, folds, epochs, steps
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.on_progress is not None:
            done = (self.fold * self.epochs + self.epoch) * self.steps + min(batch + 1, self.steps)
            message = f"fold {self.fold + 1}/{self.folds}, epoch {self.epoch + 1}/{self.epochs}"
            self.on_progress(
                Progress(
                    done, self.folds * self.epochs * self.steps, message, dict(logs or {}), unit="batches"
                )
            )
        if self.cancel.cancelled:
            self.model.stop_training = True


def as_class_probabilities(outputs: np.ndarray) -> np.ndarray:
    """(B, 1) sigmoid outputs → (B, 2) ``[1 - p, p]``; (B, K) softmax outputs unchanged (float64)."""
    out = np.asarray(outputs, dtype=np.float64)
    return np.column_stack([1 - out[:, 0], out[:, 0]]) if out.shape[1] == 1 else out


def _steps_per_epoch(fold: np.ndarray, folds: int, val_split: float, batch_size: int) -> int:
    """Training batches per epoch of the largest training part (for the progress total)."""
    largest = len(fold) - int(np.bincount(fold, minlength=folds).min())
    return max(int(np.ceil((1 - val_split) * largest / batch_size)), 1)


def _fit_fold(collection, train_idx, targets, spec, arch, config, n_outputs, relay):
    """A fresh ``arch`` trained on ``train_idx`` (early stopping on a stratified validation part).

    ``targets`` holds one class index per cutout of the collection.
    """
    recipe = arch.recipe
    keras.utils.set_random_seed(config.seed)
    model = arch.build(tuple(spec.shape), n_outputs)
    optimizer = recipe.make_optimizer()
    if config.learning_rate is not None:
        optimizer.learning_rate = config.learning_rate
    model.compile(optimizer=optimizer, loss=_loss(arch.task, recipe.loss), metrics=list(recipe.metrics))
    fit_part, val_part, _ = stratified_split(targets[train_idx], config.val_split, 0.0, config.seed)
    fit_idx, val_idx = train_idx[fit_part], train_idx[val_part]
    batch_size = config.batch_size or recipe.batch_size
    data, val_data = training_batches(collection, fit_idx, val_idx, spec, targets, batch_size, config)
    callbacks = [relay]
    if val_data is not None:
        patience = _given(config.patience, recipe.patience)
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=recipe.monitor, patience=patience, restore_best_weights=True
            )
        )
    weights = balanced_class_weights(targets[fit_idx]) if config.class_weights else None
    model.fit(
        data,
        validation_data=val_data,
        epochs=relay.epochs,
        class_weight=weights,
        callbacks=callbacks,
        verbose=0,
    )
    return model


def cnn_probabilities(
    collection,
    indices: np.ndarray,
    labels: np.ndarray,
    fold: np.ndarray,
    n_classes: int,
    spec,
    config: TrainConfig,
    on_progress=None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Out-of-sample probabilities from one freshly trained ``config.architecture`` per fold.

    Parameters
    ----------
    collection : Collection
    indices : array of int, shape (n,)
        The labelled cutouts (collection indices).
    labels : array of int, shape (n,)
        Their labels, ``0..n_classes-1``.
    fold : array of int, shape (n,)
        Fold number of each; model ``f`` trains on the others and predicts fold ``f``.
    n_classes : int
        K; a binary architecture needs K = 2.
    spec : InputSpec
        How cutouts become model inputs (the model is built for ``spec.shape``).
    config : TrainConfig
        Architecture, epochs, batch size, learning rate, augmentation, class weights, seed;
        ``val_split`` of each training part drives early stopping (``test_split`` is unused: the
        held-out fold is the test).

    Returns
    -------
    ndarray, float64, shape (n, K)

    Raises
    ------
    Cancelled
        When ``cancel`` is set (checked after every batch).
    """
    from galview.ml.architectures import get_architecture

    arch = get_architecture(config.architecture)
    if arch.task == "multilabel" or (arch.task == "binary" and n_classes != 2):
        raise ValueError(f"architecture {arch.name} ({arch.task}) cannot classify {n_classes} classes")
    cancel = cancel or CancelToken()
    indices, labels, fold = (np.asarray(a, dtype=np.int64) for a in (indices, labels, fold))
    folds = int(fold.max()) + 1
    targets = np.zeros(len(collection), dtype=np.float32 if arch.task == "binary" else np.int64)
    targets[indices] = labels  # indexed like the collection, as CutoutBatches wants
    epochs = config.epochs or arch.recipe.epochs
    steps = _steps_per_epoch(fold, folds, config.val_split, config.batch_size or arch.recipe.batch_size)
    n_outputs = 1 if arch.task == "binary" else n_classes
    probs = np.full((len(indices), n_classes), np.nan)
    for f in range(folds):
        cancel.raise_if_cancelled()
        relay = _FoldRelay(on_progress, cancel, f, folds, epochs, steps)
        model = _fit_fold(collection, indices[fold != f], targets, spec, arch, config, n_outputs, relay)
        if cancel.cancelled:
            raise Cancelled()
        held = np.flatnonzero(fold == f)
        outputs = model.predict(CutoutBatches(collection, indices[held], spec, batch_size=256), verbose=0)
        probs[held] = as_class_probabilities(outputs)
        del model
    return probs


def head_probabilities(
    embeddings: np.ndarray,
    labels: np.ndarray,
    fold: np.ndarray,
    n_classes: int,
    on_progress=None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Out-of-sample probabilities from k-fold logistic regression on fixed embeddings.

    Parameters
    ----------
    embeddings : array of float, shape (n, D)
    labels : array of int, shape (n,)
    fold : array of int, shape (n,)
    n_classes : int
        K; classes absent from a training part get probability 0 in its fold.

    Returns
    -------
    ndarray, float64, shape (n, K)
    """
    cancel = cancel or CancelToken()
    x = np.asarray(embeddings, dtype=np.float64)
    y, fold = np.asarray(labels, dtype=np.int64), np.asarray(fold, dtype=np.int64)
    folds = int(fold.max()) + 1
    probs = np.zeros((len(y), n_classes))
    for f in range(folds):
        cancel.raise_if_cancelled()
        train, held = fold != f, fold == f
        if len(np.unique(y[train])) < 2:
            raise ValueError(f"fold {f + 1}: the other folds hold one class only; label more cutouts")
        scaler, head = fit_head(x[train], y[train])
        probs[np.ix_(held, head.classes_)] = head.predict_proba(scaler.transform(x[held]))
        if on_progress is not None:
            on_progress(Progress(f + 1, folds, "logistic regression on the embeddings", unit="folds"))
    return probs


def fit_head(x: np.ndarray, y: np.ndarray):
    """Standardise ``x`` (n, D) and fit L2 logistic regression (C = 0.1) to ``y``; (scaler, head)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    head = LogisticRegression(C=_HEAD_C, max_iter=2000)
    with warnings.catch_warnings():  # an unconverged fit still ranks; it must not abort the job
        warnings.simplefilter("ignore", ConvergenceWarning)
        head.fit(scaler.transform(x), y)
    return scaler, head


def head_as_dense(scaler, head) -> tuple[np.ndarray, np.ndarray]:
    """The fitted scaler + logistic regression as one Dense layer's (kernel (D, K'), bias (K',)).

    ``K'`` is 1 for two classes (the sigmoid of class 1's logit), else one softmax unit per class:
    ``softmax(x @ kernel + bias)`` equals ``head.predict_proba(scaler.transform(x))``.
    """
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    kernel = (head.coef_ / scale).T
    bias = head.intercept_ - (head.coef_ * (scaler.mean_ / scale)).sum(axis=1)
    return kernel.astype(np.float32), bias.astype(np.float32)
