"""Sérsic photometry of one candidate: how bright, how large and how diffuse it is.

An LSBG sample is defined by surface brightness and size — DES Y3 (Tanoglidis et al. 2021) kept
⟨μ⟩_eff(g) > 24.2 mag/arcsec² and r_eff > 2.5″ — so while triaging, an astronomer wants those numbers
for the candidate on screen. :func:`fit_sersic` fits one band of a calibrated cutout (flux per pixel
with a known zero point and pixel scale) with an elliptical Sérsic profile on a sky plane:

1. sky level and noise from the cutout's border (median and MAD);
2. a mask of everything that is not the candidate: compact sources (what a 7-pixel median filter
   removes: stars, nuclei, knots, small galaxies), every other source of the smoothed image not
   connected to the centre, and the light of a neighbour that is (:func:`rising_outward`);
3. a first guess of centre, axis ratio and angle from the light moments of the central source;
4. least squares of the profile and a sky plane (a level and two gradients: a neighbour's halo or cirrus
   tilts the sky under a candidate) over the unmasked pixels, each weighted by the noise;
5. 1σ errors of every number from the pixel noise alone (:class:`FitErrors`).

The PSF is left in unless its FWHM is given (the profile is then blurred by a Gaussian of that width
before it meets the pixels): left in, sizes of a few PSF widths or less come out too large, too round and
too flat.
Magnitudes are AB from the zero point (22.5 for nanomaggies).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

#: DES Y3's LSBG selection (Tanoglidis et al. 2021): mean surface brightness within r_eff (g band)
#: fainter than this, and r_eff larger than :data:`LSB_MIN_R_EFF`.
LSB_MIN_MEAN_MU = 24.2
LSB_MIN_R_EFF = 2.5
#: Larger cutouts are binned to at most this side first (the fit needs no more pixels).
MAX_SIDE = 128
N_RANGE = (0.2, 8.0)
#: Below this signal-to-noise within r_eff a fit measures noise, not a source.
MIN_SNR = 5.0
#: The method's version: measurements kept by another version are not shown (they are measured again).
#: 2: neighbours' light masked, fits run off the centre not reliable, every band's forced magnitude.
#: 3: a sky plane instead of a constant; errors from the pixel noise.
METHOD_VERSION = 3


@dataclass(frozen=True)
class FitErrors:
    """1σ errors of a fit's numbers from the pixel noise alone: the fit's covariance (the inverse of JᵀJ,
    J the Jacobian of the noise-weighted residuals) carried to each number. They leave out what the model
    does not describe — clumps, a neighbour's light, the PSF left in — which on GalView's simulations makes
    fits scatter about three times as much (BENCHMARKS.md, Sérsic photometry): read them as lower bounds.
    NaN where the fit has no covariance (its Jacobian is singular: a profile that changes no pixel)."""

    mag: float = math.nan
    mu0: float = math.nan
    mu_eff: float = math.nan
    mean_mu_eff: float = math.nan
    r_eff: float = math.nan
    n: float = math.nan
    axis_ratio: float = math.nan


@dataclass(frozen=True)
class SersicFit:
    """One band's Sérsic fit of the candidate at a cutout's centre.

    Attributes
    ----------
    mag : float
        Total AB magnitude of the profile.
    mu0, mu_eff, mean_mu_eff : float
        Central surface brightness, that at r_eff, and the mean within the r_eff ellipse (mag/arcsec²).
    r_eff : float
        Half-light semi-major axis in arcsec.
    n, axis_ratio, angle : float
        Sérsic index, b/a, and position angle of the major axis in degrees (from the image's x axis
        towards +y, 0–180).
    x, y : float
        Centre in the cutout's pixels.
    snr : float
        Signal-to-noise of the fitted flux within r_eff.
    pixel_scale : float
        Arcseconds per pixel of the cutout (``r_eff / pixel_scale`` is r_eff in its pixels).
    note : str
        What to keep in mind (``""`` when nothing is wrong): a parameter at the edge of its range, a
        faint source, a fit that did not converge.
    reliable : bool
        False when the numbers are not a measurement of the candidate: the fit did not converge, its
        brightness or size ran to the edge of the range tried, its centre ran to the edge of its range
        (drawn to a neighbour), its r_eff reaches past the cutout's edge, or S/N < :data:`MIN_SNR` (a
        cutout with nothing at its centre). Such fits never pass the LSBG cuts and are not ranked.
    zeropoint : float
        The AB zero point the magnitudes were computed with.
    sky, noise : float
        The sky level the fit found and the noise it weighed pixels by, per pixel of the cutout (in its
        flux unit): with the profile they give the model image and the residual's scale.
    magnitudes : tuple of BandMagnitude
        Forced photometry of every band with this fit's shape (:mod:`galview.core.forced_photometry`);
        empty until measured.
    psf_fwhm : float
        The PSF (FWHM, arcsec) the profile was blurred by in the fit; 0: the PSF was left in.
    sky_gradient : tuple of float
        The fitted sky's change per pixel of the cutout along x and y (flux per pixel); ``sky`` is its
        level at the cutout's centre.
    errors : FitErrors
        The numbers' 1σ errors from the pixel noise (lower bounds; see :class:`FitErrors`).
    """

    mag: float
    mu0: float
    mu_eff: float
    mean_mu_eff: float
    r_eff: float
    n: float
    axis_ratio: float
    angle: float
    x: float
    y: float
    snr: float
    pixel_scale: float
    note: str = ""
    reliable: bool = True
    zeropoint: float = 22.5
    sky: float = 0.0
    noise: float = math.nan
    magnitudes: tuple = ()
    psf_fwhm: float = 0.0
    sky_gradient: tuple = (0.0, 0.0)
    errors: FitErrors = FitErrors()

    @property
    def low_surface_brightness(self) -> bool:
        """Whether it is a reliable fit that passes the DES Y3 LSBG cuts (meant for the g band)."""
        return self.reliable and self.mean_mu_eff > LSB_MIN_MEAN_MU and self.r_eff > LSB_MIN_R_EFF

    def as_row(self) -> dict:
        """The fields as a dict, plus ``low_surface_brightness``."""
        return {**asdict(self), "low_surface_brightness": self.low_surface_brightness}

    def model_image(self, shape) -> np.ndarray:
        """The fitted profile plus the sky plane on an (H, W) grid of the cutout's pixels (flux per pixel)."""
        profile = (
            self.unit_profile(shape) * 10 ** (-0.4 * (self.mu_eff - self.zeropoint)) * self.pixel_scale**2
        )
        return profile + self.sky_plane(shape)

    def sky_plane(self, shape) -> np.ndarray:
        """The fitted sky on an (H, W) grid of the cutout's pixels: its level at the centre, tilted."""
        h, w = shape
        y, x = np.indices((h, w), dtype=np.float64)
        gx, gy = self.sky_gradient
        return self.sky + gx * (x - (w - 1) / 2) + gy * (y - (h - 1) / 2)

    def unit_profile(self, shape) -> np.ndarray:
        """The fitted shape on an (H, W) grid, 1 per pixel at r_eff before the PSF (blurred as fitted)."""
        blur = Blur(shape, self.psf_fwhm / self.pixel_scale)
        return blur.profile(
            1.0,
            self.r_eff / self.pixel_scale,
            self.n,
            self.axis_ratio,
            math.radians(self.angle),
            self.x,
            self.y,
        )

    def describe(self, band: str = "") -> str:
        """``"μ0 24.6 · ⟨μ⟩e 25.43 ± 0.06 · re 3.1 ± 0.2″ · n 0.9 · b/a 0.71 · m 19.8 (g band) · g−r 0.42 · g−i 0.63
        (red)"``: ⟨μ⟩e and r_eff, the LSBG cuts' numbers, with their errors from the noise."""
        text = (
            f"μ0 {self.mu0:.1f} · ⟨μ⟩e {with_error(self.mean_mu_eff, self.errors.mean_mu_eff)} · "
            f"re {with_error(self.r_eff, self.errors.r_eff)}″ · n {self.n:.1f} · "
            f"b/a {self.axis_ratio:.2f} · m {self.mag:.1f}"
        )
        if band:
            text += f" ({band} band)"
        if self.magnitudes:
            from galview.core.forced_photometry import colour_text

            text += colour_text(self.magnitudes)
        return text + (f"; {self.note}" if self.note else "")


