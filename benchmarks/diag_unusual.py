"""Would an "unusual first" queue (Astronomaly's anomaly ranking) find rare objects in GalView's spaces?

A measurement, not a feature: for each simulated kind (``truth/kind`` of a GalView simulation) in turn,
draw 990 cutouts of the other kinds and 10 of that kind, score every cutout by four label-free outlier
scores in four feature spaces, and report the share of the 10 found among the top 50 (chance 0.05) and
the ROC AUC of the score; the same with 5 real Galaxy Zoo rings among 50 non-rings (top 5; chance 0.09).
Outlier scores: mean cosine distance to the 10 nearest (k-NN), the local outlier factor (20 neighbours),
an isolation forest on the 16 leading principal components, and the residual off those 16 components.

    python benchmarks/diag_unusual.py --sim bench_data/des_sim_6k.h5 [--rings ../shared/data/gz_decals_rings]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import h5py
import numpy as np
from bench_similarity import embedding_space  # run as benchmarks/diag_unusual.py: its folder is on the path
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor

from galview.core.feature_index import build_index
from galview.core.spaces import morphology_space, pixel_space
from galview.io import open_collection

RINGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "gz_decals_rings"


def knn_distance(v: np.ndarray, k: int = 10) -> np.ndarray:
    s = v @ v.T
    np.fill_diagonal(s, -np.inf)
    return 1 - np.partition(s, -k, axis=1)[:, -k:].mean(axis=1)


def local_outlier_factor(v: np.ndarray) -> np.ndarray:
    model = LocalOutlierFactor(n_neighbors=20).fit(v)
    return -model.negative_outlier_factor_


def isolation_forest(v: np.ndarray) -> np.ndarray:
    x = PCA(16, random_state=0).fit_transform(v) if v.shape[1] > 16 else v
    return -IsolationForest(n_estimators=200, random_state=0).fit(x).score_samples(x)


def pca_residual(v: np.ndarray) -> np.ndarray:
    pca = PCA(16, random_state=0).fit(v)
    return ((v - pca.inverse_transform(pca.transform(v))) ** 2).sum(axis=1)


SCORES = {
    "k-NN": knn_distance,
    "LOF": local_outlier_factor,
    "iforest": isolation_forest,
    "PCA residual": pca_residual,
}


def spaces(collection, crop: int):
    """(name, unit feature vectors) of the collection in the four spaces."""
    for name, space in (
        ("pixel", pixel_space()),
        (f"pixel, central {crop} px", pixel_space(crop=crop)),
        ("morphology", morphology_space()),
        ("embedding (shipped model)", embedding_space(collection)),
    ):
        yield name, build_index(collection, space).vectors


def found(vectors, rare, common, n_common, n_rare, draws, top, rng) -> dict[str, tuple[float, float]]:
    """Per score: mean share of the rare among the ``top`` highest, and mean ROC AUC, over ``draws``."""
    shares = {name: [] for name in SCORES}
    aucs = {name: [] for name in SCORES}
    for _ in range(draws):
        chosen = np.concatenate(
            [rng.choice(common, n_common, replace=False), rng.choice(rare, n_rare, replace=False)]
        )
        truth = np.r_[np.zeros(n_common), np.ones(n_rare)]
        for name, score in SCORES.items():
            values = score(vectors[chosen])
            shares[name].append(truth[np.argsort(-values)[:top]].sum() / n_rare)
            aucs[name].append(roc_auc_score(truth, values))
    return {name: (float(np.mean(shares[name])), float(np.mean(aucs[name]))) for name in SCORES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim", type=Path, required=True, help="a GalView simulation (with truth/kind)")
    parser.add_argument("--rings", type=Path, default=RINGS)
    parser.add_argument("--draws", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    with h5py.File(args.sim, "r") as handle:
        kinds = handle["truth/kind"][:].astype(str)
    header = " | ".join(f"{name}: found / AUC" for name in SCORES)
    print(f"## 10 of one kind among 990 others ({args.sim.name}): share found in the top 50 (chance 0.05)\n")
    print(f"| space | rare kind | {header} |\n|---|---|" + "---|" * len(SCORES))
    with open_collection(args.sim) as collection:
        for space, vectors in spaces(collection, 32):
            for kind in sorted(set(kinds)):
                rare, common = np.flatnonzero(kinds == kind), np.flatnonzero(kinds != kind)
                if len(rare) < 10:
                    continue
                result = found(vectors, rare, common, 990, 10, args.draws, 50, rng)
                cells = " | ".join(f"{share:.2f} / {auc:.2f}" for share, auc in result.values())
                print(f"| {space} | {kind} | {cells} |", flush=True)
    print(
        f"\n## 5 real rings among 50 non-rings ({args.rings.name}): share found in the top 5 (chance 0.09)\n"
    )
    print(f"| space | {header} |\n|---|" + "---|" * len(SCORES))
    with open_collection(args.rings) as collection:
        labels = np.asarray(collection.labels)
        for space, vectors in spaces(collection, 212):
            result = found(
                vectors,
                np.flatnonzero(labels == 1),
                np.flatnonzero(labels == 0),
                50,
                5,
                8 * args.draws,
                5,
                rng,
            )
            print(
                f"| {space} | " + " | ".join(f"{s:.2f} / {a:.2f}" for s, a in result.values()) + " |",
                flush=True,
            )
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
