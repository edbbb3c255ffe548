"""A figure of Sérsic fits: each cutout's fitted band, the model and what the model leaves.

The three panels every paper with a profile fit shows (as imfit and GALFIT users draw them): the band
that was fitted and the model in the same stretch — so a model too bright or too large looks it — and the
residual, data − model, in grey from −5σ (black) to +5σ (white) of the noise, where clumps, a nucleus,
tidal features or a second source the profile missed stand out. ``galview measure --figure`` and
Cutout ▸ Save the fits as a figure… draw it.
"""

from __future__ import annotations

import numpy as np

from galview.core.display import scale, symmetric_grey
from galview.core.mosaic import DARK, MAX_TILES, compose_mosaic

#: The residual runs from −RESIDUAL_SIGMAS to +RESIDUAL_SIGMAS times the noise, black to white.
RESIDUAL_SIGMAS = 5.0
#: Panels per fitted cutout (data, model, residual): a figure holds MAX_TILES // PANELS cutouts.
PANELS = 3
MAX_FITS = MAX_TILES // PANELS


def fit_tiles(image: np.ndarray, fit) -> list[np.ndarray]:
    """Data, model and residual of one band ``image`` (H, W) and its ``fit`` as (H, W, 3) uint8 tiles."""
    image = np.asarray(image, dtype=np.float64)
    model = fit.model_image(image.shape)
    # from 2σ below the sky to twice the model's peak above it (at least 10σ): a diffuse galaxy and the
    # noise around it both show, and the model in the same grey levels as the data
    peak = float(np.nanmax(model)) - fit.sky if np.isfinite(model).any() else 0.0
    low, high = fit.sky - 2 * fit.noise, fit.sky + max(2 * peak, 10 * fit.noise)

    def grey(values):
        shown = np.round(scale(values, low, high, "asinh") * 255.0).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(shown[..., None], 3, axis=-1))

    return [grey(image), grey(model), symmetric_grey(image - model, RESIDUAL_SIGMAS * fit.noise)]


def fit_captions(cutout_id: str, band: str, fit) -> list[list[str]]:
    """Two caption lines for each of :func:`fit_tiles`' three tiles."""
    from galview.core.forced_photometry import colour_text

    colour = colour_text(fit.magnitudes, most=1).removeprefix(" · ")
    return [
        [str(cutout_id), f"{band} · ⟨μ⟩e {fit.mean_mu_eff:.1f} · re {fit.r_eff:.1f}″"],
        [
            f"Sérsic n {fit.n:.1f} · b/a {fit.axis_ratio:.2f}",
            f"m {fit.mag:.1f}" + ("" if fit.reliable else " · not reliable"),
        ],
        [f"residual, ±{RESIDUAL_SIGMAS:g} σ", colour],
    ]


def unfitted_tiles(shape, cutout_id: str, why: str) -> tuple[list[np.ndarray], list[list[str]]]:
    """Three dark tiles for a cutout that could not be fitted, the first saying why."""
    dark = np.full((*shape[:2], 3), DARK, np.uint8)
    return [dark, dark, dark], [[str(cutout_id), "could not be fitted"], [why], [""]]


def fits_figure(entries) -> np.ndarray:
    """One image of data, model and residual for each of ``entries`` — (cutout id, band name, the band's
    (H, W) image, SersicFit), or (cutout id, band name, (H, W) shape, the reason it was not fitted) —
    two fits to a row (the first :data:`MAX_FITS`)."""
    tiles, captions = [], []
    for cutout_id, band, image, fit in list(entries)[:MAX_FITS]:
        if isinstance(fit, str):
            three, lines = unfitted_tiles(image, cutout_id, fit)
        else:
            three, lines = fit_tiles(image, fit), fit_captions(cutout_id, band, fit)
        tiles += three
        captions += lines
    return compose_mosaic(tiles, captions, columns=2 * PANELS if len(tiles) >= 2 * PANELS else PANELS)
