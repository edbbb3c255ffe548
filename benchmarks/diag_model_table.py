"""One table row per model: the label-free figures that decide, then the real figures that only measure.

    python benchmarks/diag_model_table.py MODEL [MODEL ...] --test-sim TEST.h5 [--eval-sim OTHER.h5 ...]
        [--json OUT.json]

For each model, in this order:

- label-free (these may decide what ships): the domain AUC (a 5-fold logistic regression telling the
  model's penultimate features of ``--test-sim`` from those of the 112 real DES cutouts, used without
  labels; 0.5 = cannot tell), Grad-CAM centrality on the real cutouts (maps of those called LSBG with
  p > 0.8 peaking within 16 px of the centre: no labels), the accuracy on its own simulated test split
  (from its card) and on each simulated file;
- measured only, never deciding: accuracy on the 112 real cutouts, all / outside group B / group B, ROC AUC
  all / outside B, and how many real artifacts it calls LSBGs.

Runs under any Keras backend.
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
from diag_sim_to_real import REAL, real_figures  # noqa: E402

from galview.ml.loading import load_model  # noqa: E402


def simulated(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with h5py.File(path, "r") as handle:
        return handle["images"][:], handle["labels"][:].astype(int)


def own_test_accuracy(metrics: dict) -> float:
    """Accuracy on the model's own simulated test split (a shipped card keeps it under simulated_test)."""
    return float(metrics.get("simulated_test", metrics)["accuracy"])


def model_row(path: Path, test_sim: Path, eval_sims: list[Path]) -> dict:
    """The figures of one model (see the module docstring)."""
    loaded = load_model(path)
    test_images, test_labels = simulated(test_sim)
    real = np.load(REAL, allow_pickle=False)
    f_sim, p_sim = features(loaded, test_images)
    f_real, _ = features(loaded, real["images"])
    figures = real_figures(loaded, REAL)
    groups = figures["groups"]
    artifacts = groups["all"]["confusion"]
    row = {
        "model": str(path),
        "domain_auc": domain_auc(f_sim, f_real),
        "centrality": figures["centrality"],
        "own_test_accuracy": own_test_accuracy(loaded.card.metrics),
        "sim_accuracy": {str(test_sim): float(((p_sim > 0.5) == (test_labels == 1)).mean())},
        "real": {
            "all": groups["all"]["accuracy"],
            "outside_B": groups["outside B"]["accuracy"],
            "B": groups["B_model_eval_panels"]["accuracy"],
            "roc_auc_all": groups["all"]["roc_auc"],
            "roc_auc_outside_B": groups["outside B"]["roc_auc"],
            "confusion_all": artifacts,
        },
    }
    for other in eval_sims:
        images, labels = simulated(other)
        _, probs = features(loaded, images)
        row["sim_accuracy"][str(other)] = float(((probs > 0.5) == (labels == 1)).mean())
    return row


def markdown(rows: list[dict]) -> str:
    sims = list(rows[0]["sim_accuracy"])
    head = (
        "| model | domain AUC | centrality (median px) | own test | "
        + " | ".join(Path(s).name for s in sims)
        + " | real all / outside B / B | real AUC all / outside B | confusion [[TN, FP], [FN, TP]] |"
    )
    lines = [head, "|" + "---|" * (7 + len(sims))]
    for r in rows:
        c, real = r["centrality"], r["real"]
        own = r["own_test_accuracy"]
        lines.append(
            f"| {r['model']} | {r['domain_auc']:.3f} | {c['fraction']:.3f} of {c['n_confident']} "
            f"({c['median_distance']:.1f}) | {own:.3f} | "
            + " | ".join(f"{r['sim_accuracy'][s]:.3f}" for s in sims)
            + f" | {real['all']:.3f} / {real['outside_B']:.3f} / {real['B']:.3f} | "
            f"{real['roc_auc_all']:.3f} / {real['roc_auc_outside_B']:.3f} | {real['confusion_all']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--test-sim", type=Path, required=True, help="fresh simulations for the domain AUC")
    parser.add_argument("--eval-sim", type=Path, action="append", default=[], help="more simulated files")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = [model_row(path, args.test_sim, args.eval_sim) for path in args.models]
    print(markdown(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()
