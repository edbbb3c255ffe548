"""Retraining on a GPU, end to end (issue 12): the shipped model fine-tuned through GalView's job.

    KERAS_BACKEND=jax python benchmarks/gpu_finetune.py --train TRAIN.h5 --test TEST.h5 [--modes head,full]
        [--folds 2]

The same :func:`galview.ml.finetune.finetune` the window and ``galview finetune`` run, on the labelled
cutouts of ``--train`` (e.g. 200 HSC-like simulations), then the saved version against the shipped model
on ``--test``. Prints the device, the wall time of each mode and the before/after. Needs numpy, h5py,
scikit-learn and Keras with its backend (astropy, Qt and, under JAX or PyTorch, TensorFlow are blocked).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import ml_only  # noqa: F401  (benchmarks/ml_only.py: before Keras, blocks what galview.ml must not need)
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--modes", default="probe,head,full")
    parser.add_argument("--folds", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("GALVIEW_HOME", tempfile.mkdtemp(prefix="galview-home-"))

    from galview.assets import default_model_path
    from galview.io import open_collection
    from galview.ml.finetune import default_recipe, finetune
    from galview.ml.inputs import model_input
    from galview.ml.loading import load_model
    from galview.ml.metrics import binary_metrics

    parent = load_model(default_model_path())
    train, test = open_collection(args.train), open_collection(args.test)
    labels = np.asarray(train.labels, dtype=np.int64)
    truth = np.asarray(test.labels, dtype=np.int64)
    x_test = model_input(test.get_batch(np.arange(len(test))), parent.card.input)
    shipped = parent.model.predict(x_test, batch_size=256, verbose=0)[:, 0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in [m for m in args.modes.split(",") if m]:
            recipe = default_recipe(len(labels), mode, folds=args.folds)
            started = time.perf_counter()
            result = finetune(parent, train, np.arange(len(train)), labels, recipe, output=Path(tmp) / mode)
            seconds = time.perf_counter() - started
            tuned = load_model(result.path).model.predict(x_test, batch_size=256, verbose=0)[:, 0]
            row = {
                "mode": mode,
                "device": result.device,
                "recipe": recipe.describe(),
                "seconds": round(seconds, 1),
                "kfold_difference": round(result.difference["difference"], 3),
                "test_before": round(binary_metrics(truth, shipped)["accuracy"], 3),
                "test_after": round(binary_metrics(truth, tuned)["accuracy"], 3),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
