"""Cutouts made comparable, and the random views a contrastive encoder learns from (numpy and SciPy).

:func:`prepare` turns cutouts of any size and flux scale into the encoder's working input: NaN-free
float32, resized to ``size × size`` (area-averaged, then bilinear), and stretched per image so that
the sky sits at 0 and the bright part of the galaxy near 1 whatever the survey's units.
:func:`augment` draws one random view of each prepared cutout with the augmentations of Hayat et al.
2021 and Stein et al. 2021: the 8 symmetries of the square, a small rotation with zoom and shift (a
jittered crop), a Gaussian blur of random width (PSF jitter), Gaussian noise of random level, and
brightness, contrast and colour jitter.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from galview.ml.augment import dihedral

STRETCHES = ("asinh", "linear")
#: ``auto`` chooses per collection: see :func:`choose_stretch`.
AUTO = "auto"
#: The softening of the asinh stretch: 1 on the linear scale (the bright end) stays 1.
ASINH_SOFTENING = 10.0


@dataclass(frozen=True)
class Augmentations:
    """How strongly each view is perturbed (the defaults are those used for every measurement).

    Attributes
    ----------
    max_angle : float
        Degrees of the extra rotation on top of the quarter turns and flips (uniform in ± it).
    max_zoom : float
        Relative zoom, uniform in ``1 ± max_zoom``.
    max_shift : float
        Pixels (working size) of the random shift, uniform in ± it on each axis.
    max_blur : float
        Largest sigma, in working pixels, of the Gaussian PSF jitter (uniform from 0).
    max_noise : float
        Largest standard deviation of the added Gaussian noise, in stretched units (uniform from 0).
    gain, offset, colour : float
        Contrast ``1 ± gain``, brightness ``± offset`` and per-band gain ``1 ± colour`` jitter.
    """

    max_angle: float = 45.0
    max_zoom: float = 0.1
    max_shift: float = 3.0
    max_blur: float = 1.0
    max_noise: float = 0.1
    gain: float = 0.2
    offset: float = 0.1
    colour: float = 0.1

    def to_dict(self) -> dict[str, float]:
        """Plain JSON-ready dict (for the encoder's card)."""
        return {key: float(value) for key, value in asdict(self).items()}


def choose_stretch(stretch: str, dtype: Any) -> str:
    """``stretch``, or for ``auto``: ``linear`` for uint8 cutouts (colours already stretched for the
    eye) and ``asinh`` for fluxes (any other dtype)."""
    if stretch != AUTO:
        return stretch
    return "linear" if np.dtype(dtype) == np.uint8 else "asinh"


def prepare(images: np.ndarray, size: int, stretch: str = "asinh", field: float = 1.0) -> np.ndarray:
    """Resize and stretch cutouts into the encoder's working input.

    Parameters
    ----------
    images : ndarray, shape (B, H, W, C)
        Cutouts of any dtype (uint8 colours or float fluxes); NaN and ±inf count as 0. Not modified.
    size : int
        Side of the working image.
    stretch : {'asinh', 'linear'}
        Per image, the median (the sky) is subtracted and the 99th percentile above it scaled to 1;
        ``asinh`` then compresses bright cores (``asinh(10 x) / asinh(10)``).
    field : float
        Fraction of the cutout's side kept, around its centre, before resizing (1: all of it).

    Returns
    -------
    ndarray, float32, shape (B, size, size, C)
    """
    if stretch not in STRETCHES:
        raise ValueError(f"stretch must be one of {STRETCHES}, got {stretch!r}")
    if not 0 < field <= 1:
        raise ValueError(f"field must be in (0, 1], got {field!r}")
    x = np.nan_to_num(
        np.asarray(centre_crop(images, field), dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0
    )
    x = resize(x, size)
    flat = x.reshape(len(x), -1)
    sky = np.median(flat, axis=1)
    bright = np.percentile(flat, 99, axis=1) - sky
    spread = np.where(bright > 0, bright, 1.0).astype(np.float32)
    x = (x - sky[:, None, None, None]) / spread[:, None, None, None]
    if stretch == "asinh":
        x = np.arcsinh(ASINH_SOFTENING * x) / np.float32(np.arcsinh(ASINH_SOFTENING))
    return x.astype(np.float32, copy=False)


def centre_crop(images: np.ndarray, field: float) -> np.ndarray:
    """The central ``field`` fraction of each side of a (B, H, W, C) batch (a view, at least 2×2 pixels)."""
    h, w = images.shape[1:3]
    keep_h, keep_w = max(2, round(h * field)), max(2, round(w * field))
    top, left = (h - keep_h) // 2, (w - keep_w) // 2
    return images[:, top : top + keep_h, left : left + keep_w]


def resize(x: np.ndarray, size: int) -> np.ndarray:
    """Resize a (B, H, W, C) float32 batch to (B, size, size, C): mean over whole blocks, then bilinear."""
    factor = min(x.shape[1], x.shape[2]) // size
    if factor > 1:
        h, w = x.shape[1] // factor, x.shape[2] // factor
        x = x[:, : h * factor, : w * factor].reshape(len(x), h, factor, w, factor, -1).mean(axis=(2, 4))
    if x.shape[1:3] == (size, size):
        return np.ascontiguousarray(x, dtype=np.float32)
    zoom = (1, size / x.shape[1], size / x.shape[2], 1)
    from scipy import ndimage  # imported here: galview.ml imports with numpy, h5py and Keras alone

    out = ndimage.zoom(x, zoom, order=1, mode="nearest", grid_mode=True)
    return out[:, :size, :size].astype(np.float32, copy=False)


def augment(batch: np.ndarray, rng: np.random.Generator, settings: Augmentations | None = None) -> np.ndarray:
    """One random view of each prepared cutout.

    Parameters
    ----------
    batch : ndarray, float32, shape (B, S, S, C)
        Output of :func:`prepare`; not modified.
    rng : numpy.random.Generator
    settings : Augmentations, optional

    Returns
    -------
    ndarray, float32, shape (B, S, S, C)
    """
    settings = settings or Augmentations()
    x = dihedral(batch, rng.integers(0, 8, len(batch)))
    x = _warp(x, rng, settings)
    x = np.stack([_blur(image, rng.uniform(0, settings.max_blur)) for image in x])
    x = x + rng.normal(size=x.shape).astype(np.float32) * rng.uniform(
        0, settings.max_noise, (len(x), 1, 1, 1)
    )
    return _intensity_jitter(x, rng, settings).astype(np.float32, copy=False)


def _warp(x: np.ndarray, rng: np.random.Generator, settings: Augmentations) -> np.ndarray:
    """Rotate each (S, S, C) image of a batch by a small random angle, zoom and shift it.

    Bilinear, with edges reflected as SciPy's ``mode="reflect"``; vectorised over the batch.
    """
    n, h, w = x.shape[:3]
    angle = np.deg2rad(rng.uniform(-settings.max_angle, settings.max_angle, (n, 1, 1)))
    zoom = rng.uniform(1 - settings.max_zoom, 1 + settings.max_zoom, (n, 1, 1))
    shift = rng.uniform(-settings.max_shift, settings.max_shift, (2, n, 1, 1))
    cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    yy, xx = yy - (h - 1) / 2, xx - (w - 1) / 2
    rows = _reflect(cos * yy - sin * xx + (h - 1) / 2 + shift[0], h)
    cols = _reflect(sin * yy + cos * xx + (w - 1) / 2 + shift[1], w)
    return _bilinear(x, rows, cols)


def _reflect(coordinate: np.ndarray, size: int) -> np.ndarray:
    """Coordinates folded back into ``[0, size - 1]`` by half-sample symmetric reflection."""
    folded = np.mod(coordinate + 0.5, 2 * size)
    folded = np.where(folded > size, 2 * size - folded, folded) - 0.5
    return np.clip(folded, 0, size - 1)


def _bilinear(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sample a (B, H, W, C) batch at (B, H, W) fractional ``rows`` and ``cols``."""
    r0, c0 = np.floor(rows).astype(np.intp), np.floor(cols).astype(np.intp)
    r1, c1 = np.minimum(r0 + 1, x.shape[1] - 1), np.minimum(c0 + 1, x.shape[2] - 1)
    wr, wc = (rows - r0)[..., None].astype(np.float32), (cols - c0)[..., None].astype(np.float32)
    b = np.arange(len(x))[:, None, None]
    top = x[b, r0, c0] * (1 - wc) + x[b, r0, c1] * wc
    bottom = x[b, r1, c0] * (1 - wc) + x[b, r1, c1] * wc
    return top * (1 - wr) + bottom * wr


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of one (S, S, C) image across its two spatial axes."""
    if sigma < 0.05:
        return image
    from scipy import ndimage

    return ndimage.gaussian_filter(image, sigma=(sigma, sigma, 0), mode="reflect")


def _intensity_jitter(x: np.ndarray, rng: np.random.Generator, settings: Augmentations) -> np.ndarray:
    """Contrast, brightness and per-band colour jitter of a (B, S, S, C) batch."""
    n, channels = len(x), x.shape[-1]
    gain = rng.uniform(1 - settings.gain, 1 + settings.gain, (n, 1, 1, 1))
    colour = rng.uniform(1 - settings.colour, 1 + settings.colour, (n, 1, 1, channels))
    offset = rng.uniform(-settings.offset, settings.offset, (n, 1, 1, 1))
    return x * (gain * colour).astype(np.float32) + offset.astype(np.float32)
