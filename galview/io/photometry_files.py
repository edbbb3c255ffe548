"""Photometry kept for each collection: a JSON file in GalView's data folder, so that what was measured is
still there when the collection is opened again (in the window or after ``galview measure``).

Named after the collection's fingerprint (the same cutouts find their photometry wherever the file
lies), written atomically; a damaged or foreign file is reported, never trusted; measurements of another
method version (:data:`galview.core.photometry.METHOD_VERSION`) are left out, to be measured again.
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
from galview.core.paths import data_dir
from galview.io.measuring import Calibration

logger = logging.getLogger(__name__)

FOLDER = "photometry"


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
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored.get("method_version") != METHOD_VERSION:
            logger.info(
                "%s: photometry of method version %s is not shown", path, stored.get("method_version")
            )
            return None
        if stored.get("fingerprint") != fingerprint:
            raise ValueError("another collection's")
        calibration = Calibration(**{**stored["calibration"], "bands": tuple(stored["calibration"]["bands"])})
        fits = {int(index): _fit_from(value) for index, value in stored["fits"].items()}
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
    stored = {
        "fingerprint": fingerprint,
        "method_version": METHOD_VERSION,
        "calibration": asdict(kept.calibration),
        "fits": {
            str(index): fit if isinstance(fit, str) else _plain_fit(fit) for index, fit in kept.fits.items()
        },
    }
    # in one string: json.dump encodes in Python, json.dumps in C (10,000 fits: 1.4 s before, BENCHMARKS.md)
    text = json.dumps(stored, default=_plain, ensure_ascii=False)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    return path


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
