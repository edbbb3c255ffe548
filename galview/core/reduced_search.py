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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.core.vector_search import CHUNK_BUDGET, cosine_topk


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
    """

    vectors: np.ndarray
    basis: np.ndarray
    reduced: np.ndarray

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
        for start in range(0, n, chunk):
            reduced[start : start + chunk] = np.asarray(vectors[start : start + chunk], np.float32) @ basis
        return cls(vectors, basis, reduced)

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


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """The fraction of the exact top-k that an approximate search found."""
    return len(np.intersect1d(found, exact)) / max(1, len(exact))
