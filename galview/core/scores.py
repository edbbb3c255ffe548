"""Model scores of a collection held by the viewer: probabilities that fill in batch by batch.

Rows not yet scored hold NaN, so a half-scored collection (scoring still running, or cancelled)
is always a consistent object: :meth:`Scores.scored` says which rows are real.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from galview.core.model_names import model_name

#: Bins of the probability histogram.
BINS = 20

#: A binary model's output ``p`` says "positive" when ``p > DECISION_THRESHOLD`` (see :func:`is_positive`).
DECISION_THRESHOLD = 0.5

#: :attr:`Scores.predicted` of a cutout the model was run on but could not score (it could not be
#: read: all NaN, a damaged image). Kept apart from -1 (not tried yet) so that such a cutout is not
#: tried, and warned about, again at each opening.
UNREADABLE = -2


def is_positive(prob, threshold: float = DECISION_THRESHOLD) -> np.ndarray:
    """The binary decision rule, written once: positive where ``prob > threshold``, strictly.

    The rule of Keras' ``binary_accuracy`` (``y_pred > threshold``), so the accuracy Keras reports in
    training and GalView's predictions, confusion matrices and default Grad-CAM class agree: a
    probability of exactly 0.5 is negative, and so is NaN. Grad-CAM, which must decide inside
    ``keras.ops``, compares with the same :data:`DECISION_THRESHOLD` the same way.

    Parameters
    ----------
    prob : array-like of float, any shape
        Probabilities of the positive class.
    threshold : float

    Returns
    -------
    ndarray of bool, the shape of ``prob``
    """
    return np.greater(np.asarray(prob), threshold)


@dataclass(eq=False)
class Scores:
    """Per-cutout model outputs for one collection and one model version.

    Attributes
    ----------
    probs : ndarray, (N, K) float32
        Model outputs; K = 1 for binary models (the probability of the positive class).
        NaN rows are not scored yet.
    predicted : ndarray, (N,) int64
        Index into ``class_names`` of the predicted class; -1 where not scored yet,
        :data:`UNREADABLE` where the cutout could not be read.
    model_version : str
        :attr:`LoadedModel.version` of the model that produced them.
    task : str
        ``"binary"``, ``"multiclass"`` or ``"multilabel"`` (from the model card).
    class_names : tuple of str
    positive_class : int
        Index of the positive class in ``class_names`` (binary models).
    model_name : str
        Short name of the model, for display.
    embeddings : ndarray, (N, D) float32, or None
        The model's penultimate-layer activations from the same forward pass (for similarity
        and the suspects queue); NaN rows not scored yet. None when they are not kept.
    """

    probs: np.ndarray
    predicted: np.ndarray
    model_version: str
    task: str = "binary"
    class_names: tuple[str, ...] = ("negative", "positive")
    positive_class: int = 1
    model_name: str = ""
    embeddings: np.ndarray | None = None

    @classmethod
    def empty(cls, n: int, n_outputs: int, model_version: str, embedding_dim: int = 0, **card) -> Scores:
        """Scores for ``n`` cutouts with nothing scored yet; ``card`` sets task, class names, name.

        ``embedding_dim`` > 0 keeps embeddings of that width as rows are filled in.
        """
        probs = np.full((int(n), int(n_outputs)), np.nan, dtype=np.float32)
        embeddings = None
        if embedding_dim > 0:
            embeddings = np.full((int(n), int(embedding_dim)), np.nan, dtype=np.float32)
        return cls(probs, np.full(int(n), -1, dtype=np.int64), model_version, embeddings=embeddings, **card)

    @classmethod
    def for_model(cls, model, n: int, embedding_dim: int = 0) -> Scores:
        """:meth:`empty` scores of ``n`` cutouts by ``model`` (a LoadedModel), named from its card."""
        card = model.card
        return cls.empty(
            n,
            card.n_outputs,
            model.version,
            embedding_dim=embedding_dim,
            task=card.task,
            class_names=tuple(card.class_names),
            positive_class=card.positive_class if card.positive_class is not None else 0,
            model_name=model_name(model),
        )

    def copy(self) -> Scores:
        """An independent copy (arrays copied), e.g. to keep while this one goes on filling in."""
        embeddings = None if self.embeddings is None else self.embeddings.copy()
        return replace(self, probs=self.probs.copy(), predicted=self.predicted.copy(), embeddings=embeddings)

    def __len__(self) -> int:
        return len(self.probs)

    @property
    def binary(self) -> bool:
        return self.probs.shape[1] == 1

    @property
    def scored(self) -> np.ndarray:
        """(N,) bool: True where the row holds a model output."""
        return ~np.isnan(self.probs[:, 0])

    @property
    def n_scored(self) -> int:
        return int(np.count_nonzero(self.scored))

    @property
    def unreadable(self) -> np.ndarray:
        """(N,) bool: True where the model was run but the cutout could not be read (no score)."""
        return self.predicted == UNREADABLE

    @property
    def todo(self) -> np.ndarray:
        """(N,) bool: True where the model has not been run yet (neither scored nor unreadable)."""
        return ~self.scored & ~self.unreadable

    @property
    def complete(self) -> bool:
        """Whether every cutout was tried: scored, or found unreadable."""
        return not self.todo.any()

    def embeddings_of(self, indices) -> np.ndarray | None:
        """(B, D) embeddings of cutouts ``indices``, or None unless every one of them is kept."""
        if self.embeddings is None:
            return None
        rows = self.embeddings[np.asarray(indices, dtype=np.int64)]
        return None if np.isnan(rows).any() else rows

    @property
    def positive_name(self) -> str:
        """Name of what :meth:`positive_prob` measures: the positive class, or ``"top class"``."""
        if self.binary and 0 <= self.positive_class < len(self.class_names):
            return self.class_names[self.positive_class]
        return "top class"

    def set_rows(self, indices, probs, embeddings=None) -> None:
        """Store model outputs ``probs`` (B, K) for cutouts ``indices`` (B,) and their predicted classes.

        ``embeddings`` (B, D) are stored too when these scores keep embeddings. A NaN row (the
        cutout could not be read) marks the cutout :data:`UNREADABLE`.
        """
        indices = np.asarray(indices, dtype=np.int64)
        probs = np.asarray(probs, dtype=np.float32).reshape(len(indices), -1)
        if probs.shape[1] != self.probs.shape[1]:
            raise ValueError(f"expected {self.probs.shape[1]} outputs per cutout, got {probs.shape[1]}")
        if self.embeddings is not None and embeddings is not None:
            self.embeddings[indices] = np.asarray(embeddings, dtype=np.float32).reshape(len(indices), -1)
        self.probs[indices] = probs
        if self.binary:
            positive = is_positive(probs[:, 0])
            other = 1 - self.positive_class
            self.predicted[indices] = np.where(positive, self.positive_class, other)
        else:
            self.predicted[indices] = np.nan_to_num(probs, nan=-np.inf).argmax(axis=1)
        self.predicted[indices[np.isnan(probs).any(axis=1)]] = UNREADABLE

    def positive_prob(self) -> np.ndarray:
        """(N,) float32: P(positive class) for binary models, the largest output otherwise; NaN unscored."""
        if self.binary:
            return self.probs[:, 0]
        return _nanmax_rows(self.probs)

    def prob_of(self, index: int) -> float:
        """:meth:`positive_prob` of one cutout (NaN when not scored)."""
        row = self.probs[int(index)]
        return float(row[0]) if self.binary else float(np.max(row))

    def uncertainty(self) -> np.ndarray:
        """(N,) float32 in [0, 1 - 1/K]: larger is less certain; NaN where not scored.

        Binary: ``0.5 - |p - 0.5|`` (small distance to 0.5 is uncertain, i.e. ``1 - max(p, 1 - p)``).
        Otherwise ``1 - max(p)``.
        """
        if self.binary:
            return (0.5 - np.abs(self.probs[:, 0] - 0.5)).astype(np.float32)
        return (1.0 - _nanmax_rows(self.probs)).astype(np.float32)

    def predicted_name(self, index: int) -> str | None:
        """Name of the predicted class of cutout ``index``, or None when not scored."""
        k = int(self.predicted[index])
        if k < 0:
            return None
        return self.class_names[k] if k < len(self.class_names) else str(k)


def probability_histograms(prob: np.ndarray, labels: np.ndarray | None, bins: int = BINS):
    """Counts of scored cutouts per probability bin, one array per label group.

    Parameters
    ----------
    prob : ndarray, (N,)
        Probability per cutout; NaN where not scored.
    labels : ndarray, (N,) or None
        1 positive, 0 negative; anything else (NaN, unsure, -1) counts as unlabelled.

    Returns
    -------
    edges : ndarray, (bins + 1,)
    counts : dict
        ``{1: counts, 0: counts}`` when there are labels (unlabelled cutouts go under
        ``None`` if any), else ``{None: counts}``; each ``(bins,)`` int.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    scored = ~np.isnan(prob)
    if labels is None:
        groups = {None: scored}
    else:
        labels = np.asarray(labels, dtype=np.float64)
        groups = {1: labels == 1, 0: labels == 0, None: ~((labels == 1) | (labels == 0))}
    counts = {}
    for key, mask in groups.items():
        values = prob[scored & mask]
        if key is None and labels is not None and not np.any(mask):
            continue
        counts[key] = np.histogram(np.clip(values, 0.0, 1.0), bins=edges)[0]
    return edges, counts


def _nanmax_rows(probs: np.ndarray) -> np.ndarray:
    """Row maxima of (N, K) with NaN for all-NaN rows, without numpy's all-NaN warning."""
    out = np.full(len(probs), np.nan, dtype=np.float32)
    rows = ~np.isnan(probs).all(axis=1)
    out[rows] = np.nanmax(probs[rows], axis=1)
    return out
