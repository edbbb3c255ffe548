"""The steps of one retraining (:func:`galview.ml.finetune.finetune`): the parent's predictions,
the k-fold fits, the final fit and the new version's card. Nothing here writes a file."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from galview.core.confident import stratified_folds
from galview.core.jobs import Cancelled, Progress
from galview.core.label_values import retrained_class_names
from galview.core.training_labels import labels_record
from galview.core.words import unreadable_cutouts
from galview.ml import finetune_fit as fitting
from galview.ml.augment import CutoutBatches, dihedral_views, view_count
from galview.ml.cards import ModelCard, fingerprint
from galview.ml.crossval import as_class_probabilities, fit_head, head_as_dense, head_probabilities
from galview.ml.devices import device_description
from galview.ml.errors import ModelError, TrainingFailed
from galview.ml.finetune_report import compare, verdict

#: Up to this many labels, the card itself keeps the index → label map (always in labels.npz too).
INLINE_LABELS = 20_000
#: The anchored probe is fitted on this many orientations of each labelled cutout (flips and quarter
#: turns; fewer when they would make more than PROBE_ROWS feature rows). Chosen on HSC-like
#: simulations: +6.8 and +5.2 points held-out against +5.5 and +3.5 from the cutouts as they are. The
#: row cap keeps the probe in seconds: with 2,000 labels, 8 views took 94 s for +6.9 points, 2 views
#: 10 s for +6.2, 1 view 4 s for +6.0 (BENCHMARKS.md, issue 12 §1e).
PROBE_VIEWS = 8
PROBE_ROWS = 4_000
#: What "before" is when the labels are of another task than the parent's.
GUESSING = "guessing the most common class"
_OOM_WORDS = ("RESOURCE_EXHAUSTED", "out of memory", "OOM when allocating", "CUDA_ERROR_OUT_OF_MEMORY")


@dataclass
class Outcome:
    """What :meth:`Job.run` made: the final model and the before/after comparison."""

    model: Any
    before: dict
    after: dict
    difference: dict
    verdict: str
    device: str
    epochs_run: int
    #: How the probe was fitted (``anchored``, the chosen ``C``); empty for the network modes.
    probe: dict = dataclasses.field(default_factory=dict)


class Job:
    """One retraining of ``parent`` on ``labels`` of ``indices`` with ``recipe`` (checked here)."""

    def __init__(self, parent, collection, indices, labels, recipe, on_progress, cancel, left_out=None):
        from galview.ml.adapt import adapt_for
        from galview.ml.finetune import MODES

        self.parent, self.collection, self.recipe = parent, collection, recipe
        self.on_progress, self.cancel, self.left_out = on_progress, cancel, dict(left_out or {})
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        card = parent.card
        if recipe.mode not in MODES:
            raise ModelError(parent.path, f"unknown mode {recipe.mode!r}; expected one of {', '.join(MODES)}")
        if card.task not in ("binary", "multiclass"):
            raise ModelError(parent.path, f"retraining needs a classifier; this model is {card.task}")
        self.n_classes = len(card.class_names)
        #: The labels name other classes than the parent's (rings for an LSBG model): the parent's
        #: class k says nothing about them, so "before" is guessing the most common class.
        self.new_task = retrained_class_names(card.class_names, collection.class_names)[1] is not None
        self._check_labels(len(collection))
        self.spec = adapt_for(parent, collection)[0].card.input
        #: Labelled cutouts that could not be read (index → why): left out, as scoring leaves them.
        self.unreadable = self._leave_out_unreadable()
        if self.unreadable:
            self._check_labels(len(collection))  # the counts per class again, without them
        self.fold = stratified_folds(self.labels, recipe.folds, recipe.seed)
        self.arch = _architecture(card.architecture, recipe.mode, parent.path)
        binary = card.task == "binary"
        self.targets = np.zeros(len(collection), dtype=np.float32 if binary else np.int64)
        self.targets[self.indices] = (self.labels == card.positive_class) if binary else self.labels
        self.loss = "binary_crossentropy" if binary else "sparse_categorical_crossentropy"
        self.head = self._probe_head()
        self.views = self._probe_views()
        self.clock = fitting.Clock(self._planned())

    def _check_labels(self, n: int) -> None:
        where = self.parent.path
        if len(self.indices) != len(self.labels):
            raise ModelError(where, f"{len(self.indices)} indices but {len(self.labels)} labels")
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= n):
            raise ModelError(where, f"label indices must lie in 0..{n - 1}")
        if len(np.unique(self.indices)) != len(self.indices):
            raise ModelError(where, "a cutout is labelled twice")
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= self.n_classes):
            raise ModelError(where, f"labels must be class indices 0..{self.n_classes - 1} of the model")
        counts = np.bincount(self.labels, minlength=self.n_classes)
        if (counts > 0).sum() < 2:
            raise ModelError(where, "retraining needs labels of at least two classes")
        short = [k for k, c in enumerate(counts) if 0 < c < self.recipe.folds]
        if self.recipe.folds < 2 or short:
            k = short[0] if short else 0
            raise ModelError(
                where,
                f"{self.recipe.folds}-fold cross-validation needs at least {max(self.recipe.folds, 2)} labels of "
                f"each class; class {self.parent.card.class_names[k]!r} has {counts[k]}: label more or use fewer folds",
            )

    def _leave_out_unreadable(self) -> dict[int, str]:
        """Drop the labelled cutouts that cannot be read (all NaN, a damaged image of a folder) from
        :attr:`indices` and :attr:`labels`, counted in :attr:`left_out`; returns index → why.

        Reads every labelled cutout once, batch by batch; only a batch that fails is read cutout by
        cutout. A batch of which nothing reads is the file's fault: its error is raised.
        """
        unreadable: dict[int, str] = {}
        size = max(int(self.recipe.batch_size), 1)
        for start in range(0, len(self.indices), size):
            self.cancel.raise_if_cancelled()
            chunk = self.indices[start : start + size]
            found = self.collection.get_batch_skipping(chunk)[1]
            unreadable.update({int(chunk[position]): why for position, why in found.items()})
        if unreadable:
            keep = ~np.isin(self.indices, list(unreadable))
            self.indices, self.labels = self.indices[keep], self.labels[keep]
            self.left_out["unreadable"] = len(unreadable)
        return unreadable

    def counts(self) -> dict:
        """``{"per_class": {index: n}, "left_out": {...}, "total": n, "unreadable": text}``.

        ``unreadable`` is one line about labelled cutouts that could not be read ("" when none).
        """
        found, number = np.unique(self.labels, return_counts=True)
        per_class = {int(k): int(c) for k, c in zip(found, number, strict=True)}
        note = unreadable_cutouts(self.unreadable, left_out_of="the training") if self.unreadable else ""
        return {
            "per_class": per_class,
            "left_out": self.left_out,
            "total": len(self.labels),
            "unreadable": note,
        }

    def _probe_head(self):
        """The parent's output layer an anchored probe starts from; None for other modes or outputs."""
        from galview.ml.anchored_probe import parent_head

        return parent_head(self.parent.model) if self.recipe.mode == "probe" else None

    def _probe_views(self) -> int:
        """Orientations per labelled cutout the parent is run on: several for an anchored probe, else 1."""
        if self.head is None:
            return 1
        wanted = min(PROBE_VIEWS, PROBE_ROWS // max(len(self.indices), 1))
        return view_count(self.spec.shape, wanted)

    def _steps(self, positions: np.ndarray) -> int:
        fit_idx, _ = fitting.split_for_validation(self.targets, self.indices[positions], self.recipe)
        return max(math.ceil(len(fit_idx) / self.recipe.batch_size), 1)

    def _planned(self) -> int:
        total = self.views * math.ceil(len(self.indices) / self.recipe.batch_size)
        if self.recipe.mode == "probe":
            return total + self.recipe.folds + 1
        parts = [np.flatnonzero(self.fold != f) for f in range(self.recipe.folds)]
        parts.append(np.arange(len(self.indices)))
        return total + sum(self.recipe.epochs * self._steps(p) for p in parts)

    def run(self) -> Outcome:
        """Parent's predictions, k-fold out-of-fold predictions, final fit; raises on failure."""
        with _memory_guard(self.parent.path):
            before, embeddings = self._parent_pass()
            probe = {}
            if self.recipe.mode == "probe":
                oof, model, probe = self._probe(embeddings)
                epochs_run = 0
            else:
                oof, model, epochs_run = self._networks()
        self.cancel.raise_if_cancelled()
        if not np.isfinite(oof).all():
            raise TrainingFailed(self.parent.path, "the retrained models predict NaN; nothing was written")
        if self.new_task:
            before = self._guesses()
        metrics_before, after, difference = compare(self.labels, before, oof, self.recipe.seed)
        if self.new_task:
            metrics_before["baseline"] = difference["baseline"] = GUESSING
        text = verdict(difference, self.recipe.folds, GUESSING if self.new_task else None)
        return Outcome(
            model, metrics_before, after, difference, text, device_description(), epochs_run, probe
        )

    def _guesses(self) -> np.ndarray:
        """Out-of-fold "before" of a new task: each fold's held-out cutouts get the class frequencies
        of the fold's training labels (so the most common class, or class 0 on a tie, is predicted)."""
        guesses = np.zeros((len(self.labels), self.n_classes))
        for f in range(self.recipe.folds):
            train, held = self.fold != f, self.fold == f
            counts = np.bincount(self.labels[train], minlength=self.n_classes)
            guesses[held] = counts / max(counts.sum(), 1)
        return guesses

    def _parent_pass(self):
        """The parent's class probabilities on the labelled cutouts, and its penultimate features
        (views, n, D) of :attr:`views` orientations of each (view 0: as they are)."""
        from galview.ml.scoring import embedding_model

        both = embedding_model(self.parent.model)
        batches = CutoutBatches(self.collection, self.indices, self.spec, batch_size=self.recipe.batch_size)
        features, outputs = [[] for _ in range(self.views)], []
        for k in range(len(batches)):
            for v, view in enumerate(dihedral_views(batches[k], self.views)):
                self.cancel.raise_if_cancelled()
                emb, out = both.predict_on_batch(view)
                features[v].append(np.asarray(emb, np.float64).reshape(len(out), -1))
                if v == 0:
                    outputs.append(np.asarray(out, np.float64))
                self.clock.done += 1
                self._report("before: the parent's predictions")
        return self._class_probs(np.concatenate(outputs)), np.stack([np.concatenate(f) for f in features])

    def _probe(self, embeddings):
        """Out-of-fold probabilities, the probe model and how it was fitted.

        Anchored at the parent's output layer (:mod:`galview.ml.anchored_probe`) when it is one
        Dense on the features; otherwise a plain logistic regression replaces it.
        """
        from galview.ml.anchored_probe import fit_with_chosen_c

        if not np.isfinite(embeddings).all():
            raise TrainingFailed(self.parent.path, "the model's features are not finite; nothing was written")
        head = self.head
        if head is None:
            return self._plain_probe(embeddings[0])
        targets = self._output_targets(head.sigmoid)
        oof = np.full((len(self.labels), self.n_classes), np.nan)
        chosen = []
        for f in range(self.recipe.folds):
            self.cancel.raise_if_cancelled()
            train, held = self.fold != f, self.fold == f
            fitted = fit_with_chosen_c(embeddings[:, train], targets[train], head, self.recipe.seed)
            oof[held] = self._class_probs(fitted.outputs(embeddings[0, held]))
            chosen.append(fitted.C)
            self._tick(f"probe: fold {f + 1}/{self.recipe.folds}, C = {fitted.C:g}")
        fitted = fit_with_chosen_c(embeddings, targets, head, self.recipe.seed)
        kernel, bias = fitted.as_dense()
        model = fitting.probe_model(self.parent.model, kernel, bias, self.parent.card.n_outputs)
        self._tick(f"probe: all labels, C = {fitted.C:g}")
        details = {
            "anchored": True, "C": fitted.C, "fold_C": chosen,
            "recalibration": round(fitted.a, 4), "views": len(embeddings),
        }  # fmt: skip
        return oof, model, details

    def _output_targets(self, sigmoid: bool) -> np.ndarray:
        """The output unit each label asks for: 0/1 for a sigmoid (or a two-unit binary softmax,
        whose unit 1 is the positive class), the class index for a multiclass softmax."""
        card = self.parent.card
        if sigmoid or card.task == "binary":
            return (self.labels == card.positive_class).astype(np.int64)
        return self.labels

    def _tick(self, message: str) -> None:
        self.clock.done += 1
        self._report(message)

    def _plain_probe(self, embeddings):
        def tick(_progress):
            self._tick("probe: logistic regression on the frozen features")

        oof = head_probabilities(embeddings, self.labels, self.fold, self.n_classes, tick, self.cancel)
        scaler, head = fit_head(embeddings, self.labels)
        kernel, bias = head_as_dense(scaler, head)
        if self.parent.card.task == "binary" and self.parent.card.positive_class == 0:
            kernel, bias = -kernel, -bias  # the sigmoid gives class 0
        model = fitting.probe_model(self.parent.model, kernel, bias, self.parent.card.n_outputs)
        tick(None)
        return oof, model, {"anchored": False}

    def _networks(self):
        folds = self.recipe.folds
        oof = np.full((len(self.indices), self.n_classes), np.nan)
        for f in range(folds):
            model, _ = self._train(np.flatnonzero(self.fold != f), f"fold {f + 1}/{folds}")
            held = np.flatnonzero(self.fold == f)
            data = CutoutBatches(self.collection, self.indices[held], self.spec, batch_size=256)
            oof[held] = self._class_probs(model.predict(data, verbose=0))
            del model
        model, reporter = self._train(np.arange(len(self.indices)), "final")
        return oof, model, reporter.epochs_run

    def _train(self, positions: np.ndarray, stage: str):
        self.cancel.raise_if_cancelled()
        recipe = self.recipe
        reporter = fitting.Reporter(
            self.on_progress, self.cancel, self.clock, stage, recipe.epochs, self._steps(positions)
        )
        start = self.parent.model
        if recipe.mode == "scratch":
            shape, n_out = tuple(self.parent.card.input.shape), self.parent.card.n_outputs
            start = lambda: self.arch.build(shape, n_out)  # noqa: E731
        model = fitting.train_network(
            recipe.mode, start, self.arch, self.spec, self.collection, self.indices[positions],
            self.targets, recipe, reporter, self.loss,
        )  # fmt: skip
        if self.cancel.cancelled:
            raise Cancelled()
        if reporter.nan is not None:
            epoch, batch = reporter.nan
            raise TrainingFailed(
                self.parent.path,
                f"the loss became NaN at {stage}, epoch {epoch}, batch {batch}: training diverged "
                f"(learning rate {recipe.learning_rate:g} too high?); nothing was written",
            )
        reporter.finish()
        return model, reporter

    def _class_probs(self, outputs) -> np.ndarray:
        probs = as_class_probabilities(np.asarray(outputs))
        if self.parent.card.task == "binary" and self.parent.card.positive_class == 0:
            probs = probs[:, ::-1]
        return probs

    def _report(self, message: str) -> None:
        if self.on_progress is not None:
            self.on_progress(Progress(self.clock.done, self.clock.total, message, unit="batches"))


def _architecture(name: str, mode: str, where):
    from galview.ml.architectures import ARCHITECTURES, get_architecture

    if mode == "scratch":
        return get_architecture(name)
    return ARCHITECTURES.get(name)


@contextlib.contextmanager
def _memory_guard(where):
    """MemoryError and the backends' out-of-memory errors → :class:`TrainingFailed`."""
    try:
        yield
    except MemoryError as exc:
        raise TrainingFailed(
            where, "ran out of memory; try a smaller batch size. Nothing was written"
        ) from exc
    except (Cancelled, TrainingFailed, ModelError):
        raise
    except Exception as exc:
        if any(word in str(exc) for word in _OOM_WORDS):
            raise TrainingFailed(
                where, "the device ran out of memory; try a smaller batch size. Nothing was written"
            ) from exc
        raise


def version_card(job: Job, outcome: Outcome, seconds: float) -> ModelCard:
    """The new version's card: parent, mode, recipe, label counts, fingerprint, before/after, device."""
    parent, recipe = job.parent, job.recipe
    names, renamed = retrained_class_names(parent.card.class_names, job.collection.class_names)
    arch_name = job.arch.name if recipe.mode == "scratch" else parent.card.architecture
    explain = job.arch.explain_layer if recipe.mode == "scratch" else parent.card.explain_layer
    full = np.full(len(job.collection), -1, dtype=np.int64)
    full[job.indices] = job.labels
    record = labels_record(job.indices, job.labels)
    digest = hashlib.sha256(job.indices.tobytes() + job.labels.tobytes()).hexdigest()
    if len(job.indices) > INLINE_LABELS:
        record = {"n": record["n"]}
    record |= {"sha256": digest, "file": "labels.npz"}
    before = "the parent's predictions on the same cutouts"
    if job.new_task:
        before = f"{GUESSING} of each fold's training labels (the parent tells other classes apart)"
    evaluation = f"{recipe.folds}-fold stratified cross-validation on {len(job.labels)} human labels; before = {before}"
    metrics = {**outcome.after, "before": outcome.before, "difference": outcome.difference}
    metrics |= {"verdict": outcome.verdict, "evaluation": evaluation}
    training = {
        "mode": recipe.mode,
        "recipe": dataclasses.asdict(recipe),
        "parent": {"name": parent.path.name, "path": str(parent.path), "version": parent.version,
                   "id": parent.card.id},
        "label_counts": {names[k]: n for k, n in job.counts()["per_class"].items()},
        "left_out": job.left_out,
        "labels_used": record,
        "source": str(job.collection.source),
        "date": datetime.date.today().isoformat(),
        "device": outcome.device,
        "seconds": round(seconds, 2),
        "epochs_run": outcome.epochs_run,
    }  # fmt: skip
    if outcome.probe:
        training["probe"] = outcome.probe
    description = f"Retrained ({recipe.mode}) from {parent.path.name} on {len(job.labels)} human labels."
    if renamed:
        training["parent_class_names"] = list(parent.card.class_names)
        description += f" New {renamed}."
    return ModelCard(
        architecture=arch_name,
        task=parent.card.task,
        class_names=names,
        input=parent.card.input,
        explain_layer=explain,
        positive_class=parent.card.positive_class,
        metrics=metrics,
        training=training,
        data_fingerprint=fingerprint(job.collection, full),
        parent=str(parent.path),
        description=description,
    )
