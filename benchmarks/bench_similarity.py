"""Similarity search: top-k over a million embeddings, and what each space finds on real ring galaxies.

    python benchmarks/bench_similarity.py [--n 1000000] [--dim 1024] [--k 100] [--repeat 5]
                                          [--baseline-n 20000] [--skip-topk] [--skip-rings]

(a) Top-k (k = 100) over ``--n`` × ``--dim`` float32 unit vectors generated here, for one query and for
a reference in its 8 orientations (8 queries): GalView's chunked float32 products
(:func:`galview.core.vector_search.cosine_topk`), median of ``--repeat`` runs, and the peak memory its
temporaries take (tracemalloc); against the thesis's loop (scikit-learn ``cosine_similarity``, one call
per image, then a sort) timed on ``--baseline-n`` vectors and extrapolated; a float16 copy (timed on a
slice); the two-stage search (:class:`galview.core.reduced_search.ReducedIndex`: 128 principal axes,
shortlist, exact rerank) with its recall@k against the exact search, and its certified form (bounds on
what the shortlist left out; exact by construction) with how many rows it reranked; FAISS where installed. The
vectors have independent normal coordinates with variance falling as 1/i along the axes (a spectrum
like CNN embeddings'; a random rotation would change nothing here but cost minutes); the recall of
the two-stage search is also given on isotropic vectors, its worst case.

(b) Precision of rings among the 10 nearest neighbours of each ring of ``../shared/data/gz_decals_rings``
(100 real Galaxy Zoo DECaLS images, 50 rings), per space: each ring is the reference in turn, itself
left out. A measurement only: the labels tune nothing.

(d) ``--sim SIM.h5``: the same on a simulated LSBG/artifact collection (``galview simulate``), known
truth: ``--sim-references`` LSBGs and as many artifacts as references, precision@10 of their own class.

(c) ``--embeddings SCORES.h5``: the same exact and certified searches over real CNN embeddings, the
``embeddings`` of a ``galview score … -o SCORES.h5`` file (e.g. the shipped model over the
1,000,000-cutout benchmark file), queries drawn from the rows themselves.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np

from galview.core.reduced_search import ReducedIndex, recall_at_k
from galview.core.vector_search import cosine_topk, faiss_available, faiss_topk, unit_rows

RINGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "gz_decals_rings"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_ms(call, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, result


def peak_temporaries_mb(call) -> float:
    """Peak of the memory allocated while ``call`` runs (numpy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def power_law_vectors(
    n: int, dim: int, seed: int, isotropic: bool = False, chunk: int = 100_000
) -> np.ndarray:
    """(n, dim) float32 unit rows; coordinate i has variance 1/i (or 1: ``isotropic``)."""
    rng = np.random.default_rng(seed)
    scale = np.ones(dim, np.float32) if isotropic else (np.arange(1, dim + 1) ** -0.5).astype(np.float32)
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, chunk):
        block = rng.standard_normal((min(chunk, n - start), dim), dtype=np.float32) * scale
        out[start : start + len(block)] = unit_rows(block)
    return out


def thesis_loop_ms(x: np.ndarray, queries: np.ndarray, k: int) -> float:
    """The thesis's search on ``x``: one scikit-learn ``cosine_similarity`` call per image, then a sort."""
    from sklearn.metrics.pairwise import cosine_similarity

    started = time.perf_counter()
    scores = np.empty(len(x))
    for i in range(len(x)):
        scores[i] = cosine_similarity(queries, x[i : i + 1]).max()
    np.argsort(-scores)[:k]
    return (time.perf_counter() - started) * 1000


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info

        return ", ".join(f"{i['internal_api']} {i['num_threads']} threads" for i in threadpool_info())
    except ImportError:
        return "unknown"


