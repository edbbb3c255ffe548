"""One-click retraining: fine-tune the active model on the human labels, judged by k-fold before/after.

With a few hundred labels a validation split is too small to trust, so every cutout is judged once
by a model that never saw its label: stratified k-fold, each fold fine-tuned from the same parent
("after"), against the parent's own predictions on the same cutouts ("before"; it never trained on
them). A paired bootstrap says whether the difference is real. One more fit on all labels is the
model that is saved, as a new version; the parent is never modified.

Modes (:data:`MODES`): ``probe`` — logistic regression on the parent's frozen penultimate features of
each labelled cutout and its flips and quarter turns, anchored at the parent's own output
(:mod:`galview.ml.anchored_probe`), saved as the parent's layers
with a new output layer; ``head`` — the dense layers trained, the
convolutional ones frozen; ``full`` — a head warm-up, then all layers at a low learning rate;
``scratch`` — a fresh registered architecture with its published recipe.

Keras is imported only when :func:`finetune` runs, so recipes can be read (and the command line
can check its inputs) without loading it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from galview.core.jobs import CancelToken
from galview.core.words import count

if TYPE_CHECKING:  # the command line reads MODES and recipes without numpy or Keras
    from galview.ml.cards import ModelCard

MODES = ("probe", "head", "full", "scratch")
#: Few-label defaults (issue 12 measured full fine-tuning at Adam 1e-4 to 1e-5 on 112 real DES labels):
#: 8-fold flips and rotations, class weights, 15 epochs; early stopping only with enough labels for a
#: validation part. The rate is the low end of that range: Adam moves every weight by about the
#: learning rate per step whatever its gradient, and DeepShadows' dense weights (L2 0.12) are about
#: 1e-4 in size, so at 1e-4 a single step rewrites them (BENCHMARKS.md: +0.0 points, AUC 0.83 → 0.75).
FEW_LABEL_RATE, FEW_LABEL_EPOCHS, FEW_LABEL_BATCH = 1e-5, 15, 32
DEFAULT_FOLDS = 5
#: Below this many labels the default is a linear probe on the frozen features. Measured (BENCHMARKS.md):
#: on 200 labelled HSC-like simulations, two independent draws, the probe gained +3.2 and +3.5 points on
#: 2,000 held-out cutouts while head and full fine-tuning lost accuracy (the probe anchored at the
#: parent's output, measured later on the same draws: +5.5 and +3.5 against +5.0 and +1.6 for the plain
#: one; fitted on eight orientations of each cutout, +6.8 and +5.2). From 1,000 labels full fine-tuning
#: is the default (not measured).
PROBE_BELOW = 1000
#: From this many labels an inner validation part (10%) drives early stopping (patience 5).
VALIDATE_FROM = 300


@dataclass(frozen=True)
class FinetuneRecipe:
    """How to retrain: mode, epochs, learning rate (Adam; ``scratch``: the architecture's
    optimiser), batch size, k-fold folds, augmentation, class weights, early-stopping patience
    (None: no early stopping), seed, and why this recipe (one sentence)."""

    mode: str
    epochs: int
    learning_rate: float
    batch_size: int
    folds: int
    augment: bool = True
    class_weights: bool = True
    patience: int | None = None
    seed: int = 0
    why: str = ""

    def describe(self) -> str:
        """One line: ``"full: 15 epochs, Adam 1e-4, batch 32, 5-fold, flips/rotations, class weights"``."""
        if self.mode == "probe":
            return f"probe: logistic regression on frozen features, anchored at the parent, {self.folds}-fold"
        optimiser = "published optimiser" if self.mode == "scratch" else "Adam"
        parts = [
            count(self.epochs, "epoch"),
            f"{optimiser} {self.learning_rate:g}",
            f"batch {self.batch_size}",
        ]
        parts.append(f"{self.folds}-fold")
        parts += ["flips/rotations"] if self.augment else []
        parts += ["class weights"] if self.class_weights else []
        parts += [f"early stopping (patience {self.patience})"] if self.patience else []
        return f"{self.mode}: " + ", ".join(parts)


def default_recipe(
    n_labels: int,
    mode: str | None = None,
    *,
    epochs: int | None = None,
    folds: int | None = None,
    architecture: str = "deepshadows",
) -> FinetuneRecipe:
    """The recipe for ``n_labels`` human labels; ``mode`` None chooses it for the label count.

    Few-label defaults for ``probe``/``head``/``full``; the published recipe of ``architecture``
    (:mod:`galview.ml.architectures`) for ``scratch``. ``epochs``/``folds`` override.
    """
    from galview.ml.architectures import get_architecture

    chosen = mode is None
    if chosen:
        mode = "probe" if n_labels < PROBE_BELOW else "full"
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    folds = int(folds or DEFAULT_FOLDS)
    patience = 5 if n_labels >= VALIDATE_FROM else None
    if mode == "scratch":
        published = get_architecture(architecture).recipe
        recipe = FinetuneRecipe(
            mode, published.epochs, published.learning_rate, published.batch_size, folds,
            patience=published.patience,
        )  # fmt: skip
    elif mode == "probe":
        recipe = FinetuneRecipe(mode, 0, 0.0, 64, folds, augment=False, class_weights=False)
    else:
        recipe = FinetuneRecipe(
            mode, FEW_LABEL_EPOCHS, FEW_LABEL_RATE, FEW_LABEL_BATCH, folds, patience=patience
        )
    if epochs is not None and mode != "probe":
        recipe = replace(recipe, epochs=int(epochs))
    return replace(recipe, why=_why(n_labels, mode, chosen, recipe))


def _why(n: int, mode: str, chosen: bool, recipe: FinetuneRecipe) -> str:
    stop = (
        f"early stopping on a 10% validation part (from {VALIDATE_FROM} labels)"
        if recipe.patience
        else f"no validation split (under {VALIDATE_FROM} labels it is too small to trust)"
    )
    reasons = {
        "probe": "logistic regression on the frozen penultimate features of each cutout's flips and quarter "
        "turns, starting from the model's own output layer and moving away only as far as the labels carry "
        "it, in seconds"
        + (
            f"; under {PROBE_BELOW:,} labels it transferred as well as the slower modes or better in GalView's "
            "measurements"
            if chosen
            else ""
        ),
        "head": f"dense layers only at Adam {recipe.learning_rate:g}, convolutional layers frozen; {stop}",
        "full": f"the few-label recipe: head warm-up, then all layers at Adam {recipe.learning_rate:g} with "
        f"flips/rotations and class weights; {stop}",
        "scratch": "a new network with the published recipe; with few labels expect less than fine-tuning "
        "(0.54 on 112 real DES labels)",
    }
    how = "by default" if chosen else "as asked"
    return f"{n} labels, {mode} {how}: {reasons[mode]}"


@dataclass(frozen=True)
class FitEvent:
    """One training report for live curves (sent as :attr:`Progress.payload`).

    ``stage`` is ``"fold 2/5"`` or ``"final"``; ``kind`` ``"batch"`` or ``"epoch"``; ``values``
    hold ``loss`` and ``accuracy`` (training) and, at epoch ends with a validation part,
    ``val_loss`` and ``val_accuracy``.
    """

    stage: str
    kind: str
    epoch: int
    batch: int
    values: dict


@dataclass(frozen=True)
class FinetuneResult:
    """What a retraining made and how it compares (see :func:`finetune`)."""

    path: Path
    card: ModelCard
    recipe: FinetuneRecipe
    counts: dict
    before: dict
    after: dict
    difference: dict
    verdict: str
    device: str
    seconds: float
    #: The new version's model version when its scores of the whole collection are already in the
    #: score cache (retraining in a child process scores too: :mod:`galview.ml.finetune_process`).
    scored_version: str | None = None


def finetune(
    parent,
    collection,
    indices,
    labels,
    recipe: FinetuneRecipe,
    *,
    output=None,
    on_progress=None,
    cancel: CancelToken | None = None,
    left_out: dict | None = None,
) -> FinetuneResult:
    """Retrain ``parent`` on human labels; write the result as a new model version.

    Parameters
    ----------
    parent : LoadedModel or path
        The model to start from (never modified). A path is loaded in safe mode.
    collection : Collection
    indices, labels : array of int, shape (n,)
        Labelled cutouts and their class indices (human labels: see
        :func:`galview.core.training_labels.human_labels`).
    recipe : FinetuneRecipe
        See :func:`default_recipe`.
    output : path, optional
        Folder of the new version (must not exist, or be empty); default a new folder from
        :func:`galview.ml.versions.new_version_dir`.
    on_progress : callable(Progress), optional
        Reports in ``"batches"`` over the parent's predictions, all folds and the final fit;
        ``payload`` is a :class:`FitEvent` during training.
    cancel : CancelToken, optional
        Stops within one batch: :class:`~galview.core.jobs.Cancelled`, nothing written.
    left_out : dict, optional
        Labels not used and why (:attr:`TrainingLabels.left_out`), recorded in the card.

    Returns
    -------
    FinetuneResult

    Raises
    ------
    TrainingFailed
        NaN loss or out of memory; nothing written.
    ModelError
        Labels the model cannot learn (one class, a class with fewer labels than folds, …).
    """
    from galview.ml import finetune_run
    from galview.ml.loading import LoadedModel, load_model
    from galview.ml.versions import new_version_dir, write_version

    started = time.monotonic()
    parent = parent if isinstance(parent, LoadedModel) else load_model(parent)
    cancel = cancel or CancelToken()
    job = finetune_run.Job(parent, collection, indices, labels, recipe, on_progress, cancel, left_out)
    outcome = job.run()
    cancel.raise_if_cancelled()
    folder = Path(output) if output is not None else new_version_dir(_parent_name(parent.path))
    seconds = time.monotonic() - started
    card = finetune_run.version_card(job, outcome, seconds)
    path = write_version(outcome.model, card, folder, labels=(job.indices, job.labels))
    return FinetuneResult(
        path=path,
        card=card,
        recipe=recipe,
        counts=job.counts(),
        before=outcome.before,
        after=outcome.after,
        difference=outcome.difference,
        verdict=outcome.verdict,
        device=outcome.device,
        seconds=seconds,
    )


def _parent_name(path: Path) -> str:
    """``deepshadows_des_sim`` for ``models/deepshadows_des_sim.keras``; the folder for ``…/model.keras``."""
    return path.parent.name if path.name == "model.keras" else path.stem