def with_error(value: float, error: float, decimals: int | None = None) -> str:
    """``"25.2 ± 0.3"``, or ``"25.23 ± 0.04"`` where one decimal would round the error to 0 (or with
    ``decimals`` given); ``"25.2"`` without an error."""
    if decimals is None:
        decimals = 1 if not math.isfinite(error) or error >= 0.095 else 2
    if not math.isfinite(error):
        return f"{value:.{decimals}f}"
    return f"{value:.{decimals}f} ± {error:.{decimals}f}"


def sersic_b(n: float) -> float:
    """b_n such that r_eff encloses half the light: Γ(2n) γ(2n, b_n) = Γ(2n)/2."""
    from scipy.special import gammaincinv

    return float(gammaincinv(2.0 * n, 0.5))


def sersic_total(intensity_eff: float, r_eff: float, n: float, axis_ratio: float) -> float:
    """Total flux of a Sérsic profile with intensity ``intensity_eff`` at ``r_eff`` (same length unit)."""
    b = sersic_b(n)
    return (
        intensity_eff
        * r_eff**2
        * axis_ratio
        * 2
        * math.pi
        * n
        * math.exp(b)
        * math.gamma(2 * n)
        / b ** (2 * n)
    )


def sersic_image(shape, intensity_eff, r_eff, n, axis_ratio, angle_rad, x0, y0) -> np.ndarray:
    """An (H, W) elliptical Sérsic profile sampled at pixel centres (r_eff in pixels)."""
    y, x = np.indices(shape, dtype=np.float64)
    return _profile(x, y, intensity_eff, r_eff, n, axis_ratio, angle_rad, x0, y0)


