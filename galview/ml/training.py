"""Train a seed architecture (or fine-tune a loaded model) on a labelled collection.

The model in use is never touched: training works on a new model (or a clone), keeps
the best weights in memory, and writes the result under a temporary name that is
renamed only when everything succeeded.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from galview.core.jobs import CancelToken, Progress
from galview.core.words import unreadable_cutouts
from galview.ml.augment import CutoutBatches
from galview.ml.calibration import calibrate
from galview.ml.cards import InputSpec, ModelCard, fingerprint
from galview.ml.metrics import binary_metrics, multiclass_metrics

OPTIMIZER_RATES = {"adadelta": 1.0, "adam": 1e-3}
"""Default learning rate of each optimiser when it replaces the published recipe's (``--optimizer``)."""


@dataclass
class TrainConfig:
    """What to train and how; ``None`` fields take the architecture's published recipe."""

    architecture: str = "deepshadows"
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    optimizer: str | None = None
    patience: int | None = None
    val_split: float = 0.1
    test_split: float = 0.1
    seed: int = 0
    augment: bool = True
    jitter: float = 0.0
    context_swap: float = 0.0
    weight_average: float = 0.0
    lr_schedule: str = "constant"
    calibrate: bool = False
    class_weights: bool = True
    class_names: tuple[str, ...] | None = None
    extra: dict = field(default_factory=dict)


def stratified_split(labels: np.ndarray, val: float, test: float, seed: int):
    """Indices (train, val, test), each class split in the same proportions."""
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for value in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == value))
        n_test, n_val = int(round(len(members) * test)), int(round(len(members) * val))
        parts[2].append(members[:n_test])
        parts[1].append(members[n_test : n_test + n_val])
        parts[0].append(members[n_test + n_val :])
    return tuple(np.sort(np.concatenate(p)).astype(np.int64) for p in parts)


def balanced_class_weights(labels: np.ndarray) -> dict[int, float]:
    """Weights inversely proportional to class frequency, averaging 1 over samples."""
    values, counts = np.unique(labels, return_counts=True)
    return {int(v): float(len(labels) / (len(values) * c)) for v, c in zip(values, counts, strict=True)}


class _Relay(keras.callbacks.Callback):
    """Reports progress after every batch and stops training when the token is cancelled."""

    def __init__(self, on_progress, cancel: CancelToken, epochs: int, steps: int):
        super().__init__()
        self.on_progress, self.cancel, self.epochs, self.steps = on_progress, cancel, epochs, steps
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.cancel.cancelled:
            self.model.stop_training = True
        if self.on_progress is not None:
            done = self.epoch * self.steps + batch + 1
            self.on_progress(
                Progress(
                    done,
                    self.epochs * self.steps,
                    f"epoch {self.epoch + 1}/{self.epochs}",
                    dict(logs or {}),
                    unit="batches",
                )
            )

    def on_epoch_end(self, epoch, logs=None):
        if self.on_progress is not None:
            message = f"epoch {epoch + 1}/{self.epochs} done"
            self.on_progress(
                Progress(
                    (epoch + 1) * self.steps,
                    self.epochs * self.steps,
                    message,
                    dict(logs or {}),
                    unit="batches",
                )
            )


def _targets(labels: np.ndarray, task: str) -> np.ndarray:
    return labels.astype(np.float32) if task == "binary" else labels.astype(np.int64)


def _evaluate(model, collection, indices, spec, labels, task, batch_size) -> tuple[dict, dict[int, str]]:
    """Test metrics of ``model`` on ``indices``, and the cutouts left out because they could not be read."""
    if len(indices) == 0:
        return {}, {}
    batches = CutoutBatches(collection, indices, spec, batch_size=batch_size)
    probs = model.predict(batches, verbose=0)
    if batches.unreadable:
        read = ~np.isin(indices, list(batches.unreadable))
        indices, probs = indices[read], probs[read]
    if task == "binary":
        return binary_metrics(labels[indices], probs[:, 0]), batches.unreadable
    return multiclass_metrics(labels[indices], probs), batches.unreadable


def _loss(task: str, recipe_loss: str) -> str:
    if task == "multiclass" and recipe_loss == "categorical_crossentropy":
        return "sparse_categorical_crossentropy"  # GalView's labels are class indices
    return recipe_loss


