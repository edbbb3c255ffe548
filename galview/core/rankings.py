"""Rankings: a score per cutout that the grid can sort by, whatever computed it.

"Probability high → low", "most uncertain", "suspected label errors" and "most similar to
LEDA 074886" are all the same kind of thing: a named (N,) array with a direction. The state keeps
them in ``ViewerState.rankings``; the grid sorts by any of them through one path
(:func:`galview.core.ordering.make_order`) and can show the score on each thumbnail.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

#: Names of the rankings derived from model scores (recomputed whenever the scores change).
SCORE_RANKINGS = ("prob_desc", "prob_asc", "uncertain")
LEADING = 50  # the leading cutouts of a ranking whose numbers the thumbnails must tell apart


@dataclass(frozen=True, eq=False)
class Ranking:
    """A score per cutout and the direction it is read in.

    Attributes
    ----------
    name : str
        Key in ``ViewerState.rankings`` and sort key, e.g. ``"suspects"``.
    title : str
        Menu text, e.g. ``"suspected label errors first"``.
    values : ndarray, (N,) float64
        Score per cutout; NaN where the cutout is not ranked (it goes last).
    descending : bool
        True: the highest score comes first.
    badge : str
        Short name shown with the score on thumbnails (``"sim"``); empty: the score is not shown
        (the probability rankings, whose number the probability badge already shows).
    shown : ndarray, (N,) float64, optional
        The number to show on thumbnails when it is not ``values`` (the suspects queue sorts by
        queue position but shows the label margin).
    """

    name: str
    title: str
    values: np.ndarray
    descending: bool = True
    badge: str = ""
    shown: np.ndarray | None = None

    def __post_init__(self):
        values = np.asarray(self.values, dtype=np.float64).reshape(-1)
        object.__setattr__(self, "values", values)
        if self.shown is not None:
            shown = np.asarray(self.shown, dtype=np.float64).reshape(-1)
            if shown.shape != values.shape:
                raise ValueError(f"shown has shape {shown.shape}; values {values.shape}")
            object.__setattr__(self, "shown", shown)

    def __len__(self) -> int:
        return len(self.values)

    @cached_property
    def decimals(self) -> int:
        """Decimals that tell the leading shown numbers apart: 2, or up to 5 when they crowd
        (embedding similarities of a collection often differ only in the fourth decimal)."""
        values = self.shown if self.shown is not None else self.values
        top = values[self.sort(np.arange(len(values)))[:LEADING]]
        top = top[np.isfinite(top)]
        spread = float(top.max() - top.min()) if top.size > 1 else 0.0
        return 2 if spread <= 0 else int(np.clip(np.ceil(-np.log10(spread)) + 1, 2, 5))

    def sort(self, keep: np.ndarray) -> np.ndarray:
        """The cutouts ``keep`` (M,) in ranking order; unranked last, ties in their given order."""
        values = self.values[keep]
        key = -values if self.descending else values
        key = np.where(np.isnan(key), np.inf, key)
        return keep[np.argsort(key, kind="stable")]

    def value_of(self, index: int) -> float:
        """The score of one cutout (NaN when it is not ranked)."""
        return float(self.values[int(index)])

    def shown_value(self, index: int) -> float:
        """The number thumbnails show for one cutout (``shown`` if given, else its score)."""
        return float((self.values if self.shown is None else self.shown)[int(index)])

    def badge_text(self, index: int) -> str | None:
        """What the thumbnail of cutout ``index`` shows: ``"sim 0.93"``; None for nothing (no badge,
        or the cutout is not ranked)."""
        if not self.badge:
            return None
        value = self.shown_value(index)
        return None if np.isnan(value) else f"{self.badge} {value:.{self.decimals}f}"


def score_rankings(scores) -> dict[str, Ranking]:
    """The rankings a model's :class:`~galview.core.scores.Scores` give: probability both ways and
    uncertainty (unscored cutouts unranked)."""
    prob = scores.positive_prob().astype(np.float64)
    name = scores.positive_name
    return {
        "prob_desc": Ranking("prob_desc", f"P({name}) high → low", prob, True),
        "prob_asc": Ranking("prob_asc", f"P({name}) low → high", prob, False),
        "uncertain": Ranking("uncertain", "most uncertain first", scores.uncertainty(), True),
    }


def rank_positions(order: np.ndarray, n: int) -> np.ndarray:
    """A ranking's values from an order of cutouts: first gets ``len(order)``, last 1, others NaN.

    For jobs that produce an order rather than scores (the suspects queue).
    """
    values = np.full(int(n), np.nan)
    order = np.asarray(order, dtype=np.int64)
    values[order] = np.arange(len(order), 0, -1, dtype=np.float64)
    return values


@dataclass(frozen=True, eq=False)
class SimilarityRanking(Ranking):
    """A similarity ranking: cosine similarity to one or more references, and how each matched.

    Attributes
    ----------
    orientation : ndarray, (N,) int8, or None
        The orientation of the reference that matched each cutout best, a code 0–7 named by
        :data:`galview.core.orientations.ORIENTATION_NAMES`; None when the space has none.
    reference_name : str
        What the cutouts were compared with.
    """

    orientation: np.ndarray | None = None
    reference_name: str = ""

    def __post_init__(self):
        super().__post_init__()
        if self.orientation is not None:
            orientation = np.asarray(self.orientation, dtype=np.int8).reshape(-1)
            if orientation.shape != self.values.shape:
                raise ValueError(f"orientation has shape {orientation.shape}; values {self.values.shape}")
            object.__setattr__(self, "orientation", orientation)

    def orientation_of(self, index: int) -> str:
        """The name of the orientation that matched cutout ``index`` ("rot90"); "" when none is kept."""
        from galview.core.orientations import orientation_name

        return "" if self.orientation is None else orientation_name(self.orientation[int(index)])


def similarity_ranking(scores, orientation=None, reference_name: str = "the reference") -> SimilarityRanking:
    """The ranking of a similarity search: ``"similar"``, "most similar to <name>", badge "sim".

    Parameters
    ----------
    scores : array-like, (N,)
        Cosine similarity per cutout (NaN: not ranked, goes last); highest first.
    orientation : array-like, (N,) int, optional
        The matching orientation per cutout (see :class:`SimilarityRanking`).
    reference_name : str
        The reference's name, for the title.
    """
    return SimilarityRanking(
        "similar",
        f"most similar to {reference_name}",
        scores,
        descending=True,
        badge="sim",
        orientation=orientation,
        reference_name=reference_name,
    )


@dataclass(frozen=True, eq=False)
class MatchRanking(Ranking):
    """A cross-match with a catalogue (:mod:`galview.core.crossmatch`): separation in arcsec per cutout.

    Attributes
    ----------
    row : ndarray (N,) int64
        The catalogue row matched; -1 where none within the radius.
    matched_names : ndarray (N,) of str
        That source's name; ``""`` where none.
    catalogue_name : str
    radius_arcsec : float
    """

    row: np.ndarray | None = None
    matched_names: np.ndarray | None = None
    catalogue_name: str = ""
    radius_arcsec: float = 0.0

    @property
    def decimals(self) -> int:
        """Separations in arcsec to hundredths, however close the leading ones are."""
        return 2

    def describe(self, index: int) -> str:
        """The panel's words for one cutout: ``"NGC 3115 DW1 · 0.42″ (candidates.csv)"``."""
        index = int(index)
        if self.row is None or self.row[index] < 0:
            return f"none within {self.radius_arcsec:g}″ in {self.catalogue_name}"
        return f"{self.matched_names[index]} · {self.values[index]:.2f}″ ({self.catalogue_name})"
