"""Photometry kept for each collection: a file in GalView's data folder, so that what was measured is
still there when the collection is opened again (in the window or after ``galview measure``).

Named after the collection's fingerprint (the same cutouts find their photometry wherever the file
lies), written atomically; a damaged or foreign file is reported, never trusted; measurements of another
method version (:data:`galview.core.photometry.METHOD_VERSION`) are left out, to be measured again.

The file is JSON Lines: a header (fingerprint, method version, calibration, how many fits follow), then
one fit per line. Read and written a line at a time, so that the window's thread, which shares the GIL
with the thread reading or writing it, is never held for long (one JSON document of 10,000 fits held it
0.15 s to decode and 0.22 s to encode; BENCHMARKS.md). Files of the earlier one-document form are read
too. The window's Measure job merges and writes in its own thread (:func:`measure_and_keep`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from galview.core.errors import UserFacingError
from galview.core.jobs import rows_letting_others_run
from galview.core.paths import data_dir
from galview.io.measuring import Calibration

logger = logging.getLogger(__name__)

FOLDER = "photometry"
#: Fits read or written between two hand-overs of the GIL (about 1.5 ms): a thread waiting for it, the
#: window's, gets it at once, not after the interpreter's 5 ms switch interval each time it lets go of it
#: for a moment (10,000 fits read in a thread kept the window waiting 0.8–1.3 s; BENCHMARKS.md).
FITS_BETWEEN_YIELDS = 32


@dataclass
class KeptPhotometry:
    """What was measured of one collection with one calibration: cutout index → SersicFit or why not."""

    calibration: Calibration
    fits: dict = field(default_factory=dict)

    def merged(self, calibration: Calibration, results) -> KeptPhotometry:
        """These measurements with ``results`` added — or only ``results`` if they were made with
        another calibration (numbers of two zero points do not belong in one ranking)."""
        if calibration != self.calibration:
            return KeptPhotometry(calibration, dict(results))
        return KeptPhotometry(calibration, {**self.fits, **dict(results)})


def photometry_path(fingerprint: str) -> Path:
    """Where the photometry of the collection with this fingerprint is kept."""
    name = hashlib.sha1(fingerprint.encode()).hexdigest()[:20]
    return data_dir() / FOLDER / f"{name}.json"


def load_photometry(fingerprint: str, n: int) -> KeptPhotometry | None:
    """The collection's kept photometry (None when none was kept, or by another method version).

    Raises
    ------
    UserFacingError
        Naming the file, when it is damaged or describes other cutouts.
    """
    from galview.core.photometry import METHOD_VERSION

    path = photometry_path(fingerprint)
    if not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            header = json.loads(handle.readline())
            if header.get("method_version") != METHOD_VERSION:
                logger.info(
                    "%s: photometry of method version %s is not shown", path, header.get("method_version")
                )
                return None
            if header.get("fingerprint") != fingerprint:
                raise ValueError("another collection's")
            calibration = Calibration(
                **{**header["calibration"], "bands": tuple(header["calibration"]["bands"])}
            )
            if "fits" in header:  # the one-document form written until 2026-12-07
                fits = {int(index): _fit_from(value) for index, value in header["fits"].items()}
            else:
                fits = dict(
                    _indexed_fit(json.loads(line))
                    for line in rows_letting_others_run(handle, FITS_BETWEEN_YIELDS)
                )
                if len(fits) != header["count"]:
                    raise ValueError("fits missing or repeated")
        if any(not 0 <= index < n for index in fits):
            raise ValueError("cutouts past the end")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise UserFacingError(
            path, f"is not photometry of this collection ({n} cutouts); it was ignored"
        ) from None
    return KeptPhotometry(calibration, fits)


def save_photometry(fingerprint: str, kept: KeptPhotometry) -> Path:
    """Write ``kept``; atomically, so a crash leaves the file as it was."""
    from galview.core.photometry import METHOD_VERSION

    path = photometry_path(fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "fingerprint": fingerprint,
        "method_version": METHOD_VERSION,
        "calibration": asdict(kept.calibration),
        "count": len(kept.fits),
    }
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(_line(header))
        for index, fit in rows_letting_others_run(kept.fits.items(), FITS_BETWEEN_YIELDS):
            handle.write(_line(_record(int(index), fit)))  # a short encode each (json.dumps: in C)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    return path


def merged_with_kept(
    fingerprint: str, n: int, found: Calibration, results
) -> tuple[KeptPhotometry, str | None]:
    """The collection's kept photometry with ``results`` (measured with ``found``) added; nothing written.

    Returns
    -------
    kept : KeptPhotometry
        What to keep now (:func:`save_photometry`).
    replaced : str or None
        Why the kept file is damaged and will be replaced by these results (None when it is not).
    """
    try:
        kept = load_photometry(fingerprint, n) or KeptPhotometry(found)
    except UserFacingError as exc:
        return KeptPhotometry(found).merged(found, results), str(exc)
    return kept.merged(found, results), None


@dataclass
class MeasuredAndKept:
    """What the window's Measure job hands back: each cutout's result, what is kept now (with the
    calibration they were measured with) and what went wrong keeping it (None when nothing did)."""

    results: list
    kept: KeptPhotometry
    not_kept: str | None = None


def measure_and_keep(
    collection, indices, band=None, zeropoint=None, pixel_scale=None, psf_fwhm=0.0, *, fingerprint: str,
    on_progress=None, cancel=None,
) -> MeasuredAndKept:  # fmt: skip
    """The window's Measure job: :func:`~galview.io.measuring.measure_job`, then the results added to the
    collection's kept photometry in this thread (read from the file, as ``galview measure`` may have added
    to it)."""
    from galview.io.measuring import measure_job

    found, results = measure_job(
        collection, indices, band, zeropoint, pixel_scale, psf_fwhm, on_progress=on_progress, cancel=cancel
    )
    kept, replaced = merged_with_kept(fingerprint, len(collection), found, results)
    if replaced is not None:
        logger.warning("%s; replaced", replaced)
    try:
        save_photometry(fingerprint, kept)
    except OSError as exc:
        return MeasuredAndKept(results, kept, f"The photometry was measured but NOT kept on disk: {exc}")
    return MeasuredAndKept(results, kept)


def _line(record: dict) -> str:
    return json.dumps(record, default=_plain, ensure_ascii=False) + "\n"


def _record(index: int, fit) -> dict:
    """One line of the file: the cutout's index with its fit's fields, or with why it was not fitted."""
    return {"index": index, "why": fit} if isinstance(fit, str) else {"index": index, **_plain_fit(fit)}


def _indexed_fit(record: dict) -> tuple[int, object]:
    """(cutout index, SersicFit or why not) from one line of the file."""
    index = record.pop("index")
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError("an index is not a whole number")
    if set(record) == {"why"}:
        if not isinstance(record["why"], str):
            raise TypeError("a reason is not text")
        return index, record["why"]
    return index, _fit_from(record)


def _plain_fit(fit) -> dict:
    """A SersicFit as a dict of its fields, nested records as dicts (``asdict`` without its deep copies)."""
    plain = {name: getattr(fit, name) for name in fit.__dataclass_fields__}
    plain["magnitudes"] = [_fields(m) for m in fit.magnitudes]
    plain["errors"] = _fields(fit.errors)
    return plain


def _fields(record) -> dict:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _plain(value):
    """numpy numbers (and booleans) as Python's, for JSON."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not kept in photometry files")


def _fit_from(value):
    """A SersicFit (or the reason a cutout could not be fitted) from its stored form."""
    from galview.core.forced_photometry import BandMagnitude
    from galview.core.photometry import FitErrors, SersicFit

    if isinstance(value, str):
        return value
    magnitudes = tuple(BandMagnitude(**m) for m in value.pop("magnitudes"))
    errors = FitErrors(**value.pop("errors"))
    gradient = tuple(value.pop("sky_gradient"))
    fit = SersicFit(**value, magnitudes=magnitudes, errors=errors, sky_gradient=gradient)
    numbers = [getattr(fit, name) for name in ("mag", "mean_mu_eff", "r_eff", "n", "x", "y", "pixel_scale")]
    numbers += [*gradient, *_fields(errors).values()]
    numbers += [value for m in magnitudes for value in (m.mag, m.mag_err, m.snr)]
    if any(not isinstance(m.band, str) for m in magnitudes):
        raise TypeError("a band's name is not text")
    if len(gradient) != 2 or not all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in numbers
    ):
        raise TypeError("a fit's numbers are not numbers")
    return fit