def _profile(x, y, intensity_eff, r_eff, n, axis_ratio, angle, x0, y0):
    dx, dy = x - x0, y - y0
    c, s = math.cos(angle), math.sin(angle)
    major, minor = dx * c + dy * s, -dx * s + dy * c
    radius = np.sqrt(major**2 + (minor / axis_ratio) ** 2)
    return intensity_eff * np.exp(-sersic_b(n) * ((radius / r_eff) ** (1.0 / n) - 1.0))


def fit_sersic(image, pixel_scale: float, zeropoint: float = 22.5, psf_fwhm: float = 0.0) -> SersicFit:
    """Fit the candidate at the centre of one band of a calibrated cutout (module docstring).

    Parameters
    ----------
    image : ndarray (H, W)
        Flux per pixel (e.g. nanomaggies); NaN pixels are left out.
    pixel_scale : float
        Arcseconds per pixel.
    zeropoint : float
        AB magnitude of a flux of 1 (22.5 for nanomaggies).
    psf_fwhm : float
        The PSF's full width at half maximum in arcsec: the profile is blurred by a circular Gaussian of
        that width before it is compared with the pixels, so the numbers are the galaxy's own (0: the
        PSF is left in).

    Raises
    ------
    ValueError
        For an image that is not 2-D, too small, mostly NaN, or flat (no noise to weigh the fit by).
    """
    from scipy.optimize import least_squares

    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or min(image.shape) < 16:
        raise ValueError(f"photometry needs one band of at least 16 × 16 pixels; got shape {image.shape}")
    if not math.isfinite(pixel_scale) or pixel_scale <= 0:
        raise ValueError(f"the pixel scale must be a positive number of arcsec; got {pixel_scale!r}")
    if not (math.isfinite(psf_fwhm) and psf_fwhm >= 0):
        raise ValueError(f"the PSF's FWHM must be a number of arcsec, 0 or more; got {psf_fwhm!r}")
    data, keep, sky, noise, factor = masked_band(image, "the cutout")
    pixel_scale *= factor
    start = np.concatenate([_first_guess(data, keep, noise), [0.0, 0.0]])
    y, x = np.nonzero(keep)
    values = data[keep]
    blur = Blur(data.shape, psf_fwhm / pixel_scale)
    h, w = data.shape
    tilt_x, tilt_y = tilt_axes(image.shape, factor, x, y)

    def residuals(p):
        log_ie, log_re, n, q, angle, x0, y0, offset, slope_x, slope_y = p
        sky_plane = offset + slope_x * tilt_x + slope_y * tilt_y
        if blur.sigma:
            grid = blur.profile(math.exp(log_ie), math.exp(log_re), n, q, angle, x0, y0)
            return (grid[keep] + sky_plane - values) / noise
        model = _profile(x, y, math.exp(log_ie), math.exp(log_re), n, q, angle, x0, y0) + sky_plane
        return (model - values) / noise

    lower = [math.log(noise * 1e-4), math.log(0.5), N_RANGE[0], 0.1, -math.pi, w * 0.3, h * 0.3, -5 * noise]
    upper = [
        math.log(max(noise, float(values.max())) * 10),
        math.log(max(h, w)),
        N_RANGE[1],
        1.0,
        2 * math.pi,
        w * 0.7,
        h * 0.7,
        5 * noise,
    ]
    lower, upper = lower + [-10 * noise] * 2, upper + [10 * noise] * 2
    start = np.clip(start, np.add(lower, 1e-9), np.subtract(upper, 1e-9))
    result = least_squares(residuals, start, bounds=(lower, upper), x_scale="jac", max_nfev=400)
    fit = _derived(result, sky, noise, pixel_scale, zeropoint, factor, lower, upper, min(h, w) / 2)
    return replace(
        fit,
        psf_fwhm=float(psf_fwhm),
        sky_gradient=sky_gradient(result.x[8:10], image.shape, factor),
        errors=fit_errors(result, pixel_scale, zeropoint),
    )


