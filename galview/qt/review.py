"""Labels ▸ the review queue and selecting by a ranking's values, in the window (issue 13).

:class:`ReviewQueueController` keeps the open collection's review queue
(:class:`galview.core.review_queue.ReviewQueue`): loaded when the collection opens, shown as the
"review queue" ranking, written to disk (:mod:`galview.io.review_files`) after every change.
:func:`select_by_value` selects the cutouts of the ranking the grid is sorted by whose value passes a
threshold (a similarity range), for one label key or the queue.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from galview.core.errors import UserFacingError
from galview.core.review_queue import REVIEW, ReviewQueue
from galview.core.words import count


class ReviewQueueController(QObject):
    """The open collection's review queue: send, remove, kept on disk.

    Signals
    -------
    message(str)
        A status-bar message.
    error(str)
        Something the user must be told (the kept queue is damaged, it cannot be written).
    """

    message = pyqtSignal(str)
    error = pyqtSignal(str)

    def __init__(self, state, metadata=None, parent: QObject | None = None):
        super().__init__(parent)
        self.state, self.metadata = state, metadata
        self.queue = ReviewQueue()
        state.collection_changed.connect(self._load)
        state.current_changed.connect(lambda _index: self._show_place())

    def send(self, indices=None) -> int:
        """Append ``indices`` (default: the selection, else the current cutout); the queue's length."""
        indices = self.state.label_targets() if indices is None else [int(i) for i in indices]
        if not indices or self.state.collection is None:
            self.message.emit("Select cutouts to send to the review queue")
            return len(self.queue)
        before = len(self.queue)
        if self._keep(self.queue.added(indices)):
            added = len(self.queue) - before
            self.message.emit(
                f"{count(added, 'cutout')} sent to the review queue ({len(self.queue)} in it; "
                "sort by 'review queue' to go through it)"
            )
        return len(self.queue)

    def remove(self, indices=None) -> int:
        """Take ``indices`` (default: the selection, else the current cutout) off the queue."""
        indices = self.state.label_targets() if indices is None else [int(i) for i in indices]
        if not indices or self.state.collection is None:
            self.message.emit("Select cutouts to take off the review queue")
            return len(self.queue)
        before = len(self.queue)
        if self._keep(self.queue.removed(indices)):
            self.message.emit(
                f"{count(before - len(self.queue), 'cutout')} taken off the review queue ({len(self.queue)} left)"
            )
        return len(self.queue)

    def _keep(self, queue: ReviewQueue) -> bool:
        from galview.io.review_files import save_queue

        try:
            save_queue(self.state.fingerprint, queue)
        except OSError as exc:
            self.error.emit(f"The review queue was NOT saved: {exc}")
            return False
        self.queue = queue
        self._show()
        return True

    def _show(self) -> None:
        if len(self.queue):
            self.state.set_ranking(self.queue.ranking(self.state.n))
        else:
            self.state.drop_ranking(REVIEW)
        self._show_place()

    def _show_place(self) -> None:
        """The metadata panel's Review row: the current cutout's place in the queue."""
        if self.metadata is None:
            return
        index, queued = self.state.current, self.queue.indices
        if not queued or index < 0:
            self.metadata.show_review("—")
        elif index in queued:
            self.metadata.show_review(f"{queued.index(index) + 1} of {len(queued)} in the review queue")
        else:
            self.metadata.show_review(f"not queued ({len(queued)} in the review queue)")

    def _load(self, collection) -> None:
        from galview.io.review_files import load_queue

        self.queue = ReviewQueue()
        self._show_place()
        if collection is None:
            return
        try:
            self.queue = load_queue(self.state.fingerprint, self.state.n)
        except UserFacingError as exc:
            self.error.emit(str(exc))
        if len(self.queue):
            self._show()


def select_by_value(state, threshold: float) -> list[int]:
    """Select the cutouts of the ranking the grid is sorted by whose value is at least ``threshold``
    (at most, for a ranking read lowest first); [] when the grid is not sorted by a ranking."""
    ranking = state.rankings.get(state.sorting.sort)
    if ranking is None:
        return []
    values = ranking.values
    with np.errstate(invalid="ignore"):
        chosen = np.flatnonzero(values >= threshold if ranking.descending else values <= threshold)
    state.set_selection(chosen)
    return [int(i) for i in state.selection]
