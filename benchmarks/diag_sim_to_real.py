"""Sim-to-real diagnostics of a model and of the simulations it was trained on (issue 14).

    python benchmarks/diag_sim_to_real.py [--model MODEL.keras] [--sim SIM.h5] [--max-sim 4000]
        [--epochs 8] [--json OUT.json]

Prints, as markdown:

1. context shortcut (needs ``--sim``): held-out ROC AUC of a small CNN trained on simulated cutouts with
   the central 16×16 px hidden, and on whole cutouts (goal for the masked one: ≤ 0.6);
2. Grad-CAM centrality on the 112 real DES cutouts: of the cutouts the model calls LSBG with p > 0.8,
   the fraction whose map (on the logit) peaks within 16 px of the centre (goal ≥ 0.8), and how many
   maps are flat; the same with p computed for each true class, for information;
3. accuracy and AUC on the real cutouts with bootstrap 95% intervals: all, outside group B (the hard cases
   a published CNN got wrong), group B, and per group; with ``--tta`` also with test-time augmentation
   (the mean probability over the 8 flips and quarter turns);
4. with ``--eval-sim FILE`` (repeatable): accuracy and AUC on simulated files, e.g. an HSC-like set for
   the DES → HSC transfer without retraining;
5. with ``--sim`` and ``--context-swap P``: the context-shortcut probe also on the cutouts as a
   ``galview train --context-swap P`` run sees them (a share P given another cutout's surroundings,
   :func:`galview.ml.augment.swap_surroundings`): what the surroundings still tell the model in training;
6. with ``--ensemble-with OTHER.keras``: the real figures of the mean probability of both models;
7. with ``--sim`` and ``--blocks K``: the context-shortcut probe again on K disjoint blocks of ``--max-sim``
   cutouts (each its own split), with their mean and spread;
8. with ``--sim`` and ``--mask-sizes 24,32,40``: the masked-centre probe again with larger hidden squares,
   to see how far from the centre the classes still differ; and, with no classifier at all, the ROC AUC
   of two numbers from each cutout's outer 4-pixel frame (its median level and its spread), on the
   simulations and on the real cutouts.

The real labels only measure here; nothing is fitted to them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from galview.assets import default_model_path
from galview.ml.augment import dihedral, swap_surroundings
from galview.ml.gradcam import explain
from galview.ml.inputs import model_input
from galview.ml.loading import load_model
from galview.ml.metrics import binary_metrics
from galview.ml.shortcuts import centrality, context_shortcut_auc, peak_distances

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "des_lsbg" / "des_lsbg_dev.npz"
HARD = "B_model_eval_panels"


def read_sim(path: Path, limit: int, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cutouts ``start`` to ``start + limit`` of a simulated HDF5 file, and their labels."""
    import h5py

    with h5py.File(path, "r") as handle:
        stop = min(start + limit, len(handle["labels"]))
        return handle["images"][start:stop], handle["labels"][start:stop].astype(int)


def shortcut_blocks(path: Path, block: int, blocks: int, epochs: int) -> list[float]:
    """The masked-centre AUC on ``blocks`` disjoint blocks of ``block`` cutouts (block k from cutout
    k·block, split seed k): one block's figure moves by a few hundredths with the draw and the split."""
    aucs = []
    for k in range(blocks):
        images, labels = read_sim(path, block, k * block)
        if len(labels) < block:
            break
        aucs.append(context_shortcut_auc(images, labels, epochs=epochs, seed=k, with_full=False).masked_auc)
        print(f"block {k} (cutouts {k * block}–{(k + 1) * block - 1}): masked-centre AUC {aucs[-1]:.3f}")
    return aucs


def predict(loaded, images: np.ndarray, tta: bool = False) -> np.ndarray:
    """P(LSBG); with ``tta`` the mean over the 8 symmetries of the square."""
    transforms = range(8) if tta else [0]
    probs = [
        loaded.model.predict(
            model_input(dihedral(images, np.full(len(images), t)), loaded.card.input),
            batch_size=256,
            verbose=0,
        )[:, 0]
        for t in transforms
    ]
    return np.mean(probs, axis=0)


