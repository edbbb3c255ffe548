"""Is the simulated task as hard as the real one? Train DeepShadows on simulated DES-like cutouts.

    python benchmarks/check_sim_difficulty.py bench_data/des_sim_20k.h5 [--epochs 40]

Stratified 80/10/10 split, the published recipe (Adadelta 0.1, binary cross-entropy, batch 64), early
stopping on validation loss (patience 5, best weights kept). Prints accuracy and ROC AUC on the simulated
test set, per artifact kind, and on the 112 real DES cutouts (never used for training).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import h5py
import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from galview.core.scores import is_positive

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "des_lsbg" / "des_lsbg_dev.npz"


def report(name: str, labels: np.ndarray, probs: np.ndarray) -> None:
    accuracy = float((is_positive(probs) == labels).mean())
    auc = roc_auc_score(labels, probs) if len(np.unique(labels)) == 2 else float("nan")
    print(f"{name}: accuracy {accuracy:.3f}, AUC {auc:.3f} (N={len(labels)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import keras

    from galview.ml.architectures import deepshadows

    keras.utils.set_random_seed(args.seed)
    with h5py.File(args.path) as handle:
        images = handle["images"][()].astype(np.float32) / 255.0
        labels = handle["labels"][()].astype(np.float32)
        kinds = handle["truth/kind"][()].astype(str)
    index = np.arange(len(labels))
    train, rest = train_test_split(index, test_size=0.2, stratify=labels, random_state=args.seed)
    val, test = train_test_split(rest, test_size=0.5, stratify=labels[rest], random_state=args.seed)
    model = deepshadows(images.shape[1:])
    model.compile(
        optimizer=keras.optimizers.Adadelta(learning_rate=0.1),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    started = time.perf_counter()
    history = model.fit(
        images[train],
        labels[train],
        validation_data=(images[val], labels[val]),
        batch_size=64,
        epochs=args.epochs,
        callbacks=[stop],
        verbose=2,
    )
    print(f"trained {len(history.history['loss'])} epochs in {time.perf_counter() - started:.0f} s")
    probs = model.predict(images[test], batch_size=512, verbose=0).ravel()
    report("simulated test set", labels[test], probs)
    for kind in np.unique(kinds[test]):
        chosen = kinds[test] == kind
        print(
            f"  {kind:12s} accuracy {float((is_positive(probs[chosen]) == labels[test][chosen]).mean()):.3f} (N={chosen.sum()})"
        )
    real = np.load(REAL, allow_pickle=False)
    report(
        "real DES cutouts",
        real["labels"].astype(np.float32),
        model.predict(real["images"].astype(np.float32) / 255.0, verbose=0).ravel(),
    )


if __name__ == "__main__":
    main()
