"""A reference image brought to a collection's cutouts: grid, bands, values and a mask, step by step.

An external reference (the dwarf LEDA 074886 as a 50×50 single-band FITS image, a PNG, an array)
rarely matches the collection it is compared with. :func:`prepare_reference` masks what should not
count (non-finite pixels, a centre disc the user names), fills the masked pixels from their
neighbours, resamples to the cutouts' height and width, matches the bands and, for uint8 cutouts,
the value range. Every step it takes is recorded as one human-readable line ("resampled 50×50 →
64×64"), which the command line prints and the window shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.core.errors import UserFacingError
from galview.core.resample import resample

#: A reference needs at least this fraction of finite pixels.
MIN_FINITE = 0.5


@dataclass(frozen=True)
class PreparedReference:
    """A reference ready to compare with a collection's cutouts.

    Attributes
    ----------
    name : str
        What it is called in titles and messages ("leda074886_50px", "cutout 12 (J0039…)").
    image : ndarray, (H, W, C) float32
        The collection's cutout shape, in the collection's value range; masked pixels filled.
    mask : ndarray, (H, W) bool, or None
        Pixels left out of comparisons that can leave them out (the pixel space); None: none.
    steps : tuple of str
        What was done to the image, in order; empty for a cutout of the collection.
    index : int or None
        The cutout's index when the reference is a cutout of the collection.
    """

    name: str
    image: np.ndarray
    mask: np.ndarray | None = None
    steps: tuple[str, ...] = ()
    index: int | None = None


def cutout_reference(cutout: np.ndarray, index: int, name: str) -> PreparedReference:
    """A cutout of the collection itself as a reference (nothing to prepare)."""
    return PreparedReference(name, np.asarray(cutout, dtype=np.float32), index=int(index))


def centre_mask(shape: tuple[int, int], radius: float) -> np.ndarray:
    """(H, W) bool: pixels whose centre lies within ``radius`` pixels of the image centre."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    return np.hypot(yy - (h - 1) / 2, xx - (w - 1) / 2) <= radius