def metric_row(labels: np.ndarray, probs: np.ndarray) -> dict:
    metrics = binary_metrics(labels, probs)
    return {
        "n": int(len(labels)),
        "accuracy": metrics["accuracy"],
        "accuracy_ci95": metrics["ci95"]["accuracy"],
        "roc_auc": metrics["roc_auc"],
        "roc_auc_ci95": metrics["ci95"]["roc_auc"],
        "confusion": metrics["confusion"],
    }


def print_rows(title: str, rows: dict) -> None:
    print(f"| {title} | N | accuracy [95% CI] | ROC AUC [95% CI] | confusion |")
    print("|---|---|---|---|---|")
    for name, g in rows.items():
        print(
            f"| {name} | {g['n']} | {g['accuracy']:.3f} [{g['accuracy_ci95'][0]:.3f}, {g['accuracy_ci95'][1]:.3f}]"
            f" | {g['roc_auc']:.3f} [{g['roc_auc_ci95'][0]:.3f}, {g['roc_auc_ci95'][1]:.3f}] | {g['confusion']} |"
        )


def real_figures(loaded, real: Path, tta: bool = False) -> dict:
    data = np.load(real, allow_pickle=False)
    images, labels, groups = data["images"], data["labels"].astype(int), data["group"]
    probs = predict(loaded, images)
    maps = explain(loaded, images, class_index=1)
    central = centrality(maps, probs)
    out = {
        "centrality": central.__dict__,
        "centrality_true_lsbg": centrality(maps[labels == 1], probs[labels == 1]).__dict__,
        "centrality_true_artifact": centrality(maps[labels == 0], probs[labels == 0]).__dict__,
        "flat_maps_all": int(np.isnan(peak_distances(maps)).sum()),
        "groups": {},
    }
    selections = [("all", np.ones(len(labels), bool)), ("outside B", groups != HARD)]
    selections += [(str(g), groups == g) for g in np.unique(groups)]
    out["groups"] = {name: metric_row(labels[chosen], probs[chosen]) for name, chosen in selections}
    if tta:
        tta_probs = predict(loaded, images, tta=True)
        out["groups_tta"] = {name: metric_row(labels[c], tta_probs[c]) for name, c in selections}
    return out


def ensemble_figures(loaded, other, real: Path) -> dict:
    """Real figures of the mean P(LSBG) of two models (a two-model ensemble)."""
    data = np.load(real, allow_pickle=False)
    images, labels, groups = data["images"], data["labels"].astype(int), data["group"]
    probs = (predict(loaded, images) + predict(other, images)) / 2
    selections = [("all", np.ones(len(labels), bool)), ("outside B", groups != HARD), ("B", groups == HARD)]
    return {name: metric_row(labels[chosen], probs[chosen]) for name, chosen in selections}


def outer_frame(images: np.ndarray, width: int = 4) -> np.ndarray:
    """(N, P, C) float32 pixels of each cutout's outer frame, ``width`` pixels wide."""
    frame = np.ones(images.shape[1:3], bool)
    frame[width:-width, width:-width] = False
    return images[:, frame, :].astype(np.float32)


def frame_aucs(images: np.ndarray, labels: np.ndarray) -> dict:
    """ROC AUC (either direction) of the median and the spread of each cutout's outer 4-pixel frame."""
    from sklearn.metrics import roc_auc_score

    pixels = outer_frame(images)
    out = {}
    for name, values in (
        ("median", np.median(pixels, axis=1).mean(axis=1)),
        ("spread", pixels.std(axis=1).mean(axis=1)),
    ):
        auc = roc_auc_score(labels, values)
        out[name] = {
            "auc": max(auc, 1 - auc),
            "lsbg": float(np.median(values[labels == 1])),
            "artifact": float(np.median(values[labels == 0])),
        }
    return out


