"""Grad-CAM, guided Grad-CAM and saliency of the shipped model under one Keras backend, saved for comparison.

    KERAS_BACKEND=jax python benchmarks/check_gradcam_backends.py save OUT_DIR
    python benchmarks/check_gradcam_backends.py compare OUT_DIR

``save`` writes OUT_DIR/<backend>.npz with the maps of the 112 real DES cutouts (and the seconds per
batch of 64 after warm-up); ``compare`` prints the Pearson r of each backend's maps against TensorFlow's.
Needs only numpy, h5py and keras (plus the backend): it runs on the GPU machine as well.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

DES = Path(__file__).resolve().parents[2] / "shared" / "data" / "des_lsbg" / "des_lsbg_dev.npz"
METHODS = ("gradcam", "guided", "backprop", "saliency")


def save(out: Path) -> None:
    import keras

    from galview.assets import default_model_path
    from galview.ml.gradcam import explain
    from galview.ml.loading import load_model

    loaded = load_model(default_model_path())
    with np.load(DES, allow_pickle=False) as data:
        cutouts = data["images"]
    maps = {m: explain(loaded, cutouts, method=m, class_index=1) for m in METHODS}
    start = time.perf_counter()
    for _ in range(5):
        explain(loaded, cutouts[:64], class_index=1)
    maps["seconds_per_64"] = np.array((time.perf_counter() - start) / 5)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / f"{keras.backend.backend()}.npz", **maps)
    print(keras.backend.backend(), f"{1000 * float(maps['seconds_per_64']):.1f} ms per 64 cutouts")


def compare(out: Path) -> None:
    reference = np.load(out / "tensorflow.npz")
    for path in sorted(out.glob("*.npz")):
        other = np.load(path)
        parts = []
        for m in METHODS:
            a, b = reference[m], other[m]
            r = [
                np.corrcoef(x.ravel(), y.ravel())[0, 1]
                for x, y in zip(a, b, strict=True)
                if x.std() and y.std()
            ]
            parts.append(f"{m} r min {min(r):.4f}")
        print(f"{path.stem:10s} vs tensorflow: " + ", ".join(parts))


if __name__ == "__main__":
    {"save": save, "compare": compare}[sys.argv[1]](Path(sys.argv[2]))
