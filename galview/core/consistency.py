"""Self-consistency: re-label a random sample of labelled cutouts blind and compare with the old labels."""

from __future__ import annotations

import numpy as np

from galview.core.agreement import kappa_of
from galview.core.label_values import DEFAULT_CLASSES, UNSURE, label_name


class SelfConsistencyCheck:
    """A blind re-check of ``indices`` whose earlier labels are ``old`` (classes or UNSURE).

    Answers are kept here, never written over the labels; :meth:`agreement` and :meth:`kappa`
    report how often the new answers match the old ones.
    """

    def __init__(self, indices, old):
        self.indices = np.asarray(indices, dtype=np.int64)
        self.old = np.asarray(old, dtype=np.float64)
        if self.indices.shape != self.old.shape or np.isnan(self.old).any():
            raise ValueError("a re-check needs one earlier label per cutout")
        self.answers: dict[int, int] = {}

    @classmethod
    def sample(cls, labels, size: int = 20, seed=None) -> SelfConsistencyCheck:
        """Up to ``size`` cutouts drawn at random among those with a class label (not unsure)."""
        labels = np.asarray(labels, dtype=np.float64)
        labelled = np.flatnonzero(~np.isnan(labels) & (labels != UNSURE))
        if not labelled.size:
            raise ValueError("no labelled cutouts to re-check")
        chosen = np.random.default_rng(seed).choice(labelled, size=min(size, labelled.size), replace=False)
        return cls(chosen, labels[chosen])

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def answered(self) -> int:
        return len(self.answers)

    @property
    def done(self) -> bool:
        return self.answered == len(self)

    def answer(self, index: int, value: int) -> bool:
        """Record the new label of ``index`` (one of the sample); returns True once all are answered."""
        if int(index) not in set(self.indices.tolist()):
            raise ValueError(f"cutout {index} is not part of this re-check")
        self.answers[int(index)] = int(value)
        return self.done

    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        old = dict(zip(self.indices.tolist(), self.old.tolist(), strict=True))
        keys = list(self.answers)
        return np.array([old[k] for k in keys]), np.array([self.answers[k] for k in keys], dtype=np.float64)

    def agreement(self) -> tuple[int, int]:
        """(answers equal to the old label, answers given)."""
        old, new = self._pairs()
        return int(np.sum(old == new)), len(new)

    def kappa(self) -> float:
        """Cohen's κ of new against old answers (chance-corrected agreement); NaN if undefined."""
        old, new = self._pairs()
        values = np.union1d(old, new)  # unsure is a value of its own here
        table = np.zeros((len(values), len(values)), dtype=np.int64)
        np.add.at(table, (np.searchsorted(values, old), np.searchsorted(values, new)), 1)
        return kappa_of(table)

    def summary(self, classes=DEFAULT_CLASSES) -> str:
        """One line for the user: agreement, κ and the disagreements."""
        same, n = self.agreement()
        if not n:
            return "Re-check: nothing answered"
        old, new = self._pairs()
        flips = [
            f"#{i}: {label_name(o, classes)} → {label_name(a, classes)}"
            for i, o, a in zip(self.answers, old, new, strict=True)
            if o != a
        ]
        text = (
            f"Self-consistency: {same} of {n} answers agree with the earlier labels ({100 * same / n:.0f}%)"
        )
        text += f", Cohen's κ = {self.kappa():.2f}" if not np.isnan(self.kappa()) else ""
        return text + (f"; changed: {', '.join(flips[:6])}" if flips else "")