def train_model(
    collection,
    config: TrainConfig,
    output: str | Path,
    *,
    labels=None,
    parent=None,
    on_progress=None,
    cancel: CancelToken | None = None,
):
    """Train on the labelled cutouts of ``collection`` and save ``output`` (.keras + card).

    Parameters
    ----------
    collection : Collection
    config : TrainConfig
    output : path
        Where the new model goes (``.keras``; the card beside it as ``.json``).
    labels : ndarray, optional
        Labels to train on (default: the collection's); negative values are left out.
    parent : LoadedModel, optional
        Fine-tune a copy of this model instead of training a new one from scratch.
    on_progress : callable(Progress), optional
    cancel : CancelToken, optional
        When cancelled, training stops after the current batch and nothing is written.

    Returns
    -------
    LoadedModel
        The saved model with its card (metrics on the held-out test split included).
    """
    from galview.core.jobs import Cancelled
    from galview.ml.architectures import get_architecture
    from galview.ml.loading import LoadedModel, save_model

    cancel = cancel or CancelToken()
    arch = get_architecture(parent.card.architecture if parent is not None else config.architecture)
    labels = np.asarray(collection.labels if labels is None else labels)
    if labels is None or labels.ndim != 1 or len(labels) != len(collection):
        raise ValueError(f"{collection.source}: training needs one label per cutout")
    usable = np.flatnonzero(labels >= 0)
    if arch.task != "multilabel" and len(np.unique(labels[usable])) < 2:
        values, counts = np.unique(labels[usable], return_counts=True)
        held = ", ".join(f"{count} of class {value:g}" for value, count in zip(values, counts, strict=True))
        raise TrainingSetupError(
            f"training a classifier needs labelled cutouts of at least two classes; the labels hold {held or 'none'}"
        )
    split = stratified_split(labels[usable], config.val_split, config.test_split, config.seed)
    train_idx, val_idx, test_idx = (usable[part] for part in split)
    if not len(train_idx):
        raise TrainingSetupError(
            f"no labelled cutout is left to train on after holding out {len(val_idx)} for validation and "
            f"{len(test_idx)} for the test metrics"
        )
    _check_schedule_and_calibration(config, arch.task, len(val_idx))
    spec = parent.card.input if parent is not None else _input_spec(collection, arch)
    recipe = _recipe(arch, config)
    epochs = config.epochs or recipe.epochs
    batch_size = config.batch_size or recipe.batch_size
    keras.utils.set_random_seed(config.seed)
    model = _fresh_model(arch, collection, labels[usable], parent)
    targets = _targets(np.where(labels >= 0, labels, 0), arch.task)
    train_data, val_data = training_batches(collection, train_idx, val_idx, spec, targets, batch_size, config)
    decay_steps = epochs * len(train_data) if config.lr_schedule == "cosine" else None
    optimizer = recipe.make_optimizer(config.weight_average, decay_steps)
    model.compile(optimizer=optimizer, loss=_loss(arch.task, recipe.loss), metrics=list(recipe.metrics))
    callbacks = [_Relay(on_progress, cancel, epochs, len(train_data))]
    if config.weight_average:
        # validation, early stopping and the kept best weights all see the averaged weights
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    if val_data is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=recipe.monitor,
                patience=_given(config.patience, recipe.patience),
                restore_best_weights=True,
            )
        )
    weights = (
        balanced_class_weights(labels[train_idx])
        if config.class_weights and arch.task != "multilabel"
        else None
    )
    history = model.fit(
        train_data,
        validation_data=val_data,
        epochs=epochs,
        class_weight=weights,
        callbacks=callbacks,
        verbose=0,
    )
    if cancel.cancelled:
        raise Cancelled()
    calibration = _calibrated(model, val_data) if config.calibrate else None
    metrics, unreadable = _evaluate(
        model, collection, test_idx, spec, labels, arch.task, max(batch_size, 256)
    )
    for data in (train_data, val_data):
        unreadable.update({} if data is None else data.unreadable)
    card = _card(
        arch,
        spec,
        collection,
        labels,
        config,
        parent,
        metrics,
        history,
        {
            "n_train": len(train_idx),
            "n_val": len(val_idx),
            "n_test": len(test_idx),
            "epochs": epochs,
            "batch_size": batch_size,
            # labelled cutouts that could not be read (a damaged image, an all-NaN cutout): left out
            "unreadable": len(unreadable),
            "unreadable_note": unreadable_cutouts(unreadable, left_out_of="training") if unreadable else "",
        },
        calibration,
    )
    saved = save_model(model, card, output)
    return LoadedModel(saved.model, saved.card, saved.path, saved.files)


LR_SCHEDULES = ("constant", "cosine")


