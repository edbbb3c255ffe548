"""One simulated cutout: the scene, its noise, and the two representations GalView stores.

The float representation is flux per band (nanomaggies per output pixel); the uint8
representation is what the Legacy Survey viewer would show: an asinh colour mapping of
the native-resolution bands, a JPEG round trip, then a resize to 64×64, as the real DES
cutouts were made.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from galview.core import viewer_colours
from galview.core.viewer_colours import JPEG_QUALITY, RESAMPLING
from galview.sim.canvas import Canvas
from galview.sim.selection import MAX_ATTEMPTS, attempt_seed, passes_selection
from galview.sim.sources import ARTIFACTS, add_field, add_lsbg, add_surroundings
from galview.sim.surveys import OUTPUT_PIXELS, Survey

ARTIFACT_KINDS = tuple(ARTIFACTS)


def draw_scene(canvas: Canvas, label: int) -> tuple[str, dict]:
    """Draw an LSBG (label 1) or an artifact (label 0) with its field; returns (kind, truth)."""
    rng = canvas.rng
    add_field(canvas)
    surroundings = add_surroundings(canvas)  # the same for both classes: the label is at the centre
    if label == 1:
        return "lsbg", {**surroundings, **add_lsbg(canvas)}
    kinds = list(ARTIFACTS)
    weights = np.array([ARTIFACTS[k][1] for k in kinds])
    kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
    return kind, {**surroundings, **ARTIFACTS[kind][0](canvas)}


def viewer_rgb(
    planes: np.ndarray, bands, jpeg: bool = True, quality: int = JPEG_QUALITY, resample: str = "bicubic"
) -> np.ndarray:
    """(3, n, n) native fluxes → (64, 64, 3) uint8 as the sky viewer's JPEG, resized.

    The same function (:func:`galview.core.viewer_colours.viewer_rgb`) turns survey FITS fluxes into
    the shipped model's input (:mod:`galview.ml.physical`).
    """
    return viewer_colours.viewer_rgb(
        np.moveaxis(planes, 0, -1), bands, OUTPUT_PIXELS, quality if jpeg else None, resample
    )


def rebin_flux(planes: np.ndarray) -> np.ndarray:
    """(3, n, n) native fluxes → (64, 64, 3) float32 fluxes per output pixel (flux conserved)."""
    n = planes.shape[-1]
    out = np.empty((OUTPUT_PIXELS, OUTPUT_PIXELS, 3), dtype=np.float32)
    for k, plane in enumerate(planes):
        resized = Image.fromarray(plane.astype(np.float32), mode="F").resize(
            (OUTPUT_PIXELS, OUTPUT_PIXELS), Image.Resampling.BOX
        )
        out[..., k] = np.asarray(resized) * (n / OUTPUT_PIXELS) ** 2
    return out


def simulate_cutout(
    survey: Survey, label: int, seed: int, jpeg: bool = True
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Simulate one candidate cutout: drawn, then redrawn until it passes the survey's selection.

    Every draw is :func:`draw_cutout` with a seed that follows from ``seed``
    (:func:`galview.sim.selection.attempt_seed`); the first that passes
    :func:`galview.sim.selection.passes_selection` is kept, or the last of
    :data:`~galview.sim.selection.MAX_ATTEMPTS`. LSBGs and artifacts are selected alike, as a real
    candidate sample is. Parameters and returns as :func:`draw_cutout`; the truth adds ``attempts``.
    """
    for attempt in range(MAX_ATTEMPTS):
        planes, conditions, truth = _draw_planes(survey, label, attempt_seed(seed, attempt))
        flux = rebin_flux(planes)
        if passes_selection(flux):  # the viewer's colours are made only for the draw that is kept
            break
    return _viewer_colours(planes, conditions, survey, jpeg), flux, {**truth, "attempts": attempt + 1}


def draw_cutout(
    survey: Survey, label: int, seed: int, jpeg: bool = True
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Draw one cutout, before any selection.

    Parameters
    ----------
    survey : Survey
    label : {0, 1}
        0 = artifact, 1 = LSBG.
    seed : int
        Everything random in this cutout follows from it.

    Returns
    -------
    rgb : ndarray, (64, 64, 3) uint8
    flux : ndarray, (64, 64, 3) float32, nanomaggies, bands ``survey.bands``
    truth : dict
        ``kind`` and the parameters drawn.
    """
    planes, conditions, truth = _draw_planes(survey, label, seed)
    return _viewer_colours(planes, conditions, survey, jpeg), rebin_flux(planes), truth


def _draw_planes(survey: Survey, label: int, seed: int) -> tuple[np.ndarray, dict, dict]:
    """The native-pixel fluxes (3, n, n) with noise, the observing conditions and the truth of one draw."""
    rng = np.random.default_rng(seed)
    conditions = observing_conditions(rng)
    canvas = Canvas(survey, rng, seeing=conditions["seeing"])
    kind, truth = draw_scene(canvas, label)
    canvas.finish()
    canvas.add_noise(conditions["depth"])
    return canvas.planes, conditions, draw_truth(kind, truth, canvas, conditions)


def draw_truth(kind: str, truth: dict, canvas: Canvas, conditions: dict) -> dict:
    """One draw's truth: its kind, what the scene drew, and the observing conditions it was drawn under."""
    return {
        "kind": kind,
        **truth,
        "psf_fwhm": canvas.psf_fwhm,
        "noise_factor": conditions["depth"],
        "jpeg_quality": conditions["quality"],
        "resample": conditions["resample"],
    }


def _viewer_colours(planes: np.ndarray, conditions: dict, survey: Survey, jpeg: bool) -> np.ndarray:
    gains = np.asarray(conditions["gains"], np.float32)[:, None, None]  # calibration and viewer differences
    return viewer_rgb(planes * gains, survey.bands, jpeg, conditions["quality"], conditions["resample"])


def observing_conditions(rng: np.random.Generator) -> dict:
    """Per-cutout seeing, depth and JPEG quality: a survey is not one image.

    Seeing 0.85–1.3 × the survey's typical FWHM, sky noise 0.85–1.25 × the calibrated level,
    JPEG quality 75–95: real cutouts vary this much across a survey footprint, and a model
    trained on one fixed set of conditions learns them instead of the galaxies. Domain
    randomisation of what differs between surveys and cutout services (issue 14): a gain of
    0.92–1.08 per band on the viewer's colours, and the resize filter.
    """
    return {
        "seeing": float(rng.uniform(0.85, 1.3)),
        "depth": float(rng.uniform(0.85, 1.25)),
        "quality": int(rng.integers(75, 96)),
        "gains": rng.uniform(0.92, 1.08, 3).tolist(),
        "resample": str(rng.choice(RESAMPLING, p=[0.4, 0.25, 0.2, 0.15])),
    }
