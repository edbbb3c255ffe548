"""Cosine top-k in bounded memory: the same answer as a brute-force sort, whatever the chunk size."""

from __future__ import annotations

import numpy as np
import pytest

from galview.core.vector_search import best_query_scores, cosine_topk, faiss_topk, unit_rows


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(0)
    return unit_rows(rng.standard_normal((3000, 48))), unit_rows(rng.standard_normal((8, 48)))


def _brute_force(x, q, k):
    scores = (x.astype(np.float64) @ q.astype(np.float64).T).max(axis=1)
    return np.argsort(-scores, kind="stable")[:k], scores


def test_topk_equals_a_brute_force_argsort(vectors):
    x, q = vectors
    for queries in (q[:1], q):  # one orientation, and a reference in its 8 orientations
        indices, scores, which = cosine_topk(x, queries, k=100)
        expected, all_scores = _brute_force(x, queries, 100)
        np.testing.assert_array_equal(indices, expected)
        np.testing.assert_allclose(scores, all_scores[expected], rtol=1e-5)
        np.testing.assert_array_equal(which, (x[indices] @ queries.T).argmax(axis=1))


def test_chunking_gives_the_same_result_as_one_chunk(vectors):
    x, q = vectors
    whole = cosine_topk(x, q, k=50, budget=1 << 30)
    for budget in (16 * 8 * 7, 16 * 8 * 333, 16 * 8 * 1000):  # chunks of 7, 333 and 1000 rows
        chunked = cosine_topk(x, q, k=50, budget=budget)
        np.testing.assert_array_equal(chunked[0], whole[0])
        np.testing.assert_allclose(chunked[1], whole[1], rtol=0, atol=1e-6)  # BLAS kernels differ by size
        np.testing.assert_array_equal(chunked[2], whole[2])
        scores, best = best_query_scores(x, q, budget=budget)
        reference_scores, reference_best = best_query_scores(x, q, budget=1 << 30)
        np.testing.assert_allclose(scores, reference_scores, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(best, reference_best)


def test_unreadable_rows_are_never_returned_and_k_beyond_n_returns_all(vectors):
    x, q = vectors
    x = x[:20].copy()
    x[[3, 7]] = np.nan
    indices, scores, _ = cosine_topk(x, q, k=18)
    assert 3 not in indices and 7 not in indices and np.isfinite(scores).all()
    assert len(cosine_topk(x[:5], q, k=50)[0]) == 4  # all five asked for; one is unreadable
    all_scores, _ = best_query_scores(x, q)
    assert np.isnan(all_scores[[3, 7]]).all() and np.isfinite(np.delete(all_scores, [3, 7])).all()


def test_masked_features_are_left_out_of_both_sides_of_the_cosine(vectors):
    x, q = vectors
    excluded = np.zeros(x.shape[1], bool)
    excluded[:10] = True
    query = q[:1].copy()
    query[:, excluded] = 0
    query = unit_rows(query)
    scores, _ = best_query_scores(x, query, excluded=[excluded])
    kept = x[:, ~excluded]
    expected = unit_rows(kept) @ unit_rows(q[:1, ~excluded])[0]
    np.testing.assert_allclose(scores, expected, atol=1e-5)


def test_faiss_gives_the_same_top_k_where_installed(vectors):
    pytest.importorskip("faiss")
    x, q = vectors
    np.testing.assert_array_equal(faiss_topk(x, q, 20)[0], cosine_topk(x, q, 20)[0])


def test_the_two_stage_search_returns_exact_scores_and_finds_neighbours_of_structured_vectors():
    from galview.core.reduced_search import ReducedIndex, recall_at_k

    rng = np.random.default_rng(2)
    spectrum = np.arange(1, 65) ** -1.0  # variance falling like a CNN embedding's
    x = unit_rows(rng.standard_normal((4000, 64)) * np.sqrt(spectrum))
    q = unit_rows(rng.standard_normal((8, 64)) * np.sqrt(spectrum))
    index = ReducedIndex.build(x, dims=16, sample=2000)
    exact = cosine_topk(x, q, 50)
    found, scores, _ = index.search(q, 50, shortlist=500)
    assert recall_at_k(found, exact[0]) >= 0.9
    np.testing.assert_allclose(scores, (x[found] @ q.T).max(axis=1), rtol=1e-5)
    everything = index.search(q, 50, shortlist=len(x))
    np.testing.assert_array_equal(everything[0], exact[0])


def test_the_certified_search_is_exact_where_the_shortlist_alone_misses_neighbours():
    from galview.core.reduced_search import ReducedIndex, recall_at_k

    rng = np.random.default_rng(5)
    spectrum = np.arange(1, 65) ** -2.0  # steep, but the leading axes miss some of every row
    x = unit_rows(rng.standard_normal((6000, 64)) * np.sqrt(spectrum))
    q = unit_rows(rng.standard_normal((3, 64)) * np.sqrt(spectrum))
    index = ReducedIndex.build(x, dims=16, sample=3000)
    exact = cosine_topk(x, q, 40)
    shortlist_only = index.search(q, 40, shortlist=40)[0]
    assert recall_at_k(shortlist_only, exact[0]) < 1  # the bound has work to do
    found, scores, query, reranked = index.certified_search(q, 40, shortlist=40)
    np.testing.assert_array_equal(found, exact[0])
    np.testing.assert_allclose(scores, exact[1], rtol=1e-6)
    np.testing.assert_array_equal(query, exact[2])
    assert 40 < reranked < len(x)


def test_the_certified_search_prunes_almost_everything_when_the_axes_hold_the_vectors():
    from galview.core.reduced_search import ReducedIndex

    rng = np.random.default_rng(6)
    x = np.zeros((5000, 256), np.float32)
    x[:, 40:60] = np.abs(rng.standard_normal((5000, 20)))  # 20 live units of a ReLU embedding
    x = unit_rows(x)
    x[17] = np.nan  # an unreadable cutout
    index = ReducedIndex.build(x, dims=32, sample=2000)
    found, _, _, reranked = index.certified_search(x[[3]], 25, shortlist=100)
    np.testing.assert_array_equal(found, cosine_topk(x, x[[3]], 25)[0])
    assert found[0] == 3 and 17 not in found
    assert reranked == 100


def test_the_certified_search_falls_back_to_one_exact_pass_on_isotropic_vectors():
    from galview.core.reduced_search import ReducedIndex

    rng = np.random.default_rng(7)
    x = unit_rows(rng.standard_normal((3000, 128)))
    index = ReducedIndex.build(x, dims=8, sample=1000)
    found, _, _, reranked = index.certified_search(x[:2], 10)
    np.testing.assert_array_equal(found, cosine_topk(x, x[:2], 10)[0])
    assert reranked == len(x)
