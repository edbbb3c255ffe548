"""Turn cutouts into RGB images the way astronomers look at them.

Intervals and stretches come from :mod:`astropy.visualization`; multi-band float data
become colour composites (Lupton et al. 2004, or a Legacy-Survey-like grz mapping);
uint8 RGB cutouts can be shown exactly as stored. Everything is NaN-safe: non-finite
pixels are ignored when choosing limits and drawn black.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

#: Bands from blue to red; composites put the reddest band in R.
WAVELENGTH_ORDER = "ugvrizyYJH"
#: Legacy-Survey-like weights of each band in a grz composite: (RGB plane, scale).
LEGACY_WEIGHTS = {"g": (2, 6.0), "r": (1, 3.4), "i": (0, 2.5), "z": (0, 2.2)}


@dataclass(frozen=True)
class DisplaySettings:
    """How cutouts are drawn, shared by the thumbnail grid and the detail view.

    Attributes
    ----------
    mode : {"colour", "band"}
        Colour composite of three bands, or one band in grey.
    band : int
        Channel shown in ``"band"`` mode.
    stretch, interval : str
        One of :data:`STRETCHES` and :data:`INTERVALS`. ``interval="none"`` keeps
        the stored range (0–255 for uint8), so uint8 RGB with a linear stretch is
        shown exactly as stored.
    percentile : float
        Percent of pixels kept by the ``"percentile"`` interval.
    colour : str
        One of :data:`COLOUR_METHODS`, used for float data in colour mode.
    smooth_sigma : float
        Gaussian smoothing in display pixels (0 for none): an aid for faint diffuse light.
    bin2 : bool
        Average 2×2 pixel blocks before display (halves the resolution, doubles the depth).
    """

    mode: str = "colour"
    band: int = 0
    stretch: str = "asinh"
    interval: str = "zscale"
    percentile: float = 99.5
    colour: str = "lupton"
    smooth_sigma: float = 0.0
    bin2: bool = False

    def with_changes(self, **changes) -> DisplaySettings:
        """A copy with some fields changed (settings are immutable)."""
        return replace(self, **changes)


def default_settings(dtype, n_channels: int) -> DisplaySettings:
    """Start-up settings: stored colours for uint8 RGB; else asinh with a 99.5% interval (colour) or zscale (one band)."""
    if np.dtype(dtype) == np.uint8:
        return DisplaySettings(
            stretch="linear", interval="none", mode="colour" if n_channels >= 3 else "band"
        )
    if n_channels >= 2:
        return DisplaySettings(mode="colour", interval="percentile")
    return DisplaySettings(mode="band")


def warm_up() -> None:
    """Import astropy.visualization now (≈0.3 s) so the first render after opening a file is fast."""
    import astropy.visualization  # noqa: F401


def _stretch(name: str):
    from astropy.visualization import AsinhStretch, LinearStretch, LogStretch, SqrtStretch

    return {
        "linear": LinearStretch(),
        "sqrt": SqrtStretch(),
        "log": LogStretch(),
        "asinh": AsinhStretch(0.1),
    }[name]


def limits(values: np.ndarray, settings: DisplaySettings, dtype=None) -> tuple[float, float]:
    """Lower and upper display limits of ``values`` (any shape), ignoring non-finite pixels."""
    from astropy.visualization import MinMaxInterval, PercentileInterval, ZScaleInterval

    if settings.interval == "none" and dtype is not None and np.dtype(dtype).kind in "ui":
        info = np.iinfo(dtype)
        return float(max(info.min, 0)), float(info.max)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    if settings.interval == "zscale":
        interval = ZScaleInterval()
    elif settings.interval == "percentile":
        interval = PercentileInterval(settings.percentile)
    else:
        interval = MinMaxInterval()
    low, high = interval.get_limits(finite)
    return float(low), float(high)


def scale(values: np.ndarray, low: float, high: float, stretch: str) -> np.ndarray:
    """Map values to [0, 1] between ``low`` and ``high`` through a stretch; NaN become 0."""
    span = high - low
    if not np.isfinite(span) or span <= 0:
        return np.zeros(values.shape, dtype=np.float32)
    normed = np.clip((values - low) / span, 0.0, 1.0)
    normed = np.nan_to_num(normed, nan=0.0)
    return np.asarray(_stretch(stretch)(normed, clip=True), dtype=np.float32)


def bin2x2(image: np.ndarray) -> np.ndarray:
    """Average 2×2 blocks of an (H, W, C) image, ignoring NaN; odd edges are dropped."""
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    blocks = image[:h, :w].reshape(h // 2, 2, w // 2, 2, -1)
    valid = np.isfinite(blocks)
    total = np.where(valid, blocks, 0.0).sum(axis=(1, 3))
    count = valid.sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan).astype(np.float32)


def smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-smooth each channel of an (H, W, C) image; NaN pixels are filled from neighbours."""
    from scipy.ndimage import gaussian_filter

    valid = np.isfinite(image)
    filled = np.where(valid, image, 0.0)
    sigmas = (sigma, sigma, 0)
    weight = gaussian_filter(valid.astype(np.float32), sigmas)
    total = gaussian_filter(filled, sigmas)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 1e-3, total / weight, np.nan).astype(np.float32)


