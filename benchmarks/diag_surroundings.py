"""How often the simulations draw bright surroundings, traded between realism and the context shortcut (issue 14).

    python benchmarks/diag_surroundings.py [--scales 1,0.5,0.25,0] [--n 4000] [--seed 41] [--json OUT]

For each scale, the rates of :data:`galview.sim.sources.SURROUNDING_RATES` (a bright star near the candidate,
a bright galaxy, a crowded field, faint cirrus; the same for LSBGs and artifacts) are multiplied by it and
``--n`` DES-like cutouts are simulated in this process (the same seeds for every scale). Printed per scale:

- realism: cross-validated ROC AUC of classifiers telling the 112 real DES cutouts from the simulations
  (:func:`galview.sim.realism.realism_auc`; goal < 0.75), and the sky level around the candidates;
- the outer 4-pixel frame alone: ROC AUC of its median level and of its spread for the label (no classifier);
- the masked-centre probe (:func:`galview.ml.shortcuts.context_shortcut_auc`, central 16 px hidden; goal
  ≤ 0.6) and the same small CNN on whole cutouts.

The real cutouts are used without their labels except in the frame line's real row. Nothing is written
unless ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from diag_sim_to_real import REAL, frame_aucs, outer_frame  # noqa: E402

from galview.ml.shortcuts import context_shortcut_auc  # noqa: E402
from galview.sim import sources  # noqa: E402
from galview.sim.generate import plan, simulate_chunks  # noqa: E402
from galview.sim.realism import load_real, realism_auc  # noqa: E402
from galview.sim.surveys import SURVEYS  # noqa: E402


def simulate(n: int, seed: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` DES-like uint8 cutouts and labels with every surroundings rate multiplied by ``scale``."""
    base = dict(sources.SURROUNDING_RATES)
    sources.SURROUNDING_RATES.update({k: v * scale for k, v in base.items()})
    try:
        labels, seeds = plan(n, seed)
        chunks = list(simulate_chunks(SURVEYS["des"], labels, seeds, workers=1))
    finally:
        sources.SURROUNDING_RATES.update(base)
    return np.concatenate([rgb for rgb, _, _ in chunks]), labels.astype(int)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,0.5,0.25,0")
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    real, _ = load_real(REAL)
    rows = []
    for scale in [float(v) for v in args.scales.split(",")]:
        started = time.perf_counter()
        images, labels = simulate(args.n, args.seed, scale)
        made = time.perf_counter() - started
        realism = realism_auc(real, images, seed=0)
        probe = context_shortcut_auc(images, labels, epochs=args.epochs)
        level = np.median(outer_frame(images)[..., 0], axis=1)
        row = {
            "scale": scale,
            "rates": {k: v * scale for k, v in sources.SURROUNDING_RATES.items()},
            "realism_logistic": realism["auc_logistic"],
            "realism_forest": realism["auc_forest"],
            "top_features": realism["top_features"][:3],
            "frame_R_median_p16_p84": np.percentile(level, [50, 16, 84]).round(1).tolist(),
            "frame": frame_aucs(images, labels),
            "masked_auc": probe.masked_auc,
            "full_auc": probe.full_auc,
            "simulate_s": round(made, 1),
        }
        rows.append(row)
        print(
            f"scale {scale:g}: realism AUC {row['realism_logistic']:.3f} / {row['realism_forest']:.3f} "
            f"(top: {', '.join(name for name, _ in row['top_features'])}); frame R level "
            f"{row['frame_R_median_p16_p84']}; frame AUC median {row['frame']['median']['auc']:.3f}, "
            f"spread {row['frame']['spread']['auc']:.3f}; masked-centre {probe.masked_auc:.3f}, "
            f"whole {probe.full_auc:.3f} ({made:.0f} s to simulate)",
            flush=True,
        )
    level = np.median(outer_frame(real)[..., 0], axis=1)
    print(f"real: frame R level {np.percentile(level, [50, 16, 84]).round(1).tolist()}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()
