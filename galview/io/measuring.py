"""Sérsic photometry of chosen cutouts of a collection (a job): the calibration the file gives, then the fits.

Photometry needs fluxes, not display colours: a FITS file in nanomaggies (the Legacy Survey's cutouts),
a simulation's ``flux`` dataset (used in place of its colours, :func:`fluxes_of`), or any float collection
with its zero point. The zero point comes from the file's unit (nanomaggies: 22.5) unless given; the pixel
scale from each cutout's WCS or the dataset's ``pixel_scale`` attribute unless given. What is missing is
refused in one line naming the file and the option that supplies it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from galview.core.errors import UserFacingError
from galview.core.spawning import WORKER_NICENESS, results_in_order, spawn_is_safe
from galview.io.hdf5_files import Hdf5Collection

#: Units GalView knows the AB zero point of (lower case, matched as the start of the unit's text).
ZERO_POINTS = {"nanomaggies": 22.5, "nanomaggy": 22.5, "nmgy": 22.5}


@dataclass(frozen=True)
class Calibration:
    """How one band of a collection's cutouts becomes magnitudes."""

    band: int
    band_name: str
    zeropoint: float
    pixel_scale: float | None  # None: each cutout's own (from its WCS)
    bands: tuple[str, ...] = ()  # every band's name, for the forced photometry of each
    psf_fwhm: float = 0.0  # arcsec; 0: the PSF is left in the profiles


def calibration(
    collection, band: str | None = None, zeropoint=None, pixel_scale=None, psf_fwhm: float = 0.0
) -> Calibration:
    """The band, zero point and pixel scale for photometry of ``collection`` (module docstring), and the
    PSF's FWHM to fit through (``psf_fwhm`` arcsec, as given; 0: none).

    Raises
    ------
    UserFacingError
        For display colours (uint8), an unknown band, or a zero point or pixel scale the file does not
        give and the caller did not.
    """
    source = collection.source
    if collection.dtype.kind != "f":
        what = (
            "display colours, not fluxes"
            if collection.dtype == np.uint8
            else "integers, not calibrated fluxes"
        )
        raise UserFacingError(
            source,
            f"holds {collection.dtype} pixels ({what}): photometry needs calibrated float fluxes, such as FITS "
            "cutouts in nanomaggies or a GalView simulation (its fluxes)",
        )
    names = [str(b) for b in collection.bands]
    if band is None:
        index = names.index("g") if "g" in names else 0
    elif band.lower() in [n.lower() for n in names]:
        index = [n.lower() for n in names].index(band.lower())
    else:
        raise UserFacingError(source, f"has no band {band!r}; its bands are {', '.join(names)}")
    if zeropoint is None:
        unit = (collection.flux_unit() or "").strip().lower()
        zeropoint = next((zp for name, zp in ZERO_POINTS.items() if unit.startswith(name)), None)
        if zeropoint is None:
            stated = f"states the unit {collection.flux_unit()!r}" if unit else "states no flux unit (BUNIT)"
            raise UserFacingError(
                source,
                f"{stated}: give the AB zero point with --zeropoint (22.5 for Legacy Survey nanomaggies)",
            )
    if pixel_scale is None and len(collection) and collection.pixel_scale(0) is None:
        raise UserFacingError(
            source,
            "gives no pixel scale (no WCS, no pixel_scale attribute): give it with --pixel-scale (arcsec)",
        )
    return Calibration(index, names[index], float(zeropoint), pixel_scale, tuple(names), float(psf_fwhm))


def open_fluxes(collection):
    """``(fluxes, opened)``: the collection whose pixels to measure — ``collection`` itself, or, for the
    display colours of one of GalView's simulations, the ``flux`` dataset beside them in the same HDF5
    file, opened here (``opened`` True: the caller closes it) — so that the demo and every simulated
    survey can be measured as they open."""
    if collection.dtype.kind != "f" and isinstance(collection, Hdf5Collection):
        from galview.io.registry import open_collection

        try:
            other = open_collection(collection.source, dataset="flux")
        except UserFacingError:  # no flux dataset, or one GalView cannot use: the colours are refused later
            return collection, False
        if other.dtype.kind == "f" and len(other) == len(collection):
            return other, True
        other.close()
    return collection, False


@contextmanager
def fluxes_of(collection):
    """:func:`open_fluxes` for a ``with`` block: what it opened is closed on leaving."""
    fluxes, opened = open_fluxes(collection)
    try:
        yield fluxes
    finally:
        if opened:
            fluxes.close()


#: Cutouts one worker process fits per task (``measure_cutouts(…, workers=N)``).
CHUNK = 16


def measure_cutouts(
    collection,
    indices,
    calibration: Calibration,
    *,
    workers: int = 1,
    niceness: int = 0,
    on_progress=None,
    cancel=None,
) -> list:
    """Fit each cutout of ``indices``: a list of (index, SersicFit or the reason it could not be fitted).

    Each fit carries the forced magnitudes of every band through its shape (``fit.magnitudes``). With
    ``workers`` > 1 the fits run in that many processes (spawned; this process reads the cutouts and keeps
    at most two tasks of :data:`CHUNK` cutouts per process in flight); the results are the same, in order.
    Spawned processes import the calling script again: call it under ``if __name__ == "__main__":`` (the
    ``galview`` command does; :func:`~galview.core.spawning.spawn_is_safe` checks). ``niceness`` lowers
    the processes' scheduling priority (``os.nice``; the window's own comes first).

    Raises
    ------
    UserFacingError
        Naming the collection, when a fitting process ends before its cutouts (killed, out of memory).
    Cancelled
        Once ``cancel`` is set (with processes, within :data:`~galview.core.spawning.POLL_S`).
    """
    from galview.core.jobs import Progress

    indices = [int(i) for i in np.atleast_1d(indices)]
    results = []
    parts = _measured_parts(collection, indices, calibration, max(1, int(workers)), niceness, cancel)
    for done, part in parts:
        results.extend(part)
        if on_progress is not None:
            on_progress(Progress(done, len(indices), "fitting Sérsic profiles", unit="cutouts"))
        if cancel is not None:
            cancel.raise_if_cancelled()
    return results