def display_pixels(cutout: np.ndarray, settings: DisplaySettings) -> np.ndarray:
    """The float32 (h, w, C) image that is displayed: non-finite → NaN, then binning and smoothing."""
    image = np.asarray(cutout, dtype=np.float32)
    if not np.isfinite(image).all():
        image = np.where(np.isfinite(image), image, np.nan)
    if settings.bin2 and min(image.shape[:2]) >= 4:
        image = bin2x2(image)
    if settings.smooth_sigma > 0:
        image = smooth(image, settings.smooth_sigma)
    return image


def colour_planes(bands: tuple[str, ...] | None, n_channels: int) -> tuple[int, int, int]:
    """Channel indices to put in (R, G, B): the reddest band in R, the bluest in B."""
    if bands is not None and tuple(bands[:3]) == ("R", "G", "B"):
        return (0, 1, 2)
    order = list(range(n_channels))
    if bands is not None and all(b[:1] in WAVELENGTH_ORDER for b in bands):
        order.sort(key=lambda i: WAVELENGTH_ORDER.index(bands[i][:1]))
    if n_channels == 2:
        return (order[1], order[1], order[0])  # G is filled from the mean below
    reddest, middle, bluest = order[-1], order[len(order) // 2], order[0]
    return (reddest, middle, bluest)


def _composite(image: np.ndarray, settings: DisplaySettings, bands, dtype) -> np.ndarray:
    r, g, b = colour_planes(bands, image.shape[2])
    rgb = np.stack([image[..., r], image[..., g], image[..., b]], axis=-1)
    if image.shape[2] == 2:
        rgb[..., 1] = 0.5 * (rgb[..., 0] + rgb[..., 2])
    if np.dtype(dtype) == np.uint8 or settings.colour == "per-band":
        if settings.colour == "per-band" and np.dtype(dtype) != np.uint8:
            planes = [
                scale(rgb[..., k], *limits(rgb[..., k], settings, dtype), settings.stretch) for k in range(3)
            ]
            return np.stack(planes, axis=-1)
        return scale(rgb, *limits(rgb, settings, dtype), settings.stretch)
    if settings.colour == "legacy" and bands is not None:
        return legacy_rgb(image, bands)
    return _lupton_rgb(rgb, settings)


def _lupton_rgb(rgb: np.ndarray, settings: DisplaySettings, q: float = 8.0) -> np.ndarray:
    """Lupton et al. (2004) asinh composite; colours are kept as intensity saturates.

    Each plane is measured from its own sky level (the median) to its own upper
    interval limit, so bands in different units or depths balance without tuning.
    """
    planes = np.empty_like(rgb, dtype=np.float32)
    for k in range(3):
        plane = rgb[..., k]
        finite = plane[np.isfinite(plane)]
        sky = float(np.median(finite)) if finite.size else 0.0
        high = limits(plane, settings)[1]
        span = high - sky if high > sky else 1.0
        planes[..., k] = np.nan_to_num(np.clip((plane - sky) / span, 0.0, None), nan=0.0)
    intensity = planes.mean(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(intensity > 0, np.arcsinh(q * intensity) / (q * intensity), 0.0)
    out = planes * factor[..., None] * (q / np.arcsinh(q))
    peak = out.max(axis=-1, keepdims=True)
    out = np.where(peak > 1, out / np.maximum(peak, 1e-12), out)  # saturate to white, keep hue
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def legacy_rgb(image: np.ndarray, bands, q: float = 20.0, floor: float = 0.03) -> np.ndarray:
    """A Legacy-Survey-viewer-like composite of (…, H, W, C) fluxes in nanomaggies → (…, H, W, 3) in [0, 1].

    Each band is weighted (g most, z least), a floor is added, and all planes are
    scaled by asinh(q·mean)/(√q·mean), so colour is kept while brightness is compressed. Pixel by
    pixel: a batch of cutouts gives each cutout's own composite.
    """
    out = np.zeros((*image.shape[:-1], 3), dtype=np.float32)
    planes = []
    for k, name in enumerate(bands):
        plane, weight = LEGACY_WEIGHTS.get(name[:1], (min(2, max(0, 2 - k)), 3.0))
        planes.append((plane, np.maximum(np.nan_to_num(image[..., k] * weight + floor, nan=0.0), 0.0)))
    mean = sum(p for _plane, p in planes) / len(planes)
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = np.where(mean > 0, np.arcsinh(q * mean) / np.sqrt(q) / mean, 0.0)
    for plane, values in planes:
        out[..., plane] = values * gain
    return np.clip(out, 0.0, 1.0)


def symmetric_grey(image: np.ndarray, span: float) -> np.ndarray:
    """An (H, W) image of signed values as (H, W, 3) uint8 grey: −``span`` black, 0 mid-grey, +``span``
    white, linear (a fit's residual); NaN mid-grey."""
    span = span if np.isfinite(span) and span > 0 else 1.0
    grey = np.clip((np.asarray(image, dtype=np.float64) / span + 1.0) / 2.0, 0.0, 1.0)
    grey = np.round(np.nan_to_num(grey, nan=0.5) * 255.0).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=-1))


