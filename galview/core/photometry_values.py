"""What the photometry rankings sort by: one number per cutout, made where the fits are read or merged.

The window sorts the measured cutouts by ⟨μ⟩e and by one colour. Made from 100,000 fits these take
about 0.11 s of Python (BENCHMARKS.md, Sérsic photometry §10): the thread that reads the kept photometry,
or the Measure job, makes them, not the window's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galview.core.forced_photometry import colour_names, colour_value


@dataclass(frozen=True)
class PhotometryValues:
    """Per cutout of a collection: ⟨μ⟩e and one colour of each reliable fit, NaN for the others.

    ``colour_name`` is g − i where there is one (DES Y3 splits red from blue by it), else the first colour
    of the fitted bands (g − r); None (and ``colour`` None) with fewer than two bands.
    """

    mean_mu_eff: np.ndarray
    colour_name: str | None
    colour: np.ndarray | None


def photometry_values(fits: dict, bands, n: int) -> PhotometryValues:
    """The values of ``fits`` (cutout index → SersicFit or why not) measured in ``bands``, for ``n``
    cutouts."""
    names = colour_names(bands)
    name = ("g−i" if "g−i" in names else names[0]) if names else None
    mean_mu_eff = np.full(n, np.nan)
    colour = np.full(n, np.nan) if name else None
    for index, fit in fits.items():
        if isinstance(fit, str) or not fit.reliable:  # a fit of noise would lead the rankings
            continue
        mean_mu_eff[index] = fit.mean_mu_eff
        if colour is not None:
            colour[index] = colour_value(fit.magnitudes, name)
    return PhotometryValues(mean_mu_eff, name, colour)