def sim_figures(loaded, path: Path, limit: int) -> dict:
    images, labels = read_sim(path, limit)
    return metric_row(labels, predict(loaded, images))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--sim", type=Path, help="simulated HDF5 for the context-shortcut probe")
    parser.add_argument("--real", type=Path, default=REAL)
    parser.add_argument("--max-sim", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--tta", action="store_true", help="also score the real cutouts with 8-fold TTA")
    parser.add_argument("--eval-sim", type=Path, action="append", default=[], help="simulated HDF5 to score")
    parser.add_argument("--context-swap", type=float, help="also probe the cutouts with this share swapped")
    parser.add_argument("--ensemble-with", type=Path, help="another model: also score the mean of both")
    parser.add_argument(
        "--mask-sizes", default="", help="comma-separated: also probe with these hidden squares"
    )
    parser.add_argument("--skip-real", action="store_true", help="only the simulated probes")
    parser.add_argument(
        "--blocks", type=int, default=0, help="also the probe on this many disjoint blocks of --max-sim"
    )
    args = parser.parse_args()
    report: dict = {"model": str(args.model), "sim": str(args.sim) if args.sim else None}
    if args.sim:
        start = time.perf_counter()
        images, labels = read_sim(args.sim, args.max_sim)
        result = context_shortcut_auc(images, labels, epochs=args.epochs)
        report["shortcut"] = result.__dict__ | {"seconds": time.perf_counter() - start}
        print(
            f"context shortcut on {args.sim.name}: masked-centre AUC {result.masked_auc:.3f}, whole cutout "
            f"{result.full_auc:.3f} ({result.n_train} train / {result.n_test} test, "
            f"{time.perf_counter() - start:.0f} s)"
        )
        if args.context_swap:
            swapped = swap_surroundings(images, np.random.default_rng(0), args.context_swap)
            result = context_shortcut_auc(swapped, labels, epochs=args.epochs, with_full=False)
            report["shortcut_swapped"] = result.__dict__ | {"context_swap": args.context_swap}
            print(
                f"the same with --context-swap {args.context_swap} applied (the training stream): "
                f"masked-centre AUC {result.masked_auc:.3f}"
            )
        if args.blocks:
            aucs = shortcut_blocks(args.sim, args.max_sim, args.blocks, args.epochs)
            report["shortcut_blocks"] = aucs
            print(
                f"masked-centre AUC over {len(aucs)} blocks: mean {np.mean(aucs):.3f}, "
                f"sd {np.std(aucs, ddof=1):.3f}, range {min(aucs):.3f}–{max(aucs):.3f}"
            )
        report["shortcut_by_size"] = {}
        sizes = [int(v) for v in args.mask_sizes.split(",") if v]
        if sizes:
            real = np.load(args.real, allow_pickle=False)
            report["frame"] = {
                "sim": frame_aucs(images, labels),
                "real": frame_aucs(real["images"], real["labels"].astype(int)),
            }
            for where, stats in report["frame"].items():
                words = ", ".join(
                    f"{k} LSBG {v['lsbg']:.1f} / artifact {v['artifact']:.1f}, AUC {v['auc']:.3f}"
                    for k, v in stats.items()
                )
                print(f"outer 4-px frame alone, {where}: {words}")
        for size in sizes:
            result = context_shortcut_auc(images, labels, size=size, epochs=args.epochs, with_full=False)
            report["shortcut_by_size"][size] = result.masked_auc
            print(f"central {size}×{size} px hidden: masked-centre AUC {result.masked_auc:.3f}")
    if args.skip_real:
        if args.json:
            args.json.write_text(json.dumps(report, indent=1, default=float))
        return
    loaded = load_model(args.model)
    report["real"] = real = real_figures(loaded, args.real, args.tta)
    c = real["centrality"]
    print(
        f"Grad-CAM centrality (p > 0.8): {c['fraction']:.3f} of {c['n_confident']} within 16 px "
        f"(median peak distance {c['median_distance']:.1f} px, {c['n_flat']} flat); "
        f"true LSBGs {real['centrality_true_lsbg']['fraction']:.3f} of "
        f"{real['centrality_true_lsbg']['n_confident']}, true artifacts "
        f"{real['centrality_true_artifact']['fraction']:.3f} of {real['centrality_true_artifact']['n_confident']};"
        f" flat maps over all 112: {real['flat_maps_all']}"
    )
    print_rows("real DES", real["groups"])
    if args.tta:
        print_rows("real DES, 8-fold TTA", real["groups_tta"])
    if args.ensemble_with:
        report["ensemble"] = ensemble_figures(loaded, load_model(args.ensemble_with), args.real)
        print_rows(f"real DES, mean of this model and {args.ensemble_with.name}", report["ensemble"])
    if args.eval_sim:
        report["eval_sim"] = {str(path): sim_figures(loaded, path, args.max_sim) for path in args.eval_sim}
        print_rows("simulated", {Path(k).name: v for k, v in report["eval_sim"].items()})
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