def tilt_axes(shape, factor: int, x, y) -> tuple[np.ndarray, np.ndarray]:
    """The sky plane's two axes at binned pixels ``x``, ``y`` of a cutout of ``shape`` binned by ``factor``:
    0 at the cutout's centre, 1 at the middle of its right and lower edges."""
    half_w, half_h = shape[1] / (2 * factor), shape[0] / (2 * factor)
    return (np.asarray(x) - (half_w - 0.5)) / half_w, (np.asarray(y) - (half_h - 0.5)) / half_h


def sky_gradient(slopes, shape, factor: int) -> tuple[float, float]:
    """The fitted slopes along :func:`tilt_axes` (flux per binned pixel) as flux per pixel of the cutout,
    per pixel of the cutout."""
    return tuple(
        float(slope) / (side / 2) / factor**2 for slope, side in zip(slopes, shape[::-1], strict=True)
    )


def fit_errors(result, pixel_scale: float, zeropoint: float) -> FitErrors:
    """The :class:`FitErrors` of a least-squares result (parameters in :func:`fit_sersic`'s order, the
    residuals in units of the noise; ``pixel_scale`` of the fitted, binned pixels)."""
    jacobian = np.asarray(result.jac, dtype=np.float64)
    try:
        covariance = np.linalg.inv(jacobian.T @ jacobian)
    except np.linalg.LinAlgError:
        return FitErrors()
    p = np.asarray(result.x, dtype=np.float64)
    steps = 1e-6 * np.maximum(1.0, np.abs(p[:4]))
    gradient = np.zeros((7, len(p)))
    for k, step in enumerate(steps):  # the numbers depend on log I_e, log r_e, n and b/a alone
        up, down = p.copy(), p.copy()
        up[k] += step
        down[k] -= step
        gradient[:, k] = (_numbers(up, pixel_scale, zeropoint) - _numbers(down, pixel_scale, zeropoint)) / (
            2 * step
        )
    variance = np.einsum("ij,jk,ik->i", gradient, covariance, gradient)
    mag, mu0, mu_eff, mean_mu_eff, log_r_eff, n, axis_ratio = np.sqrt(
        np.where(variance >= 0, variance, np.nan)
    )
    r_eff = math.exp(p[1]) * pixel_scale * log_r_eff
    return FitErrors(*(float(v) for v in (mag, mu0, mu_eff, mean_mu_eff, r_eff, n, axis_ratio)))


