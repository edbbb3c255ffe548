"""Copy a trained model into models/ as the shipped default, with its real-DES figures in the card.

    python benchmarks/ship_model.py bench_data/shipped_run/model.keras [--name deepshadows_des_sim]

The model is re-saved without optimizer state (17 MB for DeepShadows). The real DES cutouts are used
here only to measure and record; nothing is tuned on them.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
from pathlib import Path

import numpy as np

from galview.ml.gradcam import explain
from galview.ml.inputs import model_input
from galview.ml.loading import load_model, save_model
from galview.ml.metrics import binary_metrics
from galview.ml.shortcuts import centrality

# The checkout's models/ (the data package galview.models), not an installed copy.
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "des_lsbg" / "des_lsbg_dev.npz"


HARD = "B_model_eval_panels"


def real_des_metrics(loaded) -> dict:
    """Metrics on the 112 real cutouts (all, outside group B, group B) and Grad-CAM centrality."""
    data = np.load(REAL, allow_pickle=False)
    probs = loaded.model.predict(model_input(data["images"], loaded.card.input), verbose=0)[:, 0]
    labels, groups = data["labels"].astype(int), data["group"]
    metrics = binary_metrics(labels, probs)
    keep = ("accuracy", "precision", "recall", "roc_auc", "confusion", "ci95")
    out = {k: metrics[k] for k in keep} | {
        "n": int(len(probs)),
        "data": "112 real DES cutouts of ../shared/data/des_lsbg (never trained on)",
    }
    for name, chosen in (("outside_group_B", groups != HARD), ("group_B", groups == HARD)):
        part = binary_metrics(labels[chosen], probs[chosen])
        out[name] = {k: part[k] for k in ("accuracy", "roc_auc", "confusion", "ci95")} | {
            "n": int(chosen.sum())
        }
    central = centrality(explain(loaded, data["images"], class_index=1), probs)
    out["gradcam_centrality"] = {
        "fraction": central.fraction,
        "n_confident": central.n_confident,
        "n_flat": central.n_flat,
        "definition": "maps (logit, class LSBG) of cutouts with p > 0.8 peaking within 16 px of the centre",
    }
    return out


def sky_description() -> dict:
    """What the shipped models' inputs are in sky terms (the physical adapter follows it): GalView's
    simulated DES-like cutouts, drawn by galview.core.viewer_colours.viewer_rgb."""
    return {
        "pixel_scale": 0.468469,
        "field_arcsec": 29.982,
        "representation": "viewer colours: Legacy-Survey-like asinh grz mapping, uint8",
        "colours": {
            "mapping": "legacy",
            "bands": ["g", "r", "z"],
            "flux_unit": "nanomaggies",
            "pixel_scale": 0.263,
            "jpeg_quality": 90,
            "note": "as galview simulate drew the training cutouts (DES-like): g,r,z nanomaggies at 0.263″/px "
            "over 114 px (29.982″), galview.core.display.legacy_rgb, a JPEG round trip (quality 75–95 in "
            "training; 90 here), resize to 64×64 (bicubic here; bicubic, bilinear, Lanczos or box in "
            "training) (galview.core.viewer_colours.viewer_rgb)",
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--name", default="deepshadows_des_sim")
    parser.add_argument("--note", default="", help="a sentence on how it was trained, for the card")
    args = parser.parse_args()
    loaded = load_model(args.model)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    metrics = {"simulated_test": loaded.card.metrics, "real_des": real_des_metrics(loaded)}
    description = (
        "DeepShadows (Tanoglidis et al. 2021) trained by GalView on simulated DES-like cutouts in the Legacy "
        "Survey viewer's uint8 colours (galview simulate). No real image was used for training, labelled or "
        f"unlabelled. {args.note + ' ' if args.note else ''}Shipped from {args.model} at commit {commit}."
    )
    spec = dataclasses.replace(loaded.card.input, **sky_description())
    card = dataclasses.replace(loaded.card, input=spec, metrics=metrics, description=description)
    target = MODELS_DIR / f"{args.name}.keras"
    MODELS_DIR.mkdir(exist_ok=True)
    save_model(loaded.model, card, target)
    print(
        f"{target}: {target.stat().st_size / 1e6:.1f} MB; real DES accuracy "
        f"{metrics['real_des']['accuracy']:.3f}, AUC {metrics['real_des']['roc_auc']:.3f}"
    )


if __name__ == "__main__":
    main()
