"""Resampling of images to another pixel grid in pure numpy (no SciPy, no Pillow in ``core``).

A separable linear (triangle) filter whose support widens by the scale factor when shrinking, so
that shrinking averages every input pixel (antialiased, like Pillow's bilinear ``reduce``) and
enlarging interpolates linearly between pixel centres. Each axis is one small matrix product.
"""

from __future__ import annotations

import numpy as np


def resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The (n_out, n_in) float32 matrix taking ``n_in`` samples to ``n_out`` (rows sum to 1).

    Pixel centres are aligned (edge to edge): output pixel ``j`` sits at input coordinate
    ``(j + 0.5) * n_in / n_out - 0.5``.
    """
    if n_in < 1 or n_out < 1:
        raise ValueError(f"cannot resample {n_in} samples to {n_out}")
    if n_in == n_out:
        return np.eye(n_in, dtype=np.float32)
    scale = n_in / n_out
    support = max(scale, 1.0)  # the triangle's half-width in input pixels
    centres = (np.arange(n_out) + 0.5) * scale - 0.5
    distance = np.abs(np.arange(n_in)[np.newaxis, :] - centres[:, np.newaxis]) / support
    weights = np.clip(1.0 - distance, 0.0, None)
    empty = weights.sum(axis=1) == 0  # enlarging: an output centre beyond the outermost input centre
    if empty.any():
        nearest = np.clip(np.rint(centres[empty]), 0, n_in - 1).astype(np.int64)
        weights[np.flatnonzero(empty), nearest] = 1.0
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def resample(images: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Images resampled to ``shape`` (h, w).

    Parameters
    ----------
    images : ndarray, (H, W), (H, W, C) or (N, H, W, C)
    shape : (int, int)
        Output height and width.

    Returns
    -------
    ndarray, float32, the input's layout with (H, W) replaced by ``shape``
    """
    x = np.asarray(images, dtype=np.float32)
    h, w = (int(v) for v in shape)
    if x.ndim == 2:
        return resample(x[..., np.newaxis], shape)[..., 0]
    if x.ndim == 3:
        return resample(x[np.newaxis], shape)[0]
    if x.ndim != 4:
        raise ValueError(f"expected (H, W), (H, W, C) or (N, H, W, C) images, got shape {x.shape}")
    if x.shape[1:3] == (h, w):
        return x.copy()
    n, height, width, c = x.shape
    rows = resample_matrix(height, h)
    cols = resample_matrix(width, w)
    # One band at a time as a contiguous (N·C, H, W) stack: two plain BLAS products per image.
    planes = x[..., 0] if c == 1 else x.transpose(0, 3, 1, 2)
    planes = np.ascontiguousarray(planes).reshape(n * c, height, width)
    shrunk = np.matmul(rows, planes).reshape(n * c * h, width) @ cols.T
    out = shrunk.reshape(n, c, h, w)
    return out[:, 0, :, :, np.newaxis] if c == 1 else np.ascontiguousarray(out.transpose(0, 2, 3, 1))