def bench_topk(args) -> None:
    print(f"\n## (a) top-{args.k} over {args.n:,} × {args.dim} float32 unit vectors\n")
    started = time.perf_counter()
    x = power_law_vectors(args.n, args.dim, seed=0)
    queries = power_law_vectors(8, args.dim, seed=1)
    print(
        f"generated {x.nbytes / 2**30:.1f} GiB in {time.perf_counter() - started:.0f} s; BLAS: {blas_threads()}\n"
    )
    print("| search | queries | median time | vs goal 100 ms | peak temporaries | recall@k |")
    print("|---|---|---|---|---|---|")
    floor, _ = median_ms(lambda: x.sum(axis=0), args.repeat)
    print(
        f"| reading the vectors once (numpy sum: the floor of any exact float32 pass) | — | {floor:,.0f} ms | {floor / 100:.1f}× | — | — |"
    )
    exact = {}
    for q in (1, 8):
        ms, exact[q] = median_ms(lambda q=q: cosine_topk(x, queries[:q], args.k), args.repeat)
        peak = peak_temporaries_mb(lambda q=q: cosine_topk(x, queries[:q], args.k))
        print(
            f"| GalView exact float32, chunked | {q} | {ms:,.0f} ms | {ms / 100:.1f}× | {peak:.0f} MB | 1 (exact) |"
        )
        loop = thesis_loop_ms(x[: args.baseline_n], queries[:q], args.k) * args.n / args.baseline_n
        print(
            f"| thesis loop (sklearn cosine_similarity per image), {args.baseline_n:,} timed, extrapolated "
            f"| {q} | {loop / 1000:,.0f} s | — | — | 1 |"
        )
        print(f"| → GalView is faster by | {q} | {loop / ms:,.0f}× | | | |")
    bench_float16(x, queries, args)
    bench_two_stage(x, queries, exact, args)
    bench_certified(x, queries, exact, args, dims=64)
    bench_faiss(x, queries, exact, args)
    print(
        f"\npeak RSS of the process so far: {peak_rss_mb():,.0f} MB (the vectors alone: {x.nbytes / 2**20:,.0f} MB)"
    )


def bench_float16(x, queries, args) -> None:
    part = x[:50_000].astype(np.float16)
    q16 = queries.astype(np.float16)
    ms, _ = median_ms(lambda: part @ q16.T, 3)
    total = ms * len(x) / len(part)
    print(
        f"| float16 copy (numpy has no float16 BLAS: product timed on 50,000 rows, extrapolated) "
        f"| 8 | {total:,.0f} ms | {total / 100:.1f}× | — | — |"
    )


def bench_two_stage(x, queries, exact, args) -> None:
    for dims in (128, 64):
        started = time.perf_counter()
        index = ReducedIndex.build(x, dims=dims)
        built = time.perf_counter() - started
        for shortlist in (20 * args.k, 50 * args.k):
            for q in (1, 8):
                ms, found = median_ms(
                    lambda q=q, s=shortlist, i=index: i.search(queries[:q], args.k, s), args.repeat
                )
                recall = recall_at_k(found[0], exact[q][0])
                print(
                    f"| two-stage: {dims} principal axes, shortlist {shortlist:,}, exact rerank | {q} | {ms:,.0f} ms "
                    f"| {ms / 100:.1f}× | reduced copy {index.reduced.nbytes / 2**20:.0f} MB | {recall:.2f} |"
                )
        print(
            f"| (two-stage index of {dims} axes built in {built:.0f} s: axes from 20,000 rows, one projection pass) | | | | | |"
        )
        del index  # its reduced copy
    iso = power_law_vectors(200_000, args.dim, seed=2, isotropic=True)
    iso_q = power_law_vectors(8, args.dim, seed=3, isotropic=True)
    iso_index = ReducedIndex.build(iso, dims=128)
    recall = recall_at_k(iso_index.search(iso_q, args.k, 20 * args.k)[0], cosine_topk(iso, iso_q, args.k)[0])
    print(
        f"\nworst case for the two-stage search, isotropic random vectors (200,000 × {args.dim}, 128 axes, "
        f"8 queries, shortlist {20 * args.k:,}): recall@{args.k} {recall:.2f}"
    )


def bench_certified(x, queries, exact, args, dims: int) -> None:
    """The certified two-stage search: time, rows reranked, and agreement with the exact search."""
    started = time.perf_counter()
    index = ReducedIndex.build(x, dims=dims)
    built = time.perf_counter() - started
    for q in (1, 8):
        ms, found = median_ms(lambda q=q: index.certified_search(queries[:q], args.k), args.repeat)
        same = np.array_equal(found[0], exact[q][0])
        gap = float(np.max(np.abs(found[1] - exact[q][1])))
        print(
            f"| certified two-stage: {dims} axes, bounds on the rest | {q} | {ms:,.0f} ms | {ms / 100:.1f}× "
            f"| reduced copy {index.reduced.nbytes / 2**20:.0f} MB | reranked {found[3]:,} rows; same indices: "
            f"{same}, largest score difference {gap:.1e} |"
        )
    print(f"| (index of {dims} axes and residual norms built in {built:.0f} s) | | | | | |")


