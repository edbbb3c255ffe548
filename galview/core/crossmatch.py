"""Cross-matching a collection with a catalogue by sky position: the nearest source within a radius.

"Which of my candidates are already in Tanoglidis et al.'s catalogue, and with what fitted surface
brightness?" Each cutout with a position gets the nearest catalogue source within ``radius_arcsec``
(none beyond it), found with a k-d tree on unit vectors (scipy), so a million cutouts against a
hundred thousand sources take seconds (BENCHMARKS.md). Separations are great-circle angles, exact at
any declination and across RA 0/360.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.core.match_defaults import DEFAULT_RADIUS_ARCSEC, MAX_RADIUS_ARCSEC

__all__ = [
    "DEFAULT_RADIUS_ARCSEC",
    "Match",
    "describe_match",
    "match_positions",
    "match_ranking",
    "unit_vectors",
]


@dataclass(frozen=True)
class Match:
    """Each cutout's nearest catalogue source within the radius.

    Attributes
    ----------
    row : ndarray (N,) int64
        The catalogue row matched (0-based, in the catalogue's own order); -1 where none lies within
        the radius or the cutout has no position.
    separation_arcsec : ndarray (N,) float64
        How far that source is; NaN where none matched.
    radius_arcsec : float
    positioned : int
        Cutouts with a position (the others cannot be matched).
    """

    row: np.ndarray
    separation_arcsec: np.ndarray
    radius_arcsec: float
    positioned: int

    @property
    def matched(self) -> np.ndarray:
        """(N,) bool: the cutouts with a source within the radius."""
        return self.row >= 0

    def sources_matched(self) -> int:
        """Catalogue rows that are some cutout's nearest source."""
        return int(np.unique(self.row[self.row >= 0]).size)


def unit_vectors(ra, dec) -> np.ndarray:
    """(N, 3) unit vectors of positions in degrees (NaN rows where a position is not finite)."""
    ra, dec = np.radians(np.asarray(ra, np.float64)), np.radians(np.asarray(dec, np.float64))
    cos_dec = np.cos(dec)
    return np.stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)], axis=-1)


def match_positions(ra, dec, cat_ra, cat_dec, radius_arcsec: float = DEFAULT_RADIUS_ARCSEC) -> Match:
    """The nearest catalogue source (``cat_ra``, ``cat_dec``) within ``radius_arcsec`` of each position.

    Parameters
    ----------
    ra, dec : array-like (N,)
        The cutouts' positions in degrees; NaN where unknown (never matched).
    cat_ra, cat_dec : array-like (M,)
        The catalogue's, in degrees; rows with a position that is not finite are never matched.
    radius_arcsec : float
        Greater than 0 and at most 3,600 (one degree).

    Raises
    ------
    ValueError
        For a radius out of range, or arrays of different lengths.
    """
    from scipy.spatial import cKDTree

    radius = float(radius_arcsec)
    if not 0 < radius <= MAX_RADIUS_ARCSEC:
        raise ValueError(
            f"the match radius must be more than 0″ and at most 3,600″ (1°); got {radius_arcsec!r}"
        )
    ra, dec = np.asarray(ra, np.float64), np.asarray(dec, np.float64)
    cat_ra, cat_dec = np.asarray(cat_ra, np.float64), np.asarray(cat_dec, np.float64)
    if ra.shape != dec.shape or cat_ra.shape != cat_dec.shape or ra.ndim != 1 or cat_ra.ndim != 1:
        raise ValueError(f"RA and Dec must be two 1-D arrays of one length; got {ra.shape}, {dec.shape}")
    n = len(ra)
    row, separation = np.full(n, -1, np.int64), np.full(n, np.nan)
    here = np.flatnonzero(np.isfinite(ra) & np.isfinite(dec))
    sources = np.flatnonzero(np.isfinite(cat_ra) & np.isfinite(cat_dec))
    if here.size and sources.size:
        chord = 2 * np.sin(np.radians(radius / 3600) / 2)
        tree = cKDTree(unit_vectors(cat_ra[sources], cat_dec[sources]))
        distance, nearest = tree.query(
            unit_vectors(ra[here], dec[here]), k=1, distance_upper_bound=chord * (1 + 1e-9)
        )
        found = np.isfinite(distance)
        row[here[found]] = sources[nearest[found]]
        angle = 2 * np.arcsin(np.clip(distance[found] / 2, 0, 1))
        separation[here[found]] = np.degrees(angle) * 3600
    beyond = separation > radius  # the tree's bound is a hair wider than the radius, for rounding
    row[beyond], separation[beyond] = -1, np.nan
    return Match(row, separation, radius, int(here.size))


def describe_match(match: Match, catalogue_rows: int, catalogue_name: str, unreadable=()) -> str:
    """One line: ``"9 of 12 cutouts have a source of candidates.csv within 3″ (9 of its 24 rows)"``, and
    how many catalogue rows had no readable position (``unreadable``: their 0-based row numbers)."""
    n = len(match.row)
    line = (
        f"{int(match.matched.sum()):,} of {n:,} cutouts have a source of {catalogue_name} within "
        f"{match.radius_arcsec:g}″ ({match.sources_matched():,} of its {catalogue_rows:,} rows)"
    )
    if match.positioned < n:
        line += f"; {n - match.positioned:,} cutouts have no position and were not matched"
    if len(unreadable):
        line += (
            f"; {len(unreadable):,} catalogue rows have no readable position (first: row {unreadable[0] + 1})"
        )
    return line


def match_ranking(match: Match, names, catalogue_name: str):
    """The grid's ranking of a cross-match: ``"catalogue"``, matched cutouts first, nearest first, the
    separation on each thumbnail (badge ``sep``, arcsec); unmatched cutouts last."""
    from galview.core.rankings import MatchRanking

    names = np.asarray(names, dtype=object)
    matched = np.full(len(match.row), "", dtype=object)
    matched[match.matched] = names[match.row[match.matched]]
    return MatchRanking(
        "catalogue",
        f"matched in {catalogue_name}, nearest first",
        match.separation_arcsec,
        descending=False,
        badge="sep",
        row=match.row,
        matched_names=matched,
        catalogue_name=catalogue_name,
        radius_arcsec=match.radius_arcsec,
    )
