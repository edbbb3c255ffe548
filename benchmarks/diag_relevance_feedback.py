"""Would marking a few rings and non-rings rank the other rings first? (issue 13, a diagnostic)

    python benchmarks/diag_relevance_feedback.py

On ``../shared/data/gz_decals_rings`` (100 real galaxies, 50 rings): for m = 1, 3, 5, 10, draw m rings and
m non-rings as a user's marks (200 draws per m, seed 0), score every unmarked galaxy by its normalised
feature vector's dot product with (mean of the marked rings − mean of the marked non-rings) — the mean
of its cosines to the "like" marks minus that to the "unlike" ones — and report the share of rings among
the 10 best. "like only" drops the unlike term (GalView's mean of several references, orientations off).
Chance 0.5. The labels play the user's marks here; nothing is chosen on them.
"""

from __future__ import annotations

import time

import numpy as np
from bench_similarity import RINGS, embedding_space

from galview.core.feature_index import build_index
from galview.core.spaces import morphology_space, pixel_space
from galview.io import open_collection

MARKS = (1, 3, 5, 10)
DRAWS = 200


def precision_with_marks(
    vectors: np.ndarray, labels: np.ndarray, m: int, seed: int = 0
) -> tuple[float, float]:
    """Mean precision@10 of rings among the unmarked: (like only, like − unlike)."""
    rng = np.random.default_rng(seed)
    like_only, both = [], []
    for _ in range(DRAWS):
        like = rng.choice(np.flatnonzero(labels == 1), m, replace=False)
        unlike = rng.choice(np.flatnonzero(labels == 0), m, replace=False)
        rest = np.setdiff1d(np.arange(len(labels)), np.concatenate([like, unlike]))
        for query, kept in (
            (vectors[like].mean(0), like_only),
            (vectors[like].mean(0) - vectors[unlike].mean(0), both),
        ):
            top = rest[np.argsort(-(vectors[rest] @ query), kind="stable")[:10]]
            kept.append(labels[top].mean())
    return float(np.mean(like_only)), float(np.mean(both))


def main() -> None:
    collection = open_collection(RINGS)
    labels = np.asarray(collection.labels)
    spaces = [pixel_space(), pixel_space(crop=212), morphology_space(), embedding_space(collection)]
    print("| space | " + " | ".join(f"m = {m}: like only / like − unlike" for m in MARKS) + " |")
    print("|---|" + "---|" * len(MARKS))
    for space in spaces:
        started = time.perf_counter()
        vectors = np.asarray(build_index(collection, space).vectors, np.float64)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        cells = [precision_with_marks(vectors, labels, m) for m in MARKS]
        row = " | ".join(f"{a:.3f} / {b:.3f}" for a, b in cells)
        print(f"| {space.description} | {row} |  ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