def bench_real_embeddings(args) -> None:
    """Exact against certified search over the embeddings of a scores HDF5 file."""
    import h5py

    with h5py.File(args.embeddings, "r") as handle:
        x = unit_rows(handle["embeddings"][:])
    live = int((np.abs(x) > 0).any(axis=0).sum())
    print(
        f"\n## (c) top-{args.k} over the {len(x):,} × {x.shape[1]} embeddings of {args.embeddings} "
        f"({live} of {x.shape[1]} units ever non-zero)\n"
    )
    rng = np.random.default_rng(0)
    queries = x[np.sort(rng.choice(len(x), 20, replace=False))]
    print("| search | queries | median time | vs goal 100 ms | rows reranked | against the exact top-k |")
    print("|---|---|---|---|---|---|")
    floor, _ = median_ms(lambda: x.sum(axis=0), args.repeat)
    print(f"| reading the vectors once (numpy sum) | — | {floor:,.0f} ms | {floor / 100:.1f}× | — | — |")
    kth: list[float] = []
    for dims in (64, 128):
        started = time.perf_counter()
        index = ReducedIndex.build(x, dims=dims)
        built = time.perf_counter() - started
        for q in (1, 8):
            exact_ms, certified_ms, reranked, same, tied, gap = [], [], [], 0, 0, 0.0
            for i in range(0, len(queries), q) if q == 1 else [0, 8]:
                query = queries[i : i + q]
                ms, exact = median_ms(lambda query=query: cosine_topk(x, query, args.k), 1)
                exact_ms.append(ms)
                if q == 1:
                    kth.append(float(exact[1][-1]))
                ms, found = median_ms(
                    lambda query=query, index=index: index.certified_search(query, args.k), 3
                )
                certified_ms.append(ms)
                reranked.append(found[3])
                same += int(np.array_equal(found[0], exact[0]))
                tied += int(np.array_equal(found[1], exact[1]) and not np.array_equal(found[0], exact[0]))
                gap = max(gap, float(np.max(np.abs(found[1] - exact[1]))))
            runs = len(exact_ms)
            print(
                f"| exact float32, chunked | {q} | {statistics.median(exact_ms):,.0f} ms "
                f"| {statistics.median(exact_ms) / 100:.1f}× | all | — |"
            )
            print(
                f"| certified two-stage, {dims} axes (index built in {built:.0f} s) | {q} "
                f"| {statistics.median(certified_ms):,.0f} ms (max {max(certified_ms):,.0f}) "
                f"| {statistics.median(certified_ms) / 100:.1f}× | median {int(statistics.median(reranked)):,} "
                f"(max {max(reranked):,}) | same indices in {same} of {runs} runs, the same scores at every "
                f"rank but tied rows in another order in {tied}; largest score difference {gap:.1e} |"
            )
        del index
    print(
        f"\nThe {args.k}-th best cosine of a query: median {statistics.median(kth):.6f} "
        f"(range {min(kth):.6f}–{max(kth):.6f}); float32 resolves 6e-8 near 1, so equal scores are common."
    )


def bench_faiss(x, queries, exact, args) -> None:
    if not faiss_available():
        print("FAISS: not installed (pip install faiss-cpu); not measured")
        return
    ms, found = median_ms(lambda: faiss_topk(x, queries, args.k), args.repeat)
    print(
        f"FAISS IndexFlatIP (index built per call), 8 queries: {ms:,.0f} ms, recall {recall_at_k(found[0], exact[8][0]):.2f}"
    )


def precision_rows(
    collection, images, labels, space, orientations: bool, references=None
) -> tuple[float, tuple[float, float], float, float]:
    """Mean precision@10 of the reference's own class over the references, its bootstrap 95%
    interval (the references resampled), seconds to index, ms per query.

    ``references`` defaults to every cutout labelled 1 (each ring in turn).
    """
    from galview.core.feature_index import build_index
    from galview.core.reference import cutout_reference
    from galview.core.similarity import similarity

    started = time.perf_counter()
    index = build_index(collection, space)
    indexed = time.perf_counter() - started
    references = np.flatnonzero(labels == 1) if references is None else references
    precisions, times = [], []
    for i in references:
        started = time.perf_counter()
        result = similarity(index, [cutout_reference(images[i], i, str(i))], orientations=orientations)
        times.append(time.perf_counter() - started)
        neighbours = [j for j in result.top(11) if j != i][:10]
        precisions.append((labels[neighbours] == labels[i]).mean())
    return (
        float(np.mean(precisions)),
        bootstrap_interval(precisions),
        indexed,
        statistics.median(times) * 1000,
    )


