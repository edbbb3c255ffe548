"""Training the self-supervised encoder (the ``self-supervised`` similarity space) on a GPU or the CPU.

    KERAS_BACKEND=jax python benchmarks/gpu_encoder.py CUTOUTS.npz [--n 2000] [--epochs 5]

Trains :func:`galview.ml.contrastive.train_encoder` (GalView's defaults) on the first ``--n`` cutouts of an
.npz with ``images`` and prints the device, the time of the first epoch (compilation included) and of the
later ones, and the encoder's card's device. Needs numpy, scikit-learn and Keras with its backend
(astropy, Qt and, under JAX or PyTorch, TensorFlow are blocked).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import ml_only  # noqa: F401  (benchmarks/ml_only.py: before Keras, blocks what galview.ml must not need)
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cutouts", type=Path, help=".npz with an images array (N, H, W, C)")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    from galview.ml.contrastive import train_encoder
    from galview.ml.devices import device_description

    images = np.load(args.cutouts, allow_pickle=False)["images"][: args.n]
    ends: list[float] = []
    started = time.perf_counter()

    def on_progress(progress):
        if progress.done and progress.total and progress.done % max(1, progress.total // args.epochs) == 0:
            ends.append(time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(
            train_encoder(images, Path(tmp) / "encoder", epochs=args.epochs, on_progress=on_progress)
        )
        card = json.loads((saved.parent / "encoder.json").read_text())
    total = time.perf_counter() - started
    epochs = np.diff([0.0, *ends[: args.epochs]])
    row = {
        "device": device_description(),
        "card_device": card.get("training", {}).get("device", card.get("device")),
        "n": len(images),
        "epochs": args.epochs,
        "first_epoch_s": round(float(epochs[0]), 2) if len(epochs) else None,
        "later_epoch_s": round(float(np.median(epochs[1:])), 2) if len(epochs) > 1 else None,
        "total_s": round(total, 1),
    }
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