def fill_masked(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``image`` (H, W, C) with masked pixels filled from their neighbours, layer by layer inwards.

    Each pass gives every masked pixel that touches a known one (8-neighbourhood) the mean of its
    known neighbours; passes repeat until nothing is masked (a hole of radius r takes about r).
    """
    out = np.where(mask[..., np.newaxis], 0.0, image).astype(np.float32)
    known = ~mask
    while not known.all():
        total = np.zeros_like(out)
        count = np.zeros(known.shape, dtype=np.float32)
        padded, pknown = np.pad(out, ((1, 1), (1, 1), (0, 0))), np.pad(known, 1)
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                shifted = pknown[dy : dy + known.shape[0], dx : dx + known.shape[1]]
                total += padded[dy : dy + known.shape[0], dx : dx + known.shape[1]] * shifted[..., None]
                count += shifted
        fill = ~known & (count > 0)
        out[fill] = total[fill] / count[fill][:, np.newaxis]
        known = known | fill
    return out


def prepare_reference(
    image: np.ndarray,
    name: str,
    shape: tuple[int, int, int],
    dtype,
    bands: tuple[str, ...] = (),
    mask_centre: float | None = None,
    source=None,
    scale: float | None = None,
    cutout_scale: float | None = None,
) -> PreparedReference:
    """Bring an external reference image to a collection's cutouts.

    With the pixel scale of both known (``scale``, ``cutout_scale``), the reference keeps its size on the
    sky: it is resampled to the cutouts' pixel scale, then its centre is cut to the cutouts' size (or,
    when it covers less sky than a cutout, it is padded and the padding masked). Otherwise it is
    resampled to the cutouts' size in pixels, and the step says the scale was unknown.

    Parameters
    ----------
    image : ndarray, (h, w) or (h, w, c)
        The reference as read; NaN and ±inf pixels are masked.
    name : str
        Its name (the file's stem); also the "file" of error messages.
    shape : (H, W, C)
        The collection's cutout shape.
    dtype : numpy dtype
        The collection's pixel type: uint8 collections get the reference stretched to 0–255
        (unless it is uint8 already); float collections keep its values.
    bands : tuple of str
        The collection's band names (for the step text).
    mask_centre : float, optional
        Radius in the reference's own pixels of a centre disc to mask (LEDA 074886's hole).
    source : str or Path, optional
        The file it came from, named by error messages (default: ``name``).
    scale, cutout_scale : float, optional
        Arcseconds per pixel of the reference and of the collection's cutouts, where a WCS says
        (:func:`galview.core.sky_scale.arcsec_per_pixel`).

    Returns
    -------
    PreparedReference

    Raises
    ------
    UserFacingError
        Naming ``source``: not a 2-D or 3-D image, too few finite pixels, a negative radius.
    """
    where = name if source is None else source
    x = _as_hwc(image, where)
    steps: list[str] = []
    mask = _mask(x, where, mask_centre, steps)
    if mask is not None:
        x = fill_masked(x, mask)
    if _known(scale) and _known(cutout_scale):
        x, mask = _on_the_cutouts_sky(x, mask, float(scale), float(cutout_scale), shape, steps)
    else:
        x, mask = _to_the_cutouts_size(x, mask, shape, steps, scale, cutout_scale)
    x = _match_bands(x, shape[2], bands, steps)
    x = _match_values(x, np.dtype(np.asarray(image).dtype), np.dtype(dtype), steps)
    if mask is not None:
        steps.append(f"{int(mask.sum())} masked pixels left out of pixel comparisons (filled for the others)")
    return PreparedReference(name, x, mask if mask is not None and mask.any() else None, tuple(steps))


def _known(scale) -> bool:
    return scale is not None and bool(np.isfinite(scale)) and scale > 0


def _to_the_cutouts_size(x, mask, shape, steps, scale=None, cutout_scale=None):
    """Resample ``x`` (and ``mask``) to the cutouts' height and width in pixels."""
    h, w = x.shape[:2]
    if (h, w) == tuple(shape[:2]):
        return x, mask
    x = resample(x, shape[:2])
    text = f"resampled {h}×{w} → {shape[0]}×{shape[1]}" + _aspect_note((h, w), shape[:2])
    unknown = [
        what
        for what, value in (("the reference's", scale), ("the cutouts'", cutout_scale))
        if not _known(value)
    ]
    if len(unknown) < 2:  # one is known: say which is not, so the user knows the field may differ
        text += f" ({unknown[0]} pixel scale unknown: the fields may differ on the sky)"
    steps.append(text)
    if mask is not None:
        mask = resample(mask.astype(np.float32), shape[:2]) >= 0.5
    return x, mask


def _on_the_cutouts_sky(x, mask, scale: float, cutout_scale: float, shape, steps):
    """Resample ``x`` to ``cutout_scale`` ″/px keeping its size on the sky, then cut or pad to ``shape``."""
    h, w = x.shape[:2]
    if abs(scale / cutout_scale - 1) > 0.01:
        size = (max(2, round(h * scale / cutout_scale)), max(2, round(w * scale / cutout_scale)))
        x = resample(x, size)
        if mask is not None:
            mask = resample(mask.astype(np.float32), size) >= 0.5
        steps.append(
            f"resampled from {scale:.3g}″ to {cutout_scale:.3g}″ per pixel: {h}×{w} → {size[0]}×{size[1]}"
        )
    out_h, out_w = int(shape[0]), int(shape[1])
    h, w = x.shape[:2]
    if (h, w) == (out_h, out_w):
        return x, mask
    keep = np.zeros((out_h, out_w), dtype=bool)
    out = np.zeros((out_h, out_w, x.shape[2]), dtype=np.float32)
    top, left = (out_h - h) // 2, (out_w - w) // 2  # negative: the reference is larger, cut its centre
    src = (
        slice(max(0, -top), max(0, -top) + min(h, out_h)),
        slice(max(0, -left), max(0, -left) + min(w, out_w)),
    )
    dst = (slice(max(0, top), max(0, top) + min(h, out_h)), slice(max(0, left), max(0, left) + min(w, out_w)))
    out[dst] = x[src]
    keep[dst] = True if mask is None else ~mask[src]
    field = f"{out_h * cutout_scale:.3g}″ × {out_w * cutout_scale:.3g}″"
    if h >= out_h and w >= out_w:
        steps.append(f"its central {out_h}×{out_w} pixels kept (the cutouts' {field})")
    else:
        covered = (dst[0].stop - dst[0].start) * (dst[1].stop - dst[1].start)
        steps.append(
            f"placed in the middle of the cutouts' {field}; the {out_h * out_w - covered} pixels it does not "
            "cover are masked"
        )
    missing = ~keep
    if not missing.any():
        return out, None
    return fill_masked(out, missing), missing


def _as_hwc(image: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(image)
    if x.dtype.kind not in "uif":
        raise UserFacingError(name, f"holds {x.dtype} values; expected a numeric image")
    if x.ndim == 2:
        x = x[..., np.newaxis]
    if x.ndim != 3 or min(x.shape[:2]) < 2:
        raise UserFacingError(name, f"has shape {x.shape}; expected one image, (H, W) or (H, W, C)")
    return x.astype(np.float32)


def _mask(x: np.ndarray, name: str, radius: float | None, steps: list[str]) -> np.ndarray | None:
    """Non-finite pixels (any band) and the centre disc, as an (h, w) mask; None when empty."""
    bad = ~np.isfinite(x).all(axis=2)
    h, w = bad.shape
    if bad.mean() > 1 - MIN_FINITE:
        raise UserFacingError(
            name,
            f"only {int((~bad).sum())} of {h * w} pixels are finite; expected an image (NaN/inf at most half)",
        )
    if bad.any():
        steps.append(f"{int(bad.sum())} non-finite pixels masked")
    if radius is not None:
        if not np.isfinite(radius) or radius < 0:
            raise UserFacingError(name, f"mask radius {radius}; expected a radius ≥ 0 in pixels")
        disc = centre_mask((h, w), radius)
        steps.append(f"centre masked: radius {radius:g} px ({int(disc.sum())} of {h}×{w} pixels)")
        bad = bad | disc
    if bad.all():
        raise UserFacingError(name, f"the mask covers all {h}×{w} pixels; expected a smaller mask radius")
    return bad if bad.any() else None


def _aspect_note(old: tuple[int, int], new: tuple[int, ...]) -> str:
    return "" if old[0] * new[1] == old[1] * new[0] else " (aspect ratio changed)"


def _match_bands(x: np.ndarray, n_bands: int, bands: tuple[str, ...], steps: list[str]) -> np.ndarray:
    c = x.shape[2]
    if c == n_bands:
        return x
    names = f" ({', '.join(bands)})" if len(bands) == n_bands and n_bands > 1 else ""
    if c == 1:
        steps.append(f"1 band → replicated to {n_bands} bands{names}")
        return np.repeat(x, n_bands, axis=2)
    grey = x.mean(axis=2, keepdims=True)
    if n_bands == 1:
        steps.append(f"{c} bands → greyscale")
        return grey
    steps.append(f"{c} bands → greyscale, replicated to {n_bands} bands{names}")
    return np.repeat(grey, n_bands, axis=2)


def _match_values(x: np.ndarray, source: np.dtype, target: np.dtype, steps: list[str]) -> np.ndarray:
    if target != np.uint8 or source == np.uint8:
        return x
    low, high = float(x.min()), float(x.max())
    span = high - low if high > low else 1.0
    steps.append(f"values {low:.3g}–{high:.3g} → 0–255 (the collection is uint8)")
    return np.clip((x - low) * np.float32(255.0 / span), 0, 255).astype(np.float32)
