"""The survey's candidate selection, applied to every simulated cutout (simulator v7).

A real candidate sample is what a detection pipeline let through: DES Y3 kept sources whose measured
mean surface brightness within the effective radius was fainter than ⟨μ⟩_eff(g) = 24.2 mag/arcsec²
(Tanoglidis et al. 2021), and only then did people look and label them LSBG or artifact. So the real
artifacts are faint and diffuse by construction. The simulator draws LSBGs above that cut from their
truth, but it used to draw artifacts with no cut at all, many far brighter than any real candidate, so that
among faint sources its LSBGs outnumbered its artifacts. The model trained on those simulations called 29
of the 54 real DES artifacts LSBGs; the one trained on selected simulations calls 17.

Here every simulated cutout, LSBG or artifact alike, is measured as a pipeline would measure it and
redrawn until it passes the same cut. The measurement uses the g-band flux only (no labels, no truth):
background from the border, detection on a smoothed map at an isophote, the segment covering the centre,
its half-light radius about the centre and ⟨μ⟩_eff from that. There is no deblending, so a candidate
whose segment merges with a bright star fails, as a bright blend would fail a real cut; and the
photometry is isophotal, so a faint disc measures up to ~30% smaller and ~0.3 mag brighter than its
truth (tested), and about a third of the LSBGs drawn above the cut fail it and are redrawn.

Measured (BENCHMARKS.md, issue 14): on the v6 simulations the cut keeps 67% of LSBGs, half of the
compact galaxies, 36% of ghosts and 2% of star halos; simulated artifacts' central brightness then
matches the real ones'.
"""

from __future__ import annotations

import numpy as np

from galview.sim.surveys import CUTOUT_ARCSEC, ZERO_POINT

#: Detection isophote, g band, mag/arcsec².
ISOPHOTE = 26.5
#: The DES Y3 cut on the measured mean surface brightness within the half-light radius, g band.
MU_EFF_CUT = 24.2
#: Draws per cutout before the last one is kept whatever it measures.
MAX_ATTEMPTS = 20
#: Radius (arcsec) around the centre whose detected pixels name the candidate's segment.
CENTRE_RADIUS = 2.0
SMOOTHING_PIXELS = 1.5
BORDER_PIXELS = 4


def measure_candidate(flux_g: np.ndarray) -> tuple[float, float]:
    """Half-light radius (arcsec) and ⟨μ⟩_eff (g, mag/arcsec²) of the source at the centre.

    Parameters
    ----------
    flux_g : ndarray, (n, n)
        g-band flux in nanomaggies per pixel of a 30″ cutout.

    Returns
    -------
    (r_50, mu_eff) : tuple of float
        ``(0.0, inf)`` when nothing is detected at the centre.
    """
    from scipy import ndimage

    image = np.asarray(flux_g, np.float64)
    n = image.shape[0]
    pixel = CUTOUT_ARCSEC / n
    image = image - np.median(_border(image))
    smooth = ndimage.gaussian_filter(image, SMOOTHING_PIXELS)
    threshold = 10 ** (-0.4 * (ISOPHOTE - ZERO_POINT)) * pixel**2
    segments, _ = ndimage.label(smooth > threshold)
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    radius = np.hypot(xx, yy) * pixel
    near = (radius < CENTRE_RADIUS) & (segments > 0)
    if not near.any():
        return 0.0, np.inf
    ids, votes = np.unique(segments[near], return_counts=True)
    segment = segments == ids[np.argmax(votes)]
    total = image[segment].sum()
    if total <= 0:
        return 0.0, np.inf
    order = np.argsort(radius[segment])
    enclosed = np.cumsum(image[segment][order])
    half = min(int(np.searchsorted(enclosed, total / 2)), len(order) - 1)
    r_50 = float(max(radius[segment][order][half], pixel))
    mu_eff = ZERO_POINT - 2.5 * np.log10(total / 2 / (np.pi * r_50**2))
    return r_50, float(mu_eff)


def passes_selection(flux: np.ndarray) -> bool:
    """Whether a (n, n, 3) flux cutout (g first) passes the candidate cut: detected, ⟨μ⟩_eff > 24.2."""
    _, mu_eff = measure_candidate(flux[..., 0])
    return bool(np.isfinite(mu_eff) and mu_eff > MU_EFF_CUT)


def attempt_seed(seed: int, attempt: int) -> int:
    """The seed of draw ``attempt`` of the cutout with ``seed`` (draw 0 uses ``seed`` itself)."""
    if attempt == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), attempt]).generate_state(1)[0])


def _border(image: np.ndarray) -> np.ndarray:
    b = BORDER_PIXELS
    return np.concatenate(
        [image[:b].ravel(), image[-b:].ravel(), image[b:-b, :b].ravel(), image[b:-b, -b:].ravel()]
    )
