"""The review queue: cutouts set aside to look at again, in the order they were sent.

Any selection — the top of a similarity ranking, a range of its values, cutouts picked by hand — can be
sent to the queue instead of being labelled at once. The queue is a ranking like the others (sort the grid
by "review queue" to go through it, first sent first) and is kept per collection on disk
(:mod:`galview.io.review_files`), apart from the labels: sending or removing changes no label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.core.rankings import Ranking
from galview.core.words import count

REVIEW = "review"


@dataclass(frozen=True)
class ReviewQueue:
    """Cutout indices in the order they were sent (no repeats)."""

    indices: tuple[int, ...] = ()

    def added(self, indices) -> ReviewQueue:
        """This queue with ``indices`` appended (those already queued keep their place)."""
        queued = list(self.indices)
        seen = set(queued)
        for index in (int(i) for i in indices):
            if index not in seen:
                queued.append(index)
                seen.add(index)
        return ReviewQueue(tuple(queued))

    def removed(self, indices) -> ReviewQueue:
        """This queue without ``indices``."""
        gone = {int(i) for i in indices}
        return ReviewQueue(tuple(i for i in self.indices if i not in gone))

    def ranking(self, n: int) -> Ranking:
        """The queue as a ranking of ``n`` cutouts: queued ones first, in queue order, the rest after."""
        values = np.full(n, np.nan)
        queued = np.asarray([i for i in self.indices if 0 <= i < n], dtype=np.int64)
        values[queued] = np.arange(len(queued), dtype=np.float64)
        return Ranking(REVIEW, f"review queue ({count(len(queued), 'cutout')})", values, descending=False)

    def __len__(self) -> int:
        return len(self.indices)
