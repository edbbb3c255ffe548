"""Axis layouts of cutout stacks and their conversion to (N, H, W, C)."""

from __future__ import annotations

import numpy as np

LAYOUTS = ("NHWC", "NCHW", "NHW")
MAX_BANDS = 16


def detect_layout(shape: tuple[int, ...]) -> str:
    """Guess the layout of a cutout stack from its shape.

    Parameters
    ----------
    shape : tuple of int
        Shape of the stored array, 3-D (N, H, W) or 4-D.

    Returns
    -------
    str
        ``"NHW"`` for 3-D arrays; for 4-D, ``"NHWC"`` when the last axis is the short
        one (at most 16 bands), ``"NCHW"`` when the second axis is.

    Raises
    ------
    ValueError
        If the shape is neither 3-D nor 4-D, or no axis looks like a band axis.
    """
    if len(shape) == 3:
        return "NHW"
    if len(shape) != 4:
        raise ValueError(f"expected a 3-D (N, H, W) or 4-D (N, H, W, C) array, found shape {shape}")
    last_is_band = shape[3] <= MAX_BANDS
    second_is_band = shape[1] <= MAX_BANDS
    if last_is_band and (not second_is_band or shape[3] <= shape[1]):
        return "NHWC"
    if second_is_band:
        return "NCHW"
    raise ValueError(f"no band axis of at most {MAX_BANDS} channels in shape {shape}")


def cutout_shape(shape: tuple[int, ...], layout: str) -> tuple[int, int, int]:
    """(H, W, C) of one cutout in a stack of the given shape and layout."""
    if layout == "NHW":
        if len(shape) != 3:
            raise ValueError(f"layout NHW needs a 3-D array, found shape {shape}")
        return (shape[1], shape[2], 1)
    if len(shape) != 4:
        raise ValueError(f"layout {layout} needs a 4-D array, found shape {shape}")
    if layout == "NHWC":
        return (shape[1], shape[2], shape[3])
    if layout == "NCHW":
        return (shape[2], shape[3], shape[1])
    raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")


def to_nhwc(batch: np.ndarray, layout: str) -> np.ndarray:
    """Return a stored batch as (B, H, W, C), C-contiguous, dtype unchanged."""
    if layout == "NHW":
        return np.ascontiguousarray(batch[..., np.newaxis])
    if layout == "NCHW":
        return np.ascontiguousarray(np.moveaxis(batch, 1, -1))
    return np.ascontiguousarray(batch)
