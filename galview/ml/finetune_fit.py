"""The Keras side of retraining: one fit per mode, live reports, NaN and cancel checks, the probe model.

Every fit starts from a clone of the parent (or, for ``scratch``, a new network): the parent's
layers and weights are never trained in place. :class:`Reporter` is the one callback of every fit:
it reports each batch and epoch as a :class:`~galview.ml.finetune.FitEvent`, stops training within
one batch on cancel, and on a non-finite loss.
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from galview.core.jobs import Progress
from galview.ml.scoring import penultimate_layer
from galview.ml.training import TrainConfig, balanced_class_weights, stratified_split, training_batches


class Clock:
    """Batches done of all planned (over every fit of a job), and the ETA they give."""

    def __init__(self, total: int):
        self.done, self.total, self.started = 0, max(int(total), 1), time.monotonic()

    def eta(self) -> str:
        """``"1 min 20 s left"``, or ``""`` before anything is done."""
        if not self.done:
            return ""
        left = (time.monotonic() - self.started) / self.done * max(self.total - self.done, 0)
        minutes, seconds = divmod(int(round(left)), 60)
        return (f"{minutes} min {seconds} s" if minutes else f"{seconds} s") + " left"


class Reporter(keras.callbacks.Callback):
    """Progress after every batch and epoch; stops on cancel or a non-finite loss (``self.nan``)."""

    def __init__(self, on_progress, cancel, clock: Clock, stage: str, epochs: int, steps: int):
        super().__init__()
        self.on_progress, self.cancel, self.clock = on_progress, cancel, clock
        self.stage, self.epochs, self.steps = stage, epochs, steps
        self.epoch, self.offset, self.nan, self.epochs_run = 0, 0, None, 0
        self._start = clock.done

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + self.offset

    def on_train_batch_end(self, batch, logs=None):
        values = _numbers(logs)
        self.clock.done = self._start + self.epoch * self.steps + min(batch + 1, self.steps)
        if not math.isfinite(values.get("loss", 0.0)):
            self.nan = (self.epoch + 1, batch + 1)
            self.model.stop_training = True
        self._send("batch", batch + 1, values)
        if self.cancel.cancelled:  # after the report: a cancel made while it was shown counts now
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_run = self.epoch + 1
        self._send("epoch", self.steps, _numbers(logs))

    def finish(self) -> None:
        """Count the batches early stopping skipped, so the total stays right."""
        self.clock.done = self._start + self.epochs * self.steps

    def _send(self, kind: str, batch: int, values: dict) -> None:
        if self.on_progress is None:
            return
        from galview.ml.finetune import FitEvent

        eta = self.clock.eta()
        message = f"{self.stage}, epoch {self.epoch + 1}/{self.epochs}" + (f", {eta}" if eta else "")
        event = FitEvent(self.stage, kind, self.epoch + 1, batch, values)
        self.on_progress(
            Progress(self.clock.done, self.clock.total, message, values, unit="batches", payload=event)
        )


def _numbers(logs) -> dict:
    return {key: float(value) for key, value in (logs or {}).items() if np.ndim(value) == 0}


def clone(model):
    """A new model with ``model``'s architecture and weights (no layer shared with it)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def set_trainable(model, mode: str) -> None:
    """``head``: only Dense layers train. ``full``/``scratch``: all but BatchNorm (``full``) layers."""
    for layer in model.layers:
        if mode == "head":
            layer.trainable = isinstance(layer, keras.layers.Dense)
        elif mode == "full":
            layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
        else:
            layer.trainable = True


def fit(model, data, reporter: Reporter, *, optimizer, loss: str, epochs: int, first_epoch: int = 0):
    """Compile ``model`` and fit ``data`` = (collection, fit_idx, val_idx, spec, targets, config,
    batch_size, patience, class_weights) for ``epochs`` epochs, reporting as epoch ``first_epoch`` on."""
    collection, fit_idx, val_idx, spec, targets, config, batch_size, patience, weighted = data
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    train, val = training_batches(collection, fit_idx, val_idx, spec, targets, batch_size, config)
    callbacks = [reporter]
    if val is not None and patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
        )
    reporter.offset = first_epoch
    weights = balanced_class_weights(targets[fit_idx].astype(np.int64)) if weighted else None
    model.fit(train, validation_data=val, epochs=epochs, class_weight=weights, callbacks=callbacks, verbose=0)


def split_for_validation(targets, idx, recipe):
    """(fit, validation) cutouts: a stratified 10% validation part when the recipe has patience."""
    if not recipe.patience:
        return idx, idx[:0]
    fit_part, val_part, _ = stratified_split(targets[idx].astype(np.int64), 0.1, 0.0, recipe.seed)
    return idx[fit_part], idx[val_part]


def train_network(mode, start, arch, spec, collection, idx, targets, recipe, reporter, loss):
    """One fit of ``head``/``full``/``scratch`` on cutouts ``idx``; the trained model.

    ``start`` is the parent's Keras model (cloned here) or, for ``scratch``, a function building a
    fresh one. ``full`` trains the head alone for the first quarter of the epochs, then all layers
    (BatchNorm statistics kept) at the same rate, with a fresh optimizer.
    """
    keras.utils.set_random_seed(recipe.seed)
    model = start() if mode == "scratch" else clone(start)
    fit_idx, val_idx = split_for_validation(targets, idx, recipe)
    config = TrainConfig(augment=recipe.augment, seed=recipe.seed)
    data = (collection, fit_idx, val_idx, spec, targets, config, recipe.batch_size, recipe.patience,
            recipe.class_weights)  # fmt: skip
    warm = max(1, recipe.epochs // 4) if mode == "full" and recipe.epochs > 1 else 0
    if warm:
        set_trainable(model, "head")
        fit(
            model,
            data,
            reporter,
            optimizer=keras.optimizers.Adam(recipe.learning_rate),
            loss=loss,
            epochs=warm,
        )
        if reporter.nan or reporter.cancel.cancelled:
            return model
    set_trainable(model, mode)
    optimizer = _optimizer(mode, arch, recipe)
    fit(model, data, reporter, optimizer=optimizer, loss=loss, epochs=recipe.epochs - warm, first_epoch=warm)
    return model


def _optimizer(mode, arch, recipe):
    if mode != "scratch":
        return keras.optimizers.Adam(recipe.learning_rate)
    optimizer = arch.recipe.make_optimizer()
    optimizer.learning_rate = recipe.learning_rate
    return optimizer


def probe_model(parent_model, kernel: np.ndarray, bias: np.ndarray, n_outputs: int):
    """The parent's layers up to the penultimate one, then a new output Dense with these weights.

    ``kernel`` (D, 1) gives a sigmoid output; (D, K) a softmax. A one-column kernel for a model
    with two softmax outputs becomes ``[0, w]`` (softmax of ``[0, z]`` is the sigmoid of ``z``).
    """
    base = clone(parent_model)
    if n_outputs == 2 and kernel.shape[1] == 1:
        kernel = np.concatenate([np.zeros_like(kernel), kernel], axis=1)
        bias = np.concatenate([np.zeros_like(bias), bias])
    activation = "sigmoid" if kernel.shape[1] == 1 else "softmax"
    head = keras.layers.Dense(kernel.shape[1], activation=activation, name="probability")
    outputs = head(penultimate_layer(base).output)
    inputs = base.inputs[0] if len(base.inputs) == 1 else base.inputs  # the parent's structure: one tensor
    model = keras.Model(inputs, outputs, name=base.name)
    head.set_weights([kernel, bias])
    return model
