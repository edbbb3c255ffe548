"""The ``pixel`` similarity space: flattened greyscale pixels, compared by cosine.

The measure of the thesis behind GalView (cosine similarity of flattened greyscale images), with
four options: subtract the sky (the median of the border pixels), normalise the values, keep only a
central square, and compare every band instead of their mean (colour). Cutouts larger than ``max_side``
are shrunk (antialiased) first so that a collection of 424×424 images does not need 180,000 numbers per
cutout.
"""

from __future__ import annotations

import numpy as np

from galview.core.resample import resample

#: How pixel values are normalised after the sky is subtracted.
NORMALISATIONS = ("none", "zscore", "asinh")
#: Longest side of the pixel grid features are taken on (larger cutouts are shrunk to it).
MAX_SIDE = 64


def finite_bands(images: np.ndarray) -> np.ndarray:
    """(N, H, W, C) float32 copy of the cutouts with NaN/inf pixels set to 0: every band kept."""
    x = np.array(images, dtype=np.float32)
    x[~np.isfinite(x)] = 0.0
    return x


def greyscale(images: np.ndarray) -> np.ndarray:
    """(N, H, W, C) → (N, H, W) float32: the mean of the bands; NaN/inf pixels become 0."""
    x = np.asarray(images, dtype=np.float32)
    grey = x[..., 0].copy()
    for band in range(1, x.shape[3]):
        grey += x[..., band]
    if x.shape[3] > 1:
        grey *= np.float32(1 / x.shape[3])
    bad = ~np.isfinite(grey)
    if bad.any():
        grey[bad] = 0.0
    return grey


def central_crop(images: np.ndarray, crop: int | None) -> np.ndarray:
    """The central ``crop``×``crop`` pixels of (N, H, W[, …]) images (each side at most H or W)."""
    if crop is None:
        return images
    h, w = images.shape[1:3]
    ch, cw = min(int(crop), h), min(int(crop), w)
    top, left = (h - ch) // 2, (w - cw) // 2
    return images[:, top : top + ch, left : left + cw]


def feature_grid(
    shape: tuple[int, ...], crop: int | None = None, max_side: int = MAX_SIDE
) -> tuple[int, int]:
    """(h, w) of the grid features are taken on, for cutouts of ``shape`` (H, W, ...)."""
    h, w = (min(int(crop), s) if crop is not None else s for s in shape[:2])
    scale = min(1.0, max_side / max(h, w))
    return max(2, round(h * scale)), max(2, round(w * scale))


def border_median(grey: np.ndarray, width: int = 2) -> np.ndarray:
    """(N, h, w) → (N,): the median of the outermost ``width`` pixels of each image (the sky)."""
    n = len(grey)
    rim = np.concatenate(
        [
            grey[:, :width].reshape(n, -1),
            grey[:, -width:].reshape(n, -1),
            grey[:, width:-width, :width].reshape(n, -1),
            grey[:, width:-width, -width:].reshape(n, -1),
        ],
        axis=1,
    )
    return np.median(rim, axis=1).astype(np.float32)


def normalise(flat: np.ndarray, how: str) -> np.ndarray:
    """Normalise (N, D) sky-subtracted pixel rows: see :data:`NORMALISATIONS`.

    ``"none"`` keeps them (cosine similarity ignores a row's scale anyway); ``"zscore"`` subtracts
    each row's mean and divides by its standard deviation (cosine then is Pearson correlation);
    ``"asinh"`` divides by a robust noise level (1.4826 × the median absolute deviation) and takes
    ``arcsinh``, so that bright cores weigh less against faint extended light.
    """
    if how == "none":
        return flat
    if how == "zscore":
        centred = flat - flat.mean(axis=1, keepdims=True)
        return centred / np.maximum(centred.std(axis=1, keepdims=True), 1e-12)
    if how == "asinh":
        mad = np.median(np.abs(flat - np.median(flat, axis=1, keepdims=True)), axis=1, keepdims=True)
        return np.arcsinh(flat / np.maximum(1.4826 * mad, 1e-12))
    raise ValueError(f"normalisation {how!r}; expected one of {', '.join(NORMALISATIONS)}")


def pixel_features(
    images: np.ndarray,
    background: bool = True,
    normalisation: str = "none",
    crop: int | None = None,
    max_side: int = MAX_SIDE,
    colour: bool = False,
) -> np.ndarray:
    """Pixel features of cutouts.

    Parameters
    ----------
    images : ndarray, (N, H, W, C)
        Cutouts in their own value range.
    background : bool
        Subtract the median of the border pixels (of the cropped, shrunk greyscale image).
    normalisation : str
        One of :data:`NORMALISATIONS`, see :func:`normalise`.
    crop : int, optional
        Side of the central square kept, in the cutouts' pixels.
    max_side : int
        Longest side of the grid the features are taken on.
    colour : bool
        Keep every band (its own sky subtracted) instead of their mean: a blue ring around a red bulge
        is then unlike a grey one.

    Returns
    -------
    ndarray, (N, h·w) float32, or (N, h·w·C) with ``colour``
        Row-major pixels on the :func:`feature_grid`: grey, or with ``colour`` each pixel's bands together.
    """
    images = np.asarray(images)
    planes = finite_bands(images) if colour else greyscale(images)[..., np.newaxis]
    planes = central_crop(planes, crop)
    grid = feature_grid(images.shape[1:], crop, max_side)
    if planes.shape[1:3] != grid:
        planes = resample(planes, grid)
    if background:
        sky = np.stack([border_median(planes[..., band]) for band in range(planes.shape[3])], axis=1)
        planes = planes - sky[:, np.newaxis, np.newaxis, :]
    flat = planes.reshape(len(planes), -1)
    return np.ascontiguousarray(normalise(flat, normalisation), dtype=np.float32)


def pixel_mask(
    mask: np.ndarray,
    shape: tuple[int, ...],
    crop: int | None = None,
    max_side: int = MAX_SIDE,
    colour: bool = False,
) -> np.ndarray:
    """Which pixel features an (H, W) mask touches: (h·w,) bool on the :func:`feature_grid`, or
    (h·w·C,) with ``colour`` (every band of a masked pixel)."""
    cropped = central_crop(mask[np.newaxis].astype(np.float32), crop)
    grid = feature_grid(shape, crop, max_side)
    touched = (resample(cropped[..., np.newaxis], grid)[0, ..., 0] > 1e-3).reshape(-1)
    bands = shape[2] if colour and len(shape) > 2 else 1
    return np.repeat(touched, bands)