def bootstrap_interval(values, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean of ``values`` (resampled with replacement)."""
    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def bench_rings(args) -> None:
    from galview.core.spaces import morphology_space, pixel_space
    from galview.io import open_collection

    collection = open_collection(RINGS)
    images, labels = collection.get_batch(np.arange(len(collection))), np.asarray(collection.labels)
    rings = int((labels == 1).sum())
    print(
        f"\n## (b) rings among the 10 nearest neighbours of each ring ({len(labels)} galaxies, {rings} rings)\n"
    )
    print(
        f"chance: {(rings - 1) / (len(labels) - 1):.3f} (the other {rings - 1} rings among {len(labels) - 1})\n"
    )
    print("| space | orientations | precision@10 [95% CI] | index 100 cutouts | per reference |")
    print("|---|---|---|---|---|")
    cases = [
        (pixel_space(), True),
        (pixel_space(), False),
        (pixel_space(crop=212), True),
        (pixel_space(crop=212), False),
        (pixel_space(colour=True), True),
        (pixel_space(crop=212, colour=True), True),
        (pixel_space(crop=212, colour=True), False),
        (morphology_space(), False),
    ]
    for space, orientations in cases:
        row(space.description, orientations, precision_rows(collection, images, labels, space, orientations))
    embedding = embedding_space(collection)
    for orientations in (True, False):
        row(
            embedding.description,
            orientations,
            precision_rows(collection, images, labels, embedding, orientations),
        )


def embedding_space(collection):
    """The shipped model's embedding space, cutouts resized to its 64×64 input (``--resize``)."""
    from galview.assets import default_model_path
    from galview.ml.loading import load_model
    from galview.ml.scoring import with_adapter
    from galview.spaces import make_space

    loaded = with_adapter(load_model(default_model_path()), collection, resize=True)
    return make_space("embedding", loaded=loaded, collection=collection)


def row(description: str, orientations: bool, figures) -> None:
    mean, (low, high), indexed, per_query = figures
    on = "8 tried" if orientations else "—" if "morphology" in description else "off"
    print(
        f"| {description} | {on} | {mean:.3f} [{low:.3f}, {high:.3f}] | {indexed:.1f} s | {per_query:.0f} ms |"
    )


def bench_simulated(args) -> None:
    """(d) The same measurement on a simulated LSBG/artifact collection: each of ``--sim-references``
    LSBGs and as many artifacts in turn as the reference; precision@10 of its own class."""
    from galview.core.spaces import morphology_space, pixel_space
    from galview.io import open_collection

    collection = open_collection(args.sim)
    n = len(collection)
    images, labels = collection.get_batch(np.arange(n)), np.asarray(collection.labels)
    rng = np.random.default_rng(0)
    chosen = {
        value: rng.choice(np.flatnonzero(labels == value), args.sim_references, replace=False)
        for value in (1, 0)
    }
    print(f"\n## (d) own class among the 10 nearest, {n} simulated cutouts of {args.sim}\n")
    for value, name in ((1, "LSBG"), (0, "artifact")):
        share = (labels == value).sum() - 1
        print(f"chance for an {name} reference: {share / (n - 1):.3f}")
    print()
    print("| space | orientations | reference | precision@10 [95% CI] | index | per reference |")
    print("|---|---|---|---|---|---|")
    spaces = [(pixel_space(), True), (pixel_space(crop=32), True), (morphology_space(), False)]
    embedding = embedding_space(collection)
    spaces.append((embedding, True))
    for space, orientations in spaces:
        for value, name in ((1, "LSBG"), (0, "artifact")):
            mean, (low, high), indexed, per_query = precision_rows(
                collection, images, labels, space, orientations, chosen[value]
            )
            on = "8 tried" if orientations else "—"
            print(
                f"| {space.description} | {on} | {name} | {mean:.3f} [{low:.3f}, {high:.3f}] | "
                f"{indexed:.1f} s | {per_query:.0f} ms |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline-n", type=int, default=20_000)
    parser.add_argument("--skip-topk", action="store_true")
    parser.add_argument("--skip-rings", action="store_true")
    parser.add_argument("--embeddings", help="a scores .h5 of galview score: search its embeddings too")
    parser.add_argument(
        "--sim", help="(d) a simulated collection (galview simulate): own class among the nearest"
    )
    parser.add_argument("--sim-references", type=int, default=50, help="(d) references per class")
    args = parser.parse_args()
    print(
        f"# {platform.node()} · {os.cpu_count()} CPUs · numpy {np.__version__} · {time.strftime('%Y-%m-%d')}"
    )
    if not args.skip_topk:
        bench_topk(args)
    if args.embeddings:
        bench_real_embeddings(args)
    if not args.skip_rings:
        bench_rings(args)
    if args.sim:
        bench_simulated(args)


if __name__ == "__main__":
    main()
