"""Cosine similarity over many vectors in bounded memory: chunked float32 products, top-k by merge.

Vectors are L2-normalised once (:func:`unit_rows`), so cosine similarity is a dot product. The
collection's rows are taken a chunk at a time (the chunk's size follows from a byte budget for the
temporaries), each chunk is one BLAS product with the queries (the reference in its orientations),
reduced to the best query per row, and for top-k cut down with ``argpartition`` before the chunks'
candidates are merged. FAISS is used when asked for and installed (:func:`faiss_topk`).
"""

from __future__ import annotations

import numpy as np

#: Bytes of temporaries one chunk may take (its product with the queries and their reductions).
CHUNK_BUDGET = 64 * 2**20
#: Bytes of vectors multiplied at once (a block of rows, whatever the budget allows).
VECTOR_CHUNK_BYTES = 64 * 2**20


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, float32; all-zero rows stay zero and NaN rows stay NaN.

    Parameters
    ----------
    x : ndarray, (N, D)

    Returns
    -------
    ndarray, (N, D) float32
    """
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1).astype(np.float32)


def chunk_rows(n_queries: int, budget: int = CHUNK_BUDGET, dim: int | None = None) -> int:
    """Rows per chunk: the chunk's temporaries (about 4 float32 per query and row) fit ``budget``,
    and, given the width ``dim``, the chunk's vectors fit :data:`VECTOR_CHUNK_BYTES` (skinny
    products over a cache-friendly block ran about a third faster here than over one huge block)."""
    rows = max(1, int(budget) // (16 * max(1, int(n_queries))))
    if dim:
        rows = min(rows, max(1, VECTOR_CHUNK_BYTES // (4 * int(dim))))
    return rows


def best_query_scores(
    vectors: np.ndarray, queries: np.ndarray, excluded=None, budget: int = CHUNK_BUDGET
) -> tuple[np.ndarray, np.ndarray]:
    """Every row's best cosine similarity over the queries, and which query gave it.

    Parameters
    ----------
    vectors : ndarray, (N, D) float32
        Unit rows (memory-mapped is fine: a chunk at a time is read).
    queries : ndarray, (Q, D) float32
        Unit rows, e.g. one reference in its 8 orientations.
    excluded : sequence of Q (D,) bool arrays, optional
        Features left out of each query's comparison (zero in the query): the row's norm is then
        taken over the other features, so the cosine is that of the unmasked parts.
    budget : int
        Bytes of temporaries per chunk.

    Returns
    -------
    scores : ndarray, (N,) float32
        NaN where a row is NaN (an unreadable cutout).
    best : ndarray, (N,) int64
        Index into ``queries``.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    n = len(vectors)
    scores, best = np.empty(n, np.float32), np.empty(n, np.int64)
    step = chunk_rows(len(queries), budget, vectors.shape[1])
    for start in range(0, n, step):
        chunk = np.asarray(vectors[start : start + step], dtype=np.float32)
        product = _product(chunk, queries)
        if excluded is not None:
            product = _unmasked_cosine(chunk, product, excluded)
        best[start : start + step] = np.argmax(product, axis=0)  # a NaN row: 0
        scores[start : start + step] = np.max(product, axis=0)
    return scores, best


def _product(chunk: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """(Q, rows) dot products: reducing over queries then runs along contiguous rows (a reduction
    over a short last axis took longer here than the product itself)."""
    return queries @ chunk.T


def _unmasked_cosine(chunk: np.ndarray, product: np.ndarray, excluded) -> np.ndarray:
    """Divide each query's row of ``product`` by the rows' norm over that query's unmasked features."""
    out = product.copy()
    for q, dims in enumerate(excluded):
        if dims is None or not dims.any():
            continue
        rest = 1.0 - np.square(chunk[:, dims]).sum(axis=1)
        out[q] = np.where(rest > 1e-12, product[q] / np.sqrt(np.maximum(rest, 1e-12)), 0.0)
    return out


def cosine_topk(
    vectors: np.ndarray, queries: np.ndarray, k: int, budget: int = CHUNK_BUDGET
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` rows most similar to any of the queries (each row scored by its best query).

    Parameters
    ----------
    vectors : ndarray, (N, D) float32
        Unit rows; NaN rows are never returned.
    queries : ndarray, (Q, D) float32
        Unit rows.
    k : int
        How many to return (fewer when N < k).
    budget : int
        Bytes of temporaries per chunk; results do not depend on it.

    Returns
    -------
    indices : ndarray, (k,) int64
        Best first; ties in index order.
    scores : ndarray, (k,) float32
    query : ndarray, (k,) int64
        Which query matched each.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    k = min(int(k), len(vectors))
    step = max(chunk_rows(len(queries), budget, vectors.shape[1]), k)
    kept_index, kept_score, kept_query = [], [], []
    for start in range(0, len(vectors), step):
        product = _product(np.asarray(vectors[start : start + step], dtype=np.float32), queries)
        score = product[0].copy() if len(queries) == 1 else np.max(product, axis=0)
        score[np.isnan(score)] = -np.inf
        keep = np.argpartition(-score, k - 1)[:k] if len(score) > k else np.arange(len(score))
        kept_index.append(keep + start)
        kept_score.append(score[keep])
        kept_query.append(np.argmax(product[:, keep], axis=0))
    return merge_topk(np.concatenate(kept_index), np.concatenate(kept_score), np.concatenate(kept_query), k)


def merge_topk(index: np.ndarray, score: np.ndarray, query: np.ndarray, k: int):
    """The best ``k`` (ties in index order) of the candidates, leaving out unscored ones (-inf)."""
    order = np.lexsort((index, -score))[:k]
    order = order[np.isfinite(score[order])]
    return index[order], score[order], query[order]


def faiss_available() -> bool:
    """Whether FAISS can be imported here."""
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def faiss_topk(vectors: np.ndarray, queries: np.ndarray, k: int):
    """As :func:`cosine_topk` with an exact FAISS inner-product index (``IndexFlatIP``).

    Raises
    ------
    ImportError
        If FAISS is not installed (``pip install faiss-cpu``); use :func:`cosine_topk` then.
    """
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    k = min(int(k), len(vectors))
    scores, found = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    flat_query = np.repeat(np.arange(len(queries)), k)
    merged = merge_topk(found.reshape(-1), scores.reshape(-1), flat_query, len(found.reshape(-1)))
    _, first = np.unique(merged[0], return_index=True)
    first = np.sort(first)[:k]
    return merged[0][first].astype(np.int64), merged[1][first], merged[2][first].astype(np.int64)
