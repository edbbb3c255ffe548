"""Diagnostics of shortcut learning: does a classifier need the galaxy, and does its Grad-CAM look at it?

Two measurements, both free of real labels:

- :func:`context_shortcut_auc` — a small CNN is trained on cutouts whose centre is hidden
  (:func:`mask_centre`); if it still separates the classes, the labels can be read from the
  surroundings, and a model trained on these cutouts may learn the surroundings instead of the galaxy.
- :func:`centrality` — where Grad-CAM maps peak: the fraction of maps whose maximum lies within a
  radius of the cutout centre, where the candidate is.

Importable with numpy and Keras alone (no SciPy, astropy or Qt), like the rest of :mod:`galview.ml`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.ml.metrics import roc_auc

MASK_SIZE = 16
"""Side in pixels of the hidden central square (a quarter of a 64-pixel cutout's side)."""
CENTRE_RADIUS = 16.0
"""A map "looks at the candidate" when its peak lies within this many pixels of the centre."""


def mask_centre(images: np.ndarray, size: int = MASK_SIZE) -> np.ndarray:
    """Copy of ``images`` (N, H, W, C) with the central ``size``×``size`` square hidden.

    The square is filled with each cutout's own background, the median per channel of a 4-pixel
    border, so neither the light at the centre nor a tell-tale constant is left for a classifier.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"expected cutouts (N, H, W, C), got shape {images.shape}")
    out = images.copy()
    height, width = images.shape[1:3]
    border = np.ones((height, width), bool)
    border[4:-4, 4:-4] = False
    level = np.median(images[:, border, :].astype(np.float32), axis=1)  # (N, C)
    top, left = (height - size) // 2, (width - size) // 2
    out[:, top : top + size, left : left + size, :] = level[:, None, None, :].astype(images.dtype)
    return out


@dataclass(frozen=True)
class ShortcutResult:
    """Held-out ROC AUC of the small CNN with the centre hidden, and with the whole cutout for reference."""

    masked_auc: float
    full_auc: float
    n_train: int
    n_test: int
    mask_size: int


def small_cnn(shape: tuple[int, int, int], seed: int = 0):
    """Three convolution blocks and a sigmoid unit: enough to find a shortcut, quick to train on a CPU."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape)
    x = inputs
    for filters in (16, 32, 64):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    pooled = keras.layers.Concatenate()(
        [keras.layers.GlobalAveragePooling2D()(x), keras.layers.GlobalMaxPooling2D()(x)]
    )
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(32, activation="relu")(pooled))
    model = keras.Model(inputs, outputs, name="shortcut_probe")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


def _held_out_auc(train_x, train_y, test_x, test_y, epochs: int, seed: int) -> float:
    model = small_cnn(train_x.shape[1:], seed)
    model.fit(train_x, train_y, batch_size=64, epochs=epochs, verbose=0, shuffle=True)
    return roc_auc(test_y, model.predict(test_x, batch_size=256, verbose=0)[:, 0])


def context_shortcut_auc(
    images: np.ndarray,
    labels: np.ndarray,
    size: int = MASK_SIZE,
    epochs: int = 8,
    test_fraction: float = 0.25,
    seed: int = 0,
    with_full: bool = True,
) -> ShortcutResult:
    """How well can the surroundings alone tell the classes apart?

    Parameters
    ----------
    images : ndarray, (N, H, W, C)
        uint8 cutouts (scaled by 1/255) or floats (used as they are).
    labels : ndarray of {0, 1}
    size : int
        Side of the hidden central square (:func:`mask_centre`).
    epochs, test_fraction, seed
        The small CNN's training (Adam, batch 64) on a stratified split.
    with_full : bool
        Also train on whole cutouts, the reference for what the same CNN reaches with the centre.

    Returns
    -------
    ShortcutResult
        ``masked_auc`` near 0.5: the surroundings say nothing about the label (goal ≤ 0.6).
    """
    labels = np.asarray(labels).astype(np.float32)
    if set(np.unique(labels)) != {0.0, 1.0}:
        raise ValueError("labels must hold both classes, 0 and 1")
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), bool)
    for value in (0.0, 1.0):
        members = np.flatnonzero(labels == value)
        test[rng.choice(members, max(1, int(round(len(members) * test_fraction))), replace=False)] = True
    scale = 1 / 255 if np.asarray(images).dtype == np.uint8 else 1.0
    masked = mask_centre(images, size).astype(np.float32) * scale
    masked_auc = _held_out_auc(masked[~test], labels[~test], masked[test], labels[test], epochs, seed)
    full_auc = float("nan")
    if with_full:
        full = np.asarray(images, np.float32) * scale
        full_auc = _held_out_auc(full[~test], labels[~test], full[test], labels[test], epochs, seed)
    return ShortcutResult(float(masked_auc), float(full_auc), int((~test).sum()), int(test.sum()), size)


def peak_distances(maps: np.ndarray) -> np.ndarray:
    """Distance in pixels from each map's maximum to the cutout centre; NaN for an all-zero map."""
    maps = np.asarray(maps, np.float32)
    n, height, width = maps.shape
    if n == 0:
        return np.zeros(0)
    flat = maps.reshape(n, -1)
    rows, cols = np.divmod(flat.argmax(axis=1), width)
    distances = np.hypot(rows - (height - 1) / 2, cols - (width - 1) / 2)
    return np.where(flat.max(axis=1) > 0, distances, np.nan)


@dataclass(frozen=True)
class Centrality:
    """Where the maps of confident positive predictions peak."""

    fraction: float
    """Maps peaking within ``radius`` of the centre, over all confident ones (flat maps count as not central)."""
    n_confident: int
    n_flat: int
    """Confident predictions whose map is all zeros (no positive evidence)."""
    median_distance: float
    radius: float


def centrality(
    maps: np.ndarray, probs: np.ndarray, threshold: float = 0.8, radius: float = CENTRE_RADIUS
) -> Centrality:
    """Fraction of the maps of cutouts with ``probs > threshold`` that peak within ``radius`` px of the centre."""
    probs = np.asarray(probs, np.float64)
    chosen = probs > threshold
    distances = peak_distances(np.asarray(maps)[chosen])
    n = int(chosen.sum())
    central = int(np.sum(distances <= radius))  # NaN (flat) compares False
    finite = distances[np.isfinite(distances)]
    return Centrality(
        fraction=central / n if n else float("nan"),
        n_confident=n,
        n_flat=int(np.isnan(distances).sum()),
        median_distance=float(np.median(finite)) if finite.size else float("nan"),
        radius=radius,
    )
