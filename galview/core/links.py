"""Links from a cutout to outside viewers."""

from __future__ import annotations

import math
from urllib.parse import urlencode

LEGACY_VIEWER = "https://www.legacysurvey.org/viewer"


def legacy_viewer_url(ra: float, dec: float, layer: str = "ls-dr10", zoom: int = 15) -> str | None:
    """URL of the Legacy Survey sky viewer centred on (ra, dec) in degrees, or None without coordinates."""
    if ra is None or dec is None or not (math.isfinite(ra) and math.isfinite(dec)):
        return None
    query = urlencode(
        {
            "ra": f"{ra % 360:.6f}",
            "dec": f"{dec:.6f}",
            "layer": layer,
            "zoom": zoom,
            "mark": f"{ra % 360:.6f},{dec:.6f}",
        }
    )
    return f"{LEGACY_VIEWER}/?{query}"
