"""Time one epoch of full DeepShadows training (published recipe: Adadelta 0.1, batch 64) on N cutouts.

    KERAS_BACKEND=jax python benchmarks/gpu_train_epoch.py [--n 30000] [--data sims.h5] [--feed both]

Needs only numpy, h5py and Keras (with its backend) plus ``galview.ml``: astropy, Qt, GalSim and, under
JAX or PyTorch, TensorFlow are blocked on import, so the script also proves ``galview.ml`` needs none
of them. Cutouts come from ``--data`` (an HDF5 file with ``images`` (N, 64, 64, 3) uint8 and ``labels``,
as ``galview simulate`` writes) or, without it, from a numpy stand-in of the same shape and type (the
time of an epoch does not depend on the pixels). Prints the device, then per feed: the first epoch
(compilation included) and the next one (the figure the goal is about, ≤ 3 s for 30,000 on a CUDA GPU).
``--workers N`` prepares GalView's batches in N threads (default: as ``galview train`` does on this
device, :func:`galview.ml.devices.feed_threads`).

Feeds: ``arrays`` (numpy arrays straight into ``model.fit``) and ``galview`` (GalView's training
path: :class:`galview.ml.augment.CutoutBatches` with 8-fold flips/rotations, as ``galview train``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import ml_only  # noqa: F401  (benchmarks/ml_only.py: before Keras, blocks what galview.ml must not need)
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # galview from this checkout


def _cutouts(args):
    if args.data:
        import h5py

        with h5py.File(args.data, "r") as handle:
            n = min(args.n, len(handle["images"]))
            return handle["images"][:n], handle["labels"][:n].astype(np.float32)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.n, 64, 64, 3), dtype=np.uint8)
    return images, (np.arange(args.n) % 2).astype(np.float32)


def _model():
    from galview.ml.architectures import build_model, get_architecture

    recipe = get_architecture("deepshadows").recipe
    model = build_model("deepshadows")
    model.compile(optimizer=recipe.make_optimizer(), loss=recipe.loss, metrics=list(recipe.metrics))
    return model, recipe.batch_size


def _time_epochs(model, fit) -> tuple[float, float]:
    started = time.perf_counter()
    fit(model)
    first = time.perf_counter() - started
    started = time.perf_counter()
    fit(model)
    return first, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30_000, help="cutouts per epoch")
    parser.add_argument("--data", type=Path, help="HDF5 with images and labels (default: a numpy stand-in)")
    parser.add_argument("--feed", choices=["arrays", "galview", "both"], default="both")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="galview feed: threads preparing batches (0: GalView's choice for this device, as galview train)",
    )
    args = parser.parse_args()

    import keras

    from galview.ml.augment import CutoutBatches
    from galview.ml.cards import InputSpec
    from galview.ml.devices import device_description, feed_threads

    images, labels = _cutouts(args)
    print(
        f"backend {keras.backend.backend()}, device {device_description()}, {len(images):,} cutouts",
        flush=True,
    )
    results = {"backend": keras.backend.backend(), "device": device_description(), "n": len(images)}
    feeds = ["arrays", "galview"] if args.feed == "both" else [args.feed]
    spec = InputSpec((64, 64, 3), ("R", "G", "B"), "uint8", "divide255")
    for feed in feeds:
        keras.utils.set_random_seed(0)
        model, batch = _model()
        if feed == "arrays":
            x = images.astype(np.float32) / 255

            def fit(m, x=x, batch=batch):
                m.fit(x, labels, batch_size=batch, epochs=1, shuffle=True, verbose=0)
        else:
            targets = labels
            workers = args.workers or feed_threads()
            threads = {"workers": workers, "max_queue_size": 4 * workers} if workers > 1 else {}
            data = CutoutBatches(
                images, np.arange(len(images)), spec, targets, batch, True, True, 0, **threads
            )

            def fit(m, data=data):
                m.fit(data, epochs=1, verbose=0)

        first, second = _time_epochs(model, fit)
        results[feed] = {"first_epoch_s": round(first, 2), "epoch_s": round(second, 2)}
        if feed == "galview":
            results[feed]["workers"] = args.workers or feed_threads()
        print(
            f"{feed:8s} first epoch (with compilation) {first:.2f} s, next epoch {second:.2f} s", flush=True
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