def render(cutout: np.ndarray, settings: DisplaySettings, bands=None, dtype=None) -> np.ndarray:
    """Render one (H, W, C) cutout as an (h, w, 3) uint8 RGB image, C-contiguous.

    Parameters
    ----------
    cutout : ndarray, shape (H, W, C)
        Pixels in the collection's native dtype.
    settings : DisplaySettings
    bands : tuple of str, optional
        Band names, used to order colour planes (reddest in R).
    dtype : numpy.dtype, optional
        Stored dtype, for ``interval="none"``; defaults to ``cutout.dtype``.

    Returns
    -------
    ndarray, shape (h, w, 3), uint8
        (h, w) is (H, W), or halved when ``settings.bin2`` is set.
    """
    dtype = np.dtype(dtype if dtype is not None else cutout.dtype)
    image = display_pixels(cutout, settings)
    if settings.mode == "band" or image.shape[2] == 1:
        band = min(max(settings.band, 0), image.shape[2] - 1)
        plane = image[..., band]
        grey = scale(plane, *limits(plane, settings, dtype), settings.stretch)
        rgb = np.repeat(grey[..., None], 3, axis=-1)
    else:
        rgb = _composite(image, settings, bands, dtype)
    return np.ascontiguousarray(np.round(rgb * 255.0).astype(np.uint8))
