"""Colour maps for heat maps (no matplotlib): anchor colours interpolated linearly, and overlays.

The anchors are matplotlib's maps sampled at nine evenly spaced points (inferno, viridis, magma) and
a blue→red "jet"-like ramp, enough for a smooth 256-entry lookup table.
"""

from __future__ import annotations

import numpy as np

_ANCHORS: dict[str, list[tuple[int, int, int]]] = {
    "inferno": [
        (0, 0, 4), (31, 12, 72), (85, 15, 109), (136, 34, 106), (186, 54, 85),
        (227, 89, 51), (249, 140, 10), (249, 201, 50), (252, 255, 164),
    ],
    "viridis": [
        (68, 1, 84), (71, 45, 123), (59, 82, 139), (44, 114, 142), (33, 145, 140),
        (40, 174, 128), (94, 201, 98), (173, 220, 48), (253, 231, 37),
    ],
    "magma": [
        (0, 0, 4), (28, 16, 68), (79, 18, 123), (129, 37, 129), (181, 54, 122),
        (229, 80, 100), (251, 135, 97), (254, 194, 135), (252, 253, 191),
    ],
    "jet": [
        (0, 0, 128), (0, 0, 255), (0, 128, 255), (0, 255, 255), (128, 255, 128),
        (255, 255, 0), (255, 128, 0), (255, 0, 0), (128, 0, 0),
    ],
    "grey": [(0, 0, 0), (255, 255, 255)],
}  # fmt: skip

#: Names of the available colour maps, the default first.
COLORMAPS: tuple[str, ...] = tuple(_ANCHORS)


def lookup_table(name: str = "inferno", size: int = 256) -> np.ndarray:
    """A (size, 3) uint8 table for colour map ``name``; ValueError for an unknown name."""
    if name not in _ANCHORS:
        raise ValueError(f"unknown colour map {name!r}; expected one of {', '.join(COLORMAPS)}")
    anchors = np.asarray(_ANCHORS[name], np.float32)
    positions = np.linspace(0.0, 1.0, len(anchors))
    t = np.linspace(0.0, 1.0, size)
    table = np.stack([np.interp(t, positions, anchors[:, c]) for c in range(3)], axis=1)
    return np.rint(table).astype(np.uint8)


#: Heat below this fraction of the peak fades out of an overlay (alpha ramps from 0 up to it).
FADE = 0.5


def overlay_alpha(heat: np.ndarray) -> np.ndarray:
    """Per-pixel weight of an overlay, in [0, 1]: cold parts of the map leave the cutout visible."""
    return np.clip(np.nan_to_num(np.asarray(heat, np.float32), nan=0.0) / FADE, 0.0, 1.0)


def rgba_table(name: str = "inferno", size: int = 256) -> np.ndarray:
    """A (size, 4) uint8 table: :func:`lookup_table` with the :func:`overlay_alpha` ramp as alpha."""
    alpha = np.rint(255 * overlay_alpha(np.linspace(0.0, 1.0, size))).astype(np.uint8)
    return np.column_stack([lookup_table(name, size), alpha])


def colourise(heat: np.ndarray, name: str = "inferno") -> np.ndarray:
    """Values in [0, 1], shape (...), → colours (..., 3) uint8; NaN shows as 0."""
    table = lookup_table(name)
    t = np.nan_to_num(np.clip(np.asarray(heat, np.float32), 0.0, 1.0), nan=0.0)
    return table[np.rint(t * (len(table) - 1)).astype(np.intp)]


def blend(rgb: np.ndarray, heat: np.ndarray, opacity: float = 0.5, name: str = "inferno") -> np.ndarray:
    """The colourised heat map (H, W) over an (H, W, 3) uint8 image of the same size.

    Each pixel's weight is ``opacity × overlay_alpha(heat)``: where the map is cold the cutout shows.
    """
    if heat.shape != rgb.shape[:2]:
        raise ValueError(f"heat map {heat.shape} and image {rgb.shape[:2]} differ in size")
    colour = colourise(heat, name).astype(np.float32)
    weight = (opacity * overlay_alpha(heat))[..., None]
    mixed = (1.0 - weight) * rgb.astype(np.float32) + weight * colour
    return np.rint(mixed).astype(np.uint8)