def _numbers(p, pixel_scale: float, zeropoint: float) -> np.ndarray:
    """m, μ0, μe, ⟨μ⟩e, ln r_eff (arcsec), n and b/a of the fit's parameters ``p``."""
    intensity_eff, r_eff, n, q = math.exp(p[0]), math.exp(p[1]), p[2], p[3]
    mag = zeropoint - 2.5 * math.log10(sersic_total(intensity_eff, r_eff, n, q))
    mu_eff = zeropoint - 2.5 * math.log10(intensity_eff / pixel_scale**2)
    mu0 = mu_eff - 2.5 * sersic_b(n) / math.log(10)
    r_arcsec = r_eff * pixel_scale
    mean_mu_eff = mag + 2.5 * math.log10(2 * math.pi * q * r_arcsec**2)
    return np.array([mag, mu0, mu_eff, mean_mu_eff, math.log(r_arcsec), n, q])


#: FWHM of a Gaussian in units of its σ.
FWHM_PER_SIGMA = 2 * math.sqrt(2 * math.log(2))


class Blur:
    """Sérsic profiles on an (H, W) grid blurred by a circular Gaussian PSF of ``fwhm`` pixels.

    The profile is drawn on the grid padded by four σ on each side (light from just outside the cutout
    scatters into it), blurred, and cut back to the grid.
    """

    def __init__(self, shape, fwhm: float):
        self.shape, self.sigma = tuple(shape), fwhm / FWHM_PER_SIGMA
        self.pad = int(math.ceil(4 * self.sigma))
        h, w = self.shape
        self.y, self.x = np.indices((h + 2 * self.pad, w + 2 * self.pad), dtype=np.float64) - self.pad

    def profile(self, intensity_eff, r_eff, n, axis_ratio, angle, x0, y0) -> np.ndarray:
        """The (H, W) blurred profile (angle in radians, lengths in pixels; unblurred when σ is 0)."""
        from scipy.ndimage import gaussian_filter

        drawn = _profile(self.x, self.y, intensity_eff, r_eff, n, axis_ratio, angle, x0, y0)
        if self.sigma:
            drawn = gaussian_filter(drawn, self.sigma, mode="constant")
        h, w = self.shape
        return drawn[self.pad : self.pad + h, self.pad : self.pad + w]


def masked_band(image: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray, float, float, int]:
    """One band made ready to fit: binned (:func:`binned`), its border's sky subtracted, NaN set to 0, and
    the pixels to use (finite, not :func:`other_sources`): ``(data, keep, sky, noise, factor)``.

    Raises
    ------
    ValueError
        Naming ``what`` (``"the cutout"``, ``"the r band"``) when half its pixels are NaN or its border
        has no noise.
    """
    image, factor = binned(image)
    finite = np.isfinite(image)
    if finite.mean() < 0.5:
        raise ValueError(f"more than half of {what}'s pixels are not numbers (NaN)")
    sky, noise = border_sky(image, finite)
    if not noise > 0:
        raise ValueError(
            f"{what} has no noise in its border (a flat or synthetic image): nothing to weigh a fit by"
        )
    data = np.where(finite, image - sky, 0.0)
    return data, finite & ~other_sources(data, noise), sky, noise, factor


