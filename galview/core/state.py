"""Evented viewer state shared by every widget: what is open, shown, selected, labelled and ranked.

Widgets read it, change it through its setters and listen to its signals; no widget holds state of
its own that another needs (the napari/glue pattern). The grid draws the state's order, labels,
scores and rankings; the labelling session writes labels here; the runner's jobs write scores and
rankings. The active model is an opaque object (a ``galview.ml.loading.LoadedModel``): core never
imports Keras.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from psygnal import Signal

from galview.core.collection import Collection, fingerprint
from galview.core.display import DisplaySettings, default_settings
from galview.core.explanation import ExplainSettings
from galview.core.kept_scores import KeptScores
from galview.core.label_filter import ALL, shown_by_labels
from galview.core.label_values import file_labels, labels_in_use
from galview.core.ordering import SORTS, Sorting, inverse_order, make_order
from galview.core.rankings import SCORE_RANKINGS, Ranking, score_rankings
from galview.core.scores import Scores


class ViewerState:
    """What the window shows.

    Attributes
    ----------
    collection : Collection or None
    current : int
        Cutout in the detail view (-1 when there is none).
    order, position : ndarray (M,), (N,) int64
        The display order (cutouts after sorting and filtering) and its inverse (-1: not shown).
    selection : ndarray (S,) int64
        Selected cutouts in display order (several after Shift/Ctrl-click or "first k").
    labels, user_labels : ndarray (N,) float64
        The label in use (the user's where set, else the file's) and the user's alone; NaN: none.
    notes : dict of int to str
        The notes people wrote on cutouts (only those that have one), from the label store.
    blind : bool
        A blind re-check is running: labels and model opinions are hidden.
    scores : Scores or None
        The active model's scores (with embeddings when kept).
    rankings : dict of str to Ranking
        Rankings that jobs computed (suspects, similarity…). Those of the scores (probability,
        uncertainty) are derived when asked for (:meth:`ranking`), not stored. The grid sorts by
        either through one path.

    Signals
    -------
    collection_changed(Collection or None), current_changed(int), display_changed(DisplaySettings),
    model_changed(LoadedModel or None), scores_changed(Scores or None), explain_changed(ExplainSettings)
    order_changed(ndarray)
        The display order or the sorting changed.
    labels_changed(ndarray or None)
        Indices whose label changed (None: any may have).
    notes_changed(ndarray or None)
        Indices whose note changed (None: any may have).
    selection_changed(ndarray), blind_changed(bool)
    rankings_changed(str)
        Name of the ranking added, replaced or dropped.
    """

    collection_changed = Signal(object)
    current_changed = Signal(int)
    display_changed = Signal(object)
    model_changed = Signal(object)
    scores_changed = Signal(object)
    order_changed = Signal(object)
    explain_changed = Signal(object)
    labels_changed = Signal(object)
    notes_changed = Signal(object)
    selection_changed = Signal(object)
    blind_changed = Signal(bool)
    rankings_changed = Signal(str)

    def __init__(self, kept_scores: KeptScores | None = None) -> None:
        self.collection: Collection | None = None
        self.current: int = -1
        self.display = DisplaySettings()
        self.model = None
        self.scores: Scores | None = None
        self.kept_scores = kept_scores or KeptScores()
        self.sorting = Sorting()
        self.order: np.ndarray = np.arange(0, dtype=np.int64)
        self.position: np.ndarray = np.arange(0, dtype=np.int64)
        self.selection: np.ndarray = np.arange(0, dtype=np.int64)
        self.explain = ExplainSettings()
        self.labels: np.ndarray = np.zeros(0, dtype=np.float64)
        self.user_labels: np.ndarray = np.zeros(0, dtype=np.float64)
        self.notes: dict[int, str] = {}
        self.blind = False
        self.rankings: dict[str, Ranking] = {}
        self.random_seed = 0
        self._plain_order = True  # self.order is arange(n) from the identity sorting

    @property
    def n(self) -> int:
        """Number of cutouts in the collection (0 without one)."""
        return 0 if self.collection is None else len(self.collection)

    @property
    def fingerprint(self) -> str | None:
        """The open collection's :func:`~galview.core.collection.fingerprint` (None without one)."""
        return None if self.collection is None else fingerprint(self.collection)

    # -- collection and display ----------------------------------------------------------
    def set_collection(self, collection: Collection | None, close_previous: bool = True) -> None:
        """Show a new collection (the previous one is closed, unless told not to: a background job may
        still be reading it) with display defaults for its data.

        Labels come from the file (the labelling session replaces them with the store's), rankings
        and the selection are dropped, the order goes back to file order, and the active model's
        scores of this collection come back if they were kept.
        """
        old = self.collection
        self.collection = collection
        n = self.n
        if collection is not None:
            self.display = default_settings(collection.dtype, collection.shape[2])
        self.current = 0 if collection is not None else -1
        self.scores = self._kept_scores()
        self.labels = labels_in_use(collection)  # the labelling session brings the store's
        self.user_labels = np.full(n, np.nan)
        self.notes = {}  # the labelling session brings the store's
        self.selection = np.arange(min(n, 1), dtype=np.int64)  # the current cutout
        self.blind = False
        self.rankings = {}
        self.random_seed = int(np.random.default_rng().integers(2**31))  # a new blind order per opening
        self.sorting = Sorting()
        self._set_order_arrays(np.arange(n, dtype=np.int64))
        self._plain_order = True
        if close_previous and old is not None and old is not collection:
            old.close()
        self.collection_changed.emit(collection)
        self.scores_changed.emit(self.scores)
        self.order_changed.emit(self.order)
        self.display_changed.emit(self.display)
        self.current_changed.emit(self.current)
        self.selection_changed.emit(self.selection)

    def set_current(self, index: int, keep_selection: bool = False) -> None:
        """Show the cutout at ``index`` (clipped to the collection) in the detail view.

        The selection follows: it becomes this cutout alone unless the cutout is part of it
        (moving through a multi-selection keeps it) or ``keep_selection`` is set (the grid sets
        the selection itself right after, as on Ctrl-click).
        """
        if self.collection is None:
            return
        index = max(0, min(int(index), len(self.collection) - 1))
        if index != self.current:
            self.current = index
            self.current_changed.emit(index)
        if not keep_selection and not np.any(self.selection == index):
            self.set_selection([index])

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
        """Make ``model`` (a LoadedModel, or None) active; its kept scores of this collection come back.

        Scores of the previous model are kept (see :attr:`kept_scores`), so switching back costs
        no rescoring.
        """
        if model is self.model:
            return
        self.keep_scores(to_disk=False)
        self.model = model
        if self.explain.class_index is not None:  # class numbers belong to the previous model
            self.update_explain(class_index=None)
        if self.scores is None or model is None or self.scores.model_version != model.version:
            self.set_scores(self._kept_scores())  # before the signal: listeners see the model's own scores
        self.model_changed.emit(model)

    def set_scores(self, scores: Scores | None) -> None:
        """Replace the scores (they must cover the whole collection) and re-sort if sorting by them."""
        if scores is not None and len(scores) != self.n:
            raise ValueError(f"scores cover {len(scores)} cutouts; the collection has {self.n}")
        self.scores = scores
        self.scores_changed.emit(scores)
        self.refresh_order()

    def update_scores(
        self, indices, probs, model_version: str, embeddings=None, refresh: bool = True
    ) -> bool:
        """Fill in rows ``indices`` (B,) of the current scores with ``probs`` (B, K) (and embeddings).

        Returns False, changing nothing, when the current scores belong to another model
        version or were dropped (a late batch from a job that no longer matters).
        """
        if self.scores is None or self.scores.model_version != model_version:
            return False
        self.scores.set_rows(indices, probs, embeddings)
        self.scores_changed.emit(self.scores)
        if refresh:
            self.refresh_order()
        return True

    def keep_scores(self, to_disk: bool = True) -> None:
        """Hand the current scores to :attr:`kept_scores` (call when a scoring job ends)."""
        if self.scores is not None and self.collection is not None and self.scores.n_scored:
            self.kept_scores.put(self.fingerprint, self.scores, to_disk=to_disk)

    def _kept_scores(self) -> Scores | None:
        if self.collection is None or self.model is None:
            return None
        kept = self.kept_scores.get(self.fingerprint, self.model.version)
        return kept if kept is not None and len(kept) == self.n else None

    # -- labels, selection, blind mode -------------------------------------------------------
    def set_labels(self, labels, indices=None, user_labels=None) -> None:
        """Replace the labels in use (N,) (NaN = none) and, if given, the user's own (N,).

        ``indices`` says which changed (None: maybe all). The display order is not recomputed:
        a queue being worked through stays put.
        """
        labels = np.asarray(labels, dtype=np.float64)
        if labels.shape != (self.n,):
            raise ValueError(f"labels cover {labels.shape} cutouts; the collection has {self.n}")
        if user_labels is not None:
            user_labels = np.asarray(user_labels, dtype=np.float64)
            if user_labels.shape != (self.n,):
                raise ValueError(f"user labels cover {user_labels.shape}; the collection has {self.n}")
            self.user_labels = user_labels
        self.labels = labels
        self.labels_changed.emit(None if indices is None else np.asarray(indices, dtype=np.int64))

    def set_notes(self, notes: dict[int, str], indices=None) -> None:
        """Replace the notes on cutouts (index → text, only those that have one); ``indices`` says
        which changed (None: maybe all). The display order is not recomputed, as for labels."""
        self.notes = {int(i): str(text) for i, text in notes.items() if text and 0 <= int(i) < self.n}
        self.notes_changed.emit(None if indices is None else np.asarray(indices, dtype=np.int64))

    def set_selection(self, indices) -> None:
        """Select cutouts ``indices`` (kept in display order; those not shown are dropped)."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        indices = indices[(indices >= 0) & (indices < self.n)]
        shown = np.unique(indices[self.position[indices] >= 0]) if indices.size else indices
        shown = shown[np.argsort(self.position[shown], kind="stable")]
        if not np.array_equal(shown, self.selection):
            self.selection = shown
            self.selection_changed.emit(shown)

    def select_first(self, k: int) -> np.ndarray:
        """Select the first ``k`` cutouts of the display order (the top of a ranking)."""
        self.set_selection(self.order[: max(0, int(k))])
        return self.selection

    def label_targets(self) -> list[int]:
        """What a label key labels: the selection when several are selected, else the current cutout."""
        if len(self.selection) > 1:
            return [int(i) for i in self.selection]
        return [self.current] if self.current >= 0 else []

    def set_blind(self, on: bool) -> None:
        """Hide (or show again) labels and model opinions, for a blind re-check."""
        if bool(on) != self.blind:
            self.blind = bool(on)
            self.blind_changed.emit(self.blind)

    # -- rankings ------------------------------------------------------------------------------
    def set_ranking(self, ranking: Ranking) -> None:
        """Add or replace a ranking; if the grid is sorted by it, re-sorts and shows its top."""
        if len(ranking) != self.n:
            raise ValueError(f"ranking {ranking.name!r} covers {len(ranking)}; the collection has {self.n}")
        self.rankings[ranking.name] = ranking
        self.rankings_changed.emit(ranking.name)
        if self.sorting.sort == ranking.name:  # the queue shown just arrived: start at its top
            self.refresh_order(force=True)
            if self.order.size:
                self.set_current(int(self.order[0]))

    def drop_ranking(self, name: str) -> None:
        """Forget a ranking (the grid falls back to file order if it was sorted by it)."""
        if self.rankings.pop(name, None) is not None:
            self.rankings_changed.emit(name)
            if self.sorting.sort == name:
                self.set_sorting(sort="file")

    def ranking(self, name: str) -> Ranking | None:
        """The ranking called ``name``: one a job set, or one of the scores' (computed when asked)."""
        if name in self.rankings:
            return self.rankings[name]
        if name in SCORE_RANKINGS and self.scores is not None:
            return score_rankings(self.scores)[name]
        return None

    @property
    def sort_ranking(self) -> Ranking | None:
        """The ranking the grid is sorted by, if it is sorted by one."""
        return self.ranking(self.sorting.sort)

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
            order = self._made_order()
            if resorted and order.size and len(self.selection) > 1 and not np.any(self.selection == order[0]):
                # the new top becomes current and replaces this selection (set_current): dropped first, so
                # the grid does not select its cells in the new order only to clear them (100,000: 0.9 s)
                self.set_selection([])
            self.set_order(order)
            self._plain_order = sorting.identity
            if resorted and self.order.size:
                self.set_current(int(self.order[0]))

    def set_order(self, order) -> None:
        """Show the cutouts ``order`` (M,) in this order (any subset of the collection).

        If the current cutout is no longer shown, the first one shown becomes current; the
        selection keeps only what is still shown.
        """
        order = np.asarray(order, dtype=np.int64).reshape(-1)
        if order.size and (order.min() < 0 or order.max() >= self.n):
            raise IndexError(f"display order holds an index outside a collection of {self.n}")
        self._set_order_arrays(order)
        self._plain_order = False
        self.order_changed.emit(order)
        if self.selection.size:
            self.set_selection(self.selection)
        if order.size and self.position_of(self.current) < 0:
            self.set_current(int(order[0]))

    def refresh_order(self, force: bool = False) -> None:
        """Recompute the order from the sorting, scores, labels and rankings; signal only if it changed."""
        s = self.sorting
        if s.identity and self._plain_order and not force:
            return  # file order does not depend on the scores
        order = self._made_order()
        if force or not np.array_equal(order, self.order):
            self.set_order(order)
        self._plain_order = s.identity

    def _made_order(self) -> np.ndarray:
        """The display order the sorting, scores, labels and rankings give now."""
        s = self.sorting
        return make_order(
            self.n,
            self.scores,
            s.sort,
            s.p_min,
            s.p_max,
            self.labels,
            self.rankings,
            self.random_seed,
            shown=self.shown_by_labels(),
        )

    def shown_by_labels(self) -> np.ndarray | None:
        """(N,) bool: what the sorting's label filter keeps (None: it keeps all)."""
        show = self.sorting.show
        if show == ALL or self.collection is None:
            return None
        predicted = None
        if self.scores is not None and self.scores.task != "multilabel":
            predicted = self.scores.predicted
        original = file_labels(self.collection) if show == "changed" else None
        return shown_by_labels(show, self.labels, self.user_labels, original, predicted, self.notes)

    def sort_title(self) -> str:
        """The display order's title as the sort box shows it, e.g. ``most similar to cutout 1 (…)``."""
        key = self.sorting.sort
        if key in SORTS:
            return SORTS[key]
        ranking = self.rankings.get(key)
        return ranking.title if ranking is not None else key

    def position_of(self, index: int) -> int:
        """Display position of cutout ``index``, or -1 when it is not shown."""
        return int(self.position[index]) if 0 <= index < len(self.position) else -1

    def cutout_at(self, position: int) -> int:
        """Cutout at display ``position``, or -1 past either end."""
        return int(self.order[position]) if 0 <= position < len(self.order) else -1

    def next_after(self, index: int) -> int:
        """The cutout shown after ``index`` in the display order, or -1 (last, or not shown)."""
        position = self.position_of(index)
        return self.cutout_at(position + 1) if position >= 0 else -1

    def _set_order_arrays(self, order: np.ndarray) -> None:
        self.order = order
        self.position = inverse_order(order, self.n)
