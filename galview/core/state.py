"""Evented viewer state shared by every widget: collection, current cutout, display, model, scores.

Widgets read it, change it through its setters and listen to its signals; no widget
holds state of its own that another needs (the napari/glue pattern). The active model is
stored as an opaque object (a ``galview.ml.loading.LoadedModel``): core never imports Keras.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from psygnal import Signal

from galview.core.collection import Collection
from galview.core.display import DisplaySettings, default_settings
from galview.core.explanation import ExplainSettings
from galview.core.ordering import Sorting, make_order
from galview.core.scores import Scores


class ViewerState:
    """What the window shows.

    Signals
    -------
    collection_changed(Collection or None)
    current_changed(int)
        Index of the cutout in the detail view (-1 when there is none).
    display_changed(DisplaySettings)
    model_changed(LoadedModel or None)
    scores_changed(Scores or None)
        New scores, or more rows of the current ones.
    order_changed(ndarray)
        The display order (cutout indices after sorting and filtering) or the sorting changed.
    explain_changed(ExplainSettings)
        How heat maps are computed (method, class) or shown (opacity, colour map, contours, grid).
    labels_changed(ndarray or None)
        Indices whose label changed (None: any may have).
    """

    collection_changed = Signal(object)
    current_changed = Signal(int)
    display_changed = Signal(object)
    model_changed = Signal(object)
    scores_changed = Signal(object)
    order_changed = Signal(object)
    explain_changed = Signal(object)
    labels_changed = Signal(object)

    def __init__(self) -> None:
        self.collection: Collection | None = None
        self.current: int = -1
        self.display = DisplaySettings()
        self.model = None
        self.scores: Scores | None = None
        self.sorting = Sorting()
        self.order: np.ndarray = np.arange(0, dtype=np.int64)
        self.explain = ExplainSettings()
        self.labels: np.ndarray = np.zeros(0, dtype=np.float64)  # current labels, NaN where none
        self.suspects: np.ndarray | None = None  # suspected-label-error score per cutout, NaN unranked
        self.random_seed = 0
        self._plain_order = True  # self.order is arange(n) from the identity sorting

    @property
    def n(self) -> int:
        """Number of cutouts in the collection (0 without one)."""
        return 0 if self.collection is None else len(self.collection)

    # -- collection and display ----------------------------------------------------------
    def set_collection(self, collection: Collection | None) -> None:
        """Show a new collection (the previous one is closed) with display defaults for its data.

        Scores are dropped and the order goes back to file order.
        """
        old = self.collection
        self.collection = collection
        if collection is not None:
            self.display = default_settings(collection.dtype, collection.shape[2])
        self.current = 0 if collection is not None else -1
        self.scores = None
        self.labels = _file_labels(collection)
        self.suspects = None
        self.random_seed = int(np.random.default_rng().integers(2**31))  # a new blind order per opening
        self.sorting = Sorting()
        self.order = np.arange(self.n, dtype=np.int64)
        self._plain_order = True
        if old is not None and old is not collection:
            old.close()
        self.collection_changed.emit(collection)
        self.scores_changed.emit(None)
        self.order_changed.emit(self.order)
        self.display_changed.emit(self.display)
        self.current_changed.emit(self.current)

    def set_current(self, index: int) -> None:
        """Select the cutout at ``index``, clipped to the collection."""
        if self.collection is None:
            return
        index = max(0, min(int(index), len(self.collection) - 1))
        if index != self.current:
            self.current = index
            self.current_changed.emit(index)

    def set_display(self, settings: DisplaySettings) -> None:
        if settings != self.display:
            self.display = settings
            self.display_changed.emit(settings)

    def update_display(self, **changes) -> None:
        """Change some display fields, e.g. ``update_display(stretch="log")``."""
        self.set_display(self.display.with_changes(**changes))

    def update_explain(self, **changes) -> None:
        """Change how heat maps are computed or shown, e.g. ``update_explain(opacity=0.7)``."""
        settings = replace(self.explain, **changes)
        if settings != self.explain:
            self.explain = settings
            self.explain_changed.emit(settings)

    # -- model and scores ----------------------------------------------------------------
    def set_model(self, model) -> None:
        """Make ``model`` (a LoadedModel, or None) active; scores of another model version are dropped."""
        if model is self.model:
            return
        self.model = model
        if self.explain.class_index is not None:  # class numbers belong to the previous model
            self.update_explain(class_index=None)
        self.model_changed.emit(model)
        if self.scores is not None and (model is None or self.scores.model_version != model.version):
            self.set_scores(None)

    def set_scores(self, scores: Scores | None) -> None:
        """Replace the scores (they must cover the whole collection) and re-sort if sorting by them."""
        if scores is not None and len(scores) != self.n:
            raise ValueError(f"scores cover {len(scores)} cutouts; the collection has {self.n}")
        self.scores = scores
        self.scores_changed.emit(scores)
        self.refresh_order()

    def update_scores(self, indices, probs, model_version: str, refresh: bool = True) -> bool:
        """Fill in rows ``indices`` (B,) of the current scores with ``probs`` (B, K).

        Returns False, changing nothing, when the current scores belong to another model
        version or were dropped (a late batch from a job that no longer matters).
        """
        if self.scores is None or self.scores.model_version != model_version:
            return False
        self.scores.set_rows(indices, probs)
        self.scores_changed.emit(self.scores)
        if refresh:
            self.refresh_order()
        return True

    # -- labels ----------------------------------------------------------------------------
    def set_labels(self, labels, indices=None) -> None:
        """Replace the current labels (N,) (NaN = none); ``indices`` says which changed (None: maybe all).

        The display order is not recomputed: a queue being worked through stays put.
        """
        labels = np.asarray(labels, dtype=np.float64)
        if labels.shape != (self.n,):
            raise ValueError(f"labels cover {labels.shape} cutouts; the collection has {self.n}")
        self.labels = labels
        self.labels_changed.emit(None if indices is None else np.asarray(indices, dtype=np.int64))

    def set_suspects(self, suspects) -> None:
        """Suspected-label-error scores (N,) (NaN = not ranked), or None; re-sorts if that queue is shown."""
        self.suspects = None if suspects is None else np.asarray(suspects, dtype=np.float64)
        if self.sorting.sort == "suspects":
            self.refresh_order(force=True)

    # -- display order ---------------------------------------------------------------------
    def set_sorting(self, sorting: Sorting | None = None, **changes) -> None:
        """Sort and filter the grid, e.g. ``set_sorting(sort="prob_desc", p_min=0.5)``.

        A new sort key makes the first cutout shown current (the top of the new order); a new
        probability range keeps the current cutout if it is still shown.
        """
        sorting = (sorting or self.sorting).with_changes(**changes)
        if sorting != self.sorting:
            resorted = sorting.sort != self.sorting.sort
            self.sorting = sorting
            self.refresh_order(force=True)
            if resorted and self.order.size:
                self.set_current(int(self.order[0]))

    def set_order(self, order) -> None:
        """Show the cutouts ``order`` (M,) in this order (any subset of the collection).

        If the current cutout is no longer shown, the first one shown becomes current.
        """
        order = np.asarray(order, dtype=np.int64).reshape(-1)
        if order.size and (order.min() < 0 or order.max() >= self.n):
            raise IndexError(f"display order holds an index outside a collection of {self.n}")
        self.order = order
        self._plain_order = False
        self.order_changed.emit(order)
        if order.size and not np.any(order == self.current):
            self.set_current(int(order[0]))

    def refresh_order(self, force: bool = False) -> None:
        """Recompute the order from the sorting and the scores; signal only if it changed."""
        s = self.sorting
        if s.identity and self._plain_order and not force:
            return  # file order does not depend on the scores
        order = make_order(
            self.n, self.scores, s.sort, s.p_min, s.p_max, self.labels, self.suspects, self.random_seed
        )
        if force or not np.array_equal(order, self.order):
            self.set_order(order)
        self._plain_order = s.identity


def _file_labels(collection: Collection | None) -> np.ndarray:
    """The file's labels as float (N,), NaN where there are none."""
    if collection is None:
        return np.zeros(0, dtype=np.float64)
    labels = collection.labels
    if labels is None:
        return np.full(len(collection), np.nan)
    try:
        return np.asarray(labels, dtype=np.float64)
    except (TypeError, ValueError):  # text labels: not usable as classes
        return np.full(len(collection), np.nan)
