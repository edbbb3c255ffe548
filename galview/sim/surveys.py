"""Survey descriptions: pixel scale, PSF, bands, depth and the viewer's colour mapping."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ZERO_POINT = 22.5  # nanomaggies: flux = 10**(-0.4 * (mag - 22.5))
CUTOUT_ARCSEC = 30.0
OUTPUT_PIXELS = 64


@dataclass(frozen=True)
class Survey:
    """One imaging survey as the simulator needs it.

    Attributes
    ----------
    name : str
    pixel_scale : float
        Native pixel size in arcsec.
    psf_fwhm : float
        Seeing FWHM in arcsec (Moffat, beta 3.5).
    bands : tuple of str
        Three bands, blue to red.
    depth : tuple of float
        10σ point-source magnitude in a 2″ diameter aperture, per band.
    noise_scale : tuple of float
        Factor per band on the sky noise implied by ``depth``, calibrated so that the viewer-colour
        cutouts have the background noise of the real ones (``benchmarks/bench_sim_realism.py``).
    """

    name: str
    pixel_scale: float
    psf_fwhm: float
    bands: tuple[str, str, str]
    depth: tuple[float, float, float]
    noise_scale: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def native_pixels(self) -> int:
        """Side of a 30″ cutout in native pixels (even)."""
        return int(round(CUTOUT_ARCSEC / self.pixel_scale / 2)) * 2

    def pixel_noise(self) -> np.ndarray:
        """Sky noise σ per native pixel per band, in nanomaggies, from the 10σ aperture depth."""
        aperture_pixels = np.pi * 1.0**2 / self.pixel_scale**2
        sigma_aperture = mag_to_flux(np.array(self.depth)) / 10.0
        return np.array(self.noise_scale) * sigma_aperture / np.sqrt(aperture_pixels)

    def sb_to_pixel_flux(self, mu: float | np.ndarray) -> float | np.ndarray:
        """Surface brightness (mag/arcsec²) → flux per native pixel in nanomaggies."""
        return mag_to_flux(mu) * self.pixel_scale**2


def mag_to_flux(mag):
    """AB magnitude → flux in nanomaggies."""
    return 10.0 ** (-0.4 * (np.asarray(mag, dtype=np.float64) - ZERO_POINT))


# DES Y3 Gold 10σ depths (2″ apertures): g 24.33, r 24.08, i 23.44, z 22.69.
DES = Survey("des", 0.263, 1.0, ("g", "r", "z"), (24.33, 24.08, 22.69), noise_scale=(0.72, 0.71, 0.75))
# HSC-SSP Wide, about one magnitude deeper than DES, in g, r, i.
HSC = Survey("hsc", 0.168, 0.6, ("g", "r", "i"), (25.33, 25.08, 24.44), noise_scale=(0.72, 0.71, 0.75))
SURVEYS = {"des": DES, "hsc": HSC}


def band_offsets(g_minus_i: float, bands: tuple[str, ...]) -> np.ndarray:
    """Magnitude of each band relative to g for a galaxy of colour g − i.

    Uses g−r ≈ 0.65 (g−i), r−i ≈ 0.35 (g−i), i−z ≈ 0.15 (g−i), a fair description of
    dwarf and low-surface-brightness galaxy colours over g−i = 0.2–1.2.
    """
    g_r = 0.65 * g_minus_i
    offsets = {"g": 0.0, "r": -g_r, "i": -g_minus_i, "z": -g_minus_i - 0.15 * g_minus_i}
    return np.array([offsets[b] for b in bands])