def _measured_parts(collection, indices, calibration, workers, niceness=0, cancel=None):
    """Yield (cutouts done, [(index, fit or why), …]) chunk by chunk (one cutout at a time in this
    process).

    Raises
    ------
    UserFacingError
        When a fitting process ends before its task (killed, out of memory): said, not waited for.
    Cancelled
        Within :data:`~galview.core.spawning.POLL_S` of ``cancel`` being set while the processes fit.
    """
    if workers == 1 or len(indices) <= CHUNK:
        for k, index in enumerate(indices):
            yield k + 1, _fit_read(*_read(collection, index, calibration), calibration)
        return
    from concurrent.futures.process import BrokenProcessPool

    chunks = [indices[start : start + CHUNK] for start in range(0, len(indices), CHUNK)]
    tasks = (([_read(collection, index, calibration) for index in chunk], calibration) for chunk in chunks)
    results = results_in_order(_fit_chunk, tasks, workers, niceness=niceness, cancel=cancel)
    done = 0
    try:
        for chunk, part in zip(chunks, results, strict=True):
            done += len(chunk)
            yield done, part
    except BrokenProcessPool:
        raise UserFacingError(
            collection.source,
            f"a fitting process ended before its cutouts were fitted (killed, or out of memory?) after "
            f"{done} of {len(indices)}; nothing of this run was kept — try again with fewer processes",
        ) from None
    finally:
        results.close()  # stopped early (Cancel): the processes are let go at once


def _read(collection, index: int, calibration: Calibration) -> tuple:
    """(index, cutout, pixel scale) ready to fit, or (index, None, why it cannot be)."""
    scale = calibration.pixel_scale or collection.pixel_scale(index)
    try:
        if scale is None:
            raise ValueError("its WCS gives no pixel scale")
        return index, collection.get(index), scale
    except (ValueError, OSError) as exc:  # a damaged or empty cutout: said in its row, the rest go on
        return index, None, str(exc)


def _fit_read(index: int, cube, scale, calibration: Calibration) -> list:
    """[(index, the fit of a cutout :func:`_read` read, or why there is none)]."""
    if cube is None:
        return [(index, scale)]
    try:
        return [(index, measure_cutout(cube, scale, calibration))]
    except (ValueError, OSError) as exc:
        return [(index, str(exc))]


def _fit_chunk(task: list, calibration: Calibration) -> list:
    """A worker process's task: the fits of a chunk of :func:`_read` cutouts, in order."""
    return [fitted for read in task for fitted in _fit_read(*read, calibration)]


def measure_cutout(cube, pixel_scale: float, calibration: Calibration):
    """The Sérsic fit of one (H, W, C) cutout's calibration band, with every band's forced magnitude."""
    from dataclasses import replace

    from galview.core.forced_photometry import BandMagnitude, forced_magnitude
    from galview.core.photometry import fit_sersic

    fit = fit_sersic(cube[..., calibration.band], pixel_scale, calibration.zeropoint, calibration.psf_fwhm)
    names = calibration.bands or tuple(str(k) for k in range(cube.shape[-1]))
    magnitudes = []
    for k, name in enumerate(names):
        try:
            magnitudes.append(forced_magnitude(cube[..., k], fit, name))
        except ValueError:  # a band of NaN or without noise: no colour with it, the fit stands
            magnitudes.append(BandMagnitude(name, float("nan"), float("nan"), 0.0))
    return replace(fit, magnitudes=tuple(magnitudes))


def residual_of(fluxes, index: int, fit, band: int) -> np.ndarray:
    """Band ``band`` of cutout ``index`` of ``fluxes`` (what :func:`open_fluxes` gives) less ``fit``'s
    model (its profile and sky), as float32."""
    image = np.asarray(fluxes.get(index)[..., band], dtype=np.float64)
    return (image - fit.model_image(image.shape)).astype(np.float32)


def measure_job(
    collection,
    indices,
    band=None,
    zeropoint=None,
    pixel_scale=None,
    psf_fwhm=0.0,
    *,
    workers: int | None = None,
    on_progress=None,
    cancel=None,
):
    """The window's job: (Calibration, results of :func:`measure_cutouts`), on :func:`fluxes_of` the collection.

    ``workers`` (default: every core where :func:`~galview.core.spawning.spawn_is_safe`, else 1) fit
    at :data:`~galview.core.spawning.WORKER_NICENESS`, so that the window stays first on the cores.
    """
    if workers is None:
        workers = (os.cpu_count() or 1) if spawn_is_safe() else 1
    with fluxes_of(collection) as fluxes:
        found = calibration(fluxes, band, zeropoint, pixel_scale, psf_fwhm)
        results = measure_cutouts(
            fluxes, indices, found, workers=workers, niceness=WORKER_NICENESS, on_progress=on_progress,
            cancel=cancel,
        )  # fmt: skip
        return found, results
