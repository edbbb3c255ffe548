"""Similarity of every cutout to one or more references, in any space, orientation-aware.

Each reference is compared in the orientations its space asks for (the 8 flips and quarter turns
for ``pixel`` and ``embedding``; none for ``morphology``, invariant by construction); a cutout's
similarity to it is the best over orientations, and the ranking records which orientation won.
Several references are combined by the mean or the max of their similarities. A masked reference
(LEDA 074886's centre hole) leaves its masked pixels out of the comparison where the space can say
which features they touch (the pixel space): the cosine is then taken over the unmasked features of
both the reference and each cutout. Elsewhere the masked pixels are filled
(:func:`galview.core.reference.fill_masked`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.core.feature_index import FeatureIndex
from galview.core.orientations import orient, orientation_codes, oriented_stack
from galview.core.rankings import SimilarityRanking, similarity_ranking
from galview.core.reference import PreparedReference
from galview.core.vector_search import CHUNK_BUDGET, best_query_scores

COMBINE = ("mean", "max")


@dataclass(frozen=True)
class SimilarityResult:
    """Similarity of every cutout to the references.

    Attributes
    ----------
    scores : ndarray, (N,) float32
        Combined cosine similarity; NaN for cutouts that could not be read.
    orientation : ndarray, (N,) int8, or None
        Code (:data:`~galview.core.orientations.ORIENTATION_NAMES`) of the orientation of the
        best-matching reference that matched each cutout; None for spaces without orientations.
    best_reference : ndarray, (N,) int64
        Which reference matched each cutout best.
    per_reference : ndarray, (R, N) float32
    references : tuple of PreparedReference
    space : str
        The space's description.
    combine : str
    """

    scores: np.ndarray
    orientation: np.ndarray | None
    best_reference: np.ndarray
    per_reference: np.ndarray
    references: tuple[PreparedReference, ...]
    space: str
    combine: str = "mean"

    def top(self, k: int) -> np.ndarray:
        """Indices of the ``k`` most similar cutouts, best first (ties in index order; NaN never)."""
        finite = np.flatnonzero(np.isfinite(self.scores))
        order = finite[np.argsort(-self.scores[finite], kind="stable")]
        return order[: max(0, int(k))]

    def not_compared(self) -> np.ndarray:
        """Indices of the cutouts with no similarity (their features are NaN: they could not be read)."""
        return np.flatnonzero(~np.isfinite(self.scores))

    def reference_name(self) -> str:
        """The references' names for a title: "A", "A and B", "A, B and 2 more"."""
        names = [r.name for r in self.references]
        if len(names) <= 2:
            return " and ".join(names)
        return f"{names[0]}, {names[1]} and {len(names) - 2} more"

    def ranking(self) -> SimilarityRanking:
        """The ranking the grid sorts by (:func:`galview.core.rankings.similarity_ranking`)."""
        return similarity_ranking(self.scores, self.orientation, self.reference_name())


def reference_scores(
    index: FeatureIndex, reference: PreparedReference, orientations: bool = True, budget: int = CHUNK_BUDGET
) -> tuple[np.ndarray, np.ndarray]:
    """Similarity of every cutout to one reference, best over its orientations.

    Parameters
    ----------
    index : FeatureIndex
        The collection's features.
    reference : PreparedReference
        In the collection's cutout shape.
    orientations : bool
        Try the reference's orientations (where the space asks for them).
    budget : int
        Bytes of temporaries per chunk of the collection.

    Returns
    -------
    scores : ndarray, (N,) float32
    codes : ndarray, (N,) int8
        The orientation that matched each cutout (0 when orientations are off).
    """
    space = index.space
    codes = orientation_codes(reference.image.shape, orientations and space.orientations)
    queries = index.query_vectors(oriented_stack(reference.image, codes))
    excluded = None
    if reference.mask is not None and space.feature_mask is not None:
        shape = reference.image.shape
        excluded = [space.feature_mask(np.ascontiguousarray(orient(reference.mask, c)), shape) for c in codes]
        queries = np.where(np.stack(excluded), 0.0, queries).astype(np.float32)
        queries /= np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    scores, best = best_query_scores(index.vectors, queries, excluded, budget)
    return scores, np.asarray(codes, dtype=np.int8)[best]


def similarity(
    index: FeatureIndex,
    references,
    orientations: bool = True,
    combine: str = "mean",
    budget: int = CHUNK_BUDGET,
) -> SimilarityResult:
    """Similarity of every cutout to one or more references.

    Parameters
    ----------
    index : FeatureIndex
    references : sequence of PreparedReference
        At least one, each in the collection's cutout shape.
    orientations : bool
        Try each reference's orientations (only where the space asks for them).
    combine : {"mean", "max"}
        How the similarities to several references make one.
    budget : int
        Bytes of temporaries per chunk of the collection.

    Returns
    -------
    SimilarityResult
    """
    references = tuple(references)
    if not references:
        raise ValueError("no reference; expected at least one")
    if combine not in COMBINE:
        raise ValueError(f"combine {combine!r}; expected one of {', '.join(COMBINE)}")
    results = [reference_scores(index, ref, orientations, budget) for ref in references]
    per_reference = np.stack([scores for scores, _ in results])
    codes = np.stack([c for _, c in results])
    best = np.argmax(np.nan_to_num(per_reference, nan=-np.inf), axis=0)
    combined = per_reference.mean(axis=0) if combine == "mean" else per_reference.max(axis=0)
    oriented = orientations and index.space.orientations
    orientation = codes[best, np.arange(per_reference.shape[1])] if oriented else None
    return SimilarityResult(
        combined.astype(np.float32),
        orientation,
        best,
        per_reference,
        references,
        index.space.description,
        combine,
    )