def binned(image: np.ndarray) -> tuple[np.ndarray, int]:
    """Sum ``factor`` × ``factor`` blocks until the longest side is at most :data:`MAX_SIDE`."""
    factor = max(1, math.ceil(max(image.shape) / MAX_SIDE))
    if factor == 1:
        return image, 1
    h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    blocks = image[:h, :w].reshape(h // factor, factor, w // factor, factor)
    return blocks.sum(axis=(1, 3)), factor


def border_sky(image: np.ndarray, finite: np.ndarray) -> tuple[float, float]:
    """Median and robust σ (1.4826 MAD) of the border (the outer tenth on each side)."""
    h, w = image.shape
    band = max(2, min(h, w) // 10)
    border = np.zeros_like(finite)
    border[:band], border[-band:], border[:, :band], border[:, -band:] = True, True, True, True
    values = image[border & finite]
    sky = float(np.median(values))
    return sky, float(1.4826 * np.median(np.abs(values - sky)))


def other_sources(data: np.ndarray, noise: float) -> np.ndarray:
    """Pixels of everything but the candidate: compact sources anywhere, other sources, and the light of
    a neighbour that touches the candidate (:func:`rising_outward`)."""
    from scipy import ndimage

    background = ndimage.median_filter(data, size=7)
    compact = (data - background) > 4 * noise
    smooth = ndimage.gaussian_filter(np.where(compact, background, data), 2.0)
    # measured (neighbouring pixels' noise may be correlated), at least what white noise would give
    smooth_noise = max(_border_scatter(smooth), noise / (2 * math.sqrt(math.pi) * 2.0))
    detected = smooth > 3 * smooth_noise
    regions, _count = ndimage.label(detected)
    h, w = data.shape
    centre = regions[h // 2 - 2 : h // 2 + 3, w // 2 - 2 : w // 2 + 3]
    own = np.unique(centre[centre > 0])
    others = (regions > 0) & ~np.isin(regions, own)
    neighbour = detected & rising_outward(smooth, 5 * smooth_noise)
    return ndimage.binary_dilation(compact | others | neighbour, iterations=2)


def rising_outward(smooth: np.ndarray, tolerance: float) -> np.ndarray:
    """Pixels brighter, by more than ``tolerance``, than a pixel nearer the candidate on the same ray.

    A galaxy's light falls from its centre outward; where it rises again along a ray from the centre
    (the brightest pixel of ``smooth`` near the cutout's centre), the light is a neighbour's — the halo of
    a bright galaxy the candidate sits on, which joins it above any threshold. Each pixel's envelope is
    the smallest value on its ray so far (pixels taken by distance from the centre, each from the one a
    pixel nearer it).
    """
    h, w = smooth.shape
    reach = max(2, min(h, w) // 8)
    window = smooth[h // 2 - reach : h // 2 + reach + 1, w // 2 - reach : w // 2 + reach + 1]
    cy, cx = np.unravel_index(int(np.argmax(window)), window.shape)
    cy, cx = cy + h // 2 - reach, cx + w // 2 - reach
    y, x = np.indices((h, w))
    dy, dx = y - cy, x - cx
    radius = np.maximum(np.hypot(dx, dy), 1e-9)
    inner_y = np.clip(np.rint(y - dy / radius), 0, h - 1).astype(np.int64)
    inner_x = np.clip(np.rint(x - dx / radius), 0, w - 1).astype(np.int64)
    inner = np.where(radius < 1, y * w + x, inner_y * w + inner_x).ravel().tolist()
    values = smooth.ravel()
    envelope = values.tolist()
    for pixel in np.argsort(radius.ravel(), kind="stable").tolist():
        nearer = envelope[inner[pixel]]
        if nearer < envelope[pixel]:
            envelope[pixel] = nearer
    return (values - np.asarray(envelope)).reshape(h, w) > tolerance


def _border_scatter(image: np.ndarray) -> float:
    """Robust σ of ``image``'s border (the outer tenth on each side), as :func:`border_sky` measures it."""
    return border_sky(image, np.isfinite(image))[1]


def _first_guess(data: np.ndarray, keep: np.ndarray, noise: float) -> np.ndarray:
    """log I_e, log r_e, n, q, angle, x0, y0, sky offset from the central source's light moments."""
    from scipy import ndimage

    h, w = data.shape
    smooth = ndimage.gaussian_filter(np.where(keep, data, 0.0), 2.0)
    y, x = np.indices(data.shape, dtype=np.float64)
    near = keep & (np.hypot(x - w / 2, y - h / 2) < min(h, w) / 4) & (smooth > 0)
    weights = np.where(near, smooth, 0.0)
    total = weights.sum()
    if total <= 0:
        return np.array(
            [math.log(noise), math.log(min(h, w) / 8), 1.0, 0.9, 0.0, w / 2 - 0.5, h / 2 - 0.5, 0.0]
        )
    x0, y0 = (weights * x).sum() / total, (weights * y).sum() / total
    cxx = (weights * (x - x0) ** 2).sum() / total
    cyy = (weights * (y - y0) ** 2).sum() / total
    cxy = (weights * (x - x0) * (y - y0)).sum() / total
    spread = math.sqrt(max((cxx - cyy) ** 2 / 4 + cxy**2, 0.0))
    major, minor = (cxx + cyy) / 2 + spread, max((cxx + cyy) / 2 - spread, 1e-6)
    angle = 0.5 * math.atan2(2 * cxy, cxx - cyy)
    r_e = max(1.0, 1.18 * math.sqrt(major))  # a half-light radius of about 1.2 σ
    peak = float(smooth[int(round(y0)), int(round(x0))])
    return np.array(
        [
            math.log(max(peak / 2, noise * 1e-3)),
            math.log(r_e),
            1.0,
            math.sqrt(minor / major),
            angle,
            x0,
            y0,
            0.0,
        ]
    )


def _derived(result, sky, noise, pixel_scale, zeropoint, factor, lower, upper, half_side) -> SersicFit:
    """The fitted parameters as magnitudes, surface brightnesses and arcseconds, with a note
    (``half_side``: half the shorter side of the fitted image, in its pixels; ``sky``, ``noise`` and the
    image are ``factor`` × ``factor`` binned)."""
    _log_ie, log_re, n, q, angle, x0, y0, offset = result.x[:8]
    r_eff = math.exp(log_re)
    mag, mu0, mu_eff, mean_mu_eff, log_r_arcsec, _n, _q = _numbers(result.x, pixel_scale, zeropoint)
    r_arcsec = math.exp(log_r_arcsec)
    area = math.pi * q * r_eff**2
    snr = (10 ** (-0.4 * (mag - zeropoint)) / 2) / (noise * math.sqrt(area))
    notes = []
    if not result.success:
        notes.append("the fit did not converge")
    at_bound = [
        name
        for name, value, lo, hi in zip(("I_e", "r_eff", "n"), result.x[:3], lower[:3], upper[:3], strict=True)
        if min(value - lo, hi - value) < 1e-6 * max(1.0, abs(hi - lo))
    ]
    if at_bound:
        notes.append(f"{', '.join(at_bound)} at the edge of the range tried")
    off_centre = any(
        min(value - lo, hi - value) < 1e-6 * abs(hi - lo)
        for value, lo, hi in zip(result.x[5:7], lower[5:7], upper[5:7], strict=True)
    )
    if off_centre:  # drawn to a brighter neighbour: not the candidate at the centre
        notes.append("the centre ran to the edge of the range tried (another source fitted)")
    if snr < MIN_SNR:
        notes.append(f"faint: S/N {snr:.1f} within r_eff")
    if r_eff > half_side:  # half its light lies outside the cutout: the sky and the profile trade off
        notes.append("r_eff beyond the cutout's edge")
    reliable = (
        bool(result.success)
        and snr >= MIN_SNR
        and r_eff <= half_side
        and not {"I_e", "r_eff"} & set(at_bound)
        and not off_centre
    )
    centre = ((x0 + 0.5) * factor - 0.5, (y0 + 0.5) * factor - 0.5)
    return SersicFit(
        mag,
        mu0,
        mu_eff,
        mean_mu_eff,
        r_arcsec,
        float(n),
        float(q),
        math.degrees(angle) % 180.0,
        *centre,
        snr,
        pixel_scale / factor,
        "; ".join(notes),
        reliable,
        zeropoint,
        (sky + offset) / factor**2,  # a binned pixel sums factor² of the cutout's
        noise / factor,  # and its noise adds in quadrature
    )
