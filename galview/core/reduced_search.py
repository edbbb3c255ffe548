"""Two-stage top-k for very large collections: a shortlist in a reduced space, then exact rerank.

A pass of exact float32 cosine over N × D vectors reads 4·N·D bytes (4 GB for a million 1024-wide
embeddings): memory bandwidth, not arithmetic, bounds it. :class:`ReducedIndex` keeps, beside the
full unit vectors, their projection on the ``dims`` leading principal axes (of the uncentred second
moment, estimated on a sample, so that inner products are preserved as well as any ``dims``-wide
projection can). A search scores every row in the reduced space (D / dims times fewer bytes),
keeps a shortlist of the best, and reranks only those with the full vectors: the returned scores
are exact, the shortlist may miss true neighbours. How many it misses (recall@k) depends on how
much of the vectors' variance the leading axes hold: high for CNN embeddings, whose spectrum
falls steeply; poor for isotropic random vectors. ``benchmarks/bench_similarity.py`` measures it.

:meth:`ReducedIndex.certified_search` makes the answer exact whatever the vectors: the index also
keeps each row's residual norm (its length off the leading axes), so the reduced score plus the
product of the query's and the row's residual norms bounds the true cosine from above
(Cauchy–Schwarz). After an exact rerank of the shortlist, every row whose bound still reaches the
k-th exact score is reranked too; the rest cannot enter the top k. Where the leading axes hold
nearly all of the vectors (a CNN's embedding with dead units, low rank) almost nothing is added;
where they do not, the bounds prune little and the search falls back to one exact pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.core.vector_search import CHUNK_BUDGET, chunk_rows, cosine_topk, merge_topk


@dataclass
class ReducedIndex:
    """Full unit vectors and their reduced copy.

    Attributes
    ----------
    vectors : ndarray, (N, D) float32
        Unit rows (memory-mapped is fine: only the shortlist is read at search time).
    basis : ndarray, (D, d) float32
        Orthonormal leading axes.
    reduced : ndarray, (N, d) float32
        ``vectors @ basis``.
    residual : ndarray, (N,) float32
        Each row's length off the axes, ``|vectors - reduced @ basis.T|``.
    """

    vectors: np.ndarray
    basis: np.ndarray
    reduced: np.ndarray
    residual: np.ndarray

    @classmethod
    def build(
        cls, vectors: np.ndarray, dims: int = 128, sample: int = 20_000, seed: int = 0, chunk: int = 65_536
    ) -> ReducedIndex:
        """Estimate the ``dims`` leading axes on ``sample`` random rows and project every row, a chunk at a time."""
        n, d = vectors.shape
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(n, size=min(sample, n), replace=False))
        picked = np.nan_to_num(np.asarray(vectors[rows], dtype=np.float32))
        moment = (picked.T @ picked).astype(np.float64) / len(rows)
        _, axes = np.linalg.eigh(moment)  # ascending eigenvalues
        basis = np.ascontiguousarray(axes[:, ::-1][:, : min(dims, d)], dtype=np.float32)
        reduced = np.empty((n, basis.shape[1]), np.float32)
        residual = np.empty(n, np.float32)
        for start in range(0, n, chunk):
            block = np.asarray(vectors[start : start + chunk], np.float32)
            reduced[start : start + chunk] = block @ basis
            residual[start : start + chunk] = _residual_norms(block, reduced[start : start + chunk], basis)
        return cls(vectors, basis, reduced, residual)

    def search(
        self, queries: np.ndarray, k: int, shortlist: int | None = None, budget: int = CHUNK_BUDGET
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``k`` rows most similar to any query, as :func:`galview.core.vector_search.cosine_topk`.

        Parameters
        ----------
        queries : ndarray, (Q, D) float32
            Unit rows.
        k : int
        shortlist : int, optional
            Candidates kept by the reduced pass (default ``20 * k``); all N makes the search exact.
        budget : int
            Bytes of temporaries per chunk of the reduced pass.

        Returns
        -------
        indices, scores, query : ndarray, (k,)
            Exact cosine scores of the reranked candidates, best first.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        shortlist = max(int(k), int(shortlist or 20 * k))
        candidates, _, _ = cosine_topk(self.reduced, queries @ self.basis, shortlist, budget)
        candidates = np.sort(candidates)
        found, scores, query = cosine_topk(np.asarray(self.vectors[candidates], np.float32), queries, k)
        return candidates[found], scores, query

    def certified_search(
        self, queries: np.ndarray, k: int, shortlist: int | None = None, budget: int = CHUNK_BUDGET
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """The exact top ``k`` (as :func:`~galview.core.vector_search.cosine_topk`), pruned by bounds.

        Parameters
        ----------
        queries : ndarray, (Q, D) float32
            Unit rows.
        k : int
        shortlist : int, optional
            Rows reranked before the bound is known (default ``20 * k``).
        budget : int
            Bytes of temporaries per chunk of the reduced pass.

        Returns
        -------
        indices, scores, query : ndarray, (k,)
            As :func:`~galview.core.vector_search.cosine_topk`: best first, exact.
        reranked : int
            How many rows were scored with the full vectors (N when the bounds pruned too little and
            one exact pass was cheaper).
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        n = len(self.reduced)
        k = min(int(k), n)
        upper = self._upper_bounds(queries, budget)
        first = _best_rows(upper, max(k, int(shortlist or 20 * k)))
        found, scores, query = cosine_topk(np.asarray(self.vectors[first], np.float32), queries, k)
        kth = scores[-1] if len(scores) == k else -np.inf
        candidates = np.flatnonzero(upper >= kth - BOUND_SLACK)
        if len(candidates) > n * FALLBACK_SHARE:
            return (*cosine_topk(self.vectors, queries, k), n)
        rest = np.setdiff1d(candidates, first, assume_unique=True)  # the shortlist is scored already
        if not len(rest):
            return first[found], scores, query, len(first)
        more, more_scores, more_query = cosine_topk(np.asarray(self.vectors[rest], np.float32), queries, k)
        merged = merge_topk(
            np.concatenate([first[found], rest[more]]),
            np.concatenate([scores, more_scores]),
            np.concatenate([query, more_query]),
            k,
        )
        return (*merged, len(first) + len(rest))

    def _upper_bounds(self, queries: np.ndarray, budget: int) -> np.ndarray:
        """Each row's bound on its best cosine over the queries; -inf for NaN rows."""
        reduced_queries = queries @ self.basis
        query_residual = _residual_norms(queries, reduced_queries, self.basis)
        upper = np.empty(len(self.reduced), np.float32)
        step = chunk_rows(len(queries), budget, self.reduced.shape[1])
        for start in range(0, len(upper), step):
            product = reduced_queries @ self.reduced[start : start + step].T
            product += query_residual[:, None] * self.residual[None, start : start + step]
            bound = product[0] if len(queries) == 1 else product.max(axis=0)
            bound[np.isnan(bound)] = -np.inf
            upper[start : start + step] = bound
        return upper


#: Allowance for float32 rounding in the reduced products and norms, in cosine.
BOUND_SLACK = 1e-5
#: Above this share of rows left to rerank, one exact pass over the full vectors is cheaper.
FALLBACK_SHARE = 0.25


def _residual_norms(rows: np.ndarray, reduced: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Length of each row off the axes, computed from the difference (not as the difference of
    squared norms, which loses every digit when the axes hold nearly all of a unit row)."""
    return np.linalg.norm(rows - reduced @ basis.T, axis=1).astype(np.float32)


def _best_rows(values: np.ndarray, m: int) -> np.ndarray:
    """Indices of the ``m`` largest values, sorted by index."""
    if m >= len(values):
        return np.arange(len(values))
    return np.sort(np.argpartition(-values, m - 1)[:m])


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """The fraction of the exact top-k that an approximate search found."""
    return len(np.intersect1d(found, exact)) / max(1, len(exact))
