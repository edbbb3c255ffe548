"""The Legacy Survey viewer's uint8 colours of g/r/z fluxes: what the shipped model was trained on.

One function, :func:`viewer_rgb`, used by the simulator (:mod:`galview.sim.scene`, which draws its
training cutouts through it) and by the physical adapter (:mod:`galview.ml.physical`, which brings a
survey's FITS fluxes to the same representation). The colour mapping itself is
:func:`galview.core.display.legacy_rgb`, the one the display's ``legacy`` colour method draws.
"""

from __future__ import annotations

import io

import numpy as np

from galview.core.display import legacy_rgb

#: JPEG quality of the simulator's default round trip (its cutouts draw 75–95 at random).
JPEG_QUALITY = 90


RESAMPLING = ("bicubic", "bilinear", "lanczos", "box")
"""Resize filters the simulator draws from (cutout services differ); bicubic is the default."""


def viewer_rgb(
    fluxes: np.ndarray,
    bands,
    size: int,
    jpeg_quality: int | None = JPEG_QUALITY,
    resample: str = "bicubic",
) -> np.ndarray:
    """Fluxes → the sky viewer's colour JPEG, resized: ``(size, size, 3)`` uint8.

    Parameters
    ----------
    fluxes : ndarray, shape (n, n, C), float
        Flux per pixel in nanomaggies, at the resolution the colours are made at (the simulator's
        native 0.263″ pixels), bands named by ``bands``.
    bands : sequence of str
        Band names (``g``, ``r``, ``z`` …): :func:`~galview.core.display.legacy_rgb` weights them.
    size : int
        Side of the output in pixels (bicubic resize of the colour image, as the viewer's cutouts).
    jpeg_quality : int or None
        Quality of a JPEG round trip before the resize (the real viewer cutouts are JPEGs); None for none.
    resample : {'bicubic', 'bilinear', 'lanczos', 'box'}
        The resize filter.

    Returns
    -------
    ndarray, shape (size, size, 3), uint8
    """
    return viewer_image(legacy_rgb(fluxes, bands), size, jpeg_quality, resample)


def viewer_rgb_batch(
    fluxes: np.ndarray, bands, size: int, jpeg_quality: int | None = JPEG_QUALITY
) -> np.ndarray:
    """:func:`viewer_rgb` of each of (B, n, n, C) fluxes, the colour mapping done for the whole batch at
    once (the same numbers): (B, size, size, 3) uint8."""
    colours = legacy_rgb(fluxes, bands)
    return np.stack([viewer_image(rgb, size, jpeg_quality) for rgb in colours])


def viewer_image(
    rgb: np.ndarray, size: int, jpeg_quality: int | None = JPEG_QUALITY, resample: str = "bicubic"
):
    """(n, n, 3) colours in [0, 1] → the viewer's uint8 cutout: a JPEG round trip, then the resize."""
    from PIL import Image

    image = Image.fromarray(np.round(rgb * 255).astype(np.uint8))
    if jpeg_quality:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=int(jpeg_quality))
        buffer.seek(0)
        image = Image.open(buffer).convert("RGB")
    if resample not in RESAMPLING:
        raise ValueError(f"unknown resize filter {resample!r}; expected one of {RESAMPLING}")
    return np.asarray(image.resize((int(size), int(size)), Image.Resampling[resample.upper()]))
