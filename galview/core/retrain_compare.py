"""What a retrained model changed: probability shifts and the cutouts whose predicted class flipped.

Both models' :class:`~galview.core.scores.Scores` of one collection go in; out come the per-cutout
change of the positive-class probability and a :class:`~galview.core.rankings.Ranking` that lists
the flipped cutouts first (largest change first), then the others by how much they moved. The
window shows the first as a histogram and sorts the grid by the second. :func:`label_agreement`
checks both against the user's own labels: how many each model agrees with, and how many of the
flips move toward the user's label or away from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.core.rankings import Ranking
from galview.core.scores import Scores

#: Ranking name of "class flipped by the retrained model first".
FLIPPED = "flipped"
#: Ranking name of a model retrained on another task: its positive class, most probable first.
NEW_TASK = "new task"


@dataclass(frozen=True)
class Comparison:
    """How ``after`` differs from ``before`` on the cutouts both scored.

    Attributes
    ----------
    change : ndarray, (N,) float64
        ``after - before`` positive-class probability; NaN where either did not score the cutout.
    flipped : ndarray, (N,) bool
        The predicted class differs.
    compared : int
        Cutouts both models scored.
    """

    change: np.ndarray
    flipped: np.ndarray
    compared: int

    @property
    def n_flipped(self) -> int:
        return int(self.flipped.sum())

    def ranking(self, title: str = "class flipped by the retrained model first") -> Ranking:
        """Flipped cutouts first, each group by the size of its probability change."""
        size = np.abs(self.change)
        values = np.where(self.flipped, 1.0 + size, size)  # NaN stays NaN: unranked, last
        return Ranking(FLIPPED, title, values, descending=True, badge="Δp", shown=self.change)

    def summary(self) -> str:
        """``"31 of 2,000 cutouts change class; median |Δp| 0.04"``."""
        if self.compared == 0:
            return "no cutout was scored by both models"
        median = float(np.nanmedian(np.abs(self.change)))
        return f"{self.n_flipped:,} of {self.compared:,} cutouts change class; median |Δp| {median:.2f}"


def compare_scores(before: Scores, after: Scores) -> Comparison:
    """Compare two models' scores of the same collection (same length, same task)."""
    if len(before) != len(after):
        raise ValueError(f"scores cover {len(before)} and {len(after)} cutouts; expected the same collection")
    both = before.scored & after.scored
    change = np.full(len(before), np.nan)
    change[both] = after.positive_prob()[both].astype(np.float64) - before.positive_prob()[both]
    flipped = both & (before.predicted != after.predicted)
    return Comparison(change, flipped, int(both.sum()))


@dataclass(frozen=True)
class NewTaskScores:
    """A model retrained on labels of another task (rings from an LSBG model): nothing can flip,
    since the starting model's classes are not these; what the new model says is shown instead.

    Attributes
    ----------
    probs : ndarray, (N,) float64
        The new model's :meth:`~galview.core.scores.Scores.positive_prob`; NaN where it did not score.
    measured : str
        What that probability is of: the positive class, or ``"top class"``.
    called : dict
        Class name → how many scored cutouts the new model puts in it.
    """

    probs: np.ndarray
    measured: str
    called: dict

    @classmethod
    def of(cls, scores: Scores) -> NewTaskScores:
        probs = np.where(scores.scored, scores.positive_prob(), np.nan).astype(np.float64)
        predicted = scores.predicted[scores.scored]
        called = {name: int((predicted == k).sum()) for k, name in enumerate(scores.class_names)}
        return cls(probs, scores.positive_name, called)

    def ranking(self) -> Ranking:
        title = f"{self.measured} by the retrained model, most probable first"
        return Ranking(NEW_TASK, title, self.probs, descending=True, badge="p")

    def summary(self) -> str:
        """``"Of 100 cutouts the new model calls 69 no ring and 31 ring. …"``."""
        parts = [f"{n:,} {name}" for name, n in self.called.items()]
        listed = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
        return (
            f"Of {sum(self.called.values()):,} cutouts the new model calls {listed}. The starting "
            "model tells other classes apart, so no cutout can change class"
        )


@dataclass(frozen=True)
class LabelAgreement:
    """Two models against the user's labels, on the labelled cutouts both scored.

    Attributes
    ----------
    n : int
        Labelled cutouts both models scored.
    before, after : int
        How many of them each model predicts as labelled.
    fixed, broken : int
        Flipped cutouts the second model now gets right, and those it now gets wrong.
    """

    n: int
    before: int
    after: int
    fixed: int
    broken: int

    def text(self, first: str = "the first model", second: str = "the second", learnt=(0, 0)) -> str:
        """One sentence for the panel, naming the two models.

        ``learnt``: how many of these labels each model learnt from, or -1 when it was trained on the
        collection without a record of which cutouts (:func:`galview.core.training_labels.learnt_from`);
        a model is judged on its own training labels there, so the sentence says so.
        """
        if self.n == 0:
            return "None of your labelled cutouts was scored by both models"
        parts = []
        for name, right, seen in ((first, self.before, learnt[0]), (second, self.after, learnt[1])):
            parts.append(f"{right:,} agree with {name}{_learnt_words(seen)}")
        text = f"Your {self.n:,} labels: " + ", ".join(parts)
        if self.fixed or self.broken:
            text += (
                f"; of the cutouts that change class, {self.fixed:,} agree with you only by {second}"
                f" and {self.broken:,} only by {first}"
            )
        if any(learnt):
            text += (
                ". A model looks better than it is on labels it learnt from: its card's held-out or"
                " cross-validated figures are the fair measure"
            )
        return text


def _learnt_words(seen: int) -> str:
    if seen < 0:
        return " (which was trained on this collection)"
    return f" (which learnt from {seen:,} of them)" if seen else ""


def label_agreement(before: Scores, after: Scores, indices, labels) -> LabelAgreement:
    """How two models' predicted classes agree with labels ``labels`` (class indices) of ``indices``."""
    indices = np.asarray(indices, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    both = before.scored[indices] & after.scored[indices]
    indices, labels = indices[both], labels[both]
    right_before = before.predicted[indices] == labels
    right_after = after.predicted[indices] == labels
    return LabelAgreement(
        n=len(indices),
        before=int(right_before.sum()),
        after=int(right_after.sum()),
        fixed=int((right_after & ~right_before).sum()),
        broken=int((right_before & ~right_after).sum()),
    )
