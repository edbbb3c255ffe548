"""The shipped model adapted to each collection without labels (AdaBN), against the shipped model.

    PYTHONPATH=. python benchmarks/diag_adabn.py --test-sim FRESH_DES.h5 --eval-sim HSC_LIKE.h5 [--json OUT]

For each collection — fresh DES-like simulations, HSC-like simulations (DES → HSC without retraining),
the 112 real DES cutouts — the shipped model's BatchNorm statistics are taken from that collection's own
cutouts (:func:`galview.ml.batchnorm_adapt.adapt_batchnorm`, no label read) and its accuracy is compared
with the shipped model's. Label-free figures first (they decide: simulated accuracies, Grad-CAM
centrality on the real cutouts, the domain AUC of the penultimate features, each model on its own
collection), then the real figures, which only measure: accuracy all / outside group B / B with bootstrap
intervals, the paired change on the same cutouts, ROC AUC and the confusion matrix.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from diag_feature_alignment import domain_auc, features  # noqa: E402
from diag_sim_to_real import HARD, REAL, real_figures  # noqa: E402

from galview.assets import shipped_default_path  # noqa: E402
from galview.core.collection import ArrayCollection  # noqa: E402
from galview.ml.batchnorm_adapt import adapt_batchnorm  # noqa: E402
from galview.ml.loading import LoadedModel, load_model  # noqa: E402


def simulated(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with h5py.File(path, "r") as handle:
        return handle["images"][:], handle["labels"][:].astype(int)


def adapted(shipped: LoadedModel, images: np.ndarray, name: str) -> LoadedModel:
    model, _ = adapt_batchnorm(shipped, ArrayCollection(name, images, "NHWC"))
    return LoadedModel(model, shipped.card, shipped.path, shipped.files)


def paired_change(labels, before, after, seed=0, draws=10_000) -> tuple[float, list[float]]:
    """Accuracy after − before on the same cutouts, with a 95% bootstrap interval (cutouts resampled)."""
    right_before = (before > 0.5) == (labels == 1)
    right_after = (after > 0.5) == (labels == 1)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(labels), (draws, len(labels)))
    diffs = right_after[picks].mean(axis=1) - right_before[picks].mean(axis=1)
    return float(right_after.mean() - right_before.mean()), [
        float(np.quantile(diffs, q)) for q in (0.025, 0.975)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-sim", type=Path, required=True)
    parser.add_argument("--eval-sim", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    shipped = load_model(shipped_default_path())
    out: dict = {}
    for name, path in (("fresh DES-like", args.test_sim), ("HSC-like", args.eval_sim)):
        images, labels = simulated(path)
        _, p0 = features(shipped, images)
        _, p1 = features(adapted(shipped, images, name), images)
        out[name] = {
            "shipped": float(((p0 > 0.5) == (labels == 1)).mean()),
            "adapted": float(((p1 > 0.5) == (labels == 1)).mean()),
        }
        print(
            f"{name} simulations ({len(labels)}): shipped {out[name]['shipped']:.4f}, adapted {out[name]['adapted']:.4f}"
        )
    real = np.load(REAL, allow_pickle=False)
    on_real = adapted(shipped, real["images"], "real")
    sims, _ = simulated(args.test_sim)
    on_sims = adapted(shipped, sims, "fresh DES-like")
    f_sim, _ = features(shipped, sims)
    f_real, p_before = features(shipped, real["images"])
    f_sim_a, _ = features(on_sims, sims)
    f_real_a, p_after = features(on_real, real["images"])
    out["domain_auc"] = {"shipped": domain_auc(f_sim, f_real), "adapted": domain_auc(f_sim_a, f_real_a)}
    print(
        f"domain AUC: shipped {out['domain_auc']['shipped']:.3f}, adapted {out['domain_auc']['adapted']:.3f}"
    )
    labels, groups = real["labels"].astype(int), real["group"]
    for name, loaded in (("shipped", shipped), ("adapted", on_real)):
        figures = real_figures(loaded, REAL)
        out[name] = {"centrality": figures["centrality"], "groups": figures["groups"]}
        c = figures["centrality"]
        print(
            f"{name}: centrality {c['fraction']:.3f} of {c['n_confident']} (median {c['median_distance']:.1f} px)"
        )
        for group in ("all", "outside B", HARD):
            g = figures["groups"][group]
            print(
                f"  {group}: accuracy {g['accuracy']:.3f} [{g['accuracy_ci95'][0]:.3f}, {g['accuracy_ci95'][1]:.3f}],"
                f" ROC AUC {g['roc_auc']:.3f}, confusion {g['confusion']}"
            )
    for group, chosen in (("all", np.ones(len(labels), bool)), ("outside B", groups != HARD)):
        change, interval = paired_change(labels[chosen], p_before[chosen], p_after[chosen])
        out.setdefault("paired_change", {})[group] = {"change": change, "ci95": interval}
        print(f"paired change {group}: {change:+.3f} [{interval[0]:+.3f}, {interval[1]:+.3f}]")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
