"""How many arcseconds a pixel covers, from a cutout's celestial WCS (numpy only; the WCS object is astropy's)."""

from __future__ import annotations

import numpy as np

#: Pixels whose two sides differ by more than this fraction are not treated as square.
SQUARE_TOLERANCE = 0.01


def arcsec_per_pixel(wcs) -> float | None:
    """The side of a pixel in arcseconds, or None when ``wcs`` cannot say.

    None for no WCS, one that is not celestial, an unreadable scale, or pixels that are not square
    (a reference brought to such a grid would need more than a change of scale).
    """
    if wcs is None or not getattr(wcs, "has_celestial", False):
        return None
    try:
        matrix = np.asarray(wcs.celestial.pixel_scale_matrix, dtype=np.float64) * 3600.0
    except (AttributeError, ValueError):
        return None
    sides = np.hypot(matrix[0], matrix[1])
    if matrix.shape != (2, 2) or not np.all(np.isfinite(sides)) or sides.min() <= 0:
        return None
    if abs(sides[0] - sides[1]) > SQUARE_TOLERANCE * sides.max():
        return None
    return float(sides.mean())
