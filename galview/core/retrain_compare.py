"""What a retrained model changed: probability shifts and the cutouts whose predicted class flipped.

Both models' :class:`~galview.core.scores.Scores` of one collection go in; out come the per-cutout
change of the positive-class probability and a :class:`~galview.core.rankings.Ranking` that lists
the flipped cutouts first (largest change first), then the others by how much they moved. The
window shows the first as a histogram and sorts the grid by the second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.core.rankings import Ranking
from galview.core.scores import Scores

#: Ranking name of "class flipped by the retrained model first".
FLIPPED = "flipped"


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
