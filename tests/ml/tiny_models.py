"""A tiny binary classifier and a tiny learnable collection for retraining tests (seconds, not minutes)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from galview.ml.architectures import ArchitectureSpec, Recipe
from galview.ml.cards import InputSpec, ModelCard

SHAPE = (16, 16, 3)


def tiny_network(input_shape=SHAPE, n_outputs: int = 1):
    """Conv 4 → BatchNorm → MaxPool 4 → Flatten → Dense 8 → Dense ``n_outputs`` (a flat graph)."""
    import keras

    inputs = keras.Input(shape=input_shape, name="cutout")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.MaxPooling2D(4, name="pool1")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(8, activation="relu", name="dense")(x)
    activation = "sigmoid" if n_outputs == 1 else "softmax"
    outputs = keras.layers.Dense(n_outputs, activation=activation, name="probability")(x)
    return keras.Model(inputs, outputs, name="tiny")


#: Registered in tests (monkeypatch ARCHITECTURES) so that ``scratch`` builds a tiny network too.
TINY_SPEC = ArchitectureSpec(
    "tiny", tiny_network, "binary", SHAPE, ("artifact", "LSBG"), "conv1",
    Recipe("adam", 1e-2, "binary_crossentropy", batch_size=8, epochs=2, patience=2),
    default_bands=("R", "G", "B"), default_dtype="uint8", default_scale="divide255",
)  # fmt: skip


def save_tiny_model(path: Path, seed: int = 0):
    """Save an untrained tiny model with its card at ``path`` (``.keras``); the LoadedModel."""
    import keras

    from galview.ml.loading import save_model

    keras.utils.set_random_seed(seed)
    card = ModelCard(
        architecture="tiny",
        task="binary",
        class_names=("artifact", "LSBG"),
        input=InputSpec(SHAPE, ("R", "G", "B"), "uint8", "divide255"),
        explain_layer="conv1",
    )
    return save_model(tiny_network(), card, path)


def blobs(path: Path, n: int = 40, seed: int = 0) -> Path:
    """Label 1: a bright central blob; label 0: a blob in a corner. 16×16×3 uint8 in an ``.npz``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:16, 0:16]
    images = rng.normal(40, 6, (n, *SHAPE))
    labels = (np.arange(n) % 2).astype(np.int8)
    for i, label in enumerate(labels):
        cx, cy = (7.5, 7.5) if label else rng.choice([2.0, 13.0], 2)
        images[i] += 150 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 6.0)[..., None]
    np.savez(path, images=np.clip(images, 0, 255).astype(np.uint8), labels=labels)
    return path


def blob_pngs(folder: Path, damaged: int = 2, n: int = 40) -> tuple[Path, np.ndarray]:
    """:func:`blobs` as a folder of PNGs whose image ``damaged`` is cut in half; the folder and labels."""
    from PIL import Image

    folder.mkdir()
    with np.load(blobs(folder.with_suffix(".npz"), n)) as data:
        images, labels = data["images"], data["labels"].astype(np.int64)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"c{i:03d}.png")
    whole = (folder / f"c{damaged:03d}.png").read_bytes()
    (folder / f"c{damaged:03d}.png").write_bytes(whole[: len(whole) // 2])
    return folder, labels


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