def _given(value, default):
    """``value`` unless it is None (0 is a value: ``--patience 0`` stops at the first epoch without gain)."""
    return default if value is None else value


class TrainingSetupError(ValueError):
    """A training option that cannot apply to this model or split; raised before anything is written."""


def _calibrated(model, val_data) -> dict:
    """Platt scaling fitted on the validation batches and folded into ``model``; its card record."""
    try:
        return calibrate(model, val_data).to_dict()
    except ValueError as exc:  # a diverged model: say so in one line, write nothing
        raise TrainingSetupError(f"calibration: {exc}") from None


def _check_schedule_and_calibration(config: TrainConfig, task: str, n_val: int) -> None:
    """Refuse, before any training, a schedule GalView does not know or a calibration it cannot fit."""
    if config.lr_schedule not in LR_SCHEDULES:
        raise TrainingSetupError(
            f"unknown learning-rate schedule {config.lr_schedule!r}; expected one of {LR_SCHEDULES}"
        )
    if config.calibrate and task != "binary":
        raise TrainingSetupError(f"calibration (Platt scaling) needs a binary model, not a {task} one")
    if config.calibrate and not n_val:
        raise TrainingSetupError("calibration is fitted on the validation split, and this split is empty")


def training_batches(collection, train_idx, val_idx, spec, targets, batch_size: int, config: TrainConfig):
    """Shuffled (and, per ``config``, augmented) training batches, and plain validation batches or None.

    On a GPU the training batches are prepared in :func:`galview.ml.devices.feed_threads` threads.
    """
    from galview.ml.devices import feed_threads

    threads = feed_threads()
    parallel = {"workers": threads, "max_queue_size": 4 * threads} if threads > 1 else {}
    train = CutoutBatches(
        collection,
        train_idx,
        spec,
        targets,
        batch_size,
        config.augment,
        True,
        config.seed,
        jitter=config.jitter,
        context_swap=config.context_swap,
        **parallel,
    )
    val = CutoutBatches(collection, val_idx, spec, targets, batch_size) if len(val_idx) else None
    return train, val


def _input_spec(collection, arch) -> InputSpec:
    uint8 = collection.dtype == np.uint8
    dtype, scale = ("uint8", "divide255") if uint8 else ("float32", "none")  # other types are cast to float32
    return InputSpec(shape=tuple(collection.shape), bands=tuple(collection.bands), dtype=dtype, scale=scale)


def _fresh_model(arch, collection, labels, parent):
    if parent is not None:
        clone = keras.models.clone_model(parent.model)
        clone.set_weights(parent.model.get_weights())
        return clone
    n_outputs = 1 if arch.task == "binary" else int(max(labels.max() + 1, len(arch.default_class_names)))
    return arch.build(tuple(collection.shape), n_outputs)


def _recipe(arch, config: TrainConfig):
    """The architecture's published recipe with the optimiser and learning rate ``config`` asks for:
    another optimiser comes with its own default rate (:data:`OPTIMIZER_RATES`) unless a rate is given."""
    recipe = arch.recipe
    if config.optimizer is not None:
        recipe = dataclasses.replace(
            recipe, optimizer=config.optimizer, learning_rate=OPTIMIZER_RATES[config.optimizer]
        )
    if config.learning_rate is not None:
        recipe = dataclasses.replace(recipe, learning_rate=config.learning_rate)
    return recipe


def _card(
    arch, spec, collection, labels, config, parent, metrics, history, sizes, calibration=None
) -> ModelCard:
    class_names = config.class_names or (
        parent.card.class_names if parent is not None else arch.default_class_names
    )
    card = ModelCard(
        architecture=arch.name,
        task=arch.task,
        class_names=tuple(class_names),
        input=spec,
        explain_layer=arch.explain_layer,
        positive_class=1 if arch.task == "binary" else None,
        metrics=metrics,
        training={
            "recipe": _recipe(arch, config).optimizer,
            "learning_rate": _recipe(arch, config).learning_rate,
            "augment": config.augment,
            "colour_jitter": config.jitter,
            "context_swap": config.context_swap,
            "weight_average": config.weight_average,
            "lr_schedule": config.lr_schedule,
            "calibration": calibration,
            "class_weights": config.class_weights,
            "seed": config.seed,
            "epochs_run": len(history.history.get("loss", [])),
            "source": str(collection.source),
            "date": datetime.date.today().isoformat(),
            **sizes,
            **config.extra,
        },
        data_fingerprint=fingerprint(collection, labels),
        parent=None if parent is None else str(parent.path),
    )
    return card
