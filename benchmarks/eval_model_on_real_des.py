"""Accuracy and AUC of a model on the 112 real DES cutouts (never used for training or tuning).

    python benchmarks/eval_model_on_real_des.py [--model models/deepshadows_des_sim.keras]

Prints the metrics with bootstrap 95% intervals, overall and for the hard group B_model_eval_panels.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from galview.assets import default_model_path
from galview.ml.inputs import model_input
from galview.ml.loading import load_model
from galview.ml.metrics import binary_metrics

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "des_lsbg" / "des_lsbg_dev.npz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--real", type=Path, default=REAL)
    args = parser.parse_args()
    loaded = load_model(args.model)
    data = np.load(args.real, allow_pickle=False)
    probs = loaded.model.predict(model_input(data["images"], loaded.card.input), verbose=0)[:, 0]
    labels = data["labels"].astype(int)
    groups = data["group"]
    summary = {}
    for name, chosen in [("all", np.ones(len(labels), bool))] + [(g, groups == g) for g in np.unique(groups)]:
        metrics = binary_metrics(labels[chosen], probs[chosen])
        summary[name] = {k: metrics[k] for k in ("accuracy", "roc_auc")} | {"n": int(chosen.sum())}
        ci = metrics["ci95"]
        print(
            f"{name:22s} N={chosen.sum():3d}  accuracy {metrics['accuracy']:.3f} "
            f"[{ci['accuracy'][0]:.3f}, {ci['accuracy'][1]:.3f}]  AUC {metrics['roc_auc']:.3f} "
            f"[{ci['roc_auc'][0]:.3f}, {ci['roc_auc'][1]:.3f}]  confusion {metrics['confusion']}"
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
