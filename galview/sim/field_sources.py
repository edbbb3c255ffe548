"""The small sources around a candidate: how many, how sharp and how red (simulator realism, issue 14).

A real 30″ DES cutout shows a handful of faint stars and distant galaxies around the candidate, most of
them barely resolved and reddish. Simulator v7 drew about 60% as many, broader and bluer; the realism
statistics of :mod:`galview.sim.realism` did not see it. These functions measure it on display-domain
``(N, H, W, 3)`` RGB cutouts (grey levels 0–255), the candidate's central box left out.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

CENTRE_HALF = 12  # half-side (px) of the central box left out: the candidate itself
EDGE = 6  # width (px) of the border ring that gives the sky's noise
LOCAL = 9  # side (px) of the running median a source is measured against
COUNT_CONTRAST = 5.0  # a source counts when its peak rises this many noise sigmas above the local median
SHAPE_CONTRAST = 8.0  # brighter sources only for sharpness and colour: the faint ones are noise-dominated
NOISE_FLOOR = 0.5  # grey levels: flat images have no noise to scale by


def _grey_and_noise(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Channel-mean images ``(N, H, W)`` and each one's border-ring noise (robust sigma, at least the floor)."""
    grey = np.asarray(images, np.float32).mean(axis=3)
    height, width = grey.shape[1:]
    yy, xx = np.indices((height, width))
    border = np.minimum.reduce([yy, xx, height - 1 - yy, width - 1 - xx]) < EDGE
    ring = grey[:, border]
    mad = np.median(np.abs(ring - np.median(ring, axis=1, keepdims=True)), axis=1)
    return grey, np.maximum(1.4826 * mad, NOISE_FLOOR)


def _peaks(grey: np.ndarray, noise: float, contrast: float, smooth: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of the local maxima outside the central box that rise ``contrast`` σ over the local median."""
    height, width = grey.shape
    image = ndimage.uniform_filter(grey, smooth) if smooth > 1 else grey
    local = ndimage.median_filter(grey, LOCAL)
    yy, xx = np.indices((height, width))
    outside = (np.abs(yy - (height - 1) / 2) > CENTRE_HALF) | (np.abs(xx - (width - 1) / 2) > CENTRE_HALF)
    inside_frame = (yy >= 2) & (yy < height - 2) & (xx >= 2) & (xx < width - 2)
    maxima = image == ndimage.maximum_filter(image, 5)
    rows, cols = np.nonzero(maxima & outside & inside_frame & ((image - local) / noise > contrast))
    return rows, cols


def field_source_counts(images: np.ndarray, contrast: float = COUNT_CONTRAST) -> np.ndarray:
    """How many small sources lie around the candidate of each cutout, ``(N,)`` integers.

    A source is a local maximum of the 3×3-smoothed grey image, outside the central 25×25 px, rising
    ``contrast`` times the border's noise above the 9×9 running median (so a halo's slope is not a source).
    """
    grey, noise = _grey_and_noise(images)
    return np.array([len(_peaks(g, s, contrast, smooth=3)[0]) for g, s in zip(grey, noise, strict=True)])


def field_source_shapes(images: np.ndarray, contrast: float = SHAPE_CONTRAST) -> dict[str, np.ndarray]:
    """Sharpness and colour of every bright small source around the candidates, pooled over the cutouts.

    Returns
    -------
    dict
        ``sharpness``: the mean light 2 px from the source's peak pixel, as a share of the peak (both above
        the local median; small = sharp, an unresolved star at good seeing gives ~0.1); ``redness``: red
        minus blue channel at the peak, as a share of the peak. One value per source.
    """
    data = np.asarray(images, np.float32)
    grey, noise = _grey_and_noise(data)
    sharpness, redness = [], []
    for image, rgb, sigma in zip(grey, data, noise, strict=True):
        local = ndimage.median_filter(image, LOCAL)
        for r, c in zip(*_peaks(image, sigma, contrast, smooth=1), strict=True):
            peak = image[r, c] - local[r, c]
            ring = (
                image[r - 2 : r + 3, c - 2 : c + 3].sum() - image[r - 1 : r + 2, c - 1 : c + 2].sum()
            ) / 16
            sharpness.append((ring - local[r, c]) / peak)
            redness.append((rgb[r, c, 0] - rgb[r, c, 2]) / max(peak, 1.0))
    return {"sharpness": np.array(sharpness), "redness": np.array(redness)}


def field_source_line(name: str, images: np.ndarray) -> str:
    """One markdown row: mean count per cutout and the median sharpness and redness of the sources."""
    counts = field_source_counts(images)
    shapes = field_source_shapes(images)
    if not len(shapes["sharpness"]):
        return f"| {name} | {counts.mean():.2f} | – | – | 0 |"
    return (
        f"| {name} | {counts.mean():.2f} | {np.median(shapes['sharpness']):.2f} "
        f"| {np.median(shapes['redness']):.2f} | {len(shapes['sharpness'])} |"
    )
